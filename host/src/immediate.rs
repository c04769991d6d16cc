//! Running a task right now, in this process: Django's `ImmediateBackend`, and
//! `wasmtasks run` on a component file. The attempt goes through the same
//! [`crate::pipeline`] as a worker's; it is the only attempt (no retry).

use std::sync::Arc;

use wasmtasks_sandbox::{
    Capabilities, LimitOverrides, Limits, MAX_PRIORITY, MIN_PRIORITY, Sandbox, SandboxError,
    TaskComponent,
};

use crate::pipeline;
use crate::store::{ClaimedJob, NewJob, NextState};
use crate::task::{TaskResult, TaskStatus};
use crate::tenant::DEFAULT_TENANT;

/// The name of this backend in a TaskResult's `backend` field.
pub const BACKEND_NAME: &str = "immediate";

/// One task of a component file to run now, with the overrides Django's
/// `Task.using()` allows.
#[derive(Debug, Clone)]
pub struct ImmediateRun {
    /// The component's name (first half of the task path).
    pub component_name: String,
    /// The task's name within the component.
    pub task: String,
    /// Its arguments.
    pub arguments: crate::task::Arguments,
    /// A priority other than the task's default.
    pub priority: Option<i32>,
    /// A queue other than the task's default.
    pub queue_name: Option<String>,
    /// Limits other than the task's and the sandbox's defaults.
    pub limits: LimitOverrides,
    /// What the operator grants the component (configuration values, secrets).
    pub capabilities: Capabilities,
}

/// A request that cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ImmediateError {
    /// The sandbox refused it (unknown task, limits too high).
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The priority is outside Django's range.
    #[error("priority {0} is outside -100..=100")]
    Priority(i32),
}

/// Runs `run` once against a component loaded from a file.
pub async fn run_immediately(
    sandbox: &Sandbox,
    component: Arc<TaskComponent>,
    run: ImmediateRun,
    worker_id: &str,
) -> Result<TaskResult, ImmediateError> {
    let definition = component.task(&run.task)?;
    let priority = run.priority.unwrap_or(definition.priority);
    if !(MIN_PRIORITY..=MAX_PRIORITY).contains(&priority) {
        return Err(ImmediateError::Priority(priority));
    }
    let job = NewJob {
        id: uuid::Uuid::now_v7().to_string(),
        tenant: DEFAULT_TENANT.to_owned(),
        task_path: format!("{}.{}", run.component_name, run.task),
        component: run.component_name,
        task_name: run.task,
        component_digest: component.digest().to_owned(),
        args: run.arguments.args_json(),
        kwargs: run.arguments.kwargs_json(),
        priority,
        queue_name: run
            .queue_name
            .unwrap_or_else(|| definition.queue_name.clone()),
        backend: BACKEND_NAME.to_owned(),
        takes_context: definition.takes_context,
        run_after: None,
        enqueued_at: crate::store::now_micros(),
        max_attempts: 1,
        backoff_factor: 1.0,
        max_backoff: std::time::Duration::ZERO,
        limits: run.limits.or(definition.limits),
        unique_key: None,
        unique_states: 0,
    };
    let base = sandbox.config().default_limits;
    sandbox.config().check_limits(&base.with(job.limits))?;
    Ok(run_job(
        sandbox,
        Ok((component, run.capabilities)),
        job,
        base,
        worker_id,
    )
    .await)
}

/// Runs a prepared job once, now, and returns its finished TaskResult.
pub async fn run_job(
    sandbox: &Sandbox,
    prepared: pipeline::Prepared,
    job: NewJob,
    base_limits: Limits,
    worker_id: &str,
) -> TaskResult {
    let mut result = TaskResult::ready(&job);
    let completion = pipeline::run(
        sandbox,
        prepared,
        base_limits,
        ClaimedJob::first_attempt(&job),
        worker_id,
    )
    .await;
    result.status = completion.record.status;
    result.finished_at = Some(completion.record.finished_at);
    if let NextState::Successful(value) = completion.next {
        result.return_value = Some(value);
    }
    if result.status != TaskStatus::Successful {
        result.return_value = None;
    }
    result.attempt_log = vec![completion.record];
    result.derive_from_attempts();
    result
}
