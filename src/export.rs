//! Exports for evaluators (DESIGN §6, the guidebook's Step 6): the evaluation dataset as CSV,
//! optionally de-identified, and FHIR R4 `Questionnaire` / `QuestionnaireResponse` resources.
//! Each export is one audit entry naming who took it and how many clients it held.

use crate::flow::def::{AnswerKind, StepKind};
use crate::runner::Runner;
use crate::store::record::audit_one;
use crate::store::scores::score_points;
use crate::store::{Doing, StoreError};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use sqlx::Row;
use std::collections::BTreeMap;

/// Measures in the dataset, each at baseline, 3 and 6 months, and ad hoc.
pub const MEASURES: [&str; 8] = [
    "ucla3",
    "ons-loneliness",
    "ons4-life-satisfaction",
    "ons4-worthwhile",
    "ons4-happy",
    "ons4-anxious",
    "cchs-belonging",
    "cchs-mental-health",
];
/// The time points of the dataset's columns; `ad-hoc` holds the latest survey started with no
/// time point, so that no completed survey is left out.
const TIME_POINTS: [&str; 4] = [
    "baseline",
    "3-month",
    "6-month",
    crate::store::scores::AD_HOC,
];

/// A stable pseudonymous id: the same client gets the same id in every export of this
/// deployment, and it cannot be turned back into the client id without the deployment's key.
#[must_use]
pub fn pseudonym(key: &str, client: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(client.as_bytes());
    let d = mac.finalize().into_bytes();
    let hex: String = d.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("P-{hex}")
}

fn day(ms: i64, tz: chrono_tz::Tz, month_only: bool) -> String {
    let d = crate::clock::from_ms(ms).with_timezone(&tz);
    if month_only {
        d.format("%Y-%m").to_string()
    } else {
        d.format("%Y-%m-%d").to_string()
    }
}

/// The header of the evaluation dataset.
#[must_use]
pub fn csv_header(deidentified: bool) -> Vec<String> {
    let mut h: Vec<String> = if deidentified {
        vec!["pseudonym".into()]
    } else {
        vec!["client_id".into(), "chart_number".into()]
    };
    h.extend(
        [
            "language",
            "time_zone",
            "consent",
            "referral_date",
            "referred_by",
            "reasons",
            "rx_type",
            "program",
            "support_level",
            "uptake",
            "closed_on",
            "closing_reason",
            "sequences",
            "messages_out",
            "messages_in",
            "barriers",
        ]
        .map(str::to_owned),
    );
    for m in MEASURES {
        for tp in TIME_POINTS {
            h.push(format!("{}_{}", m.replace('-', "_"), tp.replace('-', "_")));
        }
    }
    h.push("ucla3_change_6_month".into());
    h
}

/// Writes the evaluation dataset: one row per client, with their latest referral. Returns the
/// number of clients. `progress(done, total)` is called as rows are written.
pub async fn evaluation_csv(
    runner: &Runner,
    deidentified: bool,
    actor: &str,
    out: &mut (dyn std::io::Write + Send),
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<usize, StoreError> {
    let db = &runner.db;
    let tz = runner.centre.time_zone;
    let key = crate::staff::setting_or_init(db, "pseudonym_key").await?;
    let clients = sqlx::query(
        "SELECT c.id, c.chart_number, c.language, c.time_zone, c.consent, \
         (SELECT COUNT(*) FROM messages m WHERE m.client_id = c.id AND m.direction = 'out') AS outs, \
         (SELECT COUNT(*) FROM messages m WHERE m.client_id = c.id AND m.direction = 'in') AS ins \
         FROM clients c WHERE c.kind = 'real' ORDER BY c.id",
    )
    .fetch_all(db.pool())
    .await
    .doing("reading clients for an export")?;
    let referrals = sqlx::query(
        "SELECT client_id, referred_at, referred_by, reasons, rx_type, program, support_level, uptake, closed_at, closing_reason \
         FROM referrals ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .doing("reading referrals for an export")?;
    let mut latest: BTreeMap<String, &sqlx::any::AnyRow> = BTreeMap::new();
    for r in &referrals {
        let c: String = r.try_get(0).doing("reading referrals")?;
        latest.insert(c, r);
    }
    let enrolments = sqlx::query("SELECT client_id, sequence_id FROM enrolments ORDER BY id")
        .fetch_all(db.pool())
        .await
        .doing("reading enrolments for an export")?;
    let mut seqs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in &enrolments {
        let c: String = e.try_get(0).doing("reading enrolments")?;
        let s: String = e.try_get(1).doing("reading enrolments")?;
        let v = seqs.entry(c).or_default();
        if !v.contains(&s) {
            v.push(s);
        }
    }
    let barriers = sqlx::query(
        "SELECT client_id, value FROM fields WHERE key LIKE '%barrier%' ORDER BY client_id, key",
    )
    .fetch_all(db.pool())
    .await
    .doing("reading barriers for an export")?;
    let mut barrier: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for b in &barriers {
        let c: String = b.try_get(0).doing("reading barriers")?;
        barrier
            .entry(c)
            .or_default()
            .push(b.try_get(1).doing("reading barriers")?);
    }
    let mut scores: BTreeMap<(String, String, String), String> = BTreeMap::new();
    let mut totals: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for p in score_points(db, None).await? {
        let k = (p.client.clone(), p.instrument.clone(), p.time_point.clone());
        if let Some(t) = p.total {
            totals.insert(k.clone(), t);
        }
        if let Some(v) = p.total.map(|t| t.to_string()).or(p.category) {
            scores.insert(k, v);
        }
    }
    let mut w = csv::Writer::from_writer(out);
    let io = |e: csv::Error| StoreError::Corrupt(format!("writing the export failed: {e}"));
    w.write_record(csv_header(deidentified)).map_err(io)?;
    let total = u64::try_from(clients.len()).unwrap_or(u64::MAX);
    for (n, c) in clients.iter().enumerate() {
        let id: String = c.try_get(0).doing("reading clients")?;
        let mut row: Vec<String> = if deidentified {
            vec![pseudonym(&key, &id)]
        } else {
            vec![
                id.clone(),
                c.try_get::<Option<String>, _>(1)
                    .doing("reading clients")?
                    .unwrap_or_default(),
            ]
        };
        row.push(c.try_get(2).doing("reading clients")?);
        row.push(c.try_get(3).doing("reading clients")?);
        row.push(c.try_get(4).doing("reading clients")?);
        match latest.get(&id) {
            Some(r) => {
                let s = |i: usize| -> Result<String, StoreError> {
                    Ok(r.try_get::<Option<String>, _>(i)
                        .doing("reading referrals")?
                        .unwrap_or_default())
                };
                row.push(day(
                    r.try_get(1).doing("reading referrals")?,
                    tz,
                    deidentified,
                ));
                row.push(s(2)?);
                row.push(s(3)?.replace(',', ";"));
                row.push(s(4)?);
                row.push(if deidentified { String::new() } else { s(5)? });
                row.push(s(6)?);
                row.push(r.try_get(7).doing("reading referrals")?);
                row.push(
                    r.try_get::<Option<i64>, _>(8)
                        .doing("reading referrals")?
                        .map(|t| day(t, tz, deidentified))
                        .unwrap_or_default(),
                );
                row.push(s(9)?);
            }
            None => row.extend(std::iter::repeat_n(String::new(), 9)),
        }
        row.push(seqs.get(&id).map(|v| v.join(";")).unwrap_or_default());
        row.push(c.try_get::<i64, _>(5).doing("reading clients")?.to_string());
        row.push(c.try_get::<i64, _>(6).doing("reading clients")?.to_string());
        // Barriers are the client's own words: left out of a de-identified export.
        row.push(if deidentified {
            barrier
                .get(&id)
                .map(|b| b.len().to_string())
                .unwrap_or_default()
        } else {
            barrier.get(&id).map(|b| b.join("; ")).unwrap_or_default()
        });
        for m in MEASURES {
            for tp in TIME_POINTS {
                row.push(
                    scores
                        .get(&(id.clone(), m.to_owned(), tp.to_owned()))
                        .cloned()
                        .unwrap_or_default(),
                );
            }
        }
        let b = totals.get(&(id.clone(), "ucla3".into(), "baseline".into()));
        let s = totals.get(&(id.clone(), "ucla3".into(), "6-month".into()));
        row.push(
            b.zip(s)
                .map(|(b, s)| format!("{:+}", s - b))
                .unwrap_or_default(),
        );
        w.write_record(&row).map_err(io)?;
        progress(u64::try_from(n + 1).unwrap_or(u64::MAX), total);
    }
    w.flush()
        .map_err(|e| StoreError::Corrupt(format!("writing the export failed: {e}")))?;
    let now = crate::clock::to_ms(runner.clock.now());
    audit_one(
        db,
        now,
        actor,
        "export-csv",
        None,
        &format!(
            "{} clients{}",
            clients.len(),
            if deidentified { ", de-identified" } else { "" }
        ),
    )
    .await?;
    Ok(clients.len())
}

fn questionnaire_url(flow: &str) -> String {
    format!("urn:matters:questionnaire:{flow}")
}

/// A Questionnaire's version: the first 12 characters of its flow's revision.
fn questionnaire_version(flow: &crate::flow::def::Flow) -> String {
    flow.revision.chars().take(12).collect()
}

/// The namespace of the `urn:uuid:` full URLs of exported resources (a fixed, random UUID).
const FULL_URL_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6d61_7474_6572_5f65_7870_6f72_745f_6669);

/// A bundle entry's `fullUrl`: a name-based UUID (v5) of the resource's type and id, the same
/// in every export of this deployment.
fn full_url(resource_type: &str, id: &str) -> String {
    let u = uuid::Uuid::new_v5(
        &FULL_URL_NAMESPACE,
        format!("{resource_type}/{id}").as_bytes(),
    );
    format!("urn:uuid:{u}")
}

/// The FHIR extension that gives a choice its place in a scored scale.
const ORDINAL_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/ordinalValue";

fn code_system(flow: &str, step: &str) -> String {
    format!("urn:matters:codes:{flow}:{step}")
}

/// The `Questionnaire` of a flow that measures something (it has scores): its questions in
/// the centre's language, each choice a code of a local code system (until LOINC codes are
/// verified).
#[must_use]
pub fn questionnaire(runner: &Runner, flow: &crate::flow::def::Flow) -> Value {
    let l = runner.catalog.default_locale().clone();
    let vars = crate::i18n::Vars::new();
    let text = |id: &str| {
        runner
            .catalog
            .format(&l, id, &vars)
            .unwrap_or_else(|_| id.to_owned())
    };
    let items: Vec<Value> = flow
        .steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::Ask(a) => Some((s, a)),
            _ => None,
        })
        .map(|(s, a)| {
            let mut item = json!({ "linkId": s.id.as_str(), "text": text(&a.message), "required": false });
            match &a.answer {
                AnswerKind::Scale { .. } => item["type"] = json!("integer"),
                AnswerKind::Choice(_) | AnswerKind::YesNo => {
                    item["type"] = json!("choice");
                    item["answerOption"] = a
                        .answer
                        .options()
                        .iter()
                        .map(|o| {
                            let mut option = json!({ "valueCoding": { "system": code_system(flow.id.as_str(), s.id.as_str()), "code": o, "display": text(&format!("opt-{o}")) } });
                            // Where the instrument scores the answer, its score.
                            if let Some(score) = a.score.get(o.as_str()) {
                                option["extension"] = json!([{ "url": ORDINAL_VALUE, "valueDecimal": score }]);
                            }
                            option
                        })
                        .collect();
                }
                AnswerKind::Date => item["type"] = json!("date"),
                AnswerKind::Text | AnswerKind::Language => item["type"] = json!("string"),
            }
            item
        })
        .collect();
    json!({
        "resourceType": "Questionnaire",
        "id": flow.id.as_str(),
        "url": questionnaire_url(flow.id.as_str()),
        "version": questionnaire_version(flow),
        "name": flow.id.as_str().replace('-', "_"),
        "title": flow.instrument.clone().unwrap_or_else(|| flow.id.to_string()),
        "status": "active",
        "language": l.as_str(),
        "item": items,
    })
}

/// A bundle (type `collection`) of a `Questionnaire` per measuring flow and a
/// `QuestionnaireResponse` per completed survey.
pub async fn fhir_bundle(
    runner: &Runner,
    deidentified: bool,
    actor: &str,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<Value, StoreError> {
    let db = &runner.db;
    let key = crate::staff::setting_or_init(db, "pseudonym_key").await?;
    let measuring: Vec<_> = runner
        .flows
        .current()
        .filter(|f| !f.scores.is_empty())
        .cloned()
        .collect();
    let mut entries: Vec<Value> = measuring
        .iter()
        .map(|f| {
            json!({
                "fullUrl": full_url("Questionnaire", f.id.as_str()),
                "resource": questionnaire(runner, f),
            })
        })
        .collect();
    let sessions = sqlx::query(
        "SELECT s.id, s.client_id, s.flow_id, s.revision, s.time_point, s.ended_at, s.started_at FROM sessions s \
         JOIN clients c ON c.id = s.client_id WHERE s.status = 'completed' AND c.kind = 'real' ORDER BY s.id",
    )
    .fetch_all(db.pool())
    .await
    .doing("reading surveys for an export")?;
    let total = u64::try_from(sessions.len()).unwrap_or(u64::MAX);
    let mut responses = 0usize;
    for (n, s) in sessions.iter().enumerate() {
        let sid: i64 = s.try_get(0).doing("reading surveys")?;
        let client: String = s.try_get(1).doing("reading surveys")?;
        let flow_id: String = s.try_get(2).doing("reading surveys")?;
        progress(u64::try_from(n + 1).unwrap_or(u64::MAX), total);
        let Some(flow) = measuring.iter().find(|f| f.id.as_str() == flow_id) else {
            continue;
        };
        let answers = sqlx::query(
            "SELECT step_id, value FROM answers WHERE session_id = $1 AND status = 'answered' AND value IS NOT NULL ORDER BY id",
        )
        .bind(sid)
        .fetch_all(db.pool())
        .await
        .doing("reading answers for an export")?;
        let mut by_step: BTreeMap<String, String> = BTreeMap::new();
        for a in &answers {
            by_step.insert(
                a.try_get(0).doing("reading answers")?,
                a.try_get(1).doing("reading answers")?,
            );
        }
        let items: Vec<Value> = flow
            .steps
            .iter()
            .filter_map(|st| match &st.kind {
                StepKind::Ask(a) => by_step.get(st.id.as_str()).and_then(|v| {
                    let answer = match &a.answer {
                        AnswerKind::Scale { .. } => v.parse::<i64>().ok().map(|i| json!({ "valueInteger": i }))?,
                        AnswerKind::Choice(_) | AnswerKind::YesNo => {
                            json!({ "valueCoding": { "system": code_system(flow.id.as_str(), st.id.as_str()), "code": v } })
                        }
                        AnswerKind::Date => json!({ "valueDate": v }),
                        AnswerKind::Text | AnswerKind::Language => json!({ "valueString": v }),
                    };
                    Some(json!({ "linkId": st.id.as_str(), "answer": [answer] }))
                }),
                _ => None,
            })
            .collect();
        let ended: Option<i64> = s.try_get(5).doing("reading surveys")?;
        let started: i64 = s.try_get(6).doing("reading surveys")?;
        // De-identified: the month only, as in the CSV, so the two joined give no more.
        let authored_at = crate::clock::from_ms(ended.unwrap_or(started));
        let authored = if deidentified {
            day(ended.unwrap_or(started), runner.centre.time_zone, true)
        } else {
            authored_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        };
        let subject = if deidentified {
            json!({ "identifier": { "system": "urn:matters:pseudonym", "value": pseudonym(&key, &client) } })
        } else {
            json!({ "identifier": { "system": "urn:matters:client", "value": client } })
        };
        let id = format!("survey-{sid}");
        let mut qr = json!({
            "resourceType": "QuestionnaireResponse",
            "id": id,
            // The version the survey was answered in: its session's flow revision.
            "questionnaire": format!(
                "{}|{}",
                questionnaire_url(flow.id.as_str()),
                s.try_get::<String, _>(3)
                    .doing("reading surveys")?
                    .chars()
                    .take(12)
                    .collect::<String>()
            ),
            "status": "completed",
            "subject": subject,
            "authored": authored,
            "item": items,
        });
        let tp: Option<String> = s.try_get(4).doing("reading surveys")?;
        if let Some(tp) = tp {
            qr["identifier"] = json!({ "system": "urn:matters:time-point", "value": tp });
        }
        entries.push(json!({ "fullUrl": full_url("QuestionnaireResponse", &id), "resource": qr }));
        responses += 1;
    }
    let now = crate::clock::to_ms(runner.clock.now());
    audit_one(
        db,
        now,
        actor,
        "export-fhir",
        None,
        &format!(
            "{} questionnaires, {responses} responses{}",
            measuring.len(),
            if deidentified { ", de-identified" } else { "" }
        ),
    )
    .await?;
    Ok(json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": crate::clock::from_ms(now).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "entry": entries,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_and_keyed() {
        let a = pseudonym("k1", "amelie");
        assert_eq!(a, pseudonym("k1", "amelie"));
        assert_ne!(a, pseudonym("k2", "amelie"));
        assert_ne!(a, pseudonym("k1", "amelia"));
        assert!(a.starts_with("P-") && a.len() == 18, "{a}");
        assert!(!a.contains("amelie"));
        let h = csv_header(true);
        assert_eq!(h[0], "pseudonym");
        assert!(!h.iter().any(|c| c == "chart_number" || c == "client_id"));
        assert!(h.contains(&"ucla3_6_month".to_owned()));
    }
}
