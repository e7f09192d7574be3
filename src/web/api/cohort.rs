//! The cohort's figures for an evaluator's system: the same as the Cohort page, over the same
//! filters, with every cell of fewer than five clients shown as "< 5".

use super::{ApiQuery, Caller};
use crate::evaluation::{self, Cohort, Filter};
use crate::web::{ApiError, AppState, ErrorBody};
use axum::Json;
use axum::extract::State;

/// The cohort's figures: uptake, every measure at baseline, 3 and 6 months with paired change,
/// goals, health-system use, experience, and outcomes by group. Small cells are suppressed.
#[utoipa::path(get, path = "/api/v1/cohort", params(Filter), responses(
    (status = 200, description = "The cohort's figures, small cells shown as \"< 5\"", body = Cohort),
    (status = 400, description = "A malformed query", body = ErrorBody),
    (status = 401, description = "No or bad token", body = ErrorBody),
    (status = 503, description = "The database is unreachable; try again", body = ErrorBody)
))]
pub(super) async fn cohort(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(mut f): ApiQuery<Filter>,
) -> Result<Json<Cohort>, ApiError> {
    f.centre = Some(caller.0.centre.clone());
    let facts = evaluation::facts(&st.runner.db, None, &f, st.runner.centre.time_zone).await?;
    let c = evaluation::cohort(&facts);
    caller
        .audit(
            &st,
            "api-cohort",
            None,
            &format!("{} referrals", facts.len()),
        )
        .await?;
    Ok(Json(c))
}
