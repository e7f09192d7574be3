//! Programs: the catalogue of programs and partners a navigator refers to. Every staff member
//! reads it; administrators add, change, retire and restore programs. A program's page shows
//! its referrals, uptake rate, most common barriers and outcome change.

use crate::programs::{self, COSTS, Program, ProgramInput};
use crate::web::AppState;
use crate::web::page::{Done, Empty, notice, now, page_ctx, require_admin, said, store_error};
use crate::web::ui::{Auth, Form, message_page};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::Deserialize;
use sqlx::Row;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/programs", get(list_page).post(save))
        .route("/programs/{code}", get(program_page))
        .route("/programs/{code}/{action}", post(retire_or_restore))
}

/// A program as a page shows it, in the reader's language.
fn view(st: &AppState, p: &Program, lang: &str) -> Value {
    let (name, description) = p.text(lang);
    // Weekly sessions in words; dated ones as instants, which the page writes in its own words.
    let sessions = p
        .schedule
        .as_deref()
        .and_then(|s| programs::schedule::parse(s).ok())
        .unwrap_or_default();
    let (weekly, dated) = programs::schedule::split(&sessions);
    let when = (!weekly.is_empty()).then(|| {
        let l = crate::domain::Locale::parse(lang)
            .unwrap_or_else(|_| st.runner.catalog.default_locale().clone());
        programs::schedule::describe(
            &weekly,
            &st.runner.catalog,
            &st.runner.catalog.negotiate(&l),
        )
    });
    let tz = st.runner.centre.time_zone;
    let dates: Vec<i64> = dated
        .iter()
        .filter_map(|d| d.and_local_timezone(tz).earliest())
        .map(|d| crate::clock::to_ms(d.with_timezone(&chrono::Utc)))
        .collect();
    let languages: Vec<String> = p
        .languages
        .iter()
        .map(|l| {
            crate::domain::Locale::parse(l)
                .map_or_else(|_| l.clone(), |l| st.runner.catalog.language_name(&l))
        })
        .collect();
    context! {
        p => Value::from_serialize(p),
        name => name,
        description => description,
        when => when,
        dates => dates,
        language_names => languages,
    }
}

#[derive(Debug, Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    all: Option<String>,
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    item: Option<String>,
}

async fn list_page(State(st): State<AppState>, a: Auth, Query(q): Query<ListQuery>) -> Response {
    let all = a.staff.is_admin() && q.all.is_some();
    let list = match programs::list_in(&st.runner.db, a.staff.scope(), all).await {
        Ok(l) => l,
        Err(e) => return store_error(&st, &a, &e),
    };
    let views: Vec<Value> = list.iter().map(|p| view(&st, p, a.lang)).collect();
    let d = Done {
        done: q.done,
        item: q.item,
    };
    render_list(
        &st,
        &a,
        views,
        all,
        None,
        &ProgramForm::default(),
        notice(&st, a.lang, &d, None),
    )
}

fn render_list(
    st: &AppState,
    a: &Auth,
    views: Vec<Value>,
    all: bool,
    error: Option<String>,
    form: &ProgramForm,
    notice: Option<String>,
) -> Response {
    st.ui.render(
        "programs.html",
        page_ctx(
            a,
            context! {
                programs => views, all => all, error => error, notice => notice,
                form => Value::from_serialize(form),
                costs => COSTS, reasons => crate::domain::REASONS,
                languages => crate::web::page::language_options(st),
            },
        ),
    )
}

async fn program_page(
    State(st): State<AppState>,
    a: Auth,
    Path(code): Path<String>,
    Query(d): Query<Done>,
) -> Response {
    let p = match programs::by_code(&st.runner.db, &code).await {
        Ok(Some(p)) if !a.staff.sees_centre(&p.centre) => {
            return crate::web::page::other_centre(&st, &a, "program").await;
        }
        Ok(Some(p)) => p,
        Ok(None) => return message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found"),
        Err(e) => return store_error(&st, &a, &e),
    };
    let stats = match programs::stats(&st.runner.db, p.id).await {
        Ok(s) => s,
        Err(e) => return store_error(&st, &a, &e),
    };
    // Its referrals: the clients this reader may open.
    let (scope, viewer) = match a.viewer() {
        Some(v) => ("AND c.navigator_id = $2", Some(v)),
        None => ("", None),
    };
    let sql = format!(
        "SELECT r.client_id, c.display_name, r.referred_at, r.uptake, r.closed_at FROM referrals r \
         JOIN clients c ON c.id = r.client_id WHERE r.program_id = $1 {scope} ORDER BY r.referred_at DESC LIMIT 200"
    );
    let mut q = sqlx::query(&sql).bind(p.id);
    if let Some(v) = viewer {
        q = q.bind(v);
    }
    let referrals: Vec<Value> = match q.fetch_all(st.runner.db.pool()).await {
        Ok(rows) => rows
            .iter()
            .map(|r| {
                context! {
                    client => r.try_get::<String, _>(0).unwrap_or_default(),
                    name => r.try_get::<Option<String>, _>(1).unwrap_or_default(),
                    at => r.try_get::<i64, _>(2).unwrap_or_default(),
                    uptake => r.try_get::<String, _>(3).unwrap_or_default(),
                    closed => r.try_get::<Option<i64>, _>(4).unwrap_or_default(),
                }
            })
            .collect(),
        Err(e) => return store_error(&st, &a, &e),
    };
    let _ = crate::store::record::audit_one(
        &st.runner.db,
        now(&st),
        &a.staff.actor(),
        "program-view",
        None,
        &format!("{code}: {} referrals listed", referrals.len()),
    )
    .await;
    let form = ProgramForm::of(&p);
    st.ui.render(
        "program.html",
        page_ctx(
            &a,
            context! {
                v => view(&st, &p, a.lang), stats => Value::from_serialize(&stats),
                referrals => referrals, form => Value::from_serialize(&form),
                costs => COSTS, reasons => crate::domain::REASONS,
                languages => crate::web::page::language_options(&st),
                notice => notice(&st, a.lang, &d, None),
            },
        ),
    )
}

/// The add-or-change form: a program's fields, its name and description in English and French.
#[derive(Debug, Deserialize, Default, serde::Serialize)]
struct ProgramForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    partner: String,
    #[serde(default)]
    partner_contact: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    description_en: String,
    #[serde(default)]
    name_fr: String,
    #[serde(default)]
    description_fr: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    online: Option<String>,
    #[serde(default)]
    schedule: String,
    #[serde(default)]
    cost: String,
    #[serde(default)]
    transport: String,
    #[serde(default)]
    accessibility: String,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    eligibility: String,
    #[serde(default)]
    reasons: Vec<String>,
}

impl ProgramForm {
    fn of(p: &Program) -> Self {
        let t = |l: &str| p.texts.get(l).cloned().unwrap_or_default();
        Self {
            code: p.code.clone(),
            partner: p.partner.clone().unwrap_or_default(),
            partner_contact: p.partner_contact.clone().unwrap_or_default(),
            name_en: t("en").0,
            description_en: t("en").1,
            name_fr: t("fr").0,
            description_fr: t("fr").1,
            location: p.location.clone().unwrap_or_default(),
            online: p.online.then(|| "yes".into()),
            schedule: p.schedule.clone().unwrap_or_default(),
            cost: p.cost.clone(),
            transport: p.transport.clone().unwrap_or_default(),
            accessibility: p.accessibility.clone().unwrap_or_default(),
            languages: p.languages.clone(),
            contact: p.contact.clone().unwrap_or_default(),
            eligibility: p.eligibility.clone().unwrap_or_default(),
            reasons: p.reasons.clone(),
        }
    }

    fn input(&self, active: bool) -> ProgramInput {
        ProgramInput {
            code: self.code.trim().to_lowercase(),
            partner: self.partner.clone(),
            partner_contact: self.partner_contact.clone(),
            location: self.location.clone(),
            online: self.online.is_some(),
            schedule: self.schedule.clone(),
            cost: self.cost.clone(),
            transport: self.transport.clone(),
            accessibility: self.accessibility.clone(),
            languages: self.languages.join(","),
            contact: self.contact.clone(),
            eligibility: self.eligibility.clone(),
            reasons: self.reasons.join(","),
            active,
            texts: vec![
                (
                    "en".into(),
                    self.name_en.clone(),
                    self.description_en.clone(),
                ),
                (
                    "fr".into(),
                    self.name_fr.clone(),
                    self.description_fr.clone(),
                ),
            ],
        }
    }
}

async fn save(State(st): State<AppState>, Form(a, f): Form<ProgramForm>) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    let code = f.code.trim().to_lowercase();
    // A change keeps the program's standing (retired stays retired).
    let active = match programs::by_code(&st.runner.db, &code).await {
        Ok(Some(p)) if !a.staff.sees_centre(&p.centre) => {
            return crate::web::page::other_centre(&st, &a, "program").await;
        }
        Ok(p) => p.is_none_or(|p| p.active),
        Err(e) => return store_error(&st, &a, &e),
    };
    let input = f.input(active);
    if let Err(why) = programs::check(&input) {
        let views = programs::list_in(&st.runner.db, a.staff.scope(), false)
            .await
            .unwrap_or_default()
            .iter()
            .map(|p| view(&st, p, a.lang))
            .collect();
        let mut r = render_list(&st, &a, views, false, Some(why), &f, None);
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    }
    let saved = async {
        let mut tx = st.runner.db.begin().await?;
        programs::upsert_in(&mut tx, &a.staff.centre, &input, now(&st), &a.staff.actor()).await?;
        tx.commit()
            .await
            .map_err(|e| crate::store::StoreError::Query {
                doing: "saving a program",
                source: e,
            })
    }
    .await;
    match saved {
        Ok(()) => Redirect::to(&format!("/programs/{code}?done=program-saved")).into_response(),
        Err(e) => crate::web::page::error_page(
            &st,
            &a,
            StatusCode::SERVICE_UNAVAILABLE,
            &said(&e),
            "/programs",
        ),
    }
}

async fn retire_or_restore(
    State(st): State<AppState>,
    Path((code, action)): Path<(String, String)>,
    Form(a, Empty {}): Form<Empty>,
) -> Response {
    if let Err(r) = require_admin(&st, &a) {
        return r;
    }
    let active = match action.as_str() {
        "retire" => false,
        "restore" => true,
        _ => return message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found"),
    };
    match programs::by_code(&st.runner.db, &code).await {
        Ok(Some(p)) if !a.staff.sees_centre(&p.centre) => {
            return crate::web::page::other_centre(&st, &a, "program").await;
        }
        Ok(_) => {}
        Err(e) => return store_error(&st, &a, &e),
    }
    match programs::set_active(&st.runner.db, &code, active, now(&st), &a.staff.actor()).await {
        Ok(true) => Redirect::to(&format!(
            "/programs/{code}?done={}",
            if active {
                "program-restored"
            } else {
                "program-retired"
            }
        ))
        .into_response(),
        Ok(false) => message_page(&st, a.lang, Some(&a), StatusCode::NOT_FOUND, "not-found"),
        Err(e) => store_error(&st, &a, &e),
    }
}
