//! `matters export …`: the evaluation dataset as CSV, and FHIR R4 resources, with a progress bar.

use crate::clock::Clock;
use crate::config::Config;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

const ACTOR: &str = "cli";

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The evaluation dataset (the guidebook's Step 6 fields), one row per referral.
    Csv {
        /// No names, numbers or chart numbers; a stable pseudonymous id; dates as months.
        #[arg(long)]
        deidentified: bool,
        /// Write here (default: standard output).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// One centre's clients only (`matters centres list`); default: every centre's.
        #[arg(long)]
        centre: Option<String>,
    },
    /// A FHIR R4 Bundle: a Questionnaire per instrument and a QuestionnaireResponse per
    /// completed survey.
    Fhir {
        /// No names, numbers or chart numbers; a stable pseudonymous id; the client's words withheld.
        #[arg(long)]
        deidentified: bool,
        /// Write here (default: standard output).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// One centre's clients only (`matters centres list`); default: every centre's.
        #[arg(long)]
        centre: Option<String>,
    },
    /// The cohort's figures as on the Cohort page (every measure, uptake, goals, health-system
    /// use, experience, and by group), cells of fewer than five clients shown as "< 5".
    Cohort {
        /// Write here (default: standard output).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// One centre's clients only (`matters centres list`); default: every centre's.
        #[arg(long)]
        centre: Option<String>,
    },
}

fn bar(to_file: bool) -> ProgressBar {
    if !to_file {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(0);
    b.set_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

pub async fn run(
    cfg: &Config,
    clock: Arc<dyn Clock>,
    command: ExportCommand,
) -> anyhow::Result<i32> {
    let runner = crate::app::build(cfg, clock).await?;
    match command {
        ExportCommand::Csv {
            deidentified,
            out,
            centre,
        } => {
            let centre = known(&runner, centre).await?;
            let pb = bar(out.is_some());
            pb.set_message("clients");
            let mut buf = Vec::new();
            let n = crate::export::evaluation_csv(
                &runner,
                centre.as_deref(),
                deidentified,
                false,
                ACTOR,
                &mut buf,
                &mut |d, t| {
                    pb.set_length(t);
                    pb.set_position(d);
                },
            )
            .await?;
            pb.finish_and_clear();
            write_out(out.as_ref(), &buf)?;
            eprintln!(
                "{n} clients exported{}",
                if deidentified { ", de-identified" } else { "" }
            );
        }
        ExportCommand::Fhir {
            deidentified,
            out,
            centre,
        } => {
            let centre = known(&runner, centre).await?;
            let pb = bar(out.is_some());
            pb.set_message("surveys");
            let b = crate::export::fhir_bundle(
                &runner,
                centre.as_deref(),
                deidentified,
                ACTOR,
                &mut |d, t| {
                    pb.set_length(t);
                    pb.set_position(d);
                },
            )
            .await?;
            pb.finish_and_clear();
            let n = b["entry"].as_array().map_or(0, Vec::len);
            write_out(out.as_ref(), serde_json::to_string_pretty(&b)?.as_bytes())?;
            eprintln!("{n} resources exported");
        }
        ExportCommand::Cohort { out, centre } => {
            let centre = known(&runner, centre).await?;
            let buf = cohort_figures(&runner, centre.as_deref(), ACTOR).await?;
            write_out(out.as_ref(), &buf)?;
            eprintln!("the cohort's figures exported");
        }
    }
    Ok(0)
}

/// A centre named on the command line, if there is one by that code.
async fn known(
    runner: &crate::runner::Runner,
    centre: Option<String>,
) -> anyhow::Result<Option<String>> {
    match centre {
        Some(code) => Ok(Some(crate::cli::centres::known(&runner.db, &code).await?)),
        None => Ok(None),
    }
}

/// The cohort's figures, as a CSV; audited.
pub async fn cohort_figures(
    runner: &crate::runner::Runner,
    centre: Option<&str>,
    actor: &str,
) -> anyhow::Result<Vec<u8>> {
    let filter = crate::evaluation::Filter {
        centre: centre.map(str::to_owned),
        ..crate::evaluation::Filter::default()
    };
    let facts =
        crate::evaluation::facts(&runner.db, None, &filter, runner.centre.time_zone).await?;
    let mut buf = Vec::new();
    crate::evaluation::cohort_csv(&crate::evaluation::cohort(&facts), &mut buf)?;
    crate::store::record::audit_one(
        &runner.db,
        crate::clock::to_ms(runner.clock.now()),
        actor,
        "export-cohort",
        None,
        &format!("{} referrals", facts.len()),
    )
    .await?;
    Ok(buf)
}

/// Writes the export: to a file readable and writable by its owner only (it holds clients'
/// records), or to standard output.
fn write_out(out: Option<&PathBuf>, bytes: &[u8]) -> anyhow::Result<()> {
    match out {
        Some(p) => write_private(p, bytes),
        None => {
            std::io::stdout().write_all(bytes)?;
            Ok(())
        }
    }
}

/// Writes `bytes` to `p`, readable and writable by its owner only (it holds clients' records).
pub fn write_private(p: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    {
        {
            let cannot = |e: std::io::Error| anyhow::anyhow!("cannot write {}: {e}", p.display());
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
                o.mode(0o600);
                let mut f = o.open(p).map_err(cannot)?;
                // A file that was there before keeps its mode: made owner-only too.
                f.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .map_err(cannot)?;
                f.write_all(bytes).map_err(cannot)
            }
            #[cfg(not(unix))]
            {
                o.open(p)
                    .and_then(|mut f| f.write_all(bytes))
                    .map_err(cannot)
            }
        }
    }
}
