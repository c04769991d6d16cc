//! `/api/v1/queues`: counts by status and lag.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wasmtasks::service::queues::QueueSummary;

use crate::extract::Caller;
use crate::problem::Problem;
use crate::state::AppState;

/// The routes of queues.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
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
