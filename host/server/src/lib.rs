//! The wasmtasks HTTP server: one axum router over the service layer.
//!
//! - `/api/v1/…`: the JSON API ([`api`]), every handler calling the services as
//!   the principal of the request's bearer token; errors as problem details
//!   ([`problem::Problem`]).
//! - `/api/v1/openapi.json`: the OpenAPI 3.1 document, generated from the
//!   handlers (the copy checked into `host/server/openapi.json` is kept equal to
//!   it by a test).
//! - `/healthz` (the process is up) and `/readyz` (the store answers).
//! - `/metrics`: Prometheus metrics, for an operator token ([`metrics`]).
//! - everything else: the dashboard ([`dashboard`]), HTML pages over the same
//!   services, logged in with a token; an unknown path is an HTML 404 page there,
//!   and a problem detail under `/api/`.
//!
//! [`router`] builds it; [`serve`] runs it until shutdown.

#![warn(missing_docs)]

pub mod api;
pub mod dashboard;
pub mod extract;
pub mod metrics;
pub mod problem;
pub mod state;

use std::future::Future;
use std::time::Duration;

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use wasmtasks::service::Services;

pub use problem::Problem;
pub use state::{AppState, ServerOptions};

/// The OpenAPI document of the API, as served.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = api::router().split_for_parts().1;
    api::complete(&mut document);
    document
}

/// The whole router: API, OpenAPI document, health checks.
pub fn router(services: Services, options: ServerOptions) -> axum::Router {
    let state = AppState { services, options };
    let (api, mut document) = api::router().split_for_parts();
    api::complete(&mut document);
    let document = serde_json::to_value(&document).unwrap_or_default();
    let request_id = HeaderName::from_static("x-request-id");
    axum::Router::new()
        .merge(api)
        .merge(dashboard::router())
        .route(
            "/api/v1/openapi.json",
            get(move || async move { Json(document) }),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::scrape))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::record,
        ))
        .layer(DefaultBodyLimit::max(options.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            options.request_timeout,
        ))
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` completes, then lets requests
/// in progress finish for up to `grace`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stopped, mut stop) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stopped.send(true);
    });
    tokio::select! {
        result = server => result,
        _ = async {
            let _ = stop.wait_for(|stopped| *stopped).await;
            tokio::time::sleep(grace).await;
        } => Ok(()),
    }
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The store answers.
async fn readyz(State(state): State<AppState>) -> Result<&'static str, Problem> {
    state.services.ready().await?;
    Ok("ready")
}

/// Whether `uri` is the API's (its errors are problem details; the rest are pages).
fn is_api(uri: &axum::http::Uri) -> bool {
    uri.path() == "/api" || uri.path().starts_with("/api/")
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if !is_api(&uri) {
        return dashboard::not_found(uri.path());
    }
    Problem::new(
        404,
        "not-found",
        "Not found",
        format!("no such route: {}", uri.path()),
    )
    .into_response()
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    if !is_api(&uri) {
        return dashboard::method_not_allowed(method.as_str(), uri.path());
    }
    Problem::new(
        405,
        "method-not-allowed",
        "Method not allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
    .into_response()
}
