//! The catalogue from CSV: one program a row, found again by its code, so the same file can be
//! imported again after a change. A bad row is reported with its line and why; the rest go in.

use super::{ProgramInput, check, upsert};
use crate::store::{Db, Doing, StoreError};

/// The columns a catalogue import reads. `name_xx` and `description_xx` may be given for any
/// language tag (`name_fr`, `description_zh-Hans`); `code` and one name are required.
pub const COLUMNS: &[&str] = &[
    "code",
    "partner",
    "partner_contact",
    "location",
    "online",
    "schedule",
    "cost",
    "transport",
    "accessibility",
    "languages",
    "contact",
    "eligibility",
    "reasons",
    "active",
];

#[derive(Debug, Default)]
pub struct Report {
    pub added: usize,
    pub updated: usize,
    /// Line number (the header is line 1) and why.
    pub rejected: Vec<(usize, String)>,
}

fn yes(v: &str, default: bool) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "" => Ok(default),
        "yes" | "y" | "true" | "1" | "oui" => Ok(true),
        "no" | "n" | "false" | "0" | "non" => Ok(false),
        other => Err(format!("{other:?} is neither yes nor no")),
    }
}

/// Imports programs; `progress` is called after each row with the rows done.
pub async fn import<R: std::io::Read>(
    db: &Db,
    input: R,
    now: i64,
    actor: &str,
    mut progress: impl FnMut(u64),
) -> Result<Report, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| format!("the CSV header cannot be read: {e}"))?
        .iter()
        .map(|h| h.trim().replace(' ', "_"))
        .collect();
    if !header.iter().any(|h| h == "code") {
        return Err(format!(
            "the CSV header has no code column (columns: {}, name_en, description_en, name_fr, …)",
            COLUMNS.join(", ")
        ));
    }
    if let Some(unknown) = header.iter().find(|h| {
        !COLUMNS.contains(&h.as_str()) && !h.starts_with("name_") && !h.starts_with("description_")
    }) {
        return Err(format!(
            "the CSV header has a column {unknown:?} this import does not know (columns: {}, name_xx, description_xx)",
            COLUMNS.join(", ")
        ));
    }
    let mut report = Report::default();
    for (k, row) in rdr.records().enumerate() {
        let line = k + 2;
        progress(k as u64 + 1);
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                report.rejected.push((line, format!("unreadable: {e}")));
                continue;
            }
        };
        let get = |c: &str| {
            header
                .iter()
                .position(|h| h == c)
                .and_then(|i| row.get(i))
                .unwrap_or_default()
                .to_owned()
        };
        let mut texts = Vec::new();
        for h in &header {
            if let Some(lang) = h.strip_prefix("name_") {
                texts.push((lang.to_owned(), get(h), get(&format!("description_{lang}"))));
            }
        }
        let (online, active) = match (yes(&get("online"), false), yes(&get("active"), true)) {
            (Ok(o), Ok(a)) => (o, a),
            (Err(e), _) => {
                report.rejected.push((line, format!("online: {e}")));
                continue;
            }
            (_, Err(e)) => {
                report.rejected.push((line, format!("active: {e}")));
                continue;
            }
        };
        let p = ProgramInput {
            code: get("code"),
            partner: get("partner"),
            partner_contact: get("partner_contact"),
            location: get("location"),
            online,
            schedule: get("schedule"),
            cost: get("cost"),
            transport: get("transport"),
            accessibility: get("accessibility"),
            languages: get("languages"),
            contact: get("contact"),
            eligibility: get("eligibility"),
            reasons: get("reasons"),
            active,
            texts,
        };
        if let Err(why) = check(&p) {
            report.rejected.push((line, why));
            continue;
        }
        let saved: Result<bool, StoreError> = async {
            let mut tx = db.begin().await?;
            let (_, new) = upsert(&mut tx, &p, now, actor).await?;
            tx.commit().await.doing("saving a program")?;
            Ok(new)
        }
        .await;
        match saved {
            Ok(true) => report.added += 1,
            Ok(false) => report.updated += 1,
            Err(e) => report.rejected.push((line, e.to_string())),
        }
    }
    Ok(report)
}
