//! The HTTP surface: health, and the simulator channel. One error type maps to a status code and
//! never shows internals to the caller.

mod simulator;

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
        Self {
            runner,
            inbox,
            twilio: None,
        }
    }

    /// Takes Twilio's webhooks.
    #[must_use]
    pub fn with_twilio(mut self, cfg: crate::channel::twilio::TwilioConfig) -> Self {
        self.twilio = Some(Arc::new(cfg));
        self
    }
}

/// The whole router, so tests can call it in-process.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(simulator::routes())
        .merge(crate::channel::twilio::webhook::routes())
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .with_state(state)
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
            RunError::Busy { .. } | RunError::OptedOut(_) => Self {
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}
