//! Tenants, the operator's: create, list, show, set the HTTP ceiling, delete.

use serde::{Deserialize, Serialize};
use wasmtasks_sandbox::OriginPattern;

use super::tokens::TokenInfo;
use super::{ServiceError, Services, operator_only};
use crate::store::{Quotas, Tenant, TenantDeleted};
use crate::task::path::is_valid_name;
use crate::tenant::{DEFAULT_TENANT, Principal};

/// A tenant and its tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantDetails {
    /// The tenant.
    #[serde(flatten)]
    pub tenant: Tenant,
    /// Its tokens (no secrets).
    pub tokens: Vec<TokenInfo>,
}

/// The tenants operations.
#[derive(Debug, Clone, Copy)]
pub struct Tenants<'a>(pub(super) &'a Services);

impl Tenants<'_> {
    /// Creates a tenant.
    pub async fn create(&self, principal: &Principal, name: &str) -> Result<Tenant, ServiceError> {
        operator_only(principal)?;
        if !is_valid_name(name) {
            return Err(ServiceError::Invalid(format!(
                "invalid tenant name `{name}`: use letters, digits, `_` or `-`"
            )));
        }
        if !self.0.store().tenant_create(name).await? {
            return Err(ServiceError::Conflict(format!(
                "tenant `{name}` exists already"
            )));
        }
        let defaults = self.0.settings().tenant_quotas;
        if defaults != Quotas::default() {
            self.0.store().tenant_set_quotas(name, &defaults).await?;
        }
        self.get(name).await
    }

    async fn get(&self, name: &str) -> Result<Tenant, ServiceError> {
        self.0
            .store()
            .tenant_get(name)
            .await?
            .ok_or_else(|| no_tenant(name))
    }

    /// Every tenant.
    pub async fn list(&self, principal: &Principal) -> Result<Vec<Tenant>, ServiceError> {
        operator_only(principal)?;
        Ok(self.0.store().tenant_list().await?)
    }

    /// One tenant with its tokens.
    pub async fn show(
        &self,
        principal: &Principal,
        name: &str,
    ) -> Result<TenantDetails, ServiceError> {
        operator_only(principal)?;
        let tenant = self.get(name).await?;
        let tokens = self
            .0
            .store()
            .token_list(Some(name))
            .await?
            .into_iter()
            .map(TokenInfo::from)
            .collect();
        Ok(TenantDetails { tenant, tokens })
    }

    /// Sets the origins the tenant's admins may grant their components.
    pub async fn set_http_ceiling(
        &self,
        principal: &Principal,
        name: &str,
        ceiling: &[OriginPattern],
    ) -> Result<Tenant, ServiceError> {
        operator_only(principal)?;
        if !self
            .0
            .store()
            .tenant_set_http_ceiling(name, ceiling)
            .await?
        {
            return Err(no_tenant(name));
        }
        self.get(name).await
    }

    /// Replaces the tenant's quotas (an absent limit is no limit).
    pub async fn set_quotas(
        &self,
        principal: &Principal,
        name: &str,
        quotas: &Quotas,
    ) -> Result<Tenant, ServiceError> {
        operator_only(principal)?;
        quotas
            .validate()
            .map_err(|problem| ServiceError::Invalid(format!("invalid quotas: {problem}")))?;
        if !self.0.store().tenant_set_quotas(name, quotas).await? {
            return Err(no_tenant(name));
        }
        self.0.inner.quotas.forget(name);
        self.get(name).await
    }

    /// Deletes a tenant and everything it owns: jobs, components, configuration,
    /// grants and tokens. The `default` tenant stays.
    pub async fn delete(
        &self,
        principal: &Principal,
        name: &str,
    ) -> Result<TenantDeleted, ServiceError> {
        operator_only(principal)?;
        if name == DEFAULT_TENANT {
            return Err(ServiceError::Invalid(format!(
                "the `{DEFAULT_TENANT}` tenant cannot be deleted"
            )));
        }
        let deleted = self
            .0
            .store()
            .tenant_delete(name)
            .await?
            .ok_or_else(|| no_tenant(name))?;
        self.0.inner.tokens.clear();
        self.0.inner.quotas.forget(name);
        self.0.registry().forget_tenant(name);
        Ok(deleted)
    }
}

fn no_tenant(name: &str) -> ServiceError {
    ServiceError::NotFound(format!("no tenant `{name}`"))
}
