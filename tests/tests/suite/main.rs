//! The end-to-end suite: the example tasks driven through the `wasmtasks` binary as
//! a user would, and the sandbox library called directly. One module per topic.

mod backends;
mod bad_input;
mod cache;
mod capabilities;
mod examples;
mod hostile;
mod http;
mod postgres_queue;
mod queue_cli;
mod queue_support;
mod queue_worker;
mod sandbox_api;
mod store_conformance;
