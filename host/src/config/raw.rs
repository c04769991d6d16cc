//! The TOML file as written, before validation.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSettings {
    pub database_url: Option<String>,
    pub cache_dir: Option<String>,
    #[serde(default)]
    pub queues: BTreeMap<String, RawRetry>,
    #[serde(default)]
    pub retry: RawRetry,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub worker: RawWorker,
    #[serde(default)]
    pub purge: RawPurge,
    #[serde(default)]
    pub components: BTreeMap<String, RawComponent>,
    #[serde(default)]
    pub tenants: BTreeMap<String, RawTenant>,
    #[serde(default)]
    pub http: RawHttp,
    #[serde(default)]
    pub schedules: BTreeMap<String, RawSchedule>,
    #[serde(default)]
    pub quotas: RawQuotas,
}

/// `[quotas]`: the quotas of new tenants.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQuotas {
    pub max_running: Option<i64>,
    pub max_queued: Option<i64>,
    pub enqueue_rate: Option<f64>,
    pub enqueue_burst: Option<i64>,
    pub max_fuel: Option<i64>,
    pub max_timeout: Option<String>,
    pub max_memory: Option<String>,
    pub max_component_size: Option<String>,
    pub max_components: Option<i64>,
    pub weight: Option<i64>,
}

/// A periodic job, with the names the file uses.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedule {
    pub cron: String,
    pub timezone: Option<String>,
    pub task: String,
    #[serde(default)]
    pub args: Vec<serde_json::Value>,
    #[serde(default)]
    pub kwargs: serde_json::Map<String, serde_json::Value>,
    pub queue: Option<String>,
    pub priority: Option<i32>,
    pub catch_up: Option<String>,
}

/// What the file grants one tenant's components.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTenant {
    #[serde(default)]
    pub components: BTreeMap<String, RawComponent>,
    #[serde(default)]
    pub schedules: BTreeMap<String, RawSchedule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHttp {
    pub timeout: Option<String>,
    pub max_response_size: Option<String>,
    pub max_requests: Option<i64>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawComponent {
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    #[serde(default)]
    pub allow_http: Vec<String>,
}

/// Secrets never reach a debug print.
impl std::fmt::Debug for RawComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawComponent")
            .field("config", &self.config)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetry {
    pub max_attempts: Option<i64>,
    pub backoff_factor: Option<f64>,
    pub max_backoff: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub fuel: Option<i64>,
    pub timeout: Option<String>,
    pub memory: Option<String>,
    pub max_memory: Option<String>,
    pub max_component_size: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorker {
    pub concurrency: Option<i64>,
    pub prefetch: Option<i64>,
    pub lease: Option<String>,
    pub interval: Option<String>,
    pub grace_period: Option<String>,
    pub heartbeat: Option<String>,
    pub keep_resident: Option<String>,
    pub component_memory: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPurge {
    pub finished_min_age_days: Option<i64>,
    pub failed_min_age_days: Option<i64>,
    pub stale_min_age_days: Option<i64>,
    pub interval: Option<String>,
    pub batch_size: Option<i64>,
}
