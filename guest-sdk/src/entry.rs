//! The static descriptor `#[task]` emits for each task, and the `describe` /
//! `run` dispatch `#[component]` builds on it.

use crate::{ComponentDescription, RunError, TaskContext, TaskDefinition};

/// How the host's `run` call reaches one task: `(args, kwargs, context)` to JSON or error.
pub type Invoke = fn(&str, &str, Option<TaskContext>) -> Result<String, RunError>;

/// One task of a component, as `#[task]` describes it.
#[derive(Clone, Copy, Debug)]
pub struct TaskEntry {
    /// The task's name: the function's name.
    pub name: &'static str,
    /// Builds the task's definition (the defaults declared in `#[task(...)]` and
    /// the signature).
    pub definition: fn() -> TaskDefinition,
    /// Binds the arguments, calls the function and serialises its outcome.
    pub invoke: Invoke,
}

/// The description of a component called `name` made of `tasks`, in order.
pub fn describe(name: &str, tasks: &[TaskEntry]) -> ComponentDescription {
    ComponentDescription {
        name: name.to_owned(),
        tasks: tasks.iter().map(|entry| (entry.definition)()).collect(),
    }
}

/// Runs the task named `task`, or reports that there is none.
pub fn run(
    tasks: &[TaskEntry],
    task: &str,
    args: &str,
    kwargs: &str,
    context: Option<TaskContext>,
) -> Result<String, RunError> {
    match tasks.iter().find(|entry| entry.name == task) {
        Some(entry) => (entry.invoke)(args, kwargs, context),
        None => {
            let names: Vec<&str> = tasks.iter().map(|entry| entry.name).collect();
            Err(RunError::TaskNotFound(format!(
                "this component has no task named '{task}'; its tasks are: {}",
                names.join(", ")
            )))
        }
    }
}

/// The context of a `takes_context` task, or a refusal if the host sent none.
pub fn require_context(task: &str, context: Option<TaskContext>) -> Result<TaskContext, RunError> {
    context.ok_or_else(|| {
        RunError::MissingContext(format!("{task}() takes a context but the host passed none"))
    })
}
