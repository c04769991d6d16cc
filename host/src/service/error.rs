//! The errors of the service layer: one enum for every front end, each variant a
//! kind of refusal with the words a person reads. The CLI prints the message; the
//! HTTP API puts it in a problem's `detail`, under the kind's stable `type` and
//! status ([`ErrorKind`]).

use crate::enqueue::EnqueueError;
use crate::quota::{QuotaExceeded, QuotaKind};
use crate::registry::RegistryError;
use crate::store::StoreError;

/// Why an operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No such thing, or one the principal may not see (answered alike).
    #[error("{0}")]
    NotFound(String),
    /// No credentials, or credentials that are not (or no longer) valid.
    #[error("{0}")]
    Unauthorized(String),
    /// The principal's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request breaks a rule; nothing was stored.
    #[error("{0}")]
    Invalid(String),
    /// Some items of a batch break a rule; nothing of it was stored.
    #[error("{message}")]
    InvalidBatch {
        /// A summary naming every bad item.
        message: String,
        /// Each bad item: its position (0-based) and what is wrong with it.
        problems: Vec<BatchProblem>,
    },
    /// The request conflicts with the current state (a job that is not READY).
    #[error("{0}")]
    Conflict(String),
    /// The request is larger than allowed.
    #[error("{0}")]
    TooLarge(String),
    /// One of the tenant's quotas refuses the request; nothing was stored.
    #[error(transparent)]
    Quota(QuotaExceeded),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something this process could not do (the sandbox, a bug).
    #[error("{0}")]
    Internal(String),
}

/// One bad item of a batch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchProblem {
    /// Its position in the batch, from 0.
    pub index: usize,
    /// What is wrong with it.
    pub message: String,
}

/// The kind of a [`ServiceError`]: its HTTP status and stable problem type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 404.
    NotFound,
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 422.
    Invalid,
    /// 409.
    Conflict,
    /// 413.
    TooLarge,
    /// 429: a quota that frees up with time (`max_queued`, `enqueue_rate`).
    QuotaExceeded,
    /// 403: above one of the tenant's ceilings (`max_fuel`, `max_components`, ...).
    OverCeiling,
    /// 503: the database is not reachable now.
    Unavailable,
    /// 500.
    Internal,
}

impl ErrorKind {
    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::NotFound => 404,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::Invalid => 422,
            ErrorKind::Conflict => 409,
            ErrorKind::TooLarge => 413,
            ErrorKind::QuotaExceeded => 429,
            ErrorKind::OverCeiling => 403,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }

    /// The stable last segment of the problem type, e.g. `not-found`.
    pub fn slug(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not-found",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Invalid => "invalid-request",
            ErrorKind::Conflict => "conflict",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::QuotaExceeded => "quota-exceeded",
            ErrorKind::OverCeiling => "over-ceiling",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }

    /// A short title for people, e.g. `Not found`.
    pub fn title(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "Not found",
            ErrorKind::Unauthorized => "Unauthorized",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::Invalid => "Invalid request",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::TooLarge => "Too large",
            ErrorKind::QuotaExceeded => "Quota exceeded",
            ErrorKind::OverCeiling => "Above the tenant's ceiling",
            ErrorKind::Unavailable => "Database unavailable",
            ErrorKind::Internal => "Internal error",
        }
    }
}

impl ServiceError {
    /// Its kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ServiceError::NotFound(_) => ErrorKind::NotFound,
            ServiceError::Unauthorized(_) => ErrorKind::Unauthorized,
            ServiceError::Forbidden(_) => ErrorKind::Forbidden,
            ServiceError::Invalid(_) | ServiceError::InvalidBatch { .. } => ErrorKind::Invalid,
            ServiceError::Conflict(_) => ErrorKind::Conflict,
            ServiceError::TooLarge(_) => ErrorKind::TooLarge,
            ServiceError::Quota(_) | ServiceError::Store(StoreError::Quota(_)) => {
                match self.quota().map(|quota| quota.kind) {
                    Some(QuotaKind::Ceiling) => ErrorKind::OverCeiling,
                    _ => ErrorKind::QuotaExceeded,
                }
            }
            ServiceError::Store(StoreError::BadCursor(_)) => ErrorKind::Invalid,
            ServiceError::Store(error) if error.is_unavailable() => ErrorKind::Unavailable,
            ServiceError::Store(_) | ServiceError::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The quota that refused the request, if one did.
    pub fn quota(&self) -> Option<&QuotaExceeded> {
        match self {
            ServiceError::Quota(quota) | ServiceError::Store(StoreError::Quota(quota)) => {
                Some(quota)
            }
            _ => None,
        }
    }

    /// The refusal of a batch whose items at `problems` break rules.
    pub fn invalid_batch(what: &str, problems: Vec<BatchProblem>) -> ServiceError {
        let listed: Vec<String> = problems
            .iter()
            .map(|problem| format!("{what} {}: {}", problem.index + 1, problem.message))
            .collect();
        ServiceError::InvalidBatch {
            message: format!(
                "nothing was stored: {} of the batch {} refused:\n{}",
                problems.len(),
                if problems.len() == 1 { "was" } else { "were" },
                listed.join("\n")
            ),
            problems,
        }
    }
}

/// A refused enqueue request: a store failure stays one; anything else is a rule
/// the request broke.
impl From<EnqueueError> for ServiceError {
    fn from(error: EnqueueError) -> Self {
        match error {
            EnqueueError::Registry(RegistryError::Store(error)) => ServiceError::Store(error),
            other => ServiceError::Invalid(other.to_string()),
        }
    }
}
