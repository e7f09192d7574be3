//! The simulator channel: a client id and a text in, the bot's replies out. It lets a centre try
//! every flow without any provider account.

use super::{ApiError, AppState};
use crate::clock::to_ms;
use crate::domain::{Channel, ClientId, FlowId, Locale};
use crate::runner::{Handled, IfBusy, Inbound};
use crate::store::record::{self, NewClient, NewReferral};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/simulator", get(page))
        .route("/simulator/messages", post(message))
        .route("/simulator/clients/{id}/record", get(client_record))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SimRequest {
    pub client: String,
    #[serde(default)]
    pub text: Option<String>,
    /// Start this flow first (ending any running one).
    #[serde(default)]
    pub start: Option<String>,
    /// For a new client: their language (default: the centre's).
    #[serde(default)]
    pub language: Option<String>,
    /// For a new client: the program they were referred to.
    #[serde(default)]
    pub program: Option<String>,
    /// For dedupe, like a provider's message id.
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct SimResponse {
    client: String,
    pub created: bool,
    duplicate: bool,
    replies: Vec<SimReply>,
}

#[derive(Debug, Serialize)]
struct SimReply {
    key: String,
    text: String,
}

async fn message(
    State(st): State<AppState>,
    body: Result<Json<SimRequest>, JsonRejection>,
) -> Result<Json<SimResponse>, ApiError> {
    public(&st)?;
    let Json(req) = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    converse(&st, req, "simulator").await.map(Json)
}

/// One turn of a simulated conversation: the JSON endpoint's and the navigator's simulator
/// page's. A new test client is added on the simulator channel, in the language asked.
pub(crate) async fn converse(
    st: &AppState,
    req: SimRequest,
    actor: &str,
) -> Result<SimResponse, ApiError> {
    let runner = &st.runner;
    let client = ClientId::parse(&req.client).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let start = req
        .start
        .as_deref()
        .map(FlowId::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let language = match &req.language {
        Some(l) => Locale::parse(l).map_err(|e| ApiError::bad_request(e.to_string()))?,
        None => runner.catalog.default_locale().clone(),
    };
    if req.text.is_none() && start.is_none() && req.program.is_none() {
        return Err(ApiError::bad_request("give text, start, or both"));
    }
    if let Some(f) = &start
        && runner.flows.get(f).is_none()
    {
        return Err(ApiError::not_found(format!("no flow {f}")));
    }
    let now = to_ms(runner.clock.now());
    // A client who exists must be a test client: a real one is never spoken for here.
    only_test_clients(st, &client, actor, false).await?;
    let new = NewClient::test(
        client.clone(),
        runner.catalog.negotiate(&language),
        runner.centre.time_zone,
    );
    let created = record::add_client(&runner.db, &new, now, actor).await?;
    if created && let Some(program) = &req.program {
        let r = NewReferral {
            program: Some(program.clone()),
            ..NewReferral::default()
        };
        record::add_referral(&runner.db, &client, &r, now, actor).await?;
    }
    let mut handled = Handled::default();
    let start = start.or_else(|| created.then(|| FlowId::parse("consent").ok()).flatten());
    if let Some(flow) = &start {
        let h = runner
            .start_flow(&client, flow, None, IfBusy::Replace, actor)
            .await?;
        handled.replies.extend(h.replies);
    }
    // A brand-new client's first text opens the conversation; it is not an answer to a question
    // they have not seen yet.
    if let Some(text) = req.text.filter(|_| !created || req.start.is_some()) {
        let h = st
            .inbox
            .submit(Inbound::new(
                Channel::Simulator,
                client.clone(),
                req.id,
                text,
            ))
            .await?;
        handled.duplicate = h.duplicate;
        handled.replies.extend(h.replies);
    }
    let ids: Vec<i64> = handled.replies.iter().map(|r| r.id).collect();
    record::mark_delivered(&runner.db, &ids, to_ms(runner.clock.now())).await?;
    Ok(SimResponse {
        client: client.to_string(),
        created,
        duplicate: handled.duplicate,
        replies: handled
            .replies
            .into_iter()
            .map(|r| SimReply {
                key: r.key,
                text: r.text,
            })
            .collect(),
    })
}

async fn client_record(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    public(&st)?;
    let client = ClientId::parse(&id).map_err(|e| ApiError::bad_request(e.to_string()))?;
    only_test_clients(&st, &client, "simulator", true).await?;
    let now = to_ms(st.runner.clock.now());
    match record::read(&st.runner.db, &client, "simulator", now).await? {
        Some(r) => Ok(Json(r).into_response()),
        None => Err(ApiError::not_found(format!("no test client {client}"))),
    }
}

/// The public simulator answers only while `[simulator] enabled`.
fn public(st: &AppState) -> Result<(), ApiError> {
    if st.simulator {
        Ok(())
    } else {
        Err(ApiError::not_found("the simulator is turned off here"))
    }
}

/// The simulator speaks for, and shows, test clients only: every other client is a real
/// person, whose record is for signed-in staff. A refusal changes nothing and is audited; it
/// does not say more about the client than that they are not a test client. `must_exist`: a
/// client who is not there is a 404 (else the simulator makes them).
async fn only_test_clients(
    st: &AppState,
    client: &ClientId,
    actor: &str,
    must_exist: bool,
) -> Result<(), ApiError> {
    let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM clients WHERE id = $1")
        .bind(client.as_str())
        .fetch_optional(st.runner.db.pool())
        .await
        .map_err(|e| crate::store::StoreError::Query {
            doing: "checking a simulator client",
            source: e,
        })?;
    match kind.as_deref() {
        Some("test") => Ok(()),
        None if !must_exist => Ok(()),
        None => Err(ApiError::not_found(format!("no test client {client}"))),
        Some(_) => {
            let now = to_ms(st.runner.clock.now());
            crate::store::record::audit_one(
                &st.runner.db,
                now,
                actor,
                "simulator-refused",
                Some(client.as_str()),
                "not a test client",
            )
            .await?;
            Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                format!(
                    "{client} is not a test client: the simulator speaks only for test clients"
                ),
            ))
        }
    }
}

async fn page(State(st): State<AppState>) -> Response {
    if !st.simulator {
        return (
            axum::http::StatusCode::NOT_FOUND,
            "the simulator is turned off here\n",
        )
            .into_response();
    }
    Html(include_str!("simulator.html")).into_response()
}
