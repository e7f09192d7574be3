//! The whole evaluation (the guidebook's Step 6, DESIGN §6): one fact row per referral with
//! every measure at baseline, 3 and 6 months, goal attainment, banded sociodemographics,
//! health-system use and the client's experience; the cohort's figures over any filter, with
//! outcomes and uptake stratified by each sociodemographic variable and by newcomer status.
//! Any cell with fewer than [`MIN_CELL`] clients is shown as "< 5" on the page, in the exports
//! and in the API.

use crate::equity;
use crate::store::{Db, Doing, StoreError};
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;

mod figures;
pub use figures::*;

/// The smallest number of clients a figure may describe.
pub const MIN_CELL: usize = 5;
/// What a suppressed cell shows.
pub const SUPPRESSED: &str = "< 5";
/// What a cell hidden so that a small one cannot be worked out from the total shows (Statistics
/// Canada's mark for data suppressed for confidentiality).
pub const HIDDEN: &str = "x";

/// The measures, each at baseline, 3 and 6 months: the instruments' scores (categories as
/// their rank), then the client's goal ratings (0–10).
pub const MEASURES: [&str; 9] = [
    "ucla3",
    "ons-loneliness",
    "ons4-life-satisfaction",
    "ons4-worthwhile",
    "ons4-happy",
    "ons4-anxious",
    "cchs-belonging",
    "cchs-mental-health",
    "goal-rating",
];
pub const POINTS: [&str; 3] = ["baseline", "3-month", "6-month"];
/// The health-system use columns of the import.
pub const USES: [&str; 3] = ["primary_care", "ed_visits", "admissions"];

/// A category measure as a rank: higher is more of what the label says (lonelier, stronger
/// belonging, better mental health).
#[must_use]
pub fn rank(instrument: &str, category: &str) -> Option<i64> {
    let order: &[&str] = match instrument {
        "ons-loneliness" => &[
            "never",
            "hardly-ever",
            "occasionally",
            "some-of-the-time",
            "often-always",
        ],
        "cchs-belonging" => &[
            "very-weak",
            "somewhat-weak",
            "somewhat-strong",
            "very-strong",
        ],
        "cchs-mental-health" => &["poor", "fair", "good", "very-good", "excellent"],
        _ => return None,
    };
    order
        .iter()
        .position(|c| *c == category)
        .and_then(|p| i64::try_from(p + 1).ok())
}

/// Everything the evaluation knows of one referral.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Fact {
    pub referral: i64,
    pub client: String,
    pub chart_number: Option<String>,
    pub referred_at: i64,
    pub referred_by: Option<String>,
    pub reasons: Vec<String>,
    pub rx_type: Option<String>,
    pub program: Option<String>,
    pub program_code: Option<String>,
    pub support_level: Option<String>,
    pub uptake: String,
    pub closed_at: Option<i64>,
    pub closing_reason: Option<String>,
    pub language: String,
    pub navigator: Option<i64>,
    /// (measure, time point) → value; goal ratings as a mean over the referral's goals.
    pub values: BTreeMap<(String, String), f64>,
    /// (measure, time point) → as recorded: a total, or a category (`often-always`).
    pub raw: BTreeMap<(String, String), String>,
    pub goals: usize,
    pub goals_met: usize,
    /// Sociodemographics (already bands), where the client consented.
    pub sdoh: BTreeMap<String, String>,
    pub newcomer: Option<bool>,
    /// (period, use) → visits.
    pub health: BTreeMap<(String, String), i64>,
    /// Experience: felt heard, would recommend (yes | no), the latest.
    pub heard: Option<String>,
    pub recommend: Option<String>,
    /// The referrer's feedback: how useful (1–5), would refer again.
    pub provider_useful: Option<i64>,
    pub provider_would_refer: Option<bool>,
}

impl Fact {
    #[must_use]
    pub fn value(&self, measure: &str, point: &str) -> Option<f64> {
        self.values
            .get(&(measure.to_owned(), point.to_owned()))
            .copied()
    }
}

/// What the cohort is narrowed to. Empty: everything.
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Filter {
    /// Referred on or after, YYYY-MM-DD (the centre's dates).
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub program: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub navigator: String,
    #[serde(default)]
    pub referrer: String,
    /// One centre's referrals only (none: every centre's). Set by the server from who asks,
    /// never from the query.
    #[serde(skip)]
    pub centre: Option<String>,
}

impl Filter {
    fn keeps(&self, f: &Fact, tz: chrono_tz::Tz) -> bool {
        let day = crate::clock::from_ms(f.referred_at)
            .with_timezone(&tz)
            .format("%Y-%m-%d")
            .to_string();
        let is = |want: &str, got: Option<&str>| want.is_empty() || got == Some(want);
        (self.from.is_empty() || day.as_str() >= self.from.as_str())
            && (self.to.is_empty() || day.as_str() <= self.to.as_str())
            && is(self.program.trim(), f.program_code.as_deref())
            && (self.reason.is_empty() || f.reasons.contains(&self.reason))
            && is(self.level.trim(), f.support_level.as_deref())
            && is(self.language.trim(), Some(f.language.as_str()))
            && (self.navigator.is_empty()
                || f.navigator.map(|n| n.to_string()).as_deref() == Some(self.navigator.trim()))
            && is(self.referrer.trim(), f.referred_by.as_deref())
    }
}

/// Reads every referral of a real client (a navigator's own clients only, for a `viewer`).
#[allow(clippy::too_many_lines)] // one read per table, then one pass to fold them
pub async fn facts(
    db: &Db,
    viewer: Option<i64>,
    filter: &Filter,
    tz: chrono_tz::Tz,
) -> Result<Vec<Fact>, StoreError> {
    let v = (i64::from(viewer.is_some()), viewer.unwrap_or(0));
    let rows = sqlx::query(
        "SELECT r.id, r.client_id, c.chart_number, r.referred_at, r.referred_by, r.reasons, r.rx_type, r.program, \
                p.code, r.support_level, r.uptake, r.closed_at, r.closing_reason, c.language, c.navigator_id \
         FROM referrals r JOIN clients c ON c.id = r.client_id LEFT JOIN programs p ON p.id = r.program_id \
         WHERE c.kind = 'real' AND ($1 = 0 OR c.navigator_id = $2) AND ($3 = '' OR c.centre_id = $3) ORDER BY r.id",
    )
    .bind(v.0)
    .bind(v.1)
    .bind(filter.centre.clone().unwrap_or_default())
    .fetch_all(db.pool())
    .await
    .doing("reading referrals for the evaluation")?;
    let mut facts = Vec::with_capacity(rows.len());
    for r in &rows {
        let reasons: String = r.try_get(5).doing("reading the evaluation")?;
        facts.push(Fact {
            referral: r.try_get(0).doing("reading the evaluation")?,
            client: r.try_get(1).doing("reading the evaluation")?,
            chart_number: r.try_get(2).doing("reading the evaluation")?,
            referred_at: r.try_get(3).doing("reading the evaluation")?,
            referred_by: r
                .try_get::<Option<String>, _>(4)
                .doing("reading the evaluation")?
                .filter(|s| !s.trim().is_empty()),
            reasons: reasons
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            rx_type: r.try_get(6).doing("reading the evaluation")?,
            program: r.try_get(7).doing("reading the evaluation")?,
            program_code: r.try_get(8).doing("reading the evaluation")?,
            support_level: r.try_get(9).doing("reading the evaluation")?,
            uptake: r.try_get(10).doing("reading the evaluation")?,
            closed_at: r.try_get(11).doing("reading the evaluation")?,
            closing_reason: r.try_get(12).doing("reading the evaluation")?,
            language: r.try_get(13).doing("reading the evaluation")?,
            navigator: r.try_get(14).doing("reading the evaluation")?,
            ..Fact::default()
        });
    }
    facts.retain(|f| filter.keeps(f, tz));
    let index: BTreeMap<i64, usize> = facts
        .iter()
        .enumerate()
        .map(|(k, f)| (f.referral, k))
        .collect();
    // A client's latest referral kept: where their goals and answers with no referral go.
    let mut latest: BTreeMap<String, usize> = BTreeMap::new();
    for (k, f) in facts.iter().enumerate() {
        latest.insert(f.client.clone(), k);
    }

    // Scores of each referral, the latest at each time point.
    let scores = sqlx::query(
        "SELECT s.referral_id, s.instrument, COALESCE(s.time_point, 'ad-hoc'), s.total, s.category FROM scores s \
         WHERE s.complete = 1 AND s.referral_id IS NOT NULL ORDER BY s.id",
    )
    .fetch_all(db.pool())
    .await
    .doing("reading scores for the evaluation")?;
    for s in &scores {
        let referral: i64 = s.try_get(0).doing("reading the evaluation")?;
        let Some(k) = index.get(&referral) else {
            continue;
        };
        let instrument: String = s.try_get(1).doing("reading the evaluation")?;
        let tp: String = s.try_get(2).doing("reading the evaluation")?;
        let total: Option<i64> = s.try_get(3).doing("reading the evaluation")?;
        let category: Option<String> = s.try_get(4).doing("reading the evaluation")?;
        if let Some(raw) = total.map(|t| t.to_string()).or_else(|| category.clone()) {
            facts[*k].raw.insert((instrument.clone(), tp.clone()), raw);
        }
        let value = total.or_else(|| category.and_then(|c| rank(&instrument, &c)));
        #[allow(clippy::cast_precision_loss)]
        if let Some(v) = value {
            facts[*k].values.insert((instrument, tp), v as f64);
        }
    }

    // Goals: how many, how many met, and the mean rating at each time point (the first rating
    // is the baseline; then the latest by 3 and by 6 months after the referral).
    let goals: Vec<(i64, String, Option<i64>, String)> = sqlx::query_as(
        "SELECT g.id, g.client_id, g.referral_id, g.status FROM goals g ORDER BY g.id",
    )
    .fetch_all(db.pool())
    .await
    .doing("reading goals for the evaluation")?;
    let ratings: Vec<(i64, i64, i64)> =
        sqlx::query_as("SELECT goal_id, rating, at FROM goal_ratings ORDER BY id")
            .fetch_all(db.pool())
            .await
            .doing("reading goal ratings for the evaluation")?;
    let mut by_goal: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    for (g, r, at) in ratings {
        by_goal.entry(g).or_default().push((r, at));
    }
    let mut goal_sums: BTreeMap<(usize, &str), (f64, f64)> = BTreeMap::new();
    for (id, client, referral, status) in &goals {
        let k = match referral.and_then(|r| index.get(&r)) {
            Some(k) => *k,
            None => match latest.get(client) {
                Some(k) if referral.is_none() => *k,
                _ => continue,
            },
        };
        let f = &mut facts[k];
        f.goals += 1;
        if status == "met" {
            f.goals_met += 1;
        }
        let Some(rs) = by_goal.get(id) else { continue };
        let month = 30 * 24 * 3600 * 1000_i64;
        let at_point = |limit: i64| {
            rs.iter()
                .skip(1)
                .rfind(|(_, at)| *at <= f.referred_at + limit)
                .map(|r| r.0)
        };
        let points = [
            ("baseline", rs.first().map(|r| r.0)),
            ("3-month", at_point(3 * month + 15 * 24 * 3600 * 1000)),
            ("6-month", at_point(6 * month + 15 * 24 * 3600 * 1000)),
        ];
        for (tp, v) in points {
            if let Some(v) = v {
                let e = goal_sums.entry((k, tp)).or_default();
                #[allow(clippy::cast_precision_loss)]
                {
                    e.0 += v as f64;
                }
                e.1 += 1.0;
            }
        }
    }
    for ((k, tp), (sum, n)) in goal_sums {
        facts[k]
            .values
            .insert(("goal-rating".into(), tp.into()), sum / n);
    }

    // Sociodemographics (consented only) and health-system use, by client.
    let sdoh = equity::all(db).await?;
    let uses = sqlx::query(
        "SELECT client_id, period, primary_care, ed_visits, admissions FROM health_use ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .doing("reading health-system use")?;
    let mut health: BTreeMap<String, BTreeMap<(String, String), i64>> = BTreeMap::new();
    for u in &uses {
        let c: String = u.try_get(0).doing("reading the evaluation")?;
        let p: String = u.try_get(1).doing("reading the evaluation")?;
        for (i, name) in USES.iter().enumerate() {
            let n: i64 = u.try_get(2 + i).doing("reading the evaluation")?;
            health
                .entry(c.clone())
                .or_default()
                .insert((p.clone(), (*name).to_owned()), n);
        }
    }
    // Experience: the latest answers of the client.
    let experience: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT client_id, step_id, value FROM answers WHERE flow_id = 'experience' AND status = 'answered' ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .doing("reading experience answers")?;
    let mut exp: BTreeMap<(String, String), String> = BTreeMap::new();
    for (c, step, v) in experience {
        if let Some(v) = v {
            exp.insert((c, step), v);
        }
    }
    for (referral, useful, again) in crate::feedback::all(db).await? {
        if let Some(k) = index.get(&referral) {
            facts[*k].provider_useful = useful;
            facts[*k].provider_would_refer = again.map(|a| a != 0);
        }
    }
    for f in &mut facts {
        if let Some(s) = sdoh.get(&f.client) {
            f.sdoh.clone_from(s);
            f.newcomer = equity::newcomer(s);
        }
        if let Some(h) = health.get(&f.client) {
            f.health.clone_from(h);
        }
        f.heard = exp.get(&(f.client.clone(), "heard".into())).cloned();
        f.recommend = exp.get(&(f.client.clone(), "recommend".into())).cloned();
    }
    Ok(facts)
}
