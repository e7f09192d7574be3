//! Statements built at run time for a whole batch, in each backend's parameter style: rows
//! written from a multi-row `VALUES` (SQLite) or one JSON parameter (Postgres), and rows read
//! back as one JSON value.

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

/// A list of keys for `x IN (…)` from parameter `first` on, and what to bind to it. On SQLite,
/// one parameter per key. On Postgres, one JSON parameter read by `json_array_elements_text`
/// (cast to `bigint` for numbers): the statement's text is the same for every batch, and
/// Postgres does not plan a list of hundreds of parameters at every run.
#[must_use]
pub fn in_list(b: Backend, first: usize, vals: Vec<V>) -> (String, Vec<V>) {
    match b {
        Backend::Sqlite if vals.is_empty() => ("NULL".into(), vals),
        Backend::Sqlite => (list_from(b, first, vals.len()), vals),
        Backend::Postgres => {
            let numbers = matches!(vals.first(), Some(V::I(_)));
            let json = if numbers {
                let ns: Vec<Option<i64>> = vals
                    .into_iter()
                    .map(|v| match v {
                        V::I(n) => n,
                        V::S(t) => t.and_then(|t| t.parse().ok()),
                    })
                    .collect();
                serde_json::to_string(&ns)
            } else {
                let ts: Vec<Option<String>> = vals
                    .into_iter()
                    .map(|v| match v {
                        V::S(t) => t,
                        V::I(n) => n.map(|n| n.to_string()),
                    })
                    .collect();
                serde_json::to_string(&ts)
            };
            let cast = if numbers { "::bigint" } else { "" };
            (
                format!("SELECT value{cast} FROM json_array_elements_text(${first}::json)"),
                vec![V::S(Some(json.unwrap_or_else(|_| "[]".into())))],
            )
        }
    }
}

/// A batch of rows as the source of a statement, `(…) AS v` with columns `v.column1`… (as
/// `VALUES` names them), and what to bind to it. On SQLite it is `VALUES`, one parameter per
/// value (SQLite was slower reading the same rows from JSON). On Postgres it is one JSON
/// parameter read by `json_to_recordset`: Postgres plans a statement again at every run, and a
/// `VALUES` list of thousands of parameters is costly to plan (a batch of 500 messages has 8,000).
#[must_use]
pub fn rows_source(b: Backend, vals: Vec<V>, cols: usize) -> (String, Vec<V>) {
    let cols = cols.max(1);
    match b {
        Backend::Sqlite => (
            format!("(VALUES {})", placeholders(b, vals.len() / cols, cols)),
            vals,
        ),
        Backend::Postgres => {
            let types = vals
                .iter()
                .take(cols)
                .enumerate()
                .map(|(c, v)| match v {
                    V::I(_) => format!("c{} bigint", c + 1),
                    V::S(_) => format!("c{} text", c + 1),
                })
                .collect::<Vec<_>>()
                .join(", ");
            let names = (1..=cols)
                .map(|c| format!("c{c} AS column{c}"))
                .collect::<Vec<_>>()
                .join(", ");
            (
                format!(
                    "(SELECT {names} FROM json_to_recordset($1::json) AS x(n bigint, {types}) ORDER BY n)"
                ),
                vec![V::S(Some(json_of(&vals, cols)))],
            )
        }
    }
}

/// Rows of `cols` values as a JSON array of objects, `{"n": row, "c1": …, "c2": …}`.
fn json_of(vals: &[V], cols: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(vals.len() * 24);
    out.push('[');
    for (r, row) in vals.chunks(cols).enumerate() {
        if r > 0 {
            out.push(',');
        }
        let _ = write!(out, "{{\"n\":{r}");
        for (c, v) in row.iter().enumerate() {
            let _ = write!(out, ",\"c{}\":", c + 1);
            match v {
                V::I(Some(n)) => {
                    let _ = write!(out, "{n}");
                }
                V::S(Some(t)) => {
                    out.push_str(&serde_json::to_string(t).unwrap_or_else(|_| "null".into()));
                }
                V::I(None) | V::S(None) => out.push_str("null"),
            }
        }
        out.push('}');
    }
    out.push(']');
    out
}

/// `INSERT INTO table (cols) … suffix` for a batch of rows, and what to bind to it (see
/// [`rows_source`]).
#[must_use]
pub fn insert_batch(
    b: Backend,
    table: &str,
    cols: &[&str],
    rows: Vec<Vec<V>>,
    suffix: &str,
) -> (String, Vec<V>) {
    match b {
        Backend::Sqlite => {
            let sql = insert_sql(b, table, cols, rows.len(), suffix);
            (sql, rows.into_iter().flatten().collect())
        }
        Backend::Postgres => {
            let (source, vals) = rows_source(b, rows.into_iter().flatten().collect(), cols.len());
            let sql = format!(
                "INSERT INTO {table} ({}) SELECT * FROM {source} AS v {suffix}",
                cols.join(", ")
            );
            (sql, vals)
        }
    }
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
    let (sql, vals) = insert_batch(b, table, cols, rows, "");
    bind_all(sqlx::query(&sql), vals)
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
    let (sql, vals) = insert_batch(b, table, cols, rows, "RETURNING id");
    let got = bind_all(sqlx::query(&sql), vals)
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

/// `SELECT` of one row and one text column: the JSON array of `[row…]` arrays of `cols`, one per
/// row of `rest` (`FROM … WHERE …`). A batch read this way crosses from the database as one
/// value, not as rows of values each copied on its way (sqlx's `Any` copies every column of every
/// row). A column that is itself JSON goes through [`json_col`].
#[must_use]
pub fn json_rows(b: Backend, cols: &[&str], rest: &str) -> String {
    let cols = cols.join(", ");
    match b {
        Backend::Sqlite => format!("SELECT json_group_array(json_array({cols})) {rest}"),
        Backend::Postgres => {
            format!("SELECT COALESCE(json_agg(json_build_array({cols})), '[]'::json)::text {rest}")
        }
    }
}

/// A JSON value made in a subquery (`json_array(…)`), as a column of [`json_rows`]: SQLite
/// forgets across a subquery that a text is JSON, and would quote it.
#[must_use]
pub fn json_col(b: Backend, e: &str) -> String {
    match b {
        Backend::Sqlite => format!("json({e})"),
        Backend::Postgres => e.to_owned(),
    }
}

/// `json_array` in the backend's spelling.
#[must_use]
pub fn json_array(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "json_array",
        Backend::Postgres => "json_build_array",
    }
}

/// Runs a [`json_rows`] statement and reads its rows as `T` (a struct read from an array, in
/// the order of its fields).
pub async fn fetch_json_rows<'q, T: serde::de::DeserializeOwned>(
    q: Query<'q, sqlx::Any, AnyArguments<'q>>,
    tx: &mut Tx,
    doing: &'static str,
) -> Result<Vec<T>, StoreError> {
    let text: Option<String> = q
        .fetch_one(&mut **tx)
        .await
        .and_then(|r| r.try_get(0))
        .doing(doing)?;
    serde_json::from_str(text.as_deref().unwrap_or("[]"))
        .map_err(|e| StoreError::Corrupt(format!("{doing}: {e}")))
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
