//! `/api/v1/workers`: the registry of workers and what each is running.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wasmtasks::store::WorkerRecord;

use crate::extract::Caller;
use crate::problem::Problem;
use crate::state::AppState;

/// The routes of workers.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// The registered workers: live (heartbeating), lost (heartbeat three intervals
/// late) or stopped, each with the jobs it is running. A tenant sees the workers
/// that serve it and only its own jobs on them.
#[utoipa::path(get, path = "/workers", tag = "workers",
    responses((status = 200, description = "The workers", body = Vec<WorkerRecord>)),
    security(("token" = [])))]
async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<Vec<WorkerRecord>>, Problem> {
    Ok(Json(state.services.workers().list(&principal).await?))
}
