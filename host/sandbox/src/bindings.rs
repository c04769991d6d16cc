//! Host bindings generated from the WIT contract in `guest-sdk/wit/`.
//!
//! The contract's one import, `config`, is answered from the attempt's
//! [`Capabilities`](crate::Capabilities); both of its exports are called
//! asynchronously so that an attempt's deadline can cancel a guest that is blocked
//! in a host call, not only one that is spinning.

wasmtime::component::bindgen!({
    path: "../../guest-sdk/wit",
    world: "task-component",
    exports: { default: async },
});

pub use wasmtasks::task::types::{
    TaskContext as WitTaskContext, TaskDefinition as WitTaskDefinition, TaskError as WitTaskError,
};

/// The fully qualified name of the export every task component must provide.
pub const TASKS_EXPORT: &str = "wasmtasks:task/tasks@0.1.0";
