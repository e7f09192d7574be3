//! Statements built at run time for a whole batch: multi-row `VALUES`, in each backend's
//! parameter style.

use super::{Backend, Doing, StoreError, Tx};
use sqlx::Row;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

/// A value bound into a statement built at run time.
pub enum V {
    I(Option<i64>),
    S(Option<String>),
}

pub fn s(v: impl Into<String>) -> V {
    V::S(Some(v.into()))
}

pub fn os(v: Option<impl Into<String>>) -> V {
    V::S(v.map(Into::into))
}

pub fn i(v: i64) -> V {
    V::I(Some(v))
}

/// How a backend writes parameter `k`: Postgres `$k`; SQLite plain `?`, which it binds in order
/// much faster than numbered ones in statements with many parameters.
fn param(b: Backend, k: usize) -> String {
    match b {
        Backend::Sqlite => "?".to_owned(),
        Backend::Postgres => format!("${k}"),
    }
}

/// `($1, $2), ($3, $4)` for `rows` rows of `cols` values.
pub fn placeholders(b: Backend, rows: usize, cols: usize) -> String {
    let row = |r: usize| {
        format!(
            "({})",
            (0..cols)
                .map(|c| param(b, r * cols + c + 1))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

/// `$1, $2, …` for a list.
pub fn list(b: Backend, n: usize) -> String {
    list_from(b, 1, n)
}

/// `$first, …` for a list of `n` parameters starting at number `first`.
pub fn list_from(b: Backend, first: usize, n: usize) -> String {
    (first..first + n)
        .map(|k| param(b, k))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn bind_all<'q>(
    mut q: Query<'q, sqlx::Any, AnyArguments<'q>>,
    vals: Vec<V>,
) -> Query<'q, sqlx::Any, AnyArguments<'q>> {
    for v in vals {
        q = match v {
            V::I(x) => q.bind(x),
            V::S(x) => q.bind(x),
        };
    }
    q
}

/// `INSERT INTO table (cols) VALUES (…), (…) suffix` for `rows` rows.
#[must_use]
pub fn insert_sql(b: Backend, table: &str, cols: &[&str], rows: usize, suffix: &str) -> String {
    let values = placeholders(b, rows, cols.len());
    format!(
        "INSERT INTO {table} ({}) VALUES {values} {suffix}",
        cols.join(", ")
    )
}

pub async fn insert_rows(
    tx: &mut Tx,
    b: Backend,
    table: &str,
    cols: &[&str],
    rows: Vec<Vec<V>>,
    doing: &'static str,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = insert_sql(b, table, cols, rows.len(), "");
    bind_all(sqlx::query(&sql), rows.into_iter().flatten().collect())
        .execute(&mut **tx)
        .await
        .doing(doing)?;
    Ok(())
}

/// Inserts rows and returns their ids, in the order of `rows`.
pub async fn insert_returning_ids(
    tx: &mut Tx,
    b: Backend,
    table: &str,
    cols: &[&str],
    rows: Vec<Vec<V>>,
    doing: &'static str,
) -> Result<Vec<i64>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let sql = insert_sql(b, table, cols, rows.len(), "RETURNING id");
    let got = bind_all(sqlx::query(&sql), rows.into_iter().flatten().collect())
        .fetch_all(&mut **tx)
        .await
        .doing(doing)?;
    let mut ids = got
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<Vec<_>, _>>()
        .doing(doing)?;
    // Ids are assigned in the order of the VALUES; sort in case rows come back in another order.
    ids.sort_unstable();
    Ok(ids)
}

/// The holidays of client `c`'s centre when it lists its own (else NULL: the deployment's
/// apply), as a column of a query over `clients c`.
pub const CENTRE_HOLIDAYS: &str = "(SELECT NULLIF(ce.holidays, '') FROM centres ce \
     WHERE ce.id = c.centre_id AND ce.id <> 'default')";

/// The sender of a message's client's centre, when it has its own (else NULL), as a column
/// of a statement over `messages`.
pub const CENTRE_SENDER: &str = "(SELECT COALESCE(ce.twilio_messaging_service, ce.twilio_from) \
     FROM clients c JOIN centres ce ON ce.id = c.centre_id \
     WHERE c.id = messages.client_id AND ce.id <> 'default')";

/// The Twilio account SID of a message's client's centre, when it has its own (else NULL), as
/// a column of a statement over `messages`.
pub const CENTRE_ACCOUNT: &str = "(SELECT ce.twilio_account_sid \
     FROM clients c JOIN centres ce ON ce.id = c.centre_id \
     WHERE c.id = messages.client_id AND ce.id <> 'default')";

/// The centre of a message's client, when it has a Telegram bot of its own (else NULL): its
/// bot carries the message. A column of a statement over `messages`.
pub const CENTRE_BOT: &str = "(SELECT ce.id \
     FROM clients c JOIN centres ce ON ce.id = c.centre_id \
     WHERE c.id = messages.client_id AND ce.id <> 'default' AND ce.telegram_token_file IS NOT NULL)";

/// The file holding that account's auth token, as a column of a statement over `messages`.
pub const CENTRE_TOKEN_FILE: &str = "(SELECT ce.twilio_auth_token_file \
     FROM clients c JOIN centres ce ON ce.id = c.centre_id \
     WHERE c.id = messages.client_id AND ce.id <> 'default')";
