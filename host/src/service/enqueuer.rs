//! Group commit for single enqueues: many concurrent single-job enqueues (HTTP
//! requests, library calls) are written as one insert, so they do not cost one
//! transaction each. A request waits for the batch it joined to commit and gets
//! its own answer. The batch is whatever arrived while the previous write ran (up
//! to [`MAX_GROUP`]): an idle system writes each job at once, a busy one writes
//! large groups. If a group's insert fails, its jobs are written one by one, so a
//! failure is only ever reported to the request it belongs to. A unique job whose
//! duplicate exists is answered with the existing job's id.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::store::{NewJob, Store, StoreError};

/// Most jobs written in one group.
const MAX_GROUP: usize = 1024;

/// The answer to one job: `None` when it was inserted, the existing job's id when
/// it was a duplicate.
type Answer = Result<Option<String>, StoreError>;

type Reply = oneshot::Sender<Answer>;

/// The handle that queues jobs for the group writer.
#[derive(Debug)]
pub(super) struct Enqueuer {
    sender: mpsc::UnboundedSender<(NewJob, Reply)>,
}

impl Enqueuer {
    /// Starts the group writer on `store`; it stops when the handle is dropped.
    pub(super) fn start(store: Arc<dyn Store>) -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(write_groups(store, receiver));
        Enqueuer { sender }
    }

    /// Writes `job` with whatever else is being enqueued now; returns once it is
    /// committed (`None`), or the existing job's id when it is a duplicate.
    pub(super) async fn enqueue(&self, job: NewJob) -> Answer {
        let (reply, answer) = oneshot::channel();
        if self.sender.send((job, reply)).is_err() {
            return Err(stopped());
        }
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }
}

fn stopped() -> StoreError {
    StoreError::Corrupt {
        context: "enqueuing a job",
        message: "the enqueue writer has stopped (the process is shutting down)".into(),
    }
}

async fn write_groups(
    store: Arc<dyn Store>,
    mut receiver: mpsc::UnboundedReceiver<(NewJob, Reply)>,
) {
    let mut jobs = Vec::with_capacity(MAX_GROUP);
    let mut replies = Vec::with_capacity(MAX_GROUP);
    while let Some((job, reply)) = receiver.recv().await {
        jobs.push(job);
        replies.push(reply);
        while jobs.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok((job, reply)) => {
                    jobs.push(job);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        match store.job_insert_many(&jobs).await {
            Ok(duplicates) => {
                for (job, reply) in jobs.iter().zip(replies.drain(..)) {
                    let existing = duplicates
                        .iter()
                        .find(|duplicate| duplicate.id == job.id)
                        .map(|duplicate| duplicate.existing.clone());
                    let _ = reply.send(Ok(existing));
                }
            }
            Err(error) if jobs.len() == 1 => {
                let _ = replies.remove(0).send(Err(error));
            }
            Err(_) => {
                for (job, reply) in jobs.iter().zip(replies.drain(..)) {
                    let answer = store
                        .job_insert_many(std::slice::from_ref(job))
                        .await
                        .map(|duplicates| duplicates.into_iter().next().map(|d| d.existing));
                    let _ = reply.send(answer);
                }
            }
        }
        jobs.clear();
    }
}
