//! Storage through sqlx: SQLite, the embedded default (one file, WAL, `synchronous=NORMAL`, one
//! writer), or Postgres to scale out. Both speak the same SQL here (`$n` parameters,
//! `ON CONFLICT`, `RETURNING`); each has its own migrations, embedded and run at start-up.

pub mod delivery;
pub mod goals;
pub mod jobs;
pub mod record;
pub mod scores;
pub mod shared;
pub mod sql;
pub mod uptake;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use sqlx::Any;
/// A transaction on either database.
pub type Tx = sqlx::Transaction<'static, Any>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The newest SQLite migration this binary carries.
#[must_use]
pub fn sqlite_migrations_newest() -> i64 {
    SQLITE_MIGRATIONS
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL must start with sqlite: or postgres:, not {0:?}")]
    Url(String),
    #[error("cannot connect to the {backend} database: {source}")]
    Connect {
        backend: &'static str,
        source: sqlx::Error,
    },
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error while {doing}: {source}")]
    Query {
        doing: &'static str,
        source: sqlx::Error,
    },
    /// The database was migrated by a newer binary.
    #[error("{0}")]
    Newer(String),
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
    /// No connection could be had in time: the database is down or out of reach. `cause` is
    /// what one fresh connection attempt said (connection refused, unknown host…).
    #[error("the database is unreachable while {doing}: {cause}")]
    Unreachable { doing: &'static str, cause: String },
    /// What was asked crosses what the data allows (another centre's staff member…).
    #[error("{0}")]
    Refused(String),
}

impl StoreError {
    /// The database could not be reached (as opposed to a query it refused): try again later.
    #[must_use]
    pub fn is_unreachable(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::Connect { .. } => true,
            Self::Query { source, .. } => unreachable_error(source),
            _ => false,
        }
    }
}

/// A sqlx error that says the database could not be reached.
fn unreachable_error(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Tls(_)
    )
}

/// Adds what was being done to a sqlx error.
pub trait Doing<T> {
    fn doing(self, what: &'static str) -> Result<T, StoreError>;
}

impl<T> Doing<T> for Result<T, sqlx::Error> {
    fn doing(self, what: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Query {
            doing: what,
            source,
        })
    }
}

/// A pool on one database, and which kind it is.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// The URL, for a fresh connection attempt that tells why the pool timed out.
    url: Arc<str>,
    /// How long a request waits for a connection.
    acquire_timeout: Duration,
    /// The last such attempt: when, and what it said.
    probed: Arc<Mutex<Option<(std::time::Instant, String)>>>,
    /// A SQLite file's path, and the shared lock this process holds on its lock file while the
    /// pool lives: `matters restore` will not replace a database someone has open.
    file: Option<(std::path::PathBuf, Option<Arc<std::fs::File>>)>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .field("url", &redact_url(&self.url))
            .finish_non_exhaustive()
    }
}

/// The default wait for a connection: short on Postgres, so that a database outage is a fast
/// 503 (the provider retries); long on SQLite, whose one connection is shared in turn.
#[must_use]
pub fn default_acquire_timeout(backend: Backend) -> Duration {
    match backend {
        Backend::Sqlite => Duration::from_secs(30),
        Backend::Postgres => Duration::from_millis(1000),
    }
}

/// A SQLite URL that creates its file when missing (`mode=rwc`), unless it names a mode, and
/// the file's path (`None` in memory).
fn sqlite_url(url: &str) -> (String, Option<std::path::PathBuf>) {
    let memory = url.contains(":memory:") || url.contains("mode=memory");
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if memory || path.is_empty() {
        return (url.to_owned(), None);
    }
    let url = if query.split('&').any(|p| p.starts_with("mode=")) {
        url.to_owned()
    } else if query.is_empty() {
        format!("{url}?mode=rwc")
    } else {
        format!("{url}&mode=rwc")
    };
    (url, Some(std::path::PathBuf::from(path)))
}

/// Creates the database file readable and writable by its owner only (SQLite gives its WAL and
/// shared-memory files the same mode); says so when an existing one is open to others.
fn owner_only(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if let Ok(m) = std::fs::metadata(path)
                    && m.permissions().mode() & 0o077 != 0
                {
                    tracing::warn!(
                        path = %path.display(),
                        "the database file can be read by other users; chmod 600 it"
                    );
                }
            }
            // The connection itself says what is wrong (a missing directory…).
            Err(_) => {}
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// A database URL with any password replaced, for messages and logs.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

impl Db {
    /// Connects to `url` (`sqlite:…` or `postgres://…`) with the default acquire timeout.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, None).await
    }

    /// Connects to `url`; a request waits at most `acquire_timeout` for a connection (default:
    /// [`default_acquire_timeout`]). A SQLite file is created when missing, readable by its
    /// owner only.
    pub async fn connect_with(
        url: &str,
        acquire_timeout: Option<Duration>,
    ) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Url(redact_url(url)));
        };
        let acquire = acquire_timeout.unwrap_or_else(|| default_acquire_timeout(backend));
        let mut held = None;
        let url = match backend {
            Backend::Sqlite => {
                let (url, file) = sqlite_url(url);
                if let Some(f) = &file {
                    owner_only(f);
                    held = Some((f.clone(), crate::ops::backup::hold_shared(f).map(Arc::new)));
                }
                url
            }
            Backend::Postgres => url.to_owned(),
        };
        let url = url.as_str();
        let pool = match backend {
            Backend::Sqlite => {
                let memory = url.contains(":memory:") || url.contains("mode=memory");
                // One connection: SQLite has one writer, and an in-memory database lives and dies
                // with its connection.
                AnyPoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .acquire_timeout(acquire)
                    .after_connect(move |conn, _| {
                        Box::pin(async move {
                            if !memory {
                                conn.execute("PRAGMA journal_mode = WAL").await?;
                            }
                            conn.execute("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000").await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await
            }
            Backend::Postgres => AnyPoolOptions::new().max_connections(16).acquire_timeout(acquire).connect(url).await,
        }
        .map_err(|source| StoreError::Connect { backend: backend.as_str(), source })?;
        Ok(Self {
            pool,
            backend,
            acquire_timeout: acquire,
            url: Arc::from(url),
            probed: Arc::new(Mutex::new(None)),
            file: held,
        })
    }

    /// Why the pool gave no connection: one fresh connection attempt's error, at most one
    /// attempt every two seconds (the answer is shared meanwhile), bounded to half a second.
    async fn cause(&self) -> String {
        let recent = self
            .probed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .filter(|(at, _)| at.elapsed() < Duration::from_secs(2))
            .map(|(_, c)| c.clone());
        if let Some(c) = recent {
            return c;
        }
        let attempt = tokio::time::timeout(
            Duration::from_millis(500),
            <sqlx::AnyConnection as sqlx::Connection>::connect(&self.url),
        )
        .await;
        let cause = match attempt {
            Ok(Ok(conn)) => {
                let _ = sqlx::Connection::close(conn).await;
                "every connection is busy (the pool is exhausted)".to_owned()
            }
            Ok(Err(e)) => redact_url(&e.to_string()),
            Err(_) => "connecting timed out".to_owned(),
        };
        *self
            .probed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((std::time::Instant::now(), cause.clone()));
        cause
    }

    /// A sqlx error as a store error; a pool that timed out is explained by its cause.
    async fn explained(&self, e: sqlx::Error, doing: &'static str) -> StoreError {
        if matches!(e, sqlx::Error::PoolTimedOut) {
            StoreError::Unreachable {
                doing,
                cause: self.cause().await,
            }
        } else {
            StoreError::Query { doing, source: e }
        }
    }

    /// An error for the log: a pool that timed out waiting for a connection is explained by its
    /// cause (connection refused…), never left as "pool timed out".
    pub async fn explain(&self, e: StoreError) -> StoreError {
        match e {
            StoreError::Query {
                doing,
                source: sqlx::Error::PoolTimedOut,
            } => self.explained(sqlx::Error::PoolTimedOut, doing).await,
            other => other,
        }
    }

    /// A connection from the pool; when none comes in time, the error says why.
    pub async fn acquire(
        &self,
        doing: &'static str,
    ) -> Result<sqlx::pool::PoolConnection<Any>, StoreError> {
        match self.pool.acquire().await {
            Ok(c) => Ok(c),
            Err(e) => Err(self.explained(e, doing).await),
        }
    }

    /// The migrations this binary carries for this backend.
    #[must_use]
    pub fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies the embedded migrations of this backend. A database a newer binary has migrated
    /// is refused: this one does not know its schema.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let status = crate::ops::migrations::status(self).await?;
        if !status.unknown.is_empty() {
            return Err(StoreError::Newer(status.problem()));
        }
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    #[must_use]
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// How long a request waits for a connection before the database counts as unreachable.
    #[must_use]
    pub fn acquire_timeout(&self) -> Duration {
        self.acquire_timeout
    }

    /// The SQLite database's file (`None` on Postgres or in memory).
    #[must_use]
    pub fn file(&self) -> Option<&std::path::Path> {
        self.file.as_ref().map(|(p, _)| p.as_path())
    }

    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so a
    /// second process on the same file (a `matters clients` command beside `matters serve`)
    /// waits its turn instead of failing when a read turns into a write.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let begun = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        };
        match begun {
            Ok(tx) => Ok(tx),
            Err(e) => Err(self.explained(e, "starting a transaction").await),
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut c = self.acquire("checking the database").await?;
        sqlx::query("SELECT 1")
            .execute(&mut *c)
            .await
            .doing("checking the database")
            .map(|_| ())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_leave_redact_url() {
        assert_eq!(
            redact_url("postgres://u:s3cret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://matters.db"), "sqlite://matters.db");
    }

    #[test]
    fn a_sqlite_url_creates_its_file_unless_it_names_a_mode() {
        let (u, f) = sqlite_url("sqlite://matters.db");
        assert_eq!(u, "sqlite://matters.db?mode=rwc");
        assert_eq!(f.unwrap(), std::path::Path::new("matters.db"));
        assert_eq!(
            sqlite_url("sqlite:data/m.db?cache=shared").0,
            "sqlite:data/m.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_url("sqlite:///var/lib/matters/m.db").1.unwrap(),
            std::path::Path::new("/var/lib/matters/m.db")
        );
        assert_eq!(
            sqlite_url("sqlite://m.db?mode=ro").0,
            "sqlite://m.db?mode=ro"
        );
        assert_eq!(
            sqlite_url("sqlite::memory:"),
            ("sqlite::memory:".into(), None)
        );
    }
}
