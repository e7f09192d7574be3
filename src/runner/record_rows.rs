//! The record's rows for a batch: answers with their provenance, fields, scores, flags, the
//! consent ledger, the client's consent and language, timeouts, and the audit log.

use super::effects::{Item, Scope};
use crate::clock::to_ms;
use crate::flow::def::Urgency;
use crate::flow::engine::{AnswerStatus, Event};
use crate::store::sql::{V, bind_all, i, insert_rows, insert_sql, list, os, rows_source, s};
use crate::store::{Backend, Doing, StoreError, Tx};

/// The items of a batch and the ids of the sessions it started.
pub struct Sessions<'a, 'b> {
    pub items: &'a [Item<'b>],
    pub new_id: &'a [Option<i64>],
}

impl Sessions<'_, '_> {
    /// The session an event of item `k` belongs to.
    pub fn of(&self, k: usize, scope: Scope) -> Option<i64> {
        match scope {
            Scope::Current => self.items[k].loaded.session.as_ref().map(|a| a.id),
            Scope::New => self.new_id[k],
            Scope::Client => None,
        }
    }
}

/// A consent change: item, granted?, source, wording, actor.
pub type ConsentRow = (usize, bool, String, String, String);

#[allow(clippy::too_many_lines)] // one pass over the events, then one statement per table
pub async fn write(
    tx: &mut Tx,
    b: Backend,
    now: i64,
    sessions: &Sessions<'_, '_>,
    inbound_of: &[Option<i64>],
    consent_rows: &[ConsentRow],
    consent_now: &[&str],
) -> Result<Vec<(String, String, i64)>, StoreError> {
    let items = sessions.items;
    let session_of = |k: usize, scope: Scope| sessions.of(k, scope);
    let mut answers = Vec::new();
    let mut fields = Vec::new();
    let mut scores = Vec::new();
    let mut flags = Vec::new();
    let mut audit = Vec::new();
    let mut timeouts = Vec::new();
    let mut cancels = Vec::new();
    let mut cancel_all = Vec::new();
    let mut client_updates = Vec::new();
    let mut uptakes = Vec::new();
    let mut goal_ratings = Vec::new();
    let mut sdoh: Vec<(usize, String, String)> = Vec::new();
    let mut sdoh_consent: Vec<(usize, bool)> = Vec::new();
    for (k, it) in items.iter().enumerate() {
        let l = it.loaded;
        let client = l.client.as_str();
        let state_of = |scope: Scope| match scope {
            Scope::Current => it
                .effects
                .session_update
                .as_ref()
                .or(l.session.as_ref().map(|a| &a.state)),
            Scope::New => it.effects.new_session.as_ref().map(|(st, _)| st),
            Scope::Client => None,
        };
        let time_point_of = |scope: Scope| match scope {
            Scope::Current => l.session.as_ref().and_then(|a| a.time_point.clone()),
            Scope::New => it.effects.new_session.as_ref().and_then(|(_, t)| t.clone()),
            Scope::Client => None,
        };
        let goal_of = |scope: Scope| match scope {
            Scope::Current => l
                .session
                .as_ref()
                .and_then(|a| a.goal.as_ref().map(|g| g.0)),
            Scope::New => it.effects.goal,
            Scope::Client => None,
        };
        let referral_of = |scope: Scope| match scope {
            Scope::Current => l.session.as_ref().and_then(|a| a.referral),
            Scope::New => it.effects.referral,
            Scope::Client => l.referral,
        };
        let mut timeout: Option<(Scope, Option<(String, i64)>)> = None;
        let mut answered = Vec::new();
        // Flags raised and fields set, for the audit log (kinds and keys only, never values).
        let mut changed = Vec::new();
        let mut item_fields: Vec<(String, String, String)> = Vec::new();
        let mut best_time: Option<String> = None;
        for (scope, e) in &it.effects.events {
            let scope = *scope;
            match e {
                Event::Answer {
                    step,
                    record,
                    raw,
                    value,
                    label,
                    score,
                    status,
                } => {
                    let Some(st) = state_of(scope) else { continue };
                    // Sociodemographics are kept apart from the answers (and only with their
                    // own consent): never in the answers table.
                    if let Some(q) = record.as_deref().and_then(|r| r.strip_prefix("sdoh.")) {
                        answered.push(format!("{}/{step} {}", st.flow, status.as_str()));
                        let value = match (status, value.as_deref()) {
                            (AnswerStatus::Answered, Some(v)) => crate::equity::from_flow(v),
                            (AnswerStatus::Skipped, _) => crate::equity::PREFER_NOT,
                            _ => continue,
                        };
                        if q == "consent" {
                            sdoh_consent.push((k, value == "yes"));
                        } else {
                            sdoh.push((k, q.to_owned(), value.to_owned()));
                        }
                        continue;
                    }
                    if record.as_deref() == Some("client.best_time") {
                        best_time.clone_from(value);
                    }
                    // A goal's rating is also the goal's, with where it came from.
                    if record.as_deref() == Some("goal.rating")
                        && let (Some(goal), Some(rating)) = (goal_of(scope), *score)
                    {
                        goal_ratings.push(vec![
                            i(goal),
                            s(client),
                            i(rating),
                            s("client"),
                            V::I(session_of(k, scope)),
                            s("client"),
                            i(now),
                        ]);
                    }
                    answered.push(format!("{}/{step} {}", st.flow, status.as_str()));
                    answers.push(vec![
                        s(client),
                        V::I(session_of(k, scope)),
                        s(st.flow.as_str()),
                        s(st.revision.as_str()),
                        s(step.as_str()),
                        os(record.clone()),
                        s(raw.as_str()),
                        os(value.clone()),
                        os(label.clone()),
                        V::I(*score),
                        s(status.as_str()),
                        s(st.locale.as_str()),
                        os(time_point_of(scope)),
                        V::I(l.session.as_ref().and_then(|a| a.prompt_message_id)),
                        V::I(inbound_of[k]),
                        i(now),
                    ]);
                }
                Event::SetField { key, value } => {
                    let source = state_of(scope).map_or_else(
                        || "system".to_owned(),
                        |st| format!("{}@{}", st.flow, st.revision),
                    );
                    changed.push(format!("field {key}"));
                    item_fields.retain(|f| f.0 != *key);
                    item_fields.push((key.clone(), value.clone(), source));
                }
                Event::Score {
                    instrument,
                    total,
                    category,
                    complete,
                    items: parts,
                } => {
                    let Some(st) = state_of(scope) else { continue };
                    scores.push(vec![
                        s(client),
                        V::I(session_of(k, scope)),
                        s(st.flow.as_str()),
                        s(st.revision.as_str()),
                        s(instrument.as_str()),
                        os(time_point_of(scope)),
                        V::I(*total),
                        os(category.clone()),
                        i(i64::from(*complete)),
                        s(serde_json::to_string(parts).unwrap_or_default()),
                        i(now),
                        V::I(referral_of(scope)),
                    ]);
                }
                Event::Flag {
                    kind,
                    urgency,
                    note,
                } => {
                    changed.push(format!("flag {kind}"));
                    let due = match urgency {
                        Urgency::Urgent => now,
                        Urgency::Normal => now + chrono::Duration::days(2).num_milliseconds(),
                    };
                    flags.push(vec![
                        s(client),
                        s(kind.as_str()),
                        s(urgency.as_str()),
                        os(note.clone()),
                        V::I(session_of(k, scope)),
                        i(due),
                        i(now),
                    ]);
                }
                Event::ScheduleTimeout { step, at } => {
                    timeout = Some((scope, Some((step.to_string(), to_ms(*at)))))
                }
                Event::CancelTimeout => timeout = Some((scope, None)),
                Event::SetLanguage { .. }
                | Event::Consent { .. }
                | Event::Send { .. }
                | Event::End { .. } => {}
            }
        }
        if let Some(f) = item_fields.iter().find(|f| f.0 == "referral.uptake") {
            let referral = l.session.as_ref().and_then(|a| a.referral).or(l.referral);
            uptakes.push((client, f.1.clone(), referral));
        }
        let language = it.effects.language.clone().or_else(|| {
            it.effects.events.iter().rev().find_map(|(_, e)| match e {
                Event::SetLanguage { locale } => Some(locale.clone()),
                _ => None,
            })
        });
        // The best time of day the client gave is also a column of the client: the scheduler
        // places every step inside it.
        if consent_now[k] != l.consent || language.is_some() || best_time.is_some() {
            client_updates.push(vec![
                s(client),
                s(consent_now[k]),
                os(language.map(String::from)),
                os(best_time),
            ]);
        }
        fields.extend(
            item_fields
                .into_iter()
                .map(|(key, value, source)| vec![s(client), s(key), s(value), s(source), i(now)]),
        );
        // An opt-out, by keyword, by the provider or by a "no" to the consent question, cancels
        // everything scheduled for the client.
        if it.effects.cancel_all_jobs || (consent_now[k] == "revoked" && l.consent != "revoked") {
            cancel_all.push(client);
            audit.push(vec![
                i(now),
                s("system"),
                s("jobs-cancelled"),
                s(client),
                s("opted out: every scheduled step and nudge cancelled"),
            ]);
        } else if let Some((scope, op)) = timeout {
            match (session_of(k, scope), op) {
                (Some(sid), Some((step, due))) => timeouts.push(vec![
                    s(client),
                    i(sid),
                    s("timeout"),
                    s(step),
                    i(due),
                    s("pending"),
                    i(now),
                    i(now),
                ]),
                (Some(sid), None) => cancels.push(sid),
                (None, _) => {}
            }
        }
        audit.extend(it.effects.audit.iter().map(|(action, detail, actor)| {
            vec![
                i(now),
                s(actor.as_str()),
                s(action.as_str()),
                s(client),
                s(detail.as_str()),
            ]
        }));
        let actor = match it.inbound {
            Some(_) => format!("client:{}", it.effects.channel),
            None => it
                .effects
                .audit
                .first()
                .map_or_else(|| "system".to_owned(), |a| a.2.clone()),
        };
        if !answered.is_empty() {
            audit.push(vec![
                i(now),
                s(actor.as_str()),
                s("answer"),
                s(client),
                s(answered.join(", ")),
            ]);
        }
        if !changed.is_empty() {
            audit.push(vec![
                i(now),
                s(actor.as_str()),
                s("record-change"),
                s(client),
                s(changed.join(", ")),
            ]);
        }
    }
    for (k, granted, source, _, actor) in consent_rows {
        let client = items[*k].loaded.client.as_str();
        audit.push(vec![
            i(now),
            s(actor.as_str()),
            s(if *granted {
                "consent-granted"
            } else {
                "consent-revoked"
            }),
            s(client),
            s(source.as_str()),
        ]);
    }

    let answer_cols = [
        "client_id",
        "session_id",
        "flow_id",
        "revision",
        "step_id",
        "record_key",
        "raw_text",
        "value",
        "label",
        "score",
        "status",
        "locale",
        "time_point",
        "prompt_message_id",
        "inbound_message_id",
        "at",
    ];
    insert_rows(tx, b, "answers", &answer_cols, answers, "recording answers").await?;
    if !fields.is_empty() {
        let cols = ["client_id", "key", "value", "source", "updated_at"];
        let upsert = "ON CONFLICT (client_id, key) DO UPDATE SET value = excluded.value, source = excluded.source, updated_at = excluded.updated_at";
        let sql = insert_sql(b, "fields", &cols, fields.len(), upsert);
        bind_all(sqlx::query(&sql), fields.into_iter().flatten().collect())
            .execute(&mut **tx)
            .await
            .doing("setting record fields")?;
    }
    let score_cols = [
        "client_id",
        "session_id",
        "flow_id",
        "revision",
        "instrument",
        "time_point",
        "total",
        "category",
        "complete",
        "items",
        "at",
        "referral_id",
    ];
    insert_rows(tx, b, "scores", &score_cols, scores, "recording scores").await?;
    super::equity_rows::write(tx, now, items, &sdoh_consent, &sdoh).await?;
    insert_rows(
        tx,
        b,
        "goal_ratings",
        &[
            "goal_id",
            "client_id",
            "rating",
            "source",
            "session_id",
            "actor",
            "at",
        ],
        goal_ratings,
        "rating goals",
    )
    .await?;
    insert_rows(
        tx,
        b,
        "flags",
        &[
            "client_id",
            "kind",
            "urgency",
            "note",
            "session_id",
            "due_at",
            "created_at",
        ],
        flags,
        "raising flags",
    )
    .await?;
    let consent_vals = consent_rows
        .iter()
        .map(|(k, g, src, w, a)| {
            let it = &items[*k];
            vec![
                s(it.loaded.client.as_str()),
                s(it.effects.channel.as_str()),
                s(if *g { "granted" } else { "revoked" }),
                s(src.as_str()),
                s(w.as_str()),
                s(a.as_str()),
                i(now),
            ]
        })
        .collect();
    insert_rows(
        tx,
        b,
        "consent_events",
        &[
            "client_id",
            "channel",
            "change",
            "source",
            "wording",
            "actor",
            "at",
        ],
        consent_vals,
        "writing the consent ledger",
    )
    .await?;
    if !client_updates.is_empty() {
        let (source, vals) = rows_source(b, client_updates.into_iter().flatten().collect(), 4);
        let sql = format!(
            "UPDATE clients SET consent = v.column2, language = COALESCE(v.column3, language), \
                    best_time = COALESCE(v.column4, best_time), updated_at = {now} \
             FROM {source} AS v WHERE clients.id = v.column1"
        );
        bind_all(sqlx::query(&sql), vals)
            .execute(&mut **tx)
            .await
            .doing("updating clients")?;
    }
    // The referral's uptake is also a column of the referral itself, with its history: the
    // referral the session follows up, else the client's open one.
    let mut changed_uptakes = Vec::new();
    for (client, uptake, referral) in uptakes {
        let referral = match referral {
            Some(r) => Some(r),
            None => sqlx::query_scalar(
                "SELECT MAX(id) FROM referrals WHERE client_id = $1 AND closed_at IS NULL",
            )
            .bind(client)
            .fetch_one(&mut **tx)
            .await
            .doing("finding a referral")?,
        };
        let Some(referral) = referral else { continue };
        let n = sqlx::query(
            "UPDATE referrals SET uptake = $1 WHERE id = $2 AND closed_at IS NULL AND uptake <> $1",
        )
        .bind(&uptake)
        .bind(referral)
        .execute(&mut **tx)
        .await
        .doing("recording a referral's uptake")?
        .rows_affected();
        if n > 0 {
            crate::store::uptake::record(tx, referral, &uptake, "client", now).await?;
            changed_uptakes.push((client.to_owned(), uptake, referral));
        }
    }
    // STOP cancels every job of the client not yet run; an answer, the timeout of its question.
    if !cancel_all.is_empty() {
        let ids: Vec<V> = cancel_all.iter().map(|c| s(*c)).collect();
        let sql = format!(
            "UPDATE enrolments SET status = 'cancelled', ended_at = {now}, end_reason = 'opted out', updated_at = {now} \
             WHERE status IN ('active', 'paused') AND client_id IN ({})",
            list(b, ids.len())
        );
        bind_all(sqlx::query(&sql), ids)
            .execute(&mut **tx)
            .await
            .doing("ending enrolments")?;
    }
    let cancel_sets = [
        (
            "client_id",
            "",
            cancel_all.into_iter().map(s).collect::<Vec<_>>(),
        ),
        (
            "session_id",
            "AND kind = 'timeout'",
            cancels.into_iter().map(i).collect(),
        ),
    ];
    for (column, and, ids) in cancel_sets {
        if ids.is_empty() {
            continue;
        }
        let why = if column == "client_id" {
            "opted out"
        } else {
            "answered"
        };
        let sql = format!(
            "UPDATE jobs SET status = 'cancelled', note = '{why}', updated_at = {now} \
             WHERE status IN ('pending', 'blocked', 'paused') {and} AND {column} IN ({})",
            list(b, ids.len())
        );
        bind_all(sqlx::query(&sql), ids)
            .execute(&mut **tx)
            .await
            .doing("cancelling jobs")?;
    }
    if !timeouts.is_empty() {
        let cols = [
            "client_id",
            "session_id",
            "kind",
            "step_id",
            "due_at",
            "status",
            "created_at",
            "updated_at",
        ];
        let upsert = "ON CONFLICT (session_id, kind) DO UPDATE SET step_id = excluded.step_id, due_at = excluded.due_at, \
                      status = 'pending', updated_at = excluded.updated_at";
        let sql = insert_sql(b, "jobs", &cols, timeouts.len(), upsert);
        bind_all(sqlx::query(&sql), timeouts.into_iter().flatten().collect())
            .execute(&mut **tx)
            .await
            .doing("scheduling timeouts")?;
    }
    insert_rows(
        tx,
        b,
        "audit_log",
        &["at", "actor", "action", "client_id", "detail"],
        audit,
        "writing the audit log",
    )
    .await?;
    Ok(changed_uptakes)
}
