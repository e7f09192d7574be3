//! Flows: every language's status and completeness, the SMS cost of each flow, and the
//! navigators' simulator (a conversation with the bot as a test client).

use crate::domain::ClientId;
use crate::runner::Runner;
use crate::web::AppState;
use crate::web::page::{access, flow_ids, language_options, now, page_ctx};
use crate::web::simulator::{SimForm, conversation, turn};
use crate::web::ui::{Auth, Form};
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use minijinja::{Value, context};
use serde::Serialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/flows", get(flows_page))
        .route("/flows/simulator", get(simulator_page).post(simulator_turn))
}

async fn flows_page(State(st): State<AppState>, a: Auth) -> Response {
    let report = flow_report(&st.runner);
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
        page_ctx(a, context! { action => "/flows/simulator", flows => flows, languages => languages, client => client, language => language, conversation => conversation, error => error }),
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
    if let Ok(Some(_)) = crate::web::page::client_meta(&st.runner.db, &client).await
        && let Err(r) = access(&st, &a, &client).await
    {
        return r;
    }
    let error = match turn(&st, &f, &a.staff.centre, &a.staff.actor()).await {
        Ok(r) => {
            // A test client the navigator made is theirs.
            if r.created
                && let Ok(id) = ClientId::parse(&client)
            {
                let _ = crate::web::clients::set_profile(
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
    };
    let conversation = conversation(&st, &client, &a.staff.actor()).await;
    simulator_view(&st, &a, &client, &f.language, conversation, error)
}

/// A flow, with its messages missing and its SMS cost in each locale.
#[derive(Debug, Clone, Serialize)]
pub struct FlowRow {
    pub id: String,
    pub revision: String,
    pub instrument: Option<String>,
    /// Per locale, in the order of [`FlowReport::locales`].
    pub locales: Vec<crate::flow::report::FlowCost>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlowReport {
    pub locales: Vec<crate::flow::report::LocaleReport>,
    pub flows: Vec<FlowRow>,
    /// Every gap of an enabled locale, as `flow: locale: message`.
    pub problems: Vec<String>,
}

/// Status, completeness and SMS cost of every loaded flow in every available locale.
#[must_use]
pub fn flow_report(runner: &Runner) -> FlowReport {
    let mut locales =
        crate::flow::report::locales(&runner.catalog, &runner.flows, &runner.centre.name);
    let mut problems = Vec::new();
    let mut flows: Vec<FlowRow> = runner
        .flows
        .current()
        .map(|f| FlowRow {
            id: f.id.to_string(),
            revision: f.revision.clone(),
            instrument: f.instrument.clone(),
            locales: Vec::new(),
        })
        .collect();
    for l in &mut locales {
        for (row, cost) in flows.iter_mut().zip(std::mem::take(&mut l.flows)) {
            if l.enabled {
                problems.extend(
                    cost.missing
                        .iter()
                        .map(|m| format!("{}: {}: {m} is missing", row.id, l.locale)),
                );
            }
            row.locales.push(cost);
        }
        // The page lists the longest messages, not every one.
        l.messages.retain(|m| m.segments > 2);
    }
    FlowReport {
        locales,
        flows,
        problems,
    }
}
