//! Notifications: what came in that a person should see — crisis, urgent and callback tasks,
//! completed surveys with their score, and texts outside any flow — newest first, with what is
//! new since the staff member last looked counted in the header.

use crate::store::{Db, Doing, StoreError};
use crate::web::AppState;
use crate::web::page::{now, page_ctx, store_error};
use crate::web::ui::Auth;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use sqlx::Row;

pub fn routes() -> Router<AppState> {
    Router::new().route("/notifications", get(page))
}

/// How far back the list looks.
const WINDOW_MS: i64 = 14 * 24 * 3_600_000;

/// One thing to notice.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Item {
    /// flag | score | message
    pub what: String,
    pub client: Option<String>,
    pub name: Option<String>,
    /// The flag's kind, the instrument, or the channel.
    pub kind: String,
    pub urgency: Option<String>,
    pub total: Option<i64>,
    pub category: Option<String>,
    /// A text's words (the client's; never shown outside the signed-in page).
    pub text: Option<String>,
    pub at: i64,
    pub new: bool,
}

/// The feed's rows, for one viewer (a navigator: their clients and the unassigned), of one
/// centre (`$2`; '': every centre).
fn feed_sql(viewer: bool, count: bool) -> String {
    let scope = if viewer {
        "AND ($2 = '' OR COALESCE(c.centre_id, 'default') = $2) AND (c.navigator_id = $3 OR c.navigator_id IS NULL)"
    } else {
        "AND ($2 = '' OR COALESCE(c.centre_id, 'default') = $2)"
    };
    let union = format!(
        "SELECT 'flag' AS what, f.client_id AS client, c.display_name AS name, f.kind AS kind, f.urgency AS urgency, \
                NULL AS total, NULL AS category, NULL AS text, f.created_at AS at \
           FROM flags f LEFT JOIN clients c ON c.id = f.client_id \
          WHERE f.created_at > $1 AND (f.urgency = 'urgent' OR f.kind = 'callback') {scope} \
         UNION ALL \
         SELECT 'score', s.client_id, c.display_name, s.instrument, NULL, s.total, s.category, NULL, s.at \
           FROM scores s JOIN clients c ON c.id = s.client_id \
          WHERE s.at > $1 AND s.complete = 1 {scope} \
         UNION ALL \
         SELECT 'message', m.client_id, c.display_name, m.channel, NULL, NULL, NULL, m.body, m.created_at \
           FROM messages m JOIN clients c ON c.id = m.client_id \
          WHERE m.created_at > $1 AND m.direction = 'in' AND m.session_id IS NULL {scope}"
    );
    if count {
        format!("SELECT COUNT(*) FROM ({union}) x")
    } else {
        format!("SELECT * FROM ({union}) x ORDER BY at DESC LIMIT 100")
    }
}

/// What is new for this staff member since they last opened the list.
pub async fn unread(
    db: &Db,
    staff: &crate::staff::Staff,
    viewer: Option<i64>,
) -> Result<i64, StoreError> {
    let seen: i64 = sqlx::query_scalar("SELECT notifications_seen_at FROM staff WHERE id = $1")
        .bind(staff.id)
        .fetch_one(db.pool())
        .await
        .doing("reading notifications")?;
    let sql = feed_sql(viewer.is_some(), true);
    let mut q = sqlx::query_scalar::<_, i64>(&sql)
        .bind(seen)
        .bind(staff.scope().unwrap_or_default().to_owned());
    if let Some(v) = viewer {
        q = q.bind(v);
    }
    q.fetch_one(db.pool()).await.doing("counting notifications")
}

async fn list(
    db: &Db,
    viewer: Option<i64>,
    centre: Option<&str>,
    since: i64,
    seen: i64,
) -> Result<Vec<Item>, StoreError> {
    let sql = feed_sql(viewer.is_some(), false);
    let mut q = sqlx::query(&sql)
        .bind(since)
        .bind(centre.unwrap_or_default().to_owned());
    if let Some(v) = viewer {
        q = q.bind(v);
    }
    q.fetch_all(db.pool())
        .await
        .doing("reading notifications")?
        .iter()
        .map(|r| {
            let at: i64 = r.try_get("at")?;
            Ok(Item {
                what: r.try_get("what")?,
                client: r.try_get("client")?,
                name: r.try_get("name")?,
                kind: r.try_get("kind")?,
                urgency: r.try_get("urgency")?,
                total: r.try_get("total")?,
                category: r.try_get("category")?,
                text: r.try_get("text")?,
                at,
                new: at > seen,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("reading notifications")
}

async fn page(State(st): State<AppState>, a: Auth) -> Response {
    let db = &st.runner.db;
    let t = now(&st);
    let seen: i64 =
        match sqlx::query_scalar("SELECT notifications_seen_at FROM staff WHERE id = $1")
            .bind(a.staff.id)
            .fetch_one(db.pool())
            .await
        {
            Ok(s) => s,
            Err(e) => return store_error(&st, &a, &e),
        };
    let items = match list(db, a.viewer(), a.staff.scope(), t - WINDOW_MS, seen).await {
        Ok(i) => i,
        Err(e) => return store_error(&st, &a, &e),
    };
    // Seen now; the page still marks what was new when it opened.
    let marked = sqlx::query("UPDATE staff SET notifications_seen_at = $1 WHERE id = $2")
        .bind(t)
        .bind(a.staff.id)
        .execute(db.pool())
        .await;
    if let Err(e) = marked {
        return store_error(&st, &a, &e);
    }
    let _ = crate::store::record::audit_one(
        db,
        t,
        &a.staff.actor(),
        "notifications-view",
        None,
        &format!("{} notifications listed", items.len()),
    )
    .await;
    let mut a = a;
    a.counts.notifications = 0;
    st.ui.render(
        "notifications.html",
        page_ctx(&a, context! { items => items }),
    )
}
