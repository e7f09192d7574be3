//! The record's scores: each measure at baseline, 3 and 6 months (and the latest taken ad hoc),
//! the change from baseline to six months and whether it is better, and the trend charts.

use crate::store::record::Score;
use crate::web::ui::charts::{self, Chart};
use crate::web::ui::words::Words;
use serde::Serialize;
use std::collections::BTreeMap;

/// Time points in the order a chart shows them.
pub const TIME_POINTS: [&str; 3] = ["baseline", "3-month", "6-month"];

/// One measure's line of the table, in the reader's words.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub measure: String,
    pub baseline: Option<String>,
    pub three: Option<String>,
    pub six: Option<String>,
    pub other: Option<String>,
    /// `-5, better`.
    pub change: Option<String>,
}

/// Which way is better for a measure: `Some(true)` when a higher number is better; an ordered
/// measure lists its categories from best to worst.
enum Better {
    Higher,
    Lower,
    Order(&'static [&'static str]),
}

fn better(measure: &str) -> Option<Better> {
    Some(match measure {
        "ucla3" | "ons4-anxious" => Better::Lower,
        "ons4-life-satisfaction" | "ons4-worthwhile" | "ons4-happy" => Better::Higher,
        "ons-loneliness" => Better::Order(&[
            "never",
            "hardly-ever",
            "occasionally",
            "some-of-the-time",
            "often-always",
        ]),
        "cchs-belonging" => Better::Order(&[
            "very-strong",
            "somewhat-strong",
            "somewhat-weak",
            "very-weak",
        ]),
        "cchs-mental-health" => Better::Order(&["excellent", "very-good", "good", "fair", "poor"]),
        _ => return None,
    })
}

/// `-5, better`, or `better` for an ordered measure; `None` without both time points.
fn change(w: &Words<'_>, measure: &str, baseline: &Value, six: &Value) -> Option<String> {
    let word = |k: &str| w.key(k, &[]).unwrap_or_default();
    let verdict = |d: i64| {
        word(match d.signum() {
            0 => "change-same",
            1 => "change-better",
            _ => "change-worse",
        })
    };
    match (better(measure)?, baseline, six) {
        (Better::Higher, Value::Number(b), Value::Number(s)) => {
            Some(format!("{:+}, {}", s - b, verdict(s - b)))
        }
        (Better::Lower, Value::Number(b), Value::Number(s)) => {
            Some(format!("{:+}, {}", s - b, verdict(b - s)))
        }
        (Better::Order(order), Value::Category(b), Value::Category(s)) => {
            let rank = |c: &str| order.iter().position(|o| *o == c);
            let (b, s) = (rank(b)?, rank(s)?);
            Some(verdict(i64::try_from(b).ok()? - i64::try_from(s).ok()?))
        }
        _ => None,
    }
}

#[derive(Debug, Clone)]
enum Value {
    Number(i64),
    Category(String),
}

impl Value {
    fn of(s: &Score) -> Option<Self> {
        s.total
            .map(Value::Number)
            .or_else(|| s.category.clone().map(Value::Category))
    }

    fn shown(&self, w: &Words<'_>) -> String {
        match self {
            Value::Number(n) => n.to_string(),
            Value::Category(c) => w.option(c).unwrap_or_else(|| c.clone()),
        }
    }
}

/// The table's rows and the charts of a client's complete scores.
#[must_use]
pub fn table(w: &Words<'_>, scores: &[Score]) -> (Vec<Row>, Vec<Chart>) {
    let mut at: BTreeMap<String, [Option<Value>; 3]> = BTreeMap::new();
    let mut other: BTreeMap<String, Value> = BTreeMap::new();
    for s in scores.iter().filter(|s| s.complete) {
        let Some(v) = Value::of(s) else { continue };
        match s
            .time_point
            .as_deref()
            .and_then(|tp| TIME_POINTS.iter().position(|p| *p == tp))
        {
            Some(k) => at.entry(s.instrument.clone()).or_default()[k] = Some(v),
            None if s.time_point.is_none() => {
                other.insert(s.instrument.clone(), v);
                at.entry(s.instrument.clone()).or_default();
            }
            None => {}
        }
    }
    let rows = at
        .iter()
        .map(|(m, v)| Row {
            measure: w.code("measure", m),
            baseline: v[0].as_ref().map(|x| x.shown(w)),
            three: v[1].as_ref().map(|x| x.shown(w)),
            six: v[2].as_ref().map(|x| x.shown(w)),
            other: other.get(m).map(|x| x.shown(w)),
            change: v[0]
                .as_ref()
                .zip(v[2].as_ref())
                .and_then(|(b, s)| change(w, m, b, s)),
        })
        .collect();
    let numbers = |m: &str| -> Option<[Option<i64>; 3]> {
        let v = at.get(m)?;
        let n = |x: &Option<Value>| match x {
            Some(Value::Number(n)) => Some(*n),
            _ => None,
        };
        Some([n(&v[0]), n(&v[1]), n(&v[2])])
    };
    let labels = [
        w.key("baseline", &[]).unwrap_or_default(),
        w.key("three-months", &[]).unwrap_or_default(),
        w.key("six-months", &[]).unwrap_or_default(),
    ];
    let xl = [labels[0].as_str(), labels[1].as_str(), labels[2].as_str()];
    let mut list = Vec::new();
    if let Some(u) = numbers("ucla3") {
        list.push(charts::trend(
            &w.code("measure", "ucla3"),
            xl,
            3,
            9,
            &[(w.code("field", "ucla3"), u)],
        ));
    }
    let ons: Vec<(String, [Option<i64>; 3])> = at
        .keys()
        .filter(|k| k.starts_with("ons4-"))
        .filter_map(|k| Some((w.code("field", k), numbers(k)?)))
        .collect();
    if !ons.is_empty() {
        list.push(charts::trend(
            &w.key("chart-ons4", &[]).unwrap_or_default(),
            xl,
            0,
            10,
            &ons,
        ));
    }
    (rows, list)
}
