//! What every page shares: its context, notices, paging, access to a client, error pages.

use crate::clock::{from_ms, to_ms};
use crate::store::{Db, Doing, StoreError};
use crate::web::AppState;
use crate::web::ui::{Auth, message_page, other};
use axum::http::StatusCode;
use axum::response::Response;
use chrono_tz::Tz;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use sqlx::Row;

pub(crate) fn now(st: &AppState) -> i64 {
    to_ms(st.runner.clock.now())
}

/// The navigation entry a path belongs to: `/clients/amelie` is under `/clients`.
fn section(path: &str) -> &'static str {
    const SECTIONS: [&str; 12] = [
        "/programs",
        "/today",
        "/inbox",
        "/notifications",
        "/clients/new",
        "/clients",
        "/flows",
        "/cohort",
        "/audit",
        "/staff",
        "/export",
        "/centres",
    ];
    SECTIONS
        .into_iter()
        .find(|s| path == *s || path.starts_with(&format!("{s}/")))
        .unwrap_or("")
}

/// The context every signed-in page has, with the page's own values.
pub(crate) fn page_ctx(a: &Auth, extra: Value) -> Value {
    context! {
        lang => a.lang,
        other_lang => other(a.lang),
        me => Value::from_serialize(&a.staff),
        counts => Value::from_serialize(a.counts),
        csrf => a.csrf.clone(),
        section => section(&a.path),
        ..extra
    }
}

/// A language clients may be messaged in, as the forms' lists show it: `ar — العربية (Arabic)`.
#[derive(Debug, serde::Serialize)]
pub(crate) struct LanguageOption {
    pub(crate) id: String,
    label: String,
}

/// The languages clients may be messaged in, for the forms' lists: each by its own name (a
/// draft says so).
pub(crate) fn language_options(st: &AppState) -> Vec<LanguageOption> {
    let catalog = &st.runner.catalog;
    catalog
        .locales()
        .iter()
        .map(|l| LanguageOption {
            id: l.to_string(),
            label: catalog.language_name(l),
        })
        .collect()
}

pub(crate) fn sequence_ids(st: &AppState) -> Vec<String> {
    st.runner
        .sequences
        .all()
        .map(|s| s.id.to_string())
        .collect()
}

pub(crate) fn flow_ids(st: &AppState) -> Vec<String> {
    st.runner
        .flows
        .current()
        .map(|f| f.id.to_string())
        .collect()
}

/// Notices a redirect may ask a page to show: only these keys, and at most one code that names
/// what was done (a sequence, a flow), checked against what exists. A URL cannot put words on a
/// page; the client's name comes from the record.
const NOTICES: [&str; 34] = [
    "added",
    "enrolled",
    "paused",
    "resumed",
    "cancelled",
    "referral-closed",
    "referral-saved",
    "rescheduled",
    "started",
    "sent",
    "invited",
    "phone-set",
    "assigned",
    "task-done",
    "erased",
    "setup-done",
    "revoked",
    "staff-done",
    "best-time-set",
    "level-set",
    "alert-acked",
    "conversation-closed",
    "note-added",
    "program-saved",
    "program-retired",
    "program-restored",
    "summary-sent",
    "summaries-set",
    "goal-set",
    "goal-rated",
    "goal-closed",
    "sociodemographics-saved",
    "centre-added",
    "centre-sharing",
];

#[derive(Debug, Deserialize, Default)]
pub(crate) struct Done {
    #[serde(default)]
    pub(crate) done: Option<String>,
    /// The sequence or flow the notice names.
    #[serde(default)]
    pub(crate) item: Option<String>,
}

impl Done {
    /// `?done=<key>&item=<code>`, for a redirect.
    #[must_use]
    pub(crate) fn query(key: &str, item: Option<&str>) -> String {
        match item {
            Some(i) => format!("done={key}&item={i}"),
            None => format!("done={key}"),
        }
    }
}

/// What was just done, said for the reader: "Amélie is enrolled in Standard follow-up".
pub(crate) fn notice(st: &AppState, lang: &str, d: &Done, name: Option<&str>) -> Option<String> {
    let key = d.done.as_deref().filter(|k| NOTICES.contains(k))?;
    let w = st.words(lang);
    let item = d.item.as_deref().and_then(|i| {
        let id = crate::domain::FlowId::parse(i).ok()?;
        if st.runner.sequences.get(&id).is_some() {
            Some(w.code("seq", i))
        } else if st.runner.flows.get(&id).is_some() {
            Some(w.flow(i))
        } else {
            None
        }
    });
    w.key(
        &format!("notice-{key}"),
        &[
            ("name", name.unwrap_or_default().to_owned()),
            ("item", item.unwrap_or_default()),
        ],
    )
}

/// An error page with the reason and a way back.
pub(crate) fn error_page(
    st: &AppState,
    a: &Auth,
    status: StatusCode,
    text: &str,
    back: &str,
) -> Response {
    let mut r = st.ui.render(
        "message.html",
        page_ctx(
            a,
            context! { heading => text, link => back, link_text => st.ui.text.get(a.lang, "error", None) },
        ),
    );
    *r.status_mut() = status;
    r
}

pub(crate) fn store_error(st: &AppState, a: &Auth, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "a page failed");
    error_page(
        st,
        a,
        StatusCode::SERVICE_UNAVAILABLE,
        &st.ui.text.get(a.lang, "error", None),
        "/today",
    )
}

/// The client if this staff member may open their record: an admin any, a navigator their own.
/// A refused attempt is audited and answered 403.
/// A client `a` may open: their id, their meta, or the page that says why not.
pub(crate) async fn open_client(
    st: &AppState,
    a: &Auth,
    id: &str,
) -> Result<(crate::domain::ClientId, ClientMeta), Response> {
    let meta = access(st, a, id).await?;
    let client = crate::domain::ClientId::parse(id)
        .map_err(|_| message_page(st, a.lang, Some(a), StatusCode::NOT_FOUND, "not-found"))?;
    Ok((client, meta))
}

pub(crate) async fn access(st: &AppState, a: &Auth, id: &str) -> Result<ClientMeta, Response> {
    let meta = match client_meta(&st.runner.db, id).await {
        Ok(Some(m)) => m,
        Ok(None) => {
            return Err(message_page(
                st,
                a.lang,
                Some(a),
                StatusCode::NOT_FOUND,
                "not-found",
            ));
        }
        Err(e) => return Err(store_error(st, a, &e)),
    };
    if !a.staff.sees_centre(&meta.centre) {
        return Err(refused(
            st,
            a,
            id,
            "access-denied",
            "another centre's client",
            "forbidden-client",
        )
        .await);
    }
    if a.staff.is_admin() || meta.navigator_id == Some(a.staff.id) {
        return Ok(meta);
    }
    // Sent an alert about this client: they may act on it, for a day.
    if crate::alerts::alerted_about(&st.runner.db, a.staff.id, id, now(st))
        .await
        .unwrap_or(false)
    {
        return Ok(meta);
    }
    Err(refused(
        st,
        a,
        id,
        "access-denied",
        "not their client",
        "forbidden-client",
    )
    .await)
}

/// A staff member refused a client's page: the attempt audited, and a 403 saying why.
pub(crate) async fn refused(
    st: &AppState,
    a: &Auth,
    client: &str,
    action: &str,
    detail: &str,
    message: &str,
) -> Response {
    let _ = crate::store::record::audit_one(
        &st.runner.db,
        now(st),
        &a.staff.actor(),
        action,
        Some(client),
        detail,
    )
    .await;
    message_page(st, a.lang, Some(a), StatusCode::FORBIDDEN, message)
}

/// The page that says there is no such thing.
pub(crate) fn not_found_page(st: &AppState, a: &Auth) -> Response {
    message_page(st, a.lang, Some(a), StatusCode::NOT_FOUND, "not-found")
}

/// A centre's name, as letters and pages give it (the deployment's, if it has none).
pub(crate) async fn centre_name(st: &AppState, centre: &str) -> String {
    match crate::centres::get(&st.runner.db, centre).await {
        Ok(Some(c)) if !c.name.is_empty() => c.name,
        _ => st.runner.centre.name.clone(),
    }
}

/// A staff member reached for something of another centre (a staff member, a program, a
/// token, a task): the attempt audited, and a 403.
pub(crate) async fn other_centre(st: &AppState, a: &Auth, what: &str) -> Response {
    let _ = crate::store::record::audit_one(
        &st.runner.db,
        now(st),
        &a.staff.actor(),
        "access-denied",
        None,
        &format!("another centre's {what}"),
    )
    .await;
    message_page(st, a.lang, Some(a), StatusCode::FORBIDDEN, "forbidden")
}

/// The centre a form names, if `a` may act for it: an administrator of the whole deployment
/// any centre; anyone else their own (whatever the form says).
pub(crate) async fn chosen_centre(
    st: &AppState,
    a: &Auth,
    named: &str,
) -> Result<String, Response> {
    let named = named.trim();
    if named.is_empty() || named == a.staff.centre {
        return Ok(a.staff.centre.clone());
    }
    if !a.staff.all_centres {
        return Err(other_centre(st, a, "centre").await);
    }
    match crate::centres::get(&st.runner.db, named).await {
        Ok(Some(c)) => Ok(c.id),
        Ok(None) => Err(not_found_page(st, a)),
        Err(e) => Err(store_error(st, a, &e)),
    }
}

#[allow(clippy::result_large_err)] // the refusal is the page itself
pub(crate) fn require_admin(st: &AppState, a: &Auth) -> Result<(), Response> {
    if a.staff.is_admin() {
        Ok(())
    } else {
        Err(message_page(
            st,
            a.lang,
            Some(a),
            StatusCode::FORBIDDEN,
            "forbidden",
        ))
    }
}

pub(crate) const PAGE: i64 = 50;

/// A link to another page of a list, keeping its filters.
pub(crate) fn paged(base: &str, filters: &[(&str, &Option<String>)], page: i64) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in filters {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            s.append_pair(k, v);
        }
    }
    s.append_pair("page", &page.to_string());
    format!("{base}?{}", s.finish())
}

/// What a navigator is told when an action fails: the reason, unless the database failed
/// underneath (logged for the on-call engineer; the navigator is asked to try again).
pub(crate) fn said(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<sqlx::Error>() || c.is::<sqlx::migrate::MigrateError>() {
            tracing::error!(error = %e, "a navigator's action failed");
            return "temporarily unavailable; try again".into();
        }
        cause = c.source();
    }
    e.to_string()
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct Empty {}

/// A time as a navigator reads it, in the centre's time zone.
#[must_use]
pub fn local(ms: i64, tz: Tz) -> String {
    from_ms(ms)
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Who a client is assigned to, and their name.
#[derive(Debug, Clone, Serialize)]
pub struct ClientMeta {
    pub id: String,
    pub name: Option<String>,
    pub navigator_id: Option<i64>,
    pub navigator: Option<String>,
    /// unknown | granted | revoked
    pub consent: String,
    /// real | test
    pub kind: String,
    /// The centre they belong to.
    pub centre: String,
}

pub async fn client_meta(db: &Db, id: &str) -> Result<Option<ClientMeta>, StoreError> {
    let row = sqlx::query(
        "SELECT c.id, c.display_name, c.navigator_id, s.display_name AS nav, c.consent, c.kind, c.centre_id FROM clients c \
         LEFT JOIN staff s ON s.id = c.navigator_id WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await
    .doing("reading a client")?;
    row.map(|r| {
        Ok(ClientMeta {
            id: r.try_get(0).doing("reading a client")?,
            name: r.try_get(1).doing("reading a client")?,
            navigator_id: r.try_get(2).doing("reading a client")?,
            navigator: r.try_get(3).doing("reading a client")?,
            consent: r.try_get(4).doing("reading a client")?,
            kind: r.try_get(5).doing("reading a client")?,
            centre: r.try_get(6).doing("reading a client")?,
        })
    })
    .transpose()
}

pub(crate) enum Arg {
    I(i64),
    S(String),
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;
type AnyScalar<'q> = sqlx::query::QueryScalar<'q, sqlx::Any, i64, sqlx::any::AnyArguments<'q>>;

impl Arg {
    pub(crate) fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        match self {
            Arg::I(i) => q.bind(*i),
            Arg::S(s) => q.bind(s.clone()),
        }
    }
    pub(crate) fn bind_scalar<'q>(&self, q: AnyScalar<'q>) -> AnyScalar<'q> {
        match self {
            Arg::I(i) => q.bind(*i),
            Arg::S(s) => q.bind(s.clone()),
        }
    }
}
