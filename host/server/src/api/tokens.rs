//! `/api/v1/tokens`: create (the secret is in this answer only), list, revoke;
//! `/api/v1/whoami`: who a token stands for.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wasmtasks::service::tokens::{CreatedToken, TokenInfo, TokenRequest};

use super::types::WhoAmI;
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::problem::Problem;
use crate::state::AppState;

/// The routes of tokens.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(revoke))
        .routes(routes!(whoami))
}

/// Create a token: the operator for any tenant (or an operator token), a tenant's
/// admin for its own tenant up to admin. The token is shown in this answer only.
#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body = TokenRequest,
    responses(
        (status = 201, description = "Created", body = CreatedToken),
        (status = 403, description = "Not allowed to create it", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn create(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(request): ApiJson<TokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), Problem> {
    let created = state.services.tokens().create(&principal, request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The tokens the caller administers (no secrets).
#[utoipa::path(get, path = "/tokens", tag = "tokens",
    responses((status = 200, description = "The tokens", body = Vec<TokenInfo>)),
    security(("token" = [])))]
async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<Vec<TokenInfo>>, Problem> {
    Ok(Json(state.services.tokens().list(&principal).await?))
}

/// Revoke a token: every request with it is refused from now on.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "The token's public id")),
    responses(
        (status = 200, description = "Revoked", body = TokenInfo),
        (status = 404, description = "No such token", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn revoke(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TokenInfo>, Problem> {
    Ok(Json(state.services.tokens().revoke(&principal, &id).await?))
}

/// Who the token stands for.
#[utoipa::path(get, path = "/whoami", tag = "tokens",
    responses(
        (status = 200, description = "The token's tenant and role", body = WhoAmI),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn whoami(Caller(principal): Caller) -> Json<WhoAmI> {
    Json(WhoAmI {
        tenant: principal.tenant().to_owned(),
        role: principal.role(),
    })
}
