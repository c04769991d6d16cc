//! Running one claimed job's attempt and deciding what the job becomes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::OnceCell;
use wasmtasks_sandbox::{AttemptMetrics, AttemptOutcome, AttemptReport, Capabilities, TaskFailure};

use crate::capabilities;
use crate::config::Settings;
use crate::registry::Registry;
use crate::retry::after_failure;
use crate::store::{ClaimedJob, Completion, NextState, StoreError};
use crate::task::{AttemptRecord, TaskStatus};

/// The class of an attempt that could not start: its component or its
/// configuration could not be loaded, or its limits are above this worker's maximum.
pub const WORKER_ERROR: &str = "wasmtasks.WorkerError";

/// Runs `job` once and returns the completion to record.
pub(crate) async fn run(
    registry: &Registry,
    settings: &Settings,
    worker_id: &str,
    job: ClaimedJob,
    capabilities: &OnceCell<Capabilities>,
) -> Completion {
    let started_at = Utc::now();
    let report = execute(registry, settings, &job, capabilities).await;
    let finished_at = Utc::now();
    let (record, return_value) =
        AttemptRecord::from_report(job.attempt, worker_id, started_at, finished_at, report);
    let next = match (&record.status, return_value) {
        (TaskStatus::Successful, Some(value)) => NextState::Successful(value),
        _ => {
            let class = record
                .error
                .as_ref()
                .map_or(WORKER_ERROR, |e| e.exception_class_path.as_str());
            let max_backoff = settings
                .queue(&job.queue_name)
                .map(|q| q.max_backoff)
                .unwrap_or_default();
            after_failure(
                class,
                job.attempt,
                job.max_attempts,
                job.backoff_factor,
                max_backoff,
            )
        }
    };
    Completion {
        id: job.id,
        worker_id: worker_id.to_owned(),
        next,
        record,
        only_if_expired: false,
    }
}

async fn execute(
    registry: &Registry,
    settings: &Settings,
    job: &ClaimedJob,
    capabilities: &OnceCell<Capabilities>,
) -> AttemptReport {
    let component = match registry.load(&job.component_digest).await {
        Ok(component) => component,
        Err(error) => {
            return not_started(format!(
                "cannot load component {}: {error}",
                job.component_digest
            ));
        }
    };
    let component_name = &job.component;
    let resolved = capabilities
        .get_or_try_init(|| resolve_capabilities(registry, settings, job, component_name))
        .await;
    let capabilities = match resolved {
        Ok(capabilities) => capabilities.clone(),
        Err(error) => {
            return not_started(format!(
                "cannot read the configuration of {component_name}: {error}"
            ));
        }
    };
    let call = job.task_call(capabilities);
    match registry
        .sandbox()
        .run(&component, &call, settings.limits.with(job.limits))
        .await
    {
        Ok(report) => report,
        Err(error) => not_started(error.to_string()),
    }
}

/// The component's capabilities now. A failed read (the database restarting) is
/// retried with backoff for up to the configured lease length, as the completer
/// retries its writes, before the attempt gives up as not started.
async fn resolve_capabilities(
    registry: &Registry,
    settings: &Settings,
    job: &ClaimedJob,
    component: &str,
) -> Result<Capabilities, StoreError> {
    let give_up = Instant::now() + settings.worker.lease;
    let mut delay = Duration::from_millis(50);
    loop {
        let store = registry.store().as_ref();
        match capabilities::resolve(store, settings, &job.tenant, component).await {
            Ok(capabilities) => return Ok(capabilities),
            Err(error) if Instant::now() + delay < give_up => {
                tracing::warn!(%error, job = %job.id, "cannot read the configuration of {component}; retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(error) => return Err(error),
        }
    }
}

fn not_started(message: String) -> AttemptReport {
    AttemptReport {
        outcome: AttemptOutcome::Failed(TaskFailure {
            exception_class_path: WORKER_ERROR.to_owned(),
            traceback: format!("{WORKER_ERROR}: {message}\n"),
            message,
        }),
        metrics: AttemptMetrics::default(),
        stdout: String::new(),
        stderr: String::new(),
    }
}

/// The capabilities of each component of one claimed batch, resolved at most once.
#[derive(Default)]
pub(crate) struct BatchCapabilities(HashMap<(String, String), Arc<OnceCell<Capabilities>>>);

impl BatchCapabilities {
    /// The shared cell for `job`'s tenant and component.
    pub(crate) fn cell_for(&mut self, job: &ClaimedJob) -> Arc<OnceCell<Capabilities>> {
        self.0
            .entry((job.tenant.clone(), job.component.clone()))
            .or_default()
            .clone()
    }
}

/// Shared handles an attempt needs.
#[derive(Clone)]
pub(crate) struct AttemptContext {
    pub registry: Arc<Registry>,
    pub settings: Arc<Settings>,
    pub worker_id: Arc<str>,
}
