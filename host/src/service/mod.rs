//! The service layer: the one way into wasmtasks. The CLI, the HTTP API, the
//! dashboard and the library's backends all call these operations; none of them
//! touches the store or the sandbox directly.
//!
//! Every operation takes the acting [`Principal`] explicitly and checks its role
//! first; every query is scoped to the principal's tenant, so another tenant's
//! names and ids answer exactly as unknown ones do. One module per concern, each a
//! view on [`Services`]: [`components`](Services::components),
//! [`jobs`](Services::jobs), [`queues`](Services::queues),
//! [`config`](Services::config) (values and secrets), [`grants`](Services::grants),
//! [`tenants`](Services::tenants), [`tokens`](Services::tokens),
//! [`usage`](Services::usage), [`workers`](Services::workers) and
//! [`metrics`](Services::metrics).

pub mod components;
pub mod config;
mod enqueuer;
mod error;
pub mod events;
pub mod grants;
pub mod jobs;
pub mod metrics;
pub mod queues;
mod quotas;
pub mod schedules;
pub mod tenants;
pub mod tokens;
pub mod usage;
pub mod workers;

use std::sync::Arc;

pub use error::{BatchProblem, ErrorKind, ServiceError};

use crate::config::Settings;
use crate::registry::Registry;
use crate::store::Store;
use crate::tenant::{Principal, Role};

/// Every operation of the system, for any principal. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Services {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    registry: Arc<Registry>,
    settings: Arc<Settings>,
    enqueuer: enqueuer::Enqueuer,
    tokens: tokens::TokenCache,
    quotas: quotas::QuotaState,
}

impl Services {
    /// The services over `registry` (store and sandbox), configured by `settings`.
    /// Must be called within a tokio runtime: it starts the task that writes
    /// single enqueues in groups.
    pub fn new(registry: Arc<Registry>, settings: Arc<Settings>) -> Self {
        let enqueuer = enqueuer::Enqueuer::start(registry.store().clone());
        Services {
            inner: Arc::new(Inner {
                registry,
                settings,
                enqueuer,
                tokens: tokens::token_cache(),
                quotas: quotas::QuotaState::new(),
            }),
        }
    }

    /// The registry of components (store and sandbox) behind the services.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.inner.registry
    }

    /// The configuration.
    pub fn settings(&self) -> &Arc<Settings> {
        &self.inner.settings
    }

    fn store(&self) -> &dyn Store {
        self.inner.registry.store().as_ref()
    }

    /// Components: upload, list, show, delete.
    pub fn components(&self) -> components::Components<'_> {
        components::Components(self)
    }

    /// Jobs: enqueue, results, lists, cancel, retry, prune.
    pub fn jobs(&self) -> jobs::Jobs<'_> {
        jobs::Jobs(self)
    }

    /// The tenant's job transitions, as a stream.
    pub fn events(&self) -> events::Events<'_> {
        events::Events(self)
    }

    /// Queues: counts by status and lag.
    pub fn queues(&self) -> queues::Queues<'_> {
        queues::Queues(self)
    }

    /// Periodic jobs.
    pub fn schedules(&self) -> schedules::Schedules<'_> {
        schedules::Schedules(self)
    }

    /// The configuration values and secrets of components.
    pub fn config(&self) -> config::Config<'_> {
        config::Config(self)
    }

    /// The HTTP origins granted to components.
    pub fn grants(&self) -> grants::Grants<'_> {
        grants::Grants(self)
    }

    /// Tenants (the operator's).
    pub fn tenants(&self) -> tenants::Tenants<'_> {
        tenants::Tenants(self)
    }

    /// What the tenant used, per day.
    pub fn usage(&self) -> usage::Usage<'_> {
        usage::Usage(self)
    }

    /// API tokens, and authentication.
    pub fn tokens(&self) -> tokens::Tokens<'_> {
        tokens::Tokens(self)
    }

    /// This process's Prometheus metrics.
    pub fn metrics(&self) -> metrics::Metrics<'_> {
        metrics::Metrics(self)
    }

    /// The registry of workers.
    pub fn workers(&self) -> workers::Workers<'_> {
        workers::Workers(self)
    }

    /// Whether the store answers (`/readyz`).
    pub async fn ready(&self) -> Result<(), ServiceError> {
        self.store()
            .tenant_get(crate::tenant::DEFAULT_TENANT)
            .await?;
        Ok(())
    }

    /// Checks that `principal` may act as `role` within its tenant, and (for the
    /// operator, who may name any tenant) that the tenant exists: for a read, as
    /// last read at most a second ago ([`Services::known_tenant`]; a tenant just
    /// deleted elsewhere shows nothing); for anything that writes, as stored now,
    /// so nothing is written for a tenant already deleted. The `default` tenant is
    /// never read: its migration creates it and it cannot be deleted.
    async fn authorize(&self, principal: &Principal, role: Role) -> Result<(), ServiceError> {
        if !principal.may(role) {
            return Err(ServiceError::Forbidden(format!(
                "this needs the {role} role; the token's role is {}",
                principal.role()
            )));
        }
        let tenant = principal.tenant();
        if !principal.is_operator() || tenant == crate::tenant::DEFAULT_TENANT {
            return Ok(());
        }
        let exists = if role == Role::Reader {
            self.known_tenant(tenant).await?.is_some()
        } else {
            self.store().tenant_get(tenant).await?.is_some()
        };
        if exists {
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!(
                "no tenant `{tenant}` (create it with `wasmtasks tenant create {tenant}`)"
            )))
        }
    }
}

/// Refuses a principal that is not the operator.
fn operator_only(principal: &Principal) -> Result<(), ServiceError> {
    if principal.is_operator() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!(
            "only the operator may do this; the token's role is {}",
            principal.role()
        )))
    }
}
