//! `/metrics`: the process's Prometheus metrics (operator token), the middleware
//! counting every HTTP answer by route pattern, and the token-less router of
//! `--metrics-listen`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use wasmtasks::service::Services;

use crate::extract::Caller;
use crate::problem::Problem;
use crate::state::AppState;

/// The route label of requests that matched no route.
const UNMATCHED: &str = "(unmatched)";

/// Counts every answer by route pattern, method and status, and times it.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED.to_owned(), |path| path.as_str().to_owned());
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    state.services.registry().metrics().record_http(
        &route,
        method.as_str(),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The metrics, for an operator token.
pub async fn scrape(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Response, Problem> {
    let text = state.services.metrics().render(&principal).await?;
    Ok(openmetrics(text))
}

/// A router serving only `/metrics`, without a token: for `--metrics-listen`,
/// on an address the operator chose.
pub fn listener_router(services: Services) -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        get(move || async move {
            match services.metrics().render_for_listener().await {
                Ok(text) => openmetrics(text),
                Err(error) => Problem::from(error).into_response(),
            }
        }),
    )
}

fn openmetrics(text: String) -> Response {
    ([(CONTENT_TYPE, wasmtasks::metrics::CONTENT_TYPE)], text).into_response()
}
