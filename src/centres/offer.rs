//! What a centre offers its clients: the flows its staff may start and the follow-up sequences
//! they may enrol clients in (none listed: every one of the deployment's; consent always).

use super::{Centre, CentreError, NewCentre, get, list_of};
use crate::store::{Db, Doing, StoreError};
use std::collections::BTreeSet;

/// What a centre offers its clients, as its staff see it: `None` is everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    pub flows: Option<BTreeSet<String>>,
    pub sequences: Option<BTreeSet<String>>,
}

/// The flow every centre offers: a client's consent is asked the same way everywhere.
pub const ALWAYS_OFFERED: &str = "consent";

impl Offer {
    fn of(flows: &[String], sequences: &[String]) -> Self {
        let set = |v: &[String]| (!v.is_empty()).then(|| v.iter().cloned().collect());
        Self {
            flows: set(flows),
            sequences: set(sequences),
        }
    }

    #[must_use]
    pub fn flow(&self, id: &str) -> bool {
        id == ALWAYS_OFFERED || self.flows.as_ref().is_none_or(|f| f.contains(id))
    }

    #[must_use]
    pub fn sequence(&self, id: &str) -> bool {
        self.sequences.as_ref().is_none_or(|s| s.contains(id))
    }
}

impl NewCentre {
    /// Checks that the flows and sequences it offers are the deployment's, and that each
    /// sequence it offers has every flow it uses among those it offers.
    ///
    /// # Errors
    /// The first unknown flow or sequence, or a sequence that needs a flow it leaves out.
    pub fn check_offer(
        &self,
        flows: &crate::flow::FlowSet,
        sequences: &crate::schedule::sequence::SequenceSet,
    ) -> Result<(), CentreError> {
        let bad = |m: String| Err(CentreError::Invalid(m));
        for f in &self.flows {
            let known = crate::domain::FlowId::parse(f)
                .ok()
                .and_then(|id| flows.get(&id))
                .is_some();
            if !known {
                let mut all: Vec<String> = flows.current().map(|f| f.id.to_string()).collect();
                all.sort();
                return bad(format!(
                    "there is no flow {f:?} (the flows are: {})",
                    all.join(", ")
                ));
            }
        }
        let mut offered = Vec::new();
        for id in &self.sequences {
            match crate::domain::FlowId::parse(id)
                .ok()
                .and_then(|i| sequences.get(&i))
            {
                Some(seq) => offered.push(seq),
                None => {
                    let all: Vec<String> = sequences.all().map(|s| s.id.to_string()).collect();
                    return bad(format!(
                        "there is no sequence {id:?} (the sequences are: {})",
                        all.join(", ")
                    ));
                }
            }
        }
        // None listed: every sequence is offered, and each needs its flows.
        let fix = if self.sequences.is_empty() {
            offered = sequences.all().collect();
            "add the flow, or list the sequences it offers"
        } else {
            "add it to its flows"
        };
        let offer = Offer::of(&self.flows, &self.sequences);
        for seq in offered {
            if let Some(step) = seq.steps.iter().find(|s| !offer.flow(s.flow.as_str())) {
                return bad(format!(
                    "the sequence {} uses the flow {}, which the centre does not offer: {fix}",
                    seq.id, step.flow
                ));
            }
        }
        Ok(())
    }
}

/// What a centre offers (everything, for a centre there is not).
pub async fn offer_of(db: &Db, centre: &str) -> Result<Offer, StoreError> {
    Ok(get(db, centre)
        .await?
        .map(|c: Centre| Offer::of(&c.flows, &c.sequences))
        .unwrap_or_default())
}

/// What the centre of `client` offers (everything, when the client has no centre of its own).
pub async fn offer_for_client(db: &Db, client: &str) -> Result<Offer, StoreError> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT ce.flows, ce.sequences FROM clients c JOIN centres ce ON ce.id = c.centre_id \
         WHERE c.id = $1",
    )
    .bind(client)
    .fetch_optional(db.pool())
    .await
    .doing("reading what a client's centre offers")?;
    Ok(row.map_or_else(Offer::default, |(flows, sequences)| {
        Offer::of(&list_of(&flows), &list_of(&sequences))
    }))
}
