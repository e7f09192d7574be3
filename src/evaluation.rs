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
use std::collections::{BTreeMap, BTreeSet};

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
         WHERE c.kind = 'real' AND ($1 = 0 OR c.navigator_id = $2) ORDER BY r.id",
    )
    .bind(v.0)
    .bind(v.1)
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

/// A figure about some clients: shown with its n, or "< 5" with no n when fewer than five
/// clients are behind it (the n of a small cell would give it away).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Cell {
    /// How many clients the figure is about; none when the cell is suppressed.
    pub n: Option<usize>,
    pub text: String,
    /// The count behind it, suppressed or not: for sorting and tests, never shown.
    #[serde(skip)]
    pub count: usize,
}

impl Cell {
    #[must_use]
    pub fn new(n: usize, text: impl Into<String>) -> Self {
        if n < MIN_CELL {
            Cell {
                n: None,
                text: SUPPRESSED.into(),
                count: n,
            }
        } else {
            Cell {
                n: Some(n),
                text: text.into(),
                count: n,
            }
        }
    }

    #[must_use]
    pub fn count(n: usize) -> Self {
        Cell::new(n, n.to_string())
    }

    #[must_use]
    pub fn suppressed(&self) -> bool {
        self.n.is_none()
    }

    /// Hidden beside a lone small cell, whatever its size.
    fn hide(&mut self) {
        self.n = None;
        self.text = HIDDEN.into();
    }
}

/// Secondary suppression: where the rows of a table add up to a total shown elsewhere, one lone
/// small cell could be worked out by subtraction, so the next smallest row is hidden too.
fn hide_beside_a_lone_small_cell<T>(
    rows: &mut [T],
    cell: impl Fn(&T) -> &Cell,
    hide: impl Fn(&mut T),
) {
    if rows.iter().filter(|r| cell(r).suppressed()).count() != 1 {
        return;
    }
    let next = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| !cell(r).suppressed())
        .min_by_key(|(_, r)| cell(r).count)
        .map(|(k, _)| k);
    if let Some(k) = next {
        hide(&mut rows[k]);
    }
}

#[allow(clippy::cast_precision_loss)]
fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

/// The number of distinct clients among some facts.
fn clients<'a>(facts: impl IntoIterator<Item = &'a &'a Fact>) -> usize {
    facts
        .into_iter()
        .map(|f| f.client.as_str())
        .collect::<BTreeSet<_>>()
        .len()
}

/// One measure over the cohort: the mean at each time point, and the paired change from
/// baseline to 3 and to 6 months (referrals with both), each with its n.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeasureRow {
    pub measure: String,
    pub at: Vec<Cell>,
    pub change_3: Cell,
    pub change_6: Cell,
}

fn paired_change(facts: &[&Fact], measure: &str, point: &str) -> Cell {
    let pairs: Vec<(&Fact, f64)> = facts
        .iter()
        .filter_map(|f| Some((*f, f.value(measure, point)? - f.value(measure, "baseline")?)))
        .collect();
    let n = clients(&pairs.iter().map(|p| p.0).collect::<Vec<_>>());
    let d: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    Cell::new(n, format!("{:+.1}", mean(&d)))
}

#[must_use]
pub fn measure_row(facts: &[&Fact], measure: &str) -> MeasureRow {
    let at = POINTS
        .iter()
        .map(|tp| {
            let with: Vec<&Fact> = facts
                .iter()
                .copied()
                .filter(|f| f.value(measure, tp).is_some())
                .collect();
            let xs: Vec<f64> = with.iter().filter_map(|f| f.value(measure, tp)).collect();
            Cell::new(clients(&with), format!("{:.1}", mean(&xs)))
        })
        .collect();
    MeasureRow {
        measure: measure.to_owned(),
        at,
        change_3: paired_change(facts, measure, "3-month"),
        change_6: paired_change(facts, measure, "6-month"),
    }
}

/// A share of some facts: "40%" over its clients, suppressed when either side is small.
fn share(facts: &[&Fact], yes: impl Fn(&Fact) -> bool) -> Cell {
    let hit: Vec<&Fact> = facts.iter().copied().filter(|f| yes(f)).collect();
    let n = clients(&hit);
    if facts.is_empty() {
        return Cell::new(0, "—");
    }
    #[allow(clippy::cast_precision_loss)]
    let p = hit.len() as f64 * 100.0 / facts.len() as f64;
    Cell::new(n, format!("{p:.0}%"))
}

/// One group of a stratified table.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stratum {
    /// The variable's value (an option code, `newcomer`/`not-newcomer`, or `unknown`).
    pub value: String,
    pub clients: Cell,
    pub attended: Cell,
    /// UCLA-3, life satisfaction and belonging: paired change, baseline to 6 months.
    pub changes: Vec<Cell>,
}

/// Outcomes and uptake by one variable.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stratified {
    pub variable: String,
    pub strata: Vec<Stratum>,
}

/// The measures whose change a stratified table shows.
pub const STRATIFIED_MEASURES: [&str; 3] = ["ucla3", "ons4-life-satisfaction", "cchs-belonging"];

#[must_use]
pub fn stratify(facts: &[&Fact], variable: &str) -> Stratified {
    let key = |f: &Fact| -> String {
        if variable == "newcomer" {
            match f.newcomer {
                Some(true) => "newcomer".into(),
                Some(false) => "not-newcomer".into(),
                None => "unknown".into(),
            }
        } else {
            f.sdoh
                .get(variable)
                .cloned()
                .unwrap_or_else(|| "unknown".into())
        }
    };
    let mut groups: BTreeMap<String, Vec<&Fact>> = BTreeMap::new();
    for f in facts {
        groups.entry(key(f)).or_default().push(f);
    }
    // In the question's order, then "prefer not", "do not know", unknown.
    let order: Vec<String> = if variable == "newcomer" {
        vec!["newcomer".into(), "not-newcomer".into()]
    } else {
        equity::question(variable)
            .map(|q| q.options.iter().map(|o| (*o).to_owned()).collect())
            .unwrap_or_default()
    };
    let mut values: Vec<String> = order;
    for extra in [equity::PREFER_NOT, equity::DO_NOT_KNOW, "unknown"] {
        values.push(extra.to_owned());
    }
    let mut strata: Vec<Stratum> = values
        .into_iter()
        .filter_map(|v| {
            let g = groups.get(&v)?;
            Some(Stratum {
                clients: Cell::count(clients(g)),
                attended: share(g, |f| f.uptake == "attended"),
                changes: STRATIFIED_MEASURES
                    .iter()
                    .map(|m| paired_change(g, m, "6-month"))
                    .collect(),
                value: v,
            })
        })
        .collect();
    hide_beside_a_lone_small_cell(
        &mut strata,
        |s| &s.clients,
        |s| {
            s.clients.hide();
            s.attended.hide();
            for c in &mut s.changes {
                c.hide();
            }
        },
    );
    Stratified {
        variable: variable.to_owned(),
        strata,
    }
}

/// Health-system use before and after: the mean of each, over clients with both, and the change.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UseRow {
    pub kind: String,
    pub before: Cell,
    pub after: Cell,
    pub change: Cell,
}

/// Referrals for a reason (the clients referred for it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReasonRow {
    pub reason: String,
    pub clients: Cell,
}

/// Referrals at an uptake, and their share of all referrals.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UptakeRow {
    pub uptake: String,
    pub referrals: Cell,
    pub share: Cell,
}

/// How many of a flow's sessions were completed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResponseRow {
    pub flow: String,
    pub started: Cell,
    pub completed: Cell,
    pub rate: Cell,
}

/// Response rates per flow, over real clients (a navigator's own, for a `viewer`).
pub async fn responses(db: &Db, viewer: Option<i64>) -> Result<Vec<ResponseRow>, StoreError> {
    let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT s.flow_id, COUNT(*), SUM(CASE WHEN s.status = 'completed' THEN 1 ELSE 0 END) FROM sessions s \
         JOIN clients c ON c.id = s.client_id WHERE c.kind = 'real' AND ($1 = 0 OR c.navigator_id = $2) \
         GROUP BY s.flow_id ORDER BY s.flow_id",
    )
    .bind(i64::from(viewer.is_some()))
    .bind(viewer.unwrap_or(0))
    .fetch_all(db.pool())
    .await
    .doing("reading response rates")?;
    Ok(rows
        .into_iter()
        .map(|(flow, started, completed)| {
            let started = usize::try_from(started).unwrap_or(0);
            let completed = usize::try_from(completed.unwrap_or(0)).unwrap_or(0);
            #[allow(clippy::cast_precision_loss)]
            let rate = if started == 0 {
                "—".to_owned()
            } else {
                format!("{:.0}%", completed as f64 * 100.0 / started as f64)
            };
            ResponseRow {
                flow,
                started: Cell::count(started),
                completed: Cell::count(completed),
                rate: Cell::new(completed.min(started), rate),
            }
        })
        .collect())
}

/// The cohort's figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Cohort {
    pub referrals: Cell,
    pub clients: Cell,
    pub reasons: Vec<ReasonRow>,
    pub uptake: Vec<UptakeRow>,
    pub measures: Vec<MeasureRow>,
    pub goals: Cell,
    pub goals_met: Cell,
    pub health: Vec<UseRow>,
    pub heard: Cell,
    pub recommend: Cell,
    /// Referrers who found the follow-up useful (4 or 5 of 5), and who would refer again.
    pub provider_useful: Cell,
    pub provider_would_refer: Cell,
    pub stratified: Vec<Stratified>,
}

/// The variables a cohort is stratified by: every sociodemographic question, and newcomer status.
#[must_use]
pub fn variables() -> Vec<&'static str> {
    let mut v: Vec<&str> = equity::QUESTIONS.iter().map(|q| q.id).collect();
    v.push("newcomer");
    v
}

#[must_use]
pub fn cohort(facts: &[Fact]) -> Cohort {
    let all: Vec<&Fact> = facts.iter().collect();
    let mut reasons: BTreeMap<&str, Vec<&Fact>> = BTreeMap::new();
    for f in &all {
        for r in &f.reasons {
            reasons.entry(r.as_str()).or_default().push(f);
        }
    }
    let mut reasons: Vec<ReasonRow> = reasons
        .into_iter()
        .map(|(r, fs)| ReasonRow {
            reason: r.to_owned(),
            clients: Cell::count(clients(&fs)),
        })
        .collect();
    reasons.sort_by(|a, b| {
        b.clients
            .count
            .cmp(&a.clients.count)
            .then(a.reason.cmp(&b.reason))
    });
    let mut uptake: Vec<UptakeRow> = crate::domain::UPTAKES
        .iter()
        .map(|u| {
            let fs: Vec<&Fact> = all.iter().copied().filter(|f| f.uptake == *u).collect();
            UptakeRow {
                uptake: (*u).to_owned(),
                referrals: Cell::count(fs.len()),
                share: share(&all, |f| f.uptake == *u),
            }
        })
        .collect();
    hide_beside_a_lone_small_cell(
        &mut uptake,
        |u| &u.referrals,
        |u| {
            u.referrals.hide();
            u.share.hide();
        },
    );
    let with_goals: Vec<&Fact> = all.iter().copied().filter(|f| f.goals > 0).collect();
    let goals: usize = with_goals.iter().map(|f| f.goals).sum();
    let met: usize = with_goals.iter().map(|f| f.goals_met).sum();
    #[allow(clippy::cast_precision_loss)]
    let met_share = if goals == 0 {
        "—".to_owned()
    } else {
        format!("{:.0}%", met as f64 * 100.0 / goals as f64)
    };
    let met_clients = clients(
        &with_goals
            .iter()
            .copied()
            .filter(|f| f.goals_met > 0)
            .collect::<Vec<_>>(),
    );
    let health = USES
        .iter()
        .map(|u| {
            let pairs: Vec<(&Fact, i64, i64)> = all
                .iter()
                .filter_map(|f| {
                    Some((
                        *f,
                        *f.health.get(&("before".to_owned(), (*u).to_owned()))?,
                        *f.health.get(&("after".to_owned(), (*u).to_owned()))?,
                    ))
                })
                .collect();
            // One client, one pair (their referrals share the import).
            let mut seen = BTreeSet::new();
            let pairs: Vec<(i64, i64)> = pairs
                .into_iter()
                .filter(|(f, _, _)| seen.insert(f.client.clone()))
                .map(|(_, b, a)| (b, a))
                .collect();
            let n = pairs.len();
            #[allow(clippy::cast_precision_loss)]
            let b = mean(&pairs.iter().map(|p| p.0 as f64).collect::<Vec<_>>());
            #[allow(clippy::cast_precision_loss)]
            let a = mean(&pairs.iter().map(|p| p.1 as f64).collect::<Vec<_>>());
            UseRow {
                kind: (*u).to_owned(),
                before: Cell::new(n, format!("{b:.1}")),
                after: Cell::new(n, format!("{a:.1}")),
                change: Cell::new(n, format!("{:+.1}", a - b)),
            }
        })
        .collect();
    let answered_heard: Vec<&Fact> = all.iter().copied().filter(|f| f.heard.is_some()).collect();
    let answered_rec: Vec<&Fact> = all
        .iter()
        .copied()
        .filter(|f| f.recommend.is_some())
        .collect();
    Cohort {
        referrals: Cell::count(all.len()),
        clients: Cell::count(clients(&all)),
        reasons,
        uptake,
        measures: MEASURES.iter().map(|m| measure_row(&all, m)).collect(),
        goals: Cell::new(clients(&with_goals), goals.to_string()),
        goals_met: Cell::new(met_clients, met_share),
        health,
        heard: share(&answered_heard, |f| f.heard.as_deref() == Some("yes")),
        recommend: share(&answered_rec, |f| f.recommend.as_deref() == Some("yes")),
        provider_useful: share(
            &all.iter()
                .copied()
                .filter(|f| f.provider_useful.is_some())
                .collect::<Vec<_>>(),
            |f| f.provider_useful.is_some_and(|u| u >= 4),
        ),
        provider_would_refer: share(
            &all.iter()
                .copied()
                .filter(|f| f.provider_would_refer.is_some())
                .collect::<Vec<_>>(),
            |f| f.provider_would_refer == Some(true),
        ),
        stratified: variables().iter().map(|v| stratify(&all, v)).collect(),
    }
}

/// The cohort's figures as a CSV, every cell as the page shows it (small cells "< 5", their n
/// left out): `section, variable, group, figure, time point, value, n`.
pub fn cohort_csv(c: &Cohort, out: impl std::io::Write) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "section",
        "variable",
        "group",
        "figure",
        "time_point",
        "value",
        "n",
    ])?;
    let n = |c: &Cell| c.n.map(|n| n.to_string()).unwrap_or_default();
    let mut row = |section: &str, var: &str, group: &str, figure: &str, tp: &str, cell: &Cell| {
        w.write_record([section, var, group, figure, tp, &cell.text, &n(cell)])
    };
    row("cohort", "", "", "referrals", "", &c.referrals)?;
    row("cohort", "", "", "clients", "", &c.clients)?;
    for r in &c.reasons {
        row("reasons", "reason", &r.reason, "clients", "", &r.clients)?;
    }
    for u in &c.uptake {
        row("uptake", "uptake", &u.uptake, "referrals", "", &u.referrals)?;
        row("uptake", "uptake", &u.uptake, "share", "", &u.share)?;
    }
    for m in &c.measures {
        for (tp, cell) in POINTS.iter().zip(&m.at) {
            row("outcomes", &m.measure, "", "mean", tp, cell)?;
        }
        row(
            "outcomes",
            &m.measure,
            "",
            "paired change",
            "3-month",
            &m.change_3,
        )?;
        row(
            "outcomes",
            &m.measure,
            "",
            "paired change",
            "6-month",
            &m.change_6,
        )?;
    }
    row("goals", "", "", "goals set", "", &c.goals)?;
    row("goals", "", "", "share met", "", &c.goals_met)?;
    for h in &c.health {
        row("health-use", &h.kind, "", "mean before", "", &h.before)?;
        row("health-use", &h.kind, "", "mean after", "", &h.after)?;
        row("health-use", &h.kind, "", "change", "", &h.change)?;
    }
    row("experience", "", "", "felt heard", "", &c.heard)?;
    row("experience", "", "", "would recommend", "", &c.recommend)?;
    row(
        "referrers",
        "",
        "",
        "found it useful",
        "",
        &c.provider_useful,
    )?;
    row(
        "referrers",
        "",
        "",
        "would refer again",
        "",
        &c.provider_would_refer,
    )?;
    for s in &c.stratified {
        for g in &s.strata {
            row("by group", &s.variable, &g.value, "clients", "", &g.clients)?;
            row(
                "by group",
                &s.variable,
                &g.value,
                "attended",
                "",
                &g.attended,
            )?;
            for (m, cell) in STRATIFIED_MEASURES.iter().zip(&g.changes) {
                row(
                    "by group",
                    &s.variable,
                    &g.value,
                    &format!("{m} paired change"),
                    "6-month",
                    cell,
                )?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(client: &str, uptake: &str, race: &str, base: i64, six: i64) -> Fact {
        let mut f = Fact {
            client: client.into(),
            uptake: uptake.into(),
            ..Fact::default()
        };
        f.sdoh.insert("race".into(), race.into());
        #[allow(clippy::cast_precision_loss)]
        {
            f.values
                .insert(("ucla3".into(), "baseline".into()), base as f64);
            f.values
                .insert(("ucla3".into(), "6-month".into()), six as f64);
        }
        f
    }

    #[test]
    fn a_cell_of_fewer_than_five_clients_is_suppressed() {
        assert_eq!(Cell::count(4).text, "< 5");
        assert_eq!(Cell::count(0).text, "< 5");
        assert_eq!(Cell::count(5).text, "5");
        assert!(Cell::new(2, "7.5").suppressed());
    }

    #[test]
    fn a_lone_small_group_takes_the_next_smallest_with_it() {
        let mut facts: Vec<Fact> = (0..6)
            .map(|i| fact(&format!("w{i}"), "attended", "white", 8, 5))
            .collect();
        facts.extend((0..5).map(|i| fact(&format!("a{i}"), "attended", "south-asian", 8, 6)));
        facts.push(fact("b0", "attended", "black", 9, 9));
        let all: Vec<&Fact> = facts.iter().collect();
        let s = stratify(&all, "race");
        let text = |v: &str| {
            s.strata
                .iter()
                .find(|x| x.value == v)
                .map(|x| x.clients.text.clone())
                .unwrap()
        };
        // Black alone would be 12 - 6 - 5: South Asian, the next smallest, is hidden too.
        assert_eq!(
            (text("black"), text("south-asian"), text("white")),
            ("< 5".into(), "x".into(), "6".into())
        );
        let sa = s.strata.iter().find(|x| x.value == "south-asian").unwrap();
        assert!(sa.changes.iter().all(|c| c.text == "x" && c.n.is_none()));
    }

    #[test]
    fn stratified_figures_are_paired_and_suppressed_by_group() {
        let mut facts: Vec<Fact> = (0..6)
            .map(|i| fact(&format!("w{i}"), "attended", "white", 8, 5))
            .collect();
        facts.extend((0..3).map(|i| fact(&format!("b{i}"), "declined", "black", 9, 9)));
        // Two small groups: neither can be worked out from the total, so White stays shown.
        facts.push(fact("p0", "attended", "prefer-not", 8, 8));
        let all: Vec<&Fact> = facts.iter().collect();
        let s = stratify(&all, "race");
        let white = s.strata.iter().find(|x| x.value == "white").unwrap();
        assert_eq!(white.clients.text, "6");
        assert_eq!(white.attended.text, "100%");
        assert_eq!(white.changes[0].text, "-3.0");
        let black = s.strata.iter().find(|x| x.value == "black").unwrap();
        assert_eq!(black.clients.text, "< 5");
        assert_eq!(black.changes[0].text, "< 5");
        // The whole cohort: 10 clients, 6 of them paired to a fall of 3, 4 to none.
        let m = measure_row(&all, "ucla3");
        assert_eq!(m.change_6.text, "-1.8");
        assert_eq!(m.change_6.n, Some(10));
        assert_eq!(m.at[0].text, "8.3");
        assert!(m.change_3.suppressed());
        assert_eq!(rank("cchs-belonging", "very-strong"), Some(4));
        assert_eq!(rank("ucla3", "x"), None);
    }
}
