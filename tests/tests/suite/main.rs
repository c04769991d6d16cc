//! The end-to-end suite: the example tasks driven through the `wasmtasks` binary as
//! a user would, and the sandbox library called directly. One module per topic.

mod api;
mod authoring;
mod backends;
mod bad_input;
mod bench;
mod cache;
mod capabilities;
mod cli_ux;
mod dashboard;
mod examples;
mod hostile;
mod http;
mod isolation;
mod observability;
mod postgres_queue;
mod queue_cli;
mod queue_support;
mod queue_worker;
mod quotas;
mod reliability;
mod sandbox_api;
mod signatures;
mod store_conformance;
mod tenancy_support;
mod tenant_checks;
mod tenants_cli;
mod usage;
mod worker_services;
