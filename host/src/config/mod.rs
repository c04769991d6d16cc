//! Configuration: one TOML file mirroring Django's `TASKS` setting, with
//! environment variables (`WASMTASKS_DATABASE_URL`, `WASMTASKS_CACHE_DIR`) and
//! command-line flags over it. It names no tenant to act as: every operation
//! takes its principal explicitly (see [`crate::tenant`]).
//!
//! ```toml
//! database_url = "sqlite://wasmtasks.sqlite3"   # or postgres://…
//!
//! [retry]                 # the policy of queues that do not set their own
//! max_attempts = 1        # Django's default: no retry
//! backoff_factor = 2.0    # delay before attempt n+1: factor^n seconds, with jitter
//! max_backoff = "1h"
//!
//! [queues.default]
//! [queues.emails]
//! max_attempts = 3
//!
//! [limits]                # per attempt, unless a task or job asks for less/more
//! fuel = 10_000_000_000
//! timeout = "60s"
//! memory = "128MiB"
//! max_memory = "1GiB"     # the most any task may ask for
//! max_component_size = "64MiB"  # the largest component that may be uploaded
//!
//! [worker]
//! concurrency = 16
//! prefetch = 0            # jobs claimed ahead of free slots
//! lease = "30s"
//! interval = "1s"         # fallback poll when nothing wakes the worker
//! grace_period = "30s"
//! heartbeat = "5s"        # in the list of workers; 3 missed beats mark a worker lost
//! keep_resident = "16MiB"
//! component_memory = "512MiB"
//!
//! [schedules.nightly]     # a periodic job of the default tenant
//! cron = "0 3 * * *"      # 5 fields, or 6 with seconds first
//! timezone = "Europe/Paris"
//! task = "reports.nightly"
//! args = [7]
//! catch_up = "latest"     # a tick missed while no worker ran: once ("latest") or never ("none")
//!
//! [purge]                 # `prune`, and every worker's pruner
//! finished_min_age_days = 14
//! failed_min_age_days = 30
//! stale_min_age_days = 30 # READY jobs no worker took for that long
//! interval = "1h"         # how often each worker prunes; "off" for never
//! batch_size = 1000       # jobs per write (the longest lock hold)
//!
//! [quotas]                # what a tenant gets when it is created; no limits when left out
//! max_running = 8         # attempts at once, across every worker
//! max_queued = 100_000    # READY jobs
//! enqueue_rate = 100.0    # jobs per second, per API process
//! enqueue_burst = 200
//! max_fuel = 10_000_000_000  # ceilings per attempt
//! max_timeout = "5m"
//! max_memory = "256MiB"
//! max_component_size = "32MiB"
//! max_components = 50     # stored component versions
//! weight = 1              # share of worker slots beside other tenants
//!
//! [http]                  # per attempt, for components granted an origin
//! timeout = "30s"
//! max_response_size = "1MiB"
//! max_requests = 16
//!
//! [components.notify]           # what the operator grants the default tenant's `notify`
//! allow_http = ["https://ntfy.example.com", "https://*.example.org:8443"]
//! [components.notify.config]    # what the guest reads with config::get
//! ntfy_url = "https://ntfy.example.com/alerts"
//! [components.notify.secrets]   # the same, redacted wherever output is kept
//! token = "…"
//!
//! [tenants.alice.components.notify.config]   # tenant alice's own `notify`
//! ntfy_url = "https://ntfy.example.com/alice"
//! ```
//!
//! `[components.NAME]` applies to the `default` tenant only; another tenant's
//! components are granted under `[tenants.TENANT.components.NAME]`, so a tenant
//! that uploads a component of the same name gets nothing of another's. Values
//! set with `wasmtasks config set` (in the store) win over the file's; HTTP
//! origins granted in the store (`wasmtasks grant`) add to the file's.
//!
//! Every key is optional; with no file at all, wasmtasks uses a SQLite file in the
//! working directory and one queue, `default`.

mod quotas;
mod raw;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use wasmtasks_sandbox::{ConfigValue, HttpLimits, Limits, OriginPattern, OriginPatternError};

use crate::schedule::{CatchUp, ScheduleSpec};
use crate::store::Quotas;
use crate::task::path::is_valid_name;
use crate::tenant::DEFAULT_TENANT;

/// The file read when no `--config` is given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "wasmtasks.toml";
/// The database used when nothing names one.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://wasmtasks.sqlite3";
/// The largest component that may be uploaded unless configured otherwise.
pub const DEFAULT_MAX_COMPONENT_BYTES: u64 = 64 << 20;
/// The queue every installation has unless it names its own.
pub const DEFAULT_QUEUE: &str = "default";

/// A configuration that breaks a rule, naming the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file.
        file: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// The parser's message (with line, column and key).
        message: String,
    },
    /// A key has a value that breaks a rule.
    #[error("{file}: `{key}`: {message}")]
    Invalid {
        /// The file, or the environment variable the value came from.
        file: String,
        /// The dotted key.
        key: String,
        /// The rule.
        message: String,
    },
}

/// The retry policy of one queue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts allowed, the first included.
    pub max_attempts: u32,
    /// Backoff base in seconds.
    pub backoff_factor: f64,
    /// The longest delay between two attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 1,
            backoff_factor: 2.0,
            max_backoff: Duration::from_secs(3600),
        }
    }
}

/// Worker defaults that command-line flags can override.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkerSettings {
    /// Attempts run at once.
    pub concurrency: u32,
    /// Jobs claimed ahead of free slots, waiting in the worker for one.
    pub prefetch: u32,
    /// Lease length; renewed every third of it while an attempt runs.
    pub lease: Duration,
    /// Fallback poll interval.
    pub interval: Duration,
    /// How long running attempts may finish after a shutdown signal.
    pub grace_period: Duration,
    /// How often the worker heartbeats in the list of workers.
    pub heartbeat: Duration,
    /// Bytes of each sandbox slot's memory reset in place and kept resident
    /// ([`wasmtasks_sandbox::SandboxConfig::keep_resident_bytes`]).
    pub keep_resident_bytes: u64,
    /// Machine code of loaded components kept in memory
    /// ([`wasmtasks_sandbox::SandboxConfig::max_loaded_bytes`]).
    pub component_memory_bytes: u64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            concurrency: 16,
            prefetch: 0,
            lease: Duration::from_secs(30),
            interval: Duration::from_secs(1),
            grace_period: Duration::from_secs(30),
            heartbeat: Duration::from_secs(5),
            keep_resident_bytes: wasmtasks_sandbox::DEFAULT_KEEP_RESIDENT_BYTES,
            component_memory_bytes: wasmtasks_sandbox::DEFAULT_MAX_LOADED_BYTES,
        }
    }
}

/// Retention of results: what `prune` and the workers' pruner delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeSettings {
    /// SUCCESSFUL and CANCELLED results older than this many days may be pruned.
    pub finished_min_age_days: u32,
    /// FAILED results older than this many days may be pruned.
    pub failed_min_age_days: u32,
    /// READY jobs runnable for this many days without a worker taking them (no
    /// worker serves their queue) are stale and pruned by the workers.
    pub stale_min_age_days: u32,
    /// How often each worker's pruner runs; `None` (`interval = "off"`) for never.
    pub interval: Option<Duration>,
    /// Jobs deleted in one write: the longest the pruner holds SQLite's lock.
    pub batch_size: u32,
}

impl Default for PurgeSettings {
    fn default() -> Self {
        PurgeSettings {
            finished_min_age_days: 14,
            failed_min_age_days: 30,
            stale_min_age_days: 30,
            interval: Some(Duration::from_secs(3600)),
            batch_size: 1000,
        }
    }
}

/// What the configuration file grants one component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentSettings {
    /// Configuration values and secrets, by key.
    pub config: BTreeMap<String, ConfigValue>,
    /// Origins it may send HTTP requests to.
    pub allow_http: Vec<OriginPattern>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the store is.
    pub database_url: String,
    /// Where compiled components are cached.
    pub cache_dir: Option<PathBuf>,
    /// The queues that exist, with their retry policies.
    pub queues: BTreeMap<String, RetryPolicy>,
    /// Default limits per attempt.
    pub limits: Limits,
    /// The most memory any attempt may ask for.
    pub max_memory_bytes: u64,
    /// The largest component that may be uploaded, in bytes.
    pub max_component_bytes: u64,
    /// Worker defaults.
    pub worker: WorkerSettings,
    /// Retention.
    pub purge: PurgeSettings,
    /// What the file grants each component, by tenant and name.
    pub components: BTreeMap<String, BTreeMap<String, ComponentSettings>>,
    /// Limits on the HTTP requests of one attempt.
    pub http: HttpLimits,
    /// Periodic jobs, by tenant and name.
    pub schedules: BTreeMap<String, BTreeMap<String, ScheduleSpec>>,
    /// The quotas a tenant gets when it is created (`[quotas]`).
    pub tenant_quotas: Quotas,
    /// The file the settings came from, if any.
    pub source: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            cache_dir: None,
            queues: BTreeMap::from([(DEFAULT_QUEUE.to_owned(), RetryPolicy::default())]),
            limits: Limits::default(),
            max_memory_bytes: 1 << 30,
            max_component_bytes: DEFAULT_MAX_COMPONENT_BYTES,
            worker: WorkerSettings::default(),
            purge: PurgeSettings::default(),
            components: BTreeMap::new(),
            http: HttpLimits::default(),
            schedules: BTreeMap::new(),
            tenant_quotas: Quotas::default(),
            source: None,
        }
    }
}

impl Settings {
    /// Reads `path`, or `wasmtasks.toml` in the working directory if it exists, or
    /// nothing; then applies the `WASMTASKS_*` environment variables.
    pub fn load(path: Option<&Path>) -> Result<Settings, ConfigError> {
        let default_file = Path::new(DEFAULT_CONFIG_FILE);
        let file = match path {
            Some(path) => Some(path),
            None if default_file.exists() => Some(default_file),
            None => None,
        };
        let mut settings = match file {
            Some(file) => {
                let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
                    file: file.to_owned(),
                    source,
                })?;
                Settings::from_toml(&text, &file.display().to_string())?
            }
            None => Settings::default(),
        };
        settings.source = file.map(Path::to_owned);
        settings.apply_env(|name| std::env::var(name).ok());
        Ok(settings)
    }

    /// Parses and validates TOML text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Settings, ConfigError> {
        let raw: raw::RawSettings = toml::from_str(text).map_err(|e| ConfigError::Parse {
            file: file.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            file: file.to_owned(),
            key: key.to_owned(),
            message,
        };
        let defaults = Settings::default();
        let retry = retry_policy(&raw.retry, RetryPolicy::default(), "retry", &invalid)?;
        let mut queues = BTreeMap::new();
        for (name, policy) in &raw.queues {
            if !is_valid_name(name) {
                return Err(invalid(
                    &format!("queues.{name}"),
                    "a queue name is letters, digits, `_` or `-`".into(),
                ));
            }
            queues.insert(
                name.clone(),
                retry_policy(policy, retry, &format!("queues.{name}"), &invalid)?,
            );
        }
        if queues.is_empty() {
            queues.insert(DEFAULT_QUEUE.to_owned(), retry);
        }
        let limits = Limits {
            fuel: match raw.limits.fuel {
                None => defaults.limits.fuel,
                Some(fuel) if fuel > 0 => fuel as u64,
                Some(fuel) => {
                    return Err(invalid(
                        "limits.fuel",
                        format!("must be above zero, got {fuel}"),
                    ));
                }
            },
            timeout: duration(
                raw.limits.timeout.as_deref(),
                defaults.limits.timeout,
                "limits.timeout",
                &invalid,
            )?,
            memory_bytes: size(
                raw.limits.memory.as_deref(),
                defaults.limits.memory_bytes,
                "limits.memory",
                &invalid,
            )?,
        };
        let max_memory_bytes = size(
            raw.limits.max_memory.as_deref(),
            defaults.max_memory_bytes,
            "limits.max_memory",
            &invalid,
        )?;
        if max_memory_bytes > 4 << 30 {
            return Err(invalid(
                "limits.max_memory",
                "wasm32 memories are at most 4GiB".into(),
            ));
        }
        if limits.memory_bytes > max_memory_bytes {
            return Err(invalid(
                "limits.memory",
                format!(
                    "{} bytes is above limits.max_memory ({max_memory_bytes} bytes)",
                    limits.memory_bytes
                ),
            ));
        }
        let worker = WorkerSettings {
            concurrency: count(
                raw.worker.concurrency,
                defaults.worker.concurrency,
                1..=MAX_CONCURRENCY,
                "worker.concurrency",
                &invalid,
            )?,
            prefetch: count(
                raw.worker.prefetch,
                defaults.worker.prefetch,
                0..=MAX_CONCURRENCY,
                "worker.prefetch",
                &invalid,
            )?,
            lease: duration(
                raw.worker.lease.as_deref(),
                defaults.worker.lease,
                "worker.lease",
                &invalid,
            )?,
            interval: duration(
                raw.worker.interval.as_deref(),
                defaults.worker.interval,
                "worker.interval",
                &invalid,
            )?,
            grace_period: duration(
                raw.worker.grace_period.as_deref(),
                defaults.worker.grace_period,
                "worker.grace_period",
                &invalid,
            )?,
            heartbeat: duration(
                raw.worker.heartbeat.as_deref(),
                defaults.worker.heartbeat,
                "worker.heartbeat",
                &invalid,
            )?,
            keep_resident_bytes: size(
                raw.worker.keep_resident.as_deref(),
                defaults.worker.keep_resident_bytes,
                "worker.keep_resident",
                &invalid,
            )?,
            component_memory_bytes: size(
                raw.worker.component_memory.as_deref(),
                defaults.worker.component_memory_bytes,
                "worker.component_memory",
                &invalid,
            )?,
        };
        if worker.lease < Duration::from_secs(1) {
            return Err(invalid("worker.lease", "must be at least 1s".into()));
        }
        if worker.heartbeat < Duration::from_millis(100) {
            return Err(invalid("worker.heartbeat", "must be at least 100ms".into()));
        }
        let days = |value: Option<i64>, default: u32, key: &str| match value {
            None => Ok(default),
            Some(days) if (0..=36_500).contains(&days) => Ok(days as u32),
            Some(days) => Err(invalid(key, format!("must be 0..=36500 days, got {days}"))),
        };
        let purge = PurgeSettings {
            finished_min_age_days: days(
                raw.purge.finished_min_age_days,
                defaults.purge.finished_min_age_days,
                "purge.finished_min_age_days",
            )?,
            failed_min_age_days: days(
                raw.purge.failed_min_age_days,
                defaults.purge.failed_min_age_days,
                "purge.failed_min_age_days",
            )?,
            stale_min_age_days: days(
                raw.purge.stale_min_age_days,
                defaults.purge.stale_min_age_days,
                "purge.stale_min_age_days",
            )?,
            interval: match raw.purge.interval.as_deref() {
                Some("off") => None,
                other => Some(duration(
                    other,
                    defaults.purge.interval.unwrap_or_default(),
                    "purge.interval",
                    &invalid,
                )?),
            },
            batch_size: count(
                raw.purge.batch_size,
                defaults.purge.batch_size,
                1..=100_000,
                "purge.batch_size",
                &invalid,
            )?,
        };
        let max_component_bytes = size(
            raw.limits.max_component_size.as_deref(),
            defaults.max_component_bytes,
            "limits.max_component_size",
            &invalid,
        )?;
        let mut components = BTreeMap::new();
        components.insert(
            DEFAULT_TENANT.to_owned(),
            component_settings(raw.components, "components", &invalid)?,
        );
        let mut schedules = BTreeMap::new();
        let file_schedules = schedule_settings(raw.schedules, "schedules", &invalid)?;
        if !file_schedules.is_empty() {
            schedules.insert(DEFAULT_TENANT.to_owned(), file_schedules);
        }
        for (tenant, raw) in raw.tenants {
            if !is_valid_name(&tenant) {
                return Err(invalid(
                    &format!("tenants.{tenant}"),
                    "a tenant is letters, digits, `_` or `-`".into(),
                ));
            }
            let prefix = format!("tenants.{tenant}.components");
            let granted = component_settings(raw.components, &prefix, &invalid)?;
            components
                .entry(tenant.clone())
                .or_default()
                .extend(granted);
            let prefix = format!("tenants.{tenant}.schedules");
            let periodic = schedule_settings(raw.schedules, &prefix, &invalid)?;
            if !periodic.is_empty() {
                schedules.insert(tenant, periodic);
            }
        }
        let http = HttpLimits {
            timeout: duration(
                raw.http.timeout.as_deref(),
                defaults.http.timeout,
                "http.timeout",
                &invalid,
            )?,
            max_response_bytes: size(
                raw.http.max_response_size.as_deref(),
                defaults.http.max_response_bytes,
                "http.max_response_size",
                &invalid,
            )?,
            max_requests: count(
                raw.http.max_requests,
                defaults.http.max_requests,
                0..=10_000,
                "http.max_requests",
                &invalid,
            )?,
        };
        Ok(Settings {
            database_url: raw.database_url.unwrap_or(defaults.database_url),
            cache_dir: raw.cache_dir.map(PathBuf::from),
            queues,
            limits,
            max_memory_bytes,
            max_component_bytes,
            worker,
            purge,
            components,
            http,
            schedules,
            tenant_quotas: quotas::tenant_quotas(raw.quotas, &invalid)?,
            source: None,
        })
    }

    /// Applies `WASMTASKS_DATABASE_URL` and `WASMTASKS_CACHE_DIR`.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) {
        if let Some(url) = var("WASMTASKS_DATABASE_URL") {
            self.database_url = url;
        }
        if let Some(dir) = var("WASMTASKS_CACHE_DIR") {
            self.cache_dir = Some(PathBuf::from(dir));
        }
    }

    /// What the file grants `component` of `tenant`, if anything.
    pub fn component(&self, tenant: &str, component: &str) -> Option<&ComponentSettings> {
        self.components.get(tenant)?.get(component)
    }

    /// The retry policy of `queue`, or an error listing the queues that exist.
    pub fn require_queue(&self, queue: &str) -> Result<&RetryPolicy, String> {
        self.queue(queue).ok_or_else(|| {
            format!(
                "queue `{queue}` is not configured; configured queues: {}",
                self.queues.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    }

    /// The retry policy of `queue`, if the configuration names it.
    pub fn queue(&self, queue: &str) -> Option<&RetryPolicy> {
        self.queues.get(queue)
    }
}

/// The `[components.NAME]` tables under `prefix` (for errors), validated.
fn component_settings(
    raw: BTreeMap<String, raw::RawComponent>,
    prefix: &str,
    invalid: &impl Fn(&str, String) -> ConfigError,
) -> Result<BTreeMap<String, ComponentSettings>, ConfigError> {
    let mut components = BTreeMap::new();
    for (name, raw) in raw {
        if !is_valid_name(&name) {
            return Err(invalid(
                &format!("{prefix}.{name}"),
                "a component name is letters, digits, `_` or `-`".into(),
            ));
        }
        if let Some(key) = raw.config.keys().find(|key| raw.secrets.contains_key(*key)) {
            return Err(invalid(
                &format!("{prefix}.{name}.secrets.{key}"),
                "the key is also in `config`; give it one value".into(),
            ));
        }
        let allow_http = raw
            .allow_http
            .iter()
            .map(|origin| origin.parse())
            .collect::<Result<_, OriginPatternError>>()
            .map_err(|e| invalid(&format!("{prefix}.{name}.allow_http"), e.to_string()))?;
        let value = |secret: bool| move |(key, value)| (key, ConfigValue { value, secret });
        let values = raw.config.into_iter().map(value(false));
        let secrets = raw.secrets.into_iter().map(value(true));
        let config = values.chain(secrets).collect();
        components.insert(name, ComponentSettings { config, allow_http });
    }
    Ok(components)
}

/// The schedules of one `[schedules]` table, checked (pattern, zone, task path).
fn schedule_settings(
    raw: BTreeMap<String, raw::RawSchedule>,
    prefix: &str,
    invalid: &impl Fn(&str, String) -> ConfigError,
) -> Result<BTreeMap<String, ScheduleSpec>, ConfigError> {
    let mut schedules = BTreeMap::new();
    for (name, raw) in raw {
        let key = format!("{prefix}.{name}");
        if !is_valid_name(&name) {
            return Err(invalid(
                &key,
                "a schedule is letters, digits, `_` or `-`".into(),
            ));
        }
        let catch_up = match raw.catch_up.as_deref() {
            None | Some("latest") => CatchUp::Latest,
            Some("none") => CatchUp::None,
            Some(other) => {
                return Err(invalid(
                    &format!("{key}.catch_up"),
                    format!("must be \"latest\" or \"none\", got {other:?}"),
                ));
            }
        };
        let spec = ScheduleSpec {
            cron: raw.cron,
            timezone: raw.timezone.unwrap_or_else(|| "UTC".to_owned()),
            task_path: raw.task,
            args: raw.args,
            kwargs: raw.kwargs,
            queue_name: raw.queue,
            priority: raw.priority,
            catch_up,
        };
        spec.check().map_err(|message| invalid(&key, message))?;
        schedules.insert(name, spec);
    }
    Ok(schedules)
}

fn retry_policy(
    raw: &raw::RawRetry,
    base: RetryPolicy,
    key: &str,
    invalid: &impl Fn(&str, String) -> ConfigError,
) -> Result<RetryPolicy, ConfigError> {
    let max_attempts = count(
        raw.max_attempts,
        base.max_attempts,
        1..=1000,
        &format!("{key}.max_attempts"),
        invalid,
    )?;
    let backoff_factor = match raw.backoff_factor {
        None => base.backoff_factor,
        Some(f) if f.is_finite() && f > 0.0 => f,
        Some(f) => {
            return Err(invalid(
                &format!("{key}.backoff_factor"),
                format!("must be a positive number, got {f}"),
            ));
        }
    };
    let max_backoff = duration(
        raw.max_backoff.as_deref(),
        base.max_backoff,
        &format!("{key}.max_backoff"),
        invalid,
    )?;
    Ok(RetryPolicy {
        max_attempts,
        backoff_factor,
        max_backoff,
    })
}

/// The most attempts one worker runs at once.
pub const MAX_CONCURRENCY: u32 = 4096;

/// The longest duration any setting or flag takes: 36,500 days (100 years), far
/// past any sensible lease or timeout and short enough that no clock overflows.
pub const MAX_DURATION: Duration = Duration::from_secs(36_500 * 86_400);

/// A duration such as `500ms`, `30s` or `2m`, at most [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text)
        .map_err(|e| format!("`{text}` is not a duration like 500ms, 30s or 2m: {e}"))?;
    if duration > MAX_DURATION {
        return Err(format!("`{text}` is longer than the maximum of 36500 days"));
    }
    Ok(duration)
}

/// A whole number from the file, within `range`; `default` when absent.
fn count(
    value: Option<i64>,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
    key: &str,
    invalid: &impl Fn(&str, String) -> ConfigError,
) -> Result<u32, ConfigError> {
    match value {
        None => Ok(default),
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                let (low, high) = range.into_inner();
                invalid(key, format!("must be {low}..={high}, got {n}"))
            }),
    }
}

fn duration(
    value: Option<&str>,
    default: Duration,
    key: &str,
    invalid: &impl Fn(&str, String) -> ConfigError,
) -> Result<Duration, ConfigError> {
    match value.map(parse_duration) {
        None => Ok(default),
        Some(Ok(duration)) if !duration.is_zero() => Ok(duration),
        Some(Ok(_)) => Err(invalid(key, "must be above zero".into())),
        Some(Err(message)) => Err(invalid(key, message)),
    }
}

fn size(
    value: Option<&str>,
    default: u64,
    key: &str,
    invalid: &impl Fn(&str, String) -> ConfigError,
) -> Result<u64, ConfigError> {
    match value {
        None => Ok(default),
        Some(text) => match text.parse::<bytesize::ByteSize>() {
            Ok(size) if size.as_u64() > 0 => Ok(size.as_u64()),
            Ok(_) => Err(invalid(key, "must be above zero".into())),
            Err(e) => Err(invalid(
                key,
                format!("`{text}` is not a size like 64MiB: {e}"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_django_defaults() {
        let settings = Settings::from_toml("", "wasmtasks.toml").unwrap();
        assert_eq!(settings.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(settings.queues.keys().collect::<Vec<_>>(), ["default"]);
        assert_eq!(settings.queue("default").unwrap().max_attempts, 1);
    }

    #[test]
    fn queues_inherit_the_retry_section() {
        let text =
            "[retry]\nmax_attempts = 3\n[queues.default]\n[queues.emails]\nbackoff_factor = 1.5\n";
        let settings = Settings::from_toml(text, "t.toml").unwrap();
        let emails = settings.queue("emails").unwrap();
        assert_eq!((emails.max_attempts, emails.backoff_factor), (3, 1.5));
        assert_eq!(settings.queue("default").unwrap().max_attempts, 3);
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let error =
            Settings::from_toml("[queues.emails]\nmax_attempts = 0\n", "site.toml").unwrap_err();
        assert_eq!(
            error.to_string(),
            "site.toml: `queues.emails.max_attempts`: must be 1..=1000, got 0"
        );
        let error = Settings::from_toml("[worker]\nlease = \"soon\"\n", "site.toml").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("site.toml: `worker.lease`: `soon` is not a duration"),
            "{error}"
        );
        let error = Settings::from_toml("[limits]\nmemroy = \"1MiB\"\n", "site.toml").unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("site.toml: ") && message.contains("unknown field `memroy`"),
            "{message}"
        );
    }

    #[test]
    fn worker_keep_resident_is_a_size() {
        let defaults = Settings::from_toml("", "t.toml").unwrap();
        assert_eq!(defaults.worker.keep_resident_bytes, 16 << 20);
        let settings =
            Settings::from_toml("[worker]\nkeep_resident = \"64KiB\"\n", "t.toml").unwrap();
        assert_eq!(settings.worker.keep_resident_bytes, 64 << 10);
        let error =
            Settings::from_toml("[worker]\nkeep_resident = \"lots\"\n", "t.toml").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("t.toml: `worker.keep_resident`: `lots` is not a size"),
            "{error}"
        );
    }

    #[test]
    fn worker_prefetch_is_a_count_from_zero() {
        let defaults = Settings::from_toml("", "t.toml").unwrap();
        assert_eq!(defaults.worker.prefetch, 0);
        let settings = Settings::from_toml("[worker]\nprefetch = 64\n", "t.toml").unwrap();
        assert_eq!(settings.worker.prefetch, 64);
        let error = Settings::from_toml("[worker]\nprefetch = -1\n", "t.toml").unwrap_err();
        assert_eq!(
            error.to_string(),
            "t.toml: `worker.prefetch`: must be 0..=4096, got -1"
        );
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut settings =
            Settings::from_toml("database_url = \"sqlite://a.db\"", "t.toml").unwrap();
        settings.apply_env(|name| {
            (name == "WASMTASKS_DATABASE_URL").then(|| "sqlite://b.db".to_owned())
        });
        assert_eq!(settings.database_url, "sqlite://b.db");
    }

    #[test]
    fn component_grants_belong_to_a_tenant() {
        let text = "[components.notify.config]\nurl = \"a\"\n\
                    [tenants.alice.components.notify.config]\nurl = \"b\"\n";
        let settings = Settings::from_toml(text, "t.toml").unwrap();
        let url = |tenant| {
            settings.component(tenant, "notify").unwrap().config["url"]
                .value
                .clone()
        };
        assert_eq!(url("default"), "a");
        assert_eq!(url("alice"), "b");
        assert!(settings.component("bob", "notify").is_none());
        let error = Settings::from_toml("tenant = \"alice\"\n", "t.toml").unwrap_err();
        assert!(
            error.to_string().contains("unknown field `tenant`"),
            "{error}"
        );
        let error =
            Settings::from_toml("[tenants.alice.components.bad name]\n", "t.toml").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("tenants.alice.components.bad name"),
            "{error}"
        );
    }
}
