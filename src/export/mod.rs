//! Exports for evaluators (DESIGN §6, the guidebook's Step 6): the evaluation dataset as CSV,
//! optionally de-identified, and FHIR R4 `Questionnaire` / `QuestionnaireResponse` resources.
//! Each export is one audit entry naming who took it and how many clients it held.

mod outcomes;

use crate::flow::def::{AnswerKind, StepKind};
use crate::runner::Runner;
use crate::store::record::audit_one;
use crate::store::{Doing, StoreError};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use sqlx::Row;
use std::collections::BTreeMap;

/// Measures in the dataset, each at baseline, 3 and 6 months, and ad hoc (goal ratings: the
/// mean over the referral's goals).
pub use crate::evaluation::MEASURES;
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
pub fn csv_header(deidentified: bool, sociodemographics: bool) -> Vec<String> {
    let mut h: Vec<String> = if deidentified {
        vec!["pseudonym".into(), "referral_number".into()]
    } else {
        vec![
            "client_id".into(),
            "chart_number".into(),
            "referral_id".into(),
        ]
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
    h.extend(["goals", "goals_met", "goal_rating_change"].map(str::to_owned));
    if sociodemographics {
        h.extend(
            crate::equity::QUESTIONS
                .iter()
                .map(|q| format!("sd_{}", q.id.replace('-', "_"))),
        );
        h.push("newcomer".into());
    }
    for p in ["before", "after"] {
        for u in crate::evaluation::USES {
            h.push(format!("{u}_{p}"));
        }
    }
    h.extend(["felt_heard", "would_recommend"].map(str::to_owned));
    h
}

/// In a de-identified export, a sociodemographic value fewer than five clients share is "< 5":
/// no small group can be picked out by its bands.
fn rare_values(facts: &[crate::evaluation::Fact]) -> BTreeMap<(String, String), usize> {
    let mut seen: BTreeMap<(String, String), std::collections::BTreeSet<&str>> = BTreeMap::new();
    for f in facts {
        for (q, v) in &f.sdoh {
            seen.entry((q.clone(), v.clone()))
                .or_default()
                .insert(f.client.as_str());
        }
        let n = match f.newcomer {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        };
        seen.entry(("newcomer".into(), n.into()))
            .or_default()
            .insert(f.client.as_str());
    }
    seen.into_iter().map(|(k, v)| (k, v.len())).collect()
}

/// The key of an export's pseudonyms: one centre's own (so two centres' exports cannot be
/// matched client by client), or the deployment's for the whole deployment and the default centre.
async fn pseudonym_key(db: &crate::store::Db, centre: Option<&str>) -> Result<String, StoreError> {
    match centre {
        Some(c) => crate::centres::deid_key(db, c).await,
        None => crate::staff::setting_or_init(db, "pseudonym_key").await,
    }
}

/// Writes the evaluation dataset: one row per referral (a client with none has one row with the
/// referral's columns empty), every measure, goal figure, banded sociodemographic (where the
/// client consented and `sociodemographics` is asked: always in a de-identified export, with
/// rare values suppressed), health-system use and experience. Returns the number of clients.
/// `progress(done, total)` is called as rows are written.
#[allow(clippy::too_many_lines)] // one column after another, in the header's order
pub async fn evaluation_csv(
    runner: &Runner,
    centre: Option<&str>,
    deidentified: bool,
    sociodemographics: bool,
    actor: &str,
    out: &mut (dyn std::io::Write + Send),
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<usize, StoreError> {
    let db = &runner.db;
    let tz = runner.centre.time_zone;
    let with_sd = deidentified || sociodemographics;
    let key = pseudonym_key(db, centre).await?;
    let clients = sqlx::query(
        "SELECT c.id, c.chart_number, c.language, c.time_zone, c.consent, \
         (SELECT COUNT(*) FROM messages m WHERE m.client_id = c.id AND m.direction = 'out') AS outs, \
         (SELECT COUNT(*) FROM messages m WHERE m.client_id = c.id AND m.direction = 'in') AS ins \
         FROM clients c WHERE c.kind = 'real' AND ($1 = '' OR c.centre_id = $1) ORDER BY c.id",
    )
    .bind(centre.unwrap_or_default())
    .fetch_all(db.pool())
    .await
    .doing("reading clients for an export")?;
    let filter = crate::evaluation::Filter {
        centre: centre.map(str::to_owned),
        ..crate::evaluation::Filter::default()
    };
    let facts = crate::evaluation::facts(db, None, &filter, tz).await?;
    let mut by_client: BTreeMap<&str, Vec<&crate::evaluation::Fact>> = BTreeMap::new();
    for f in &facts {
        by_client.entry(f.client.as_str()).or_default().push(f);
    }
    let rare = rare_values(&facts);
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
    let mut w = csv::Writer::from_writer(out);
    let io = |e: csv::Error| StoreError::Corrupt(format!("writing the export failed: {e}"));
    let header = csv_header(deidentified, with_sd);
    w.write_record(&header).map_err(io)?;
    let total = u64::try_from(clients.len()).unwrap_or(u64::MAX);
    let none: Vec<&crate::evaluation::Fact> = Vec::new();
    for (n, c) in clients.iter().enumerate() {
        let id: String = c.try_get(0).doing("reading clients")?;
        let refs = by_client.get(id.as_str()).unwrap_or(&none);
        // A client with no referral still has their row.
        let rows: Vec<Option<&crate::evaluation::Fact>> = if refs.is_empty() {
            vec![None]
        } else {
            refs.iter().map(|f| Some(*f)).collect()
        };
        for (k, f) in rows.into_iter().enumerate() {
            let mut row: Vec<String> = if deidentified {
                vec![
                    pseudonym(&key, &id),
                    f.map(|_| (k + 1).to_string()).unwrap_or_default(),
                ]
            } else {
                vec![
                    id.clone(),
                    c.try_get::<Option<String>, _>(1)
                        .doing("reading clients")?
                        .unwrap_or_default(),
                    f.map(|f| f.referral.to_string()).unwrap_or_default(),
                ]
            };
            row.push(c.try_get(2).doing("reading clients")?);
            row.push(c.try_get(3).doing("reading clients")?);
            row.push(c.try_get(4).doing("reading clients")?);
            let text = |v: &Option<String>| v.clone().unwrap_or_default();
            match f {
                Some(f) => {
                    row.push(day(f.referred_at, tz, deidentified));
                    row.push(text(&f.referred_by));
                    row.push(f.reasons.join(";"));
                    row.push(text(&f.rx_type));
                    row.push(if deidentified {
                        f.program_code.clone().unwrap_or_default()
                    } else {
                        text(&f.program)
                    });
                    row.push(text(&f.support_level));
                    row.push(f.uptake.clone());
                    row.push(
                        f.closed_at
                            .map(|t| day(t, tz, deidentified))
                            .unwrap_or_default(),
                    );
                    row.push(text(&f.closing_reason));
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
                    let key = (m.to_owned(), tp.to_owned());
                    row.push(f.map_or_else(String::new, |f| {
                        if m == "goal-rating" {
                            f.values
                                .get(&key)
                                .map(|v| format!("{v:.1}"))
                                .unwrap_or_default()
                        } else {
                            f.raw.get(&key).cloned().unwrap_or_default()
                        }
                    }));
                }
            }
            let change = |m: &str, fmt: &dyn Fn(f64) -> String| {
                f.and_then(|f| Some(fmt(f.value(m, "6-month")? - f.value(m, "baseline")?)))
                    .unwrap_or_default()
            };
            #[allow(clippy::cast_possible_truncation)]
            row.push(change("ucla3", &|d| format!("{:+}", d.round() as i64)));
            row.push(f.map(|f| f.goals.to_string()).unwrap_or_default());
            row.push(f.map(|f| f.goals_met.to_string()).unwrap_or_default());
            row.push(change("goal-rating", &|d| format!("{d:+.1}")));
            if with_sd {
                let shown = |q: &str, v: String| {
                    if deidentified
                        && !v.is_empty()
                        && rare.get(&(q.to_owned(), v.clone())).copied().unwrap_or(0)
                            < crate::evaluation::MIN_CELL
                    {
                        crate::evaluation::SUPPRESSED.to_owned()
                    } else {
                        v
                    }
                };
                for q in crate::equity::QUESTIONS {
                    let v = f
                        .and_then(|f| f.sdoh.get(q.id).cloned())
                        .unwrap_or_default();
                    row.push(shown(q.id, v));
                }
                let nc = match f.and_then(|f| f.newcomer) {
                    Some(true) => "yes".to_owned(),
                    Some(false) => "no".to_owned(),
                    None => String::new(),
                };
                row.push(shown("newcomer", nc));
            }
            for p in ["before", "after"] {
                for u in crate::evaluation::USES {
                    row.push(
                        f.and_then(|f| f.health.get(&(p.to_owned(), u.to_owned())))
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                    );
                }
            }
            row.push(f.and_then(|f| f.heard.clone()).unwrap_or_default());
            row.push(f.and_then(|f| f.recommend.clone()).unwrap_or_default());
            w.write_record(&row).map_err(io)?;
        }
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
    centre: Option<&str>,
    deidentified: bool,
    actor: &str,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<Value, StoreError> {
    let db = &runner.db;
    let key = pseudonym_key(db, centre).await?;
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
         JOIN clients c ON c.id = s.client_id WHERE s.status = 'completed' AND c.kind = 'real' \
         AND ($1 = '' OR c.centre_id = $1) ORDER BY s.id",
    )
    .bind(centre.unwrap_or_default())
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
    let (observations, goals) =
        outcomes::entries(runner, centre, deidentified, &key, &mut entries).await?;
    let now = crate::clock::to_ms(runner.clock.now());
    audit_one(
        db,
        now,
        actor,
        "export-fhir",
        None,
        &format!(
            "{} questionnaires, {responses} responses, {observations} observations, {goals} goals{}",
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
        let h = csv_header(true, true);
        assert_eq!(h[0], "pseudonym");
        assert!(h.contains(&"sd_race".to_owned()) && h.contains(&"goals_met".to_owned()));
        assert!(!csv_header(false, false).contains(&"sd_race".to_owned()));
        assert!(!h.iter().any(|c| c == "chart_number" || c == "client_id"));
        assert!(h.contains(&"ucla3_6_month".to_owned()));
    }
}
