//! The static descriptor `#[task]` emits for each task, and the `list-tasks` /
//! `run` dispatch `#[component]` builds on it.

use crate::error_class::{MISSING_CONTEXT, TASK_NOT_FOUND};
use crate::{TaskContext, TaskDefinition, TaskError};

/// How the host's `run` call reaches one task: `(args, kwargs, context)` to JSON or error.
pub type Invoke = fn(&str, &str, Option<TaskContext>) -> Result<String, TaskError>;

/// One task of a component, as `#[task]` describes it.
#[derive(Clone, Copy, Debug)]
pub struct TaskEntry {
    /// The task's name: the function's name.
    pub name: &'static str,
    /// Builds the task's definition (the defaults declared in `#[task(...)]`).
    pub definition: fn() -> TaskDefinition,
    /// Binds the arguments, calls the function and serialises its outcome.
    pub invoke: Invoke,
}

/// The definitions of `tasks`, in order.
pub fn list(tasks: &[TaskEntry]) -> Vec<TaskDefinition> {
    tasks.iter().map(|entry| (entry.definition)()).collect()
}

/// Runs the task named `task`, or reports `wasmtasks.TaskNotFound`.
pub fn run(
    tasks: &[TaskEntry],
    task: &str,
    args: &str,
    kwargs: &str,
    context: Option<TaskContext>,
) -> Result<String, TaskError> {
    match tasks.iter().find(|entry| entry.name == task) {
        Some(entry) => (entry.invoke)(args, kwargs, context),
        None => {
            let names: Vec<&str> = tasks.iter().map(|entry| entry.name).collect();
            Err(TaskError {
                exception_class_path: TASK_NOT_FOUND.to_string(),
                message: format!("this component has no task named '{task}'"),
                detail: format!("its tasks are: {}", names.join(", ")),
            })
        }
    }
}

/// The context of a `takes_context` task, or `wasmtasks.MissingContext` if the host sent none.
pub fn require_context(task: &str, context: Option<TaskContext>) -> Result<TaskContext, TaskError> {
    context.ok_or_else(|| TaskError {
        exception_class_path: MISSING_CONTEXT.to_string(),
        message: format!("{task}() takes a context but the host passed none"),
        detail: String::new(),
    })
}
