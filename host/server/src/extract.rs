//! axum's extractors, answering a rejection with a [`Problem`] instead of plain
//! text, and the caller's principal from its bearer token.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;

use crate::problem::Problem;
use crate::state::AppState;
use wasmtasks::tenant::Principal;

/// A JSON body (`Content-Type: application/json`).
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(Problem))]
pub struct ApiJson<T>(pub T);

/// A value that must come as a JSON object: serde's derive would also take an
/// array for a struct (`[null, null]` for one whose fields are all optional).
#[derive(Debug)]
pub struct Object<T>(pub T);

impl<'de, T: serde::de::DeserializeOwned> serde::Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object = serde_json::Map::deserialize(deserializer)?;
        T::deserialize(serde_json::Value::Object(object))
            .map(Object)
            .map_err(serde::de::Error::custom)
    }
}

/// Query parameters.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Problem))]
pub struct ApiQuery<T>(pub T);

/// Path parameters.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Problem))]
pub struct ApiPath<T>(pub T);

/// The header an operator token names the tenant it acts within by.
pub const TENANT_HEADER: &str = "x-wasmtasks-tenant";

/// Who calls: the principal of the request's bearer token (an operator's within
/// the tenant `X-Wasmtasks-Tenant` names, `default` if none).
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .map(|value| {
                    value.to_str().map_err(|_| {
                        Problem::malformed(format!("the {name} header is not valid text"))
                    })
                })
                .transpose()
        };
        let authorization = header(axum::http::header::AUTHORIZATION.as_str())?;
        let tenant = header(TENANT_HEADER)?;
        let token = authorization
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| {
                Problem::from(wasmtasks::service::ServiceError::Unauthorized(
                    "no token; send `Authorization: Bearer wt_…`".into(),
                ))
            })?;
        Ok(Caller(principal_of(state, token, tenant).await?))
    }
}

/// The principal `token` stands for (an operator token's within `tenant`): the
/// one way from a token to a principal, for the API's bearer tokens and the
/// dashboard's session cookie alike.
pub async fn principal_of(
    state: &AppState,
    token: &str,
    tenant: Option<&str>,
) -> Result<Principal, wasmtasks::service::ServiceError> {
    state
        .services
        .tokens()
        .authenticate(token.trim(), tenant)
        .await
}
