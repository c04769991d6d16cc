//! The worker's entry in the registry of workers: it registers when it starts,
//! heartbeats while it runs and says when it exits, for people and metrics (rescue
//! goes by leases). The registry is best effort: a worker whose heartbeat cannot
//! be written logs it and carries on running jobs.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{WorkerOptions, WorkerProgress};
use crate::store::{Store, WorkerHeartbeat, WorkerRegistration};

/// How long an exiting worker waits for its last heartbeat to be written.
const LAST_BEAT_WAIT: Duration = Duration::from_secs(2);

/// Registers a worker and heartbeats for it.
#[derive(Debug)]
pub struct Heartbeat {
    store: Arc<dyn Store>,
    registration: WorkerRegistration,
    progress: Arc<WorkerProgress>,
}

impl Heartbeat {
    /// The heartbeat of the worker with `options` in this process.
    pub fn new(
        store: Arc<dyn Store>,
        options: &WorkerOptions,
        progress: Arc<WorkerProgress>,
    ) -> Self {
        let registration = WorkerRegistration {
            id: options.worker_id.clone(),
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            queues: options.queues.describe(),
            tenants: options.tenants.clone(),
            concurrency: options.concurrency,
            heartbeat_every: options.heartbeat,
        };
        Heartbeat {
            store,
            registration,
            progress,
        }
    }

    /// Registers the worker.
    pub async fn register(&self) {
        if let Err(error) = self.store.worker_register(&self.registration).await {
            tracing::warn!(%error, "cannot register the worker in the list of workers");
        }
    }

    /// Heartbeats until `stop`.
    pub async fn beat_until(&self, stop: CancellationToken) {
        let mut ticks = tokio::time::interval(self.registration.heartbeat_every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticks.tick() => self.beat(false).await,
            }
        }
    }

    /// The last heartbeat: the worker has exited. A store that does not answer
    /// within [`LAST_BEAT_WAIT`] does not hold the exit up (the worker then shows
    /// as lost).
    pub async fn stopped(&self) {
        if tokio::time::timeout(LAST_BEAT_WAIT, self.beat(true))
            .await
            .is_err()
        {
            tracing::warn!("the worker's last heartbeat was not recorded in time");
        }
    }

    async fn beat(&self, stopped: bool) {
        let beat = WorkerHeartbeat {
            id: &self.registration.id,
            finished: self.progress.finished.load(Ordering::Relaxed),
            failed: self.progress.failed.load(Ordering::Relaxed),
            stopped,
        };
        match self.store.worker_heartbeat(beat).await {
            Ok(true) => {}
            // Forgotten (its heartbeat was a day late): register again.
            Ok(false) if !stopped => self.register().await,
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "cannot record the worker's heartbeat"),
        }
    }
}
