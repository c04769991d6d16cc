//! The completer: writes finished attempts in batches.
//!
//! It takes what is waiting at once (up to a batch size) and writes it in one
//! batch, so an idle queue gets each result written immediately and a busy one gets
//! large batches. A failed write is retried with backoff and never dropped: while
//! the database is away it keeps trying, and writes the batch once it is back. If
//! the process dies first, or a lease expires before the write gets through, the
//! job is rescued and run again (at-least-once); a write that did reach the
//! database before its answer was lost is refused by the fence on the retry, so
//! nothing is recorded twice.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::store::{Completion, NextState, Store};

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
}

/// Writes completions from `receiver` until it closes; returns the counts.
pub(crate) async fn run(
    store: Arc<dyn Store>,
    mut receiver: mpsc::UnboundedReceiver<Completion>,
    max_batch: usize,
) -> CompletionCounts {
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
        let applied = write(store.as_ref(), &batch).await;
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
        batch.clear();
    }
    counts
}

/// Writes one batch, retrying until the store takes it.
async fn write(store: &dyn Store, batch: &[Completion]) -> Vec<String> {
    let mut delay = Duration::from_millis(50);
    loop {
        match store.job_complete_many(batch).await {
            Ok(applied) => return applied,
            Err(error) => {
                tracing::warn!(%error, batch = batch.len(), "cannot record finished attempts; retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
