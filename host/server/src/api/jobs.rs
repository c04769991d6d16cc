//! `/api/v1/jobs`: enqueue, results, lists, cancel, retry.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wasmtasks::enqueue::{EnqueueRequest, JobSpec};
use wasmtasks::service::ServiceError;
use wasmtasks::service::jobs::{JobFilter, JobPage};
use wasmtasks::store::{RetryOutcome, RetrySelection};
use wasmtasks::task::{TaskResult, TaskStatus};
use wasmtasks::tenant::Principal;

use super::types::{BulkEnqueue, Enqueued, JobsQuery, ResultQuery, RetryRequest};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::problem::Problem;
use crate::state::AppState;

/// The header that marks the answer to a unique job's duplicate.
pub const DUPLICATE_HEADER: &str = "x-wasmtasks-duplicate";

/// The routes of jobs.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enqueue, list))
        .routes(routes!(enqueue_many))
        .routes(routes!(validate_many))
        .routes(routes!(retry_many))
        .routes(routes!(get_result))
        .routes(routes!(cancel))
        .routes(routes!(retry))
}

/// Enqueue one job.
///
/// Validated as Django validates (the task exists, priority, queue, `run_after`)
/// and against the task's signature; a refused job is not stored. Concurrent
/// single enqueues are written together. A unique job (`unique`) whose key an
/// existing job holds is not enqueued: the answer is then 200 with the existing
/// job, and the header `X-Wasmtasks-Duplicate: true`.
#[utoipa::path(post, path = "/jobs", tag = "jobs", request_body = JobSpec,
    responses(
        (status = 201, description = "Enqueued: its READY TaskResult", body = TaskResult),
        (status = 200, description = "A duplicate of a unique job: the existing job's TaskResult",
            body = TaskResult, headers(("X-Wasmtasks-Duplicate" = String, description = "`true`"))),
        (status = 422, description = "Refused; nothing stored", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn enqueue(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(spec): ApiJson<JobSpec>,
) -> Result<Response, Problem> {
    let outcome = state
        .services
        .jobs()
        .enqueue(&principal, EnqueueRequest::from(spec))
        .await?;
    Ok(if outcome.duplicate {
        (
            StatusCode::OK,
            [(DUPLICATE_HEADER, "true")],
            Json(outcome.result),
        )
            .into_response()
    } else {
        (StatusCode::CREATED, Json(outcome.result)).into_response()
    })
}

/// Enqueue many jobs, all or nothing.
///
/// Every job is validated first; if any is refused, none is stored and the
/// problem's `errors` lists each refused one by its index.
#[utoipa::path(post, path = "/jobs/bulk", tag = "jobs", request_body = BulkEnqueue,
    responses(
        (status = 201, description = "All enqueued", body = Enqueued),
        (status = 422, description = "Some refused; nothing stored", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn enqueue_many(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(bulk): ApiJson<BulkEnqueue>,
) -> Result<(StatusCode, Json<Enqueued>), Problem> {
    let requests = bulk.jobs.into_iter().map(EnqueueRequest::from).collect();
    let outcome = state
        .services
        .jobs()
        .enqueue_many(&principal, requests)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Enqueued {
            ids: outcome.ids,
            duplicates: outcome.duplicates,
        }),
    ))
}

/// Check jobs as a bulk enqueue would, storing nothing.
///
/// Answers as `POST /jobs/bulk` would, without storing: 204 when every job would
/// be enqueued, else the same 422 problem, whose `errors` lists each refused job
/// by its index.
#[utoipa::path(post, path = "/jobs/validate", tag = "jobs", request_body = BulkEnqueue,
    responses(
        (status = 204, description = "Every job would be enqueued"),
        (status = 422, description = "Some would be refused", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn validate_many(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(bulk): ApiJson<BulkEnqueue>,
) -> Result<StatusCode, Problem> {
    let requests = bulk.jobs.into_iter().map(EnqueueRequest::from).collect();
    state
        .services
        .jobs()
        .validate_many(&principal, requests)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A job's TaskResult, optionally waiting for it to finish.
///
/// With `?wait=30s`, answers once the job is SUCCESSFUL, FAILED or CANCELLED, or
/// when the wait is over (with the job as it is then).
#[utoipa::path(get, path = "/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "The job's id"), ResultQuery),
    responses(
        (status = 200, description = "The TaskResult, with Django's fields", body = TaskResult),
        (status = 404, description = "No such job (or another tenant's)", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn get_result(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ResultQuery>,
) -> Result<Json<TaskResult>, Problem> {
    let jobs = state.services.jobs();
    let result = match query.wait {
        None => jobs.get(&principal, &id).await?,
        Some(wait) => {
            let timeout = humantime::parse_duration(&wait).map_err(|error| {
                Problem::invalid(format!(
                    "wait `{wait}` is not a duration like 30s or 500ms: {error}"
                ))
            })?;
            jobs.wait(&principal, &id, timeout).await?
        }
    };
    Ok(Json(result))
}

/// The tenant's jobs, newest first, a page at a time.
#[utoipa::path(get, path = "/jobs", tag = "jobs", params(JobsQuery),
    responses(
        (status = 200, description = "A page of jobs", body = JobPage),
        (status = 422, description = "A filter is invalid", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiQuery(query): ApiQuery<JobsQuery>,
) -> Result<Json<JobPage>, Problem> {
    let statuses = match &query.status {
        None => Vec::new(),
        Some(text) => text
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|status| parse_status(status.trim()))
            .collect::<Result<_, _>>()?,
    };
    let filter = JobFilter {
        statuses,
        queue_name: query.queue,
        task: query.task,
        since: query.since,
        until: query.until,
        cursor: query.cursor,
        limit: query.limit,
    };
    Ok(Json(state.services.jobs().list(&principal, filter).await?))
}

/// A status by its name, in any case (`failed`, `FAILED`).
pub(crate) fn parse_status(text: &str) -> Result<TaskStatus, Problem> {
    serde_json::from_value(serde_json::Value::String(text.to_ascii_uppercase())).map_err(|_| {
        Problem::invalid(format!(
            "unknown status `{text}`: use READY, RUNNING, SUCCESSFUL, FAILED or CANCELLED"
        ))
    })
}

/// Cancel a READY job.
#[utoipa::path(post, path = "/jobs/{id}/cancel", tag = "jobs",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "Cancelled: its TaskResult", body = TaskResult),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job is not READY", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn cancel(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TaskResult>, Problem> {
    Ok(Json(state.services.jobs().cancel(&principal, &id).await?))
}

/// Put a FAILED or CANCELLED job back to READY.
///
/// Its attempts are kept; it gets a fresh budget of `max_attempts`.
#[utoipa::path(post, path = "/jobs/{id}/retry", tag = "jobs",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "Back to READY: its TaskResult", body = TaskResult),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job is not FAILED or CANCELLED, or its component version was deleted", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn retry(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TaskResult>, Problem> {
    retry_one(&state, &principal, &id).await?;
    Ok(Json(state.services.jobs().get(&principal, &id).await?))
}

/// Puts one FAILED or CANCELLED job back to READY; an unknown job is not found,
/// one in another status a conflict.
pub(crate) async fn retry_one(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<(), ServiceError> {
    let outcome = state
        .services
        .jobs()
        .retry(principal, RetrySelection::Ids(vec![id.to_owned()]))
        .await?
        .into_iter()
        .next()
        .unwrap_or(RetryOutcome::NotFound { id: id.to_owned() });
    match (&outcome, outcome.refusal()) {
        (RetryOutcome::Retried { .. }, _) => Ok(()),
        (RetryOutcome::NotFound { .. }, refusal) => {
            Err(ServiceError::NotFound(refusal.unwrap_or_default()))
        }
        (_, refusal) => Err(ServiceError::Conflict(refusal.unwrap_or_default())),
    }
}

/// Put many jobs back to READY: by id, or every FAILED job (of a task).
#[utoipa::path(post, path = "/jobs/retry", tag = "jobs", request_body = RetryRequest,
    responses(
        (status = 200, description = "What happened to each job", body = Vec<RetryOutcome>),
        (status = 422, description = "Neither ids nor all_failed", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn retry_many(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(request): ApiJson<RetryRequest>,
) -> Result<Json<Vec<RetryOutcome>>, Problem> {
    let selection = match (request.all_failed, request.ids.is_empty()) {
        (true, true) => {
            let (component, task_name) =
                wasmtasks::service::jobs::task_filter(request.task.as_deref())?;
            RetrySelection::Failed {
                component,
                task_name,
            }
        }
        (false, false) if request.task.is_none() => RetrySelection::Ids(request.ids),
        _ => {
            return Err(Problem::invalid(
                "give either `ids`, or `all_failed: true` with an optional `task`",
            ));
        }
    };
    Ok(Json(
        state.services.jobs().retry(&principal, selection).await?,
    ))
}
