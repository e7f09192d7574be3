//! What the centre's IT watches: `/readyz` (can this process do its work?), `/metrics` (in
//! Prometheus's format, unless it has an address of its own), and one log line per request.
//! None of them shows a client's data.

use super::AppState;
use axum::Json;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// 200 with every part ok, or 503 naming the parts that are not.
async fn readyz(State(st): State<AppState>) -> Response {
    let checks = crate::ops::health::readiness(&st.runner).await;
    let ready = checks.iter().all(|c| c.ok);
    let failing: Vec<&str> = checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.part.as_str())
        .collect();
    if !ready {
        tracing::warn!(failing = ?failing, "not ready");
    }
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "not ready" },
        "checks": checks,
    });
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

async fn metrics(State(st): State<AppState>) -> Response {
    match &st.metrics {
        Some(m) => render(&st.runner, m).await,
        None => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}

/// The metrics as Prometheus reads them.
pub async fn render(runner: &crate::runner::Runner, m: &crate::ops::metrics::Exporter) -> Response {
    match crate::ops::metrics::scrape(runner, m).await {
        Ok(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            let e = runner.db.explain(e).await;
            tracing::warn!(error = %e, "could not read the metrics");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "metrics unavailable: the database did not answer\n",
            )
                .into_response()
        }
    }
}

/// A router that serves only `/metrics`, for `[metrics] listen`.
pub fn metrics_only(
    runner: std::sync::Arc<crate::runner::Runner>,
    m: crate::ops::metrics::Exporter,
) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let (runner, m) = (runner.clone(), m.clone());
            async move { render(&runner, &m).await }
        }),
    )
}

/// One line per request at info: method, route template (never the path itself, which can
/// name a client), status and duration.
pub async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(no route)".to_owned(), |p| p.as_str().to_owned());
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    let class = match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::counter!(crate::ops::metrics::HTTP_REQUESTS, "status" => class).increment(1);
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    // Probes and scrapes come every few seconds: at debug, unless they fail.
    if matches!(route.as_str(), "/healthz" | "/readyz" | "/metrics") && status < 400 {
        tracing::debug!(method = %method, route = %route, status, duration_ms, "request");
    } else {
        tracing::info!(method = %method, route = %route, status, duration_ms, "request");
    }
    resp
}
