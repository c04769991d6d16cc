//! The params and rows of the [`super::Store`] interface.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use wasmtasks_sandbox::{
    Capabilities, ConfigValue, LimitOverrides, OriginPattern, TaskCall, TaskContext, TaskDefinition,
};

use crate::task::{AttemptRecord, TaskStatus};

/// One configuration value of a component to set.
#[derive(Debug, Clone)]
pub struct ComponentConfigSet {
    /// The owner.
    pub tenant: String,
    /// The component's name.
    pub component: String,
    /// The key the guest reads.
    pub key: String,
    /// The value, and whether it is secret (its `Debug` form hides a secret).
    pub value: ConfigValue,
}

/// An HTTP origin to grant a component, or to revoke.
#[derive(Debug, Clone)]
pub struct ComponentGrant {
    /// The owner.
    pub tenant: String,
    /// The component's name.
    pub component: String,
    /// The origin pattern.
    pub origin: OriginPattern,
    /// True to grant, false to revoke.
    pub granted: bool,
}

/// A component version to store.
#[derive(Debug, Clone)]
pub struct ComponentInsert {
    /// The owner.
    pub tenant: String,
    /// The component name.
    pub name: String,
    /// sha256 of `bytes`.
    pub digest: String,
    /// The component itself.
    pub bytes: Vec<u8>,
    /// Its tasks, as read at upload.
    pub tasks: Vec<TaskDefinition>,
}

/// What storing a component did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentInserted {
    /// A new version was stored.
    Created {
        /// Its version number.
        version: u32,
    },
    /// These bytes already are the name's newest version; nothing changed.
    Unchanged {
        /// That version's number.
        version: u32,
    },
}

/// Which version of a component to look up.
#[derive(Debug, Clone)]
pub struct ComponentResolve {
    /// The owner.
    pub tenant: String,
    /// The component name.
    pub name: String,
    /// A digest prefix pinning a version; `None` for the newest.
    pub digest_prefix: Option<String>,
}

/// The answer to a [`ComponentResolve`].
#[derive(Debug, Clone)]
pub enum ComponentLookup {
    /// Exactly one version matched.
    Found(Box<ComponentVersion>),
    /// No component of that name (or no version with that prefix).
    NotFound,
    /// The digest prefix matches several versions.
    Ambiguous(Vec<String>),
}

/// One stored version of a component.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentVersion {
    /// The owner.
    pub tenant: String,
    /// The component name.
    pub name: String,
    /// 1 for the first upload of the name.
    pub version: u32,
    /// sha256 of the bytes.
    pub digest: String,
    /// Size of the bytes.
    pub size_bytes: u64,
    /// Its tasks with their declared defaults.
    pub tasks: Vec<TaskDefinition>,
    /// When it was uploaded.
    pub uploaded_at: DateTime<Utc>,
}

/// A validated job, ready to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// UUIDv7.
    pub id: String,
    /// The owner.
    pub tenant: String,
    /// The task path as enqueued.
    pub task_path: String,
    /// The component name.
    pub component: String,
    /// The task name.
    pub task_name: String,
    /// The pinned component version.
    pub component_digest: String,
    /// Positional arguments, JSON array text.
    pub args: String,
    /// Keyword arguments, JSON object text.
    pub kwargs: String,
    /// Priority, -100..=100.
    pub priority: i32,
    /// Queue.
    pub queue_name: String,
    /// Backend name, `database`.
    pub backend: String,
    /// Whether the task takes a context.
    pub takes_context: bool,
    /// Not before this time.
    pub run_after: Option<DateTime<Utc>>,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// Backoff base in seconds.
    pub backoff_factor: f64,
    /// Limits the job asks for.
    pub limits: LimitOverrides,
}

/// Which queues a worker serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueFilter {
    /// Every queue except these.
    All {
        /// Queues to leave alone.
        exclude: Vec<String>,
    },
    /// Only these queues.
    Only(Vec<String>),
}

/// A claim of ready jobs.
#[derive(Debug, Clone)]
pub struct JobClaim {
    /// The claiming worker.
    pub worker_id: String,
    /// Its queues.
    pub queues: QueueFilter,
    /// At most this many jobs.
    pub limit: u32,
    /// How long the lease lasts unless renewed.
    pub lease: Duration,
}

/// A job a worker now holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedJob {
    /// Job id.
    pub id: String,
    /// The owner.
    pub tenant: String,
    /// The task path as enqueued.
    pub task_path: String,
    /// The component name.
    pub component: String,
    /// The task name.
    pub task_name: String,
    /// The pinned component version.
    pub component_digest: String,
    /// Positional arguments, JSON array text.
    pub args: String,
    /// Keyword arguments, JSON object text.
    pub kwargs: String,
    /// Priority.
    pub priority: i32,
    /// Queue.
    pub queue_name: String,
    /// This attempt's number (1 on the first run).
    pub attempt: u32,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// Backoff base in seconds.
    pub backoff_factor: f64,
    /// Limits the job asks for.
    pub limits: LimitOverrides,
}

impl ClaimedJob {
    /// The claim a job would be on its first attempt (for running it in process).
    pub fn first_attempt(job: &NewJob) -> ClaimedJob {
        ClaimedJob {
            id: job.id.clone(),
            tenant: job.tenant.clone(),
            task_path: job.task_path.clone(),
            component: job.component.clone(),
            task_name: job.task_name.clone(),
            component_digest: job.component_digest.clone(),
            args: job.args.clone(),
            kwargs: job.kwargs.clone(),
            priority: job.priority,
            queue_name: job.queue_name.clone(),
            attempt: 1,
            max_attempts: job.max_attempts,
            backoff_factor: job.backoff_factor,
            limits: job.limits,
        }
    }

    /// The sandbox call for this attempt, with its context and what the operator
    /// grants its component.
    pub fn task_call(&self, capabilities: Capabilities) -> TaskCall {
        TaskCall {
            task: self.task_name.clone(),
            args: self.args.clone(),
            kwargs: self.kwargs.clone(),
            context: TaskContext {
                task_result_id: self.id.clone(),
                attempt: self.attempt,
                task_path: self.task_path.clone(),
                queue_name: self.queue_name.clone(),
                priority: self.priority,
            },
            capabilities,
        }
    }
}

/// A job and attempt a worker refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRef {
    /// Job id.
    pub id: String,
    /// The attempt the worker holds.
    pub attempt: u32,
}

/// What happens to a job after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum NextState {
    /// Done, with this return value.
    Successful(Value),
    /// Done, failed for good.
    Failed,
    /// Back to READY, available again after this delay (from the store's clock).
    Retry(Duration),
}

/// The end of one attempt, to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// Job id.
    pub id: String,
    /// The worker the lease belongs to.
    pub worker_id: String,
    /// What the job becomes.
    pub next: NextState,
    /// The attempt, in full (its number is the fence).
    pub record: AttemptRecord,
    /// Apply only if the lease has expired (rescue), so a live worker is never overruled.
    pub only_if_expired: bool,
}

/// A lease renewal.
#[derive(Debug, Clone)]
pub struct LeaseRenewal {
    /// The worker holding the leases.
    pub worker_id: String,
    /// The jobs it is running.
    pub jobs: Vec<ClaimRef>,
    /// The new lease length from now.
    pub lease: Duration,
}

/// A running job whose lease expired: its worker is presumed dead.
#[derive(Debug, Clone, PartialEq)]
pub struct StuckJob {
    /// Job id.
    pub id: String,
    /// The owner.
    pub tenant: String,
    /// Its queue.
    pub queue_name: String,
    /// The attempt that was lost.
    pub attempt: u32,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// Backoff base in seconds.
    pub backoff_factor: f64,
    /// The worker that held it.
    pub lease_owner: String,
    /// When the lost attempt started.
    pub last_attempted_at: DateTime<Utc>,
}

/// What a cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The job was READY and is now CANCELLED.
    Cancelled,
    /// No such job.
    NotFound,
    /// The job is past READY (running or finished) and cannot be cancelled.
    NotReady(TaskStatus),
}

/// Which finished jobs to delete.
#[derive(Debug, Clone)]
pub struct JobPrune {
    /// The owner.
    pub tenant: String,
    /// SUCCESSFUL and CANCELLED jobs finished before this are deleted.
    pub finished_before: DateTime<Utc>,
    /// FAILED jobs finished before this are deleted.
    pub failed_before: DateTime<Utc>,
    /// Only these queues; `None` for all.
    pub queues: Option<Vec<String>>,
    /// Count, delete nothing.
    pub dry_run: bool,
}

/// What a prune deleted (or would delete).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PruneReport {
    /// SUCCESSFUL jobs.
    pub successful: u64,
    /// FAILED jobs.
    pub failed: u64,
    /// CANCELLED jobs.
    pub cancelled: u64,
    /// Old component versions no job references any more.
    pub component_versions: u64,
}

/// The number of jobs of one queue in one status.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueueStat {
    /// Queue.
    pub queue_name: String,
    /// Status.
    pub status: TaskStatus,
    /// How many.
    pub count: u64,
}
