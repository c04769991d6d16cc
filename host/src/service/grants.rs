//! The HTTP origins a component may reach: granted by the tenant's admins within
//! the tenant's ceiling (set by the operator), revoked by them at any time.

use serde::{Deserialize, Serialize};
use wasmtasks_sandbox::OriginPattern;

use super::{ServiceError, Services};
use crate::store::ComponentGrant;
use crate::task::path::is_valid_name;
use crate::tenant::{Principal, Role};

/// What granting or revoking one origin did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantChange {
    /// The component.
    pub component: String,
    /// The origin.
    pub origin: OriginPattern,
    /// True for a grant, false for a revocation.
    pub granted: bool,
    /// Whether it changed anything (false: it already was so).
    pub changed: bool,
}

impl std::fmt::Display for GrantChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = match (self.granted, self.changed) {
            (true, true) => "granted",
            (true, false) => "already granted",
            (false, true) => "revoked",
            (false, false) => "was not granted",
        };
        write!(f, "{}: {verb} {}", self.component, self.origin)
    }
}

/// The grants operations.
#[derive(Debug, Clone, Copy)]
pub struct Grants<'a>(pub(super) &'a Services);

impl Grants<'_> {
    /// Refuses origins outside the tenant's ceiling (the operator has none).
    pub(super) async fn check_ceiling(
        &self,
        principal: &Principal,
        origins: &[OriginPattern],
    ) -> Result<(), ServiceError> {
        if principal.is_operator() || origins.is_empty() {
            return Ok(());
        }
        let ceiling = self
            .0
            .store()
            .tenant_get(principal.tenant())
            .await?
            .map(|tenant| tenant.http_ceiling)
            .unwrap_or_default();
        for origin in origins {
            if !ceiling.iter().any(|allowed| allowed.covers(origin)) {
                let allowed: Vec<String> = ceiling.iter().map(ToString::to_string).collect();
                return Err(ServiceError::Forbidden(format!(
                    "{origin} is outside the origins tenant `{}` may grant ({}); the operator sets them with `wasmtasks tenant set {} --http-ceiling …`",
                    principal.tenant(),
                    if allowed.is_empty() {
                        "none".to_owned()
                    } else {
                        allowed.join(", ")
                    },
                    principal.tenant()
                )));
            }
        }
        Ok(())
    }

    /// Grants (or revokes) `origins` to `component`; one change per origin.
    /// Applies from the component's next attempt.
    pub async fn change(
        &self,
        principal: &Principal,
        component: &str,
        origins: &[OriginPattern],
        granted: bool,
    ) -> Result<Vec<GrantChange>, ServiceError> {
        self.0.authorize(principal, Role::Admin).await?;
        check_component_name(component)?;
        if granted {
            self.check_ceiling(principal, origins).await?;
        }
        let mut changes = Vec::with_capacity(origins.len());
        for origin in origins {
            let changed = self
                .0
                .store()
                .component_grant_change(ComponentGrant {
                    tenant: principal.tenant().to_owned(),
                    component: component.to_owned(),
                    origin: origin.clone(),
                    granted,
                })
                .await?;
            changes.push(GrantChange {
                component: component.to_owned(),
                origin: origin.clone(),
                granted,
                changed,
            });
        }
        Ok(changes)
    }

    /// The origins `component` is granted in the store (the configuration file
    /// may grant more; see [`super::config::Config::list`] for the file's values).
    pub async fn list(
        &self,
        principal: &Principal,
        component: &str,
    ) -> Result<Vec<OriginPattern>, ServiceError> {
        self.0.authorize(principal, Role::Reader).await?;
        check_component_name(component)?;
        Ok(self
            .0
            .store()
            .component_grant_list(principal.tenant(), component)
            .await?)
    }
}

/// Refuses a name no component can have.
pub(super) fn check_component_name(component: &str) -> Result<(), ServiceError> {
    if is_valid_name(component) {
        Ok(())
    } else {
        Err(ServiceError::Invalid(format!(
            "invalid component name `{component}`: use letters, digits, `_` or `-`"
        )))
    }
}
