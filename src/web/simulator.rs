//! The simulator channel: a client id and a text in, the bot's replies out. It lets a centre try
//! every flow without any provider account.

use super::page::{flow_ids, language_options};
use super::ui::{Lang, PRE_COOKIE, message_page, other, pre_ok, pre_token};
use super::{ApiError, AppState};
use crate::clock::to_ms;
use crate::domain::{Channel, ClientId, FlowId, Locale};
use crate::runner::{Handled, IfBusy, Inbound};
use crate::store::record::{self, NewClient, NewReferral};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::cookie::CookieJar;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/simulator", get(page).post(page_turn))
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
    converse(&st, req, crate::centres::DEFAULT, "simulator")
        .await
        .map(Json)
}

/// One turn of a simulated conversation: the JSON endpoint's and the navigator's simulator
/// page's. A new test client is added on the simulator channel, in the language asked.
/// A new test client belongs to `centre`.
pub(crate) async fn converse(
    st: &AppState,
    req: SimRequest,
    centre: &str,
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
    let mut new = NewClient::test(
        client.clone(),
        runner.catalog.negotiate(&language),
        runner.centre.time_zone,
    );
    centre.clone_into(&mut new.centre);
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

/// The public simulator, a page that works without JavaScript: a form posted here, the test
/// client's conversation shown back. Its form carries the same pre-sign-in token as sign-in.
async fn page(State(st): State<AppState>, Lang(lang): Lang, jar: CookieJar) -> Response {
    if !st.simulator {
        return message_page(&st, lang, None, StatusCode::NOT_FOUND, "simulator-off");
    }
    let language = st.runner.catalog.default_locale().to_string();
    public_view(&st, lang, jar, "demo", &language, Vec::new(), None)
}

async fn page_turn(
    State(st): State<AppState>,
    Lang(lang): Lang,
    jar: CookieJar,
    axum::Form(f): axum::Form<SimForm>,
) -> Response {
    if !st.simulator {
        return message_page(&st, lang, None, StatusCode::NOT_FOUND, "simulator-off");
    }
    if !pre_ok(&jar, &f.csrf) {
        return message_page(&st, lang, None, StatusCode::FORBIDDEN, "form-expired");
    }
    let client = f.client.trim().to_owned();
    let (status, error) = match turn(&st, &f, crate::centres::DEFAULT, "simulator").await {
        Ok(_) => (StatusCode::OK, None),
        Err(e) => (e.status(), Some(e.message().to_owned())),
    };
    let conversation = conversation(&st, &client, "simulator").await;
    let mut r = public_view(&st, lang, jar, &client, &f.language, conversation, error);
    *r.status_mut() = status;
    r
}

fn public_view(
    st: &AppState,
    lang: &'static str,
    jar: CookieJar,
    client: &str,
    language: &str,
    conversation: Vec<Value>,
    error: Option<String>,
) -> Response {
    let pre = pre_token(&jar);
    let jar = jar.add(st.ui.cookie(PRE_COOKIE, pre.clone()));
    let r = st.ui.render(
        "simulator.html",
        context! {
            lang => lang,
            other_lang => other(lang),
            csrf => pre,
            action => "/simulator",
            flows => flow_ids(st),
            languages => language_options(st),
            client => client,
            language => language,
            conversation => conversation,
            error => error,
        },
    );
    (jar, r).into_response()
}

/// The simulator's form, on the public page and the navigators' one.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct SimForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub client: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub start: String,
    #[serde(default)]
    pub text: String,
}

/// One turn from a form: a reply, a flow to start, or both.
pub(crate) async fn turn(
    st: &AppState,
    f: &SimForm,
    centre: &str,
    actor: &str,
) -> Result<SimResponse, ApiError> {
    let given = |v: &str| Some(v.trim().to_owned()).filter(|t| !t.is_empty());
    let req = SimRequest {
        client: f.client.trim().to_owned(),
        text: given(&f.text),
        start: given(&f.start),
        language: given(&f.language),
        program: None,
        id: None,
    };
    if req.text.is_none() && req.start.is_none() {
        return Err(ApiError::bad_request("give text, start, or both"));
    }
    converse(st, req, centre, actor).await
}

/// The last forty texts of a test client's conversation, oldest first.
pub(crate) async fn conversation(st: &AppState, client: &str, actor: &str) -> Vec<Value> {
    let Ok(id) = ClientId::parse(client) else {
        return Vec::new();
    };
    // Only a test client's: a refusal was said (and audited) by the turn.
    let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM clients WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(st.runner.db.pool())
        .await
        .ok()
        .flatten();
    if kind.as_deref() != Some("test") {
        return Vec::new();
    }
    match record::read(&st.runner.db, &id, actor, to_ms(st.runner.clock.now())).await {
        Ok(Some(r)) => r
            .messages
            .iter()
            .rev()
            .take(40)
            .rev()
            .map(|m| context! { direction => m.direction.clone(), body => m.body.clone() })
            .collect(),
        _ => Vec::new(),
    }
}
