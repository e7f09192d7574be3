//! Today: tasks and flags by urgency (crisis first), steps overdue or failed, texts from
//! unknown numbers; a task is resolved from here or from the record.

use crate::domain::ClientId;
use crate::store::record::audit;
use crate::store::{Db, Doing, StoreError};
use crate::web::AppState;
use crate::web::page::{Arg, Done, access, local, notice, now, page_ctx, store_error};
use crate::web::ui::{Auth, Form, message_page};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono_tz::Tz;
use minijinja::{Value, context};
use serde::Serialize;
use sqlx::Row;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/today", get(today))
        .route("/tasks/{id}/resolve", post(resolve_task))
}

async fn today(State(st): State<AppState>, a: Auth, Query(d): Query<Done>) -> Response {
    let tz = st.runner.centre.time_zone;
    let t = now(&st);
    let centre = a.staff.scope();
    let tasks = open_tasks(&st.runner.db, a.viewer(), centre, None, tz, 200, 0).await;
    let late = st.runner.schedule.late_after.num_milliseconds();
    let overdue = overdue(&st.runner.db, a.viewer(), centre, t, late).await;
    let unmatched =
        crate::store::delivery::unmatched(&st.runner.db, centre, 50, t, &a.staff.actor()).await;
    let (Ok((tasks, _)), Ok(overdue), Ok(unmatched)) = (tasks, overdue, unmatched) else {
        return store_error(&st, &a, &"reading today's work");
    };
    let unmatched: Vec<Value> = unmatched
        .into_iter()
        .map(
            |m| context! { at => m.at, channel => m.channel, address => m.address, body => m.body },
        )
        .collect();
    st.ui.render(
        "today.html",
        page_ctx(&a, context! { tasks => tasks, overdue => overdue, unmatched => unmatched, notice => notice(&st, a.lang, &d, None) }),
    )
}

async fn resolve_task(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Form(a, f): Form<ResolveForm>,
) -> Response {
    let note = f.note.trim().to_owned();
    if note.chars().count() > 2000 {
        return crate::web::page::error_page(
            &st,
            &a,
            StatusCode::UNPROCESSABLE_ENTITY,
            "the note is longer than 2000 characters",
            "/today",
        );
    }
    let client = match flag_client(&st.runner.db, id).await {
        Ok(Some(c)) => c,
        Ok(None) => return message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found"),
        Err(e) => return store_error(&st, &a, &e),
    };
    if let Some(c) = &client
        && let Err(r) = access(&st, &a, c).await
    {
        return r;
    }
    // A task of no client (a text from an unknown number) is the default centre's.
    if client.is_none() && !a.staff.sees_centre(crate::centres::DEFAULT) {
        return crate::web::page::other_centre(&st, &a, "task").await;
    }
    match close_task(
        &st.runner.db,
        id,
        client.as_deref(),
        (!note.is_empty()).then_some((a.staff.id, note.as_str())),
        &a.staff.actor(),
        now(&st),
    )
    .await
    {
        Ok(_) => Redirect::to(&client.map_or("/today?done=task-done".into(), |c| {
            format!("/clients/{c}?done=task-done")
        }))
        .into_response(),
        Err(e) => store_error(&st, &a, &e),
    }
}

#[derive(Debug, serde::Deserialize, Default)]
struct ResolveForm {
    /// What was done, for the record.
    #[serde(default)]
    note: String,
}

/// A task or flag for a navigator.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: i64,
    pub client: Option<String>,
    pub kind: String,
    pub urgency: String,
    pub note: Option<String>,
    pub status: String,
    /// The due time, in the centre's time zone.
    pub due: Option<String>,
    pub created: String,
    /// The due time, RFC 3339.
    pub due_at: Option<String>,
}

fn rfc3339(ms: i64) -> String {
    crate::clock::from_ms(ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Open tasks by urgency: crisis first, then urgent, then by due date and age. A navigator
/// (`viewer`) sees their clients' tasks and those of no client; staff of one `centre` see its
/// clients' tasks (and those of no client, in the default centre).
#[allow(clippy::too_many_arguments)]
pub async fn open_tasks(
    db: &Db,
    viewer: Option<i64>,
    centre: Option<&str>,
    client: Option<&str>,
    tz: Tz,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Task>, i64), StoreError> {
    let (cond, binds): (&str, Vec<Arg>) = match (viewer, client) {
        (_, Some(c)) => ("f.client_id = $1", vec![Arg::S(c.to_owned())]),
        (Some(v), None) => (
            "(f.client_id IS NULL OR c.navigator_id = $1)",
            vec![Arg::I(v)],
        ),
        (None, None) => ("$1 = $1", vec![Arg::I(0)]),
    };
    let mut binds = binds;
    binds.push(Arg::S(centre.unwrap_or_default().to_owned()));
    let base = format!(
        "FROM flags f LEFT JOIN clients c ON c.id = f.client_id WHERE f.status = 'open' AND {cond} \
         AND ($2 = '' OR COALESCE(c.centre_id, 'default') = $2)"
    );
    let count_sql = format!("SELECT COUNT(*) {base}");
    let mut cq = sqlx::query_scalar::<_, i64>(&count_sql);
    for a in &binds {
        cq = a.bind_scalar(cq);
    }
    let total = cq.fetch_one(db.pool()).await.doing("counting tasks")?;
    let sql = format!(
        "SELECT f.id, f.client_id, f.kind, f.urgency, f.note, f.status, f.due_at, f.created_at {base} \
         ORDER BY CASE WHEN f.kind = 'crisis' THEN 0 WHEN f.urgency = 'urgent' THEN 1 ELSE 2 END, \
         COALESCE(f.due_at, f.created_at), f.id LIMIT $3 OFFSET $4"
    );
    let mut q = sqlx::query(&sql);
    for a in &binds {
        q = a.bind(q);
    }
    let rows = q
        .bind(limit)
        .bind(offset)
        .fetch_all(db.pool())
        .await
        .doing("reading tasks")?;
    let list = rows
        .iter()
        .map(|r| {
            Ok(Task {
                id: r.try_get(0)?,
                client: r.try_get(1)?,
                kind: r.try_get(2)?,
                urgency: r.try_get(3)?,
                note: r.try_get(4)?,
                status: r.try_get(5)?,
                due: r.try_get::<Option<i64>, _>(6)?.map(|d| local(d, tz)),
                created: local(r.try_get(7)?, tz),
                due_at: r.try_get::<Option<i64>, _>(6)?.map(rfc3339),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("reading tasks")?;
    Ok((list, total))
}

/// A scheduled step that should have gone out and has not, or that failed.
#[derive(Debug, Clone, Serialize)]
pub struct Overdue {
    pub client: String,
    pub step: String,
    /// When it was due (ms).
    pub due: i64,
    pub status: String,
    pub note: Option<String>,
    pub flow: Option<String>,
    pub time_point: Option<String>,
}

pub async fn overdue(
    db: &Db,
    viewer: Option<i64>,
    centre: Option<&str>,
    now: i64,
    late_ms: i64,
) -> Result<Vec<Overdue>, StoreError> {
    let rows = sqlx::query(
        "SELECT j.client_id, COALESCE(j.step_id, j.kind), j.due_at, j.status, j.note, j.flow_id, j.time_point FROM jobs j JOIN clients c ON c.id = j.client_id \
         WHERE ((j.status IN ('pending', 'running') AND j.due_at < $1) OR j.status = 'failed') \
         AND ($2 = 0 OR c.navigator_id = $3) AND ($4 = '' OR c.centre_id = $4) ORDER BY j.due_at LIMIT 100",
    )
    .bind(now - late_ms)
    .bind(i64::from(viewer.is_some()))
    .bind(viewer.unwrap_or(0))
    .bind(centre.unwrap_or_default())
    .fetch_all(db.pool())
    .await
    .doing("reading overdue steps")?;
    rows.iter()
        .map(|r| {
            Ok(Overdue {
                client: r.try_get(0)?,
                step: r.try_get(1)?,
                due: r.try_get(2)?,
                status: r.try_get(3)?,
                note: r.try_get(4)?,
                flow: r.try_get(5)?,
                time_point: r.try_get(6)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("reading overdue steps")
}

/// Whose a flag is: `None` when there is no such flag, `Some(None)` when it belongs to no client.
pub async fn flag_client(db: &Db, id: i64) -> Result<Option<Option<String>>, StoreError> {
    let row = sqlx::query("SELECT client_id FROM flags WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await
        .doing("reading a flag")?;
    row.map(|r| r.try_get::<Option<String>, _>(0).doing("reading a flag"))
        .transpose()
}

/// Resolves a task, with what was done as a note on the client's record (never sent).
pub async fn close_task(
    db: &Db,
    id: i64,
    client: Option<&str>,
    note: Option<(i64, &str)>,
    actor: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "UPDATE flags SET status = 'resolved', resolved_at = $1 WHERE id = $2 AND status = 'open'",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await
    .doing("resolving a task")?
    .rows_affected();
    if n > 0 {
        let c = client.and_then(|c| ClientId::parse(c).ok());
        audit(
            &mut tx,
            now,
            actor,
            "task-resolve",
            c.as_ref(),
            &format!("task {id}"),
        )
        .await?;
        if let (Some(c), Some((staff, body))) = (c.as_ref(), note) {
            crate::store::record::add_note(
                &mut tx,
                &crate::store::record::NewNote {
                    client: c,
                    staff: Some(staff),
                    kind: "task",
                    body,
                    flag: Some(id),
                    happened_at: now,
                },
                now,
                actor,
            )
            .await?;
        }
    }
    tx.commit().await.doing("committing")?;
    Ok(n > 0)
}
