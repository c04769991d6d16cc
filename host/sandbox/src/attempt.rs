//! One attempt: a fresh store and instance from the component's pre-instantiated
//! form, metered by fuel, memory cap and deadline, with stdio captured. Nothing
//! survives from one attempt to the next.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wasmtime::component::ResourceTable;
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::WasiHttpCtx;

use crate::capabilities::Capabilities;
use crate::component::TaskComponent;
use crate::contract::{ComponentPre, Description, GuestError, sdk_class};
use crate::engine::{AttemptState, Sandbox};
use crate::epoch::Ticking;
use crate::error::SandboxError;
use crate::failure::{
    DeadlineExceeded, HTTP_DENIED, HTTP_LIMIT, INVALID_RETURN_VALUE, TaskFailure, is_limit,
};
use crate::http::{AttemptHttp, HttpLog, HttpRecord};
use crate::limits::{AttemptLimiter, Limits};
use crate::output::Capture;
use crate::redact::Redactor;

/// What a `takes_context` task learns about the run in progress (Django's
/// `TaskContext`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskContext {
    /// The id of the TaskResult being worked on.
    pub task_result_id: String,
    /// The attempt number, 1 on the first run.
    pub attempt: u32,
    /// The task path, e.g. `arith.add`.
    pub task_path: String,
    /// The queue the job came from.
    pub queue_name: String,
    /// The job's priority.
    pub priority: i32,
}

/// A request to run one task once.
#[derive(Debug, Clone)]
pub struct TaskCall {
    /// The task's name within the component.
    pub task: String,
    /// Positional arguments: JSON array text.
    pub args: String,
    /// Keyword arguments: JSON object text.
    pub kwargs: String,
    /// The run's context; passed to the guest only if the task takes it.
    pub context: TaskContext,
    /// What the operator grants the component for this attempt.
    pub capabilities: Capabilities,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome {
    /// The task returned this JSON value.
    Returned(serde_json::Value),
    /// The task failed: it returned an error, trapped, or hit a limit.
    Failed(TaskFailure),
}

/// What an attempt cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttemptMetrics {
    /// Fuel units consumed.
    pub fuel_consumed: u64,
    /// Peak linear memory, in bytes.
    pub peak_memory_bytes: u64,
    /// Wall-clock time from instantiation to the end of the call, in microseconds.
    pub duration_us: u64,
    /// HTTP requests the guest sent (refused ones not counted).
    #[serde(default)]
    pub http_requests: u64,
}

/// The full record of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptReport {
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// What it cost.
    pub metrics: AttemptMetrics,
    /// The guest's stdout, capped.
    pub stdout: String,
    /// The guest's stderr, capped.
    pub stderr: String,
}

/// Fuel between two flushes of a running guest's fuel counter (and two yields to
/// the executor): the precision of `fuel_consumed` for an attempt ended by its
/// deadline. About a millisecond of CPU.
const FUEL_FLUSH_INTERVAL: u64 = 10_000_000;

/// A store set up for one attempt, with handles on its captured output.
struct Attempt {
    store: Store<AttemptState>,
    stdout: Capture,
    stderr: Capture,
    redactor: Redactor,
    http: HttpLog,
    limits: Limits,
    epoch_tick: Duration,
    /// Keeps the epoch ticking while the attempt lives.
    _ticking: Ticking,
}

impl Sandbox {
    /// Runs `call` once against `component` within `limits`.
    ///
    /// Errors are reserved for calls that cannot run at all (unknown task, limits
    /// above the sandbox's maximum). Everything that happens once the guest runs,
    /// including traps and exhausted limits, is an [`AttemptOutcome::Failed`].
    pub async fn run(
        &self,
        component: &TaskComponent,
        call: &TaskCall,
        limits: Limits,
    ) -> Result<AttemptReport, SandboxError> {
        let definition = component.task(&call.task)?;
        self.config.check_limits(&limits)?;
        let context = definition.takes_context.then_some(&call.context);
        let _slot = self.acquire_slot().await?;
        let mut attempt = self.attempt(limits, call.capabilities.clone())?;
        let started = Instant::now();
        let result = attempt
            .within_deadline(async |store: &mut Store<AttemptState>| {
                component
                    .pre
                    .run(store, &call.task, &call.args, &call.kwargs, context)
                    .await
            })
            .await;
        let duration = started.elapsed();
        // Output is redacted as it is captured; what the guest returns is redacted
        // here, before anything is cut to size, and what the host says of a failure
        // last.
        let stderr = attempt.stderr.render();
        let redactor = &attempt.redactor;
        let outcome = match result {
            Ok(Ok(json)) => self.accept_return_value(json, &stderr, redactor),
            Ok(Err(error)) => {
                AttemptOutcome::Failed(guest_failure(error, &component.pre, &stderr, redactor))
            }
            Err(trap) => AttemptOutcome::Failed(TaskFailure::from_trap(&trap, &stderr)),
        };
        let outcome = match explain_http(outcome, &attempt.http.lock(), &stderr) {
            // What the host wrote about a trap or a refused request may quote what
            // the guest chose (an origin, a host error's text): redacted too.
            AttemptOutcome::Failed(failure) => AttemptOutcome::Failed(TaskFailure {
                exception_class_path: failure.exception_class_path,
                message: redactor.redact_owned(failure.message),
                traceback: redactor.redact_owned(failure.traceback),
            }),
            returned => returned,
        };
        Ok(attempt.report(outcome, duration, stderr))
    }

    /// Asks a component for its name and tasks, in a fresh instance with default
    /// limits.
    pub(crate) async fn describe(&self, pre: &ComponentPre) -> Result<Description, SandboxError> {
        let _slot = self.acquire_slot().await?;
        let mut attempt = self.attempt(self.config.default_limits, Capabilities::default())?;
        let result = attempt
            .within_deadline(async |store: &mut Store<AttemptState>| pre.describe(store).await)
            .await;
        result.map_err(|trap| {
            SandboxError::ListingFailed(Box::new(TaskFailure::from_trap(
                &trap,
                &attempt.stderr.render(),
            )))
        })
    }

    async fn acquire_slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, SandboxError> {
        self.slots
            .acquire()
            .await
            .map_err(|_| SandboxError::Engine("the sandbox is shutting down".into()))
    }

    fn attempt(&self, limits: Limits, capabilities: Capabilities) -> Result<Attempt, SandboxError> {
        let redactor = capabilities.redactor();
        let stdout = Capture::new(self.config.output_cap, redactor.clone());
        let stderr = Capture::new(self.config.output_cap, redactor.clone());
        // Deny by default: no preopened directories, no environment, no arguments,
        // and the default socket check refuses every address.
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let deadline = Instant::now() + limits.timeout;
        let http = HttpLog::default();
        let http_hooks = AttemptHttp::new(
            capabilities.http_allow_list(),
            capabilities.http_limits(),
            deadline,
            http.clone(),
        );
        let state = AttemptState {
            wasi,
            table: ResourceTable::new(),
            limiter: AttemptLimiter::new(limits.memory_bytes),
            capabilities,
            http: WasiHttpCtx::new(),
            http_hooks,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        store
            .set_fuel(limits.fuel)
            .map_err(|e| SandboxError::Engine(crate::error::describe(&e)))?;
        let timeout = limits.timeout;
        store.set_epoch_deadline(1);
        // Compiled code flushes its fuel counter at calls and at this interval, not at
        // epoch checks: without it a loop ended by the deadline would report no fuel.
        store
            .fuel_async_yield_interval(Some(FUEL_FLUSH_INTERVAL))
            .map_err(|e| SandboxError::Engine(crate::error::describe(&e)))?;
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                Err(DeadlineExceeded(timeout).into())
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        Ok(Attempt {
            store,
            stdout,
            stderr,
            redactor,
            http,
            limits,
            epoch_tick: self.config.epoch_tick,
            _ticking: self.ticker.keep_ticking(),
        })
    }

    fn accept_return_value(
        &self,
        json: String,
        stderr: &str,
        redactor: &Redactor,
    ) -> AttemptOutcome {
        let max = self.config.max_return_bytes;
        if json.len() > max {
            let message = format!(
                "the return value is {} bytes; the limit is {max}",
                json.len()
            );
            return AttemptOutcome::Failed(TaskFailure::new(
                INVALID_RETURN_VALUE,
                message,
                "",
                stderr,
            ));
        }
        let parsed = serde_json::from_str(&json)
            .map_err(|error| format!("the return value is not valid JSON: {error}"))
            .and_then(|mut value| {
                crate::numbers::canonical(&mut value)
                    .map(|()| value)
                    .map_err(|error| format!("the return value is not storable: {error}"))
            });
        match parsed {
            Ok(value) => AttemptOutcome::Returned(redactor.redact_json(value)),
            Err(message) => {
                AttemptOutcome::Failed(TaskFailure::new(INVALID_RETURN_VALUE, message, "", stderr))
            }
        }
    }
}

impl Attempt {
    /// Runs `call` on this attempt's store, ending it at the deadline even if the
    /// guest is blocked in a host call (the epoch callback only fires in wasm code).
    async fn within_deadline<R>(
        &mut self,
        call: impl AsyncFnOnce(&mut Store<AttemptState>) -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        let timeout = self.limits.timeout;
        // The epoch callback ends a guest that is executing, with a trap that keeps its
        // backtrace and fuel count; this timer, two ticks later, ends one that is blocked.
        let backstop = timeout + 2 * self.epoch_tick;
        match tokio::time::timeout(backstop, call(&mut self.store)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(DeadlineExceeded(timeout).into()),
        }
    }

    fn report(self, outcome: AttemptOutcome, duration: Duration, stderr: String) -> AttemptReport {
        let remaining = self.store.get_fuel().unwrap_or(0);
        AttemptReport {
            outcome,
            metrics: AttemptMetrics {
                fuel_consumed: self.limits.fuel.saturating_sub(remaining),
                peak_memory_bytes: self.store.data().limiter.peak_memory(),
                duration_us: duration.as_micros() as u64,
                http_requests: u64::from(self.http.lock().requests()),
            },
            stdout: self.stdout.render(),
            stderr,
        }
    }
}

/// A failure after a refused HTTP request is reported as the refusal (the task let
/// the error propagate), with the guest's own failure kept in the traceback; a
/// sandbox limit hit meanwhile keeps its class.
fn explain_http(outcome: AttemptOutcome, http: &HttpRecord, stderr: &str) -> AttemptOutcome {
    let failure = match outcome {
        AttemptOutcome::Failed(failure) if !is_limit(&failure.exception_class_path) => failure,
        other => return other,
    };
    let (class, message) = match (&http.denied, &http.limited) {
        (Some(origin), _) => (
            HTTP_DENIED,
            format!(
                "the request to {origin} was denied: the origin is not in the component's allow-list"
            ),
        ),
        (None, Some(limit)) => (HTTP_LIMIT, limit.clone()),
        (None, None) => return AttemptOutcome::Failed(failure),
    };
    let detail = format!(
        "the task failed with {}: {}",
        failure.exception_class_path, failure.message
    );
    AttemptOutcome::Failed(TaskFailure::new(class, message, &detail, stderr))
}

/// The prefix of the classes only the host gives.
const HOST_PREFIX: &str = "wasmtasks.";

/// A failure the guest reported itself keeps the class it chose, unless that class
/// is the host's: a guest must not pass for a host event (`wasmtasks.WorkerLost`)
/// or stop its own retries (`wasmtasks.InvalidArguments`), so such a class is
/// prefixed with `guest.` and the traceback says why. The SDK's own refusals
/// arrive apart (contract 0.2.0) and get the host's class. A 0.1.0 component
/// reported those refusals as task errors, so there the SDK's four classes are
/// kept as they are. Secrets are redacted from all of it before it is cut to size.
fn guest_failure(
    error: GuestError,
    pre: &ComponentPre,
    stderr: &str,
    redactor: &Redactor,
) -> TaskFailure {
    let (class, message, detail) = match error {
        GuestError::Sdk { class, message } => {
            return TaskFailure::new(class, redactor.redact_owned(message), "", stderr);
        }
        GuestError::Task {
            class,
            message,
            detail,
        } => (
            redactor.redact_owned(class),
            redactor.redact_owned(message),
            redactor.redact_owned(detail),
        ),
    };
    let legacy_sdk_class = matches!(pre, ComponentPre::V1(_))
        && [
            sdk_class::INVALID_ARGUMENTS,
            sdk_class::TASK_NOT_FOUND,
            sdk_class::INVALID_RETURN_VALUE,
            sdk_class::MISSING_CONTEXT,
        ]
        .contains(&class.as_str());
    if class.starts_with(HOST_PREFIX) && !legacy_sdk_class {
        let note = format!(
            "the task reported the class `{class}`, which is reserved for the host; it is recorded as `guest.{class}`"
        );
        let detail = if detail.is_empty() {
            note
        } else {
            format!("{note}\n{detail}")
        };
        return TaskFailure::new(&format!("guest.{class}"), message, &detail, stderr);
    }
    TaskFailure::new(&class, message, &detail, stderr)
}
