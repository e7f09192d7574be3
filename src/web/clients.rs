//! Clients: the list (search, filters, paging) and adding a client.

use crate::domain::ClientId;
use crate::enrolment::actions::{self, ClientSpec};
use crate::staff;
use crate::store::record::audit;
use crate::store::{Backend, Db, Doing, StoreError};
use crate::web::AppState;
use crate::web::page::{
    Arg, Done, PAGE, error_page, language_options, notice, now, page_ctx, paged, sequence_ids,
    store_error,
};
use crate::web::ui::{Auth, Form};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use sqlx::Row;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/clients", get(clients).post(create_client))
        .route("/clients/new", get(new_client))
}

#[derive(Debug, Deserialize, Default, serde::Serialize)]
struct ClientQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    navigator: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    flag: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    page: Option<i64>,
    /// What was just done here (an erasure).
    #[serde(default, skip_serializing)]
    done: Option<String>,
}

fn page_link(base: &str, q: &ClientQuery, page: i64) -> String {
    let filters = [
        ("q", &q.q),
        ("navigator", &q.navigator),
        ("status", &q.status),
        ("flag", &q.flag),
        ("language", &q.language),
    ];
    paged(base, &filters, page)
}

async fn clients(State(st): State<AppState>, a: Auth, Query(q): Query<ClientQuery>) -> Response {
    let page = q.page.unwrap_or(1).max(1);
    let filter = ClientFilter {
        q: q.q.clone(),
        navigator: q.navigator.clone(),
        status: q.status.clone(),
        flag: q.flag.clone(),
        language: q.language.clone(),
        viewer: a.viewer(),
        centre: a.staff.scope().map(str::to_owned),
    };
    let (list, total) = match client_list(&st.runner.db, &filter, PAGE, (page - 1) * PAGE).await {
        Ok(x) => x,
        Err(e) => return store_error(&st, &a, &e),
    };
    let staff_list = staff::list(&st.runner.db, a.staff.scope())
        .await
        .unwrap_or_default();
    let languages = language_options(&st);
    st.ui.render(
        "clients.html",
        page_ctx(
            &a,
            context! {
                clients => list,
                f => context! { q => q.q.clone().unwrap_or_default(), navigator => q.navigator.clone().unwrap_or_default(), status => q.status.clone().unwrap_or_default(), flag => q.flag.clone().unwrap_or_default(), language => q.language.clone().unwrap_or_default() },
                staff => staff_list,
                languages => languages,
                flag_kinds => ["crisis", "callback", "barrier", "no-response", "message", "scheduling-failed", "delivery"],
                prev => (page > 1).then(|| page_link("/clients", &q, page - 1)),
                next => (page * PAGE < total).then(|| page_link("/clients", &q, page + 1)),
                notice => notice(&st, a.lang, &Done { done: q.done.clone(), item: None }, None),
            },
        ),
    )
}

use crate::domain::REASONS;

#[derive(Debug, Deserialize, Default, serde::Serialize)]
struct NewClientForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    chart_number: String,
    #[serde(default)]
    program: String,
    #[serde(default)]
    referred_on: String,
    #[serde(default)]
    reason: Vec<String>,
    #[serde(default)]
    sequence: String,
    #[serde(default)]
    navigator: String,
}

async fn new_client_page(
    st: &AppState,
    a: &Auth,
    form: &NewClientForm,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    // An admin's form lists navigators to assign the client to.
    let staff_list = if a.staff.is_admin() {
        staff::list(&st.runner.db, a.staff.scope())
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    // The sequences the staff member's centre offers.
    let offer = crate::centres::offer_of(&st.runner.db, &a.staff.centre)
        .await
        .unwrap_or_default();
    let sequences: Vec<String> = sequence_ids(st)
        .into_iter()
        .filter(|s| offer.sequence(s))
        .collect();
    // The languages the staff member's centre offers (every one, for a centre that names none).
    let offered = crate::centres::languages_of(&st.runner.db, &a.staff.centre)
        .await
        .unwrap_or_default();
    let languages: Vec<_> = language_options(st)
        .into_iter()
        .filter(|l| offered.is_empty() || offered.contains(&l.id))
        .collect();
    let mut r = st.ui.render(
        "client_new.html",
        page_ctx(
            a,
            context! { form => Value::from_serialize(form), reasons => REASONS, sequences => sequences, languages => languages, staff => staff_list, error => error },
        ),
    );
    *r.status_mut() = status;
    r
}

async fn new_client(State(st): State<AppState>, a: Auth) -> Response {
    // The form starts in the time zone and language of the staff member's centre.
    let centre = crate::centres::get(&st.runner.db, &a.staff.centre)
        .await
        .ok()
        .flatten();
    let form = NewClientForm {
        time_zone: centre.as_ref().map_or_else(
            || st.runner.centre.time_zone.name().to_owned(),
            |c| c.time_zone.clone(),
        ),
        language: centre.map_or_else(
            || st.runner.catalog.default_locale().to_string(),
            |c| c.default_language,
        ),
        ..NewClientForm::default()
    };
    new_client_page(&st, &a, &form, None, StatusCode::OK).await
}

async fn create_client(State(st): State<AppState>, Form(a, f): Form<NewClientForm>) -> Response {
    let mut spec = ClientSpec {
        id: f.id.clone(),
        phone: Some(f.phone.clone()),
        language: f.language.clone(),
        time_zone: Some(f.time_zone.clone()),
        send_between: None,
        chart_number: Some(f.chart_number.clone()),
        program: Some(f.program.clone()).filter(|p| !p.trim().is_empty()),
        referred_on: Some(f.referred_on.clone()),
        reasons: f
            .reason
            .iter()
            .filter(|r| REASONS.contains(&r.as_str()))
            .cloned()
            .collect(),
        sequence: Some(f.sequence.clone()).filter(|s| !s.trim().is_empty()),
    };
    match crate::centres::new_client_defaults(&st.runner.db, &a.staff.centre, &mut spec).await {
        Ok(Ok(())) => {}
        Ok(Err(why)) => {
            return new_client_page(&st, &a, &f, Some(why), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return store_error(&st, &a, &e),
    }
    let mut checked = match actions::check(&st.runner, &spec) {
        Ok(c) => c,
        Err(e) => {
            return new_client_page(&st, &a, &f, Some(e), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    // A new client belongs to the centre of whoever adds them.
    checked.client.centre.clone_from(&a.staff.centre);
    let actor = a.staff.actor();
    // A navigator's new client is theirs; an admin picks (or leaves it unassigned).
    let navigator = if a.staff.is_admin() {
        f.navigator.parse::<i64>().ok()
    } else {
        Some(a.staff.id)
    };
    let id = checked.client.id.clone();
    // The client is added (and assigned) before any enrolment, so nothing is left unassigned
    // if the enrolment is refused.
    let mut without_seq = checked.clone();
    without_seq.sequence = None;
    match actions::add(&st.runner, &without_seq, &actor).await {
        Ok(actions::Added::New) => {}
        Ok(actions::Added::Existing) => {
            return new_client_page(
                &st,
                &a,
                &f,
                Some(format!("client {id} already exists")),
                StatusCode::CONFLICT,
            )
            .await;
        }
        Err(e) => {
            return new_client_page(
                &st,
                &a,
                &f,
                Some(e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    }
    if let Err(e) = set_profile(
        &st.runner.db,
        &id,
        Some(&f.name),
        navigator,
        &actor,
        now(&st),
    )
    .await
    {
        return store_error(&st, &a, &e);
    }
    if let Some(s) = &checked.sequence
        && let Err(e) = actions::enrol(&st.runner, &id, s, &actor).await
    {
        return error_page(
            &st,
            &a,
            StatusCode::CONFLICT,
            &e.to_string(),
            &format!("/clients/{id}"),
        );
    }
    Redirect::to(&format!("/clients/{id}?done=added")).into_response()
}

/// Sets a client's name and navigator after they were added.
pub async fn set_profile(
    db: &Db,
    id: &ClientId,
    name: Option<&str>,
    navigator: Option<i64>,
    actor: &str,
    now: i64,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    if let Some(n) = navigator {
        let same: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM staff s JOIN clients c ON c.centre_id = s.centre_id WHERE s.id = $1 AND c.id = $2",
        )
        .bind(n)
        .bind(id.as_str())
        .fetch_one(&mut *tx)
        .await
        .doing("checking a navigator's centre")?;
        if same == 0 {
            return Err(StoreError::Refused(
                "a client can only be assigned to a staff member of their own centre".into(),
            ));
        }
    }
    sqlx::query(
        "UPDATE clients SET display_name = $1, navigator_id = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(name.map(str::trim).filter(|n| !n.is_empty()))
    .bind(navigator)
    .bind(now)
    .bind(id.as_str())
    .execute(&mut *tx)
    .await
    .doing("setting a client's profile")?;
    audit(
        &mut tx,
        now,
        actor,
        "client-assign",
        Some(id),
        &navigator.map_or("unassigned".into(), |n| format!("staff {n}")),
    )
    .await?;
    tx.commit().await.doing("committing")?;
    Ok(())
}

/// Filters of the client list. `viewer`: a navigator sees only their own clients.
#[derive(Debug, Clone, Default)]
pub struct ClientFilter {
    pub q: Option<String>,
    /// A staff id, or `none` for unassigned.
    pub navigator: Option<String>,
    /// active, or a consent state (granted, revoked, unknown).
    pub status: Option<String>,
    pub flag: Option<String>,
    pub language: Option<String>,
    pub viewer: Option<i64>,
    /// Only this centre's clients (none: every centre's, for the whole deployment's administrators).
    pub centre: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClientSummary {
    pub id: String,
    pub name: Option<String>,
    pub chart_number: Option<String>,
    pub language: String,
    pub time_zone: String,
    pub consent: String,
    pub status: String,
    pub navigator: Option<String>,
    pub open_flags: i64,
    pub urgent: bool,
    /// `real`, or `test`: made by the simulator, reached only by it.
    pub kind: String,
}

/// One page of clients and how many match in all.
pub async fn client_list(
    db: &Db,
    f: &ClientFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ClientSummary>, i64), StoreError> {
    let pg = db.backend() == Backend::Postgres;
    let mut wh = vec!["1 = 1".to_owned()];
    let mut args: Vec<Arg> = Vec::new();
    let p = |args: &mut Vec<Arg>, a: Arg| {
        args.push(a);
        if pg {
            format!("${}", args.len())
        } else {
            "?".to_owned()
        }
    };
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let like = format!("%{}%", q.to_lowercase());
        let a = p(&mut args, Arg::S(like.clone()));
        let b = p(&mut args, Arg::S(like.clone()));
        let c = p(&mut args, Arg::S(like));
        wh.push(format!(
            "(LOWER(c.id) LIKE {a} OR LOWER(COALESCE(c.display_name, '')) LIKE {b} OR LOWER(COALESCE(c.chart_number, '')) LIKE {c})"
        ));
    }
    if let Some(v) = f.viewer {
        let a = p(&mut args, Arg::I(v));
        wh.push(format!("c.navigator_id = {a}"));
    }
    if let Some(centre) = &f.centre {
        let a = p(&mut args, Arg::S(centre.clone()));
        wh.push(format!("c.centre_id = {a}"));
    }
    match f.navigator.as_deref().filter(|n| !n.is_empty()) {
        Some("none") => wh.push("c.navigator_id IS NULL".into()),
        Some(n) => {
            if let Ok(n) = n.parse::<i64>() {
                let a = p(&mut args, Arg::I(n));
                wh.push(format!("c.navigator_id = {a}"));
            }
        }
        None => {}
    }
    match f.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s @ ("granted" | "revoked" | "unknown")) => {
            let a = p(&mut args, Arg::S(s.to_owned()));
            wh.push(format!("c.consent = {a}"));
        }
        Some(s) => {
            let a = p(&mut args, Arg::S(s.to_owned()));
            wh.push(format!("c.status = {a}"));
        }
        None => {}
    }
    if let Some(k) = f.flag.as_deref().filter(|s| !s.is_empty()) {
        let a = p(&mut args, Arg::S(k.to_owned()));
        wh.push(format!(
            "EXISTS (SELECT 1 FROM flags g WHERE g.client_id = c.id AND g.status = 'open' AND g.kind = {a})"
        ));
    }
    if let Some(l) = f.language.as_deref().filter(|s| !s.is_empty()) {
        let a = p(&mut args, Arg::S(l.to_owned()));
        wh.push(format!("c.language = {a}"));
    }
    let wh = wh.join(" AND ");
    let count_sql = format!("SELECT COUNT(*) FROM clients c WHERE {wh}");
    let mut cq = sqlx::query_scalar::<_, i64>(&count_sql);
    for a in &args {
        cq = a.bind_scalar(cq);
    }
    let total = cq.fetch_one(db.pool()).await.doing("counting clients")?;
    let lim = p(&mut args, Arg::I(limit));
    let off = p(&mut args, Arg::I(offset));
    let sql = format!(
        "SELECT c.id, c.display_name, c.chart_number, c.language, c.time_zone, c.consent, c.status, s.display_name AS nav, \
         (SELECT COUNT(*) FROM flags g WHERE g.client_id = c.id AND g.status = 'open') AS open_flags, \
         (SELECT COUNT(*) FROM flags g WHERE g.client_id = c.id AND g.status = 'open' AND g.urgency = 'urgent') AS urgent, c.kind \
         FROM clients c LEFT JOIN staff s ON s.id = c.navigator_id WHERE {wh} ORDER BY c.id LIMIT {lim} OFFSET {off}"
    );
    let mut q = sqlx::query(&sql);
    for a in &args {
        q = a.bind(q);
    }
    let rows = q.fetch_all(db.pool()).await.doing("listing clients")?;
    let list = rows
        .iter()
        .map(|r| {
            Ok(ClientSummary {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                chart_number: r.try_get(2)?,
                language: r.try_get(3)?,
                time_zone: r.try_get(4)?,
                consent: r.try_get(5)?,
                status: r.try_get(6)?,
                navigator: r.try_get(7)?,
                open_flags: r.try_get(8)?,
                urgent: r.try_get::<i64, _>(9)? > 0,
                kind: r.try_get(10)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .doing("listing clients")?;
    Ok((list, total))
}
