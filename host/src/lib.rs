//! wasmtasks: Django's background-task framework, rebuilt in Rust, where every
//! task runs as a sandboxed WebAssembly component.
//!
//! - [`task`]: the model, named after `django.tasks` — [`task::TaskResult`],
//!   [`task::TaskStatus`], [`task::TaskError`], task paths and arguments;
//!   [`tenant`]: who acts ([`tenant::Principal`], [`tenant::Role`]).
//! - [`service`]: the one way in — every operation, for an explicit principal.
//!   The CLI, the HTTP server and [`backend`] (Django's three backends) call it.
//! - [`worker`]: claims jobs and runs them; [`pipeline`] runs one attempt, for
//!   the worker and [`immediate`] alike.
//! - [`store`]: the SQL queue (SQLite, PostgreSQL) behind one interface.
//! - The sandbox itself is the `wasmtasks-sandbox` crate, re-exported as
//!   [`sandbox`].

#![warn(missing_docs)]

pub mod backend;
pub mod capabilities;
pub mod config;
pub mod enqueue;
pub mod immediate;
pub mod metrics;
pub mod pipeline;
pub mod quota;
pub mod rate;
pub mod registry;
pub mod retry;
pub mod schedule;
pub mod service;
pub mod signature;
pub mod store;
pub mod task;
pub mod tenant;
mod ttl_cache;
pub mod unique;
pub mod worker;
pub mod worker_id;

/// The `sqlx` wasmtasks is built with: [`backend::TaskBackend::enqueue_in`] takes its
/// connections.
pub use sqlx;
pub use wasmtasks_sandbox as sandbox;
