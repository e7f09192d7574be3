//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/openapi.json`
//! (generated from these handlers by utoipa). Bearer tokens are issued and revoked by an
//! administrator, stored hashed, and scoped `read` or `write`. Every call is audited under the
//! token's name, like a navigator's view in the web interface.

use super::queries::{self, ClientFilter, ClientSummary, Task};
use super::{ApiError, AppState, ErrorBody};
use crate::clock::to_ms;
use crate::domain::ClientId;
use crate::schedule::actions::{self, ActionError, ClientSpec};
use crate::staff::{ApiToken, Scope};
use crate::store::record::{Answer, ClientInfo, Referral, Score};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(title = "matters API", version = "1", description = "Clients, referrals, enrolments, answers, scores and tasks of the navigator's record. Every call is audited."),
    paths(list_clients, create_client, get_client, client_referrals, client_enrolments, enrol_client, client_answers, client_scores, list_tasks),
    components(schemas(ErrorBody, ClientSummary, ClientPage, NewClient, ClientDetail, ClientInfo, Referral, Enrolment, NewEnrolment, Answer, AnswerPage, Score, Task, TaskPage)),
    modifiers(&Bearer),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/clients", get(list_clients).post(create_client))
        .route("/api/v1/clients/{id}", get(get_client))
        .route("/api/v1/clients/{id}/referrals", get(client_referrals))
        .route(
            "/api/v1/clients/{id}/enrolments",
            get(client_enrolments).post(enrol_client),
        )
        .route("/api/v1/clients/{id}/answers", get(client_answers))
        .route("/api/v1/clients/{id}/scores", get(client_scores))
        .route("/api/v1/tasks", get(list_tasks))
        .method_not_allowed_fallback(method_not_allowed)
}

/// A method the route does not take: 405, in the API's error shape.
async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not a method of this route; see /api/openapi.json"),
    )
}

/// No such route under `/api`: 404, in the API's error shape.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route {}; see /api/openapi.json", uri.path()))
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// A caller with a live bearer token.
pub struct Caller(pub ApiToken);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "send an API token: Authorization: Bearer <token>",
                )
            })?;
        let now = to_ms(st.runner.clock.now());
        match crate::staff::token(&st.runner.db, secret, now).await? {
            Some(t) => Ok(Caller(t)),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "this token is unknown or revoked",
            )),
        }
    }
}

impl Caller {
    fn write(&self) -> Result<(), ApiError> {
        if self.0.scope == Scope::Write {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this token may only read; ask an administrator for a write token",
            ))
        }
    }

    async fn audit(
        &self,
        st: &AppState,
        action: &str,
        client: Option<&str>,
        detail: &str,
    ) -> Result<(), ApiError> {
        let now = to_ms(st.runner.clock.now());
        queries::audit_one(&st.runner.db, now, &self.0.actor(), action, client, detail).await?;
        Ok(())
    }
}

/// The highest page number asked for (far past any list).
pub const MAX_PAGE: i64 = 1_000_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1 (default 1).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<i64>,
    /// Items a page, 1 to 200 (default 50).
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    per_page: Option<i64>,
}

impl PageParams {
    fn resolve(&self) -> Result<(i64, i64), ApiError> {
        let page = self.page.unwrap_or(1);
        let per = self.per_page.unwrap_or(50);
        if !(1..=MAX_PAGE).contains(&page) || !(1..=200).contains(&per) {
            return Err(ApiError::bad_request(format!(
                "page must be 1 to {MAX_PAGE} and per_page 1 to 200"
            )));
        }
        Ok((page, per))
    }
}

/// A client's id in a path: letters, digits, `.`, `_` and `-`, at most 64.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ClientPath {
    /// The client's id.
    #[param(pattern = r"^[A-Za-z0-9._-]{1,64}$", min_length = 1, max_length = 64)]
    id: String,
}

/// The query string, parsed; one that does not parse is a 400 in the API's error shape.
pub struct ApiQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, st)
            .await
            .map(|Query(q)| Self(q))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// The client id of the path; a path that does not parse is a 400 in the API's error shape.
impl FromRequestParts<AppState> for ClientPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, st)
            .await
            .map(|Path(id)| Self { id })
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientParams {
    /// Part of the id, name or chart number.
    #[serde(default)]
    #[param(max_length = 200)]
    q: Option<String>,
    /// A language code (en, fr…).
    #[serde(default)]
    #[param(max_length = 35)]
    language: Option<String>,
    /// Page number, from 1 (default 1).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<i64>,
    /// Items a page, 1 to 200 (default 50).
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    per_page: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientPage {
    pub items: Vec<ClientSummary>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerPage {
    pub items: Vec<Answer>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskPage {
    pub items: Vec<Task>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

fn client_id(id: &str) -> Result<ClientId, ApiError> {
    ClientId::parse(id).map_err(|e| ApiError::bad_request(e.to_string()))
}

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::new(e.status(), e.body_text()))
}

impl From<ActionError> for ApiError {
    fn from(e: ActionError) -> Self {
        match e {
            ActionError::UnknownClient(_) | ActionError::UnknownSequence(..) => {
                ApiError::not_found(e.to_string())
            }
            ActionError::AlreadyEnrolled(..) | ActionError::OptedOut(_) => {
                ApiError::new(StatusCode::CONFLICT, e.to_string())
            }
            ActionError::NotEnrolled(_) | ActionError::NoSuchStep(..) | ActionError::Invalid(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
            ActionError::Store(s) => s.into(),
        }
    }
}

/// Clients, a page at a time.
#[utoipa::path(get, path = "/api/v1/clients", params(ClientParams), responses(
    (status = 200, description = "A page of clients", body = ClientPage),
    (status = 400, description = "A malformed query or paging out of bounds", body = ErrorBody),
    (status = 401, description = "No or bad token", body = ErrorBody),
    (status = 503, description = "The database is unreachable; try again", body = ErrorBody)
))]
async fn list_clients(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<ClientParams>,
) -> Result<Json<ClientPage>, ApiError> {
    let (page, per) = PageParams {
        page: p.page,
        per_page: p.per_page,
    }
    .resolve()?;
    let f = ClientFilter {
        q: p.q,
        language: p.language,
        ..ClientFilter::default()
    };
    let (items, total) = queries::clients(&st.runner.db, &f, per, (page - 1) * per).await?;
    caller
        .audit(
            &st,
            "api-clients-list",
            None,
            &format!("{} clients", items.len()),
        )
        .await?;
    Ok(Json(ClientPage {
        items,
        page,
        per_page: per,
        total,
    }))
}

/// A client to add: the same checks as the web form and `matters clients add`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    /// Letters, digits and dashes.
    pub id: String,
    /// A mobile number; without one the client is on the simulator channel.
    #[serde(default)]
    pub phone: Option<String>,
    /// An enabled language (en, fr…).
    pub language: String,
    /// An IANA time zone; default: the centre's.
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub chart_number: Option<String>,
    #[serde(default)]
    pub program: Option<String>,
    /// YYYY-MM-DD.
    #[serde(default)]
    pub referred_on: Option<String>,
    #[serde(default)]
    pub reasons: Vec<String>,
    /// Enrol in this sequence at once.
    #[serde(default)]
    pub sequence: Option<String>,
}

/// Adds a client (write scope).
#[utoipa::path(post, path = "/api/v1/clients", request_body = NewClient, responses(
    (status = 201, description = "Added", body = ClientSummary),
    (status = 400, description = "Malformed JSON, or fields that are not the schema's", body = ErrorBody),
    (status = 401, description = "No or bad token", body = ErrorBody),
    (status = 403, description = "A read-only token", body = ErrorBody),
    (status = 409, description = "The client exists", body = ErrorBody),
    (status = 413, description = "A body over 64 KiB", body = ErrorBody),
    (status = 415, description = "Not application/json", body = ErrorBody),
    (status = 422, description = "A field is invalid", body = ErrorBody),
    (status = 503, description = "The database is unreachable; try again", body = ErrorBody)
))]
async fn create_client(
    State(st): State<AppState>,
    caller: Caller,
    body: Result<Json<NewClient>, JsonRejection>,
) -> Result<Response, ApiError> {
    caller.write()?;
    let b = json_body(body).map_err(|e| {
        if e.status() == StatusCode::UNPROCESSABLE_ENTITY {
            ApiError::bad_request(e.message().to_owned())
        } else {
            e
        }
    })?;
    let spec = ClientSpec {
        id: b.id.clone(),
        phone: b.phone.clone(),
        language: b.language.clone(),
        time_zone: b.time_zone.clone(),
        send_between: None,
        chart_number: b.chart_number.clone(),
        program: b.program.clone(),
        referred_on: b.referred_on.clone(),
        reasons: b.reasons.clone(),
        // Checked with the rest before anything is written; enrolled by `add`.
        sequence: b.sequence.clone(),
    };
    let checked = actions::check(&st.runner, &spec)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e))?;
    let actor = caller.0.actor();
    if actions::add(&st.runner, &checked, &actor).await? == actions::Added::Existing {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("client {} exists", checked.client.id),
        ));
    }
    let id = checked.client.id.clone();
    let now = to_ms(st.runner.clock.now());
    queries::set_profile(&st.runner.db, &id, b.name.as_deref(), None, &actor, now).await?;
    let f = ClientFilter {
        q: Some(id.to_string()),
        ..ClientFilter::default()
    };
    let (list, _) = queries::clients(&st.runner.db, &f, 200, 0).await?;
    let c = list
        .into_iter()
        .find(|c| c.id == id.as_str())
        .ok_or_else(|| ApiError::not_found(format!("no client {id}")))?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

/// A client's profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientDetail {
    pub client: ClientInfo,
    pub name: Option<String>,
    pub navigator: Option<String>,
}

async fn read_record(
    st: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<crate::store::record::Record, ApiError> {
    let c = client_id(id)?;
    let now = to_ms(st.runner.clock.now());
    crate::store::record::read(&st.runner.db, &c, &caller.0.actor(), now)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no client {c}")))
}

/// One client.
#[utoipa::path(get, path = "/api/v1/clients/{id}", params(ClientPath), responses(
    (status = 200, description = "The client", body = ClientDetail),
    (status = 400, description = "A malformed id or query", body = ErrorBody),
    (status = 401, description = "No or bad token", body = ErrorBody),
    (status = 404, description = "No such client", body = ErrorBody),
    (status = 503, description = "The database is unreachable; try again", body = ErrorBody)
))]
async fn get_client(
    State(st): State<AppState>,
    caller: Caller,
    ClientPath { id }: ClientPath,
) -> Result<Json<ClientDetail>, ApiError> {
    let r = read_record(&st, &caller, &id).await?;
    let meta = queries::client_meta(&st.runner.db, &id).await?;
    Ok(Json(ClientDetail {
        client: r.client,
        name: meta.as_ref().and_then(|m| m.name.clone()),
        navigator: meta.and_then(|m| m.navigator),
    }))
}

/// A client's referrals.
#[utoipa::path(get, path = "/api/v1/clients/{id}/referrals", params(ClientPath), responses(
    (status = 200, description = "Referrals, oldest first", body = [Referral]),
    (status = 400, description = "A malformed id or query", body = ErrorBody),
    (status = 401, description = "No or bad token", body = ErrorBody),
    (status = 404, description = "No such client", body = ErrorBody),
    (status = 503, description = "The database is unreachable; try again", body = ErrorBody)
))]
async fn client_referrals(
    State(st): State<AppState>,
    caller: Caller,
    ClientPath { id }: ClientPath,
) -> Result<Json<Vec<Referral>>, ApiError> {
    Ok(Json(read_record(&st, &caller, &id).await?.referrals))
}

/// An enrolment in a follow-up sequence.
#[derive(Debug, Serialize, ToSchema)]
pub struct Enrolment {
    pub id: i64,
    pub sequence: String,
    /// active | paused | cancelled | completed
    pub status: String,
    pub enrolled_at: String,
    pub end_reason: Option<String>,
}

async fn enrolments(st: &AppState, id: &str) -> Result<Vec<Enrolment>, ApiError> {
    let rows = sqlx::query(
        "SELECT id, sequence_id, status, enrolled_at, end_reason FROM enrolments WHERE client_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(st.runner.db.pool())
    .await
    .map_err(|e| ApiError::from(crate::store::StoreError::Query { doing: "reading enrolments", source: e }))?;
    rows.iter()
        .map(|r| {
            Ok(Enrolment {
                id: r.try_get(0)?,
                sequence: r.try_get(1)?,
                status: r.try_get(2)?,
                enrolled_at: crate::clock::from_ms(r.try_get(3)?)
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                end_reason: r.try_get(4)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(|e| {
            crate::store::StoreError::Query {
                doing: "reading enrolments",
                source: e,
            }
            .into()
        })
}

/// A client's enrolments.
#[utoipa::path(get, path = "/api/v1/clients/{id}/enrolments", params(ClientPath), responses(
    (status = 200, description = "Enrolments, oldest first", body = [Enrolment]),
    (status = 400, description = "A malformed id or query", body = ErrorBody),
    (status = 401, description = "No or bad token", body = ErrorBody),
    (status = 404, description = "No such client", body = ErrorBody),
    (status = 503, description = "The database is unreachable; try again", body = ErrorBody)
))]
async fn client_enrolments(
    State(st): State<AppState>,
    caller: Caller,
    ClientPath { id }: ClientPath,
) -> Result<Json<Vec<Enrolment>>, ApiError> {
    client_id(&id)?;
    if queries::client_meta(&st.runner.db, &id).await?.is_none() {
        return Err(ApiError::not_found(format!("no client {id}")));
    }
    let list = enrolments(&st, &id).await?;
    caller
        .audit(&st, "api-enrolments-view", Some(&id), "")
        .await?;
    Ok(Json(list))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnrolment {
    /// A sequence id (standard, light…).
    pub sequence: String,
}

/// Enrols a client in a sequence (write scope).
#[utoipa::path(post, path = "/api/v1/clients/{id}/enrolments", params(ClientPath), request_body = NewEnrolment, responses(
    (status = 201, description = "Enrolled", body = Enrolment),
    (status = 400, description = "A malformed id, malformed JSON, or fields that are not the schema's", body = ErrorBody),
    (status = 401, description = "No or bad token", body = ErrorBody),
    (status = 403, description = "A read-only token", body = ErrorBody),
    (status = 404, description = "No such client or sequence", body = ErrorBody),
    (status = 409, description = "Already enrolled, or opted out", body = ErrorBody),
    (status = 413, description = "A body over 64 KiB", body = ErrorBody),
    (status = 415, description = "Not application/json", body = ErrorBody),
    (status = 422, description = "The enrolment cannot be made as asked", body = ErrorBody),
    (status = 503, description = "The database is unreachable; try again", body = ErrorBody)
))]
async fn enrol_client(
    State(st): State<AppState>,
    caller: Caller,
    ClientPath { id }: ClientPath,
    body: Result<Json<NewEnrolment>, JsonRejection>,
) -> Result<Response, ApiError> {
    caller.write()?;
    let c = client_id(&id)?;
    let b = json_body(body).map_err(|e| {
        if e.status() == StatusCode::UNPROCESSABLE_ENTITY {
            ApiError::bad_request(e.message().to_owned())
        } else {
            e
        }
    })?;
    let e = actions::enrol(&st.runner, &c, &b.sequence, &caller.0.actor()).await?;
    let list = enrolments(&st, &id).await?;
    let made = list
        .into_iter()
        .find(|x| x.id == e.enrolment)
        .ok_or_else(|| ApiError::not_found("the enrolment is gone"))?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

/// A client's answers, with their provenance.
#[utoipa::path(get, path = "/api/v1/clients/{id}/answers", params(ClientPath, PageParams), responses(
    (status = 200, description = "A page of answers, oldest first", body = AnswerPage),
    (status = 400, description = "A malformed id or query", body = ErrorBody),
    (status = 401, description = "No or bad token", body = ErrorBody),
    (status = 404, description = "No such client", body = ErrorBody),
    (status = 503, description = "The database is unreachable; try again", body = ErrorBody)
))]
async fn client_answers(
    State(st): State<AppState>,
    caller: Caller,
    ClientPath { id }: ClientPath,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<AnswerPage>, ApiError> {
    let (page, per) = p.resolve()?;
    let all = read_record(&st, &caller, &id).await?.answers;
    let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
    let skip = usize::try_from((page - 1) * per).unwrap_or(usize::MAX);
    let items = all
        .into_iter()
        .skip(skip)
        .take(usize::try_from(per).unwrap_or(50))
        .collect();
    Ok(Json(AnswerPage {
        items,
        page,
        per_page: per,
        total,
    }))
}

/// A client's instrument scores at each time point.
#[utoipa::path(get, path = "/api/v1/clients/{id}/scores", params(ClientPath), responses(
    (status = 200, description = "Scores, oldest first", body = [Score]),
    (status = 400, description = "A malformed id or query", body = ErrorBody),
    (status = 401, description = "No or bad token", body = ErrorBody),
    (status = 404, description = "No such client", body = ErrorBody),
    (status = 503, description = "The database is unreachable; try again", body = ErrorBody)
))]
async fn client_scores(
    State(st): State<AppState>,
    caller: Caller,
    ClientPath { id }: ClientPath,
) -> Result<Json<Vec<Score>>, ApiError> {
    Ok(Json(read_record(&st, &caller, &id).await?.scores))
}

/// Open tasks and flags, crisis first.
#[utoipa::path(get, path = "/api/v1/tasks", params(PageParams), responses(
    (status = 200, description = "A page of open tasks", body = TaskPage),
    (status = 400, description = "A malformed query or paging out of bounds", body = ErrorBody),
    (status = 401, description = "No or bad token", body = ErrorBody),
    (status = 503, description = "The database is unreachable; try again", body = ErrorBody)
))]
async fn list_tasks(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<TaskPage>, ApiError> {
    let (page, per) = p.resolve()?;
    let (items, total) = queries::open_tasks(
        &st.runner.db,
        None,
        None,
        st.runner.centre.time_zone,
        per,
        (page - 1) * per,
    )
    .await?;
    caller
        .audit(
            &st,
            "api-tasks-list",
            None,
            &format!("{} tasks", items.len()),
        )
        .await?;
    Ok(Json(TaskPage {
        items,
        page,
        per_page: per,
        total,
    }))
}
