//! The contracts a task component may be built against, as host bindings
//! generated from their WIT (`wasmtime::component::bindgen!`):
//!
//! - `wasmtasks:task@0.2.0` (`guest-sdk/wit/`, the current one): the component
//!   names itself, each task records its signature, and the SDK's own refusals
//!   come back as variants of `run-error`, apart from the task's own errors;
//! - `wasmtasks:task@0.1.0` (`wit/v0.1.0/`, frozen): components built with SDK
//!   0.1, which have no name and no signatures; they still run unchanged.
//!
//! [`ComponentPre`] hides which one a component speaks: both describe their
//! tasks as [`Declared`] and end a run as a value or a [`GuestError`]. Both
//! contracts' `config` import is answered from the attempt's capabilities, and
//! both exports are called asynchronously so that an attempt's deadline can cancel
//! a guest blocked in a host call, not only one that is spinning.

use wasmtime::Store;
use wasmtime::component::{Component, HasSelf, Linker};

use crate::attempt::TaskContext;
use crate::engine::AttemptState;
use crate::error::{SandboxError, describe};

mod v1 {
    wasmtime::component::bindgen!({
        path: "wit/v0.1.0",
        world: "task-component",
        exports: { default: async },
    });
}

mod v2 {
    wasmtime::component::bindgen!({
        path: "../../guest-sdk/wit",
        world: "task-component",
        exports: { default: async },
    });
}

/// The export every 0.2.0 component provides.
const TASKS_EXPORT_V2: &str = "wasmtasks:task/tasks@0.2.0";
/// The export every 0.1.0 component provides.
const TASKS_EXPORT_V1: &str = "wasmtasks:task/tasks@0.1.0";

/// The classes of the SDK's own refusals (0.2.0 `run-error` variants).
pub(crate) mod sdk_class {
    /// The arguments do not fit the task's parameters.
    pub const INVALID_ARGUMENTS: &str = "wasmtasks.InvalidArguments";
    /// The component has no task of that name.
    pub const TASK_NOT_FOUND: &str = "wasmtasks.TaskNotFound";
    /// The return value could not be turned into JSON by the guest.
    pub const INVALID_RETURN_VALUE: &str = "wasmtasks.InvalidReturnValue";
    /// A `takes_context` task was run without a context.
    pub const MISSING_CONTEXT: &str = "wasmtasks.MissingContext";
}

impl v1::wasmtasks::task::config::Host for AttemptState {
    fn get(&mut self, key: String) -> Option<String> {
        self.capabilities.config(&key).map(str::to_owned)
    }
}

impl v2::wasmtasks::task::config::Host for AttemptState {
    fn get(&mut self, key: String) -> Option<String> {
        self.capabilities.config(&key).map(str::to_owned)
    }
}

/// Answers both contracts' `config` import from the attempt's capabilities.
pub(crate) fn add_to_linker(linker: &mut Linker<AttemptState>) -> Result<(), SandboxError> {
    v1::wasmtasks::task::config::add_to_linker::<_, HasSelf<_>>(linker, |state| state)
        .map_err(|e| SandboxError::Engine(describe(&e)))?;
    v2::wasmtasks::task::config::add_to_linker::<_, HasSelf<_>>(linker, |state| state)
        .map_err(|e| SandboxError::Engine(describe(&e)))
}

/// One parameter as declared: `(name, required, schema)`, the schema as JSON text.
pub(crate) type DeclaredParam = (String, bool, String);

/// A signature as declared: its parameters and the return schema as JSON text.
pub(crate) type DeclaredSignature = (Vec<DeclaredParam>, String);

/// One task as a component declares it, in either contract, before validation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Declared {
    pub name: String,
    pub priority: i32,
    pub queue_name: String,
    pub takes_context: bool,
    pub max_attempts: Option<u32>,
    pub backoff_factor: Option<f64>,
    pub fuel: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub memory_bytes: Option<u64>,
    /// The signature; `None` for a 0.1.0 component.
    pub signature: Option<DeclaredSignature>,
}

/// What a component says about itself: its name (0.2.0 only) and its tasks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Description {
    pub name: Option<String>,
    pub tasks: Vec<Declared>,
}

/// Why a run returned no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GuestError {
    /// The task's own error: its class, message and detail, as the guest chose them.
    Task {
        class: String,
        message: String,
        detail: String,
    },
    /// A refusal of the SDK, with the host's class for it.
    Sdk {
        class: &'static str,
        message: String,
    },
}

/// A component linked and pre-instantiated, in the contract it speaks.
pub(crate) enum ComponentPre {
    V1(v1::TaskComponentPre<AttemptState>),
    V2(v2::TaskComponentPre<AttemptState>),
}

impl ComponentPre {
    /// Links `component`, after checking it exports one of the contracts.
    pub(crate) fn link(
        linker: &Linker<AttemptState>,
        component: &Component,
    ) -> Result<Self, SandboxError> {
        let engine = linker.engine();
        let exports: Vec<String> = component
            .component_type()
            .exports(engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let has = |export: &str| exports.iter().any(|name| name == export);
        let expected = TASKS_EXPORT_V2;
        let export = if has(TASKS_EXPORT_V2) {
            TASKS_EXPORT_V2
        } else if has(TASKS_EXPORT_V1) {
            TASKS_EXPORT_V1
        } else {
            return Err(SandboxError::WrongWorld {
                expected,
                found: if exports.is_empty() {
                    "nothing".into()
                } else {
                    exports.join(", ")
                },
            });
        };
        let pre = linker
            .instantiate_pre(component)
            .map_err(|e| SandboxError::UnsupportedImports(describe(&e)))?;
        let incompatible = |e: wasmtime::Error| SandboxError::WrongWorld {
            expected,
            found: format!("an incompatible `{export}` ({})", describe(&e)),
        };
        Ok(if export == TASKS_EXPORT_V2 {
            ComponentPre::V2(v2::TaskComponentPre::new(pre).map_err(incompatible)?)
        } else {
            ComponentPre::V1(v1::TaskComponentPre::new(pre).map_err(incompatible)?)
        })
    }

    /// The contract's version, `0.2.0` or `0.1.0`.
    pub(crate) fn version(&self) -> &'static str {
        match self {
            ComponentPre::V1(_) => "0.1.0",
            ComponentPre::V2(_) => "0.2.0",
        }
    }

    /// Instantiates the component in `store` and asks for its description.
    pub(crate) async fn describe(
        &self,
        store: &mut Store<AttemptState>,
    ) -> wasmtime::Result<Description> {
        match self {
            ComponentPre::V1(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                let tasks = instance
                    .wasmtasks_task_tasks()
                    .call_list_tasks(&mut *store)
                    .await?;
                Ok(Description {
                    name: None,
                    tasks: tasks.into_iter().map(declared_v1).collect(),
                })
            }
            ComponentPre::V2(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                let description = instance
                    .wasmtasks_task_tasks()
                    .call_describe(&mut *store)
                    .await?;
                Ok(Description {
                    name: Some(description.name),
                    tasks: description.tasks.into_iter().map(declared_v2).collect(),
                })
            }
        }
    }

    /// Instantiates the component in `store` and runs `task`.
    pub(crate) async fn run(
        &self,
        store: &mut Store<AttemptState>,
        task: &str,
        args: &str,
        kwargs: &str,
        context: Option<&TaskContext>,
    ) -> wasmtime::Result<Result<String, GuestError>> {
        match self {
            ComponentPre::V1(pre) => {
                use v1::wasmtasks::task::types::TaskContext as Context;
                let context = context.map(|c| Context {
                    task_result_id: c.task_result_id.clone(),
                    attempt: c.attempt,
                    task_path: c.task_path.clone(),
                    queue_name: c.queue_name.clone(),
                    priority: c.priority,
                });
                let instance = pre.instantiate_async(&mut *store).await?;
                let result = instance
                    .wasmtasks_task_tasks()
                    .call_run(&mut *store, task, args, kwargs, context.as_ref())
                    .await?;
                // SDK 0.1 reported its own refusals as task errors of the host's
                // classes; they are kept as they are.
                Ok(result.map_err(|error| GuestError::Task {
                    class: error.exception_class_path,
                    message: error.message,
                    detail: error.detail,
                }))
            }
            ComponentPre::V2(pre) => {
                use v2::wasmtasks::task::types::{RunError, TaskContext as Context};
                let context = context.map(|c| Context {
                    task_result_id: c.task_result_id.clone(),
                    attempt: c.attempt,
                    task_path: c.task_path.clone(),
                    queue_name: c.queue_name.clone(),
                    priority: c.priority,
                });
                let instance = pre.instantiate_async(&mut *store).await?;
                let result = instance
                    .wasmtasks_task_tasks()
                    .call_run(&mut *store, task, args, kwargs, context.as_ref())
                    .await?;
                let sdk = |class, message| GuestError::Sdk { class, message };
                Ok(result.map_err(|error| match error {
                    RunError::Failed(error) => GuestError::Task {
                        class: error.exception_class_path,
                        message: error.message,
                        detail: error.detail,
                    },
                    RunError::InvalidArguments(m) => sdk(sdk_class::INVALID_ARGUMENTS, m),
                    RunError::TaskNotFound(m) => sdk(sdk_class::TASK_NOT_FOUND, m),
                    RunError::InvalidReturnValue(m) => sdk(sdk_class::INVALID_RETURN_VALUE, m),
                    RunError::MissingContext(m) => sdk(sdk_class::MISSING_CONTEXT, m),
                }))
            }
        }
    }
}

fn declared_v1(wit: v1::wasmtasks::task::types::TaskDefinition) -> Declared {
    Declared {
        name: wit.name,
        priority: wit.priority,
        queue_name: wit.queue_name,
        takes_context: wit.takes_context,
        max_attempts: wit.retry.max_attempts,
        backoff_factor: wit.retry.backoff_factor,
        fuel: wit.limits.fuel,
        timeout_ms: wit.limits.timeout_ms,
        memory_bytes: wit.limits.memory_bytes,
        signature: None,
    }
}

fn declared_v2(wit: v2::wasmtasks::task::types::TaskDefinition) -> Declared {
    let params = wit
        .params
        .into_iter()
        .map(|param| (param.name, param.required, param.schema))
        .collect();
    Declared {
        name: wit.name,
        priority: wit.priority,
        queue_name: wit.queue_name,
        takes_context: wit.takes_context,
        max_attempts: wit.retry.max_attempts,
        backoff_factor: wit.retry.backoff_factor,
        fuel: wit.limits.fuel,
        timeout_ms: wit.limits.timeout_ms,
        memory_bytes: wit.limits.memory_bytes,
        signature: Some((params, wit.returns)),
    }
}
