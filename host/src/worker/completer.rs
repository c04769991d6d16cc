//! The completer: writes finished attempts in batches.
//!
//! It takes what is waiting at once (up to a batch size) and writes it in one
//! batch, so an idle queue gets each result written immediately and a busy one gets
//! large batches. A failed write is retried with backoff: while the database is
//! away (or its disk full) it keeps trying, and writes the batch once it is back.
//! Meanwhile the producer claims nothing once a batch's worth of attempts waits
//! unwritten ([`Backlog`]). If no write gets through for a whole lease, or the
//! worker is told to stop and its grace period passes, the completer gives up,
//! says so, and the worker exits with an error; the jobs it could not record are
//! rescued when their leases expire and run again (at-least-once). A write that
//! did reach the database before its answer was lost is refused by the fence on
//! the retry, so nothing is recorded twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use crate::metrics::Metrics;
use tokio_util::sync::CancellationToken;

use crate::store::{Completion, NextState, Store, StoreError};

/// What the completer wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CompletionCounts {
    /// Attempts that finished the job SUCCESSFUL.
    pub successful: u64,
    /// Attempts that finished the job FAILED.
    pub failed: u64,
    /// Failed attempts whose job goes back to READY for a retry.
    pub retried: u64,
    /// Completions refused by the fence: the job had been rescued meanwhile.
    pub fenced_out: u64,
    /// Batches written.
    pub batches: u64,
    /// Finished attempts never written: the completer gave up on the store.
    pub unrecorded: u64,
}

/// Attempts handed to the completer and not yet written, shared with the producer.
#[derive(Debug)]
pub(crate) struct Backlog {
    unwritten: AtomicUsize,
    /// How many may wait before the producer stops claiming.
    limit: usize,
    /// Told when a write brings a full backlog under its limit.
    room: Arc<Notify>,
}

impl Backlog {
    /// A backlog of at most `limit` attempts; `room` is told when it has room again.
    pub(crate) fn new(limit: usize, room: Arc<Notify>) -> Self {
        Backlog {
            unwritten: AtomicUsize::new(0),
            limit: limit.max(1),
            room,
        }
    }

    /// Counts an attempt handed over.
    pub(crate) fn add(&self) {
        self.unwritten.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether as many attempts wait as may: the producer claims nothing then.
    pub(crate) fn is_full(&self) -> bool {
        self.unwritten.load(Ordering::Acquire) >= self.limit
    }

    /// Counts `n` attempts written (or given up on).
    fn remove(&self, n: usize) {
        let before = self.unwritten.fetch_sub(n, Ordering::AcqRel);
        if before >= self.limit && before - n < self.limit {
            self.room.notify_one();
        }
    }
}

/// When the completer gives up on a store it cannot write to.
#[derive(Debug, Clone)]
pub(crate) struct GiveUp {
    /// Longest time without a successful write (the lease: by then the jobs are
    /// rescued elsewhere anyway).
    pub after: Duration,
    /// Cancelled when the worker must stop now (a second signal, or its grace
    /// period has passed): a failing write is not retried then.
    pub stop: CancellationToken,
    /// Cancelled by the completer when it gives up, so the producer stops.
    pub given_up: CancellationToken,
}

/// What the completer did, and the store error it gave up on, if it did.
#[derive(Debug)]
pub(crate) struct Completed {
    /// What it wrote.
    pub counts: CompletionCounts,
    /// The error it gave up on.
    pub gave_up: Option<StoreError>,
}

/// Writes completions from `receiver` until it closes, or until it gives up on the
/// store (then the rest are counted as unrecorded).
pub(crate) async fn run(
    store: Arc<dyn Store>,
    mut receiver: mpsc::UnboundedReceiver<Completion>,
    max_batch: usize,
    backlog: Arc<Backlog>,
    give_up: GiveUp,
    metrics: Arc<Metrics>,
) -> Completed {
    let mut counts = CompletionCounts::default();
    let mut batch = Vec::with_capacity(max_batch);
    while let Some(first) = receiver.recv().await {
        batch.push(first);
        while batch.len() < max_batch {
            match receiver.try_recv() {
                Ok(completion) => batch.push(completion),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let applied = match write(store.as_ref(), &batch, &give_up).await {
            Ok(applied) => {
                metrics.record_completion_batch(batch.len(), started.elapsed());
                applied
            }
            Err(error) => {
                // The producer stops at this, interrupts its attempts and drops its
                // sender; what it hands over meanwhile is counted too.
                give_up.given_up.cancel();
                let mut unrecorded = batch.len() as u64;
                while receiver.recv().await.is_some() {
                    unrecorded += 1;
                }
                counts.unrecorded += unrecorded;
                tracing::error!(%error, unrecorded, "giving up on recording finished attempts; their jobs will be rescued and run again");
                return Completed {
                    counts,
                    gave_up: Some(error),
                };
            }
        };
        counts.batches += 1;
        for completion in &batch {
            if !applied.contains(&completion.id) {
                counts.fenced_out += 1;
                continue;
            }
            match completion.next {
                NextState::Successful(_) => counts.successful += 1,
                NextState::Failed => counts.failed += 1,
                NextState::Retry(_) => counts.retried += 1,
            }
        }
        backlog.remove(batch.len());
        batch.clear();
    }
    Completed {
        counts,
        gave_up: None,
    }
}

/// Writes one batch, retrying until the store takes it; gives up after
/// `give_up.after` of failures, or at once when told to stop while failing.
async fn write(
    store: &dyn Store,
    batch: &[Completion],
    give_up: &GiveUp,
) -> Result<Vec<String>, StoreError> {
    let mut delay = Duration::from_millis(50);
    let failing_since = Instant::now();
    loop {
        let written = tokio::select! {
            written = store.job_complete_many(batch) => written,
            // A write that hangs must not hold a worker told to stop now.
            _ = give_up.stop.cancelled() => Err(StoreError::Abandoned {
                context: "recording finished attempts",
            }),
        };
        let error = match written {
            Ok(applied) => return Ok(applied),
            Err(error) => error,
        };
        let failing = failing_since.elapsed();
        if failing >= give_up.after || give_up.stop.is_cancelled() {
            return Err(error);
        }
        tracing::warn!(%error, batch = batch.len(), "cannot record finished attempts; retrying in {delay:?}");
        tokio::select! {
            _ = tokio::time::sleep(delay.min(give_up.after - failing)) => {}
            _ = give_up.stop.cancelled() => {}
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
