//! Writing the effects of a batch of inputs inside one transaction: sessions, the outbox, the
//! record (answers, fields, scores, flags, consent) and the audit log. Each kind of row is one
//! statement for the whole batch, so the cost of a commit is shared by every input in it (group
//! commit). Nothing here sends: messages are queued and leave after the commit.

use super::effects::{Item, Scope};
use super::record_rows::{ConsentRow, Sessions};
use super::{Inbound, Outbound, Runner};
use crate::clock::to_ms;
use crate::flow::engine::{Event, Session};
use crate::sms;
use crate::store::sql::{V, bind_all, i, insert_returning_ids, os, rows_source, s};
use crate::store::{Doing, StoreError, Tx};
use std::collections::HashMap;

/// Why a message to a client with no channel was not sent.
const NOT_REACHABLE: &str = "not sent: the client has no phone number or Telegram chat yet";

/// What `write` found.
pub enum Written {
    /// The replies queued for each item, in the order of the items.
    Done(Vec<Vec<Outbound>>),
    /// A session changed under us (another process): roll back and plan again.
    Conflict,
}

struct Send<'a> {
    item: usize,
    scope: Scope,
    key: &'a str,
    text: &'a str,
    prompt: bool,
}

/// Writes every item's effects. The caller owns the transaction.
#[allow(clippy::too_many_lines)] // one pass per table, in the order the rows depend on each other
pub async fn write(
    tx: &mut Tx,
    runner: &Runner,
    items: &[Item<'_>],
) -> Result<Written, StoreError> {
    let now = to_ms(runner.clock.now());
    let b = runner.db.backend();

    // The messages that came in.
    let with_inbound: Vec<(usize, &Inbound)> = items
        .iter()
        .enumerate()
        .filter_map(|(k, it)| it.inbound.map(|m| (k, m)))
        .collect();
    let inbound_rows = with_inbound
        .iter()
        .map(|(k, m)| {
            let l = items[*k].loaded;
            vec![
                s(l.client.as_str()),
                s("in"),
                s(m.channel.as_str()),
                os(m.address.clone()),
                os(m.provider_id.clone()),
                s(m.text.as_str()),
                V::I(l.session.as_ref().map(|a| a.id)),
                s("received"),
                i(now),
                i(now),
            ]
        })
        .collect();
    let cols = [
        "client_id",
        "direction",
        "channel",
        "address",
        "provider_id",
        "body",
        "session_id",
        "status",
        "created_at",
        "updated_at",
    ];
    let inbound_ids = match insert_returning_ids(
        tx,
        b,
        "messages",
        &cols,
        inbound_rows,
        "recording inbound messages",
    )
    .await
    {
        Err(StoreError::Query {
            source: sqlx::Error::Database(e),
            ..
        }) if e.is_unique_violation() => return Ok(Written::Conflict),
        other => other?,
    };
    let mut inbound_of = vec![None; items.len()];
    for ((k, _), id) in with_inbound.iter().zip(&inbound_ids) {
        inbound_of[*k] = Some(*id);
    }

    // Consent after each input: a keyword, or the consent question of a flow.
    let mut consent_rows: Vec<ConsentRow> = Vec::new();
    let mut consent_now = Vec::with_capacity(items.len());
    let mut suppress = Vec::with_capacity(items.len());
    for (k, it) in items.iter().enumerate() {
        let mut last = None;
        if let Some((granted, source, wording, actor)) = &it.effects.consent {
            consent_rows.push((k, *granted, source.clone(), wording.clone(), actor.clone()));
            last = Some(*granted);
        }
        for (_, e) in &it.effects.events {
            if let Event::Consent { granted, wording } = e {
                consent_rows.push((
                    k,
                    *granted,
                    "consent-flow".into(),
                    wording.clone(),
                    "client".into(),
                ));
                last = Some(*granted);
            }
        }
        let now_state = last.map_or(it.loaded.consent.as_str(), |g| {
            if g { "granted" } else { "revoked" }
        });
        // A client who had opted out before this input gets nothing. The input that opts them
        // out (STOP, a "no" to the consent question) still gets its one confirmation.
        suppress.push(it.loaded.consent == "revoked" && now_state == "revoked");
        consent_now.push(now_state);
    }

    // Running sessions: state first, with the version read at the start (optimistic locking).
    let updates: Vec<(usize, &Session)> = items
        .iter()
        .enumerate()
        .filter_map(|(k, it)| it.effects.session_update.as_ref().map(|st| (k, st)))
        .collect();
    if !updates.is_empty() {
        let mut vals = Vec::new();
        for (k, st) in &updates {
            let active = items[*k].loaded.session.as_ref().ok_or_else(|| {
                StoreError::Corrupt("update of a session that is not running".into())
            })?;
            let json = serde_json::to_string(st).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            vals.extend([
                i(active.id),
                i(active.version),
                s(json),
                s(st.ended.as_deref().unwrap_or("active")),
                V::I(st.ended.as_ref().map(|_| now)),
            ]);
        }
        let (source, vals) = rows_source(b, vals, 5);
        let sql = format!(
            "UPDATE sessions SET state = v.column3, status = v.column4, version = version + 1, updated_at = {now}, ended_at = v.column5 \
             FROM {source} AS v WHERE sessions.id = v.column1 AND sessions.version = v.column2"
        );
        let changed = bind_all(sqlx::query(&sql), vals)
            .execute(&mut **tx)
            .await
            .doing("updating sessions")?;
        if changed.rows_affected() != updates.len() as u64 {
            return Ok(Written::Conflict);
        }
    }

    // Sessions this batch starts.
    let starts: Vec<(usize, &Session, &Option<String>)> = items
        .iter()
        .enumerate()
        .filter_map(|(k, it)| it.effects.new_session.as_ref().map(|(st, tp)| (k, st, tp)))
        .collect();
    let mut new_id = vec![None; items.len()];
    if !starts.is_empty() {
        let mut rows = Vec::new();
        for (k, st, tp) in &starts {
            let json = serde_json::to_string(st).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            rows.push(vec![
                s(items[*k].loaded.client.as_str()),
                s(st.flow.as_str()),
                s(st.revision.as_str()),
                s(json),
                s(st.ended.as_deref().unwrap_or("active")),
                os((*tp).clone()),
                i(now),
                i(now),
                V::I(st.ended.as_ref().map(|_| now)),
                V::I(items[*k].effects.referral),
                V::I(items[*k].effects.goal),
            ]);
        }
        let cols = [
            "client_id",
            "flow_id",
            "revision",
            "state",
            "status",
            "time_point",
            "started_at",
            "updated_at",
            "ended_at",
            "referral_id",
            "goal_id",
        ];
        let ids =
            match insert_returning_ids(tx, b, "sessions", &cols, rows, "starting sessions").await {
                // Another input started a session for this client first.
                Err(StoreError::Query {
                    source: sqlx::Error::Database(e),
                    ..
                }) if e.is_unique_violation() => return Ok(Written::Conflict),
                other => other?,
            };
        for ((k, _, _), id) in starts.iter().zip(ids) {
            new_id[*k] = Some(id);
        }
    }
    let sessions = Sessions {
        items,
        new_id: &new_id,
    };
    let session_of = |k: usize, scope: Scope| sessions.of(k, scope);

    // The outbox.
    let sends: Vec<Send<'_>> = items
        .iter()
        .enumerate()
        .flat_map(|(k, it)| {
            it.effects
                .events
                .iter()
                .filter_map(move |(scope, e)| match e {
                    Event::Send { key, text, prompt } => Some(Send {
                        item: k,
                        scope: *scope,
                        key,
                        text,
                        prompt: *prompt,
                    }),
                    _ => None,
                })
        })
        .collect();
    // A client with no channel yet gets nothing: their messages are failed, with the reason.
    let unreachable = |k: usize| items[k].effects.channel == super::NO_CHANNEL;
    // The same text over and over to one client is a loop: held back.
    let loops = super::guard::looping(
        tx,
        b,
        now,
        &sends
            .iter()
            .map(|m| (items[m.item].loaded.client.as_str(), m.key, m.text))
            .collect::<Vec<_>>(),
    )
    .await?;
    let held = |k: usize| loops.get(k).copied().unwrap_or(false);
    // Channels with buttons (Telegram) get a question's answers as buttons too.
    let buttons: Vec<Option<String>> = sends
        .iter()
        .map(|m| {
            let it = &items[m.item];
            if !m.prompt || it.effects.channel != "telegram" {
                return None;
            }
            let state = match m.scope {
                Scope::New => it.effects.new_session.as_ref().map(|(st, _)| st),
                _ => it.effects.session_update.as_ref().or(it
                    .loaded
                    .session
                    .as_ref()
                    .map(|a| &a.state)),
            }?;
            let b = buttons_of(runner, it.loaded, state)?;
            serde_json::to_string(&b).ok()
        })
        .collect();
    let rows = sends
        .iter()
        .zip(&buttons)
        .enumerate()
        .map(|(k, (m, buttons))| {
            let cost = sms::cost(m.text);
            let (status, error, code) = if suppress[m.item] {
                ("suppressed", None, None)
            } else if unreachable(m.item) {
                ("failed", Some(NOT_REACHABLE), None)
            } else if held(k) {
                (
                    "failed",
                    Some(super::guard::REASON),
                    Some(super::guard::CODE),
                )
            } else if items[m.item].effects.channel == "simulator" {
                // The simulator has nobody to deliver to: its texts are delivered as written,
                // whether a turn of the simulator or a nudge the scheduler sends a test client.
                ("delivered", None, None)
            } else {
                ("queued", None, None)
            };
            vec![
                s(items[m.item].loaded.client.as_str()),
                s("out"),
                s(items[m.item].effects.channel.as_str()),
                os(items[m.item].effects.address.clone()),
                s(m.text),
                s(m.key),
                V::I(session_of(m.item, m.scope)),
                // A reply to a client goes ahead of bulk (nudges, scheduled flows).
                i(if items[m.item].inbound.is_some() {
                    0
                } else {
                    1
                }),
                s(status),
                s(cost.encoding.to_string()),
                i(i64::try_from(cost.segments).unwrap_or(i64::MAX)),
                os(buttons.clone()),
                os(error),
                os(code),
                i(now),
                i(now),
            ]
        })
        .collect();
    let cols = [
        "client_id",
        "direction",
        "channel",
        "address",
        "body",
        "message_key",
        "session_id",
        "priority",
        "status",
        "encoding",
        "segments",
        "buttons",
        "error",
        "error_code",
        "created_at",
        "updated_at",
    ];
    let ids = insert_returning_ids(tx, b, "messages", &cols, rows, "queueing messages").await?;
    let looped: Vec<&str> = sends
        .iter()
        .enumerate()
        .filter(|(k, _)| held(*k))
        .map(|(_, m)| items[m.item].loaded.client.as_str())
        .collect();
    super::guard::flag(tx, b, now, &looped).await?;
    let mut replies = vec![Vec::new(); items.len()];
    let mut prompts: HashMap<i64, i64> = HashMap::new();
    for (k, (m, id)) in sends.iter().zip(&ids).enumerate() {
        if m.prompt
            && let Some(sid) = session_of(m.item, m.scope)
        {
            prompts.insert(sid, *id);
        }
        if !suppress[m.item] && !unreachable(m.item) && !held(k) {
            replies[m.item].push(Outbound {
                id: *id,
                key: m.key.to_owned(),
                text: m.text.to_owned(),
            });
        }
    }
    if !prompts.is_empty() {
        let vals = prompts
            .iter()
            .flat_map(|(sid, mid)| [i(*sid), i(*mid)])
            .collect();
        let (source, vals) = rows_source(b, vals, 2);
        let sql = format!(
            "UPDATE sessions SET prompt_message_id = v.column2 FROM {source} AS v WHERE sessions.id = v.column1"
        );
        bind_all(sqlx::query(&sql), vals)
            .execute(&mut **tx)
            .await
            .doing("pointing sessions at their questions")?;
    }

    // Scheduled jobs: before the record, whose timeouts may put a finished job back.
    if !super::job_rows::write(tx, b, now, &sessions).await? {
        return Ok(Written::Conflict);
    }

    // The record.
    let uptakes = super::record_rows::write(
        tx,
        b,
        now,
        &sessions,
        &inbound_of,
        &consent_rows,
        &consent_now,
    )
    .await?;
    // A client who will not go, or stopped going, is not asked about the program again.
    for (client, uptake, referral) in uptakes {
        crate::schedule::stop_for_uptake(tx, b, &runner.sequences, &client, &uptake, now).await?;
        crate::summaries::write(tx, &runner.catalog, referral, "uptake", now, "client").await?;
    }
    // A text outside any flow opens a conversation with the navigator; one during it adds to it.
    for it in items {
        if let Some(actor) = &it.effects.close_conversation
            && crate::runner::conversation::close_in(tx, it.loaded.client.as_str(), actor, now)
                .await?
        {
            crate::store::record::audit(
                tx,
                now,
                actor,
                "conversation-closed",
                Some(&it.loaded.client),
                "a flow was started: the conversation hands back to the bot",
            )
            .await?;
        }
        if let Some(op) = it.effects.conversation {
            crate::runner::conversation::client_wrote(tx, &it.loaded.client, op, now).await?;
        }
    }
    Ok(Written::Done(replies))
}

/// The buttons of the question `state` waits on, if it has a short list of answers.
fn buttons_of(
    runner: &Runner,
    loaded: &super::Loaded,
    state: &crate::flow::engine::Session,
) -> Option<crate::domain::Buttons> {
    let step = state.awaiting.as_ref()?;
    let flow = runner.flows.revision(&state.flow, &state.revision)?;
    let crate::flow::def::StepKind::Ask(ask) = &flow.step(step)?.kind else {
        return None;
    };
    let vars = runner.vars(loaded);
    let labels: Vec<String> =
        crate::flow::matching::choices(ask, &runner.catalog, &state.locale, &vars)
            .into_iter()
            .map(|m| m.label)
            .collect();
    (!labels.is_empty()).then(|| crate::domain::Buttons {
        step: step.to_string(),
        labels,
    })
}
