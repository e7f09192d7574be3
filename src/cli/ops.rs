//! The commands a centre's IT runs: `migrate --status`, `backup`, `restore`, `retention`,
//! `doctor`, `completions`, `man`.

use crate::clock::{Clock, to_ms};
use crate::config::Config;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `matters migrate [--status]`.
pub async fn migrate(cfg: &Config, status_only: bool) -> anyhow::Result<i32> {
    let db = crate::app::connect(cfg).await?;
    let where_ = crate::store::redact_url(&cfg.database_url);
    let status = crate::ops::migrations::status(&db).await?;
    if status_only {
        println!("database: {where_}");
        for m in &status.applied {
            println!("applied  {} {}", m.version, m.description);
        }
        for m in &status.pending {
            println!("pending  {} {}", m.version, m.description);
        }
        for m in &status.unknown {
            println!(
                "unknown  {} {} (from a newer matters)",
                m.version, m.description
            );
        }
        println!("{}", status.problem());
        db.close().await;
        return Ok(i32::from(!status.current()));
    }
    db.migrate().await?;
    db.close().await;
    println!(
        "migrations applied to {where_}: {} now, {} new",
        status.applied.len() + status.pending.len(),
        status.pending.len()
    );
    Ok(0)
}

/// `matters backup --out FILE`.
pub async fn backup(cfg: &Config, out: &Path) -> anyhow::Result<i32> {
    let db = crate::app::connect(cfg).await?;
    let done = crate::ops::backup::backup(&db, &cfg.database_url, out).await;
    db.close().await;
    match done {
        Ok(c) => {
            println!(
                "backed up to {} ({} bytes; {} clients, {} messages; owner-only). Keep it as safe as the database: it holds the same records, and the de-identification key (settings) that makes the evaluation's numbers stable",
                c.path.display(),
                c.bytes,
                c.clients,
                c.messages
            );
            Ok(0)
        }
        Err(e @ crate::ops::backup::BackupError::Postgres { .. }) => {
            println!("{e}");
            Ok(1)
        }
        Err(e) => Err(e.into()),
    }
}

/// `matters restore FILE`.
pub async fn restore(cfg: &Config, from: &Path, clock: &dyn Clock) -> anyhow::Result<i32> {
    let url = &cfg.database_url;
    anyhow::ensure!(
        url.starts_with("sqlite:"),
        "the database is on Postgres: restore a pg_dump with pg_restore (see `matters backup`)"
    );
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = PathBuf::from(path.split('?').next().unwrap_or(path));
    anyhow::ensure!(
        !path.as_os_str().is_empty() && !url.contains(":memory:"),
        "the database is in memory: there is nothing to restore into"
    );
    let stamp = clock.now().format("%Y%m%dT%H%M%SZ").to_string();
    let (copy, kept) = crate::ops::backup::restore(from, &path, &stamp).await?;
    println!(
        "restored {} into {} ({} clients, {} messages)",
        from.display(),
        copy.path.display(),
        copy.clients,
        copy.messages
    );
    if let Some(k) = kept {
        println!("the database that was there is kept as {}", k.display());
    }
    println!(
        "next: `matters migrate` if this binary is newer than the backup, then start the service"
    );
    Ok(0)
}

/// `matters retention [--dry-run]`.
pub async fn retention(cfg: &Config, clock: Arc<dyn Clock>, dry_run: bool) -> anyhow::Result<i32> {
    let policy = &cfg.retention;
    if !crate::ops::retention::is_on(policy) {
        println!(
            "retention is off: nothing is purged. Set [retention] message_body_days and/or client_years in matters.toml"
        );
        return Ok(0);
    }
    let db = crate::app::connect(cfg).await?;
    db.migrate().await?;
    let now = to_ms(clock.now());
    let said = |p: &crate::ops::retention::Purge, verb: &str| {
        if let Some(d) = policy.message_body_days {
            println!(
                "{verb} the words of {} message(s) older than {d} days",
                p.message_bodies
            );
        }
        if let Some(y) = policy.client_years {
            println!(
                "{verb} {} client(s) whose referrals all closed more than {y} year(s) ago{}",
                p.clients.len(),
                if p.clients.is_empty() {
                    String::new()
                } else {
                    format!(": {}", p.clients.join(", "))
                }
            );
        }
    };
    if dry_run {
        let p = crate::ops::retention::preview(&db, policy, now).await?;
        said(&p, "would purge");
        println!("(a dry run: nothing was changed)");
    } else {
        let p = crate::ops::retention::purge(&db, policy, now).await?;
        said(&p, "purged");
    }
    db.close().await;
    Ok(0)
}

/// `matters doctor`.
pub async fn doctor(cfg: &Config) -> anyhow::Result<i32> {
    let report = crate::ops::doctor::run(cfg).await;
    print!("{}", crate::ops::doctor::render(&report));
    Ok(i32::from(
        report
            .iter()
            .any(|f| f.level == crate::ops::doctor::Level::Error),
    ))
}

/// `matters completions SHELL`.
pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut cmd = super::command();
    clap_complete::generate(shell, &mut cmd, "matters", &mut std::io::stdout());
    0
}

/// `matters man --out DIR`: a page for the command and one per subcommand.
pub fn man(out: &Path) -> anyhow::Result<i32> {
    std::fs::create_dir_all(out)?;
    let cmd = super::command();
    clap_mangen::generate_to(cmd, out)?;
    println!("man pages written to {}", out.display());
    Ok(0)
}
