//! The API's view of a client's record: referrals, enrolments (and enrolling), answers, scores;
//! and the open tasks of all clients.

use super::{ApiQuery, Caller, ClientPath, PageParams, client_id, json_body, read_record};
use crate::schedule::actions::{self};
use crate::store::record::{Answer, Referral, Score};
use crate::web::Task;
use crate::web::{ApiError, AppState, ErrorBody};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerPage {
    pub items: Vec<Answer>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

/// A client's referrals.
#[utoipa::path(get, path = "/api/v1/clients/{id}/referrals", params(ClientPath), responses(
    (status = 200, description = "Referrals, oldest first", body = [Referral]),
    (status = 400, description = "A malformed id or query", body = ErrorBody),
    (status = 401, description = "No or bad token", body = ErrorBody),
    (status = 404, description = "No such client", body = ErrorBody),
    (status = 503, description = "The database is unreachable; try again", body = ErrorBody)
))]
pub(super) async fn client_referrals(
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
pub(super) async fn client_enrolments(
    State(st): State<AppState>,
    caller: Caller,
    ClientPath { id }: ClientPath,
) -> Result<Json<Vec<Enrolment>>, ApiError> {
    client_id(&id)?;
    if crate::web::page::client_meta(&st.runner.db, &id)
        .await?
        .is_none()
    {
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
pub(super) async fn enrol_client(
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
pub(super) async fn client_answers(
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
pub(super) async fn client_scores(
    State(st): State<AppState>,
    caller: Caller,
    ClientPath { id }: ClientPath,
) -> Result<Json<Vec<Score>>, ApiError> {
    Ok(Json(read_record(&st, &caller, &id).await?.scores))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskPage {
    pub items: Vec<Task>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

/// Open tasks and flags, crisis first.
#[utoipa::path(get, path = "/api/v1/tasks", params(PageParams), responses(
    (status = 200, description = "A page of open tasks", body = TaskPage),
    (status = 400, description = "A malformed query or paging out of bounds", body = ErrorBody),
    (status = 401, description = "No or bad token", body = ErrorBody),
    (status = 503, description = "The database is unreachable; try again", body = ErrorBody)
))]
pub(super) async fn list_tasks(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<TaskPage>, ApiError> {
    let (page, per) = p.resolve()?;
    let (items, total) = crate::web::today::open_tasks(
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
