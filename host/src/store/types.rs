//! The params and rows of the [`super::Store`] interface.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use wasmtasks_sandbox::{
    Capabilities, ConfigValue, LimitOverrides, OriginPattern, TaskCall, TaskContext, TaskDefinition,
};

use crate::task::{AttemptRecord, TaskStatus};
use crate::tenant::Role;

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
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Its tasks with their declared defaults and signatures.
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
    /// When it was enqueued (whole microseconds, as both stores keep it).
    pub enqueued_at: DateTime<Utc>,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// Backoff base in seconds.
    pub backoff_factor: f64,
    /// The longest delay between two attempts.
    pub max_backoff: Duration,
    /// Limits the job asks for.
    pub limits: LimitOverrides,
    /// Its unique key ([`crate::unique`]), if it asked to be unique.
    pub unique_key: Option<String>,
    /// The statuses in which it blocks duplicates, as bits (0 when not unique).
    pub unique_states: u8,
}

/// A job of an insert that was not inserted: a job with its unique key exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The id the refused job would have had.
    pub id: String,
    /// The existing job.
    pub existing: String,
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
    /// Only jobs of these tenants; `None` for every tenant.
    pub tenants: Option<Vec<String>>,
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
    /// The attempt number past which the job fails: its `max_attempts`, plus the
    /// attempts made before a manual retry.
    pub max_attempts: u32,
    /// Backoff base in seconds.
    pub backoff_factor: f64,
    /// The longest delay between two attempts.
    pub max_backoff: Duration,
    /// Limits the job asks for.
    pub limits: LimitOverrides,
    /// The tenant's per-attempt ceilings, read with the claim: the attempt gets
    /// no more than these, whatever the job and its task ask for.
    pub ceilings: LimitOverrides,
    /// The store's count of configuration and HTTP grant changes, read with the
    /// claim: capabilities read under the same count are current for this attempt
    /// (`None` for a job not claimed from a store).
    pub capabilities_generation: Option<i64>,
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
            max_backoff: job.max_backoff,
            limits: job.limits,
            // Run in process, by the caller itself: no tenant's ceilings apply.
            ceilings: LimitOverrides::default(),
            capabilities_generation: None,
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

impl Completion {
    /// `job`'s attempt recorded as successful, returning `value`, with no time
    /// spent and no output: for benchmarks and tools that record attempts they did
    /// not run.
    pub fn succeeded(job: &ClaimedJob, worker_id: &str, value: Value) -> Completion {
        let now = Utc::now();
        Completion {
            id: job.id.clone(),
            worker_id: worker_id.to_owned(),
            next: NextState::Successful(value),
            record: AttemptRecord {
                attempt: job.attempt,
                worker_id: worker_id.to_owned(),
                started_at: now,
                finished_at: now,
                status: TaskStatus::Successful,
                error: None,
                metrics: Default::default(),
                stdout: String::new(),
                stderr: String::new(),
            },
            only_if_expired: false,
        }
    }
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
    /// The attempt number past which the job fails (as [`ClaimedJob::max_attempts`]).
    pub max_attempts: u32,
    /// Backoff base in seconds.
    pub backoff_factor: f64,
    /// The longest delay between two attempts.
    pub max_backoff: Duration,
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
    /// Also delete component versions that are not their name's newest and that
    /// no job left after the prune pins.
    pub components: bool,
    /// Count, delete nothing; the counts are exactly what the real run deletes.
    pub dry_run: bool,
}

/// What a prune deleted (or would delete).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PruneReport {
    /// SUCCESSFUL jobs.
    pub successful: u64,
    /// FAILED jobs.
    pub failed: u64,
    /// CANCELLED jobs.
    pub cancelled: u64,
    /// Old component versions no job references any more (only with
    /// [`JobPrune::components`]).
    pub component_versions: u64,
    /// Status events older than [`JobPrune::finished_before`], of every queue
    /// (the event stream keeps as long as finished jobs do).
    pub events: u64,
    /// READY jobs that waited past the stale age (only the pruner's batches).
    pub stale: u64,
}

/// One batch of the workers' pruner, across every tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneBatch {
    /// SUCCESSFUL and CANCELLED jobs finished before this are deleted.
    pub finished_before: DateTime<Utc>,
    /// FAILED jobs finished before this are deleted.
    pub failed_before: DateTime<Utc>,
    /// READY jobs runnable since before this are stale and deleted.
    pub stale_before: DateTime<Utc>,
    /// At most this many jobs of each kind (finished, stale) and events.
    pub limit: u32,
}

/// The number of jobs of one queue in one status.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueueStat {
    /// The tenant.
    pub tenant: String,
    /// Queue.
    pub queue_name: String,
    /// Status.
    pub status: TaskStatus,
    /// How many.
    pub count: u64,
    /// For READY: when the longest-waiting job that may run now became available.
    pub oldest_available_at: Option<DateTime<Utc>>,
}

/// Which finished jobs to count, in buckets of time (throughput and failure rate).
#[derive(Debug, Clone)]
pub struct JobCountFinished {
    /// Tenant.
    pub tenant: String,
    /// Jobs finished at or after this time's minute; bucket 0 starts there.
    pub since: DateTime<Utc>,
    /// The width of one bucket, in whole minutes (jobs are counted per minute).
    pub bucket: Duration,
}

/// How many jobs finished in one status within one bucket of time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedBucket {
    /// The bucket: 0 starts at `since`, each one bucket's width later.
    pub bucket: u32,
    /// SUCCESSFUL, FAILED or CANCELLED.
    pub status: TaskStatus,
    /// How many.
    pub count: u64,
}

/// Which jobs to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct JobList {
    /// The owner.
    pub tenant: String,
    /// Only these statuses; all when empty.
    pub statuses: Vec<TaskStatus>,
    /// Only this queue.
    pub queue_name: Option<String>,
    /// Only this component.
    pub component: Option<String>,
    /// Only this task of [`JobList::component`].
    pub task_name: Option<String>,
    /// Only jobs enqueued at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only jobs enqueued before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only jobs older than this id (the cursor: the last id of the previous page).
    pub before_id: Option<String>,
    /// Only jobs of this id or newer (ids sort as their enqueue times do).
    pub after_id: Option<String>,
    /// At most this many.
    pub limit: u32,
    /// Read at most this many of the tenant's jobs in [`JobList::statuses`]
    /// (newest first, from the id bounds) before the other filters apply, so a
    /// filter that matches few jobs costs a bounded read; at least `limit`.
    pub scan: u32,
}

/// A page of a job list as the store read it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobListed {
    /// The jobs, newest first.
    pub jobs: Vec<JobSummary>,
    /// When the read stopped at [`JobList::scan`] jobs: the oldest id it read.
    /// Older jobs were not looked at.
    pub scan_ended_at: Option<String>,
}

/// One job in a list: what a person scans for.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobSummary {
    /// Job id.
    pub id: String,
    /// The task path as enqueued.
    pub task_path: String,
    /// Status.
    pub status: TaskStatus,
    /// Queue.
    pub queue_name: String,
    /// Priority.
    pub priority: i32,
    /// When it was enqueued.
    pub enqueued_at: DateTime<Utc>,
    /// When it finished for good.
    pub finished_at: Option<DateTime<Utc>>,
    /// Attempts made.
    pub attempts: u32,
    /// The class of its latest failed attempt's error.
    pub last_error: Option<String>,
}

/// Which jobs to put back to READY.
#[derive(Debug, Clone)]
pub enum RetrySelection {
    /// These jobs, which must be FAILED or CANCELLED.
    Ids(Vec<String>),
    /// Every FAILED job of one component (and task, if given).
    Failed {
        /// Only this component.
        component: Option<String>,
        /// Only this task of it.
        task_name: Option<String>,
    },
}

/// What a retry did to one job.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RetryOutcome {
    /// Back to READY with a fresh attempt budget.
    Retried {
        /// Job id.
        id: String,
    },
    /// No such job.
    NotFound {
        /// Job id.
        id: String,
    },
    /// The job is not FAILED or CANCELLED.
    NotRetryable {
        /// Job id.
        id: String,
        /// Its status.
        status: TaskStatus,
    },
    /// The component version the job pins has been deleted.
    ComponentGone {
        /// Job id.
        id: String,
    },
    /// A unique job whose key another job holds now (a duplicate enqueued since).
    Duplicate {
        /// Job id.
        id: String,
    },
}

impl RetryOutcome {
    /// Why the job was not retried, in the words every front end prints; `None`
    /// when it was.
    pub fn refusal(&self) -> Option<String> {
        match self {
            RetryOutcome::Retried { .. } => None,
            RetryOutcome::NotFound { id } => Some(format!("no task result with id `{id}`")),
            RetryOutcome::NotRetryable { id, status } => Some(format!(
                "cannot retry {id}: it is {status}; only FAILED or CANCELLED jobs can be retried"
            )),
            RetryOutcome::ComponentGone { id } => Some(format!(
                "cannot retry {id}: the component version it pins has been deleted"
            )),
            RetryOutcome::Duplicate { id } => Some(format!(
                "cannot retry {id}: another job with its unique key is waiting or done"
            )),
        }
    }
}

/// Which component versions to delete.
#[derive(Debug, Clone)]
pub struct ComponentDelete {
    /// The owner.
    pub tenant: String,
    /// The component name.
    pub name: String,
    /// Only the version whose digest starts so; every version when `None`.
    pub digest_prefix: Option<String>,
}

/// What deleting component versions did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentDeleted {
    /// These versions (number, digest) are gone.
    Deleted(Vec<(u32, String)>),
    /// No such component or version.
    NotFound,
    /// The digest prefix matches several versions.
    Ambiguous(Vec<String>),
    /// READY or RUNNING jobs pin the versions; nothing was deleted.
    Pinned {
        /// How many jobs.
        jobs: u64,
    },
}

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tenant {
    /// Its name.
    pub name: String,
    /// The origins its admins may grant HTTP access to (set by the operator).
    pub http_ceiling: Vec<OriginPattern>,
    /// What it may use (set by the operator).
    pub quotas: Quotas,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A tenant's quotas. An absent (`null`) limit is no limit.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    /// Attempts of the tenant running at once, across every worker.
    #[serde(default)]
    pub max_running: Option<u32>,
    /// READY jobs it may have; an enqueue past it is refused whole.
    #[serde(default, deserialize_with = "crate::sandbox::int64::optional")]
    pub max_queued: Option<u64>,
    /// Jobs it may enqueue per second, on average (per API process).
    #[serde(default)]
    pub enqueue_rate: Option<f64>,
    /// Jobs it may enqueue at once after a quiet while (default: one second's worth).
    #[serde(default)]
    pub enqueue_burst: Option<u32>,
    /// The most fuel one attempt may have.
    #[serde(default, deserialize_with = "crate::sandbox::int64::optional")]
    pub max_fuel: Option<u64>,
    /// The longest one attempt may run, in milliseconds.
    #[serde(default, deserialize_with = "crate::sandbox::int64::optional")]
    pub max_timeout_ms: Option<u64>,
    /// The most memory one attempt may have, in bytes.
    #[serde(default, deserialize_with = "crate::sandbox::int64::optional")]
    pub max_memory_bytes: Option<u64>,
    /// The largest component it may upload, in bytes.
    #[serde(default, deserialize_with = "crate::sandbox::int64::optional")]
    pub max_component_bytes: Option<u64>,
    /// Component versions it may keep stored.
    #[serde(default)]
    pub max_components: Option<u32>,
    /// Its share of worker slots when several tenants have runnable jobs.
    #[serde(default = "default_weight")]
    pub weight: u32,
}

fn default_weight() -> u32 {
    1
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            max_running: None,
            max_queued: None,
            enqueue_rate: None,
            enqueue_burst: None,
            max_fuel: None,
            max_timeout_ms: None,
            max_memory_bytes: None,
            max_component_bytes: None,
            max_components: None,
            weight: default_weight(),
        }
    }
}

/// The largest weight a tenant may have.
pub const MAX_WEIGHT: u32 = 1000;

impl Quotas {
    /// Checks the values fit together; the error names the quota at fault.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_WEIGHT).contains(&self.weight) {
            return Err(format!(
                "weight must be 1..={MAX_WEIGHT}, got {}",
                self.weight
            ));
        }
        if let Some(rate) = self.enqueue_rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(format!(
                "enqueue_rate must be a positive number of jobs per second, got {rate}"
            ));
        }
        if self.enqueue_burst.is_some() && self.enqueue_rate.is_none() {
            return Err("enqueue_burst needs an enqueue_rate".into());
        }
        for (name, value) in [
            ("enqueue_burst", self.enqueue_burst.map(u64::from)),
            ("max_fuel", self.max_fuel),
            ("max_timeout_ms", self.max_timeout_ms),
            ("max_memory_bytes", self.max_memory_bytes),
            ("max_component_bytes", self.max_component_bytes),
        ] {
            if value == Some(0) {
                return Err(format!(
                    "{name} must be above zero (leave it out for no limit)"
                ));
            }
        }
        Ok(())
    }

    /// The per-attempt ceilings, as limits no attempt may exceed.
    pub fn ceilings(&self) -> LimitOverrides {
        LimitOverrides {
            fuel: self.max_fuel,
            timeout: self.max_timeout_ms.map(Duration::from_millis),
            memory_bytes: self.max_memory_bytes,
        }
    }
}

/// A token to store.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The public id.
    pub id: String,
    /// The tenant it acts for; `None` for an operator token.
    pub tenant: Option<String>,
    /// What it may do.
    pub role: Role,
    /// A name for people.
    pub name: String,
    /// SHA-256 of the secret, hex.
    pub secret_hash: String,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A stored token (its secret is not kept, only a hash of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The public id.
    pub id: String,
    /// The tenant it acts for; `None` for an operator token.
    pub tenant: Option<String>,
    /// What it may do.
    pub role: Role,
    /// A name for people.
    pub name: String,
    /// SHA-256 of the secret, hex.
    pub secret_hash: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What deleting a tenant removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantDeleted {
    /// Jobs.
    pub jobs: u64,
    /// Component versions.
    pub component_versions: u64,
    /// Tokens.
    pub tokens: u64,
}

/// One change of a job's status (or attempt): started (RUNNING), finished
/// (SUCCESSFUL, FAILED, CANCELLED), back to READY (a retry, a release).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskEvent {
    /// Where the event is in the stream: pass it as `after` to read on from it.
    pub cursor: String,
    /// The job.
    pub task_id: String,
    /// Its task path.
    pub task_path: String,
    /// Its status after the change.
    pub status: TaskStatus,
    /// Its attempt number after the change (the attempt that started, for RUNNING).
    pub attempt: u32,
    /// When it changed.
    pub at: DateTime<Utc>,
}

/// Events after a cursor, in order, and the cursor to read on from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventPage {
    /// The events, oldest first.
    pub events: Vec<TaskEvent>,
    /// The cursor after the last event (or where the stream stands now).
    pub cursor: String,
}

/// Where a schedule is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ScheduleSource {
    /// The configuration file (`[schedules.NAME]`), written by the workers.
    File,
    /// The API or the CLI.
    Store,
}

impl ScheduleSource {
    /// As stored: `file` or `store`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleSource::File => "file",
            ScheduleSource::Store => "store",
        }
    }
}

/// A schedule as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleRecord {
    /// The owner.
    pub tenant: String,
    /// Its name.
    pub name: String,
    /// Where it is defined.
    pub source: ScheduleSource,
    /// What it enqueues, and when.
    pub spec: crate::schedule::ScheduleSpec,
    /// Whether it is paused (no tick is taken).
    pub paused: bool,
    /// The next tick to enqueue.
    pub next_run_at: DateTime<Utc>,
    /// The tick last enqueued.
    pub last_run_at: Option<DateTime<Utc>>,
    /// The job last enqueued.
    pub last_job_id: Option<String>,
    /// Why the last tick enqueued nothing (the task was refused).
    pub last_error: Option<String>,
}

/// A schedule to store (created, or its definition replaced).
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulePut {
    /// The owner.
    pub tenant: String,
    /// Its name.
    pub name: String,
    /// Where it is defined.
    pub source: ScheduleSource,
    /// Its definition.
    pub spec: crate::schedule::ScheduleSpec,
    /// Its first tick: used when it is new or its pattern or zone changed.
    pub next_run_at: DateTime<Utc>,
}

/// A tick taken: the schedule moves on from `expected` to `next` only if no one
/// else moved it first.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleAdvance {
    /// The owner.
    pub tenant: String,
    /// The schedule.
    pub name: String,
    /// The next tick it had.
    pub expected: DateTime<Utc>,
    /// The next tick it gets.
    pub next: DateTime<Utc>,
    /// The tick enqueued, if any.
    pub tick: Option<DateTime<Utc>>,
    /// The job enqueued for it.
    pub job_id: Option<String>,
    /// Why nothing was enqueued for the tick.
    pub error: Option<String>,
}

/// What a tenant used on one UTC day, as the triggers of the store counted it:
/// kept when its jobs are pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageDay {
    /// The day (UTC).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub day: chrono::NaiveDate,
    /// What was used.
    #[serde(flatten)]
    pub used: UsageCounts,
}

/// Jobs finished, attempts and what they cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageCounts {
    /// Jobs that finished SUCCESSFUL.
    pub successful: u64,
    /// Jobs that finished FAILED.
    pub failed: u64,
    /// Jobs CANCELLED.
    pub cancelled: u64,
    /// Attempts that ended.
    pub attempts: u64,
    /// Fuel those attempts consumed.
    pub fuel_consumed: u64,
    /// Their time, from instantiation to the end of the call, in microseconds.
    pub attempt_us: u64,
    /// The highest peak linear memory of one of them, in bytes.
    pub peak_memory_bytes: u64,
    /// HTTP requests they sent.
    pub http_requests: u64,
}

impl UsageCounts {
    /// Adds `other`'s counts to these (the peak is the higher one).
    pub fn add(&mut self, other: &UsageCounts) {
        self.successful += other.successful;
        self.failed += other.failed;
        self.cancelled += other.cancelled;
        self.attempts += other.attempts;
        self.fuel_consumed += other.fuel_consumed;
        self.attempt_us += other.attempt_us;
        self.peak_memory_bytes = self.peak_memory_bytes.max(other.peak_memory_bytes);
        self.http_requests += other.http_requests;
    }
}
