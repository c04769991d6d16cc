//! The producer: claims jobs into free slots and runs their attempts, hands each
//! finished attempt to the completer, renews the leases of running attempts, and
//! stops as the worker's [`Shutdown`] says.
//!
//! It holds up to `concurrency + prefetch` claimed jobs; a semaphore of
//! `concurrency` slots lets that many run, and the rest wait for a slot in claim
//! order (tokio's semaphore is fair), leased and renewed like the running ones.
//! When it stops claiming it closes the semaphore: jobs still waiting never start
//! and go back to READY at once, while running attempts get the grace period.
//!
//! One `select!` over: shutdown, finished attempts (a `JoinSet`), a wake-up when
//! jobs may be available (in-process signal, change check, notification, a rescue,
//! or the fallback poll), the end of a claim's backoff, and lease renewal. It
//! never claims more jobs than it has free slots; every state, a failing claim
//! included, reaches the `select!`, so shutdown is always heard.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::attempt::{self, AttemptContext};
use super::completer::Backlog;
use super::{Shutdown, WorkerError, WorkerOptions, WorkerProgress};
use crate::store::{
    ClaimRef, ClaimedJob, Completion, Heard, JobClaim, LeaseRenewal, Store, StoreError,
};

/// Claims a `--batch` worker tries before it gives up on a failing database.
const BATCH_CLAIM_TRIES: u32 = 5;

/// What the producer did.
#[derive(Debug, Default)]
pub(super) struct Produced {
    /// Jobs claimed.
    pub claimed: u64,
    /// Interrupted jobs put back to READY.
    pub released: u64,
    /// When the first claim that found jobs was made.
    pub first_claim: Option<Instant>,
}

/// The producer service.
pub(super) struct Producer {
    context: AttemptContext,
    options: WorkerOptions,
    progress: Arc<WorkerProgress>,
    completions: mpsc::UnboundedSender<Completion>,
    /// Told when jobs may have become available (a rescue), or the backlog of
    /// unwritten attempts has room again.
    wake: Arc<Notify>,
    /// Finished attempts not yet written: no claims while it is full.
    backlog: Arc<Backlog>,
    /// Cancelled when the completer gave up on the store.
    given_up: CancellationToken,
    /// Claimed jobs' attempts, started or waiting for a slot; `None` from one
    /// that never started (the slots were closed).
    running: JoinSet<Option<Completion>>,
    /// The slots: attempts that may run at once.
    slots: Arc<Semaphore>,
    in_flight: HashMap<tokio::task::Id, ClaimRef>,
    /// Components' capabilities, read once until the store's count of changes moves.
    capabilities: attempt::CapabilityCache,
    produced: Produced,
    /// Whether a claim may find jobs.
    may_have_jobs: bool,
    /// How far this worker has heard the store's wake-ups.
    heard: Heard,
    /// Whether the last claim filled every slot it asked for.
    last_claim_full: bool,
    /// Claims that failed in a row.
    claim_errors: u32,
    /// After a failed claim, the next waits until then (shutdown does not).
    claim_blocked_until: Option<Instant>,
}

/// What one claim did.
pub(super) enum Claimed {
    /// Nothing was asked for (no room, no budget, stopping or backing off).
    Nothing,
    /// Jobs were claimed and their attempts started (maybe none).
    Started,
    /// The claim failed; the next waits.
    Failed(StoreError),
}

impl Producer {
    pub(super) fn new(
        context: AttemptContext,
        options: WorkerOptions,
        progress: Arc<WorkerProgress>,
        completions: mpsc::UnboundedSender<Completion>,
        wake: Arc<Notify>,
        backlog: Arc<Backlog>,
        given_up: CancellationToken,
    ) -> Self {
        let slots = Arc::new(Semaphore::new(options.concurrency as usize));
        Producer {
            slots,
            context,
            options,
            progress,
            completions,
            wake,
            backlog,
            given_up,
            running: JoinSet::new(),
            in_flight: HashMap::new(),
            capabilities: attempt::CapabilityCache::default(),
            produced: Produced::default(),
            may_have_jobs: true,
            heard: Heard::default(),
            last_claim_full: false,
            claim_errors: 0,
            claim_blocked_until: None,
        }
    }

    fn store(&self) -> Arc<dyn Store> {
        self.context.registry.store().clone()
    }

    /// Attempts it may still start (`max_tasks`).
    fn budget(&self) -> u64 {
        self.options
            .max_tasks
            .map_or(u64::MAX, |max| max.saturating_sub(self.produced.claimed))
    }

    /// Claimed jobs it may hold: running, or waiting for a slot.
    fn capacity(&self) -> usize {
        (self.options.concurrency + self.options.prefetch) as usize
    }

    /// One claim, when woken and there is room: at once when idle, otherwise once
    /// half the room is free, so claims come in batches.
    pub(super) async fn step(&mut self) -> Claimed {
        let capacity = self.capacity();
        let free = capacity - self.running.len();
        let worth_claiming = self.running.is_empty() || free * 2 >= capacity;
        let budget = self.budget();
        if self.claim_blocked_until.is_some()
            || !self.may_have_jobs
            || self.backlog.is_full()
            || budget == 0
            || free == 0
            || !worth_claiming
        {
            return Claimed::Nothing;
        }
        let limit = (free as u64).min(budget) as u32;
        let claim = JobClaim {
            worker_id: self.options.worker_id.clone(),
            queues: self.options.queues.clone(),
            tenants: self.options.tenants.clone(),
            limit,
            lease: self.options.lease,
        };
        let started = Instant::now();
        match self.store().job_claim(claim).await {
            Ok(jobs) => {
                let metrics = self.context.registry.metrics();
                metrics.record_claim(jobs.len(), started.elapsed());
                self.claim_errors = 0;
                self.last_claim_full = jobs.len() == limit as usize;
                self.may_have_jobs = self.last_claim_full;
                self.start(jobs);
                Claimed::Started
            }
            Err(error) => {
                self.claim_errors += 1;
                let delay = Duration::from_millis(100 * u64::from(self.claim_errors.min(50)))
                    .min(self.options.interval.max(Duration::from_millis(100)));
                tracing::warn!(%error, "cannot claim jobs; retrying in {delay:?}");
                self.claim_blocked_until = Some(Instant::now() + delay);
                Claimed::Failed(error)
            }
        }
    }

    /// Starts the attempts of claimed jobs.
    fn start(&mut self, jobs: Vec<ClaimedJob>) {
        self.produced.claimed += jobs.len() as u64;
        self.progress
            .claimed
            .fetch_add(jobs.len() as u64, Ordering::Relaxed);
        if !jobs.is_empty() && self.produced.first_claim.is_none() {
            self.produced.first_claim = Some(Instant::now());
        }
        for job in jobs {
            let claim = ClaimRef {
                id: job.id.clone(),
                attempt: job.attempt,
            };
            let context = self.context.clone();
            // A component's capabilities are read by the first of its attempts to start
            // after a change, and shared by the rest.
            let capabilities = self.capabilities.cell_for(&job);
            let slots = self.slots.clone();
            let handle = self.running.spawn(async move {
                let _slot = slots.acquire().await.ok()?;
                Some(attempt::run(&context, job, &capabilities).await)
            });
            self.in_flight.insert(handle.id(), claim);
        }
    }

    /// Runs until drained (`batch`), `max_tasks` attempts, or shutdown.
    pub(super) async fn run(mut self, shutdown: &Shutdown) -> Result<Produced, WorkerError> {
        let options = self.options.clone();
        let store = self.store();
        let capacity = self.capacity();
        let mut renew = tokio::time::interval(options.lease / 3);
        let mut stopping_at: Option<Instant> = None;
        // The fallback poll: a claim at least this often while idle, whatever else
        // (renewals, finished attempts) interrupts the wait.
        let mut poll_at = Instant::now() + options.interval;
        loop {
            if stopping_at.is_none() {
                match self.step().await {
                    Claimed::Nothing => {}
                    Claimed::Started => poll_at = Instant::now() + options.interval,
                    Claimed::Failed(error) => {
                        if options.batch && self.claim_errors >= BATCH_CLAIM_TRIES {
                            tracing::error!(%error, "cannot claim jobs; giving up after {} tries", self.claim_errors);
                            self.interrupt().await?;
                            return Err(WorkerError::Store(error));
                        }
                    }
                }
            }
            let budget = self.budget();
            let exhausted = budget == 0
                || (options.batch && !self.may_have_jobs && self.claim_blocked_until.is_none());
            if self.running.is_empty() && (exhausted || stopping_at.is_some()) {
                break;
            }
            let waiting_for_jobs = stopping_at.is_none()
                && !self.may_have_jobs
                && budget > 0
                && self.running.len() < capacity
                && !options.batch;
            let blocked_until = self.claim_blocked_until;
            let wake = self.wake.clone();
            let given_up = self.given_up.clone();
            tokio::select! {
                _ = shutdown.cancel_running.cancelled() => {
                    self.produced.released += self.interrupt().await?;
                    break;
                }
                _ = given_up.cancelled() => {
                    // Nothing more can be recorded: stop, and put back what we can.
                    self.produced.released += self.interrupt().await?;
                    break;
                }
                _ = sleep_until(stopping_at) => {
                    self.produced.released += self.interrupt().await?;
                    break;
                }
                _ = shutdown.stop_claiming.cancelled(), if stopping_at.is_none() => {
                    stopping_at = Some(Instant::now() + options.grace_period);
                    self.slots.close();
                }
                _ = sleep_until(blocked_until), if blocked_until.is_some() => {
                    self.claim_blocked_until = None;
                    self.may_have_jobs = true;
                }
                Some(joined) = self.running.join_next_with_id() => {
                    let mut unstarted = Vec::new();
                    unstarted.extend(self.finished(joined));
                    // Take every other attempt that has finished too, so the next
                    // claim sees all the free slots and comes as one larger batch.
                    while let Some(joined) = self.running.try_join_next_with_id() {
                        unstarted.extend(self.finished(joined));
                    }
                    if !unstarted.is_empty() {
                        match store.job_release_many(&options.worker_id, &unstarted).await {
                            Ok(released) => self.produced.released += released,
                            Err(error) => tracing::warn!(%error, "cannot put back jobs that never started; they will be rescued when their leases expire"),
                        }
                    }
                    if self.last_claim_full {
                        self.may_have_jobs = true;
                    }
                }
                _ = store.wait_for_jobs(&mut self.heard, poll_at.saturating_duration_since(Instant::now())), if waiting_for_jobs => {
                    self.may_have_jobs = true;
                    poll_at = Instant::now() + options.interval;
                }
                _ = wake.notified() => {
                    self.may_have_jobs = true;
                }
                _ = renew.tick() => {
                    let jobs: Vec<ClaimRef> = self.in_flight.values().cloned().collect();
                    let renewal = LeaseRenewal { worker_id: options.worker_id.clone(), jobs, lease: options.lease };
                    if let Err(error) = store.job_renew_leases(renewal).await {
                        tracing::warn!(%error, "cannot renew leases");
                    }
                }
            }
        }
        Ok(self.produced)
    }

    /// Interrupts running attempts: those that finished anyway are completed, the
    /// rest are put back to READY; how many were.
    async fn interrupt(&mut self) -> Result<u64, WorkerError> {
        self.running.abort_all();
        while let Some(joined) = self.running.join_next_with_id().await {
            // A job that never started stays in flight, and is put back below.
            if let Ok((id, Some(completion))) = joined {
                self.in_flight.remove(&id);
                self.hand_over(completion);
            }
        }
        let interrupted: Vec<ClaimRef> = self.in_flight.drain().map(|(_, claim)| claim).collect();
        if interrupted.is_empty() {
            return Ok(0);
        }
        Ok(self
            .store()
            .job_release_many(&self.options.worker_id, &interrupted)
            .await?)
    }

    /// Hands a completion to the completer, counted in the backlog.
    fn hand_over(&self, completion: Completion) {
        self.backlog.add();
        let _ = self.completions.send(completion);
    }

    /// Takes a finished attempt's completion; returns the job of one that never
    /// started, to be put back.
    fn finished(
        &mut self,
        joined: Result<(tokio::task::Id, Option<Completion>), tokio::task::JoinError>,
    ) -> Option<ClaimRef> {
        match joined {
            Ok((id, None)) => return self.in_flight.remove(&id),
            Ok((id, Some(completion))) => {
                self.in_flight.remove(&id);
                self.progress.finished.fetch_add(1, Ordering::Relaxed);
                if completion.record.error.is_some() {
                    self.progress.failed.fetch_add(1, Ordering::Relaxed);
                }
                self.hand_over(completion);
            }
            Err(error) => {
                // An attempt task panicked (a host bug, never the guest): its lease
                // will expire and the job will be rescued.
                tracing::error!(%error, "an attempt task failed");
                self.in_flight.remove(&error.id());
            }
        }
        None
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
