//! `/api/v1/components`: upload, list, show, delete; each component's
//! configuration and HTTP grants.

use axum::Json;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use wasmtasks::sandbox::{ConfigValue, OriginPattern};
use wasmtasks::service::components::{
    ComponentDetails, DeletedVersion, UploadReport, UploadRequest,
};
use wasmtasks::service::config::ConfigEntry;
use wasmtasks::service::grants::GrantChange;
use wasmtasks::store::ComponentVersion;

use super::types::{ConfigValueBody, DeleteComponentQuery, Origins, UploadForm, UploadQuery};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::problem::Problem;
use crate::state::AppState;

/// The routes of components. The upload route reads a body up to the configured
/// largest component (plus room for a form's framing) instead of the server's
/// limit on JSON bodies.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload, list).layer(DefaultBodyLimit::disable()))
        .routes(routes!(show, delete))
        .routes(routes!(config_list))
        .routes(routes!(config_set, config_unset))
        .routes(routes!(grants_list, grant))
        .routes(routes!(revoke))
}

/// Parses comma-separated origin patterns.
pub(crate) fn origins<'a>(
    patterns: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<OriginPattern>, Problem> {
    patterns
        .into_iter()
        .map(str::trim)
        .filter(|pattern| !pattern.is_empty())
        .map(|pattern| {
            pattern
                .parse()
                .map_err(|error: wasmtasks::sandbox::OriginPatternError| {
                    Problem::invalid(error.to_string())
                })
        })
        .collect()
}

/// Upload a component as the newest version of its name.
///
/// The body is the component itself (`application/wasm` or
/// `application/octet-stream`, options in the query), or a
/// `multipart/form-data` form with the file in `component` and the options as
/// fields. The component is validated, its tasks and signatures read; a
/// component larger than the configured maximum is refused with 413.
#[utoipa::path(post, path = "/components", tag = "components", params(UploadQuery),
    request_body(content(
        (Vec<u8> = "application/wasm"),
        (UploadForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "Stored (or already the newest version)", body = UploadReport),
        (status = 413, description = "Larger than allowed", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither a component nor a form", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid task component", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn upload(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiQuery(query): ApiQuery<UploadQuery>,
    request: Request,
) -> Result<(StatusCode, Json<UploadReport>), Problem> {
    let upload = UploadRequest {
        name: query.name,
        allow_http: origins(query.allow_http.as_deref().unwrap_or("").split(','))?,
        bytes: Vec::new(),
    };
    let upload = read_upload(&state, request, upload).await?;
    let report = state
        .services
        .components()
        .upload(&principal, upload)
        .await?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// Reads a component upload's body into `upload`: the component itself
/// (`application/wasm` or `application/octet-stream`), or a `multipart/form-data`
/// form with the file in `component` and the options as fields (the API's upload
/// and the dashboard's form alike).
pub(crate) async fn read_upload(
    state: &AppState,
    request: Request,
    mut upload: UploadRequest,
) -> Result<UploadRequest, Problem> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    // Room for a form's framing; the service refuses a component over the maximum
    // itself, naming the limit.
    let limit = state.services.settings().max_component_bytes as usize + (1 << 20);
    let (parts, body) = request.into_parts();
    let request = Request::from_parts(parts, Body::new(http_body_util::Limited::new(body, limit)));
    if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(request, state).await?;
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|error| Problem::malformed(error.body_text()))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|error| match error.status().as_u16() {
                    413 => Problem::new(413, "too-large", "Too large", error.body_text()),
                    _ => Problem::malformed(error.body_text()),
                })?;
            let text = || {
                String::from_utf8(bytes.to_vec()).map_err(|_| {
                    Problem::malformed(format!("the form field `{name}` is not UTF-8 text"))
                })
            };
            match name.as_str() {
                "component" => upload.bytes = bytes.to_vec(),
                // An empty name (a form's blank field) is no name.
                "name" => upload.name = Some(text()?).filter(|name| !name.is_empty()),
                "allow_http" => upload.allow_http.extend(origins(text()?.split(','))?),
                other => {
                    return Err(Problem::invalid(format!(
                        "unknown form field `{other}`: use component, name and allow_http"
                    )));
                }
            }
        }
        if upload.bytes.is_empty() {
            return Err(Problem::invalid("the form has no `component` file"));
        }
    } else if content_type.starts_with("application/wasm")
        || content_type.starts_with("application/octet-stream")
    {
        upload.bytes = Bytes::from_request(request, state).await?.to_vec();
    } else {
        return Err(Problem::new(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            format!(
                "send the component as application/wasm (or application/octet-stream), or as multipart/form-data; got `{content_type}`"
            ),
        ));
    }
    Ok(upload)
}

/// Every version of every component, newest first within a name.
#[utoipa::path(get, path = "/components", tag = "components",
    responses((status = 200, description = "The versions", body = Vec<ComponentVersion>)),
    security(("token" = [])))]
async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<Vec<ComponentVersion>>, Problem> {
    Ok(Json(state.services.components().list(&principal).await?))
}

/// One component: its versions (with their tasks, signatures and defaults) and
/// grants.
#[utoipa::path(get, path = "/components/{name}", tag = "components",
    params(("name" = String, Path, description = "The component's name")),
    responses(
        (status = 200, description = "The component", body = ComponentDetails),
        (status = 404, description = "No such component", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn show(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ComponentDetails>, Problem> {
    Ok(Json(
        state.services.components().show(&principal, &name).await?,
    ))
}

/// Delete a component's versions (every one, or the one `digest` names) that no
/// READY or RUNNING job pins.
#[utoipa::path(delete, path = "/components/{name}", tag = "components",
    params(("name" = String, Path, description = "The component's name"), DeleteComponentQuery),
    responses(
        (status = 200, description = "The deleted versions", body = Vec<DeletedVersion>),
        (status = 404, description = "No such component or version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Jobs that are READY or RUNNING pin it", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn delete(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<DeleteComponentQuery>,
) -> Result<Json<Vec<DeletedVersion>>, Problem> {
    Ok(Json(
        state
            .services
            .components()
            .delete(&principal, &name, query.digest.as_deref())
            .await?,
    ))
}

/// A component's configuration values; secrets' values are never returned.
#[utoipa::path(get, path = "/components/{name}/config", tag = "config",
    params(("name" = String, Path, description = "The component's name")),
    responses((status = 200, description = "Its values", body = Vec<ConfigEntry>)),
    security(("token" = [])))]
async fn config_list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Vec<ConfigEntry>>, Problem> {
    Ok(Json(state.services.config().list(&principal, &name).await?))
}

/// Set a component's value or secret; it applies from the next attempt.
#[utoipa::path(put, path = "/components/{name}/config/{key}", tag = "config",
    params(("name" = String, Path, description = "The component's name"),
           ("key" = String, Path, description = "The key the task reads")),
    request_body = ConfigValueBody,
    responses((status = 204, description = "Set")), security(("token" = [])))]
async fn config_set(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath((name, key)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ConfigValueBody>,
) -> Result<StatusCode, Problem> {
    let value = ConfigValue {
        value: body.value,
        secret: body.secret,
    };
    state
        .services
        .config()
        .set(&principal, &name, &key, value)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a component's value.
#[utoipa::path(delete, path = "/components/{name}/config/{key}", tag = "config",
    params(("name" = String, Path, description = "The component's name"),
           ("key" = String, Path, description = "The key")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such value in the store", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn config_unset(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath((name, key)): ApiPath<(String, String)>,
) -> Result<StatusCode, Problem> {
    state
        .services
        .config()
        .unset(&principal, &name, &key)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The HTTP origins a component is granted.
#[utoipa::path(get, path = "/components/{name}/grants", tag = "grants",
    params(("name" = String, Path, description = "The component's name")),
    responses((status = 200, description = "Its origins", body = Vec<OriginPattern>)),
    security(("token" = [])))]
async fn grants_list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Vec<OriginPattern>>, Problem> {
    Ok(Json(state.services.grants().list(&principal, &name).await?))
}

/// Grant a component HTTP origins, within the tenant's ceiling.
#[utoipa::path(post, path = "/components/{name}/grants", tag = "grants",
    params(("name" = String, Path, description = "The component's name")),
    request_body = Origins,
    responses(
        (status = 200, description = "What changed", body = Vec<GrantChange>),
        (status = 403, description = "Outside the tenant's ceiling", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn grant(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<Origins>,
) -> Result<Json<Vec<GrantChange>>, Problem> {
    let origins = origins(body.origins.iter().map(String::as_str))?;
    Ok(Json(
        state
            .services
            .grants()
            .change(&principal, &name, &origins, true)
            .await?,
    ))
}

/// Take HTTP origins back from a component; it applies from the next attempt.
#[utoipa::path(post, path = "/components/{name}/grants/revoke", tag = "grants",
    params(("name" = String, Path, description = "The component's name")),
    request_body = Origins,
    responses((status = 200, description = "What changed", body = Vec<GrantChange>)),
    security(("token" = [])))]
async fn revoke(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<Origins>,
) -> Result<Json<Vec<GrantChange>>, Problem> {
    let origins = origins(body.origins.iter().map(String::as_str))?;
    Ok(Json(
        state
            .services
            .grants()
            .change(&principal, &name, &origins, false)
            .await?,
    ))
}
