//! wasmtasks: Django's background-task framework, rebuilt in Rust, where every
//! task runs as a sandboxed WebAssembly component.
//!
//! - [`task`]: the model, named after `django.tasks` — [`task::TaskResult`],
//!   [`task::TaskStatus`], [`task::TaskError`], task paths and arguments.
//! - [`immediate`]: run a task now, in process (Django's `ImmediateBackend`).
//! - The sandbox itself is the `wasmtasks-sandbox` crate, re-exported as
//!   [`sandbox`].

#![warn(missing_docs)]

pub mod backend;
pub mod capabilities;
pub mod config;
pub mod enqueue;
pub mod immediate;
pub mod registry;
pub mod retry;
pub mod store;
pub mod task;
pub mod worker;
pub mod worker_id;

/// The `sqlx` wasmtasks is built with: [`backend::TaskBackend::enqueue_in`] takes its
/// connections.
pub use sqlx;
pub use wasmtasks_sandbox as sandbox;
