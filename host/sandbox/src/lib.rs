//! The wasmtasks sandbox: every attempt of every task runs here.
//!
//! A [`Sandbox`] owns one wasmtime engine for the process, with the pooling
//! allocator, fuel metering and epoch interruption. [`Sandbox::load`] validates a
//! component (a component, of the wasmtasks world, with tasks that follow the
//! rules), compiles it once (cached on disk by digest when
//! [`SandboxConfig::cache_dir`] is set) and keeps it pre-instantiated as a
//! [`TaskComponent`]. [`Sandbox::run`] runs one [`TaskCall`] in a fresh instance
//! within [`Limits`] and returns an [`AttemptReport`]: the return value or a
//! [`TaskFailure`] with a documented class (see [`failure`]), the fuel, memory and
//! time it took, and its captured output.
//!
//! Guests get WASI clocks, random and captured stdout/stderr; no filesystem, no
//! environment, no sockets. What the operator grants a component (its
//! configuration values and secrets, the HTTP origins it may reach through
//! `wasi:http`) travels with each call as [`Capabilities`].

#![warn(missing_docs)]

mod attempt;
mod cache;
mod capabilities;
mod component;
mod config;
mod contract;
mod engine;
mod epoch;
mod error;
pub mod failure;
mod http;
pub mod int64;
mod limits;
mod loaded;
pub mod numbers;
mod output;
mod redact;
mod signature;

pub use attempt::{AttemptMetrics, AttemptOutcome, AttemptReport, TaskCall, TaskContext};
pub use cache::CacheStatus;
pub use capabilities::{Capabilities, ConfigValue, REDACTED};
pub use component::{
    MAX_PRIORITY, MIN_PRIORITY, RetryPolicy, TaskComponent, TaskDefinition, digest, is_valid_name,
};
pub use config::{DEFAULT_KEEP_RESIDENT_BYTES, DEFAULT_MAX_LOADED_BYTES, SandboxConfig};
pub use engine::Sandbox;
pub use error::SandboxError;
pub use failure::TaskFailure;
pub use http::{HttpLimits, OriginPattern, OriginPatternError};
pub use limits::{
    DEFAULT_FUEL, DEFAULT_MEMORY_BYTES, DEFAULT_TIMEOUT, LimitOverrides, Limits,
    MemoryLimitExceeded,
};
pub use output::DEFAULT_OUTPUT_CAP;
pub use signature::{ParamSpec, Signature, python_type};
