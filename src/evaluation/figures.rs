//! The cohort's figures from the evaluation's facts: cells suppressed under five clients (and a
//! lone small cell's neighbour hidden), every measure with its paired change, outcomes and uptake
//! by group, and the same as a CSV for reports.

use super::{Fact, HIDDEN, MEASURES, MIN_CELL, POINTS, SUPPRESSED, USES};
use crate::equity;
use crate::store::{Db, Doing, StoreError};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

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

/// Response rates per flow, over real clients (a navigator's own, for a `viewer`; one centre's,
/// for a `centre`).
pub async fn responses(
    db: &Db,
    viewer: Option<i64>,
    centre: Option<&str>,
) -> Result<Vec<ResponseRow>, StoreError> {
    let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT s.flow_id, COUNT(*), SUM(CASE WHEN s.status = 'completed' THEN 1 ELSE 0 END) FROM sessions s \
         JOIN clients c ON c.id = s.client_id WHERE c.kind = 'real' AND ($1 = 0 OR c.navigator_id = $2) \
         AND ($3 = '' OR c.centre_id = $3) GROUP BY s.flow_id ORDER BY s.flow_id",
    )
    .bind(i64::from(viewer.is_some()))
    .bind(viewer.unwrap_or(0))
    .bind(centre.unwrap_or_default())
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
    use super::super::rank;
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
