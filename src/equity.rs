//! Sociodemographics: the intake questions Ontario's community health centres ask to see who
//! benefits (language, born in Canada and when they arrived, racial or ethnic group, disability,
//! gender identity, sexual orientation, household income and size, education, age). Asked only
//! after a consent of their own (not the messaging consent), by the `sociodemographics` flow or
//! by a navigator in person; stored apart from the answers, one row per client and question;
//! shown only to staff with the setting, every view audited. Every question also takes "prefer
//! not to answer" and "do not know". Values are stored as bands, never as exact figures.

use crate::domain::ClientId;
use crate::store::record::audit;
use crate::store::{Db, Doing, StoreError, Tx};
use serde::Serialize;
use std::collections::BTreeMap;

pub const PREFER_NOT: &str = "prefer-not";
pub const DO_NOT_KNOW: &str = "do-not-know";
/// The consent purpose in the ledger.
pub const PURPOSE: &str = "sociodemographics";
/// The flow that asks them.
pub const FLOW: &str = "sociodemographics";

/// One question and its answers (besides "prefer not to answer" and "do not know").
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Question {
    pub id: &'static str,
    pub options: &'static [&'static str],
}

/// The questions, in the order they are asked.
pub const QUESTIONS: &[Question] = &[
    Question {
        id: "language",
        options: &[
            "en", "fr", "ar", "es", "fa", "pa", "tl", "uk", "zh", "another",
        ],
    },
    Question {
        id: "born-in-canada",
        options: &["yes", "no"],
    },
    Question {
        id: "arrival",
        options: &[
            "before-2000",
            "2000-2009",
            "2010-2014",
            "2015-2019",
            "2020-later",
        ],
    },
    Question {
        id: "race",
        options: &[
            "black",
            "east-asian",
            "south-asian",
            "southeast-asian",
            "indigenous",
            "latin-american",
            "middle-eastern",
            "white",
            "another",
        ],
    },
    Question {
        id: "disability",
        options: &["yes", "no"],
    },
    Question {
        id: "gender",
        options: &["woman", "man", "non-binary", "two-spirit", "another"],
    },
    Question {
        id: "orientation",
        options: &[
            "straight",
            "gay-lesbian",
            "bisexual",
            "two-spirit",
            "queer",
            "another",
        ],
    },
    Question {
        id: "income",
        options: &[
            "under-15k",
            "15-30k",
            "30-60k",
            "60-90k",
            "90-150k",
            "150k-more",
        ],
    },
    Question {
        id: "household",
        options: &["1", "2", "3", "4", "5-more"],
    },
    Question {
        id: "education",
        options: &[
            "primary",
            "some-secondary",
            "secondary",
            "college-trade",
            "university",
            "graduate",
        ],
    },
    Question {
        id: "age",
        options: &[
            "under-25", "25-34", "35-44", "45-54", "55-64", "65-74", "75-more",
        ],
    },
];

#[must_use]
pub fn question(id: &str) -> Option<&'static Question> {
    QUESTIONS.iter().find(|q| q.id == id)
}

/// Whether `value` answers question `q`.
#[must_use]
pub fn valid(q: &str, value: &str) -> bool {
    value == PREFER_NOT
        || value == DO_NOT_KNOW
        || question(q).is_some_and(|q| q.options.contains(&value))
}

/// A newcomer: born outside Canada and arrived in the last ten years (the bands say which).
#[must_use]
pub fn newcomer(answers: &BTreeMap<String, String>) -> Option<bool> {
    match answers.get("born-in-canada").map(String::as_str) {
        Some("yes") => Some(false),
        Some("no") => match answers.get("arrival").map(String::as_str) {
            Some("2015-2019" | "2020-later") => Some(true),
            Some("before-2000" | "2000-2009" | "2010-2014") => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The value the flow recorded for an option (`sd-black` is `black`).
#[must_use]
pub fn from_flow(value: &str) -> &str {
    value.strip_prefix("sd-").unwrap_or(value)
}

#[derive(Debug, thiserror::Error)]
pub enum EquityError {
    #[error("{0}")]
    Invalid(String),
    #[error(
        "the client has not agreed to the sociodemographic questions: record their consent first"
    )]
    NoConsent,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a client stands: their consent (granted, revoked or never asked) and their answers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Held {
    pub consent: Option<String>,
    pub answers: BTreeMap<String, String>,
    pub updated_at: Option<i64>,
}

/// What is held for a client. The caller audits the view.
pub async fn read(db: &Db, client: &str) -> Result<Held, StoreError> {
    let consent: Option<Option<String>> =
        sqlx::query_scalar("SELECT sociodemographics FROM clients WHERE id = $1")
            .bind(client)
            .fetch_optional(db.pool())
            .await
            .doing("reading sociodemographic consent")?;
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT question, value, at FROM sociodemographics WHERE client_id = $1 ORDER BY question",
    )
    .bind(client)
    .fetch_all(db.pool())
    .await
    .doing("reading sociodemographics")?;
    Ok(Held {
        consent: consent.flatten(),
        updated_at: rows.iter().map(|r| r.2).max(),
        answers: rows.into_iter().map(|(q, v, _)| (q, v)).collect(),
    })
}

/// Records the consent to be asked, in the caller's transaction (the ledger and the client).
#[allow(clippy::too_many_arguments)] // one ledger row's columns
pub async fn set_consent(
    tx: &mut Tx,
    client: &str,
    channel: &str,
    granted: bool,
    source: &str,
    wording: &str,
    actor: &str,
    now: i64,
) -> Result<(), StoreError> {
    let change = if granted { "granted" } else { "revoked" };
    sqlx::query(
        "INSERT INTO consent_events (client_id, channel, change, source, wording, actor, at, purpose) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(client)
    .bind(channel)
    .bind(change)
    .bind(source)
    .bind(wording)
    .bind(actor)
    .bind(now)
    .bind(PURPOSE)
    .execute(&mut **tx)
    .await
    .doing("writing the consent ledger")?;
    sqlx::query("UPDATE clients SET sociodemographics = $1, updated_at = $2 WHERE id = $3")
        .bind(change)
        .bind(now)
        .bind(client)
        .execute(&mut **tx)
        .await
        .doing("recording sociodemographic consent")?;
    Ok(())
}

/// Writes answers (question, value) in the caller's transaction; each must be valid.
pub async fn put(
    tx: &mut Tx,
    client: &str,
    answers: &[(String, String)],
    source: &str,
    now: i64,
) -> Result<(), StoreError> {
    for (q, v) in answers {
        sqlx::query(
            "INSERT INTO sociodemographics (client_id, question, value, source, at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (client_id, question) DO UPDATE SET value = excluded.value, source = excluded.source, at = excluded.at",
        )
        .bind(client)
        .bind(q)
        .bind(v)
        .bind(source)
        .bind(now)
        .execute(&mut **tx)
        .await
        .doing("recording sociodemographics")?;
    }
    Ok(())
}

/// A navigator records answers given in person. Consent comes first: given now (`consent_now`,
/// after telling the client why) or before. Blank answers are left as they were. Audited with
/// the questions only, never the answers.
pub async fn enter(
    db: &Db,
    client: &ClientId,
    answers: &[(String, String)],
    consent_now: bool,
    actor: &str,
    now: i64,
) -> Result<usize, EquityError> {
    for (q, v) in answers {
        if !valid(q, v) {
            return Err(EquityError::Invalid(format!(
                "{v:?} does not answer the question {q:?}"
            )));
        }
    }
    let mut tx = db.begin().await?;
    let consent: Option<Option<String>> =
        sqlx::query_scalar("SELECT sociodemographics FROM clients WHERE id = $1")
            .bind(client.as_str())
            .fetch_optional(&mut *tx)
            .await
            .doing("reading sociodemographic consent")?;
    let granted = consent.flatten().as_deref() == Some("granted");
    if consent_now && !granted {
        set_consent(
            &mut tx,
            client.as_str(),
            "in-person",
            true,
            "in-person",
            "told why the questions are asked and that answering never changes their care",
            actor,
            now,
        )
        .await?;
        audit(
            &mut tx,
            now,
            actor,
            "sociodemographics-consent",
            Some(client),
            "sociodemographics granted",
        )
        .await?;
    } else if !granted {
        return Err(EquityError::NoConsent);
    }
    put(&mut tx, client.as_str(), answers, actor, now).await?;
    let questions: Vec<&str> = answers.iter().map(|(q, _)| q.as_str()).collect();
    audit(
        &mut tx,
        now,
        actor,
        "sociodemographics-entered",
        Some(client),
        &format!("{} answers", questions.len()),
    )
    .await?;
    tx.commit().await.doing("recording sociodemographics")?;
    Ok(answers.len())
}

/// Every real client's answers, for the cohort and the de-identified export.
pub async fn all(db: &Db) -> Result<BTreeMap<String, BTreeMap<String, String>>, StoreError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT s.client_id, s.question, s.value FROM sociodemographics s \
         JOIN clients c ON c.id = s.client_id WHERE c.kind = 'real' AND c.sociodemographics = 'granted'",
    )
    .fetch_all(db.pool())
    .await
    .doing("reading sociodemographics")?;
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (c, q, v) in rows {
        out.entry(c).or_default().insert(q, v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_question_takes_prefer_not_and_do_not_know_and_only_its_options() {
        for q in QUESTIONS {
            assert!(
                valid(q.id, PREFER_NOT) && valid(q.id, DO_NOT_KNOW),
                "{}",
                q.id
            );
            assert!(valid(q.id, q.options[0]));
            assert!(!valid(q.id, "lots"), "{}", q.id);
        }
        assert!(!valid("shoe-size", "9"));
        assert_eq!(from_flow("sd-black"), "black");
        assert_eq!(from_flow("prefer-not"), "prefer-not");
    }

    #[test]
    fn a_newcomer_arrived_in_the_last_ten_years() {
        let m = |b: &str, a: &str| {
            BTreeMap::from([
                ("born-in-canada".to_owned(), b.to_owned()),
                ("arrival".to_owned(), a.to_owned()),
            ])
        };
        assert_eq!(newcomer(&m("no", "2020-later")), Some(true));
        assert_eq!(newcomer(&m("no", "2000-2009")), Some(false));
        assert_eq!(newcomer(&m("yes", "")), Some(false));
        assert_eq!(newcomer(&m("prefer-not", "")), None);
        assert_eq!(newcomer(&m("no", "prefer-not")), None);
    }
}
