//! [`TaskResult`]: the record of one enqueued job, with the same field names and
//! meanings as Django's `django.tasks.TaskResult`, plus the per-attempt log that
//! `worker_ids`, `attempts` and `errors` derive from.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use wasmtasks_sandbox::{AttemptMetrics, AttemptOutcome, AttemptReport};

use super::TaskStatus;

/// One failed attempt, as Django records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskError {
    /// Dotted class path naming the kind of error, e.g. `wasmtasks.OutOfFuel`.
    pub exception_class_path: String,
    /// Readable detail: message, wasm backtrace, tail of stderr.
    pub traceback: String,
}

/// Everything recorded about one attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttemptRecord {
    /// The attempt number, 1 for the first run.
    pub attempt: u32,
    /// The worker that ran it.
    pub worker_id: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// `SUCCESSFUL` or `FAILED`.
    pub status: TaskStatus,
    /// The error, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<TaskError>,
    /// Fuel, memory and time it took.
    #[serde(flatten)]
    pub metrics: AttemptMetrics,
    /// The guest's stdout, capped.
    pub stdout: String,
    /// The guest's stderr, capped.
    pub stderr: String,
}

impl AttemptRecord {
    /// The record of a finished attempt and the return value it produced, if any.
    pub fn from_report(
        attempt: u32,
        worker_id: &str,
        started_at: DateTime<Utc>,
        finished_at: DateTime<Utc>,
        report: AttemptReport,
    ) -> (Self, Option<Value>) {
        let (status, error, value) = match report.outcome {
            AttemptOutcome::Returned(value) => (TaskStatus::Successful, None, Some(value)),
            AttemptOutcome::Failed(failure) => (
                TaskStatus::Failed,
                Some(TaskError {
                    exception_class_path: failure.exception_class_path,
                    traceback: failure.traceback,
                }),
                None,
            ),
        };
        let record = AttemptRecord {
            attempt,
            worker_id: worker_id.to_owned(),
            started_at,
            finished_at,
            status,
            error,
            metrics: report.metrics,
            stdout: report.stdout,
            stderr: report.stderr,
        };
        (record, value)
    }
}

/// The record of one enqueued job (Django's `TaskResult`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskResult {
    /// Unique id (a UUIDv7 string).
    pub id: String,
    /// `component.task`.
    pub task_path: String,
    /// The digest of the component version the job is pinned to.
    pub component_digest: String,
    /// Where the job is in its life.
    pub status: TaskStatus,
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: Map<String, Value>,
    /// Priority, -100..=100; higher runs first.
    pub priority: i32,
    /// The queue it was enqueued on.
    pub queue_name: String,
    /// The backend that holds it: `immediate`, `dummy` or `database`.
    pub backend: String,
    /// Not to be run before this time.
    pub run_after: Option<DateTime<Utc>>,
    /// When it was enqueued.
    pub enqueued_at: DateTime<Utc>,
    /// When its first attempt started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished for good.
    pub finished_at: Option<DateTime<Utc>>,
    /// When its latest attempt started.
    pub last_attempted_at: Option<DateTime<Utc>>,
    /// The workers that ran its attempts, in order.
    pub worker_ids: Vec<String>,
    /// How many attempts have been made.
    pub attempts: u32,
    /// One error per failed attempt, in order.
    pub errors: Vec<TaskError>,
    /// What the task returned, once `SUCCESSFUL`.
    pub return_value: Option<Value>,
    /// Every attempt in full: worker, times, outcome, metrics, output.
    pub attempt_log: Vec<AttemptRecord>,
}

impl TaskResult {
    /// The result of `job` as enqueued: READY, no attempts yet.
    pub fn ready(job: &crate::store::NewJob) -> Self {
        TaskResult {
            id: job.id.clone(),
            task_path: job.task_path.clone(),
            component_digest: job.component_digest.clone(),
            status: TaskStatus::Ready,
            args: serde_json::from_str(&job.args).unwrap_or_default(),
            kwargs: serde_json::from_str(&job.kwargs).unwrap_or_default(),
            priority: job.priority,
            queue_name: job.queue_name.clone(),
            backend: job.backend.clone(),
            run_after: job.run_after,
            enqueued_at: job.enqueued_at,
            started_at: None,
            finished_at: None,
            last_attempted_at: None,
            worker_ids: Vec::new(),
            attempts: 0,
            errors: Vec::new(),
            return_value: None,
            attempt_log: Vec::new(),
        }
    }

    /// Recomputes `worker_ids`, `attempts`, `errors`, `started_at` and
    /// `last_attempted_at` from the attempt log.
    pub fn derive_from_attempts(&mut self) {
        self.worker_ids = self
            .attempt_log
            .iter()
            .map(|a| a.worker_id.clone())
            .collect();
        self.attempts = self.attempt_log.len() as u32;
        self.errors = self
            .attempt_log
            .iter()
            .filter_map(|a| a.error.clone())
            .collect();
        self.started_at = self.attempt_log.first().map(|a| a.started_at);
        self.last_attempted_at = self.attempt_log.last().map(|a| a.started_at);
    }
}
