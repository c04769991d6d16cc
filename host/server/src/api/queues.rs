//! `/api/v1/queues`: counts by status and lag, pause and resume.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wasmtasks::service::queues::{QueuePause, QueueSummary};

use crate::extract::{ApiPath, Caller};
use crate::problem::Problem;
use crate::state::AppState;

/// The routes of queues.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(pause))
        .routes(routes!(resume))
}

/// Every configured queue and every queue with jobs: counts by status, and how
/// long the oldest runnable READY job has waited.
#[utoipa::path(get, path = "/queues", tag = "queues",
    responses((status = 200, description = "The queues", body = Vec<QueueSummary>)),
    security(("token" = [])))]
async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<Vec<QueueSummary>>, Problem> {
    Ok(Json(state.services.queues().list(&principal).await?))
}

/// Pause a queue: workers claim none of its jobs (they stay READY) until it is
/// resumed; the pause is stored and outlives every worker.
#[utoipa::path(post, path = "/queues/{name}/pause", tag = "queues",
    params(("name" = String, Path, description = "The queue")),
    responses((status = 200, description = "Paused", body = QueuePause)),
    security(("token" = [])))]
async fn pause(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<QueuePause>, Problem> {
    Ok(Json(
        state
            .services
            .queues()
            .set_paused(&principal, &name, true)
            .await?,
    ))
}

/// Resume a paused queue: workers claim its jobs again at once.
#[utoipa::path(post, path = "/queues/{name}/resume", tag = "queues",
    params(("name" = String, Path, description = "The queue")),
    responses((status = 200, description = "Resumed", body = QueuePause)),
    security(("token" = [])))]
async fn resume(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<QueuePause>, Problem> {
    Ok(Json(
        state
            .services
            .queues()
            .set_paused(&principal, &name, false)
            .await?,
    ))
}
