//! Workers: the registry of running (and recently stopped or lost) workers and
//! what each is running.

use super::{ServiceError, Services};
use crate::store::WorkerRecord;
use crate::tenant::{Principal, Role};

/// The workers operations.
#[derive(Debug, Clone, Copy)]
pub struct Workers<'a>(pub(super) &'a Services);

impl Workers<'_> {
    /// The registered workers, by id. The operator sees every worker with all it
    /// runs; a tenant sees the workers that serve it, only its own running jobs,
    /// and neither the tenants a worker is limited to nor its totals (they count
    /// other tenants' work).
    pub async fn list(&self, principal: &Principal) -> Result<Vec<WorkerRecord>, ServiceError> {
        self.0.authorize(principal, Role::Reader).await?;
        if principal.is_operator() {
            return Ok(self.0.store().worker_list(None).await?);
        }
        let tenant = principal.tenant();
        let workers = self.0.store().worker_list(Some(tenant)).await?;
        Ok(workers
            .into_iter()
            .filter(|worker| {
                worker
                    .tenants
                    .as_ref()
                    .is_none_or(|tenants| tenants.iter().any(|t| t == tenant))
            })
            .map(|worker| WorkerRecord {
                tenants: None,
                finished: 0,
                failed: 0,
                ..worker
            })
            .collect())
    }
}
