//! Health-system use for the before-and-after comparison the guidebook asks for: visits to
//! primary care, the emergency department, and hospital admissions, in the period before the
//! client's referral and the period after, imported from a CSV the centre's EMR or region gives
//! (`client, period, primary_care, ed_visits, admissions`). A row already there for that client
//! and period is replaced. Bad rows are reported by line and skipped; the good ones are kept.

use crate::store::record::audit;
use crate::store::{Db, Doing, StoreError};

/// The periods a row may be for.
pub const PERIODS: [&str; 2] = ["before", "after"];
const HEADER: [&str; 5] = [
    "client",
    "period",
    "primary_care",
    "ed_visits",
    "admissions",
];

/// What an import did.
#[derive(Debug, Default)]
pub struct Report {
    pub imported: usize,
    /// (line, why)
    pub errors: Vec<(usize, String)>,
}

struct Row {
    client: String,
    period: String,
    counts: [i64; 3],
}

fn parse_row(rec: &csv::StringRecord) -> Result<Row, String> {
    let field = |i: usize| rec.get(i).map(str::trim).unwrap_or_default();
    let client = field(0);
    if client.is_empty() {
        return Err("no client".into());
    }
    let period = field(1).to_lowercase();
    if !PERIODS.contains(&period.as_str()) {
        return Err(format!("period {:?} is not before or after", field(1)));
    }
    let mut counts = [0i64; 3];
    for (k, c) in counts.iter_mut().enumerate() {
        let v = field(2 + k);
        *c = v
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=10_000).contains(n))
            .ok_or_else(|| format!("{} {v:?} is not a count of visits", HEADER[2 + k]))?;
    }
    Ok(Row {
        client: client.to_owned(),
        period,
        counts,
    })
}

/// Imports a CSV; audited with the counts only.
pub async fn import(
    db: &Db,
    input: impl std::io::Read,
    actor: &str,
    now: i64,
) -> Result<Report, StoreError> {
    import_in(db, None, input, actor, now).await
}

/// [`import`], for one centre's clients only (another centre's client is "no client").
pub async fn import_in(
    db: &Db,
    centre: Option<&str>,
    input: impl std::io::Read,
    actor: &str,
    now: i64,
) -> Result<Report, StoreError> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    let mut report = Report::default();
    let header: Vec<String> = match r.headers() {
        Ok(h) => h.iter().map(|x| x.trim().to_lowercase()).collect(),
        Err(e) => {
            report
                .errors
                .push((1, format!("cannot read the header: {e}")));
            return Ok(report);
        }
    };
    if header.iter().map(String::as_str).ne(HEADER.iter().copied()) {
        report
            .errors
            .push((1, format!("the header must be {}", HEADER.join(","))));
        return Ok(report);
    }
    let mut tx = db.begin().await?;
    for (k, rec) in r.records().enumerate() {
        let line = k + 2;
        let row = match rec.map_err(|e| e.to_string()).and_then(|r| parse_row(&r)) {
            Ok(row) => row,
            Err(e) => {
                report.errors.push((line, e));
                continue;
            }
        };
        let known: Option<String> =
            sqlx::query_scalar(
                "SELECT id FROM clients WHERE id = $1 AND kind = 'real' AND ($2 = '' OR centre_id = $2)",
            )
                .bind(&row.client)
                .bind(centre.unwrap_or_default())
                .fetch_optional(&mut *tx)
                .await
                .doing("finding a client")?;
        if known.is_none() {
            report
                .errors
                .push((line, format!("no client {:?}", row.client)));
            continue;
        }
        sqlx::query(
            "INSERT INTO health_use (client_id, period, primary_care, ed_visits, admissions, imported_by, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (client_id, period) DO UPDATE SET \
             primary_care = excluded.primary_care, ed_visits = excluded.ed_visits, admissions = excluded.admissions, \
             imported_by = excluded.imported_by, at = excluded.at",
        )
        .bind(&row.client)
        .bind(&row.period)
        .bind(row.counts[0])
        .bind(row.counts[1])
        .bind(row.counts[2])
        .bind(actor)
        .bind(now)
        .execute(&mut *tx)
        .await
        .doing("importing health-system use")?;
        report.imported += 1;
    }
    audit(
        &mut tx,
        now,
        actor,
        "health-use-import",
        None,
        &format!(
            "{} rows imported, {} refused",
            report.imported,
            report.errors.len()
        ),
    )
    .await?;
    tx.commit().await.doing("importing health-system use")?;
    Ok(report)
}
