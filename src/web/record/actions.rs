//! What a navigator does from the record: enrol, pause, resume, cancel, reschedule, start a flow,
//! record the referral, send a message, invite, set the number, assign, erase. Each is an
//! audited library function the command line uses too.

use super::{TIME_POINTS, invite_page};
use crate::domain::{ClientId, FlowId};
use crate::runner::{IfBusy, Runner};
use crate::schedule::actions::{self, ActionError};
use crate::store::record::audit;
use crate::store::{Db, Doing, StoreError};
use crate::web::AppState;
use crate::web::page::{access, error_page, now, page_ctx, require_admin, said};
use crate::web::ui::{Form, message_page};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;
use sqlx::Row;

#[derive(Debug, Deserialize, Default)]
pub(super) struct ActionForm {
    #[serde(default)]
    sequence: String,
    #[serde(default)]
    flow: String,
    #[serde(default)]
    time_point: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    navigator: String,
    #[serde(default)]
    referred_by: String,
    #[serde(default)]
    rx_type: String,
    #[serde(default)]
    program: String,
    #[serde(default)]
    support_level: String,
    #[serde(default)]
    uptake: String,
    #[serde(default)]
    phone: String,
}

pub(super) async fn client_action(
    State(st): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    Form(a, f): Form<ActionForm>,
) -> Response {
    let meta = match access(&st, &a, &id).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Ok(client) = ClientId::parse(&id) else {
        return message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found");
    };
    let actor = a.staff.actor();
    let back = format!("/clients/{id}");
    let r: Result<String, String> = match action.as_str() {
        "enrol" => actions::enrol(&st.runner, &client, &f.sequence, &actor)
            .await
            .map(|_| "done".into())
            .map_err(|e| said(&e)),
        "pause" => actions::pause(&st.runner, &client, &actor)
            .await
            .map(|_| "done".into())
            .map_err(|e| said(&e)),
        "resume" => actions::resume(&st.runner, &client, &actor)
            .await
            .map(|_| "done".into())
            .map_err(|e| said(&e)),
        "cancel" => actions::cancel(&st.runner, &client, &f.reason, &actor)
            .await
            .map(|_| "done".into())
            .map_err(|e| said(&e)),
        "close-referral" => actions::close_referral(&st.runner, &client, f.reason.trim(), &actor)
            .await
            .map(|_| "done".into())
            .map_err(|e| said(&e)),
        "reschedule" => {
            match chrono::NaiveDateTime::parse_from_str(f.at.trim(), "%Y-%m-%dT%H:%M") {
                Ok(at) => actions::reschedule(&st.runner, &client, f.step.trim(), at, &actor)
                    .await
                    .map(|_| "done".into())
                    .map_err(|e: ActionError| said(&e)),
                Err(_) => Err(format!(
                    "{:?} is not a date and time like 2026-12-01T10:00",
                    f.at
                )),
            }
        }
        "start-flow" => match FlowId::parse(f.flow.trim()) {
            Ok(flow) if st.runner.flows.get(&flow).is_some() => {
                let tp = Some(f.time_point.trim()).filter(|t| TIME_POINTS.contains(t));
                st.runner
                    .start_flow(&client, &flow, tp, IfBusy::Replace, &actor)
                    .await
                    .map(|_| "done".into())
                    .map_err(|e| said(&e))
            }
            _ => Err(format!("no flow {:?}", f.flow)),
        },
        "referral" => {
            let u = ReferralUpdate {
                referred_by: Some(f.referred_by.clone()),
                rx_type: Some(f.rx_type.clone()),
                program: Some(f.program.clone()),
                support_level: Some(f.support_level.clone()).filter(|l| !l.is_empty()),
                uptake: f.uptake.clone(),
            };
            update_referral(&st.runner.db, &client, &u, &actor, now(&st))
                .await
                .map(|_| "done".into())
                .map_err(|e| said(&e))
        }
        "message" => send_message(&st.runner, &client, &f.body, &actor)
            .await
            .map(|_| "sent".into())
            .map_err(|e| said(&e)),
        "phone" => actions::set_phone(&st.runner, &client, &f.phone, &actor)
            .await
            .map(|_| "done".into())
            .map_err(|e| said(&e)),
        // Consent given already: asked first, so the client is not asked again by mistake.
        "invite" if f.channel == "sms" && meta.consent == "granted" && f.confirm != "yes" => {
            let mut r = st.ui.render(
                "confirm.html",
                page_ctx(
                    &a,
                    context! {
                        heading => st.ui.text.get(a.lang, "consent-already", None),
                        action => format!("/clients/{id}/invite"),
                        fields => vec![("channel", "sms")],
                        yes => st.ui.text.get(a.lang, "consent-send-again", None),
                        back => back,
                    },
                ),
            );
            *r.status_mut() = StatusCode::OK;
            return r;
        }
        "invite" => match f.channel.as_str() {
            "sms" => match FlowId::parse("consent") {
                Ok(flow) => st
                    .runner
                    .start_flow(&client, &flow, None, IfBusy::Refuse, &actor)
                    .await
                    .map(|_| "sent".into())
                    .map_err(|e| said(&e)),
                Err(e) => Err(e.to_string()),
            },
            "telegram" => {
                if st.telegram_bot.is_none() {
                    Err(st.ui.text.get(a.lang, "telegram-off", None))
                } else {
                    match crate::channel::telegram::invite::create(
                        &st.runner.db,
                        &client,
                        st.telegram_invite_hours,
                        now(&st),
                        &actor,
                    )
                    .await
                    {
                        Ok(inv) => {
                            let bot = st.telegram_bot.as_deref().unwrap_or_default();
                            return invite_page(&st, &a, &id, bot, &inv);
                        }
                        Err(e) => Err(said(&e)),
                    }
                }
            }
            _ => Err("choose SMS or Telegram".into()),
        },
        "assign" => {
            if let Err(r) = require_admin(&st, &a) {
                return r;
            }
            crate::web::clients::set_profile(
                &st.runner.db,
                &client,
                meta.name.as_deref(),
                f.navigator.parse().ok(),
                &actor,
                now(&st),
            )
            .await
            .map(|()| "done".into())
            .map_err(|e| said(&e))
        }
        "erase" => {
            if let Err(r) = require_admin(&st, &a) {
                return r;
            }
            if f.confirm.trim() != id {
                Err(st.ui.text.get(a.lang, "erase-confirm", None))
            } else {
                match erase_client(&st.runner.db, &client, &actor, now(&st)).await {
                    Ok(_) => return Redirect::to("/clients?done=erased").into_response(),
                    Err(e) => Err(said(&e)),
                }
            }
        }
        _ => return message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found"),
    };
    match r {
        Ok(done) => Redirect::to(&format!("{back}?done={done}")).into_response(),
        Err(e) => error_page(&st, &a, StatusCode::UNPROCESSABLE_ENTITY, &e, &back),
    }
}

/// Queues a navigator's own message to a client on their channel (SMS first, then Telegram,
/// else the simulator). Refused after an opt-out. Returns the message id.
pub async fn send_message(
    runner: &Runner,
    client: &ClientId,
    body: &str,
    actor: &str,
) -> Result<i64, ActionError> {
    let body = body.trim();
    if body.is_empty() {
        return Err(ActionError::Invalid("the message is empty".into()));
    }
    if body.chars().count() > 1000 {
        return Err(ActionError::Invalid(
            "the message is longer than 1000 characters".into(),
        ));
    }
    let now = crate::clock::to_ms(runner.clock.now());
    let db = &runner.db;
    let consent: Option<String> = sqlx::query_scalar("SELECT consent FROM clients WHERE id = $1")
        .bind(client.as_str())
        .fetch_optional(db.pool())
        .await
        .doing("sending a navigator's message")?;
    match consent.as_deref() {
        None => return Err(ActionError::UnknownClient(client.clone())),
        Some("revoked") => {
            return Err(ActionError::Invalid(format!(
                "{client} has opted out: nothing can be sent until they opt back in"
            )));
        }
        _ => {}
    }
    let channel = sqlx::query(
        "SELECT channel, address FROM channel_addresses WHERE client_id = $1 \
         ORDER BY CASE channel WHEN 'sms' THEN 0 WHEN 'telegram' THEN 1 ELSE 2 END LIMIT 1",
    )
    .bind(client.as_str())
    .fetch_optional(db.pool())
    .await
    .doing("sending a navigator's message")?
    .ok_or_else(|| ActionError::Invalid(format!("{client} has no channel to message")))?;
    let ch: String = channel.try_get(0).doing("sending a navigator's message")?;
    let address: String = channel.try_get(1).doing("sending a navigator's message")?;
    let cost = crate::sms::cost(body);
    // The simulator has nobody to deliver to: it is delivered as soon as it is written.
    let status = if ch == "simulator" {
        "delivered"
    } else {
        "queued"
    };
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO messages (client_id, direction, channel, address, body, message_key, priority, status, encoding, segments, created_at, updated_at) \
         VALUES ($1, 'out', $2, $3, $4, 'navigator-message', 0, $5, $6, $7, $8, $8) RETURNING id",
    )
    .bind(client.as_str())
    .bind(&ch)
    .bind(&address)
    .bind(body)
    .bind(status)
    .bind(cost.encoding.to_string())
    .bind(i64::try_from(cost.segments).unwrap_or(i64::MAX))
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .doing("sending a navigator's message")?;
    audit(
        &mut tx,
        now,
        actor,
        "message-send",
        Some(client),
        &format!("message {id} on {ch}, {} segment(s)", cost.segments),
    )
    .await?;
    tx.commit().await.doing("sending a navigator's message")?;
    Ok(id)
}

/// Erases a client and everything recorded about them. The audit log keeps a tombstone: who
/// erased which client id, when, and how many rows went.
pub async fn erase_client(
    db: &Db,
    client: &ClientId,
    actor: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let mut gone = 0u64;
    for sql in [
        "DELETE FROM delivery_events WHERE EXISTS (SELECT 1 FROM messages m WHERE m.client_id = $1 AND m.channel = delivery_events.channel AND m.provider_id = delivery_events.provider_id)",
        "DELETE FROM telegram_invites WHERE client_id = $1",
        "DELETE FROM jobs WHERE client_id = $1",
        "DELETE FROM enrolments WHERE client_id = $1",
        "DELETE FROM messages WHERE client_id = $1",
        "DELETE FROM answers WHERE client_id = $1",
        "DELETE FROM scores WHERE client_id = $1",
        "DELETE FROM flags WHERE client_id = $1",
        "DELETE FROM fields WHERE client_id = $1",
        "DELETE FROM sessions WHERE client_id = $1",
        "DELETE FROM referrals WHERE client_id = $1",
        "DELETE FROM consent_events WHERE client_id = $1",
        "DELETE FROM channel_addresses WHERE client_id = $1",
    ] {
        gone += sqlx::query(sql)
            .bind(client.as_str())
            .execute(&mut *tx)
            .await
            .doing("erasing a client")?
            .rows_affected();
    }
    let n = sqlx::query("DELETE FROM clients WHERE id = $1")
        .bind(client.as_str())
        .execute(&mut *tx)
        .await
        .doing("erasing a client")?
        .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    audit(
        &mut tx,
        now,
        actor,
        "client-erase",
        Some(client),
        &format!("tombstone: client erased with {gone} related rows"),
    )
    .await?;
    tx.commit().await.doing("committing an erasure")?;
    Ok(true)
}

/// Levels of support (the guidebook's) and uptake values a referral may take.
pub const SUPPORT_LEVELS: [&str; 4] = ["signposting", "light", "medium", "holistic"];
pub const UPTAKES: [&str; 4] = ["not-yet", "attended", "declined", "dropped-out"];

/// What a navigator records about the open referral (or a new one when there is none).
#[derive(Debug, Clone, Default)]
pub struct ReferralUpdate {
    pub referred_by: Option<String>,
    pub rx_type: Option<String>,
    pub program: Option<String>,
    pub support_level: Option<String>,
    pub uptake: String,
}

pub async fn update_referral(
    db: &Db,
    client: &ClientId,
    u: &ReferralUpdate,
    actor: &str,
    now: i64,
) -> Result<i64, ActionError> {
    if let Some(l) = &u.support_level
        && !SUPPORT_LEVELS.contains(&l.as_str())
    {
        return Err(ActionError::Invalid(format!(
            "level of support {l:?} is not one of {}",
            SUPPORT_LEVELS.join(", ")
        )));
    }
    if !UPTAKES.contains(&u.uptake.as_str()) {
        return Err(ActionError::Invalid(format!(
            "uptake {:?} is not one of {}",
            u.uptake,
            UPTAKES.join(", ")
        )));
    }
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let mut tx = db.begin().await?;
    let open: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM referrals WHERE client_id = $1 AND closed_at IS NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(client.as_str())
    .fetch_optional(&mut *tx)
    .await
    .doing("recording a referral")?;
    let id = match open {
        Some(id) => {
            sqlx::query(
                "UPDATE referrals SET referred_by = $1, rx_type = $2, program = $3, support_level = $4, uptake = $5 WHERE id = $6",
            )
            .bind(clean(&u.referred_by))
            .bind(clean(&u.rx_type))
            .bind(clean(&u.program))
            .bind(clean(&u.support_level))
            .bind(&u.uptake)
            .bind(id)
            .execute(&mut *tx)
            .await
            .doing("recording a referral")?;
            id
        }
        None => sqlx::query_scalar(
            "INSERT INTO referrals (client_id, referred_at, referred_by, rx_type, program, support_level, uptake, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $2) RETURNING id",
        )
        .bind(client.as_str())
        .bind(now)
        .bind(clean(&u.referred_by))
        .bind(clean(&u.rx_type))
        .bind(clean(&u.program))
        .bind(clean(&u.support_level))
        .bind(&u.uptake)
        .fetch_one(&mut *tx)
        .await
        .doing("recording a referral")?,
    };
    audit(
        &mut tx,
        now,
        actor,
        "referral-update",
        Some(client),
        &format!("referral {id}: uptake {}", u.uptake),
    )
    .await?;
    tx.commit().await.doing("recording a referral")?;
    Ok(id)
}
