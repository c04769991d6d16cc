//! The end-to-end suite: the example tasks driven through the `wasmtasks` binary as
//! a user would, and the sandbox library called directly. One module per topic.

mod bad_input;
mod cache;
mod examples;
mod hostile;
mod sandbox_api;
mod store_conformance;
mod backends;
mod queue_cli;
mod queue_support;
mod queue_worker;
mod postgres_queue;
