//! Errors as RFC 9457 problem details (`application/problem+json`): a stable
//! `type` per kind of error (`urn:wasmtasks:problem:<slug>`), the HTTP status, a
//! title, and a `detail` in the same words the CLI prints. A refused batch lists
//! each bad item in `errors`; a quota's refusal names the quota in `quota` (with a
//! `Retry-After` header when the time to wait is known).

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use wasmtasks::quota::QuotaExceeded;
use wasmtasks::service::{BatchProblem, ErrorKind, ServiceError};

/// The prefix of every problem type.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:wasmtasks:problem:";

/// A problem detail, as the API answers an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, stable across releases:
    /// `urn:wasmtasks:problem:` and one of `not-found`, `unauthorized`,
    /// `forbidden`, `invalid-request`, `malformed-request`,
    /// `unsupported-media-type`, `conflict`, `too-large`, `quota-exceeded`,
    /// `over-ceiling`, `unavailable`, `internal`, `method-not-allowed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, in words (the CLI prints the same).
    pub detail: String,
    /// For a refused batch: each bad item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<BatchProblem>,
    /// For a quota's refusal: which quota, its value, and when to try again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<Box<QuotaExceeded>>,
}

impl Problem {
    /// A problem of the given status, slug and title.
    pub fn new(status: u16, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("{PROBLEM_TYPE_PREFIX}{slug}"),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            errors: Vec::new(),
            quota: None,
        }
    }

    /// The slug of its type, e.g. `not-found`.
    pub fn slug(&self) -> &str {
        self.kind
            .strip_prefix(PROBLEM_TYPE_PREFIX)
            .unwrap_or(&self.kind)
    }

    /// A request that is not well-formed (bad JSON, bad UTF-8, a bad path).
    pub fn malformed(detail: impl Into<String>) -> Self {
        Problem::new(400, "malformed-request", "Malformed request", detail)
    }

    /// A request that is well-formed but breaks a rule.
    pub fn invalid(detail: impl Into<String>) -> Self {
        let kind = ErrorKind::Invalid;
        Problem::new(kind.status(), kind.slug(), kind.title(), detail)
    }

    fn from_rejection(status: StatusCode, detail: String) -> Self {
        match status.as_u16() {
            413 => Problem::new(
                413,
                ErrorKind::TooLarge.slug(),
                ErrorKind::TooLarge.title(),
                detail,
            ),
            415 => Problem::new(
                415,
                "unsupported-media-type",
                "Unsupported media type",
                detail,
            ),
            422 => Problem::invalid(detail),
            _ => Problem::malformed(detail),
        }
    }
}

impl From<ServiceError> for Problem {
    fn from(error: ServiceError) -> Self {
        let kind = error.kind();
        if kind == ErrorKind::Internal || kind == ErrorKind::Unavailable {
            tracing::error!(%error, "request failed");
        }
        let mut problem = Problem::new(kind.status(), kind.slug(), kind.title(), error.to_string());
        problem.quota = error.quota().cloned().map(Box::new);
        if let ServiceError::InvalidBatch { problems, .. } = error {
            problem.errors = problems;
        }
        problem
    }
}

impl From<JsonRejection> for Problem {
    fn from(rejection: JsonRejection) -> Self {
        Problem::from_rejection(rejection.status(), rejection.body_text())
    }
}

impl From<QueryRejection> for Problem {
    fn from(rejection: QueryRejection) -> Self {
        Problem::invalid(rejection.body_text())
    }
}

impl From<PathRejection> for Problem {
    fn from(rejection: PathRejection) -> Self {
        Problem::malformed(rejection.body_text())
    }
}

impl From<BytesRejection> for Problem {
    fn from(rejection: BytesRejection) -> Self {
        Problem::from_rejection(rejection.status(), rejection.body_text())
    }
}

impl From<MultipartRejection> for Problem {
    fn from(rejection: MultipartRejection) -> Self {
        Problem::from_rejection(rejection.status(), rejection.body_text())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.quota.as_ref().and_then(|quota| quota.retry_after_secs);
        let mut response = (status, axum::Json(self)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}
