//! Backups and restores. On SQLite, `matters backup` takes a consistent copy while `serve`
//! runs (`VACUUM INTO`: one read transaction, so the copy is the database at one moment), and
//! `matters restore` puts a copy in place only when no process has the database open. On
//! Postgres, `pg_dump` and `pg_restore` are the tools; `matters backup` says how.

use crate::store::{Backend, Db, Doing, StoreError};
use std::path::{Path, PathBuf};

/// The lock file beside a SQLite database: every process that opens the database holds a
/// shared lock on it; a restore needs it alone.
#[must_use]
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Opens (creating, owner-only) the lock file of `db` and takes a shared lock on it.
#[must_use]
pub fn hold_shared(db: &Path) -> Option<std::fs::File> {
    let f = owner_only_file(&lock_path(db), false).ok()?;
    f.lock_shared().ok()?;
    Some(f)
}

/// Takes the lock only one `matters serve` on a SQLite database holds (`<db>.serve.lock`):
/// SQLite is one process, and two would each pace the sender alone and both poll one bot.
///
/// # Errors
/// Another `matters serve` has the database open (said for the operator), or the lock file
/// cannot be made.
pub fn hold_serving(db: &Path) -> Result<std::fs::File, String> {
    let mut name = db.as_os_str().to_owned();
    name.push(".serve.lock");
    let path = PathBuf::from(name);
    let f = owner_only_file(&path, false)
        .map_err(|e| format!("cannot make the lock file {}: {e}", path.display()))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "another `matters serve` is running on {}: a SQLite database is served by one process. Stop the other one, or move to Postgres (MATTERS_DATABASE_URL=postgres://…) to run several",
            db.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

/// A file readable and writable by its owner only; `new` refuses one that exists.
fn owner_only_file(path: &Path, new: bool) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true).write(true);
    if new {
        o.create_new(true);
    } else {
        o.create(true).truncate(false);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

/// What a backup or a restore found in the copy.
#[derive(Debug, Clone)]
pub struct Copy {
    pub path: PathBuf,
    pub bytes: u64,
    pub clients: i64,
    pub messages: i64,
    pub newest_migration: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "the database is on Postgres: back it up with pg_dump, which takes a consistent copy while matters runs:\n  pg_dump --format=custom --file {out} '{url}'\nand restore it with:\n  pg_restore --clean --if-exists --dbname '{url}' {out}\n(the password, if any, from PGPASSWORD or ~/.pgpass)"
    )]
    Postgres { out: String, url: String },
    #[error("the database is in memory: there is nothing to back up")]
    Memory,
    #[error("{0} exists already: choose a new file, so no backup is overwritten")]
    Exists(PathBuf),
    #[error("cannot write {0}: {1}")]
    Write(PathBuf, std::io::Error),
    #[error("{0} is not a matters database: {1}")]
    NotADatabase(PathBuf, String),
    #[error(
        "{0} is in use: a matters process (serve, or a command) has it open. Stop the service first (systemctl stop matters), then restore"
    )]
    InUse(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Takes a consistent copy of the configured database into `out` (a new file, owner-only).
pub async fn backup(db: &Db, database_url: &str, out: &Path) -> Result<Copy, BackupError> {
    if db.backend() == Backend::Postgres {
        return Err(BackupError::Postgres {
            out: out.display().to_string(),
            url: crate::store::redact_url(database_url),
        });
    }
    if db.file().is_none() {
        return Err(BackupError::Memory);
    }
    if out.exists() {
        return Err(BackupError::Exists(out.to_path_buf()));
    }
    // VACUUM INTO writes into an empty file: made first, so it is the owner's only.
    owner_only_file(out, true).map_err(|e| BackupError::Write(out.to_path_buf(), e))?;
    let target = out.to_string_lossy().into_owned();
    let mut c = db.acquire("backing up the database").await?;
    let done = sqlx::query("VACUUM INTO $1")
        .bind(&target)
        .execute(&mut *c)
        .await
        .doing("backing up the database");
    drop(c);
    if let Err(e) = done {
        let _ = std::fs::remove_file(out);
        return Err(e.into());
    }
    inspect(out).await
}

/// Opens a copy read-only, checks it whole, and says what it holds.
pub async fn inspect(path: &Path) -> Result<Copy, BackupError> {
    let bad = |why: String| BackupError::NotADatabase(path.to_path_buf(), why);
    if !path.is_file() {
        return Err(bad("no such file".into()));
    }
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", path.display());
    let copy = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .map_err(|e| bad(e.to_string()))?;
    let check: Result<(String, i64, i64, Option<i64>), sqlx::Error> = async {
        let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&copy)
            .await?;
        let clients: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clients")
            .fetch_one(&copy)
            .await?;
        let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
            .fetch_one(&copy)
            .await?;
        let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&copy)
            .await?;
        Ok((ok, clients, messages, newest))
    }
    .await;
    copy.close().await;
    let (ok, clients, messages, newest_migration) = check.map_err(|e| bad(e.to_string()))?;
    if ok != "ok" {
        return Err(bad(format!("the integrity check says: {ok}")));
    }
    Ok(Copy {
        path: path.to_path_buf(),
        bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        clients,
        messages,
        newest_migration,
    })
}

/// Puts the copy `from` in place of the SQLite database at `db`, which no process may have
/// open. A database already there is kept beside it (`….before-restore-<when>`), never lost.
/// Returns what was restored and where the old database went.
pub async fn restore(
    from: &Path,
    db: &Path,
    stamp: &str,
) -> Result<(Copy, Option<PathBuf>), BackupError> {
    let copy = inspect(from).await?;
    let known = crate::store::sqlite_migrations_newest();
    if let Some(v) = copy.newest_migration
        && v > known
    {
        return Err(BackupError::NotADatabase(
            from.to_path_buf(),
            format!(
                "it was made by a newer matters (migration {v}); this binary knows up to {known}"
            ),
        ));
    }
    let lock = owner_only_file(&lock_path(db), false)
        .map_err(|e| BackupError::Write(db.to_path_buf(), e))?;
    if lock.try_lock().is_err() {
        return Err(BackupError::InUse(db.to_path_buf()));
    }
    let mut tmp = db.as_os_str().to_owned();
    tmp.push(".restoring");
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    {
        let mut out =
            owner_only_file(&tmp, true).map_err(|e| BackupError::Write(tmp.clone(), e))?;
        let mut src = std::fs::File::open(from).map_err(|e| BackupError::Write(tmp.clone(), e))?;
        std::io::copy(&mut src, &mut out).map_err(|e| BackupError::Write(tmp.clone(), e))?;
        out.sync_all()
            .map_err(|e| BackupError::Write(tmp.clone(), e))?;
    }
    let mut kept = None;
    if db.exists() {
        let mut old = db.as_os_str().to_owned();
        old.push(format!(".before-restore-{stamp}"));
        let old = PathBuf::from(old);
        std::fs::rename(db, &old).map_err(|e| BackupError::Write(old.clone(), e))?;
        // The old database's write-ahead log goes with it: left, it would be replayed into
        // the restored one.
        for suffix in ["-wal", "-shm"] {
            let mut side = db.as_os_str().to_owned();
            side.push(suffix);
            let mut moved = old.as_os_str().to_owned();
            moved.push(suffix);
            if Path::new(&side).exists() {
                std::fs::rename(&side, &moved)
                    .map_err(|e| BackupError::Write(PathBuf::from(moved), e))?;
            }
        }
        kept = Some(old);
    }
    std::fs::rename(&tmp, db).map_err(|e| BackupError::Write(db.to_path_buf(), e))?;
    drop(lock);
    Ok((
        Copy {
            path: db.to_path_buf(),
            ..copy
        },
        kept,
    ))
}
