//! The sociodemographic answers of a batch: the consent to be asked (a purpose of its own in
//! the ledger), and the answers, kept only under that consent and apart from the other answers.

use super::effects::Item;
use crate::equity;
use crate::store::record::audit;
use crate::store::{StoreError, Tx};

/// The language question is answered by the language the client chose to be texted in.
fn language_answer(locale: &str) -> &'static str {
    let code = locale.split('-').next().unwrap_or_default();
    equity::question("language")
        .and_then(|q| q.options.iter().find(|o| **o == code))
        .copied()
        .unwrap_or("another")
}

/// Writes the batch's consents (item, granted) and answers (item, question, value).
pub async fn write(
    tx: &mut Tx,
    now: i64,
    items: &[Item<'_>],
    consents: &[(usize, bool)],
    answers: &[(usize, String, String)],
) -> Result<(), StoreError> {
    for (k, granted) in consents {
        let it = &items[*k];
        let client = it.loaded.client.as_str();
        equity::set_consent(
            tx,
            client,
            &it.effects.channel,
            *granted,
            "sociodemographics-flow",
            "sd-why, sd-consent",
            "client",
            now,
        )
        .await?;
        let change = if *granted { "granted" } else { "revoked" };
        audit(
            tx,
            now,
            "client",
            "sociodemographics-consent",
            Some(&it.loaded.client),
            &format!("sociodemographics {change}"),
        )
        .await?;
        if *granted {
            let lang = language_answer(it.loaded.language.as_str());
            equity::put(
                tx,
                client,
                &[("language".to_owned(), lang.to_owned())],
                equity::FLOW,
                now,
            )
            .await?;
        }
    }
    for (k, q, v) in answers {
        let it = &items[*k];
        // Only under the consent: given before, or in this batch.
        let granted = consents.iter().rev().find(|(c, _)| c == k).map_or(
            it.loaded.sociodemographics.as_deref() == Some("granted"),
            |c| c.1,
        );
        if !granted || !equity::valid(q, v) {
            continue;
        }
        equity::put(
            tx,
            it.loaded.client.as_str(),
            &[(q.clone(), v.clone())],
            equity::FLOW,
            now,
        )
        .await?;
    }
    Ok(())
}
