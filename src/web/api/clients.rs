//! The API's clients: a page of them, one, and adding one.

use super::{ApiQuery, Caller, ClientPath, PageParams, body_of, read_record};
use crate::clock::to_ms;
use crate::enrolment::actions::{self, ClientSpec};
use crate::store::record::ClientInfo;
use crate::web::{ApiError, AppState, ErrorBody};
use crate::web::{ClientFilter, ClientSummary};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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

/// Clients, a page at a time.
#[utoipa::path(get, path = "/api/v1/clients", params(ClientParams), responses(
    (status = 200, description = "A page of clients", body = ClientPage),
    (status = 400, description = "A malformed query or paging out of bounds", body = ErrorBody),
    (status = 401, description = "No or bad token", body = ErrorBody),
    (status = 503, description = "The database is unreachable; try again", body = ErrorBody)
))]
pub(super) async fn list_clients(
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
        centre: Some(caller.0.centre.clone()),
        ..ClientFilter::default()
    };
    let (items, total) =
        crate::web::clients::client_list(&st.runner.db, &f, per, (page - 1) * per).await?;
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
pub(super) async fn create_client(
    State(st): State<AppState>,
    caller: Caller,
    body: Result<Json<NewClient>, JsonRejection>,
) -> Result<Response, ApiError> {
    caller.write()?;
    let b = body_of(body)?;
    let mut spec = ClientSpec {
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
    crate::centres::new_client_defaults(&st.runner.db, &caller.0.centre, &mut spec)
        .await?
        .map_err(|why| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, why))?;
    let mut checked = actions::check(&st.runner, &spec)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e))?;
    // A client added through the API belongs to the token's centre.
    checked.client.centre.clone_from(&caller.0.centre);
    let actor = caller.0.actor();
    if actions::add(&st.runner, &checked, &actor).await? == actions::Added::Existing {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("client {} exists", checked.client.id),
        ));
    }
    let id = checked.client.id.clone();
    let now = to_ms(st.runner.clock.now());
    crate::web::clients::set_profile(&st.runner.db, &id, b.name.as_deref(), None, &actor, now)
        .await?;
    let f = ClientFilter {
        q: Some(id.to_string()),
        centre: Some(caller.0.centre.clone()),
        ..ClientFilter::default()
    };
    let (list, _) = crate::web::clients::client_list(&st.runner.db, &f, 200, 0).await?;
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

/// One client.
#[utoipa::path(get, path = "/api/v1/clients/{id}", params(ClientPath), responses(
    (status = 200, description = "The client", body = ClientDetail),
    (status = 400, description = "A malformed id or query", body = ErrorBody),
    (status = 401, description = "No or bad token", body = ErrorBody),
    (status = 404, description = "No such client", body = ErrorBody),
    (status = 503, description = "The database is unreachable; try again", body = ErrorBody)
))]
pub(super) async fn get_client(
    State(st): State<AppState>,
    caller: Caller,
    ClientPath { id }: ClientPath,
) -> Result<Json<ClientDetail>, ApiError> {
    let r = read_record(&st, &caller, &id).await?;
    let meta = crate::web::page::client_meta(&st.runner.db, &id).await?;
    Ok(Json(ClientDetail {
        client: r.client,
        name: meta.as_ref().and_then(|m| m.name.clone()),
        navigator: meta.and_then(|m| m.navigator),
    }))
}
