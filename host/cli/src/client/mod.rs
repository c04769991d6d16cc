//! What the tenant-facing commands call: one interface, [`Api`], with two
//! implementations. [`Local`] calls the service layer on the database directly,
//! as the operator (local access to the database is operator access);
//! [`Remote`] calls a `wasmtasks serve` over HTTP with a token, as that token's
//! principal. Commands print what either returns the same way, so the output does
//! not depend on where it came from.

mod local;
mod remote;

use std::time::Duration;

use async_trait::async_trait;
use wasmtasks::enqueue::EnqueueRequest;
use wasmtasks::sandbox::{ConfigValue, OriginPattern};
use wasmtasks::schedule::ScheduleSpec;
use wasmtasks::service::ServiceError;
use wasmtasks::service::components::{
    ComponentDetails, DeletedVersion, UploadReport, UploadRequest,
};
use wasmtasks::service::config::ConfigEntry;
use wasmtasks::service::grants::GrantChange;
use wasmtasks::service::jobs::{BatchOutcome, EnqueueOutcome, JobFilter, JobPage};
use wasmtasks::service::queues::{QueuePause, QueueSummary};
use wasmtasks::service::schedules::ScheduleInfo;
use wasmtasks::service::tenants::TenantDetails;
use wasmtasks::service::tokens::{CreatedToken, TokenInfo, TokenRequest};
use wasmtasks::service::usage::UsageReport;
use wasmtasks::store::{
    ComponentVersion, Quotas, RetryOutcome, RetrySelection, Tenant, TenantDeleted, WorkerRecord,
};
use wasmtasks::task::TaskResult;

pub use local::Local;
pub use remote::{Remote, save_token};

/// Every operation a command may ask of wasmtasks, locally or over HTTP.
#[async_trait]
pub trait Api: Send + Sync {
    /// Uploads a component.
    async fn upload(&self, request: UploadRequest) -> Result<UploadReport, ServiceError>;
    /// Every component version.
    async fn components(&self) -> Result<Vec<ComponentVersion>, ServiceError>;
    /// One component with its versions and grants.
    async fn component(&self, name: &str) -> Result<ComponentDetails, ServiceError>;
    /// Deletes versions of a component.
    async fn delete_component(
        &self,
        name: &str,
        digest_prefix: Option<&str>,
    ) -> Result<Vec<DeletedVersion>, ServiceError>;
    /// Enqueues one job.
    async fn enqueue(&self, request: EnqueueRequest) -> Result<EnqueueOutcome, ServiceError>;
    /// Enqueues jobs all or nothing; their ids (a duplicate's is the existing job's).
    async fn enqueue_many(
        &self,
        requests: Vec<EnqueueRequest>,
    ) -> Result<BatchOutcome, ServiceError>;
    /// Checks `requests` as `enqueue_many` would (the same refusal), storing nothing.
    async fn validate_many(&self, requests: Vec<EnqueueRequest>) -> Result<(), ServiceError>;
    /// A result, at once.
    async fn result(&self, id: &str) -> Result<TaskResult, ServiceError>;
    /// A result once finished, or as it is after `timeout`.
    async fn wait(&self, id: &str, timeout: Duration) -> Result<TaskResult, ServiceError>;
    /// A page of jobs.
    async fn jobs(&self, filter: JobFilter) -> Result<JobPage, ServiceError>;
    /// Cancels a READY job.
    async fn cancel(&self, id: &str) -> Result<TaskResult, ServiceError>;
    /// Puts failed or cancelled jobs back to READY.
    async fn retry(&self, selection: RetrySelection) -> Result<Vec<RetryOutcome>, ServiceError>;
    /// The queues.
    async fn queues(&self) -> Result<Vec<QueueSummary>, ServiceError>;
    /// The tenant's usage per day from `from` to `to`.
    async fn usage(
        &self,
        from: Option<chrono::NaiveDate>,
        to: Option<chrono::NaiveDate>,
    ) -> Result<UsageReport, ServiceError>;
    /// The registered workers.
    async fn workers(&self) -> Result<Vec<WorkerRecord>, ServiceError>;
    /// Pauses or resumes a queue.
    async fn queue_set_paused(&self, queue: &str, paused: bool)
    -> Result<QueuePause, ServiceError>;
    /// The schedules.
    async fn schedules(&self) -> Result<Vec<ScheduleInfo>, ServiceError>;
    /// Creates or replaces a schedule.
    async fn schedule_put(
        &self,
        name: &str,
        spec: ScheduleSpec,
    ) -> Result<ScheduleInfo, ServiceError>;
    /// Deletes a schedule.
    async fn schedule_delete(&self, name: &str) -> Result<(), ServiceError>;
    /// Pauses or resumes a schedule.
    async fn schedule_set_paused(
        &self,
        name: &str,
        paused: bool,
    ) -> Result<ScheduleInfo, ServiceError>;
    /// Sets a component's value or secret.
    async fn config_set(
        &self,
        component: &str,
        key: &str,
        value: ConfigValue,
    ) -> Result<(), ServiceError>;
    /// Unsets a component's value.
    async fn config_unset(&self, component: &str, key: &str) -> Result<(), ServiceError>;
    /// A component's values (secrets' values left out).
    async fn config_list(&self, component: &str) -> Result<Vec<ConfigEntry>, ServiceError>;
    /// Grants or revokes origins.
    async fn grant(
        &self,
        component: &str,
        origins: &[OriginPattern],
        granted: bool,
    ) -> Result<Vec<GrantChange>, ServiceError>;
    /// A component's granted origins.
    async fn grants(&self, component: &str) -> Result<Vec<OriginPattern>, ServiceError>;
    /// Creates a tenant.
    async fn tenant_create(&self, name: &str) -> Result<Tenant, ServiceError>;
    /// Every tenant.
    async fn tenants(&self) -> Result<Vec<Tenant>, ServiceError>;
    /// One tenant and its tokens.
    async fn tenant(&self, name: &str) -> Result<TenantDetails, ServiceError>;
    /// Sets a tenant's HTTP ceiling.
    async fn tenant_set_http_ceiling(
        &self,
        name: &str,
        ceiling: &[OriginPattern],
    ) -> Result<Tenant, ServiceError>;
    /// Replaces a tenant's quotas.
    async fn tenant_set_quotas(&self, name: &str, quotas: &Quotas) -> Result<Tenant, ServiceError>;
    /// Deletes a tenant and everything it owns.
    async fn tenant_delete(&self, name: &str) -> Result<TenantDeleted, ServiceError>;
    /// Creates a token.
    async fn token_create(&self, request: TokenRequest) -> Result<CreatedToken, ServiceError>;
    /// The tokens one administers.
    async fn tokens(&self) -> Result<Vec<TokenInfo>, ServiceError>;
    /// Revokes a token.
    async fn token_revoke(&self, id: &str) -> Result<TokenInfo, ServiceError>;
}
