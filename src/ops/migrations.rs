//! The database's migrations beside the ones this binary carries: `matters migrate --status`,
//! the readiness check, and the refusal to run an older binary on a newer database.

use crate::store::{Backend, Db, Doing, StoreError};
use sqlx::Row;

/// One migration, by version and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    pub description: String,
}

/// Which migrations are applied, pending, or unknown to this binary.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub applied: Vec<Migration>,
    pub pending: Vec<Migration>,
    /// Applied by a newer binary: this one does not know them.
    pub unknown: Vec<Migration>,
}

impl Status {
    /// Every migration this binary knows is applied, and none it does not.
    #[must_use]
    pub fn current(&self) -> bool {
        self.pending.is_empty() && self.unknown.is_empty()
    }

    /// What is wrong, in words for whoever runs the service.
    #[must_use]
    pub fn problem(&self) -> String {
        if let Some(newest) = self.unknown.last() {
            return format!(
                "this database was upgraded by a newer matters: it has migration {} ({}) that this binary (matters {}) does not know. Run the newer matters, or restore the backup taken before the upgrade",
                newest.version,
                newest.description,
                crate::cli::version()
            );
        }
        if self.pending.is_empty() {
            return "the migrations are current".into();
        }
        format!(
            "{} migration(s) not applied yet (the first: {} {}); run `matters migrate`",
            self.pending.len(),
            self.pending[0].version,
            self.pending[0].description
        )
    }
}

/// The migrations applied to `db` beside those this binary carries.
pub async fn status(db: &Db) -> Result<Status, StoreError> {
    let doing = "reading the applied migrations";
    let mut c = db.acquire(doing).await?;
    let exists_sql = match db.backend() {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '_sqlx_migrations' AND table_schema = current_schema()"
        }
    };
    let exists: i64 = sqlx::query_scalar(exists_sql)
        .fetch_one(&mut *c)
        .await
        .doing(doing)?;
    let mut applied = Vec::new();
    if exists > 0 {
        for r in sqlx::query(
            "SELECT version, description FROM _sqlx_migrations WHERE success = TRUE ORDER BY version",
        )
        .fetch_all(&mut *c)
        .await
        .doing(doing)?
        {
            applied.push(Migration {
                version: r.try_get(0).doing(doing)?,
                description: r.try_get(1).doing(doing)?,
            });
        }
    }
    let known: Vec<Migration> = db
        .migrator()
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| Migration {
            version: m.version,
            description: m.description.to_string(),
        })
        .collect();
    let pending = known
        .iter()
        .filter(|k| !applied.iter().any(|a| a.version == k.version))
        .cloned()
        .collect();
    let unknown = applied
        .iter()
        .filter(|a| !known.iter().any(|k| k.version == a.version))
        .cloned()
        .collect();
    Ok(Status {
        applied,
        pending,
        unknown,
    })
}
