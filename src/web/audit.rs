//! Audit (administrators): who viewed or changed which record, when, with filters.

use crate::clock::to_ms;
use crate::store::{Db, Doing, StoreError};
use crate::web::AppState;
use crate::web::page::{PAGE, page_ctx, paged, require_admin, store_error};
use crate::web::ui::Auth;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use serde::{Deserialize, Serialize};
use sqlx::Row;

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(audit_page))
}

#[derive(Debug, Deserialize, Default)]
struct AuditQuery {
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    client: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    page: Option<i64>,
}

fn day_start(d: Option<&str>, tz: chrono_tz::Tz, plus_days: i64) -> Option<i64> {
    let d = chrono::NaiveDate::parse_from_str(d?.trim(), "%Y-%m-%d").ok()?
        + chrono::Duration::days(plus_days);
    Some(to_ms(crate::schedule::time::resolve(
        tz,
        d.and_hms_opt(0, 0, 0)?,
    )))
}

async fn audit_page(State(st): State<AppState>, a: Auth, Query(q): Query<AuditQuery>) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    let tz = st.runner.centre.time_zone;
    let page = q.page.unwrap_or(1).max(1);
    let f = AuditFilter {
        actor: q.actor.clone(),
        client: q.client.clone(),
        action: q.action.clone(),
        from: day_start(q.from.as_deref(), tz, 0),
        to: day_start(q.to.as_deref(), tz, 1),
        centre: a.staff.scope().map(str::to_owned),
    };
    let entries = match audit_entries(&st.runner.db, &f, PAGE + 1, (page - 1) * PAGE).await {
        Ok(e) => e,
        Err(e) => return store_error(&st, &a, &e),
    };
    let more = entries.len() > usize::try_from(PAGE).unwrap_or(50);
    // An assignment names the staff member by id: say who, as the actor column does.
    let staff = crate::staff::list(&st.runner.db, a.staff.scope())
        .await
        .unwrap_or_default();
    let entries: Vec<_> = entries
        .into_iter()
        .take(usize::try_from(PAGE).unwrap_or(50))
        .map(|mut e| {
            if e.action == "client-assign"
                && let Some(id) = e.detail.as_deref().and_then(|d| d.strip_prefix("staff "))
                && let Some(s) = staff.iter().find(|s| s.id.to_string() == id)
            {
                e.detail = Some(format!("staff {id} {}", s.actor()));
            }
            e
        })
        .collect();
    let filters = [
        ("actor", &q.actor),
        ("client", &q.client),
        ("action", &q.action),
        ("from", &q.from),
        ("to", &q.to),
    ];
    let link = |p: i64| paged("/audit", &filters, p);
    st.ui.render(
        "audit.html",
        page_ctx(
            &a,
            context! {
                entries => entries,
                f => context! { actor => q.actor.clone().unwrap_or_default(), client => q.client.clone().unwrap_or_default(), action => q.action.clone().unwrap_or_default(), from => q.from.clone().unwrap_or_default(), to => q.to.clone().unwrap_or_default() },
                actions => crate::web::ui::words::AUDIT_ACTIONS,
                prev => (page > 1).then(|| link(page - 1)),
                next => more.then(|| link(page + 1)),
            },
        ),
    )
}

/// One audit entry.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// When (ms).
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub client: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub client: Option<String>,
    pub action: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// One centre's entries: about its clients (whoever acted: another centre's refused attempt
    /// on one of them shows here, not there), or about no client and by its staff or tokens
    /// (none: every one).
    pub centre: Option<String>,
}

pub async fn audit_entries(
    db: &Db,
    f: &AuditFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<AuditEntry>, StoreError> {
    let s = |v: &Option<String>| v.clone().filter(|x| !x.trim().is_empty());
    let rows = sqlx::query(
        "SELECT id, at, actor, action, client_id, detail FROM audit_log \
         WHERE ($1 = '' OR actor = $1) AND ($2 = '' OR client_id = $2) AND ($3 = '' OR action = $3) \
         AND at >= $4 AND at < $5 \
         AND ($8 = '' OR client_id IN (SELECT c.id FROM clients c WHERE c.centre_id = $8) \
              OR (client_id IS NULL AND (actor IN (SELECT 'staff:' || s.username FROM staff s WHERE s.centre_id = $8) \
                  OR actor IN (SELECT 'api:' || t.name FROM api_tokens t WHERE t.centre_id = $8)))) \
         ORDER BY id DESC LIMIT $6 OFFSET $7",
    )
    .bind(s(&f.actor).unwrap_or_default())
    .bind(s(&f.client).unwrap_or_default())
    .bind(s(&f.action).unwrap_or_default())
    .bind(f.from.unwrap_or(i64::MIN))
    .bind(f.to.unwrap_or(i64::MAX))
    .bind(limit)
    .bind(offset)
    .bind(f.centre.clone().unwrap_or_default())
    .fetch_all(db.pool())
    .await
    .doing("reading the audit log")?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get(0)?,
                at: r.try_get(1)?,
                actor: r.try_get(2)?,
                action: r.try_get(3)?,
                client: r.try_get(4)?,
                detail: r.try_get(5)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("reading the audit log")
}
