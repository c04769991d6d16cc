//! Prometheus metrics of one process: what its services enqueued, what its workers
//! ran, claimed and wrote, what its HTTP front answered, and (read from the store
//! at each scrape) queue depths, lag and workers.
//!
//! Label values are tenant names, queue names, statuses, error classes, routes:
//! never a job's arguments or anything a secret could be in. Each label that
//! users choose is capped ([`MAX_LABEL_VALUES`] distinct values per process; the
//! rest count under [`OTHER`]) so no tenant can blow up the series count; an
//! error class that does not look like a dotted class name counts as [`OTHER`] too.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::store::{Duplicate, NewJob, Store, StoreError, WorkerState};

/// Distinct values a user-chosen label (tenant, queue, error class) takes in one
/// process before further ones count under [`OTHER`].
pub const MAX_LABEL_VALUES: usize = 200;

/// The label value standing for every value past the cap (not a valid name, so
/// it never collides with one).
pub const OTHER: &str = "(other)";

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Tenant and queue.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    /// The tenant.
    pub tenant: String,
    /// The queue.
    pub queue: String,
}

/// Tenant, queue and a job status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueStatusLabels {
    /// The tenant.
    pub tenant: String,
    /// The queue.
    pub queue: String,
    /// `READY`, `RUNNING`, …
    pub status: String,
}

/// How an attempt ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AttemptLabels {
    /// The tenant.
    pub tenant: String,
    /// The queue.
    pub queue: String,
    /// `SUCCESSFUL`, `FAILED` (no attempt left) or `RETRY`.
    pub status: String,
    /// The error's class (`""` for a success).
    pub exception_class: String,
}

/// A worker state.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WorkerStateLabels {
    /// `live`, `lost` or `stopped`.
    pub state: String,
}

/// An HTTP answer.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// The route's pattern (`/api/v1/jobs/{id}`), never the path asked for.
    pub route: String,
    /// The method.
    pub method: String,
    /// The status code.
    pub status: String,
}

/// An HTTP route.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route's pattern.
    pub route: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// The first [`MAX_LABEL_VALUES`] distinct values of one label.
#[derive(Debug, Default)]
struct Capped(Mutex<HashSet<String>>);

impl Capped {
    fn admit(&self, value: &str) -> String {
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if seen.contains(value) {
            return value.to_owned();
        }
        if seen.len() < MAX_LABEL_VALUES {
            seen.insert(value.to_owned());
            return value.to_owned();
        }
        OTHER.to_owned()
    }
}

/// Whether `class` looks like an error class name (`ValueError`,
/// `notify.SendFailed`, `wasmtasks.Timeout`): nothing else becomes a label.
fn is_class_name(class: &str) -> bool {
    !class.is_empty()
        && class.len() <= 128
        && class
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':'))
}

fn seconds_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.5, 14))
}

fn small_seconds_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.000_1, 2.5, 14))
}

fn fuel_buckets() -> Histogram {
    Histogram::new(exponential_buckets(10_000.0, 10.0, 10))
}

fn memory_buckets() -> Histogram {
    Histogram::new(exponential_buckets(65_536.0, 4.0, 10))
}

fn batch_buckets() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 12))
}

/// The metrics of one process.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    tenants: Capped,
    queues: Capped,
    classes: Capped,
    routes: Capped,
    /// Serialises scrapes: each clears and refills the store's gauges.
    scrape: tokio::sync::Mutex<()>,
    enqueued: Family<QueueLabels, Counter>,
    attempts: Family<AttemptLabels, Counter>,
    attempt_seconds: Histograms<QueueLabels>,
    attempt_fuel: Histograms<QueueLabels>,
    attempt_memory: Histograms<QueueLabels>,
    claim_size: Histogram,
    claim_seconds: Histogram,
    completion_size: Histogram,
    completion_seconds: Histogram,
    jobs: Family<QueueStatusLabels, Gauge>,
    oldest_ready: Family<QueueLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    workers: Family<WorkerStateLabels, Gauge>,
    http_requests: Family<HttpLabels, Counter>,
    http_seconds: Histograms<RouteLabels>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Every metric, registered, at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("wasmtasks");
        let enqueued = Family::default();
        registry.register("jobs_enqueued", "Jobs enqueued", enqueued.clone());
        let attempts = Family::default();
        registry.register(
            "attempts_finished",
            "Attempts finished, by how they ended and the error's class",
            attempts.clone(),
        );
        let attempt_seconds: Histograms<QueueLabels> =
            Family::new_with_constructor(seconds_buckets);
        registry.register(
            "attempt_duration_seconds",
            "Time an attempt ran",
            attempt_seconds.clone(),
        );
        let attempt_fuel: Histograms<QueueLabels> = Family::new_with_constructor(fuel_buckets);
        registry.register(
            "attempt_fuel",
            "Fuel an attempt consumed",
            attempt_fuel.clone(),
        );
        let attempt_memory: Histograms<QueueLabels> = Family::new_with_constructor(memory_buckets);
        registry.register(
            "attempt_peak_memory_bytes",
            "An attempt's peak linear memory",
            attempt_memory.clone(),
        );
        let claim_size = batch_buckets();
        registry.register(
            "claim_batch_size",
            "Jobs one claim took",
            claim_size.clone(),
        );
        let claim_seconds = small_seconds_buckets();
        registry.register(
            "claim_latency_seconds",
            "Time one claim took",
            claim_seconds.clone(),
        );
        let completion_size = batch_buckets();
        registry.register(
            "completion_batch_size",
            "Finished attempts written in one batch",
            completion_size.clone(),
        );
        let completion_seconds = small_seconds_buckets();
        registry.register(
            "completion_latency_seconds",
            "Time one completion batch took to write",
            completion_seconds.clone(),
        );
        let jobs = Family::default();
        registry.register(
            "queue_jobs",
            "Jobs stored, by queue and status (read from the store at each scrape)",
            jobs.clone(),
        );
        let oldest_ready = Family::default();
        registry.register(
            "oldest_ready_age_seconds",
            "How long the longest-waiting runnable READY job of the queue has waited (lag)",
            oldest_ready.clone(),
        );
        let workers = Family::default();
        registry.register(
            "workers",
            "Registered workers by state (read from the store at each scrape)",
            workers.clone(),
        );
        let http_requests = Family::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            http_requests.clone(),
        );
        let http_seconds: Histograms<RouteLabels> =
            Family::new_with_constructor(small_seconds_buckets);
        registry.register(
            "http_request_duration_seconds",
            "Time an HTTP request took to answer",
            http_seconds.clone(),
        );
        Metrics {
            registry,
            tenants: Capped::default(),
            queues: Capped::default(),
            classes: Capped::default(),
            routes: Capped::default(),
            scrape: tokio::sync::Mutex::new(()),
            enqueued,
            attempts,
            attempt_seconds,
            attempt_fuel,
            attempt_memory,
            claim_size,
            claim_seconds,
            completion_size,
            completion_seconds,
            jobs,
            oldest_ready,
            workers,
            http_requests,
            http_seconds,
        }
    }

    fn queue(&self, tenant: &str, queue: &str) -> QueueLabels {
        QueueLabels {
            tenant: self.tenants.admit(tenant),
            queue: self.queues.admit(queue),
        }
    }

    /// Counts one job enqueued on `tenant`'s `queue`.
    pub fn count_enqueued(&self, tenant: &str, queue: &str) {
        self.enqueued
            .get_or_create(&self.queue(tenant, queue))
            .inc();
    }

    /// Counts the `jobs` an insert stored: all but its `duplicates`. A bulk
    /// enqueue is counted per queue, not per job (one label lookup per queue).
    pub fn count_inserted(&self, jobs: &[NewJob], duplicates: &[Duplicate]) {
        let duplicate: HashSet<&str> = duplicates.iter().map(|d| d.id.as_str()).collect();
        let mut per_queue: HashMap<(&str, &str), u64> = HashMap::new();
        for job in jobs
            .iter()
            .filter(|job| !duplicate.contains(job.id.as_str()))
        {
            *per_queue.entry((&job.tenant, &job.queue_name)).or_default() += 1;
        }
        for ((tenant, queue), count) in per_queue {
            self.enqueued
                .get_or_create(&self.queue(tenant, queue))
                .inc_by(count);
        }
    }

    /// Records a finished attempt: how it ended (`SUCCESSFUL`, `FAILED`, `RETRY`),
    /// its error's class, and what it used.
    pub fn record_attempt(&self, attempt: FinishedAttempt<'_>) {
        let queue = self.queue(attempt.tenant, attempt.queue);
        let exception_class = match attempt.exception_class {
            None => String::new(),
            Some(class) if is_class_name(class) => self.classes.admit(class),
            Some(_) => OTHER.to_owned(),
        };
        self.attempts
            .get_or_create(&AttemptLabels {
                tenant: queue.tenant.clone(),
                queue: queue.queue.clone(),
                status: attempt.status.to_owned(),
                exception_class,
            })
            .inc();
        self.attempt_seconds
            .get_or_create(&queue)
            .observe(attempt.duration.as_secs_f64());
        self.attempt_fuel
            .get_or_create(&queue)
            .observe(attempt.fuel as f64);
        self.attempt_memory
            .get_or_create(&queue)
            .observe(attempt.peak_memory_bytes as f64);
    }

    /// Records one claim: how many jobs it took and how long it took.
    pub fn record_claim(&self, jobs: usize, took: Duration) {
        self.claim_size.observe(jobs as f64);
        self.claim_seconds.observe(took.as_secs_f64());
    }

    /// Records one completion batch written.
    pub fn record_completion_batch(&self, attempts: usize, took: Duration) {
        self.completion_size.observe(attempts as f64);
        self.completion_seconds.observe(took.as_secs_f64());
    }

    /// Records one HTTP answer; `route` is the matched pattern, never the path.
    pub fn record_http(&self, route: &str, method: &str, status: u16, took: Duration) {
        let route = self.routes.admit(route);
        self.http_seconds
            .get_or_create(&RouteLabels {
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        self.http_requests
            .get_or_create(&HttpLabels {
                route,
                method: method.to_owned(),
                status: status.to_string(),
            })
            .inc();
    }

    /// Reads queue depths, lag and workers from `store`, then every metric as
    /// OpenMetrics text (which Prometheus scrapes).
    pub async fn render(&self, store: &dyn Store) -> Result<String, StoreError> {
        let _scrape = self.scrape.lock().await;
        let stats = store.queue_stats(None).await?;
        let workers = store.worker_list(None).await?;
        self.jobs.clear();
        self.oldest_ready.clear();
        self.workers.clear();
        let now = chrono::Utc::now();
        for stat in stats {
            let queue = self.queue(&stat.tenant, &stat.queue_name);
            if let Some(oldest) = stat.oldest_available_at {
                let waited = (now - oldest).num_milliseconds().max(0) as f64 / 1000.0;
                let gauge = self.oldest_ready.get_or_create(&queue);
                gauge.set(gauge.get().max(waited));
            }
            self.jobs
                .get_or_create(&QueueStatusLabels {
                    tenant: queue.tenant,
                    queue: queue.queue,
                    status: stat.status.as_str().to_owned(),
                })
                .inc_by(stat.count.min(i64::MAX as u64) as i64);
        }
        for state in ["live", "lost", "stopped"] {
            let count = workers
                .iter()
                .filter(|worker| state_name(worker.state) == state)
                .count();
            self.workers
                .get_or_create(&WorkerStateLabels {
                    state: state.to_owned(),
                })
                .set(count as i64);
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).map_err(|e| {
            StoreError::Corrupt {
                context: "encoding metrics",
                message: e.to_string(),
            }
        })?;
        Ok(text)
    }
}

fn state_name(state: WorkerState) -> &'static str {
    match state {
        WorkerState::Live => "live",
        WorkerState::Lost => "lost",
        WorkerState::Stopped => "stopped",
    }
}

/// A finished attempt, as [`Metrics::record_attempt`] counts it.
#[derive(Debug, Clone, Copy)]
pub struct FinishedAttempt<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// The queue.
    pub queue: &'a str,
    /// `SUCCESSFUL`, `FAILED` or `RETRY`.
    pub status: &'a str,
    /// The error's class, for a failure.
    pub exception_class: Option<&'a str>,
    /// How long it ran.
    pub duration: Duration,
    /// Fuel it consumed.
    pub fuel: u64,
    /// Its peak linear memory.
    pub peak_memory_bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_past_the_cap_count_as_other() {
        let capped = Capped::default();
        for n in 0..MAX_LABEL_VALUES {
            assert_eq!(capped.admit(&format!("t{n}")), format!("t{n}"));
        }
        assert_eq!(capped.admit("one-too-many"), OTHER);
        assert_eq!(capped.admit("t0"), "t0");
    }

    #[test]
    fn only_class_names_become_labels() {
        assert!(is_class_name("notify.SendFailed"));
        assert!(is_class_name("wasmtasks.Timeout"));
        assert!(!is_class_name("Error: password=hunter2"));
        assert!(!is_class_name(""));
        assert!(!is_class_name(&"a".repeat(129)));
    }
}
