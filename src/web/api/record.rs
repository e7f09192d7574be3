//! The API's view of a client's record: referrals, enrolments (and enrolling), answers, scores;
//! and the open tasks of all clients.

use super::{ApiQuery, Caller, ClientPath, PageParams, ReferralPath, body_of, read_record};
use crate::enrolment::actions::{self};
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

/// A referral to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReferralBody {
    /// Who referred: the provider's name.
    pub referred_by: Option<String>,
    /// Their role (family physician, nurse practitioner…).
    pub role: Option<String>,
    /// Their organisation.
    pub organisation: Option<String>,
    /// Reason codes: social-isolation, loneliness, low-mood, food-insecurity, housing, income,
    /// transportation, bereavement, other.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// A program of the catalogue, by its code; its details are texted to the client.
    pub program: Option<String>,
    /// A program outside the catalogue, by name.
    pub program_other: Option<String>,
    /// signposting | light | medium | holistic
    pub support_level: Option<String>,
    /// `YYYY-MM-DD`; default today.
    pub referred_on: Option<String>,
    /// The client agrees (true) or not (false) to a text the day before each session of the
    /// program, recorded in the consent ledger; left out: unchanged.
    pub reminders: Option<bool>,
}

/// What changes on a referral: its uptake, reasons, level, or its closing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralPatchBody {
    /// not-yet | attended | declined | dropped-out
    pub uptake: Option<String>,
    pub reasons: Option<Vec<String>>,
    pub support_level: Option<String>,
    /// Closes the referral with this reason: goal-met, attended, declined, no-contact, moved,
    /// referred-elsewhere, other.
    pub closing_reason: Option<String>,
}

async fn one_referral(
    st: &AppState,
    caller: &Caller,
    id: &str,
    rid: i64,
) -> Result<Referral, ApiError> {
    read_record(st, caller, id)
        .await?
        .referrals
        .into_iter()
        .find(|r| r.id == rid)
        .ok_or_else(|| ApiError::not_found(format!("client {id} has no referral {rid}")))
}

/// Makes a referral for a client (write scope); a program of the catalogue is texted to them.
#[utoipa::path(post, path = "/api/v1/clients/{id}/referrals", params(ClientPath), request_body = NewReferralBody, responses(
    (status = 201, description = "Made", body = Referral),
    (status = 400, description = "A malformed id, malformed JSON, or fields that are not the schema's", body = ErrorBody),
    (status = 401, description = "No or bad token", body = ErrorBody),
    (status = 403, description = "A read-only token", body = ErrorBody),
    (status = 404, description = "No such client", body = ErrorBody),
    (status = 413, description = "A body over 64 KiB", body = ErrorBody),
    (status = 415, description = "Not application/json", body = ErrorBody),
    (status = 422, description = "A field is invalid (a reason, a level, a program, a date)", body = ErrorBody),
    (status = 503, description = "The database is unreachable; try again", body = ErrorBody)
))]
pub(super) async fn create_referral(
    State(st): State<AppState>,
    caller: Caller,
    ClientPath { id }: ClientPath,
    body: Result<Json<NewReferralBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    caller.write()?;
    let c = caller.client(&st, &id).await?;
    let b = body_of(body)?;
    let who: Vec<String> = [b.referred_by, b.role, b.organisation]
        .into_iter()
        .flatten()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let spec = crate::runner::referrals::NewReferralSpec {
        referred_by: (!who.is_empty()).then(|| who.join(", ")),
        reasons: b.reasons,
        program_code: b.program,
        program_other: b.program_other,
        support_level: b.support_level,
        referred_on: b.referred_on,
        reminders: b.reminders,
    };
    let rid =
        crate::runner::referrals::add_referral(&st.runner, &c, &spec, &caller.0.actor()).await?;
    Ok((
        StatusCode::CREATED,
        Json(one_referral(&st, &caller, &id, rid).await?),
    )
        .into_response())
}

/// Changes a referral: its uptake, reasons or level, or closes it (write scope).
#[utoipa::path(patch, path = "/api/v1/clients/{id}/referrals/{rid}", params(ReferralPath), request_body = ReferralPatchBody, responses(
    (status = 200, description = "Changed", body = Referral),
    (status = 400, description = "A malformed id, malformed JSON, or fields that are not the schema's", body = ErrorBody),
    (status = 401, description = "No or bad token", body = ErrorBody),
    (status = 403, description = "A read-only token", body = ErrorBody),
    (status = 404, description = "No such client or referral", body = ErrorBody),
    (status = 413, description = "A body over 64 KiB", body = ErrorBody),
    (status = 415, description = "Not application/json", body = ErrorBody),
    (status = 422, description = "A field is invalid, or the referral is already closed", body = ErrorBody),
    (status = 503, description = "The database is unreachable; try again", body = ErrorBody)
))]
pub(super) async fn patch_referral(
    State(st): State<AppState>,
    caller: Caller,
    path: ReferralPath,
    body: Result<Json<ReferralPatchBody>, JsonRejection>,
) -> Result<Json<Referral>, ApiError> {
    caller.write()?;
    let (id, rid) = (path.id.clone(), path.rid);
    let c = caller.client(&st, &id).await?;
    let b = body_of(body)?;
    // Another client's referral is not found here.
    one_referral(&st, &caller, &id, rid).await?;
    let p = crate::runner::referrals::ReferralPatch {
        uptake: b.uptake,
        reasons: b.reasons,
        support_level: b.support_level,
        closing_reason: b.closing_reason,
    };
    crate::runner::referrals::patch_referral(&st.runner, &c, rid, &p, &caller.0.actor()).await?;
    Ok(Json(one_referral(&st, &caller, &id, rid).await?))
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
    /// The referral it follows up: the sessions it starts, and their scores, carry it.
    pub referral_id: Option<i64>,
}

async fn enrolments(st: &AppState, id: &str) -> Result<Vec<Enrolment>, ApiError> {
    let rows = sqlx::query(
        "SELECT id, sequence_id, status, enrolled_at, end_reason, referral_id FROM enrolments WHERE client_id = $1 ORDER BY id",
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
                referral_id: r.try_get(5)?,
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
    caller.client(&st, &id).await?;
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
    /// The open referral it follows up; the client's latest open referral when left out.
    #[serde(default)]
    pub referral_id: Option<i64>,
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
    let c = caller.client(&st, &id).await?;
    let b = body_of(body)?;
    let e = actions::enrol_for(
        &st.runner,
        &c,
        &b.sequence,
        b.referral_id,
        &caller.0.actor(),
    )
    .await?;
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
        Some(&caller.0.centre),
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
