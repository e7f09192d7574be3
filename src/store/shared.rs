//! What many processes on one database keep together, so that they behave as one: the pace of
//! each sender, leases on work only one process may do at a time, and the failed sign-ins the
//! lock-out counts. Every statement here is one atomic upsert or delete: no process holds a
//! lock between two of them, and a process killed at any point leaves nothing to clean up but
//! a lease that lapses by itself.

use super::{Db, Doing, StoreError};
use sqlx::Row;

/// Reserves `cost_us` microseconds of `sender`'s time, starting when it is next free or `now_us`
/// if it is idle (idle time is not banked), and returns when the reservation starts. Every
/// process sending through the sender shares this one row, so together they keep its rate.
///
/// # Errors
/// The database failed.
pub async fn reserve_pace(
    db: &Db,
    sender: &str,
    now_us: i64,
    cost_us: i64,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO sender_pace (sender, next_free_us) VALUES ($1, $2 + $3) \
         ON CONFLICT (sender) DO UPDATE SET next_free_us = \
             (CASE WHEN sender_pace.next_free_us > $2 THEN sender_pace.next_free_us ELSE $2 END) + $3 \
         RETURNING next_free_us",
    )
    .bind(sender)
    .bind(now_us)
    .bind(cost_us)
    .fetch_one(db.pool())
    .await
    .doing("reserving the sender's time")?;
    let end: i64 = row.try_get(0).doing("reading the sender's time")?;
    Ok(end - cost_us)
}

/// Takes or renews the lease `name` for `holder` until `until`: granted when nobody holds it,
/// when its holder let it lapse (before `now`), or when `holder` holds it already.
///
/// # Errors
/// The database failed: the caller must act as if it does not hold the lease.
pub async fn hold_lease(
    db: &Db,
    name: &str,
    holder: &str,
    now: i64,
    until: i64,
) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $4) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE leases.holder = excluded.holder OR leases.expires_at < $3 \
         RETURNING holder",
    )
    .bind(name)
    .bind(holder)
    .bind(now)
    .bind(until)
    .fetch_optional(db.pool())
    .await
    .doing("taking a lease")?;
    Ok(row.is_some())
}

/// Gives up the lease `name` if `holder` holds it, so another process takes it over at once.
///
/// # Errors
/// The database failed (the lease then lapses by itself).
pub async fn release_lease(db: &Db, name: &str, holder: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
        .bind(name)
        .bind(holder)
        .execute(db.pool())
        .await
        .doing("giving up a lease")?;
    Ok(())
}

/// Who holds the lease `name` now, if anyone.
///
/// # Errors
/// The database failed.
pub async fn lease_holder(db: &Db, name: &str, now: i64) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT holder FROM leases WHERE name = $1 AND expires_at >= $2")
        .bind(name)
        .bind(now)
        .fetch_optional(db.pool())
        .await
        .doing("reading a lease")?;
    row.map(|r| r.try_get(0))
        .transpose()
        .doing("reading a lease")
}

/// How many times `username` failed to sign in since `since`, by any process.
///
/// # Errors
/// The database failed.
pub async fn sign_in_failures(db: &Db, username: &str, since: i64) -> Result<i64, StoreError> {
    let row =
        sqlx::query("SELECT COUNT(*) FROM sign_in_failures WHERE username = $1 AND failed_at > $2")
            .bind(username)
            .bind(since)
            .fetch_one(db.pool())
            .await
            .doing("counting failed sign-ins")?;
    row.try_get(0).doing("counting failed sign-ins")
}

/// Records a failed sign-in, and forgets every failure older than `forget_before` (the
/// lock-out's window), so made-up user names do not grow the table without end.
///
/// # Errors
/// The database failed.
pub async fn sign_in_failed(
    db: &Db,
    username: &str,
    now: i64,
    forget_before: i64,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM sign_in_failures WHERE failed_at <= $1")
        .bind(forget_before)
        .execute(&mut *tx)
        .await
        .doing("forgetting old failed sign-ins")?;
    sqlx::query("INSERT INTO sign_in_failures (username, failed_at) VALUES ($1, $2)")
        .bind(username)
        .bind(now)
        .execute(&mut *tx)
        .await
        .doing("recording a failed sign-in")?;
    tx.commit().await.doing("recording a failed sign-in")
}

/// Forgets the failures of `username` (it signed in).
///
/// # Errors
/// The database failed.
pub async fn sign_in_succeeded(db: &Db, username: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sign_in_failures WHERE username = $1")
        .bind(username)
        .execute(db.pool())
        .await
        .doing("forgetting failed sign-ins")?;
    Ok(())
}

/// This process, as a lease names its holder: the machine, the process id and a random tag
/// (a process id is reused after a restart).
#[must_use]
pub fn this_process() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        format!(
            "{host}/{}/{:08x}",
            std::process::id(),
            rand::random::<u32>()
        )
    })
}

/// Milliseconds since the epoch, by the wall clock: leases and a sender's pace are real time,
/// shared by processes that may run on different machines (never the app's clock, which a
/// test may hold still).
#[must_use]
pub fn wall_ms() -> i64 {
    wall_us() / 1000
}

/// Microseconds since the epoch, by the wall clock.
#[must_use]
pub fn wall_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}
