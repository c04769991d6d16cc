//! The [`Api`] on the database, through the service layer, as the operator
//! acting within one tenant.

use std::time::Duration;

use async_trait::async_trait;
use wasmtasks::enqueue::EnqueueRequest;
use wasmtasks::sandbox::{ConfigValue, OriginPattern};
use wasmtasks::schedule::ScheduleSpec;
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
use wasmtasks::service::{ServiceError, Services};
use wasmtasks::store::{
    ComponentVersion, Quotas, RetryOutcome, RetrySelection, Tenant, TenantDeleted, WorkerRecord,
};
use wasmtasks::task::TaskResult;
use wasmtasks::tenant::Principal;

use super::Api;

/// The services of a local database, and who acts.
pub struct Local {
    /// The services.
    pub services: Services,
    /// The operator, within the tenant the command names.
    pub principal: Principal,
}

#[async_trait]
impl Api for Local {
    async fn upload(&self, request: UploadRequest) -> Result<UploadReport, ServiceError> {
        self.services
            .components()
            .upload(&self.principal, request)
            .await
    }

    async fn components(&self) -> Result<Vec<ComponentVersion>, ServiceError> {
        self.services.components().list(&self.principal).await
    }

    async fn component(&self, name: &str) -> Result<ComponentDetails, ServiceError> {
        self.services.components().show(&self.principal, name).await
    }

    async fn delete_component(
        &self,
        name: &str,
        digest_prefix: Option<&str>,
    ) -> Result<Vec<DeletedVersion>, ServiceError> {
        self.services
            .components()
            .delete(&self.principal, name, digest_prefix)
            .await
    }

    async fn enqueue(&self, request: EnqueueRequest) -> Result<EnqueueOutcome, ServiceError> {
        self.services.jobs().enqueue(&self.principal, request).await
    }

    async fn enqueue_many(
        &self,
        requests: Vec<EnqueueRequest>,
    ) -> Result<BatchOutcome, ServiceError> {
        self.services
            .jobs()
            .enqueue_many(&self.principal, requests)
            .await
    }

    async fn validate_many(&self, requests: Vec<EnqueueRequest>) -> Result<(), ServiceError> {
        self.services
            .jobs()
            .validate_many(&self.principal, requests)
            .await
    }

    async fn result(&self, id: &str) -> Result<TaskResult, ServiceError> {
        self.services.jobs().get(&self.principal, id).await
    }

    async fn wait(&self, id: &str, timeout: Duration) -> Result<TaskResult, ServiceError> {
        self.services
            .jobs()
            .wait(&self.principal, id, timeout)
            .await
    }

    async fn jobs(&self, filter: JobFilter) -> Result<JobPage, ServiceError> {
        self.services.jobs().list(&self.principal, filter).await
    }

    async fn cancel(&self, id: &str) -> Result<TaskResult, ServiceError> {
        self.services.jobs().cancel(&self.principal, id).await
    }

    async fn retry(&self, selection: RetrySelection) -> Result<Vec<RetryOutcome>, ServiceError> {
        self.services.jobs().retry(&self.principal, selection).await
    }

    async fn queues(&self) -> Result<Vec<QueueSummary>, ServiceError> {
        self.services.queues().list(&self.principal).await
    }

    async fn usage(
        &self,
        from: Option<chrono::NaiveDate>,
        to: Option<chrono::NaiveDate>,
    ) -> Result<UsageReport, ServiceError> {
        self.services
            .usage()
            .report(&self.principal, from, to)
            .await
    }

    async fn workers(&self) -> Result<Vec<WorkerRecord>, ServiceError> {
        self.services.workers().list(&self.principal).await
    }

    async fn queue_set_paused(
        &self,
        queue: &str,
        paused: bool,
    ) -> Result<QueuePause, ServiceError> {
        self.services
            .queues()
            .set_paused(&self.principal, queue, paused)
            .await
    }

    async fn schedules(&self) -> Result<Vec<ScheduleInfo>, ServiceError> {
        self.services.schedules().list(&self.principal).await
    }

    async fn schedule_put(
        &self,
        name: &str,
        spec: ScheduleSpec,
    ) -> Result<ScheduleInfo, ServiceError> {
        self.services
            .schedules()
            .put(&self.principal, name, spec)
            .await
    }

    async fn schedule_delete(&self, name: &str) -> Result<(), ServiceError> {
        self.services
            .schedules()
            .delete(&self.principal, name)
            .await
    }

    async fn schedule_set_paused(
        &self,
        name: &str,
        paused: bool,
    ) -> Result<ScheduleInfo, ServiceError> {
        self.services
            .schedules()
            .set_paused(&self.principal, name, paused)
            .await
    }

    async fn config_set(
        &self,
        component: &str,
        key: &str,
        value: ConfigValue,
    ) -> Result<(), ServiceError> {
        self.services
            .config()
            .set(&self.principal, component, key, value)
            .await
    }

    async fn config_unset(&self, component: &str, key: &str) -> Result<(), ServiceError> {
        self.services
            .config()
            .unset(&self.principal, component, key)
            .await
    }

    async fn config_list(&self, component: &str) -> Result<Vec<ConfigEntry>, ServiceError> {
        self.services
            .config()
            .list(&self.principal, component)
            .await
    }

    async fn grant(
        &self,
        component: &str,
        origins: &[OriginPattern],
        granted: bool,
    ) -> Result<Vec<GrantChange>, ServiceError> {
        self.services
            .grants()
            .change(&self.principal, component, origins, granted)
            .await
    }

    async fn grants(&self, component: &str) -> Result<Vec<OriginPattern>, ServiceError> {
        self.services
            .grants()
            .list(&self.principal, component)
            .await
    }

    async fn tenant_create(&self, name: &str) -> Result<Tenant, ServiceError> {
        self.services.tenants().create(&self.principal, name).await
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, ServiceError> {
        self.services.tenants().list(&self.principal).await
    }

    async fn tenant(&self, name: &str) -> Result<TenantDetails, ServiceError> {
        self.services.tenants().show(&self.principal, name).await
    }

    async fn tenant_set_http_ceiling(
        &self,
        name: &str,
        ceiling: &[OriginPattern],
    ) -> Result<Tenant, ServiceError> {
        self.services
            .tenants()
            .set_http_ceiling(&self.principal, name, ceiling)
            .await
    }

    async fn tenant_set_quotas(&self, name: &str, quotas: &Quotas) -> Result<Tenant, ServiceError> {
        self.services
            .tenants()
            .set_quotas(&self.principal, name, quotas)
            .await
    }

    async fn tenant_delete(&self, name: &str) -> Result<TenantDeleted, ServiceError> {
        self.services.tenants().delete(&self.principal, name).await
    }

    async fn token_create(&self, request: TokenRequest) -> Result<CreatedToken, ServiceError> {
        self.services
            .tokens()
            .create(&self.principal, request)
            .await
    }

    async fn tokens(&self) -> Result<Vec<TokenInfo>, ServiceError> {
        self.services.tokens().list(&self.principal).await
    }

    async fn token_revoke(&self, id: &str) -> Result<TokenInfo, ServiceError> {
        self.services.tokens().revoke(&self.principal, id).await
    }
}
