//! The test Postgres: a real server, one fresh schema per test.

use matters::store::Db;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh schema on the test Postgres, so tests never share tables. `None` (said loudly) when
/// no server answers; under `CI=true` that is a failure.
pub async fn postgres() -> Option<(String, String, Db)> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let base = std::env::var("MATTERS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let admin = match Db::connect(&base).await {
        Ok(db) => db,
        Err(e) => {
            let msg = format!("POSTGRES TESTS NOT RUN: no server at {base}: {e}");
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{msg} (CI=true requires Postgres)");
            }
            eprintln!("\n!!!!!!!!!!\n!!! {msg}\n!!!!!!!!!!\n");
            return None;
        }
    };
    let schema = format!(
        "matters_test_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(admin.pool())
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    Some((
        format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        schema,
        admin,
    ))
}
