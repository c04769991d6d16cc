//! `/jobs/{id}`: one job's TaskResult in full: arguments, return value, and every
//! attempt with its worker, times, fuel, memory, error, traceback and output (as
//! the services give them: secrets redacted). Refreshes itself until it finishes.
//! Another tenant's id is a 404, as an unknown one.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use wasmtasks::task::{AttemptRecord, TaskResult, TaskStatus};

use super::page::{Layout, PageError, bytes, maybe_time, render, time};
use super::session::Session;
use crate::state::AppState;

/// One attempt, as shown.
struct AttemptView {
    number: u32,
    status: String,
    worker_id: String,
    started_at: String,
    finished_at: String,
    duration: String,
    fuel: String,
    peak_memory: String,
    http_requests: u64,
    error_class: Option<String>,
    traceback: Option<String>,
    stdout: String,
    stderr: String,
}

impl From<AttemptRecord> for AttemptView {
    fn from(attempt: AttemptRecord) -> Self {
        let (error_class, traceback) = match attempt.error {
            Some(error) => (Some(error.exception_class_path), Some(error.traceback)),
            None => (None, None),
        };
        AttemptView {
            number: attempt.attempt,
            status: attempt.status.to_string(),
            worker_id: attempt.worker_id,
            started_at: format!("{} UTC", time(attempt.started_at)),
            finished_at: format!("{} UTC", time(attempt.finished_at)),
            duration: format!("{:.3} ms", attempt.metrics.duration_us as f64 / 1000.0),
            fuel: attempt.metrics.fuel_consumed.to_string(),
            peak_memory: bytes(attempt.metrics.peak_memory_bytes),
            http_requests: attempt.metrics.http_requests,
            error_class,
            traceback,
            stdout: attempt.stdout,
            stderr: attempt.stderr,
        }
    }
}

/// The job page.
#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    layout: Layout,
    job: TaskResult,
    finished: bool,
    can_cancel: bool,
    can_retry: bool,
    self_url: String,
    times: Vec<(&'static str, String)>,
    args: String,
    kwargs: String,
    return_value: Option<String>,
    attempts: Vec<AttemptView>,
}

/// JSON as people read it.
fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// `GET /jobs/{id}`.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let mut job = state.services.jobs().get(&session.principal, &id).await?;
    let times = vec![
        ("Run after", maybe_time(job.run_after)),
        ("Enqueued", time(job.enqueued_at)),
        ("Started", maybe_time(job.started_at)),
        ("Last attempted", maybe_time(job.last_attempted_at)),
        ("Finished", maybe_time(job.finished_at)),
    ]
    .into_iter()
    .map(|(name, value)| {
        (
            name,
            if value == "—" {
                value
            } else {
                format!("{value} UTC")
            },
        )
    })
    .collect();
    let attempts = std::mem::take(&mut job.attempt_log)
        .into_iter()
        .map(AttemptView::from)
        .collect();
    let here = format!("/jobs/{}", job.id);
    let layout = Layout::new(&state, &session, "jobs", here.clone()).await?;
    Ok(render(&JobPage {
        finished: job.status.is_finished(),
        can_cancel: job.status == TaskStatus::Ready,
        can_retry: matches!(job.status, TaskStatus::Failed | TaskStatus::Cancelled),
        self_url: format!("{here}{}", layout.tq),
        times,
        args: pretty(&job.args),
        kwargs: pretty(&job.kwargs),
        return_value: job.return_value.as_ref().map(pretty),
        attempts,
        job,
        layout,
    }))
}
