//! The pruner: retention that runs itself. Every worker runs it every
//! `purge.interval`; a run deletes finished jobs past their age, READY jobs that
//! no worker took within the stale age, and old events, of every tenant, in
//! batches of `purge.batch_size` with a pause between them, so no write holds
//! SQLite's lock for long. Concurrent pruners in several workers only share the
//! work.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::clock::Clock;
use crate::config::PurgeSettings;
use crate::store::{PruneBatch, PruneReport, Store, StoreError};

/// Pause between two batches of a run: other writers take the lock meanwhile.
const BETWEEN_BATCHES: Duration = Duration::from_millis(10);

/// What the pruner deletes and how often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrunerConfig {
    /// SUCCESSFUL and CANCELLED jobs older than this go.
    pub finished_age: Duration,
    /// FAILED jobs older than this go.
    pub failed_age: Duration,
    /// READY jobs runnable for longer than this go.
    pub stale_age: Duration,
    /// Jobs (and events) per batch.
    pub batch_size: u32,
    /// Time between runs.
    pub interval: Duration,
}

impl PrunerConfig {
    /// The pruner `purge` describes, or `None` when its interval is `off`.
    pub fn new(purge: &PurgeSettings) -> Option<Self> {
        let days = |days: u32| Duration::from_secs(u64::from(days) * 86_400);
        Some(PrunerConfig {
            finished_age: days(purge.finished_min_age_days),
            failed_age: days(purge.failed_min_age_days),
            stale_age: days(purge.stale_min_age_days),
            batch_size: purge.batch_size.max(1),
            interval: purge.interval?,
        })
    }
}

/// The pruner service.
#[derive(Debug)]
pub struct Pruner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: PrunerConfig,
}

impl Pruner {
    /// A pruner over `store`, reading the time from `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: PrunerConfig) -> Self {
        Pruner {
            store,
            clock,
            config,
        }
    }

    /// One batch, as of the clock's now.
    pub async fn step(&self) -> Result<PruneReport, StoreError> {
        let now = self.clock.now();
        let ago =
            |age: Duration| now - chrono::Duration::from_std(age).unwrap_or(chrono::Duration::MAX);
        self.store
            .job_prune_batch(PruneBatch {
                finished_before: ago(self.config.finished_age),
                failed_before: ago(self.config.failed_age),
                stale_before: ago(self.config.stale_age),
                limit: self.config.batch_size,
            })
            .await
    }

    /// Batches until one finds less than a full batch of every kind; the total.
    pub async fn run_once(&self, stop: &CancellationToken) -> Result<PruneReport, StoreError> {
        let mut total = PruneReport::default();
        loop {
            let batch = self.step().await?;
            total.successful += batch.successful;
            total.failed += batch.failed;
            total.cancelled += batch.cancelled;
            total.stale += batch.stale;
            total.events += batch.events;
            let jobs = batch.successful + batch.failed + batch.cancelled;
            let limit = u64::from(self.config.batch_size);
            if (jobs < limit && batch.stale < limit && batch.events < limit) || stop.is_cancelled()
            {
                return Ok(total);
            }
            tokio::time::sleep(BETWEEN_BATCHES).await;
        }
    }

    /// Runs every interval until `stop`; a failed run is logged and tried again at
    /// the next interval.
    pub async fn run(self, stop: CancellationToken) {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(self.config.interval) => {}
            }
            match self.run_once(&stop).await {
                Ok(report) => {
                    let jobs = report.successful + report.failed + report.cancelled;
                    if jobs + report.stale + report.events > 0 {
                        tracing::info!(
                            successful = report.successful,
                            failed = report.failed,
                            cancelled = report.cancelled,
                            stale = report.stale,
                            events = report.events,
                            "pruned old jobs"
                        );
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot prune old jobs; trying again later"),
            }
        }
    }
}
