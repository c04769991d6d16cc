//! Errors of the sandbox's own operations: loading, validating and compiling
//! components, and calling them with arguments that cannot be run. A task that
//! runs and fails is not an error here; it is an [`crate::AttemptOutcome::Failed`].

use std::path::PathBuf;

use crate::failure::TaskFailure;

/// What went wrong before a task could run.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The bytes are not WebAssembly at all.
    #[error("not a WebAssembly file: it does not start with the `\\0asm` magic bytes")]
    NotWasm,
    /// The bytes are a core module, not a component.
    #[error(
        "this is a core WebAssembly module, not a component: build the task crate for \
         `wasm32-wasip2` with the wasmtasks guest SDK"
    )]
    CoreModule,
    /// The binary could not be parsed or compiled.
    #[error("invalid component: {0}")]
    Invalid(String),
    /// The component does not export the wasmtasks contract.
    #[error(
        "component of another world: it does not export `{expected}` (nor the older \
         `wasmtasks:task/tasks@0.1.0`; it exports: {found}); build it with the wasmtasks guest SDK"
    )]
    WrongWorld {
        /// The export that was looked for.
        expected: &'static str,
        /// What the component exports instead, comma-separated.
        found: String,
    },
    /// The component imports something the sandbox does not provide.
    #[error("component needs imports the sandbox does not grant: {0}")]
    UnsupportedImports(String),
    /// The component's declared tasks break a rule.
    #[error("component declares an invalid task: {0}")]
    InvalidDefinition(String),
    /// Listing the component's tasks failed inside the guest.
    #[error("the component failed while listing its tasks: {}: {}", .0.exception_class_path, .0.message)]
    ListingFailed(Box<TaskFailure>),
    /// The caller asked for a task the component does not export.
    #[error("component has no task `{task}`; its tasks are: {available}")]
    UnknownTask {
        /// The name asked for.
        task: String,
        /// The tasks it has, comma-separated.
        available: String,
    },
    /// The caller asked for limits above the sandbox's configured maximum.
    #[error("{what} of {requested} is above this sandbox's maximum of {maximum}")]
    LimitTooHigh {
        /// Which limit.
        what: &'static str,
        /// The requested value, formatted.
        requested: String,
        /// The configured maximum, formatted.
        maximum: String,
    },
    /// The engine could not be configured.
    #[error("cannot configure the wasm engine: {0}")]
    Engine(String),
    /// Reading a component file failed.
    #[error("cannot read {path}: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause (its message is part of this one's).
        cause: std::io::Error,
    },
    /// The on-disk compile cache could not be used for writing.
    #[error("compile cache at {path}: {cause}")]
    Cache {
        /// The cache directory or entry.
        path: PathBuf,
        /// The cause (its message is part of this one's).
        cause: std::io::Error,
    },
    /// Limits that cannot run anything.
    #[error("invalid limits: {0}")]
    InvalidLimits(String),
}

/// Renders a wasmtime error with its chain of causes on one line.
pub(crate) fn describe(error: &wasmtime::Error) -> String {
    error
        .chain()
        .map(|cause| cause.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}
