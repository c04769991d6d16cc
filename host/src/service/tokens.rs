//! API tokens: `wt_<id>_<secret>`, 256 random bits of secret shown once and
//! stored only as a SHA-256 hash; the `wt_` prefix lets secret scanners find a
//! leaked one, and the public `id` names it in lists and revocations.
//! Authentication looks the token up by id and compares the secret's hash in
//! constant time.
//!
//! Verified tokens are kept in memory for [`CACHE_FOR`], so a request costs no
//! database read: a revocation or a tenant deletion through this process applies
//! at once, one made by another process (or the CLI on the database) within that
//! time.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{ServiceError, Services, operator_only};
use crate::store::{NewToken, TokenRecord};
use crate::tenant::{Principal, Role};
use crate::ttl_cache::TtlCache;

/// The prefix of every token.
pub const TOKEN_PREFIX: &str = "wt_";
/// How long a verified token is trusted without reading it again.
pub const CACHE_FOR: Duration = Duration::from_secs(2);

/// A token without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    /// The public id.
    pub id: String,
    /// The tenant it acts for; `None` for an operator token.
    pub tenant: Option<String>,
    /// Its role.
    pub role: Role,
    /// A name for people.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRecord> for TokenInfo {
    fn from(record: TokenRecord) -> Self {
        TokenInfo {
            id: record.id,
            tenant: record.tenant,
            role: record.role,
            name: record.name,
            created_at: record.created_at,
            expires_at: record.expires_at,
            revoked_at: record.revoked_at,
        }
    }
}

/// A token to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenRequest {
    /// The tenant it acts for; `None` (operator role only) for an operator token.
    pub tenant: Option<String>,
    /// Its role.
    pub role: Role,
    /// A name for people.
    #[serde(default)]
    pub name: String,
    /// How long it works, in seconds; forever when absent.
    #[serde(default, deserialize_with = "crate::sandbox::int64::optional")]
    pub expires_in_seconds: Option<u64>,
}

/// A token just created: the only time its secret is seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    /// The token to send as `Authorization: Bearer …`.
    pub token: String,
    /// What it is.
    pub info: TokenInfo,
}

/// Verified tokens, by id, for [`CACHE_FOR`].
pub(super) type TokenCache = TtlCache<String, TokenRecord>;

/// An empty token cache.
pub(super) fn token_cache() -> TokenCache {
    TtlCache::new(CACHE_FOR, 10_000)
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    hex::encode(buffer)
}

fn unauthorized(why: &str) -> ServiceError {
    ServiceError::Unauthorized(format!(
        "{why}; send `Authorization: Bearer wt_…` with a valid token"
    ))
}

/// The tokens operations.
#[derive(Debug, Clone, Copy)]
pub struct Tokens<'a>(pub(super) &'a Services);

impl Tokens<'_> {
    /// Creates a token: the operator for any tenant and role (an operator token
    /// has no tenant); a tenant's admin for its own tenant, up to admin.
    pub async fn create(
        &self,
        principal: &Principal,
        request: TokenRequest,
    ) -> Result<CreatedToken, ServiceError> {
        self.0.authorize(principal, Role::Admin).await?;
        let tenant = match (&request.tenant, request.role) {
            (None, Role::Operator) => {
                operator_only(principal)?;
                None
            }
            (None, role) => {
                return Err(ServiceError::Invalid(format!(
                    "a {role} token needs a tenant"
                )));
            }
            (Some(_), Role::Operator) => {
                return Err(ServiceError::Invalid(
                    "an operator token belongs to no tenant; leave the tenant out".into(),
                ));
            }
            (Some(tenant), _) => {
                if !principal.is_operator() && tenant != principal.tenant() {
                    return Err(ServiceError::NotFound(format!("no tenant `{tenant}`")));
                }
                self.0
                    .authorize(&principal.within(tenant.clone()), Role::Admin)
                    .await?;
                Some(tenant.clone())
            }
        };
        let expires_at = match request.expires_in_seconds {
            None => None,
            Some(seconds) => Some(
                chrono::Duration::try_seconds(seconds as i64)
                    .filter(|_| seconds <= 100 * 365 * 86_400)
                    .map(|duration| Utc::now() + duration)
                    .ok_or_else(|| {
                        ServiceError::Invalid(format!(
                            "expires_in_seconds must be at most 100 years, got {seconds}"
                        ))
                    })?,
            ),
        };
        if request.name.len() > 200 {
            return Err(ServiceError::Invalid(
                "a token's name is at most 200 characters".into(),
            ));
        }
        let id = random_hex(6);
        let secret = random_hex(32);
        let record = NewToken {
            id: id.clone(),
            tenant,
            role: request.role,
            name: request.name,
            secret_hash: sha256_hex(&secret),
            expires_at,
        };
        self.0.store().token_insert(record).await?;
        let info = self
            .0
            .store()
            .token_get(&id)
            .await?
            .map(TokenInfo::from)
            .ok_or_else(|| ServiceError::Internal("the token vanished once stored".into()))?;
        Ok(CreatedToken {
            token: format!("{TOKEN_PREFIX}{id}_{secret}"),
            info,
        })
    }

    /// The tokens the principal administers: every one for the operator, its own
    /// tenant's for an admin.
    pub async fn list(&self, principal: &Principal) -> Result<Vec<TokenInfo>, ServiceError> {
        self.0.authorize(principal, Role::Admin).await?;
        let tenant = (!principal.is_operator()).then_some(principal.tenant());
        Ok(self
            .0
            .store()
            .token_list(tenant)
            .await?
            .into_iter()
            .map(TokenInfo::from)
            .collect())
    }

    /// Revokes a token the principal administers.
    pub async fn revoke(&self, principal: &Principal, id: &str) -> Result<TokenInfo, ServiceError> {
        self.0.authorize(principal, Role::Admin).await?;
        let not_found = || ServiceError::NotFound(format!("no token `{id}`"));
        let record = self.0.store().token_get(id).await?.ok_or_else(not_found)?;
        if !principal.is_operator() && record.tenant.as_deref() != Some(principal.tenant()) {
            return Err(not_found());
        }
        self.0.store().token_revoke(id).await?;
        self.0.inner.tokens.forget_where(|cached| cached == id);
        let record = self.0.store().token_get(id).await?.ok_or_else(not_found)?;
        Ok(TokenInfo::from(record))
    }

    /// The principal a bearer token stands for. An operator token acts within
    /// `tenant` (the `default` tenant when not given); a tenant's token within
    /// its own tenant only.
    pub async fn authenticate(
        &self,
        token: &str,
        tenant: Option<&str>,
    ) -> Result<Principal, ServiceError> {
        let rest = token
            .strip_prefix(TOKEN_PREFIX)
            .ok_or_else(|| unauthorized("this is not a wasmtasks token (they start with wt_)"))?;
        let (id, secret) = rest
            .split_once('_')
            .ok_or_else(|| unauthorized("the token is malformed"))?;
        let cache = &self.0.inner.tokens;
        let record = match cache.get(id) {
            Some(record) => record,
            None => {
                let record = self
                    .0
                    .store()
                    .token_get(id)
                    .await?
                    .ok_or_else(|| unauthorized("unknown token"))?;
                cache.put(record.id.clone(), record.clone());
                record
            }
        };
        let presented = sha256_hex(secret);
        if !bool::from(presented.as_bytes().ct_eq(record.secret_hash.as_bytes())) {
            return Err(unauthorized("unknown token"));
        }
        if record.revoked_at.is_some() {
            return Err(unauthorized("the token was revoked"));
        }
        if record.expires_at.is_some_and(|at| at <= Utc::now()) {
            return Err(unauthorized("the token has expired"));
        }
        match (record.role, record.tenant) {
            (Role::Operator, _) => Ok(Principal::operator(
                tenant.unwrap_or(crate::tenant::DEFAULT_TENANT),
            )),
            (role, Some(own)) => {
                if tenant.is_some_and(|asked| asked != own) {
                    return Err(ServiceError::Forbidden(format!(
                        "this token acts for tenant `{own}` only"
                    )));
                }
                Ok(Principal::new(own, role))
            }
            (_, None) => Err(unauthorized("the token has no tenant")),
        }
    }
}
