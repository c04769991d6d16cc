//! Running a task right now, in this process: Django's `ImmediateBackend`.

use chrono::Utc;
use wasmtasks_sandbox::{
    LimitOverrides, Sandbox, SandboxError, TaskCall, TaskComponent, TaskContext,
};

use crate::task::{Arguments, AttemptRecord, TaskResult, TaskStatus};

/// The name of this backend in a TaskResult's `backend` field.
pub const BACKEND_NAME: &str = "immediate";

/// One task to run now, with the overrides Django's `Task.using()` allows.
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

/// Runs `run` once against `component` and returns its finished TaskResult.
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
    let queue_name = run
        .queue_name
        .unwrap_or_else(|| definition.queue_name.clone());
    let limits = sandbox
        .config()
        .default_limits
        .with(definition.limits)
        .with(run.limits);
    let id = uuid::Uuid::now_v7().to_string();
    let task_path = format!("{}.{}", run.component_name, run.task);
    let call = TaskCall {
        task: run.task,
        args: run.arguments.args_json(),
        kwargs: run.arguments.kwargs_json(),
        context: TaskContext {
            task_result_id: id.clone(),
            attempt: 1,
            task_path: task_path.clone(),
            queue_name: queue_name.clone(),
            priority,
        },
    };
    let enqueued_at = Utc::now();
    let report = sandbox.run(component, &call, limits).await?;
    let finished_at = Utc::now();
    let (record, return_value) =
        AttemptRecord::from_report(1, worker_id, enqueued_at, finished_at, report);
    let mut result = TaskResult {
        id,
        task_path,
        component_digest: component.digest().to_owned(),
        status: record.status,
        args: run.arguments.args,
        kwargs: run.arguments.kwargs,
        priority,
        queue_name,
        backend: BACKEND_NAME.to_owned(),
        run_after: None,
        enqueued_at,
        started_at: None,
        finished_at: Some(finished_at),
        last_attempted_at: None,
        worker_ids: Vec::new(),
        attempts: 0,
        errors: Vec::new(),
        return_value,
        attempt_log: vec![record],
    };
    result.derive_from_attempts();
    debug_assert!(matches!(
        result.status,
        TaskStatus::Successful | TaskStatus::Failed
    ));
    Ok(result)
}
