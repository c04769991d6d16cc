//! How the worker prepares a claimed job's attempt: its component from the
//! registry, its capabilities once per component until they change; the attempt
//! itself runs through the shared [`crate::pipeline`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;
use wasmtasks_sandbox::Capabilities;

use crate::capabilities;
use crate::config::Settings;
use crate::metrics::FinishedAttempt;
use crate::pipeline;
use crate::registry::Registry;
use crate::store::{ClaimedJob, Completion, NextState, StoreError};

/// Runs `job` once and returns the completion to record; logs one line at info
/// level (target `wasmtasks::attempt`) saying how it ended.
pub(crate) async fn run(
    context: &AttemptContext,
    job: ClaimedJob,
    capabilities: &OnceCell<Capabilities>,
) -> Completion {
    let prepared = prepare(&context.registry, &context.settings, &job, capabilities).await;
    let (task_path, tenant, queue) = (
        job.task_path.clone(),
        job.tenant.clone(),
        job.queue_name.clone(),
    );
    let completion = pipeline::run(
        context.registry.sandbox(),
        prepared,
        context.settings.limits,
        job,
        &context.worker_id,
    )
    .await;
    let status = match completion.next {
        NextState::Successful(_) => "SUCCESSFUL",
        NextState::Failed => "FAILED",
        NextState::Retry(_) => "RETRY",
    };
    let record = &completion.record;
    let error = record
        .error
        .as_ref()
        .map(|e| e.exception_class_path.as_str());
    context.registry.metrics().record_attempt(FinishedAttempt {
        tenant: &tenant,
        queue: &queue,
        status,
        exception_class: error,
        duration: Duration::from_micros(record.metrics.duration_us),
        fuel: record.metrics.fuel_consumed,
        peak_memory_bytes: record.metrics.peak_memory_bytes,
    });
    log_attempt(&task_path, &completion, status, error);
    completion
}

/// One line per finished attempt: job, task, attempt, how it ended, how long it
/// took and, for a failure, the error's class.
fn log_attempt(task_path: &str, completion: &Completion, status: &str, error: Option<&str>) {
    let record = &completion.record;
    tracing::info!(
        target: "wasmtasks::attempt",
        job = %completion.id,
        task = %task_path,
        attempt = record.attempt,
        status,
        duration_ms = record.metrics.duration_us as f64 / 1000.0,
        error,
        "attempt finished"
    );
}

async fn prepare(
    registry: &Registry,
    settings: &Settings,
    job: &ClaimedJob,
    capabilities: &OnceCell<Capabilities>,
) -> pipeline::Prepared {
    let component = registry
        .load(&job.component_digest)
        .await
        .map_err(|error| format!("cannot load component {}: {error}", job.component_digest))?;
    let capabilities = capabilities
        .get_or_try_init(|| resolve_capabilities(registry, settings, job))
        .await
        .map_err(|error| {
            format!(
                "cannot read the configuration of {}: {error}",
                job.component
            )
        })?;
    Ok((component, capabilities.clone()))
}

/// The component's capabilities now. A failed read (the database restarting) is
/// retried with backoff for up to the configured lease length, as the completer
/// retries its writes, before the attempt gives up as not started.
async fn resolve_capabilities(
    registry: &Registry,
    settings: &Settings,
    job: &ClaimedJob,
) -> Result<Capabilities, StoreError> {
    let give_up = Instant::now() + settings.worker.lease;
    let mut delay = Duration::from_millis(50);
    loop {
        let store = registry.store().as_ref();
        match capabilities::resolve(store, settings, &job.tenant, &job.component).await {
            Ok(capabilities) => return Ok(capabilities),
            Err(error) if Instant::now() + delay < give_up => {
                tracing::warn!(%error, job = %job.id, "cannot read the configuration of {}; retrying in {delay:?}", job.component);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(error) => return Err(error),
        }
    }
}

/// The capabilities of each component, resolved at most once for as long as the
/// store's count of capability changes stays the count claims return: the first
/// attempt claimed after a change reads them again.
#[derive(Default)]
pub(crate) struct CapabilityCache {
    /// The count the cells were read under.
    generation: Option<i64>,
    cells: HashMap<(String, String), Arc<OnceCell<Capabilities>>>,
}

/// Components whose capabilities the cache keeps before it starts over.
const CACHED_COMPONENTS: usize = 4096;

impl CapabilityCache {
    /// The shared cell for `job`'s tenant and component.
    pub(crate) fn cell_for(&mut self, job: &ClaimedJob) -> Arc<OnceCell<Capabilities>> {
        let Some(generation) = job.capabilities_generation else {
            return Arc::default();
        };
        if self.generation != Some(generation) || self.cells.len() >= CACHED_COMPONENTS {
            self.cells.clear();
            self.generation = Some(generation);
        }
        self.cells
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
