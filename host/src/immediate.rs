//! Running a task right now, in this process: Django's `ImmediateBackend`, and
//! `wasmtasks run` on a component file.

use chrono::Utc;
use wasmtasks_sandbox::{
    Capabilities, LimitOverrides, Limits, Sandbox, SandboxError, TaskComponent,
};

use crate::store::{ClaimedJob, NewJob};
use crate::task::{Arguments, AttemptRecord, TaskResult};

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
    pub arguments: Arguments,
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
    component: &TaskComponent,
    run: ImmediateRun,
    worker_id: &str,
) -> Result<TaskResult, ImmediateError> {
    let definition = component.task(&run.task)?;
    let priority = run.priority.unwrap_or(definition.priority);
    if !(wasmtasks_sandbox::MIN_PRIORITY..=wasmtasks_sandbox::MAX_PRIORITY).contains(&priority) {
        return Err(ImmediateError::Priority(priority));
    }
    let job = NewJob {
        id: uuid::Uuid::now_v7().to_string(),
        tenant: crate::config::DEFAULT_TENANT.to_owned(),
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
        max_attempts: 1,
        backoff_factor: 1.0,
        limits: run.limits.or(definition.limits),
    };
    let base = sandbox.config().default_limits;
    Ok(run_job(sandbox, component, job, base, run.capabilities, worker_id).await?)
}

/// Runs a prepared job once, now, and returns its finished TaskResult.
pub async fn run_job(
    sandbox: &Sandbox,
    component: &TaskComponent,
    job: NewJob,
    base_limits: Limits,
    capabilities: Capabilities,
    worker_id: &str,
) -> Result<TaskResult, SandboxError> {
    let call = ClaimedJob::first_attempt(&job).task_call(capabilities);
    let enqueued_at = Utc::now();
    let report = sandbox
        .run(component, &call, base_limits.with(job.limits))
        .await?;
    let finished_at = Utc::now();
    let (record, return_value) =
        AttemptRecord::from_report(1, worker_id, enqueued_at, finished_at, report);
    let mut result = TaskResult::ready(&job, enqueued_at);
    result.status = record.status;
    result.finished_at = Some(finished_at);
    result.return_value = return_value;
    result.attempt_log = vec![record];
    result.derive_from_attempts();
    Ok(result)
}
