//! The HTTP surface: health, and the simulator channel. One error type maps to a status code and
//! never shows internals to the caller.

mod account;
mod alerts;
pub mod api;
mod audit;
mod centres;
mod clients;
mod cohort;
mod export;
mod feedback;
mod fhir;
mod flows;
mod inbox;
pub mod notifications;
pub mod ops;
pub mod page;
mod programs;
mod record;
mod referrers;
pub(crate) mod simulator;
mod sociodemographics;
mod staff;
mod today;
pub mod twilio;
pub mod ui;

pub use clients::{ClientFilter, ClientSummary, client_list, set_profile};
pub use page::{ClientMeta, client_meta};
pub use today::{Task, open_tasks};

use crate::runner::{Inbox, RunError, Runner};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;

/// Shared state of every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    pub runner: Arc<Runner>,
    /// Where inbound messages go: batched into transactions by writer tasks.
    pub inbox: Inbox,
    /// SMS through Twilio, when configured: its webhooks check signatures with it.
    pub twilio: Option<Arc<crate::channel::twilio::TwilioConfig>>,
    /// The navigator's web interface.
    pub ui: Arc<ui::Ui>,
    /// The Telegram bot's user name, when Telegram is on (for invite links).
    pub telegram_bot: Option<String>,
    pub telegram_invite_hours: u32,
    /// The site's public base URL, for links given to people.
    pub public_url: Option<String>,
    /// Whether the public simulator (`/simulator…`) answers (`[simulator] enabled`).
    pub simulator: bool,
    /// Renders `/metrics` on the main address, when it is served there.
    pub metrics: Option<crate::ops::metrics::Exporter>,
}

impl AppState {
    /// Starts the inbox's writers: one on SQLite (it has one writer), four on Postgres.
    #[must_use]
    pub fn new(runner: Arc<Runner>) -> Self {
        let writers = match runner.db.backend() {
            crate::store::Backend::Sqlite => 1,
            crate::store::Backend::Postgres => 4,
        };
        let inbox = Inbox::spawn(runner.clone(), writers);
        let content = ui_content(&runner);
        Self {
            runner,
            inbox,
            twilio: None,
            ui: Arc::new(ui::Ui::new(
                ui::WebSettings {
                    idle_ms: 30 * 60_000,
                    secure_cookies: false,
                    login_attempts: 5,
                    login_window_ms: 15 * 60_000,
                },
                content,
            )),
            telegram_bot: None,
            telegram_invite_hours: 72,
            public_url: None,
            simulator: true,
            metrics: None,
        }
    }

    /// Web settings from the configuration: idle timeout, sign-in limit, and Secure cookies
    /// when the public URL is HTTPS.
    #[must_use]
    pub fn with_web(mut self, cfg: &crate::config::Config) -> Self {
        let secure = cfg
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"));
        self.ui = Arc::new(ui::Ui::new(
            ui::WebSettings {
                idle_ms: i64::from(cfg.web.idle_minutes.max(1)) * 60_000,
                secure_cookies: secure,
                login_attempts: cfg.web.login_attempts.max(1),
                login_window_ms: i64::from(cfg.web.login_window_minutes.max(1)) * 60_000,
            },
            ui_content(&self.runner),
        ));
        self.public_url = cfg.public_url.clone();
        self.telegram_invite_hours = cfg.telegram.invite_hours;
        self.simulator = cfg.simulator.enabled;
        self
    }

    /// Words for stored values in `lang` (see [`ui::words::Words`]).
    #[must_use]
    pub fn words<'a>(&'a self, lang: &'a str) -> ui::words::Words<'a> {
        ui::words::Words {
            ui: &self.ui.text,
            catalog: &self.runner.catalog,
            flows: &self.runner.flows,
            lang,
            tz: self.runner.centre.time_zone,
        }
    }

    /// How long a provider's webhook waits for its message to be committed before it is answered
    /// 503 (and the provider tries again): half a second past the database's acquire timeout,
    /// at most ten seconds (Twilio gives up at fifteen).
    #[must_use]
    pub fn webhook_deadline(&self) -> std::time::Duration {
        (self.runner.db.acquire_timeout() + std::time::Duration::from_millis(500))
            .min(std::time::Duration::from_secs(10))
    }

    /// Takes Twilio's webhooks.
    #[must_use]
    pub fn with_twilio(mut self, cfg: crate::channel::twilio::TwilioConfig) -> Self {
        self.twilio = Some(Arc::new(cfg));
        self
    }
}

/// What the interface's words are made from: the runner's catalog and flows, the centre's zone.
fn ui_content(runner: &Runner) -> ui::Content {
    ui::Content {
        catalog: runner.catalog.clone(),
        flows: runner.flows.clone(),
        tz: runner.centre.time_zone,
    }
}

/// The whole router, so tests can call it in-process.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(ops::routes())
        .merge(simulator::routes())
        .merge(ui::routes())
        .merge(account::routes())
        .merge(today::routes())
        .merge(clients::routes())
        .merge(record::routes())
        .merge(alerts::routes())
        .merge(inbox::routes())
        .merge(notifications::routes())
        .merge(programs::routes())
        .merge(referrers::routes())
        .merge(sociodemographics::routes())
        .merge(feedback::routes())
        .merge(fhir::routes())
        .merge(flows::routes())
        .merge(cohort::routes())
        .merge(audit::routes())
        .merge(staff::routes())
        .merge(centres::routes())
        .merge(export::routes())
        .merge(api::routes())
        .merge(crate::web::twilio::routes())
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .layer(axum::middleware::from_fn(ops::log_request))
        .with_state(state)
}

/// No such page: the API's JSON error under `/api`, plain words elsewhere.
async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return api::not_found(uri).await.into_response();
    }
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

async fn healthz(State(st): State<AppState>) -> Response {
    match st.runner.db.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({ "status": "ok" }))).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "database unavailable" })),
            )
                .into_response()
        }
    }
}

/// An error answered to an HTTP caller.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }
}

impl From<RunError> for ApiError {
    fn from(e: RunError) -> Self {
        match &e {
            RunError::UnknownClient(_) | RunError::UnknownFlow(_) => Self::not_found(e.to_string()),
            RunError::Busy { .. } | RunError::OptedOut(_) | RunError::NoChannel(_) => Self {
                status: StatusCode::CONFLICT,
                message: e.to_string(),
            },
            _ => {
                // Logged for the on-call engineer; the caller (maybe a provider that will retry)
                // sees only that we could not take it now.
                tracing::error!(error = %e, "input failed");
                Self {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    message: "temporarily unavailable; try again".into(),
                }
            }
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        RunError::from(e).into()
    }
}

impl ApiError {
    /// What the caller is told.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

/// The one error shape of every JSON endpoint.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for a person.
    pub error: String,
    /// The HTTP status code, repeated.
    pub status: u16,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.message,
                status: self.status.as_u16(),
            }),
        )
            .into_response()
    }
}
