//! Refusals of a tenant's quotas: which limit, its value, and whether waiting helps.

use serde::{Deserialize, Serialize};

/// Whether a refused request may succeed later unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuotaKind {
    /// A rate or a count that frees up with time (HTTP 429).
    Busy,
    /// A ceiling the request is above: it never fits (HTTP 403).
    Ceiling,
}

/// A request refused by one of the tenant's quotas; nothing was stored.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[error("{message}")]
pub struct QuotaExceeded {
    /// The quota's name, e.g. `max_queued`.
    pub limit: String,
    /// Its value for the tenant, e.g. `100` or `10/s (burst 20)`.
    pub value: String,
    /// Busy (try later) or over a ceiling (never).
    pub kind: QuotaKind,
    /// Seconds after which the same request may fit, when that is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// The refusal in words, naming the tenant, the limit and its value.
    pub message: String,
}

impl QuotaExceeded {
    /// A refusal that frees up with time.
    pub fn busy(limit: &str, value: impl ToString, message: String) -> Self {
        QuotaExceeded {
            limit: limit.to_owned(),
            value: value.to_string(),
            kind: QuotaKind::Busy,
            retry_after_secs: None,
            message,
        }
    }

    /// A refusal of a request above a ceiling.
    pub fn ceiling(limit: &str, value: impl ToString, message: String) -> Self {
        QuotaExceeded {
            limit: limit.to_owned(),
            value: value.to_string(),
            kind: QuotaKind::Ceiling,
            retry_after_secs: None,
            message,
        }
    }

    /// The same refusal, saying when to try again.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_secs = Some(seconds);
        self
    }
}
