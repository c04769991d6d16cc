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
pub mod completer;
pub mod rescuer;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use completer::CompletionCounts;
pub use rescuer::{WORKER_LOST, rescue_stuck};

use crate::config::Settings;
use crate::registry::Registry;
use crate::store::{ClaimRef, Completion, JobClaim, LeaseRenewal, QueueFilter, StoreError};

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
            batch: false,
            max_tasks: None,
            interval: settings.worker.interval,
            lease: settings.worker.lease,
            grace_period: settings.worker.grace_period,
            max_completion_batch: 512,
            rescue_interval: (settings.worker.lease / 2).max(Duration::from_secs(1)),
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
}

/// Claims a `--batch` worker tries before it gives up on a failing database.
const BATCH_CLAIM_TRIES: u32 = 5;

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
        })
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

    /// Runs until drained (`batch`), `max_tasks` attempts, or shutdown.
    pub async fn run(&self, shutdown: Shutdown) -> Result<WorkerReport, WorkerError> {
        let options = &self.options;
        let store = self.registry.store().clone();
        let (completions, receiver) = mpsc::unbounded_channel::<Completion>();
        let completer = tokio::spawn(completer::run(
            store.clone(),
            receiver,
            options.max_completion_batch,
        ));
        let context = attempt::AttemptContext {
            registry: self.registry.clone(),
            settings: self.settings.clone(),
            worker_id: Arc::from(options.worker_id.as_str()),
        };
        let mut running: JoinSet<Completion> = JoinSet::new();
        let mut in_flight: HashMap<tokio::task::Id, ClaimRef> = HashMap::new();
        let mut report = WorkerReport::default();
        let mut renew = tokio::time::interval(options.lease / 3);
        // Rescue once before the first claim (so a draining `--batch` worker picks up
        // the jobs of dead workers too), then on every tick.
        match rescue_stuck(store.as_ref()).await {
            Ok(rescued) => report.rescued += rescued,
            Err(error) => tracing::warn!(%error, "cannot rescue stuck jobs"),
        }
        let mut rescue = tokio::time::interval_at(
            Instant::now() + options.rescue_interval,
            options.rescue_interval,
        );
        let concurrency = options.concurrency as usize;
        let mut may_have_jobs = true;
        let mut last_claim_full = false;
        let mut stopping_at: Option<Instant> = None;
        let mut claim_errors = 0u32;
        // After a failed claim, the next waits until then (shutdown does not).
        let mut claim_blocked_until: Option<Instant> = None;
        let mut first_claim: Option<Instant> = None;
        // The fallback poll: a claim at least this often while idle, whatever else
        // (renewals, rescues, finished attempts) interrupts the wait.
        let mut poll_at = Instant::now() + options.interval;

        loop {
            let budget = options
                .max_tasks
                .map_or(u64::MAX, |max| max.saturating_sub(report.claimed));
            let free = concurrency - running.len();
            // Claim when woken and there is room: at once when idle, otherwise once
            // half the slots are free, so claims come in batches.
            let worth_claiming = running.is_empty() || free * 2 >= concurrency;
            if stopping_at.is_none()
                && claim_blocked_until.is_none()
                && may_have_jobs
                && budget > 0
                && free > 0
                && worth_claiming
            {
                let limit = (free as u64).min(budget) as u32;
                poll_at = Instant::now() + options.interval;
                let claim = JobClaim {
                    worker_id: options.worker_id.clone(),
                    queues: options.queues.clone(),
                    tenants: options.tenants.clone(),
                    limit,
                    lease: options.lease,
                };
                match store.job_claim(claim).await {
                    Ok(jobs) => {
                        claim_errors = 0;
                        last_claim_full = jobs.len() == limit as usize;
                        may_have_jobs = last_claim_full;
                        report.claimed += jobs.len() as u64;
                        self.progress
                            .claimed
                            .fetch_add(jobs.len() as u64, Ordering::Relaxed);
                        if !jobs.is_empty() && first_claim.is_none() {
                            first_claim = Some(Instant::now());
                        }
                        // A component's capabilities are read once per claimed batch,
                        // by the first of its attempts to start, and shared by the rest.
                        let mut grants = attempt::BatchCapabilities::default();
                        for job in jobs {
                            let claim = ClaimRef {
                                id: job.id.clone(),
                                attempt: job.attempt,
                            };
                            let context = context.clone();
                            let capabilities = grants.cell_for(&job);
                            let handle = running.spawn(async move {
                                attempt::run(&context, job, &capabilities).await
                            });
                            in_flight.insert(handle.id(), claim);
                        }
                    }
                    Err(error) => {
                        claim_errors += 1;
                        if options.batch && claim_errors >= BATCH_CLAIM_TRIES {
                            tracing::error!(%error, "cannot claim jobs; giving up after {claim_errors} tries");
                            drop(completions);
                            let _ = completer.await;
                            return Err(WorkerError::Store(error));
                        }
                        let delay = Duration::from_millis(100 * u64::from(claim_errors.min(50)))
                            .min(options.interval.max(Duration::from_millis(100)));
                        tracing::warn!(%error, "cannot claim jobs; retrying in {delay:?}");
                        claim_blocked_until = Some(Instant::now() + delay);
                    }
                }
            }
            let exhausted =
                budget == 0 || (options.batch && !may_have_jobs && claim_blocked_until.is_none());
            if running.is_empty() && (exhausted || stopping_at.is_some()) {
                break;
            }
            let waiting_for_jobs = stopping_at.is_none()
                && !may_have_jobs
                && budget > 0
                && running.len() < concurrency
                && !options.batch;
            tokio::select! {
                _ = shutdown.cancel_running.cancelled() => {
                    report.released += self.interrupt(&mut running, &mut in_flight, &completions).await?;
                    break;
                }
                _ = sleep_until(stopping_at) => {
                    report.released += self.interrupt(&mut running, &mut in_flight, &completions).await?;
                    break;
                }
                _ = shutdown.stop_claiming.cancelled(), if stopping_at.is_none() => {
                    stopping_at = Some(Instant::now() + options.grace_period);
                }
                _ = sleep_until(claim_blocked_until), if claim_blocked_until.is_some() => {
                    claim_blocked_until = None;
                    may_have_jobs = true;
                }
                Some(joined) = running.join_next_with_id() => {
                    self.finished(joined, &mut in_flight, &completions);
                    // Take every other attempt that has finished too, so the next
                    // claim sees all the free slots and comes as one larger batch.
                    while let Some(joined) = running.try_join_next_with_id() {
                        self.finished(joined, &mut in_flight, &completions);
                    }
                    if last_claim_full {
                        may_have_jobs = true;
                    }
                }
                _ = store.wait_for_jobs(poll_at.saturating_duration_since(Instant::now())), if waiting_for_jobs => {
                    may_have_jobs = true;
                }
                _ = renew.tick() => {
                    let jobs: Vec<ClaimRef> = in_flight.values().cloned().collect();
                    let renewal = LeaseRenewal { worker_id: options.worker_id.clone(), jobs, lease: options.lease };
                    if let Err(error) = store.job_renew_leases(renewal).await {
                        tracing::warn!(%error, "cannot renew leases");
                    }
                }
                _ = rescue.tick() => {
                    match rescue_stuck(store.as_ref()).await {
                        Ok(rescued) => {
                            report.rescued += rescued;
                            if rescued > 0 {
                                may_have_jobs = true;
                            }
                        }
                        Err(error) => tracing::warn!(%error, "cannot rescue stuck jobs"),
                    }
                }
            }
        }
        drop(completions);
        report.completions = completer
            .await
            .map_err(|error| WorkerError::Completer(error.to_string()))?;
        report.active_ms = first_claim.map_or(0, |start| start.elapsed().as_millis() as u64);
        Ok(report)
    }

    /// Interrupts running attempts: those that finished anyway are completed, the
    /// rest are put back to READY.
    async fn interrupt(
        &self,
        running: &mut JoinSet<Completion>,
        in_flight: &mut HashMap<tokio::task::Id, ClaimRef>,
        completions: &mpsc::UnboundedSender<Completion>,
    ) -> Result<u64, WorkerError> {
        running.abort_all();
        while let Some(joined) = running.join_next_with_id().await {
            if let Ok((id, completion)) = joined {
                in_flight.remove(&id);
                let _ = completions.send(completion);
            }
        }
        let interrupted: Vec<ClaimRef> = in_flight.drain().map(|(_, claim)| claim).collect();
        if interrupted.is_empty() {
            return Ok(0);
        }
        Ok(self
            .registry
            .store()
            .job_release_many(&self.options.worker_id, &interrupted)
            .await?)
    }
}

impl Worker {
    /// Hands a finished attempt's completion to the completer.
    fn finished(
        &self,
        joined: Result<(tokio::task::Id, Completion), tokio::task::JoinError>,
        in_flight: &mut HashMap<tokio::task::Id, ClaimRef>,
        completions: &mpsc::UnboundedSender<Completion>,
    ) {
        match joined {
            Ok((id, completion)) => {
                in_flight.remove(&id);
                self.progress.finished.fetch_add(1, Ordering::Relaxed);
                if completion.record.error.is_some() {
                    self.progress.failed.fetch_add(1, Ordering::Relaxed);
                }
                let _ = completions.send(completion);
            }
            Err(error) => {
                // An attempt task panicked (a host bug, never the guest): its lease
                // will expire and the job will be rescued.
                tracing::error!(%error, "an attempt task failed");
                in_flight.remove(&error.id());
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
