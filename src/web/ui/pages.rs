//! The pages: sign-in and set-up, Today, Clients, the client record and its actions, Flows and
//! the simulator, Cohort, Audit, Staff and tokens, Export. Every read of a client's data and
//! every change goes through the audited library functions the command line uses.

use super::charts;
use super::{
    Auth, Form, Lang, PRE_COOKIE, SESSION_COOKIE, message_page, other, pre_token, same_secret,
};
use crate::clock::to_ms;
use crate::domain::{ClientId, FlowId};
use crate::runner::IfBusy;
use crate::schedule::actions::{self, ActionError, ClientSpec};
use crate::staff::{self, Role, Scope};
use crate::web::AppState;
use crate::web::queries::{self, ClientFilter};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use minijinja::{Value, context};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/today") }))
        .route("/assets/counter.js", get(counter_js))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/setup/{token}", get(setup_page).post(setup))
        .route("/lang/{lang}", get(switch_lang))
        .route("/today", get(today))
        .route("/tasks/{id}/resolve", post(resolve_task))
        .route("/clients", get(clients).post(create_client))
        .route("/clients/new", get(new_client))
        .route("/clients/{id}", get(client_page))
        .route("/clients/{id}/{action}", post(client_action))
        .route("/flows", get(flows_page))
        .route("/flows/simulator", get(simulator_page).post(simulator_turn))
        .route("/cohort", get(cohort_page))
        .route("/audit", get(audit_page))
        .route("/staff", get(staff_page).post(add_staff))
        .route("/staff/tokens", post(issue_token))
        .route("/staff/{id}/{action}", post(staff_action))
        .route("/staff/tokens/{id}/revoke", post(revoke_token))
        .route("/export", get(export_page))
        .route("/export/evaluation.csv", get(export_csv))
        .route("/export/fhir.json", get(export_fhir))
}

async fn counter_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../assets/counter.js"),
    )
        .into_response()
}

fn now(st: &AppState) -> i64 {
    to_ms(st.runner.clock.now())
}

/// The context every signed-in page has, with the page's own values.
fn page_ctx(a: &Auth, extra: Value) -> Value {
    context! {
        lang => a.lang,
        other_lang => other(a.lang),
        me => Value::from_serialize(&a.staff),
        csrf => a.csrf.clone(),
        ..extra
    }
}

/// A language clients may be messaged in, as the forms' lists show it: `ar — العربية (Arabic)`.
#[derive(Debug, serde::Serialize)]
struct LanguageOption {
    id: String,
    label: String,
}

/// The languages clients may be messaged in, the sequences and the flows, for the forms' lists.
fn language_options(st: &AppState) -> Vec<LanguageOption> {
    let catalog = &st.runner.catalog;
    catalog
        .locales()
        .iter()
        .map(|l| {
            let name = catalog.language_name(l);
            let label = match catalog.meta(l) {
                Some(m) if m.english_name != name => format!("{l} — {name} ({})", m.english_name),
                _ => format!("{l} — {name}"),
            };
            LanguageOption {
                id: l.to_string(),
                label,
            }
        })
        .collect()
}

fn sequence_ids(st: &AppState) -> Vec<String> {
    st.runner
        .sequences
        .all()
        .map(|s| s.id.to_string())
        .collect()
}

fn flow_ids(st: &AppState) -> Vec<String> {
    st.runner
        .flows
        .current()
        .map(|f| f.id.to_string())
        .collect()
}

/// Notices a redirect may ask a page to show (only these keys: a URL cannot put words on a page).
const NOTICES: [&str; 6] = ["added", "sent", "done", "erased", "setup-done", "revoked"];

#[derive(Debug, Deserialize, Default)]
struct Done {
    #[serde(default)]
    done: Option<String>,
}

fn notice(st: &AppState, lang: &str, d: &Done) -> Option<String> {
    d.done
        .as_deref()
        .filter(|k| NOTICES.contains(k))
        .map(|k| st.ui.text.get(lang, k, None))
}

/// An error page with the reason and a way back.
fn error_page(st: &AppState, a: &Auth, status: StatusCode, text: &str, back: &str) -> Response {
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

fn store_error(st: &AppState, a: &Auth, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "a page failed");
    error_page(
        st,
        a,
        StatusCode::SERVICE_UNAVAILABLE,
        &st.ui.text.get(a.lang, "error", None),
        "/today",
    )
}

// ---- sign-in, sign-out, set-up, language ----

#[derive(Debug, Deserialize, Default)]
struct Next {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

/// Only a path on this site: never `//elsewhere`, a full URL, or anything a browser would read
/// as one once it drops tabs and line breaks (`/\t/evil.example/`); no control characters,
/// spaces, backslashes or non-ASCII (a header cannot carry them).
fn safe_next(n: Option<&str>) -> String {
    let ok = |n: &str| {
        n.len() <= 2048
            && n.starts_with('/')
            && !n.starts_with("//")
            && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
            && url::Url::parse("http://matters.invalid/")
                .and_then(|base| base.join(n))
                .is_ok_and(|u| u.host_str() == Some("matters.invalid"))
    };
    match n {
        Some(n) if ok(n) => n.to_owned(),
        _ => "/today".to_owned(),
    }
}

async fn login_page(
    State(st): State<AppState>,
    Lang(lang): Lang,
    jar: CookieJar,
    Query(q): Query<Next>,
) -> Response {
    login_form(
        &st,
        lang,
        jar,
        q.next.as_deref(),
        None,
        notice(&st, lang, &Done { done: q.done }),
        StatusCode::OK,
    )
}

fn login_form(
    st: &AppState,
    lang: &str,
    jar: CookieJar,
    next: Option<&str>,
    error: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let pre = pre_token(&jar);
    let jar = jar.add(st.ui.cookie(PRE_COOKIE, pre.clone()));
    let mut r = st.ui.render(
        "login.html",
        context! { lang => lang, other_lang => other(lang), csrf => pre, next => safe_next(next), error => error, notice => notice },
    );
    *r.status_mut() = status;
    (jar, r).into_response()
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

fn pre_ok(jar: &CookieJar, csrf: &str) -> bool {
    jar.get(PRE_COOKIE)
        .is_some_and(|c| c.value().len() >= 32 && same_secret(c.value(), csrf))
}

async fn login(
    State(st): State<AppState>,
    Lang(lang): Lang,
    jar: CookieJar,
    axum::Form(f): axum::Form<LoginForm>,
) -> Response {
    if !pre_ok(&jar, &f.csrf) {
        return message_page(&st, lang, None, StatusCode::FORBIDDEN, "form-expired");
    }
    let t = now(&st);
    let user = f.username.trim().to_lowercase();
    if !st.ui.login_allowed(&user, t) {
        let _ = queries::audit_one(&st.runner.db, t, "web", "sign-in-limited", None, &user).await;
        let e = st.ui.text.get(lang, "too-many-attempts", None);
        return login_form(
            &st,
            lang,
            jar,
            f.next.as_deref(),
            Some(e),
            None,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    // The account is read here; argon2 (tens of milliseconds of CPU) runs off the async workers.
    let checked = match staff::login_candidate(&st.runner.db, &user).await {
        Ok(candidate) => {
            let password = f.password.clone();
            tokio::task::spawn_blocking(move || staff::check_password(candidate, &password))
                .await
                .map(Ok)
        }
        Err(e) => Ok(Err(e)),
    };
    match checked {
        Ok(Ok(Some(s))) => {
            st.ui.login_succeeded(&user);
            match staff::start_session(&st.runner.db, &s, t, st.ui.settings.idle_ms).await {
                Ok(token) => {
                    let jar = jar
                        .remove(Cookie::from(PRE_COOKIE))
                        .add(st.ui.cookie(SESSION_COOKIE, token));
                    (jar, Redirect::to(&safe_next(f.next.as_deref()))).into_response()
                }
                Err(e) => {
                    tracing::error!(error = %e, "starting a session failed");
                    message_page(&st, lang, None, StatusCode::SERVICE_UNAVAILABLE, "error")
                }
            }
        }
        Ok(Ok(None)) => {
            st.ui.login_failed(&user, t);
            let _ =
                queries::audit_one(&st.runner.db, t, "web", "sign-in-failed", None, &user).await;
            let e = st.ui.text.get(lang, "sign-in-failed", None);
            login_form(
                &st,
                lang,
                jar,
                f.next.as_deref(),
                Some(e),
                None,
                StatusCode::UNAUTHORIZED,
            )
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "signing in failed");
            message_page(&st, lang, None, StatusCode::SERVICE_UNAVAILABLE, "error")
        }
        Err(e) => {
            tracing::error!(error = %e, "signing in failed");
            message_page(&st, lang, None, StatusCode::SERVICE_UNAVAILABLE, "error")
        }
    }
}

#[derive(Debug, Deserialize, Default)]
struct Empty {}

async fn logout(
    State(st): State<AppState>,
    jar: CookieJar,
    Form(a, Empty {}): Form<Empty>,
) -> Response {
    let _ = staff::end_session(&st.runner.db, &a.token, &a.staff.actor(), now(&st)).await;
    (
        jar.remove(Cookie::from(SESSION_COOKIE)),
        Redirect::to("/login"),
    )
        .into_response()
}

async fn setup_page(
    State(st): State<AppState>,
    Lang(lang): Lang,
    jar: CookieJar,
    Path(token): Path<String>,
) -> Response {
    match staff::setup_target(&st.runner.db, &token, now(&st)).await {
        Ok(Some(target)) => {
            let pre = pre_token(&jar);
            let jar = jar.add(st.ui.cookie(PRE_COOKIE, pre.clone()));
            let r = st.ui.render(
                "setup.html",
                context! {
                    lang => lang, other_lang => other(lang), csrf => pre,
                    first => target.is_none(),
                    target => target.map(|s| format!("{} ({})", s.name, s.username)),
                },
            );
            (jar, r).into_response()
        }
        Ok(None) => {
            let mut r = st.ui.render(
                "message.html",
                context! { lang => lang, other_lang => other(lang), heading => staff::StaffError::BadLink.to_string() },
            );
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "reading a set-up link failed");
            message_page(&st, lang, None, StatusCode::SERVICE_UNAVAILABLE, "error")
        }
    }
}

#[derive(Debug, Deserialize)]
struct SetupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

async fn setup(
    State(st): State<AppState>,
    Lang(lang): Lang,
    jar: CookieJar,
    Path(token): Path<String>,
    axum::Form(f): axum::Form<SetupForm>,
) -> Response {
    if !pre_ok(&jar, &f.csrf) {
        return message_page(&st, lang, None, StatusCode::FORBIDDEN, "form-expired");
    }
    match staff::use_setup_link(
        &st.runner.db,
        &token,
        &f.username,
        &f.name,
        &f.password,
        now(&st),
    )
    .await
    {
        Ok(_) => Redirect::to("/login?done=setup-done").into_response(),
        Err(
            e @ (staff::StaffError::Invalid(_)
            | staff::StaffError::Taken(_)
            | staff::StaffError::BadLink),
        ) => {
            let mut r = st.ui.render(
                "message.html",
                context! { lang => lang, other_lang => other(lang), heading => e.to_string(), link => format!("/setup/{token}"), link_text => st.ui.text.get(lang, "setup-title", None) },
            );
            *r.status_mut() = StatusCode::BAD_REQUEST;
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "setting up an account failed");
            message_page(&st, lang, None, StatusCode::SERVICE_UNAVAILABLE, "error")
        }
    }
}

/// Switches the interface language (a link, so it works before signing in and without forms).
async fn switch_lang(
    State(st): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(lang): Path<String>,
) -> Response {
    let lang = if lang == "fr" { "fr" } else { "en" };
    if let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned())
        && let Ok(Some(s)) =
            staff::session(&st.runner.db, &token, now(&st), st.ui.settings.idle_ms).await
    {
        let _ = staff::set_language(&st.runner.db, s.staff.id, lang).await;
    }
    // Back where the switch was pressed, if that was a page of this site.
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        });
    let c = st.ui.cookie(super::LANG_COOKIE, lang.to_owned());
    (jar.add(c), Redirect::to(&safe_next(back.as_deref()))).into_response()
}

// ---- Today ----

async fn today(State(st): State<AppState>, a: Auth, Query(d): Query<Done>) -> Response {
    let tz = st.runner.centre.time_zone;
    let t = now(&st);
    let tasks = queries::open_tasks(&st.runner.db, a.viewer(), None, tz, 200, 0).await;
    let late = st.runner.schedule.late_after.num_milliseconds();
    let overdue = queries::overdue(&st.runner.db, a.viewer(), t, late, tz).await;
    let unmatched = crate::store::delivery::unmatched(&st.runner.db, 50, t, &a.staff.actor()).await;
    let (Ok((tasks, _)), Ok(overdue), Ok(unmatched)) = (tasks, overdue, unmatched) else {
        return store_error(&st, &a, &"reading today's work");
    };
    let unmatched: Vec<Value> = unmatched
        .into_iter()
        .map(|m| context! { at => queries::local(m.at, tz), channel => m.channel, address => m.address, body => m.body })
        .collect();
    st.ui.render(
        "today.html",
        page_ctx(&a, context! { tasks => tasks, overdue => overdue, unmatched => unmatched, notice => notice(&st, a.lang, &d) }),
    )
}

async fn resolve_task(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Form(a, Empty {}): Form<Empty>,
) -> Response {
    let client = match queries::flag_client(&st.runner.db, id).await {
        Ok(Some(c)) => c,
        Ok(None) => return message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found"),
        Err(e) => return store_error(&st, &a, &e),
    };
    if let Some(c) = &client
        && let Err(r) = access(&st, &a, c).await
    {
        return r;
    }
    match queries::resolve_task(
        &st.runner.db,
        id,
        client.as_deref(),
        &a.staff.actor(),
        now(&st),
    )
    .await
    {
        Ok(_) => Redirect::to(&client.map_or("/today?done=done".into(), |c| {
            format!("/clients/{c}?done=done")
        }))
        .into_response(),
        Err(e) => store_error(&st, &a, &e),
    }
}

// ---- access to a client ----

/// The client if this staff member may open their record: an admin any, a navigator their own.
/// A refused attempt is audited and answered 403.
async fn access(st: &AppState, a: &Auth, id: &str) -> Result<queries::ClientMeta, Response> {
    let meta = match queries::client_meta(&st.runner.db, id).await {
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
    if a.staff.is_admin() || meta.navigator_id == Some(a.staff.id) {
        return Ok(meta);
    }
    let _ = queries::audit_one(
        &st.runner.db,
        now(st),
        &a.staff.actor(),
        "access-denied",
        Some(id),
        "not their client",
    )
    .await;
    Err(message_page(
        st,
        a.lang,
        Some(a),
        StatusCode::FORBIDDEN,
        "forbidden-client",
    ))
}

#[allow(clippy::result_large_err)] // the refusal is the page itself
fn require_admin(st: &AppState, a: &Auth) -> Result<(), Response> {
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

// ---- Clients ----

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
}

const PAGE: i64 = 50;

/// A link to another page of a list, keeping its filters.
fn paged(base: &str, filters: &[(&str, &Option<String>)], page: i64) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in filters {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            s.append_pair(k, v);
        }
    }
    s.append_pair("page", &page.to_string());
    format!("{base}?{}", s.finish())
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
    };
    let (list, total) =
        match queries::clients(&st.runner.db, &filter, PAGE, (page - 1) * PAGE).await {
            Ok(x) => x,
            Err(e) => return store_error(&st, &a, &e),
        };
    let staff_list = staff::list(&st.runner.db).await.unwrap_or_default();
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
            },
        ),
    )
}

const REASONS: [&str; 9] = [
    "social-isolation",
    "loneliness",
    "low-mood",
    "food-insecurity",
    "housing",
    "income",
    "transportation",
    "bereavement",
    "other",
];

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
        staff::list(&st.runner.db).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let sequences = sequence_ids(st);
    let languages = language_options(st);
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
    let form = NewClientForm {
        time_zone: st.runner.centre.time_zone.name().to_owned(),
        language: st.runner.catalog.default_locale().to_string(),
        ..NewClientForm::default()
    };
    new_client_page(&st, &a, &form, None, StatusCode::OK).await
}

async fn create_client(State(st): State<AppState>, Form(a, f): Form<NewClientForm>) -> Response {
    let spec = ClientSpec {
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
    let checked = match actions::check(&st.runner, &spec) {
        Ok(c) => c,
        Err(e) => {
            return new_client_page(&st, &a, &f, Some(e), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
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
    if let Err(e) = queries::set_profile(
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

// ---- the client record ----

#[derive(Debug, Deserialize, Default)]
struct RecordQuery {
    #[serde(default)]
    done: Option<String>,
}

/// Time points in the order a chart shows them.
const TIME_POINTS: [&str; 3] = ["baseline", "3-month", "6-month"];

async fn client_page(
    State(st): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Query(q): Query<RecordQuery>,
) -> Response {
    let meta = match access(&st, &a, &id).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Ok(client) = ClientId::parse(&id) else {
        return message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found");
    };
    let actor = a.staff.actor();
    let record = match crate::store::record::read(&st.runner.db, &client, &actor, now(&st)).await {
        Ok(Some(r)) => r,
        Ok(None) => return message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found"),
        Err(e) => return store_error(&st, &a, &e),
    };
    let timeline = match actions::timeline(&st.runner, &client, &actor).await {
        Ok(t) => t,
        Err(e) => return store_error(&st, &a, &e),
    };
    let mut upcoming: Vec<String> = timeline
        .iter()
        .filter(|e| matches!(e.status.as_str(), "pending" | "blocked" | "paused"))
        .map(|e| e.step.clone())
        .collect();
    upcoming.dedup();
    let paused = timeline.iter().any(|e| e.status == "paused");
    // Scores by measure and time point (the latest of each), and their trend.
    let mut table: std::collections::BTreeMap<String, [Option<String>; 3]> =
        std::collections::BTreeMap::new();
    let mut numbers: std::collections::BTreeMap<String, [Option<i64>; 3]> =
        std::collections::BTreeMap::new();
    // Scores taken outside a time point (a flow started ad hoc): the latest, beside the others.
    let mut other: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for s in record
        .scores
        .iter()
        .filter(|s| s.complete && s.time_point.is_none())
    {
        if let Some(v) = s
            .total
            .map(|t| t.to_string())
            .or_else(|| s.category.clone())
        {
            other.insert(s.instrument.clone(), v);
            table.entry(s.instrument.clone()).or_default();
        }
    }
    for s in record.scores.iter().filter(|s| s.complete) {
        let Some(k) = s
            .time_point
            .as_deref()
            .and_then(|tp| TIME_POINTS.iter().position(|p| *p == tp))
        else {
            continue;
        };
        let shown = s
            .total
            .map(|t| t.to_string())
            .or_else(|| s.category.clone());
        table.entry(s.instrument.clone()).or_default()[k] = shown;
        if let Some(t) = s.total {
            numbers.entry(s.instrument.clone()).or_default()[k] = Some(t);
        }
    }
    let score_rows: Vec<Value> = table
        .iter()
        .map(|(inst, v)| {
            let change = numbers.get(inst).and_then(|n| n[0].zip(n[2])).map(|(b, s)| format!("{:+}", s - b));
            context! { instrument => inst, baseline => v[0], three => v[1], six => v[2], other => other.get(inst), change => change }
        })
        .collect();
    let labels = [
        st.ui.text.get(a.lang, "baseline", None),
        st.ui.text.get(a.lang, "three-months", None),
        st.ui.text.get(a.lang, "six-months", None),
    ];
    let xl = [labels[0].as_str(), labels[1].as_str(), labels[2].as_str()];
    let mut chart_list = Vec::new();
    if let Some(u) = numbers.get("ucla3") {
        chart_list.push(charts::trend(
            "UCLA-3 (3–9)",
            xl,
            3,
            9,
            &[("UCLA-3".into(), *u)],
        ));
    }
    let ons: Vec<(String, [Option<i64>; 3])> = numbers
        .iter()
        .filter(|(k, _)| k.starts_with("ons4-"))
        .map(|(k, v)| (k.trim_start_matches("ons4-").to_owned(), *v))
        .collect();
    if !ons.is_empty() {
        chart_list.push(charts::trend("ONS4 (0–10)", xl, 0, 10, &ons));
    }
    let messages: Vec<Value> = record.messages.iter().map(Value::from_serialize).collect();
    let staff_list = if a.staff.is_admin() {
        staff::list(&st.runner.db).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let flows = flow_ids(&st);
    let sequences = sequence_ids(&st);
    st.ui.render(
        "client.html",
        page_ctx(
            &a,
            context! {
                c => Value::from_serialize(&record.client),
                name => meta.name,
                navigator => meta.navigator,
                consent => record.consent,
                referrals => record.referrals,
                support_levels => queries::SUPPORT_LEVELS,
                uptakes => queries::UPTAKES,
                current => record.referrals.iter().rev().find(|r| r.closed_at.is_none()).map(Value::from_serialize),
                closing_reasons => ["goal-met", "attended", "declined", "no-contact", "moved", "referred-elsewhere", "other"],
                flags => record.flags,
                timeline => timeline,
                upcoming => upcoming,
                paused => paused,
                score_rows => score_rows,
                charts => chart_list,
                messages => messages,
                answers => record.answers,
                flows => flows,
                sequences => sequences,
                staff => staff_list,
                notice => notice(&st, a.lang, &Done { done: q.done }),
            },
        ),
    )
}

/// The Telegram link and its QR code (an SVG made here from the link; no outside service),
/// shown once on the page that answers the form, never put in a URL.
fn invite_page(
    st: &AppState,
    a: &Auth,
    client: &str,
    bot: &str,
    inv: &crate::channel::telegram::invite::Invite,
) -> Response {
    let link = format!("https://t.me/{bot}?start={}", inv.code);
    let svg = match qrcode::QrCode::new(link.as_bytes()) {
        Ok(qr) => qr
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
        Err(e) => {
            tracing::error!(error = %e, "a QR code failed");
            String::new()
        }
    };
    let until = queries::local(inv.expires_at, st.runner.centre.time_zone);
    st.ui.render(
        "invite.html",
        page_ctx(
            a,
            context! { client => client, link => link, qr => svg, until => until },
        ),
    )
}

#[derive(Debug, Deserialize, Default)]
struct ActionForm {
    #[serde(default)]
    sequence: String,
    #[serde(default)]
    flow: String,
    #[serde(default)]
    time_point: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    navigator: String,
    #[serde(default)]
    referred_by: String,
    #[serde(default)]
    rx_type: String,
    #[serde(default)]
    program: String,
    #[serde(default)]
    support_level: String,
    #[serde(default)]
    uptake: String,
    #[serde(default)]
    phone: String,
}

async fn client_action(
    State(st): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    Form(a, f): Form<ActionForm>,
) -> Response {
    let meta = match access(&st, &a, &id).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Ok(client) = ClientId::parse(&id) else {
        return message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found");
    };
    let actor = a.staff.actor();
    let back = format!("/clients/{id}");
    let r: Result<String, String> = match action.as_str() {
        "enrol" => actions::enrol(&st.runner, &client, &f.sequence, &actor)
            .await
            .map(|_| "done".into())
            .map_err(|e| said(&e)),
        "pause" => actions::pause(&st.runner, &client, &actor)
            .await
            .map(|_| "done".into())
            .map_err(|e| said(&e)),
        "resume" => actions::resume(&st.runner, &client, &actor)
            .await
            .map(|_| "done".into())
            .map_err(|e| said(&e)),
        "cancel" => actions::cancel(&st.runner, &client, &f.reason, &actor)
            .await
            .map(|_| "done".into())
            .map_err(|e| said(&e)),
        "close-referral" => actions::close_referral(&st.runner, &client, f.reason.trim(), &actor)
            .await
            .map(|_| "done".into())
            .map_err(|e| said(&e)),
        "reschedule" => {
            match chrono::NaiveDateTime::parse_from_str(f.at.trim(), "%Y-%m-%dT%H:%M") {
                Ok(at) => actions::reschedule(&st.runner, &client, f.step.trim(), at, &actor)
                    .await
                    .map(|_| "done".into())
                    .map_err(|e: ActionError| said(&e)),
                Err(_) => Err(format!(
                    "{:?} is not a date and time like 2026-12-01T10:00",
                    f.at
                )),
            }
        }
        "start-flow" => match FlowId::parse(f.flow.trim()) {
            Ok(flow) if st.runner.flows.get(&flow).is_some() => {
                let tp = Some(f.time_point.trim()).filter(|t| TIME_POINTS.contains(t));
                st.runner
                    .start_flow(&client, &flow, tp, IfBusy::Replace, &actor)
                    .await
                    .map(|_| "done".into())
                    .map_err(|e| said(&e))
            }
            _ => Err(format!("no flow {:?}", f.flow)),
        },
        "referral" => {
            let u = queries::ReferralUpdate {
                referred_by: Some(f.referred_by.clone()),
                rx_type: Some(f.rx_type.clone()),
                program: Some(f.program.clone()),
                support_level: Some(f.support_level.clone()).filter(|l| !l.is_empty()),
                uptake: f.uptake.clone(),
            };
            queries::update_referral(&st.runner.db, &client, &u, &actor, now(&st))
                .await
                .map(|_| "done".into())
                .map_err(|e| said(&e))
        }
        "message" => queries::send_message(&st.runner, &client, &f.body, &actor)
            .await
            .map(|_| "sent".into())
            .map_err(|e| said(&e)),
        "phone" => actions::set_phone(&st.runner, &client, &f.phone, &actor)
            .await
            .map(|_| "done".into())
            .map_err(|e| said(&e)),
        // Consent given already: asked first, so the client is not asked again by mistake.
        "invite" if f.channel == "sms" && meta.consent == "granted" && f.confirm != "yes" => {
            let mut r = st.ui.render(
                "confirm.html",
                page_ctx(
                    &a,
                    context! {
                        heading => st.ui.text.get(a.lang, "consent-already", None),
                        action => format!("/clients/{id}/invite"),
                        fields => vec![("channel", "sms")],
                        yes => st.ui.text.get(a.lang, "consent-send-again", None),
                        back => back,
                    },
                ),
            );
            *r.status_mut() = StatusCode::OK;
            return r;
        }
        "invite" => match f.channel.as_str() {
            "sms" => match FlowId::parse("consent") {
                Ok(flow) => st
                    .runner
                    .start_flow(&client, &flow, None, IfBusy::Refuse, &actor)
                    .await
                    .map(|_| "sent".into())
                    .map_err(|e| said(&e)),
                Err(e) => Err(e.to_string()),
            },
            "telegram" => {
                if st.telegram_bot.is_none() {
                    Err(st.ui.text.get(a.lang, "telegram-off", None))
                } else {
                    match crate::channel::telegram::invite::create(
                        &st.runner.db,
                        &client,
                        st.telegram_invite_hours,
                        now(&st),
                        &actor,
                    )
                    .await
                    {
                        Ok(inv) => {
                            let bot = st.telegram_bot.as_deref().unwrap_or_default();
                            return invite_page(&st, &a, &id, bot, &inv);
                        }
                        Err(e) => Err(said(&e)),
                    }
                }
            }
            _ => Err("choose SMS or Telegram".into()),
        },
        "assign" => {
            if let Err(r) = require_admin(&st, &a) {
                return r;
            }
            queries::set_profile(
                &st.runner.db,
                &client,
                meta.name.as_deref(),
                f.navigator.parse().ok(),
                &actor,
                now(&st),
            )
            .await
            .map(|()| "done".into())
            .map_err(|e| said(&e))
        }
        "erase" => {
            if let Err(r) = require_admin(&st, &a) {
                return r;
            }
            if f.confirm.trim() != id {
                Err(st.ui.text.get(a.lang, "erase-confirm", None))
            } else {
                match queries::erase_client(&st.runner.db, &client, &actor, now(&st)).await {
                    Ok(_) => return Redirect::to("/clients?done=erased").into_response(),
                    Err(e) => Err(said(&e)),
                }
            }
        }
        _ => return message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found"),
    };
    match r {
        Ok(done) => Redirect::to(&format!("{back}?done={done}")).into_response(),
        Err(e) => error_page(&st, &a, StatusCode::UNPROCESSABLE_ENTITY, &e, &back),
    }
}

/// What a navigator is told when an action fails: the reason, unless the database failed
/// underneath (logged for the on-call engineer; the navigator is asked to try again).
fn said(e: &(dyn std::error::Error + 'static)) -> String {
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

// ---- Flows and the simulator ----

async fn flows_page(State(st): State<AppState>, a: Auth) -> Response {
    let report = crate::web::queries::flow_report(&st.runner);
    st.ui.render(
        "flows.html",
        page_ctx(
            &a,
            context! {
                flows => report.flows,
                locales => report.locales,
                problems => report.problems,
                default_locale => st.runner.catalog.default_locale().to_string(),
            },
        ),
    )
}

#[derive(Debug, Deserialize, Default)]
struct SimForm {
    #[serde(default)]
    client: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    text: String,
}

fn simulator_view(
    st: &AppState,
    a: &Auth,
    client: &str,
    language: &str,
    conversation: Vec<Value>,
    error: Option<String>,
) -> Response {
    let flows = flow_ids(st);
    let languages = language_options(st);
    st.ui.render(
        "simulator.html",
        page_ctx(a, context! { flows => flows, languages => languages, client => client, language => language, conversation => conversation, error => error }),
    )
}

async fn simulator_page(State(st): State<AppState>, a: Auth) -> Response {
    let client = format!("test-{}", a.staff.username.replace('.', "-"));
    simulator_view(
        &st,
        &a,
        &client,
        st.runner.catalog.default_locale().as_str(),
        Vec::new(),
        None,
    )
}

async fn simulator_turn(State(st): State<AppState>, Form(a, f): Form<SimForm>) -> Response {
    let client = f.client.trim().to_owned();
    // A test client that exists must be one this staff member may see.
    if let Ok(Some(_)) = queries::client_meta(&st.runner.db, &client).await
        && let Err(r) = access(&st, &a, &client).await
    {
        return r;
    }
    let req = crate::web::simulator::SimRequest {
        client: client.clone(),
        text: Some(f.text.clone()).filter(|t| !t.trim().is_empty()),
        start: Some(f.start.clone()).filter(|t| !t.trim().is_empty()),
        language: Some(f.language.clone()).filter(|t| !t.trim().is_empty()),
        program: None,
        id: None,
    };
    let error = if req.text.is_none() && req.start.is_none() {
        Some(st.ui.text.get(a.lang, "reply", None))
    } else {
        match crate::web::simulator::converse(&st, req, &a.staff.actor()).await {
            Ok(r) => {
                if r.created
                    && let Ok(id) = ClientId::parse(&client)
                {
                    let _ = queries::set_profile(
                        &st.runner.db,
                        &id,
                        None,
                        Some(a.staff.id),
                        &a.staff.actor(),
                        now(&st),
                    )
                    .await;
                }
                None
            }
            Err(e) => Some(e.message().to_owned()),
        }
    };
    let conversation = match ClientId::parse(&client) {
        Ok(id) => {
            match crate::store::record::read(&st.runner.db, &id, &a.staff.actor(), now(&st)).await {
                Ok(Some(r)) => r
                    .messages
                    .iter()
                    .rev()
                    .take(40)
                    .rev()
                    .map(|m| context! { direction => m.direction.clone(), body => m.body.clone() })
                    .collect(),
                _ => Vec::new(),
            }
        }
        Err(_) => Vec::new(),
    };
    simulator_view(&st, &a, &client, &f.language, conversation, error)
}

// ---- Cohort ----

async fn cohort_page(State(st): State<AppState>, a: Auth) -> Response {
    let c = match queries::cohort(&st.runner.db, a.viewer()).await {
        Ok(c) => c,
        Err(e) => return store_error(&st, &a, &e),
    };
    let _ = queries::audit_one(
        &st.runner.db,
        now(&st),
        &a.staff.actor(),
        "cohort-view",
        None,
        "",
    )
    .await;
    #[allow(clippy::cast_precision_loss)]
    let reasons_chart = (!c.reasons.is_empty()).then(|| {
        let g: Vec<(String, Vec<f64>)> = c
            .reasons
            .iter()
            .map(|(k, n)| (k.clone(), vec![*n as f64]))
            .collect();
        charts::bars(
            &st.ui.text.get(a.lang, "referrals-by-reason", None),
            &["n"],
            &g,
        )
    });
    let b = st.ui.text.get(a.lang, "baseline", None);
    let s = st.ui.text.get(a.lang, "six-months", None);
    let with_pairs: Vec<(String, Vec<f64>)> = c
        .outcomes
        .iter()
        .filter(|o| o.n > 0)
        .map(|o| (o.instrument.clone(), vec![o.baseline_mean, o.six_mean]))
        .collect();
    let outcomes_chart = (!with_pairs.is_empty()).then(|| {
        charts::bars(
            &st.ui.text.get(a.lang, "outcomes", None),
            &[&b, &s],
            &with_pairs,
        )
    });
    st.ui.render(
        "cohort.html",
        page_ctx(
            &a,
            context! { reasons => c.reasons, uptake => c.uptake, responses => c.responses, outcomes => c.outcomes, reasons_chart => reasons_chart, outcomes_chart => outcomes_chart },
        ),
    )
}

// ---- Audit ----

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
    let f = queries::AuditFilter {
        actor: q.actor.clone(),
        client: q.client.clone(),
        action: q.action.clone(),
        from: day_start(q.from.as_deref(), tz, 0),
        to: day_start(q.to.as_deref(), tz, 1),
    };
    let entries =
        match queries::audit_entries(&st.runner.db, &f, tz, PAGE + 1, (page - 1) * PAGE).await {
            Ok(e) => e,
            Err(e) => return store_error(&st, &a, &e),
        };
    let more = entries.len() > usize::try_from(PAGE).unwrap_or(50);
    let entries: Vec<_> = entries
        .into_iter()
        .take(usize::try_from(PAGE).unwrap_or(50))
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
                prev => (page > 1).then(|| link(page - 1)),
                next => more.then(|| link(page + 1)),
            },
        ),
    )
}

// ---- Staff and tokens ----

async fn staff_view(
    st: &AppState,
    a: &Auth,
    link: Option<String>,
    secret: Option<String>,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let list = staff::list(&st.runner.db).await.unwrap_or_default();
    let tz = st.runner.centre.time_zone;
    let tokens: Vec<Value> = staff::tokens(&st.runner.db)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|t| context! { id => t.id, name => t.name, scope => t.scope.as_str(), last_used => t.last_used_at.map(|l| queries::local(l, tz)), revoked => t.revoked_at.is_some() })
        .collect();
    st.ui.render("staff.html", page_ctx(a, context! { staff => list, tokens => tokens, link => link, secret => secret, error => error, notice => notice }))
}

async fn staff_page(State(st): State<AppState>, a: Auth, Query(d): Query<Done>) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    let notice = notice(&st, a.lang, &d);
    staff_view(&st, &a, None, None, None, notice).await
}

#[derive(Debug, Deserialize, Default)]
struct StaffForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope: String,
}

async fn add_staff(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(a, f): Form<StaffForm>,
) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    let role = match Role::parse(&f.role) {
        Ok(r) => r,
        Err(e) => return staff_view(&st, &a, None, None, Some(e.to_string()), None).await,
    };
    let t = now(&st);
    match staff::add(
        &st.runner.db,
        &f.username,
        &f.name,
        role,
        None,
        t,
        &a.staff.actor(),
    )
    .await
    {
        Ok(s) => match staff::setup_link(&st.runner.db, Some(s.id), t, 72).await {
            Ok(token) => {
                let link = format!("{}/setup/{token}", base_url(&st, &headers));
                staff_view(&st, &a, Some(link), None, None, None).await
            }
            Err(e) => store_error(&st, &a, &e),
        },
        Err(e) => staff_view(&st, &a, None, None, Some(e.to_string()), None).await,
    }
}

/// An administrator turns an account off or on, or makes a new set-up link (a forgotten
/// password).
async fn staff_action(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(i64, String)>,
    Form(a, Empty {}): Form<Empty>,
) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    let target = match staff::by_id(&st.runner.db, id).await {
        Ok(Some(s)) => s,
        Ok(None) => return message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found"),
        Err(e) => return store_error(&st, &a, &e),
    };
    let t = now(&st);
    let actor = a.staff.actor();
    match action.as_str() {
        "disable" if target.id == a.staff.id => {
            staff_view(
                &st,
                &a,
                None,
                None,
                Some("you cannot turn your own account off".into()),
                None,
            )
            .await
        }
        "disable" | "enable" => {
            match staff::set_active(
                &st.runner.db,
                &target.username,
                action == "enable",
                &actor,
                t,
            )
            .await
            {
                Ok(_) => Redirect::to("/staff?done=done").into_response(),
                Err(e) => store_error(&st, &a, &e),
            }
        }
        "link" => match staff::setup_link(&st.runner.db, Some(target.id), t, 72).await {
            Ok(token) => {
                let _ = queries::audit_one(
                    &st.runner.db,
                    t,
                    &actor,
                    "setup-link",
                    None,
                    &target.username,
                )
                .await;
                let link = format!("{}/setup/{token}", base_url(&st, &headers));
                staff_view(&st, &a, Some(link), None, None, None).await
            }
            Err(e) => store_error(&st, &a, &e),
        },
        _ => message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found"),
    }
}

/// The site's own address, for links given to people: the configured public URL, else the Host
/// the browser used.
fn base_url(st: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &st.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

async fn issue_token(State(st): State<AppState>, Form(a, f): Form<StaffForm>) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    let scope = match Scope::parse(&f.scope) {
        Ok(s) => s,
        Err(e) => return staff_view(&st, &a, None, None, Some(e.to_string()), None).await,
    };
    match staff::issue_token(&st.runner.db, &f.name, scope, &a.staff.actor(), now(&st)).await {
        Ok((_, secret)) => staff_view(&st, &a, None, Some(secret), None, None).await,
        Err(e) => staff_view(&st, &a, None, None, Some(e.to_string()), None).await,
    }
}

async fn revoke_token(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Form(a, Empty {}): Form<Empty>,
) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    match staff::revoke_token(&st.runner.db, id, &a.staff.actor(), now(&st)).await {
        Ok(_) => Redirect::to("/staff?done=revoked").into_response(),
        Err(e) => store_error(&st, &a, &e),
    }
}

// ---- Export ----

async fn export_page(State(st): State<AppState>, a: Auth) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    st.ui.render("export.html", page_ctx(&a, context! {}))
}

#[derive(Debug, Deserialize, Default)]
struct ExportQuery {
    #[serde(default)]
    deidentified: Option<String>,
}

async fn export_csv(State(st): State<AppState>, a: Auth, Query(q): Query<ExportQuery>) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    let deid = q.deidentified.is_some();
    let mut out = Vec::new();
    match crate::export::evaluation_csv(
        &st.runner,
        deid,
        &a.staff.actor(),
        &mut out,
        &mut |_, _| {},
    )
    .await
    {
        Ok(_) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    if deid {
                        "attachment; filename=\"evaluation-deidentified.csv\""
                    } else {
                        "attachment; filename=\"evaluation.csv\""
                    },
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            out,
        )
            .into_response(),
        Err(e) => store_error(&st, &a, &e),
    }
}

async fn export_fhir(
    State(st): State<AppState>,
    a: Auth,
    Query(q): Query<ExportQuery>,
) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    match crate::export::fhir_bundle(
        &st.runner,
        q.deidentified.is_some(),
        &a.staff.actor(),
        &mut |_, _| {},
    )
    .await
    {
        Ok(b) => (
            [
                (header::CONTENT_TYPE, "application/fhir+json; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"matters-fhir.json\"",
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            serde_json::to_string_pretty(&b).unwrap_or_default(),
        )
            .into_response(),
        Err(e) => store_error(&st, &a, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_only_ever_a_path_on_this_site() {
        for good in ["/clients/amelie", "/clients?q=x&page=2", "/today"] {
            assert_eq!(safe_next(Some(good)), good);
        }
        for bad in [
            "//evil.example/",
            "/\t/evil.example/",
            "/\r\nSet-Cookie: x=1",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/clients?q=a b",
            "/clients/amélie",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/today", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/today");
    }
}
