//! FHIR R4 `Observation`s for the scores (each measure at its time point) and for goal ratings,
//! and `Goal`s for the goals set with the client, in the export bundle. De-identified: the
//! pseudonym, the month only, and no words of the client (a goal's text is withheld).

use super::{day, full_url, pseudonym};
use crate::runner::Runner;
use crate::store::{Doing, StoreError};
use serde_json::{Value, json};
use sqlx::Row;

/// The code system of matters' measures (`ucla3`, `cchs-belonging`, `goal-rating`…).
const MEASURE_SYSTEM: &str = "urn:matters:measure";
const ACHIEVEMENT: &str = "http://terminology.hl7.org/CodeSystem/goal-achievement";

fn subject(deidentified: bool, key: &str, client: &str) -> Value {
    if deidentified {
        json!({ "identifier": { "system": "urn:matters:pseudonym", "value": pseudonym(key, client) } })
    } else {
        json!({ "identifier": { "system": "urn:matters:client", "value": client } })
    }
}

fn when(runner: &Runner, deidentified: bool, ms: i64) -> String {
    if deidentified {
        day(ms, runner.centre.time_zone, true)
    } else {
        crate::clock::from_ms(ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}

/// Appends the Observations and Goals; returns how many of each.
/// One `centre`'s clients' only, when one is given.
pub(super) async fn entries(
    runner: &Runner,
    centre: Option<&str>,
    deidentified: bool,
    key: &str,
    entries: &mut Vec<Value>,
) -> Result<(usize, usize), StoreError> {
    let db = &runner.db;
    let scores = sqlx::query(
        "SELECT s.id, s.client_id, s.instrument, s.time_point, s.total, s.category, s.at, s.session_id \
         FROM scores s JOIN clients c ON c.id = s.client_id WHERE s.complete = 1 AND c.kind = 'real' \
         AND ($1 = '' OR c.centre_id = $1) ORDER BY s.id",
    )
    .bind(centre.unwrap_or_default())
    .fetch_all(db.pool())
    .await
    .doing("reading scores for an export")?;
    let mut observations = 0;
    for s in &scores {
        let id: i64 = s.try_get(0).doing("reading scores")?;
        let client: String = s.try_get(1).doing("reading scores")?;
        let instrument: String = s.try_get(2).doing("reading scores")?;
        let tp: Option<String> = s.try_get(3).doing("reading scores")?;
        let total: Option<i64> = s.try_get(4).doing("reading scores")?;
        let category: Option<String> = s.try_get(5).doing("reading scores")?;
        let at: i64 = s.try_get(6).doing("reading scores")?;
        let session: i64 = s.try_get(7).doing("reading scores")?;
        let oid = format!("score-{id}");
        let mut o = json!({
            "resourceType": "Observation",
            "id": oid,
            "status": "final",
            "code": { "coding": [{ "system": MEASURE_SYSTEM, "code": instrument }], "text": instrument },
            "subject": subject(deidentified, key, &client),
            "effectiveDateTime": when(runner, deidentified, at),
            "derivedFrom": [{ "reference": full_url("QuestionnaireResponse", &format!("survey-{session}")) }],
        });
        match (total, category) {
            (Some(t), _) => o["valueInteger"] = json!(t),
            (None, Some(c)) => {
                o["valueCodeableConcept"] = json!({ "coding": [{ "system": format!("{MEASURE_SYSTEM}:{instrument}"), "code": c }] });
            }
            (None, None) => continue,
        }
        if let Some(tp) = tp {
            o["identifier"] = json!([{ "system": "urn:matters:time-point", "value": tp }]);
        }
        entries.push(json!({ "fullUrl": full_url("Observation", &oid), "resource": o }));
        observations += 1;
    }
    let goals = sqlx::query(
        "SELECT g.id, g.client_id, g.text, g.steps, g.target_on, g.status, g.created_at FROM goals g \
         JOIN clients c ON c.id = g.client_id WHERE c.kind = 'real' AND ($1 = '' OR c.centre_id = $1) ORDER BY g.id",
    )
    .bind(centre.unwrap_or_default())
    .fetch_all(db.pool())
    .await
    .doing("reading goals for an export")?;
    let ratings: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT r.id, r.goal_id, r.rating, r.at FROM goal_ratings r JOIN clients c ON c.id = r.client_id \
         WHERE c.kind = 'real' AND ($1 = '' OR c.centre_id = $1) ORDER BY r.id",
    )
    .bind(centre.unwrap_or_default())
    .fetch_all(db.pool())
    .await
    .doing("reading goal ratings for an export")?;
    for g in &goals {
        let id: i64 = g.try_get(0).doing("reading goals")?;
        let client: String = g.try_get(1).doing("reading goals")?;
        let text: String = g.try_get(2).doing("reading goals")?;
        let steps: Option<String> = g.try_get(3).doing("reading goals")?;
        let target: Option<String> = g.try_get(4).doing("reading goals")?;
        let status: String = g.try_get(5).doing("reading goals")?;
        let created: i64 = g.try_get(6).doing("reading goals")?;
        let (lifecycle, achievement) = match status.as_str() {
            "met" => ("completed", "achieved"),
            "changed" => ("cancelled", "not-achieved"),
            "dropped" => ("cancelled", "not-achieved"),
            _ => ("active", "in-progress"),
        };
        let gid = format!("goal-{id}");
        let mut r = json!({
            "resourceType": "Goal",
            "id": gid,
            "lifecycleStatus": lifecycle,
            "achievementStatus": { "coding": [{ "system": ACHIEVEMENT, "code": achievement }] },
            // The client's own words; withheld from a de-identified export.
            "description": { "text": if deidentified { "(withheld: the client's own words)".to_owned() } else { text } },
            "subject": subject(deidentified, key, &client),
            "startDate": day(created, runner.centre.time_zone, false),
        });
        if deidentified {
            r["startDate"] = json!(day(created, runner.centre.time_zone, true));
        }
        if let Some(t) = target.filter(|_| !deidentified) {
            r["target"] = json!([{ "dueDate": t }]);
        }
        if let Some(s) = steps.filter(|_| !deidentified) {
            r["note"] = json!([{ "text": s }]);
        }
        let goal_url = full_url("Goal", &gid);
        entries.push(json!({ "fullUrl": goal_url, "resource": r }));
        for (rid, _, rating, at) in ratings.iter().filter(|x| x.1 == id) {
            let oid = format!("goal-rating-{rid}");
            let o = json!({
                "resourceType": "Observation",
                "id": oid,
                "status": "final",
                "code": { "coding": [{ "system": MEASURE_SYSTEM, "code": "goal-rating" }], "text": "How close to the goal (0-10)" },
                "subject": subject(deidentified, key, &client),
                "focus": [{ "reference": goal_url }],
                "effectiveDateTime": when(runner, deidentified, *at),
                "valueInteger": rating,
            });
            entries.push(json!({ "fullUrl": full_url("Observation", &oid), "resource": o }));
            observations += 1;
        }
    }
    Ok((observations, goals.len()))
}
