//! Twilio's webhooks: inbound messages (`POST /webhooks/twilio/sms`) and status callbacks
//! (`POST /webhooks/twilio/status`). Both are signed; a request without a valid signature is
//! refused with 403 before anything is read into the record. An inbound message is answered
//! with an empty TwiML `<Response/>` once it is committed; replies leave through the outbox.

use crate::channel::twilio::{TwilioConfig, signature};
use crate::clock::to_ms;
use crate::domain::{Channel, PhoneNumber};
use crate::runner::Incoming;
use crate::safety::Intent;
use crate::store::delivery;
use crate::web::{ApiError, AppState};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

pub const SMS_PATH: &str = "/webhooks/twilio/sms";
pub const STATUS_PATH: &str = "/webhooks/twilio/status";

/// An empty TwiML answer: we reply through the REST API, after the commit.
pub const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

/// A TwiML answer that texts `text` back to the sender (a staff member's reply).
#[must_use]
pub fn twiml_message(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{escaped}</Message></Response>"
    )
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(SMS_PATH, post(inbound))
        .route(STATUS_PATH, post(status))
}

type Params = Vec<(String, String)>;

/// Not Twilio's request: 403, and nothing read into the record.
struct Forbidden;

impl IntoResponse for Forbidden {
    fn into_response(self) -> Response {
        (StatusCode::FORBIDDEN, "signature required\n").into_response()
    }
}

/// The form's parameters, if the request is Twilio's: signed with the auth token of the
/// account it names (`AccountSid`), the deployment's or a centre's own. Anything else is
/// refused; a database that cannot say whose account it is answers 503, and Twilio retries.
async fn verified(
    st: &AppState,
    cfg: &TwilioConfig,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Params, Response> {
    let refuse = |why: &str| {
        tracing::warn!(path = uri.path(), why, "refused a Twilio webhook");
        metrics::counter!(crate::ops::metrics::SIGNATURE_REFUSALS, "channel" => "sms").increment(1);
        Forbidden.into_response()
    };
    let Some(sig) = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return Err(refuse("no X-Twilio-Signature"));
    };
    // Webhooks signed with a shared key name their algorithm; we hold the auth token only.
    if let Some(settings) = headers
        .get("x-twilio-webhooks-signature-settings")
        .and_then(|v| v.to_str().ok())
        && settings.split(',').any(|p| {
            p.split_once('=').is_some_and(|(k, v)| {
                k.trim() == "algorithm" && !v.trim().eq_ignore_ascii_case("HMAC_SHA1")
            })
        })
    {
        return Err(refuse("signed with an algorithm other than HMAC_SHA1"));
    }
    let Ok(params) = serde_urlencoded::from_bytes::<Params>(body) else {
        return Err(refuse("a body that is not a form"));
    };
    let url = match uri.query() {
        Some(q) => format!("{}?{q}", cfg.webhook_url(uri.path())),
        None => cfg.webhook_url(uri.path()),
    };
    let account = field(&params, &["AccountSid"]).unwrap_or(&cfg.account_sid);
    if account == cfg.account_sid {
        if !signature::valid(cfg.auth_token.expose(), &url, &params, sig) {
            return Err(refuse("wrong signature"));
        }
        return Ok(params);
    }
    // A centre's own account: its token, from its file.
    let file = match crate::centres::token_file_of_account(&st.runner.db, account).await {
        Ok(Some(f)) => f,
        Ok(None) => return Err(refuse("another account")),
        Err(e) => {
            let e = st.runner.db.explain(e).await;
            return Err(ApiError::from(crate::runner::RunError::from(e)).into_response());
        }
    };
    let signed_with =
        |token: &crate::config::Secret| signature::valid(token.expose(), &url, &params, sig);
    let token = match cfg.tokens.get(&file) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!("a centre's Twilio webhook cannot be checked: {e}; Twilio will retry");
            return Err(too_slow());
        }
    };
    // A token the file no longer holds (rotated) is read again once before refusing.
    if signed_with(&token) || {
        cfg.tokens.forget(&file);
        cfg.tokens
            .get(&file)
            .is_ok_and(|t| t != token && signed_with(&t))
    } {
        return Ok(params);
    }
    Err(refuse("wrong signature"))
}

fn field<'a>(params: &'a Params, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| {
        params
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    })
}

fn not_configured() -> Response {
    ApiError::not_found("SMS is not configured on this server").into_response()
}

/// While the service stops, a webhook is refused with 503: Twilio tries again, and the next
/// process (or this one, restarted) takes it.
fn stopping(st: &AppState) -> Option<Response> {
    st.runner.shutdown.is_stopping().then(|| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            "stopping; try again\n",
        )
            .into_response()
    })
}

async fn inbound(
    State(st): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(cfg) = st.twilio.as_deref() else {
        return not_configured();
    };
    if let Some(r) = stopping(&st) {
        return r;
    }
    let params = match verified(&st, cfg, &uri, &headers, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (Some(sid), Some(from)) = (
        field(&params, &["MessageSid", "SmsMessageSid", "SmsSid"]),
        field(&params, &["From"]),
    ) else {
        return ApiError::bad_request("MessageSid and From are required").into_response();
    };
    let address = PhoneNumber::parse(from).map_or_else(|_| from.to_owned(), |p| p.to_string());
    // A staff member's number is never a client's: "OK" acknowledges their latest alert.
    match crate::alerts::staff_by_phone(&st.runner.db, &address).await {
        Ok(Some(staff)) => {
            let now = to_ms(st.runner.clock.now());
            let text = field(&params, &["Body"]).unwrap_or_default();
            return match crate::alerts::staff_reply(&st.runner.db, &staff, text, now).await {
                Ok(reply) => (
                    [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                    twiml_message(&reply),
                )
                    .into_response(),
                Err(e) => {
                    let e = st.runner.db.explain(e).await;
                    ApiError::from(crate::runner::RunError::from(e)).into_response()
                }
            };
        }
        Ok(None) => {}
        Err(e) => {
            // Said as its cause (the database refused, is gone…), not as a pool's timeout.
            let e = st.runner.db.explain(e).await;
            return ApiError::from(crate::runner::RunError::from(e)).into_response();
        }
    }
    let keyword = match field(&params, &["OptOutType"])
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("STOP") => Some(Intent::Stop),
        Some("START") => Some(Intent::Start),
        Some("HELP") => Some(Intent::Help),
        _ => None,
    };
    // The centre whose number (or messaging service) the text reached.
    let centre = match crate::centres::for_twilio(
        &st.runner.db,
        field(&params, &["To"]),
        field(&params, &["MessagingServiceSid"]),
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            let e = st.runner.db.explain(e).await;
            return ApiError::from(crate::runner::RunError::from(e)).into_response();
        }
    };
    let incoming = Incoming {
        centre,
        channel: Channel::Sms,
        address,
        provider_id: Some(sid.to_owned()),
        text: field(&params, &["Body"]).unwrap_or_default().to_owned(),
        keyword,
        pick: None,
    };
    let deadline = st.webhook_deadline();
    let Ok(handled) = tokio::time::timeout(deadline, st.inbox.submit_from(incoming)).await else {
        // Twilio tries again; if it is committed meanwhile, the retry is a duplicate.
        tracing::warn!(
            ?deadline,
            "an SMS webhook was not committed in time: answered 503"
        );
        return too_slow();
    };
    match handled {
        Ok(h) => {
            tracing::debug!(
                sid,
                duplicate = h.duplicate,
                unmatched = h.unmatched,
                "sms in"
            );
            (
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                EMPTY_TWIML,
            )
                .into_response()
        }
        // Not committed: a 5xx makes Twilio try again.
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn status(State(st): State<AppState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let Some(cfg) = st.twilio.as_deref() else {
        return not_configured();
    };
    if let Some(r) = stopping(&st) {
        return r;
    }
    let params = match verified(&st, cfg, &uri, &headers, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (Some(sid), Some(state)) = (
        field(&params, &["MessageSid", "SmsSid"]),
        field(&params, &["MessageStatus", "SmsStatus"]),
    ) else {
        return ApiError::bad_request("MessageSid and MessageStatus are required").into_response();
    };
    let code = field(&params, &["ErrorCode"]);
    let runner = &st.runner;
    let now = to_ms(runner.clock.now());
    let deadline = st.webhook_deadline();
    let recorded = tokio::time::timeout(
        deadline,
        delivery::record_status(&runner.db, Channel::Sms.as_str(), sid, state, code, now),
    )
    .await;
    match recorded {
        Err(_) => {
            tracing::warn!(
                ?deadline,
                "a status callback was not recorded in time: answered 503"
            );
            return too_slow();
        }
        Ok(Ok(Some(f))) => {
            if let Err(e) = runner.act_on_delivery(Channel::Sms, &f).await {
                return ApiError::from(e).into_response();
            }
        }
        Ok(Ok(None)) => {}
        Ok(Err(e)) => return ApiError::from(e).into_response(),
    }
    StatusCode::NO_CONTENT.into_response()
}

fn too_slow() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "5")],
        axum::Json(crate::web::ErrorBody {
            error: "temporarily unavailable; try again".into(),
            status: 503,
        }),
    )
        .into_response()
}
