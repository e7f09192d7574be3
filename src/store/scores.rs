//! Scores at their time points, for the cohort and the exports.

use super::{Db, Doing, StoreError};
use sqlx::Row;
use std::collections::BTreeMap;

/// A score at a time point, for the cohort and the exports.
#[derive(Debug, Clone)]
pub struct ScorePoint {
    pub client: String,
    pub instrument: String,
    pub time_point: String,
    pub total: Option<i64>,
    pub category: Option<String>,
    pub at: i64,
}

/// The time point of a survey started with none.
pub const AD_HOC: &str = "ad-hoc";

/// Every complete score of a real client, oldest first (a later one at the same time point wins
/// where they are folded); a survey started with no time point is at [`AD_HOC`].
pub async fn score_points(db: &Db, viewer: Option<i64>) -> Result<Vec<ScorePoint>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.client_id, s.instrument, COALESCE(s.time_point, 'ad-hoc'), s.total, s.category, s.at FROM scores s JOIN clients c ON c.id = s.client_id \
         WHERE s.complete = 1 AND c.kind = 'real' AND ($1 = 0 OR c.navigator_id = $2) ORDER BY s.id",
    )
    .bind(i64::from(viewer.is_some()))
    .bind(viewer.unwrap_or(0))
    .fetch_all(db.pool())
    .await
    .doing("reading scores")?;
    rows.iter()
        .map(|r| {
            Ok(ScorePoint {
                client: r.try_get(0)?,
                instrument: r.try_get(1)?,
                time_point: r.try_get(2)?,
                total: r.try_get(3)?,
                category: r.try_get(4)?,
                at: r.try_get(5)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("reading scores")
}

/// Paired baseline and six-month values of a measure: client → (baseline, 6-month), the latest of each.
#[must_use]
pub fn paired(points: &[ScorePoint], instrument: &str) -> BTreeMap<String, (i64, i64)> {
    let mut base: BTreeMap<&str, i64> = BTreeMap::new();
    let mut six: BTreeMap<&str, i64> = BTreeMap::new();
    for p in points.iter().filter(|p| p.instrument == instrument) {
        let Some(t) = p.total else { continue };
        match p.time_point.as_str() {
            "baseline" => {
                base.insert(&p.client, t);
            }
            "6-month" => {
                six.insert(&p.client, t);
            }
            _ => {}
        }
    }
    base.into_iter()
        .filter_map(|(c, b)| six.get(c).map(|s| (c.to_owned(), (b, *s))))
        .collect()
}
