//! `matters programs …`: the catalogue of programs, from CSV or as a list.

use crate::clock::Clock;
use crate::config::Config;
use clap::Subcommand;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Subcommand)]
pub enum ProgramsCommand {
    /// Add or change programs from a CSV file with a header row: code, partner,
    /// partner_contact, name_en, description_en, name_fr, description_fr (any language:
    /// name_xx, description_xx), location, online, schedule, cost, transport, accessibility,
    /// languages, contact, eligibility, reasons, active. A program is found again by its code,
    /// so the same file can be imported again; bad rows are listed with their line and why.
    Import {
        /// The CSV file.
        file: PathBuf,
    },
    /// List the catalogue (with --all, retired programs too).
    List {
        /// Retired programs too.
        #[arg(long)]
        all: bool,
    },
}

pub async fn run(
    cfg: &Config,
    clock: Arc<dyn Clock>,
    command: ProgramsCommand,
) -> anyhow::Result<i32> {
    let db = crate::app::connect(cfg).await?;
    db.migrate().await?;
    match command {
        ProgramsCommand::Import { file } => {
            let f = std::fs::File::open(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let rows = std::fs::read_to_string(&file)
                .map(|t| t.lines().count().saturating_sub(1))
                .unwrap_or(0);
            let bar = indicatif::ProgressBar::new(rows as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let now = crate::clock::to_ms(clock.now());
            let report =
                crate::programs::import::import(&db, f, now, "cli", |n| bar.set_position(n)).await;
            bar.finish_and_clear();
            let report = match report {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(1);
                }
            };
            println!(
                "{} added, {} updated, {} rejected",
                report.added,
                report.updated,
                report.rejected.len()
            );
            for (line, why) in &report.rejected {
                println!("  line {line}: {why}");
            }
            Ok(i32::from(!report.rejected.is_empty()))
        }
        ProgramsCommand::List { all } => {
            for p in crate::programs::list(&db, all).await? {
                println!(
                    "{:<24} {:<32} {:<14} {}{}",
                    p.code,
                    p.name("en"),
                    p.cost,
                    p.partner.as_deref().unwrap_or("-"),
                    if p.active { "" } else { "  (retired)" }
                );
            }
            Ok(0)
        }
    }
}
