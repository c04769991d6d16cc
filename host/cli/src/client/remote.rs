//! The [`Api`] over HTTP: a `wasmtasks serve` at a URL, with a bearer token from
//! `WASMTASKS_TOKEN` (or `--token`), or the one `wasmtasks login` saved for that
//! URL. Problem details come back as the service layer's errors, with the
//! server's words.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasmtasks::enqueue::{EnqueueRequest, JobSpec};
use wasmtasks::sandbox::{ConfigValue, OriginPattern};
use wasmtasks::schedule::ScheduleSpec;
use wasmtasks::service::ServiceError;
use wasmtasks::service::components::{
    ComponentDetails, DeletedVersion, UploadReport, UploadRequest,
};
use wasmtasks::service::config::ConfigEntry;
use wasmtasks::service::grants::GrantChange;
use wasmtasks::service::jobs::{BatchOutcome, EnqueueOutcome, JobFilter, JobPage};
use wasmtasks::service::queues::{QueuePause, QueueSummary};
use wasmtasks::service::schedules::ScheduleInfo;
use wasmtasks::service::tenants::TenantDetails;
use wasmtasks::service::tokens::{CreatedToken, TokenInfo, TokenRequest};
use wasmtasks::service::usage::UsageReport;
use wasmtasks::store::{
    ComponentVersion, Quotas, RetryOutcome, RetrySelection, Tenant, TenantDeleted, WorkerRecord,
};
use wasmtasks::task::TaskResult;
use wasmtasks_server::Problem;
use wasmtasks_server::api::types::{
    BulkEnqueue, ConfigValueBody, Enqueued, NewTenant, Origins, RetryRequest, WhoAmI,
};
use wasmtasks_server::extract::TENANT_HEADER;

use super::Api;

/// How long an ordinary request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// A server's API, as one token's principal.
pub struct Remote {
    http: reqwest::Client,
    base: String,
    token: String,
    tenant: Option<String>,
}

/// The tokens `wasmtasks login` saved, by server URL.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Credentials {
    servers: BTreeMap<String, SavedServer>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedServer {
    token: String,
}

/// A successful answer's body as `T`, read through a `serde_json::Value`:
/// with serde_json's `arbitrary_precision` (see the workspace's Cargo.toml), a
/// `#[serde(flatten)]` field holding numbers (an attempt's metrics, a tenant's
/// quotas) cannot be read straight from the text.
async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ServiceError> {
    let unexpected = |error: String| {
        ServiceError::Internal(format!(
            "the server's answer is not what was expected: {error}"
        ))
    };
    let value: serde_json::Value = response
        .json()
        .await
        .map_err(|error| unexpected(error.to_string()))?;
    serde_json::from_value(value).map_err(|error| unexpected(error.to_string()))
}

/// Where `wasmtasks login` keeps tokens: `$XDG_CONFIG_HOME/wasmtasks/credentials.json`
/// (or `~/.config/…`), readable by its owner only.
pub fn credentials_path() -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))
        .context("neither XDG_CONFIG_HOME nor HOME is set: nowhere to keep the token")?;
    Ok(base.join("wasmtasks").join("credentials.json"))
}

fn normalize(server: &str) -> String {
    server.trim_end_matches('/').to_owned()
}

fn load_credentials() -> anyhow::Result<Credentials> {
    let path = credentials_path()?;
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a credentials file", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Credentials::default()),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Saves `token` for `server` in the credentials file (mode 0600).
pub fn save_token(server: &str, token: &str) -> anyhow::Result<PathBuf> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = credentials_path()?;
    let mut credentials = load_credentials()?;
    credentials.servers.insert(
        normalize(server),
        SavedServer {
            token: token.to_owned(),
        },
    );
    let dir = path
        .parent()
        .context("the credentials file has a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let temporary = dir.join(format!(".credentials.{}.json", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    file.write_all(&serde_json::to_vec_pretty(&credentials)?)?;
    file.sync_all()?;
    std::fs::rename(&temporary, &path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

impl Remote {
    /// A client of `server` with `token` (else the one saved for it), acting
    /// within `tenant` if the token is an operator's.
    pub fn new(server: &str, token: Option<&str>, tenant: Option<&str>) -> anyhow::Result<Remote> {
        let base = normalize(server);
        anyhow::ensure!(
            base.starts_with("http://") || base.starts_with("https://"),
            "the server `{server}` is not an http:// or https:// URL"
        );
        let token = match token {
            Some(token) => token.to_owned(),
            None => load_credentials()?
                .servers
                .remove(&base)
                .map(|saved| saved.token)
                .with_context(|| {
                    format!(
                        "no token for {base}: set WASMTASKS_TOKEN, or run `wasmtasks login {base}`"
                    )
                })?,
        };
        let http = reqwest::Client::builder()
            .user_agent(concat!("wasmtasks/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Remote {
            http,
            base,
            token,
            tenant: tenant.map(str::to_owned),
        })
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut builder = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
            .timeout(REQUEST_TIMEOUT);
        if let Some(tenant) = &self.tenant {
            builder = builder.header(TENANT_HEADER, tenant);
        }
        builder
    }

    async fn answer(&self, builder: RequestBuilder) -> Result<reqwest::Response, ServiceError> {
        let response = builder.send().await.map_err(|error| {
            ServiceError::Internal(format!("cannot reach the server at {}: {error}", self.base))
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        Err(match serde_json::from_slice::<Problem>(&body) {
            Ok(problem) => from_problem(problem),
            Err(_) => ServiceError::Internal(format!(
                "the server answered {status}: {}",
                String::from_utf8_lossy(&body).trim()
            )),
        })
    }

    async fn send<T: DeserializeOwned>(&self, builder: RequestBuilder) -> Result<T, ServiceError> {
        decode(self.answer(builder).await?).await
    }

    async fn send_empty(&self, builder: RequestBuilder) -> Result<(), ServiceError> {
        self.answer(builder).await.map(drop)
    }

    /// Who the token stands for.
    pub async fn whoami(&self) -> Result<WhoAmI, ServiceError> {
        self.send(self.request(Method::GET, "/whoami")).await
    }
}

/// The service error a problem detail stands for.
fn from_problem(problem: Problem) -> ServiceError {
    let detail = problem.detail.clone();
    if let Some(quota) = problem.quota {
        return ServiceError::Quota(*quota);
    }
    match StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR) {
        StatusCode::NOT_FOUND => ServiceError::NotFound(detail),
        StatusCode::UNAUTHORIZED => ServiceError::Unauthorized(detail),
        StatusCode::FORBIDDEN => ServiceError::Forbidden(detail),
        StatusCode::CONFLICT => ServiceError::Conflict(detail),
        StatusCode::PAYLOAD_TOO_LARGE => ServiceError::TooLarge(detail),
        status if status.is_client_error() && !problem.errors.is_empty() => {
            ServiceError::InvalidBatch {
                message: detail,
                problems: problem.errors,
            }
        }
        status if status.is_client_error() => ServiceError::Invalid(detail),
        _ => ServiceError::Internal(detail),
    }
}

/// A path segment, percent-encoded.
fn segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn origin_strings(origins: &[OriginPattern]) -> Vec<String> {
    origins.iter().map(ToString::to_string).collect()
}

#[async_trait]
impl Api for Remote {
    async fn upload(&self, request: UploadRequest) -> Result<UploadReport, ServiceError> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(name) = &request.name {
            query.push(("name", name.clone()));
        }
        if !request.allow_http.is_empty() {
            query.push(("allow_http", origin_strings(&request.allow_http).join(",")));
        }
        self.send(
            self.request(Method::POST, "/components")
                .query(&query)
                .header(reqwest::header::CONTENT_TYPE, "application/wasm")
                .body(request.bytes),
        )
        .await
    }

    async fn components(&self) -> Result<Vec<ComponentVersion>, ServiceError> {
        self.send(self.request(Method::GET, "/components")).await
    }

    async fn component(&self, name: &str) -> Result<ComponentDetails, ServiceError> {
        self.send(self.request(Method::GET, &format!("/components/{}", segment(name))))
            .await
    }

    async fn delete_component(
        &self,
        name: &str,
        digest_prefix: Option<&str>,
    ) -> Result<Vec<DeletedVersion>, ServiceError> {
        let mut builder = self.request(Method::DELETE, &format!("/components/{}", segment(name)));
        if let Some(digest) = digest_prefix {
            builder = builder.query(&[("digest", digest)]);
        }
        self.send(builder).await
    }

    async fn enqueue(&self, request: EnqueueRequest) -> Result<EnqueueOutcome, ServiceError> {
        let response = self
            .answer(
                self.request(Method::POST, "/jobs")
                    .json(&JobSpec::from(&request)),
            )
            .await?;
        // 201: enqueued; 200: the existing job a unique job duplicates.
        let duplicate = response.status() == reqwest::StatusCode::OK;
        let result = decode(response).await?;
        Ok(EnqueueOutcome { result, duplicate })
    }

    async fn enqueue_many(
        &self,
        requests: Vec<EnqueueRequest>,
    ) -> Result<BatchOutcome, ServiceError> {
        let bulk = BulkEnqueue {
            jobs: requests.iter().map(JobSpec::from).collect(),
        };
        let enqueued: Enqueued = self
            .send(self.request(Method::POST, "/jobs/bulk").json(&bulk))
            .await?;
        Ok(BatchOutcome {
            ids: enqueued.ids,
            duplicates: enqueued.duplicates,
        })
    }

    async fn validate_many(&self, requests: Vec<EnqueueRequest>) -> Result<(), ServiceError> {
        let bulk = BulkEnqueue {
            jobs: requests.iter().map(JobSpec::from).collect(),
        };
        self.send_empty(self.request(Method::POST, "/jobs/validate").json(&bulk))
            .await
    }

    async fn result(&self, id: &str) -> Result<TaskResult, ServiceError> {
        self.send(self.request(Method::GET, &format!("/jobs/{}", segment(id))))
            .await
    }

    async fn wait(&self, id: &str, timeout: Duration) -> Result<TaskResult, ServiceError> {
        let wait = format!("{}ms", timeout.as_millis());
        self.send(
            self.request(Method::GET, &format!("/jobs/{}", segment(id)))
                .query(&[("wait", wait)])
                .timeout(timeout + REQUEST_TIMEOUT),
        )
        .await
    }

    async fn jobs(&self, filter: JobFilter) -> Result<JobPage, ServiceError> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if !filter.statuses.is_empty() {
            let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
            query.push(("status", statuses.join(",")));
        }
        let optional = [
            ("queue", filter.queue_name),
            ("task", filter.task),
            ("since", filter.since.map(|t| t.to_rfc3339())),
            ("until", filter.until.map(|t| t.to_rfc3339())),
            ("cursor", filter.cursor),
            ("limit", filter.limit.map(|l| l.to_string())),
        ];
        query.extend(
            optional
                .into_iter()
                .filter_map(|(name, value)| value.map(|value| (name, value))),
        );
        self.send(self.request(Method::GET, "/jobs").query(&query))
            .await
    }

    async fn cancel(&self, id: &str) -> Result<TaskResult, ServiceError> {
        self.send(self.request(Method::POST, &format!("/jobs/{}/cancel", segment(id))))
            .await
    }

    async fn retry(&self, selection: RetrySelection) -> Result<Vec<RetryOutcome>, ServiceError> {
        let body = match selection {
            RetrySelection::Ids(ids) => RetryRequest {
                ids,
                ..RetryRequest::default()
            },
            RetrySelection::Failed {
                component,
                task_name,
            } => RetryRequest {
                all_failed: true,
                task: component.map(|component| match task_name {
                    Some(task) => format!("{component}.{task}"),
                    None => component,
                }),
                ..RetryRequest::default()
            },
        };
        self.send(self.request(Method::POST, "/jobs/retry").json(&body))
            .await
    }

    async fn queues(&self) -> Result<Vec<QueueSummary>, ServiceError> {
        self.send(self.request(Method::GET, "/queues")).await
    }

    async fn usage(
        &self,
        from: Option<chrono::NaiveDate>,
        to: Option<chrono::NaiveDate>,
    ) -> Result<UsageReport, ServiceError> {
        let range: Vec<(&str, String)> = [("from", from), ("to", to)]
            .into_iter()
            .filter_map(|(name, day)| Some((name, day?.to_string())))
            .collect();
        self.send(self.request(Method::GET, "/usage").query(&range))
            .await
    }

    async fn workers(&self) -> Result<Vec<WorkerRecord>, ServiceError> {
        self.send(self.request(Method::GET, "/workers")).await
    }

    async fn queue_set_paused(
        &self,
        queue: &str,
        paused: bool,
    ) -> Result<QueuePause, ServiceError> {
        let action = if paused { "pause" } else { "resume" };
        let path = format!("/queues/{}/{action}", segment(queue));
        self.send(self.request(Method::POST, &path)).await
    }

    async fn schedules(&self) -> Result<Vec<ScheduleInfo>, ServiceError> {
        self.send(self.request(Method::GET, "/schedules")).await
    }

    async fn schedule_put(
        &self,
        name: &str,
        spec: ScheduleSpec,
    ) -> Result<ScheduleInfo, ServiceError> {
        let path = format!("/schedules/{}", segment(name));
        self.send(self.request(Method::PUT, &path).json(&spec))
            .await
    }

    async fn schedule_delete(&self, name: &str) -> Result<(), ServiceError> {
        let path = format!("/schedules/{}", segment(name));
        self.send_empty(self.request(Method::DELETE, &path)).await
    }

    async fn schedule_set_paused(
        &self,
        name: &str,
        paused: bool,
    ) -> Result<ScheduleInfo, ServiceError> {
        let action = if paused { "pause" } else { "resume" };
        let path = format!("/schedules/{}/{action}", segment(name));
        self.send(self.request(Method::POST, &path)).await
    }

    async fn config_set(
        &self,
        component: &str,
        key: &str,
        value: ConfigValue,
    ) -> Result<(), ServiceError> {
        let body = ConfigValueBody {
            value: value.value,
            secret: value.secret,
        };
        self.send_empty(
            self.request(
                Method::PUT,
                &format!("/components/{}/config/{}", segment(component), segment(key)),
            )
            .json(&body),
        )
        .await
    }

    async fn config_unset(&self, component: &str, key: &str) -> Result<(), ServiceError> {
        self.send_empty(self.request(
            Method::DELETE,
            &format!("/components/{}/config/{}", segment(component), segment(key)),
        ))
        .await
    }

    async fn config_list(&self, component: &str) -> Result<Vec<ConfigEntry>, ServiceError> {
        self.send(self.request(
            Method::GET,
            &format!("/components/{}/config", segment(component)),
        ))
        .await
    }

    async fn grant(
        &self,
        component: &str,
        origins: &[OriginPattern],
        granted: bool,
    ) -> Result<Vec<GrantChange>, ServiceError> {
        let path = if granted {
            format!("/components/{}/grants", segment(component))
        } else {
            format!("/components/{}/grants/revoke", segment(component))
        };
        let body = Origins {
            origins: origin_strings(origins),
        };
        self.send(self.request(Method::POST, &path).json(&body))
            .await
    }

    async fn grants(&self, component: &str) -> Result<Vec<OriginPattern>, ServiceError> {
        self.send(self.request(
            Method::GET,
            &format!("/components/{}/grants", segment(component)),
        ))
        .await
    }

    async fn tenant_create(&self, name: &str) -> Result<Tenant, ServiceError> {
        let body = NewTenant {
            name: name.to_owned(),
        };
        self.send(self.request(Method::POST, "/tenants").json(&body))
            .await
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, ServiceError> {
        self.send(self.request(Method::GET, "/tenants")).await
    }

    async fn tenant(&self, name: &str) -> Result<TenantDetails, ServiceError> {
        self.send(self.request(Method::GET, &format!("/tenants/{}", segment(name))))
            .await
    }

    async fn tenant_set_http_ceiling(
        &self,
        name: &str,
        ceiling: &[OriginPattern],
    ) -> Result<Tenant, ServiceError> {
        let body = Origins {
            origins: origin_strings(ceiling),
        };
        self.send(
            self.request(
                Method::PUT,
                &format!("/tenants/{}/http-ceiling", segment(name)),
            )
            .json(&body),
        )
        .await
    }

    async fn tenant_set_quotas(&self, name: &str, quotas: &Quotas) -> Result<Tenant, ServiceError> {
        self.send(
            self.request(Method::PUT, &format!("/tenants/{}/quotas", segment(name)))
                .json(quotas),
        )
        .await
    }

    async fn tenant_delete(&self, name: &str) -> Result<TenantDeleted, ServiceError> {
        self.send(self.request(Method::DELETE, &format!("/tenants/{}", segment(name))))
            .await
    }

    async fn token_create(&self, request: TokenRequest) -> Result<CreatedToken, ServiceError> {
        self.send(self.request(Method::POST, "/tokens").json(&request))
            .await
    }

    async fn tokens(&self) -> Result<Vec<TokenInfo>, ServiceError> {
        self.send(self.request(Method::GET, "/tokens")).await
    }

    async fn token_revoke(&self, id: &str) -> Result<TokenInfo, ServiceError> {
        self.send(self.request(Method::DELETE, &format!("/tokens/{}", segment(id))))
            .await
    }
}
