//! One attempt, from a job to what the job becomes: run it in a fresh sandbox
//! instance within its limits (or record why it could not start), keep the
//! attempt's record, and decide by the job's retry policy whether it succeeded,
//! goes back to READY or failed for good. The worker and the immediate backend
//! (and `wasmtasks run`) run every attempt through here; they differ only in how
//! they find the component and its capabilities.

use std::sync::Arc;

use chrono::Utc;
use wasmtasks_sandbox::{
    AttemptMetrics, AttemptOutcome, AttemptReport, Capabilities, Limits, Sandbox, TaskComponent,
    TaskFailure,
};

use crate::retry::after_failure;
use crate::store::{ClaimedJob, Completion, NextState};
use crate::task::{AttemptRecord, TaskStatus};

/// The class of an attempt that could not start: its component or its
/// configuration could not be loaded, or its limits are above this worker's maximum.
pub const WORKER_ERROR: &str = "wasmtasks.WorkerError";

/// What an attempt runs with: the loaded component and its capabilities, or why
/// they could not be had.
pub type Prepared = Result<(Arc<TaskComponent>, Capabilities), String>;

/// Runs one attempt of `job` and returns the completion to record.
pub async fn run(
    sandbox: &Sandbox,
    prepared: Prepared,
    base_limits: Limits,
    job: ClaimedJob,
    worker_id: &str,
) -> Completion {
    let started_at = Utc::now();
    let report = match prepared {
        Ok((component, capabilities)) => {
            let call = job.task_call(capabilities);
            match sandbox
                .run(
                    &component,
                    &call,
                    base_limits.with(job.limits).within(job.ceilings),
                )
                .await
            {
                Ok(report) => report,
                Err(error) => not_started(error.to_string()),
            }
        }
        Err(message) => not_started(message),
    };
    let finished_at = Utc::now();
    let (record, return_value) =
        AttemptRecord::from_report(job.attempt, worker_id, started_at, finished_at, report);
    let next = match (&record.status, return_value) {
        (TaskStatus::Successful, Some(value)) => NextState::Successful(value),
        _ => {
            let class = record
                .error
                .as_ref()
                .map_or(WORKER_ERROR, |e| e.exception_class_path.as_str());
            after_failure(
                class,
                job.attempt,
                job.max_attempts,
                job.backoff_factor,
                job.max_backoff,
            )
        }
    };
    Completion {
        id: job.id,
        worker_id: worker_id.to_owned(),
        next,
        record,
        only_if_expired: false,
    }
}

/// The report of an attempt that could not start.
fn not_started(message: String) -> AttemptReport {
    AttemptReport {
        outcome: AttemptOutcome::Failed(TaskFailure {
            exception_class_path: WORKER_ERROR.to_owned(),
            traceback: format!("{WORKER_ERROR}: {message}\n"),
            message,
        }),
        metrics: AttemptMetrics::default(),
        stdout: String::new(),
        stderr: String::new(),
    }
}
