//! The group's report: what the centres that agree to share them show of their de-identified
//! figures, pooled.

use super::list;
use crate::store::{Db, StoreError};
use serde::Serialize;

/// The group's report: the de-identified figures of every centre that agrees to share them,
/// pooled, small cells suppressed as in each centre's own cohort. The centres are named but
/// their figures are not given one by one: a centre's small cell could otherwise be worked out
/// from the group's total less the others'.
#[derive(Debug, Clone, Serialize)]
pub struct GroupReport {
    /// The centres whose figures are in it (code and name).
    pub sharing: Vec<(String, String)>,
    /// How many centres do not share theirs.
    pub not_sharing: usize,
    pub cohort: crate::evaluation::Cohort,
}

/// Builds the group's report (audited by the caller: it holds no client's data).
pub async fn group_report(db: &Db, tz: chrono_tz::Tz) -> Result<GroupReport, StoreError> {
    let all = list(db).await?;
    let mut facts = Vec::new();
    let mut sharing = Vec::new();
    for c in all.iter().filter(|c| c.shares_figures) {
        let filter = crate::evaluation::Filter {
            centre: Some(c.id.clone()),
            ..crate::evaluation::Filter::default()
        };
        facts.extend(crate::evaluation::facts(db, None, &filter, tz).await?);
        sharing.push((c.id.clone(), c.name.clone()));
    }
    Ok(GroupReport {
        not_sharing: all.len() - sharing.len(),
        sharing,
        cohort: crate::evaluation::cohort(&facts),
    })
}

/// The group's report as CSV: the cohort's figures (as `export cohort` writes them), then two
/// rows naming the centres in it and counting those not.
pub fn group_csv(r: &GroupReport) -> Result<Vec<u8>, csv::Error> {
    let mut buf = Vec::new();
    crate::evaluation::cohort_csv(&r.cohort, &mut buf)?;
    let names: Vec<String> = r
        .sharing
        .iter()
        .map(|(id, name)| format!("{name} ({id})"))
        .collect();
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(&mut buf);
    w.write_record([
        "group",
        "centres-sharing",
        "",
        "",
        "",
        &names.join("; "),
        "",
    ])?;
    w.write_record([
        "group",
        "centres-not-sharing",
        "",
        "",
        "",
        &r.not_sharing.to_string(),
        "",
    ])?;
    w.flush()?;
    drop(w);
    Ok(buf)
}
