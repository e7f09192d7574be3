//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/openapi.json`
//! (generated from these handlers by utoipa). Bearer tokens are issued and revoked by an
//! administrator, stored hashed, and scoped `read` or `write`. Every call is audited under the
//! token's name, like a navigator's view in the web interface.

mod clients;
mod cohort;
mod record;

use super::{ApiError, AppState, ErrorBody};
use super::{ClientSummary, Task};
use crate::clock::to_ms;
use crate::domain::ClientId;
use crate::enrolment::actions::ActionError;
use crate::staff::{ApiToken, Scope};
use crate::store::record::{Answer, ClientInfo, Referral, Score};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "matters API", version = "1", description = "Clients, referrals, enrolments, answers, scores and tasks of the navigator's record. Every call is audited."),
    paths(clients::list_clients, clients::create_client, clients::get_client, record::client_referrals, record::create_referral, record::patch_referral, record::client_enrolments, record::enrol_client, record::client_answers, record::client_scores, record::list_tasks, cohort::cohort),
    components(schemas(ErrorBody, ClientSummary, clients::ClientPage, clients::NewClient, clients::ClientDetail, ClientInfo, Referral, record::NewReferralBody, record::ReferralPatchBody, record::Enrolment, record::NewEnrolment, Answer, record::AnswerPage, Score, Task, record::TaskPage, crate::evaluation::Cohort, crate::evaluation::Cell, crate::evaluation::MeasureRow, crate::evaluation::ReasonRow, crate::evaluation::UptakeRow, crate::evaluation::UseRow, crate::evaluation::Stratified, crate::evaluation::Stratum)),
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
        .route(
            "/api/v1/clients",
            get(clients::list_clients).post(clients::create_client),
        )
        .route("/api/v1/clients/{id}", get(clients::get_client))
        .route(
            "/api/v1/clients/{id}/referrals",
            get(record::client_referrals).post(record::create_referral),
        )
        .route(
            "/api/v1/clients/{id}/referrals/{rid}",
            axum::routing::patch(record::patch_referral),
        )
        .route(
            "/api/v1/clients/{id}/enrolments",
            get(record::client_enrolments).post(record::enrol_client),
        )
        .route("/api/v1/clients/{id}/answers", get(record::client_answers))
        .route("/api/v1/clients/{id}/scores", get(record::client_scores))
        .route("/api/v1/tasks", get(record::list_tasks))
        .route("/api/v1/cohort", get(cohort::cohort))
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
            Some(t) if t.scope == Scope::Fhir => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this token is for the FHIR routes (/fhir/…) only",
            )),
            Some(t) => Ok(Caller(t)),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "this token is unknown or revoked",
            )),
        }
    }
}

impl Caller {
    /// A client this token may reach: one of its centre's. Another centre's is refused (403)
    /// and the attempt audited; none by that id is left to the route to say (404).
    pub(super) async fn client(&self, st: &AppState, id: &str) -> Result<ClientId, ApiError> {
        let c = ClientId::parse(id).map_err(|e| ApiError::bad_request(e.to_string()))?;
        match crate::centres::of_client(&st.runner.db, c.as_str()).await? {
            Some(centre) if centre != self.0.centre => {
                self.audit(
                    st,
                    "access-denied",
                    Some(c.as_str()),
                    "another centre's client",
                )
                .await?;
                Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!("client {c} is not of this token's centre"),
                ))
            }
            _ => Ok(c),
        }
    }

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
        crate::store::record::audit_one(
            &st.runner.db,
            now,
            &self.0.actor(),
            action,
            client,
            detail,
        )
        .await?;
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

/// A client's id and one of their referrals' ids in a path.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ReferralPath {
    /// The client's id.
    #[param(pattern = r"^[A-Za-z0-9._-]{1,64}$", min_length = 1, max_length = 64)]
    id: String,
    /// The referral's id.
    rid: i64,
}

impl FromRequestParts<AppState> for ReferralPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        Path::<(String, i64)>::from_request_parts(parts, st)
            .await
            .map(|Path((id, rid))| Self { id, rid })
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// A JSON body, or the error: one whose fields are not the schema's is a 400 (not a 422: a
/// 422 says a field's value is wrong).
pub(super) fn body_of<T>(
    body: Result<axum::Json<T>, axum::extract::rejection::JsonRejection>,
) -> Result<T, ApiError> {
    json_body(body).map_err(|e| {
        if e.status() == StatusCode::UNPROCESSABLE_ENTITY {
            ApiError::bad_request(e.message().to_owned())
        } else {
            e
        }
    })
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

pub(super) fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
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
            ActionError::NotEnrolled(_)
            | ActionError::NoSuchStep(..)
            | ActionError::NotOffered(..)
            | ActionError::Invalid(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
            ActionError::Store(s) => s.into(),
        }
    }
}

pub(super) async fn read_record(
    st: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<crate::store::record::Record, ApiError> {
    let c = caller.client(st, id).await?;
    let now = to_ms(st.runner.clock.now());
    crate::store::record::read(&st.runner.db, &c, &caller.0.actor(), now)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no client {c}")))
}
