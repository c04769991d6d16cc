//! The request and response bodies of the API that are not the service layer's
//! own types. The CLI's client uses the same types, so both ends agree.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wasmtasks::enqueue::JobSpec;
use wasmtasks::tenant::Role;

/// `POST /api/v1/jobs/bulk`: jobs enqueued all or nothing.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkEnqueue {
    /// The jobs, in order.
    pub jobs: Vec<JobSpec>,
}

/// The ids of jobs enqueued together, in the order they were given.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct Enqueued {
    /// The ids; a unique job's duplicate has the existing job's.
    pub ids: Vec<String>,
    /// The positions of the jobs that were duplicates of existing unique jobs
    /// (nothing was enqueued for them).
    #[serde(default)]
    pub duplicates: Vec<usize>,
}

/// `GET /api/v1/jobs/{id}` options.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ResultQuery {
    /// Wait until the job finishes, at most this long (`30s`, `500ms`; at most
    /// 5 minutes); the result as it is then.
    pub wait: Option<String>,
}

/// `GET /api/v1/jobs` filters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JobsQuery {
    /// Statuses, comma-separated (`FAILED,CANCELLED`).
    pub status: Option<String>,
    /// A queue.
    pub queue: Option<String>,
    /// A component (`arith`) or task (`arith.add`).
    pub task: Option<String>,
    /// Enqueued at or after this time (RFC 3339).
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Enqueued before this time (RFC 3339).
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=1000 (default 50).
    pub limit: Option<u32>,
}

/// `POST /api/v1/jobs/retry`: which jobs to put back to READY.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryRequest {
    /// These FAILED or CANCELLED jobs.
    #[serde(default)]
    pub ids: Vec<String>,
    /// Instead: every FAILED job (of `task`, if given).
    #[serde(default)]
    pub all_failed: bool,
    /// With `all_failed`: only this component (`arith`) or task (`arith.add`).
    pub task: Option<String>,
}

/// `POST /api/v1/components` options (with a raw `application/wasm` body).
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The name to store it under [default: the name the component gives itself].
    pub name: Option<String>,
    /// Origins to grant it, comma-separated (`https://ntfy.sh,https://*.example.com`).
    pub allow_http: Option<String>,
}

/// A multipart upload: the same as the query, in form fields.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The component file.
    #[schema(format = Binary, content_media_type = "application/wasm")]
    pub component: Vec<u8>,
    /// The name to store it under.
    pub name: Option<String>,
    /// Origins to grant it, comma-separated.
    pub allow_http: Option<String>,
}

/// `DELETE /api/v1/components/{name}` options.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteComponentQuery {
    /// Only the version whose digest starts so [default: every version].
    pub digest: Option<String>,
}

/// A configuration value to set.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigValueBody {
    /// The value.
    pub value: String,
    /// A secret: never returned, redacted wherever an attempt's output is kept.
    #[serde(default)]
    pub secret: bool,
}

/// Origins to grant, revoke, or set as a ceiling.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Origins {
    /// Each `scheme://host[:port]`; the host may start with `*.`.
    pub origins: Vec<String>,
}

/// A tenant to create.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// Its name: letters, digits, `_` or `-`.
    pub name: String,
}

/// Who a token stands for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WhoAmI {
    /// The tenant it acts within.
    pub tenant: String,
    /// Its role.
    pub role: Role,
}
