//! `/api/v1/schedules`: periodic jobs.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wasmtasks::schedule::ScheduleSpec;
use wasmtasks::service::schedules::ScheduleInfo;

use crate::extract::{ApiJson, ApiPath, Caller};
use crate::problem::Problem;
use crate::state::AppState;

/// The routes of schedules.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show, put, delete))
        .routes(routes!(pause))
        .routes(routes!(resume))
}

/// The tenant's periodic jobs, with their next runs (those of the configuration
/// file included).
#[utoipa::path(get, path = "/schedules", tag = "schedules",
    responses((status = 200, description = "The schedules", body = Vec<ScheduleInfo>)),
    security(("token" = [])))]
async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<Vec<ScheduleInfo>>, Problem> {
    Ok(Json(state.services.schedules().list(&principal).await?))
}

/// One schedule.
#[utoipa::path(get, path = "/schedules/{name}", tag = "schedules",
    params(("name" = String, Path, description = "The schedule")),
    responses((status = 200, description = "The schedule", body = ScheduleInfo)),
    security(("token" = [])))]
async fn show(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ScheduleInfo>, Problem> {
    Ok(Json(
        state.services.schedules().get(&principal, &name).await?,
    ))
}

/// Create a schedule, or replace its definition (its next tick stays unless the
/// pattern or time zone changed). The task must be enqueueable now.
#[utoipa::path(put, path = "/schedules/{name}", tag = "schedules",
    params(("name" = String, Path, description = "The schedule")),
    request_body = ScheduleSpec,
    responses(
        (status = 200, description = "The schedule", body = ScheduleInfo),
        (status = 409, description = "Defined in the configuration file", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = [])))]
async fn put(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(spec): ApiJson<ScheduleSpec>,
) -> Result<Json<ScheduleInfo>, Problem> {
    Ok(Json(
        state
            .services
            .schedules()
            .put(&principal, &name, spec)
            .await?,
    ))
}

/// Delete a schedule made through the API or the CLI; its jobs stay.
#[utoipa::path(delete, path = "/schedules/{name}", tag = "schedules",
    params(("name" = String, Path, description = "The schedule")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Defined in the configuration file", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = [])))]
async fn delete(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, Problem> {
    state.services.schedules().delete(&principal, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pause a schedule: it takes no tick until resumed.
#[utoipa::path(post, path = "/schedules/{name}/pause", tag = "schedules",
    params(("name" = String, Path, description = "The schedule")),
    responses((status = 200, description = "Paused", body = ScheduleInfo)),
    security(("token" = [])))]
async fn pause(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ScheduleInfo>, Problem> {
    Ok(Json(
        state
            .services
            .schedules()
            .set_paused(&principal, &name, true)
            .await?,
    ))
}

/// Resume a schedule; ticks missed while it was paused are caught up by its
/// `catch_up`.
#[utoipa::path(post, path = "/schedules/{name}/resume", tag = "schedules",
    params(("name" = String, Path, description = "The schedule")),
    responses((status = 200, description = "Resumed", body = ScheduleInfo)),
    security(("token" = [])))]
async fn resume(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ScheduleInfo>, Problem> {
    Ok(Json(
        state
            .services
            .schedules()
            .set_paused(&principal, &name, false)
            .await?,
    ))
}
