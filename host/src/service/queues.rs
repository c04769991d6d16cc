//! Queues: how many jobs each holds in each status, how long the oldest runnable
//! one has waited, and pausing and resuming them.

use std::collections::BTreeMap;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::{ServiceError, Services};
use crate::task::TaskStatus;
use crate::tenant::{Principal, Role};

/// Every status, in a job's order of life.
pub const STATUSES: [TaskStatus; 5] = [
    TaskStatus::Ready,
    TaskStatus::Running,
    TaskStatus::Successful,
    TaskStatus::Failed,
    TaskStatus::Cancelled,
];

/// One queue of a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueSummary {
    /// Its name.
    pub queue_name: String,
    /// Whether the configuration names it (jobs of a queue that is not configured
    /// stay READY until one is).
    pub configured: bool,
    /// Jobs per status (every status, zeros included).
    pub counts: BTreeMap<TaskStatus, u64>,
    /// Seconds the longest-waiting runnable READY job has waited (the lag).
    pub oldest_ready_age_seconds: Option<f64>,
    /// Whether it is paused: workers claim none of its jobs until it is resumed.
    pub paused: bool,
}

/// What pausing or resuming a queue did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueuePause {
    /// The queue.
    pub queue_name: String,
    /// Whether it is paused now.
    pub paused: bool,
    /// Whether that changed anything (false: it already was so).
    pub changed: bool,
}

/// The queues operations.
#[derive(Debug, Clone, Copy)]
pub struct Queues<'a>(pub(super) &'a Services);

impl Queues<'_> {
    /// Every configured queue and every queue with jobs, by name.
    pub async fn list(&self, principal: &Principal) -> Result<Vec<QueueSummary>, ServiceError> {
        self.0.authorize(principal, Role::Reader).await?;
        let stats = self.0.store().queue_stats(Some(principal.tenant())).await?;
        let settings = self.0.settings();
        let empty = || QueueSummary {
            queue_name: String::new(),
            configured: false,
            counts: STATUSES.iter().map(|status| (*status, 0)).collect(),
            oldest_ready_age_seconds: None,
            paused: false,
        };
        let mut queues: BTreeMap<String, QueueSummary> = settings
            .queues
            .keys()
            .map(|name| (name.clone(), empty()))
            .collect();
        for name in self.0.store().queue_paused(principal.tenant()).await? {
            queues.entry(name).or_insert_with(empty).paused = true;
        }
        let now = Utc::now();
        for stat in stats {
            let queue = queues.entry(stat.queue_name.clone()).or_insert_with(empty);
            queue.counts.insert(stat.status, stat.count);
            if let Some(oldest) = stat.oldest_available_at {
                queue.oldest_ready_age_seconds =
                    Some(((now - oldest).num_milliseconds().max(0) as f64) / 1000.0);
            }
        }
        Ok(queues
            .into_iter()
            .map(|(name, mut queue)| {
                queue.configured = settings.queue(&name).is_some();
                queue.queue_name = name;
                queue
            })
            .collect())
    }

    /// Pauses (`paused`) or resumes one of the tenant's queues. Workers stop
    /// claiming its jobs at once (they stay READY) and start again on resume; the
    /// pause is stored, so it outlives every worker.
    pub async fn set_paused(
        &self,
        principal: &Principal,
        queue: &str,
        paused: bool,
    ) -> Result<QueuePause, ServiceError> {
        self.0.authorize(principal, Role::Member).await?;
        if !crate::task::path::is_valid_name(queue) {
            return Err(ServiceError::Invalid(format!(
                "invalid queue name `{queue}`: use letters, digits, `_` or `-`"
            )));
        }
        let changed = self
            .0
            .store()
            .queue_set_paused(principal.tenant(), queue, paused)
            .await?;
        Ok(QueuePause {
            queue_name: queue.to_owned(),
            paused,
            changed,
        })
    }
}
