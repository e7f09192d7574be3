//! What a navigator does from the record: enrol, pause, resume, cancel, reschedule, start a flow,
//! record the referral, send a message, invite, set the number, assign, erase. Each is an
//! audited library function the command line uses too.

use super::invite_page;
use super::scores::TIME_POINTS;
use crate::domain::FlowId;
use crate::enrolment::actions::{self, ActionError};
use crate::runner::IfBusy;
use crate::runner::casework::{ReferralUpdate, erase_client, send_message};
use crate::web::AppState;
use crate::web::page::{Done, error_page, now, open_client, page_ctx, require_admin, said};
use crate::web::ui::{Form, message_page};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

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
    /// A program of the catalogue; empty: "other", the free text in `program`.
    #[serde(default)]
    program_code: String,
    #[serde(default)]
    support_level: String,
    #[serde(default)]
    uptake: String,
    /// The referral's reasons (checkboxes); `reasons_shown`: the form had them.
    #[serde(default)]
    reasons: Vec<String>,
    #[serde(default)]
    reasons_shown: String,
    /// The client agrees to reminders before sessions; `reminders_shown`: the form asked.
    #[serde(default)]
    reminders: String,
    #[serde(default)]
    reminders_shown: String,
    /// The referral an enrolment follows up (when the client has more than one open).
    #[serde(default)]
    pub(super) referral: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    best_time: String,
    /// A note's kind (call, visit…), its date (YYYY-MM-DD) and its words.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    note: String,
    /// A referrer summary to send after review.
    #[serde(default)]
    summary: String,
    /// A goal: which one, its words, steps and target date, a 0–10 rating, how it closes.
    #[serde(default)]
    pub(super) goal: String,
    #[serde(default)]
    pub(super) goal_text: String,
    #[serde(default)]
    pub(super) goal_steps: String,
    #[serde(default)]
    pub(super) target_on: String,
    #[serde(default)]
    pub(super) rating: String,
    #[serde(default)]
    pub(super) how: String,
}

pub(super) async fn client_action(
    State(st): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    Form(a, f): Form<ActionForm>,
) -> Response {
    let (client, meta) = match open_client(&st, &a, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let actor = a.staff.actor();
    let back = format!("/clients/{id}");
    // Ok: the notice's key and the code it names.
    let r: Result<(&str, Option<String>), String> = match action.as_str() {
        "enrol" => actions::enrol_for(
            &st.runner,
            &client,
            &f.sequence,
            f.referral.trim().parse().ok(),
            &actor,
        )
        .await
        .map(|e| ("enrolled", Some(e.sequence)))
        .map_err(|e| said(&e)),
        "pause" => actions::pause(&st.runner, &client, &actor)
            .await
            .map(|_| ("paused", None))
            .map_err(|e| said(&e)),
        "resume" => actions::resume(&st.runner, &client, &actor)
            .await
            .map(|_| ("resumed", None))
            .map_err(|e| said(&e)),
        "cancel" => actions::cancel(&st.runner, &client, &f.reason, &actor)
            .await
            .map(|_| ("cancelled", None))
            .map_err(|e| said(&e)),
        "close-referral" => actions::close_referral(&st.runner, &client, f.reason.trim(), &actor)
            .await
            .map(|_| ("referral-closed", None))
            .map_err(|e| said(&e)),
        "reschedule" => {
            match chrono::NaiveDateTime::parse_from_str(f.at.trim(), "%Y-%m-%dT%H:%M") {
                Ok(at) => actions::reschedule(&st.runner, &client, f.step.trim(), at, &actor)
                    .await
                    .map(|_| ("rescheduled", None))
                    .map_err(|e: ActionError| said(&e)),
                Err(_) => Err(format!(
                    "{:?} is not a date and time like 2026-12-01T10:00",
                    f.at
                )),
            }
        }
        "start-flow" => match FlowId::parse(f.flow.trim()) {
            Ok(flow)
                if st.runner.flows.get(&flow).is_some()
                    && !offered(&st, &meta.centre, flow.as_str()).await =>
            {
                Err(said(&ActionError::NotOffered(
                    client.clone(),
                    "flow",
                    flow.to_string(),
                )))
            }
            Ok(flow) if st.runner.flows.get(&flow).is_some() => {
                let tp = Some(f.time_point.trim()).filter(|t| TIME_POINTS.contains(t));
                st.runner
                    .start_flow(&client, &flow, tp, IfBusy::Replace, &actor)
                    .await
                    .map(|_| ("started", Some(flow.to_string())))
                    .map_err(|e| said(&e))
            }
            _ => Err(format!("no flow {:?}", f.flow)),
        },
        "referral" => {
            let u = ReferralUpdate {
                program_code: Some(f.program_code.clone()).filter(|c| !c.trim().is_empty()),
                referred_by: Some(f.referred_by.clone()),
                rx_type: Some(f.rx_type.clone()),
                program: Some(f.program.clone()),
                support_level: Some(f.support_level.clone()).filter(|l| !l.is_empty()),
                uptake: f.uptake.clone(),
                reasons: (!f.reasons_shown.is_empty()).then(|| f.reasons.clone()),
                reminders: (!f.reminders_shown.is_empty()).then_some(!f.reminders.is_empty()),
            };
            match super::level::referral(&st, &a, &client, &meta, &u, &f.confirm).await {
                Ok(Ok(done)) => Ok(done),
                Ok(Err(confirm_page)) => return confirm_page,
                Err(e) => Err(e),
            }
        }
        "goal-add" | "goal-rate" | "goal-close" => {
            super::goals::act(&st, &client, &action, &f, &actor).await
        }
        "note" => add_note(&st, a.staff.id, &client, &f, &actor)
            .await
            .map(|()| ("note-added", None)),
        "summary-send" => match f.summary.trim().parse::<i64>() {
            Ok(sid) => {
                match crate::summaries::send(&st.runner.db, sid, &client, now(&st), &actor).await {
                    Ok(true) => Ok(("summary-sent", None)),
                    Ok(false) => Err("no summary of this client waits for review".into()),
                    Err(e) => Err(said(&e)),
                }
            }
            Err(_) => Err("no summary of this client waits for review".into()),
        },
        "close-conversation" => crate::runner::conversation::close(&st.runner, &client, &actor)
            .await
            .map(|_| ("conversation-closed", None))
            .map_err(|e| said(&e)),
        "message" => send_message(&st.runner, &client, &f.body, &actor)
            .await
            .map(|_| ("sent", None))
            .map_err(|e| said(&e)),
        "best-time" => crate::enrolment::best_time::set_best_time(
            &st.runner,
            &client,
            f.best_time.trim(),
            &actor,
        )
        .await
        .map(|_| ("best-time-set", None))
        .map_err(|e| said(&e)),
        "phone" => actions::set_phone(&st.runner, &client, &f.phone, &actor)
            .await
            .map(|_| ("phone-set", None))
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
                    .map(|_| ("invited", None))
                    .map_err(|e| said(&e)),
                Err(e) => Err(e.to_string()),
            },
            "telegram" => {
                // The bot of the client's centre when it has its own (running), else the
                // deployment's; none while Telegram is off.
                let bot = match crate::centres::bot_of_client(&st.runner.db, client.as_str()).await
                {
                    Ok(Some((_, username))) => Some(username).filter(|u| !u.is_empty()),
                    Ok(None) => st.telegram_bot.clone(),
                    Err(e) => return crate::web::page::store_error(&st, &a, &e),
                }
                .filter(|_| st.telegram_bot.is_some());
                match bot {
                    None => Err(st.ui.text.get(a.lang, "telegram-off", None)),
                    Some(bot) => match crate::channel::telegram::invite::create(
                        &st.runner.db,
                        &client,
                        st.telegram_invite_hours,
                        now(&st),
                        &actor,
                    )
                    .await
                    {
                        Ok(inv) => return invite_page(&st, &a, &id, &bot, &inv),
                        Err(e) => Err(said(&e)),
                    },
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
            .map(|()| ("assigned", None))
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
        Ok((done, item)) => {
            Redirect::to(&format!("{back}?{}", Done::query(done, item.as_deref()))).into_response()
        }
        Err(e) => error_page(&st, &a, StatusCode::UNPROCESSABLE_ENTITY, &e, &back),
    }
}

/// A call, visit, accompaniment, attempt or note, on the date it happened (today by default;
/// never in the future).
async fn add_note(
    st: &AppState,
    staff: i64,
    client: &crate::domain::ClientId,
    f: &ActionForm,
    actor: &str,
) -> Result<(), String> {
    let kind = f.kind.trim();
    if !crate::store::record::NOTE_KINDS.contains(&kind) {
        return Err(format!(
            "{kind:?} is not a kind of note ({})",
            crate::store::record::NOTE_KINDS.join(", ")
        ));
    }
    let body = f.note.trim();
    if body.is_empty() {
        return Err("the note is empty".into());
    }
    if body.chars().count() > 2000 {
        return Err("the note is longer than 2000 characters".into());
    }
    let t = now(st);
    let tz = st.runner.centre.time_zone;
    let happened_at = match f.date.trim() {
        "" => t,
        d => {
            let day = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| format!("{d:?} is not a date like 2026-12-01"))?;
            let today = crate::clock::from_ms(t).with_timezone(&tz).date_naive();
            if day > today {
                return Err("the date is in the future".into());
            }
            if day == today {
                t
            } else {
                // The day, at noon where the centre is.
                day.and_hms_opt(12, 0, 0)
                    .and_then(|n| n.and_local_timezone(tz).earliest())
                    .map_or(t, |l| crate::clock::to_ms(l.with_timezone(&chrono::Utc)))
            }
        }
    };
    let mut tx = st.runner.db.begin().await.map_err(|e| said(&e))?;
    crate::store::record::add_note(
        &mut tx,
        &crate::store::record::NewNote {
            client,
            staff: Some(staff),
            kind,
            body,
            flag: None,
            happened_at,
        },
        t,
        actor,
    )
    .await
    .map_err(|e| said(&e))?;
    tx.commit().await.map_err(|e| said(&e))
}

/// Whether `centre` offers the flow `flow` (a database that cannot say: it does not).
async fn offered(st: &AppState, centre: &str, flow: &str) -> bool {
    crate::centres::offer_of(&st.runner.db, centre)
        .await
        .is_ok_and(|o| o.flow(flow))
}
