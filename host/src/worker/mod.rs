//! The worker: claims jobs from chosen queues and runs them, like Django's
//! `db_worker`.
//!
//! One loop, one `select!` over: shutdown, finished attempts (a `JoinSet`), a
//! wake-up when jobs may be available (in-process signal, change check,
//! notification or the fallback poll), lease renewal and rescue ticks. The loop
//! never claims more jobs than it has free slots; finished attempts go to the
//! [`completer`], which writes them in batches.
//!
//! Shutdown has two scopes ([`Shutdown`]): "stop claiming" lets running attempts
//! finish within the grace period; "cancel running work" (or the end of the grace
//! period) interrupts them and puts their jobs back to READY without counting the
//! attempt: the job did nothing wrong.
//!
//! # Delivery: at least once
//!
//! Every job ends finalised exactly once (the completion is fenced by attempt,
//! status and lease owner), but an attempt may run more than once, so tasks
//! should be idempotent. When the database goes away (a PostgreSQL restart, a
//! network cut), the worker logs it and carries on: claims are retried with
//! backoff, the completer retries its writes until they succeed, and lost
//! connections are replaced. An attempt whose completion could not be written
//! before its lease expired is rescued by some worker as `wasmtasks.WorkerLost`
//! and run again (within its retry policy); the late completion is then refused
//! by the fence and counted as `fenced_out`. The same happens to the attempts of
//! a worker that is killed.

mod attempt;
pub mod clock;
pub mod completer;
mod heartbeat;
mod producer;
pub mod pruner;
pub mod rescuer;
pub mod scheduler;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use clock::{Clock, ManualClock, SystemClock};
pub use completer::CompletionCounts;
use completer::{Backlog, GiveUp};
use heartbeat::Heartbeat;
pub use pruner::{Pruner, PrunerConfig};
pub use rescuer::{Rescuer, WORKER_LOST, rescue_stuck};
pub use scheduler::Scheduler;

use crate::config::Settings;
use crate::registry::Registry;
use crate::store::{Completion, QueueFilter, StoreError};
use producer::Producer;

/// How a worker runs. Build it from [`Settings`] with [`WorkerOptions::new`].
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// This worker's id, at most 64 characters.
    pub worker_id: String,
    /// The queues it serves.
    pub queues: QueueFilter,
    /// Only jobs of these tenants; `None` (the default) for every tenant, as a
    /// platform runs its workers.
    pub tenants: Option<Vec<String>>,
    /// Attempts run at once.
    pub concurrency: u32,
    /// Jobs claimed ahead of free slots: they wait in the worker (in claim order)
    /// for a slot, so the next attempt starts without a trip to the database.
    pub prefetch: u32,
    /// Exit once no job is available (drain), instead of waiting for more.
    pub batch: bool,
    /// Exit after this many attempts.
    pub max_tasks: Option<u64>,
    /// Fallback poll interval.
    pub interval: Duration,
    /// Lease length; renewed every third of it.
    pub lease: Duration,
    /// How long running attempts may finish after "stop claiming".
    pub grace_period: Duration,
    /// Most completions written in one batch.
    pub max_completion_batch: usize,
    /// How often to look for jobs whose worker died.
    pub rescue_interval: Duration,
    /// How often it heartbeats in the list of workers.
    pub heartbeat: Duration,
}

impl WorkerOptions {
    /// The options `settings` give, serving every queue.
    pub fn new(settings: &Settings) -> Self {
        WorkerOptions {
            worker_id: crate::worker_id::default_worker_id(),
            queues: QueueFilter::All {
                exclude: Vec::new(),
            },
            tenants: None,
            concurrency: settings.worker.concurrency,
            prefetch: settings.worker.prefetch,
            batch: false,
            max_tasks: None,
            interval: settings.worker.interval,
            lease: settings.worker.lease,
            grace_period: settings.worker.grace_period,
            max_completion_batch: 512,
            rescue_interval: (settings.worker.lease / 2).max(Duration::from_secs(1)),
            heartbeat: settings.worker.heartbeat,
        }
    }
}

/// The two cancellation scopes of a worker.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    /// Stop claiming; let running attempts finish within the grace period.
    pub stop_claiming: CancellationToken,
    /// Interrupt running attempts now and put their jobs back to READY.
    pub cancel_running: CancellationToken,
}

/// What a worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WorkerReport {
    /// Jobs claimed.
    pub claimed: u64,
    /// What the completer wrote.
    pub completions: CompletionCounts,
    /// Interrupted jobs put back to READY at shutdown.
    pub released: u64,
    /// Jobs of dead workers this worker rescued.
    pub rescued: u64,
    /// Milliseconds from the first claim that found jobs to the last write.
    pub active_ms: u64,
    /// When that last write was, by the wall clock (none if it found no jobs):
    /// with `active_ms`, where its busy window lies beside other processes'.
    pub active_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// A worker that failed for good.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The options break a rule.
    #[error("invalid worker options: {0}")]
    Options(String),
    /// The store failed while the worker was stopping, or (`--batch`) every claim failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The task writing finished attempts failed (a bug): some may be unrecorded.
    #[error("the completer failed: {0}; unrecorded attempts will be rescued and run again")]
    Completer(String),
    /// Finished attempts could not be written for a whole lease (or before the
    /// worker had to stop), so the worker stopped claiming and gave up.
    #[error(
        "cannot record finished attempts: {error}; {unrecorded} attempts are unrecorded, and their jobs will be rescued and run again when their leases expire"
    )]
    Unrecorded {
        /// Finished attempts never written.
        unrecorded: u64,
        /// The store's last error.
        error: StoreError,
    },
}

/// What a running worker has done so far, readable while it runs (for a progress
/// bar, a heartbeat).
#[derive(Debug, Default)]
pub struct WorkerProgress {
    /// Jobs claimed.
    pub claimed: AtomicU64,
    /// Attempts finished, however they ended.
    pub finished: AtomicU64,
    /// Attempts that failed (retried or not).
    pub failed: AtomicU64,
}

/// A worker over a registry (store and sandbox).
#[derive(Debug)]
pub struct Worker {
    registry: Arc<Registry>,
    settings: Arc<Settings>,
    options: WorkerOptions,
    progress: Arc<WorkerProgress>,
    clock: Arc<dyn Clock>,
}

impl Worker {
    /// A worker with `options`.
    pub fn new(
        registry: Arc<Registry>,
        settings: Arc<Settings>,
        options: WorkerOptions,
    ) -> Result<Self, WorkerError> {
        if options.concurrency == 0 {
            return Err(WorkerError::Options(
                "concurrency must be at least 1".into(),
            ));
        }
        if options.worker_id.is_empty()
            || options.worker_id.len() > crate::worker_id::MAX_WORKER_ID_LEN
        {
            return Err(WorkerError::Options(format!(
                "a worker id is 1..={} characters, got {:?}",
                crate::worker_id::MAX_WORKER_ID_LEN,
                options.worker_id
            )));
        }
        let slots = registry.sandbox().config().pool_slots;
        if options.concurrency > slots {
            return Err(WorkerError::Options(format!(
                "concurrency {} is above the sandbox's {slots} instance slots",
                options.concurrency
            )));
        }
        Ok(Worker {
            registry,
            settings,
            options,
            progress: Arc::default(),
            clock: Arc::new(SystemClock),
        })
    }

    /// The same worker reading the wall time (the pruner's ages, the scheduler's
    /// ticks) from `clock`: for tests.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// This worker's id.
    pub fn worker_id(&self) -> &str {
        &self.options.worker_id
    }

    /// Its options.
    pub fn options(&self) -> &WorkerOptions {
        &self.options
    }

    /// What it has done so far.
    pub fn progress(&self) -> Arc<WorkerProgress> {
        self.progress.clone()
    }

    /// Runs until drained (`batch`), `max_tasks` attempts, or shutdown: the
    /// producer claims and runs attempts, the completer writes them, and the
    /// rescuer, pruner and scheduler run beside them until the producer is done.
    pub async fn run(&self, shutdown: Shutdown) -> Result<WorkerReport, WorkerError> {
        let options = &self.options;
        let store = self.registry.store().clone();
        let (completions, receiver) = mpsc::unbounded_channel::<Completion>();
        let wake = Arc::new(Notify::new());
        let backlog = Arc::new(Backlog::new(options.max_completion_batch, wake.clone()));
        let give_up = GiveUp {
            after: options.lease,
            stop: CancellationToken::new(),
            given_up: CancellationToken::new(),
        };
        let stop_writing = tokio::spawn(stop_writing_at_the_deadline(
            shutdown.clone(),
            options.grace_period,
            give_up.stop.clone(),
        ));
        let completer = tokio::spawn(completer::run(
            store.clone(),
            receiver,
            options.max_completion_batch,
            backlog.clone(),
            give_up.clone(),
            self.registry.metrics().clone(),
        ));
        let heartbeat = Heartbeat::new(store.clone(), options, self.progress.clone());
        heartbeat.register().await;
        let mut report = WorkerReport::default();
        // Rescue once before the first claim (so a draining `--batch` worker picks up
        // the jobs of dead workers too), then every rescue interval.
        match rescue_stuck(store.as_ref()).await {
            Ok(rescued) => report.rescued += rescued,
            Err(error) => tracing::warn!(%error, "cannot rescue stuck jobs"),
        }
        let rescued = Arc::new(AtomicU64::new(0));
        let services_stop = CancellationToken::new();
        let mut services = JoinSet::new();
        services.spawn(
            Rescuer::new(
                store.clone(),
                options.rescue_interval,
                rescued.clone(),
                wake.clone(),
            )
            .run(services_stop.clone()),
        );
        services.spawn(
            Scheduler::new(
                self.registry.clone(),
                self.settings.clone(),
                self.clock.clone(),
            )
            .run(services_stop.clone()),
        );
        if let Some(config) = PrunerConfig::new(&self.settings.purge) {
            services.spawn(
                Pruner::new(store.clone(), self.clock.clone(), config).run(services_stop.clone()),
            );
        }
        let heartbeat = Arc::new(heartbeat);
        services.spawn({
            let heartbeat = heartbeat.clone();
            let stop = services_stop.clone();
            async move { heartbeat.beat_until(stop).await }
        });
        let producer = Producer::new(
            attempt::AttemptContext {
                registry: self.registry.clone(),
                settings: self.settings.clone(),
                worker_id: Arc::from(options.worker_id.as_str()),
            },
            options.clone(),
            self.progress.clone(),
            completions,
            wake,
            backlog,
            give_up.given_up,
        );
        let produced = producer.run(&shutdown).await;
        services_stop.cancel();
        while services.join_next().await.is_some() {}
        let completed = completer
            .await
            .map_err(|error| WorkerError::Completer(error.to_string()));
        stop_writing.abort();
        heartbeat.stopped().await;
        let completed = completed?;
        if let Some(error) = completed.gave_up {
            return Err(WorkerError::Unrecorded {
                unrecorded: completed.counts.unrecorded,
                error,
            });
        }
        let produced = produced?;
        report.claimed = produced.claimed;
        report.released = produced.released;
        report.rescued += rescued.load(Ordering::Relaxed);
        report.completions = completed.counts;
        report.active_ms = produced
            .first_claim
            .map_or(0, |start| start.elapsed().as_millis() as u64);
        report.active_until = produced.first_claim.map(|_| chrono::Utc::now());
        Ok(report)
    }
}

/// Cancels `stop` when the worker must stop now: at a second signal, or when the
/// grace period after the first has passed. A completer whose writes fail then
/// gives up instead of retrying.
async fn stop_writing_at_the_deadline(
    shutdown: Shutdown,
    grace: Duration,
    stop: CancellationToken,
) {
    tokio::select! {
        _ = shutdown.cancel_running.cancelled() => {}
        _ = async {
            shutdown.stop_claiming.cancelled().await;
            tokio::time::sleep(grace).await;
        } => {}
    }
    stop.cancel();
}
