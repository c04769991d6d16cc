//! `/api/v1/tenants` (the operator's): create, list, show, ceiling, quotas, delete.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wasmtasks::service::tenants::TenantDetails;
use wasmtasks::store::{Quotas, Tenant, TenantDeleted};

use super::components::origins;
use super::types::{NewTenant, Origins};
use crate::extract::{ApiJson, ApiPath, Caller, Object};
use crate::problem::Problem;
use crate::state::AppState;

/// The routes of tenants.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(show, delete))
        .routes(routes!(set_http_ceiling))
        .routes(routes!(set_quotas))
}

/// Create a tenant (operator).
#[utoipa::path(post, path = "/tenants", tag = "tenants", request_body = NewTenant,
    responses(
        (status = 201, description = "Created", body = Tenant),
        (status = 403, description = "Not the operator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It exists already", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn create(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(body): ApiJson<NewTenant>,
) -> Result<(StatusCode, Json<Tenant>), Problem> {
    let tenant = state
        .services
        .tenants()
        .create(&principal, &body.name)
        .await?;
    Ok((StatusCode::CREATED, Json(tenant)))
}

/// Every tenant (operator).
#[utoipa::path(get, path = "/tenants", tag = "tenants",
    responses((status = 200, description = "The tenants", body = Vec<Tenant>)),
    security(("token" = [])))]
async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<Vec<Tenant>>, Problem> {
    Ok(Json(state.services.tenants().list(&principal).await?))
}

/// One tenant and its tokens (operator).
#[utoipa::path(get, path = "/tenants/{name}", tag = "tenants",
    params(("name" = String, Path, description = "The tenant")),
    responses(
        (status = 200, description = "The tenant", body = TenantDetails),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn show(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<TenantDetails>, Problem> {
    Ok(Json(
        state.services.tenants().show(&principal, &name).await?,
    ))
}

/// Delete a tenant and everything it owns (operator).
#[utoipa::path(delete, path = "/tenants/{name}", tag = "tenants",
    params(("name" = String, Path, description = "The tenant")),
    responses(
        (status = 200, description = "What was deleted", body = TenantDeleted),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn delete(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<TenantDeleted>, Problem> {
    Ok(Json(
        state.services.tenants().delete(&principal, &name).await?,
    ))
}

/// Set the origins a tenant's admins may grant (operator).
#[utoipa::path(put, path = "/tenants/{name}/http-ceiling", tag = "tenants",
    params(("name" = String, Path, description = "The tenant")),
    request_body = Origins,
    responses((status = 200, description = "The tenant", body = Tenant)),
    security(("token" = [])))]
async fn set_http_ceiling(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<Origins>,
) -> Result<Json<Tenant>, Problem> {
    let ceiling = origins(body.origins.iter().map(String::as_str))?;
    Ok(Json(
        state
            .services
            .tenants()
            .set_http_ceiling(&principal, &name, &ceiling)
            .await?,
    ))
}

/// Replace a tenant's quotas (operator); a limit left out is no limit.
#[utoipa::path(put, path = "/tenants/{name}/quotas", tag = "tenants",
    params(("name" = String, Path, description = "The tenant")),
    request_body = Quotas,
    responses(
        (status = 200, description = "The tenant", body = Tenant),
        (status = 422, description = "Quotas that do not fit together", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = [])))]
async fn set_quotas(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(Object(quotas)): ApiJson<Object<Quotas>>,
) -> Result<Json<Tenant>, Problem> {
    Ok(Json(
        state
            .services
            .tenants()
            .set_quotas(&principal, &name, &quotas)
            .await?,
    ))
}
