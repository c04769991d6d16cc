//! Who acts: a [`Principal`] is a tenant and a [`Role`] within it. Every
//! operation of the service layer takes one explicitly; there is no process-wide
//! tenant.
//!
//! | role | may |
//! | --- | --- |
//! | `reader` | read jobs, results, components, queues |
//! | `member` | also enqueue, cancel and retry jobs |
//! | `admin` | also upload and delete components, set their configuration and secrets, grant HTTP origins within the tenant's ceiling, manage the tenant's tokens |
//! | `operator` | everything, for every tenant: tenants, ceilings, any token |
//!
//! Local access to the database (the CLI without `--server`) is operator access.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The tenant of a single-user installation, which always exists.
pub const DEFAULT_TENANT: &str = "default";

/// What a principal may do, each role including the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads jobs, results, components and queues.
    Reader,
    /// Also enqueues, cancels and retries jobs.
    Member,
    /// Also manages components, their configuration, secrets and grants, and the
    /// tenant's tokens.
    Admin,
    /// Administers every tenant.
    Operator,
}

impl Role {
    /// The role as stored and printed, e.g. `member`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Operator => "operator",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "reader" => Ok(Role::Reader),
            "member" => Ok(Role::Member),
            "admin" => Ok(Role::Admin),
            "operator" => Ok(Role::Operator),
            other => Err(format!(
                "unknown role `{other}`: use reader, member, admin or operator"
            )),
        }
    }
}

/// Who is acting: a tenant, and a role within it (an operator acts within the
/// tenant it chose, and may act outside it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    tenant: String,
    role: Role,
}

impl Principal {
    /// `role` within `tenant`.
    pub fn new(tenant: impl Into<String>, role: Role) -> Self {
        Principal {
            tenant: tenant.into(),
            role,
        }
    }

    /// The operator, acting within `tenant`.
    pub fn operator(tenant: impl Into<String>) -> Self {
        Principal::new(tenant, Role::Operator)
    }

    /// The tenant it acts within.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// Its role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether it is the operator.
    pub fn is_operator(&self) -> bool {
        self.role == Role::Operator
    }

    /// Whether its role is `role` or above.
    pub fn may(&self, role: Role) -> bool {
        self.role >= role
    }

    /// The same principal acting within `tenant` (the operator's choice).
    pub fn within(&self, tenant: impl Into<String>) -> Self {
        Principal::new(tenant, self.role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_lower_ones() {
        let member = Principal::new("alice", Role::Member);
        assert!(member.may(Role::Reader) && member.may(Role::Member));
        assert!(!member.may(Role::Admin));
        assert!(Principal::operator("x").may(Role::Admin));
        assert_eq!("admin".parse::<Role>().unwrap(), Role::Admin);
        assert!("root".parse::<Role>().unwrap_err().contains("`root`"));
        assert_eq!(serde_json::to_string(&Role::Reader).unwrap(), "\"reader\"");
    }
}
