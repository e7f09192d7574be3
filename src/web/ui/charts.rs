//! Server-rendered SVG charts: only coordinates are computed here; the markup is the
//! `chart.html` template, so every label is escaped like the rest of the page.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub title: String,
    /// What the chart shows, for screen readers.
    pub summary: String,
    pub width: i64,
    pub height: i64,
    pub left: i64,
    pub right: i64,
    pub grid: Vec<Tick>,
    pub xs: Vec<XLabel>,
    pub series: Vec<Series>,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tick {
    pub y: i64,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct XLabel {
    pub x: i64,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub points: Vec<Point>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub x: i64,
    pub y: i64,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    pub color: &'static str,
    pub label: String,
    pub value: String,
}

/// Colours that keep 4.5:1 contrast on white.
const COLORS: [&str; 5] = ["#0b4f9c", "#a4330a", "#2e6b30", "#6a3d9a", "#7a5c00"];
const TOP: i64 = 12;
const PLOT_H: i64 = 150;

#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
fn y_of(v: f64, min: f64, max: f64) -> i64 {
    let span = (max - min).max(1.0);
    TOP + ((max - v) / span * PLOT_H as f64).round() as i64
}

fn grid(min: i64, max: i64) -> Vec<Tick> {
    let step = ((max - min) / 5).max(1);
    let mut out = Vec::new();
    let mut v = min;
    while v <= max {
        #[allow(clippy::cast_precision_loss)]
        out.push(Tick {
            y: y_of(v as f64, min as f64, max as f64),
            label: v.to_string(),
        });
        v += step;
    }
    out
}

/// Lines over the three time points; a missing value leaves a gap in the points.
#[must_use]
pub fn trend(
    title: &str,
    x_labels: [&str; 3],
    min: i64,
    max: i64,
    series: &[(String, [Option<i64>; 3])],
) -> Chart {
    let (left, width) = (40, 420);
    let right = if series.len() > 1 { 300 } else { width - 20 };
    let xs: Vec<XLabel> = x_labels
        .iter()
        .enumerate()
        .map(|(i, l)| XLabel {
            x: left + 20 + i64::try_from(i).unwrap_or(0) * (right - left - 40) / 2,
            label: (*l).to_owned(),
        })
        .collect();
    let mut summary = Vec::new();
    let series: Vec<Series> = series
        .iter()
        .enumerate()
        .map(|(k, (name, vals))| {
            let points: Vec<Point> = vals
                .iter()
                .zip(&xs)
                .filter_map(|(v, x)| {
                    v.map(|v| {
                        #[allow(clippy::cast_precision_loss)]
                        Point {
                            x: x.x,
                            y: y_of(v as f64, min as f64, max as f64),
                            value: v.to_string(),
                        }
                    })
                })
                .collect();
            summary.push(format!(
                "{name} {}",
                vals.iter()
                    .zip(x_labels)
                    .filter_map(|(v, l)| v.map(|v| format!("{l} {v}")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            Series {
                name: name.clone(),
                color: COLORS[k % COLORS.len()],
                points,
            }
        })
        .collect();
    Chart {
        title: title.to_owned(),
        summary: summary.join("; "),
        width,
        height: TOP + PLOT_H + 28,
        left,
        right,
        grid: grid(min, max),
        xs,
        series,
        bars: Vec::new(),
    }
}

/// Bars, in groups: each group is a label and one value per series (e.g. baseline, 6 months).
#[must_use]
pub fn bars(title: &str, series_names: &[&str], groups: &[(String, Vec<f64>)]) -> Chart {
    let left = 40;
    let per = i64::try_from(series_names.len().max(1)).unwrap_or(1);
    let group_w = 24 * per + 24;
    let width = left + 20 + group_w * i64::try_from(groups.len()).unwrap_or(0) + 120;
    let max = groups
        .iter()
        .flat_map(|g| g.1.iter().copied())
        .fold(1.0_f64, f64::max)
        .ceil();
    #[allow(clippy::cast_possible_truncation)]
    let max_i = max as i64;
    let mut out = Vec::new();
    let mut xs = Vec::new();
    for (gi, (label, vals)) in groups.iter().enumerate() {
        let gx = left + 20 + i64::try_from(gi).unwrap_or(0) * group_w;
        xs.push(XLabel {
            x: gx + 12 * per,
            label: label.clone(),
        });
        for (si, v) in vals.iter().enumerate() {
            let y = y_of(*v, 0.0, max);
            out.push(Bar {
                x: gx + i64::try_from(si).unwrap_or(0) * 24,
                y,
                w: 20,
                h: TOP + PLOT_H - y,
                color: COLORS[si % COLORS.len()],
                label: format!("{label} {}", series_names.get(si).unwrap_or(&"")),
                value: if v.fract() == 0.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.1}")
                },
            });
        }
    }
    let summary = out
        .iter()
        .map(|b| format!("{} {}", b.label, b.value))
        .collect::<Vec<_>>()
        .join(", ");
    let series = if series_names.len() > 1 {
        series_names
            .iter()
            .enumerate()
            .map(|(i, n)| Series {
                name: (*n).to_owned(),
                color: COLORS[i % COLORS.len()],
                points: Vec::new(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Chart {
        title: title.to_owned(),
        summary,
        width,
        height: TOP + PLOT_H + 28,
        left,
        right: width - 110,
        grid: grid(0, max_i),
        xs,
        series,
        bars: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lower_score_is_drawn_lower() {
        let c = trend(
            "UCLA-3",
            ["baseline", "3 months", "6 months"],
            3,
            9,
            &[("UCLA-3".into(), [Some(8), None, Some(4)])],
        );
        let p = &c.series[0].points;
        assert_eq!(p.len(), 2);
        assert!(p[1].y > p[0].y, "4 is below 8 on the chart");
        assert!(p[1].x > p[0].x);
        assert_eq!(p[0].y, TOP + PLOT_H / 6);
        assert!(c.summary.contains("baseline 8") && c.summary.contains("6 months 4"));
        let b = bars(
            "reasons",
            &["n"],
            &[("loneliness".into(), vec![3.0]), ("food".into(), vec![1.0])],
        );
        assert_eq!(b.bars.len(), 2);
        assert!(b.bars[0].h > b.bars[1].h);
        assert_eq!(b.bars[0].h, PLOT_H);
    }
}
