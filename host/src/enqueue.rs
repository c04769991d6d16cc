//! Enqueue-time validation, as Django does it: the task exists, the priority is an
//! integer in -100..=100, the queue is one the configuration names, `run_after` is
//! an absolute time, arguments are JSON that bind to the task's parameters and fit
//! their schemas (when its component records a signature), retry and limits are in
//! range. A request that breaks a rule is refused with an error naming the rule,
//! and nothing is stored.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use wasmtasks_sandbox::{LimitOverrides, MAX_PRIORITY, MIN_PRIORITY, numbers};

/// The most attempts a job may be given.
pub const MAX_ATTEMPTS: u32 = 10_000;

use crate::config::Settings;
use crate::registry::{Registry, RegistryError, ResolvedTask};
use crate::signature::ArgumentCheck;
use crate::store::NewJob;
use crate::store::nul::has_nul;
use crate::task::{Arguments, TaskPath, TaskPathError};
use crate::unique::{Keyed, UniqueOptions};

/// A task to enqueue, with the overrides Django's `Task.using()` allows and the
/// retry/limit overrides of one job.
#[derive(Debug, Clone, Default)]
pub struct EnqueueRequest {
    /// `component.task` or `component@digest.task`.
    pub task_path: String,
    /// Its arguments.
    pub arguments: Arguments,
    /// A priority other than the task's default.
    pub priority: Option<i32>,
    /// A queue other than the task's default.
    pub queue_name: Option<String>,
    /// Not to run before this time.
    pub run_after: Option<DateTime<Utc>>,
    /// Attempts allowed, overriding the task's and the queue's.
    pub max_attempts: Option<u32>,
    /// Backoff base, overriding the task's and the queue's.
    pub backoff_factor: Option<f64>,
    /// Limits, overriding the task's.
    pub limits: LimitOverrides,
    /// Refuse it as a duplicate of a job with the same unique key.
    pub unique: Option<UniqueOptions>,
}

/// One job as JSON: the body of `POST /api/v1/jobs`, an item of a bulk enqueue,
/// or a line of a bulk file. Unknown fields are refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobSpec {
    /// `component.task`, or `component@<digest-prefix>.task` to pin a version.
    pub task_path: String,
    /// Positional arguments (none when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<Value>>,
    /// Keyword arguments (none when absent or null).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kwargs: Option<Map<String, Value>>,
    /// Priority, -100..=100 (higher runs first); the task's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    /// Queue; the task's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_name: Option<String>,
    /// Not before this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_after: Option<DateTime<Utc>>,
    /// Attempts allowed; the task's, else the queue's, when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Backoff base in seconds; the task's, else the queue's, when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_factor: Option<f64>,
    /// Fuel per attempt; the task's, else the configuration's, when absent.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::sandbox::int64::optional"
    )]
    pub fuel: Option<u64>,
    /// Timeout per attempt in milliseconds.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::sandbox::int64::optional"
    )]
    pub timeout_ms: Option<u64>,
    /// Memory cap per attempt in bytes.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::sandbox::int64::optional"
    )]
    pub memory_bytes: Option<u64>,
    /// Enqueue it only if no job with the same unique key is in a blocking
    /// status; otherwise the existing job is the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique: Option<UniqueOptions>,
}

impl From<JobSpec> for EnqueueRequest {
    fn from(spec: JobSpec) -> Self {
        EnqueueRequest {
            task_path: spec.task_path,
            arguments: Arguments {
                args: spec.args.unwrap_or_default(),
                kwargs: spec.kwargs.unwrap_or_default(),
            },
            priority: spec.priority,
            queue_name: spec.queue_name,
            run_after: spec.run_after,
            max_attempts: spec.max_attempts,
            backoff_factor: spec.backoff_factor,
            limits: LimitOverrides {
                fuel: spec.fuel,
                timeout: spec.timeout_ms.map(std::time::Duration::from_millis),
                memory_bytes: spec.memory_bytes,
            },
            unique: spec.unique,
        }
    }
}

impl From<&EnqueueRequest> for JobSpec {
    fn from(request: &EnqueueRequest) -> Self {
        JobSpec {
            task_path: request.task_path.clone(),
            args: Some(request.arguments.args.clone()),
            kwargs: Some(request.arguments.kwargs.clone()),
            priority: request.priority,
            queue_name: request.queue_name.clone(),
            run_after: request.run_after,
            max_attempts: request.max_attempts,
            backoff_factor: request.backoff_factor,
            fuel: request.limits.fuel,
            timeout_ms: request.limits.timeout.map(|t| t.as_millis() as u64),
            memory_bytes: request.limits.memory_bytes,
            unique: request.unique.clone(),
        }
    }
}

impl EnqueueRequest {
    /// A request for `task_path` with `args` and default options.
    pub fn new(task_path: impl Into<String>, arguments: Arguments) -> Self {
        EnqueueRequest {
            task_path: task_path.into(),
            arguments,
            ..EnqueueRequest::default()
        }
    }
}

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    /// The task path is malformed.
    #[error(transparent)]
    Path(#[from] TaskPathError),
    /// The component or task does not exist (or the store failed).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A rule of the request is broken.
    #[error("{0}")]
    Invalid(String),
    /// The arguments do not fit the task's signature (worded as the guest SDK would).
    #[error("{0}")]
    InvalidArguments(String),
    /// Enqueueing in the caller's transaction needs the database backend on PostgreSQL.
    #[error(
        "cannot enqueue in the caller's transaction with {0}: that needs the database backend on PostgreSQL"
    )]
    NotTransactional(String),
}

/// Validates `request` for `tenant` and turns it into a job for `backend`.
pub async fn prepare(
    registry: &Registry,
    settings: &Settings,
    tenant: &str,
    backend: &str,
    request: EnqueueRequest,
) -> Result<NewJob, EnqueueError> {
    Preparer::new(registry, settings, tenant, backend)
        .prepare(request)
        .await
}

/// Validates many requests, resolving each task path once.
#[derive(Debug)]
pub struct Preparer<'a> {
    registry: &'a Registry,
    settings: &'a Settings,
    tenant: &'a str,
    backend: &'a str,
    resolved: HashMap<String, Resolved>,
}

/// A task path resolved once per preparer.
#[derive(Debug)]
struct Resolved {
    path: TaskPath,
    target: ResolvedTask,
    check: Option<Arc<ArgumentCheck>>,
}

impl<'a> Preparer<'a> {
    /// A preparer for `tenant`'s jobs on `backend`.
    pub fn new(
        registry: &'a Registry,
        settings: &'a Settings,
        tenant: &'a str,
        backend: &'a str,
    ) -> Self {
        Preparer {
            registry,
            settings,
            tenant,
            backend,
            resolved: HashMap::new(),
        }
    }

    /// Validates one request and turns it into a job.
    pub async fn prepare(&mut self, mut request: EnqueueRequest) -> Result<NewJob, EnqueueError> {
        if !self.resolved.contains_key(&request.task_path) {
            let path = TaskPath::parse(&request.task_path)?;
            let target = self.registry.resolve(self.tenant, &path).await?;
            let check = self
                .registry
                .argument_check(&target.version.digest, target.task())?;
            self.resolved.insert(
                request.task_path.clone(),
                Resolved {
                    path,
                    target,
                    check,
                },
            );
        }
        let Resolved {
            path,
            target,
            check,
        } = &self.resolved[&request.task_path];
        let (version, task) = (&target.version, target.task());
        let arguments = &mut request.arguments;
        arguments
            .args
            .iter_mut()
            .chain(arguments.kwargs.values_mut())
            .try_for_each(numbers::canonical)
            .map_err(|error| EnqueueError::Invalid(error.to_string()))?;
        let arguments = &request.arguments;
        if arguments.args.iter().any(has_nul)
            || arguments
                .kwargs
                .iter()
                .any(|(key, value)| key.contains('\0') || has_nul(value))
        {
            return Err(EnqueueError::Invalid(
                "the arguments contain a NUL character (U+0000), which the database cannot store"
                    .into(),
            ));
        }
        if let Some(check) = check {
            check
                .check(&request.arguments)
                .map_err(EnqueueError::InvalidArguments)?;
        }
        let settings = self.settings;
        let priority = request.priority.unwrap_or(task.priority);
        if !(MIN_PRIORITY..=MAX_PRIORITY).contains(&priority) {
            return Err(EnqueueError::Invalid(format!(
                "priority {priority} is outside {MIN_PRIORITY}..={MAX_PRIORITY}"
            )));
        }
        let queue_name = request
            .queue_name
            .unwrap_or_else(|| task.queue_name.clone());
        let queue = settings
            .require_queue(&queue_name)
            .map_err(EnqueueError::Invalid)?;
        let max_attempts = request
            .max_attempts
            .or(task.retry.max_attempts)
            .unwrap_or(queue.max_attempts);
        if !(1..=MAX_ATTEMPTS).contains(&max_attempts) {
            return Err(EnqueueError::Invalid(format!(
                "max_attempts must be 1..={MAX_ATTEMPTS}, got {max_attempts}"
            )));
        }
        let backoff_factor = request
            .backoff_factor
            .or(task.retry.backoff_factor)
            .unwrap_or(queue.backoff_factor);
        if !(backoff_factor.is_finite() && backoff_factor > 0.0) {
            return Err(EnqueueError::Invalid(format!(
                "backoff_factor must be a positive number, got {backoff_factor}"
            )));
        }
        let limits = request.limits.or(task.limits);
        check_limits(settings, &limits)?;
        let args = request.arguments.args_json();
        let kwargs = request.arguments.kwargs_json();
        let enqueued_at = crate::store::now_micros();
        let unique = match &request.unique {
            None => None,
            Some(options) => Some(
                options
                    .key(Keyed {
                        task: &format!("{}.{}", path.component, path.task),
                        args: &args,
                        kwargs: &kwargs,
                        queue: &queue_name,
                        now: enqueued_at,
                    })
                    .map_err(EnqueueError::Invalid)?,
            ),
        };
        // The resolved version is pinned: later uploads do not change what this job runs.
        Ok(NewJob {
            id: uuid::Uuid::now_v7().to_string(),
            tenant: self.tenant.to_owned(),
            task_path: path.to_string(),
            component: path.component.clone(),
            task_name: path.task.clone(),
            component_digest: version.digest.clone(),
            args,
            kwargs,
            priority,
            queue_name,
            backend: self.backend.to_owned(),
            takes_context: task.takes_context,
            run_after: request.run_after,
            enqueued_at,
            max_attempts,
            backoff_factor,
            max_backoff: queue.max_backoff,
            limits,
            unique_key: unique.as_ref().map(|u| u.key.clone()),
            unique_states: unique.map_or(0, |u| u.states),
        })
    }
}

fn check_limits(settings: &Settings, limits: &LimitOverrides) -> Result<(), EnqueueError> {
    if let Some(memory) = limits.memory_bytes
        && memory > settings.max_memory_bytes
    {
        return Err(EnqueueError::Invalid(format!(
            "a memory limit of {memory} bytes is above the configured maximum ({} bytes, limits.max_memory)",
            settings.max_memory_bytes
        )));
    }
    if limits.fuel == Some(0)
        || limits.timeout.is_some_and(|t| t.is_zero())
        || limits.memory_bytes == Some(0)
    {
        return Err(EnqueueError::Invalid("limits must be above zero".into()));
    }
    // What the stores keep and the wire form carries: an `int64` of fuel and of
    // milliseconds. A larger value stored would make the job unreadable.
    if let Some(fuel) = limits.fuel
        && i64::try_from(fuel).is_err()
    {
        return Err(EnqueueError::Invalid(format!(
            "a fuel limit of {fuel} is too large: at most {}",
            i64::MAX
        )));
    }
    if let Some(timeout) = limits.timeout
        && timeout > crate::config::MAX_DURATION
    {
        return Err(EnqueueError::Invalid(format!(
            "a timeout of {timeout:?} is longer than the maximum of 36500 days"
        )));
    }
    Ok(())
}
