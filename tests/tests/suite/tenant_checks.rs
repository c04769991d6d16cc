//! The operator's check that the tenant it acts within exists, as two processes on
//! one database see it (two service layers, each on its own connections): a tenant
//! one creates is usable by the other at once; once deleted, writes within it are
//! refused at once, reads at once in the process that deleted it and within a
//! second in another (reads check through the quotas' cache).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use wasmtasks::config::Settings;
use wasmtasks::enqueue::EnqueueRequest;
use wasmtasks::registry::Registry;
use wasmtasks::sandbox::{Sandbox, SandboxConfig};
use wasmtasks::service::{ServiceError, Services};
use wasmtasks::task::{Arguments, TaskResult};
use wasmtasks::tenant::Principal;

/// A service layer on its own connections to `url`, as another process has.
async fn services(url: &str) -> Services {
    let store = wasmtasks::store::connect(url).await.unwrap();
    let sandbox = Arc::new(Sandbox::new(SandboxConfig::default()).unwrap());
    Services::new(
        Arc::new(Registry::new(store, sandbox)),
        Arc::new(Settings::default()),
    )
}

/// What reading a job that does not exist says, acting within `acme`.
async fn look(services: &Services) -> Result<TaskResult, ServiceError> {
    services
        .jobs()
        .get(&Principal::operator("acme"), "no-such-job")
        .await
}

/// What enqueueing a job says, acting within `acme`.
async fn enqueue(services: &Services) -> Result<String, ServiceError> {
    let request = EnqueueRequest::new(
        "arith.add",
        Arguments::from_values(json!([1, 2]), json!({})).unwrap(),
    );
    let outcome = services
        .jobs()
        .enqueue(&Principal::operator("acme"), request)
        .await?;
    Ok(outcome.result.id)
}

#[track_caller]
fn no_tenant<T: std::fmt::Debug>(result: Result<T, ServiceError>) {
    match result {
        Err(ServiceError::NotFound(message)) => {
            assert!(message.contains("no tenant `acme`"), "{message}")
        }
        other => panic!("expected no tenant `acme`, got {other:?}"),
    }
}

#[track_caller]
fn no_job(result: Result<TaskResult, ServiceError>) {
    match result {
        Err(ServiceError::NotFound(message)) => {
            assert!(message.contains("no task result"), "{message}")
        }
        other => panic!("expected no task result, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_see_tenants_created_and_deleted_by_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite3").display());
    let here = services(&url).await;
    let there = services(&url).await;
    let operator = Principal::operator("default");

    // Refused before it exists, and the refusal is not remembered: created by the
    // other process, it is usable here at once.
    no_tenant(look(&here).await);
    there.tenants().create(&operator, "acme").await.unwrap();
    no_job(look(&here).await);

    // Deleted by the other process: a write is refused here at once, a read once
    // a second has passed.
    there.tenants().delete(&operator, "acme").await.unwrap();
    no_tenant(enqueue(&here).await);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    no_tenant(look(&here).await);

    // Deleted by this process: refused at once.
    there.tenants().create(&operator, "acme").await.unwrap();
    no_job(look(&here).await);
    here.tenants().delete(&operator, "acme").await.unwrap();
    no_tenant(look(&here).await);
}
