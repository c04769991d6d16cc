//! Logging in with an API token, the session cookie that carries it, and the CSRF
//! token every action must send.
//!
//! The cookie `wasmtasks_session` holds the token itself (`HttpOnly`,
//! `SameSite=Strict`, `Path=/`, and `Secure` when the login came over HTTPS through
//! a proxy that says so in `X-Forwarded-Proto`): each request turns it into a principal through
//! the same path as the API's bearer token ([`crate::extract::principal_of`]), so
//! a revoked token ends its sessions at once. The CSRF token is the hex SHA-256 of
//! a fixed label and the session token: a page embeds it in every form (and htmx
//! sends it as `X-CSRF-Token`); [`require_csrf`] refuses every POST without it.

use axum::Form;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use wasmtasks::service::ServiceError;
use wasmtasks::tenant::Principal;

use super::page::{PageError, css_url, render};
use crate::extract::principal_of;
use crate::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "wasmtasks_session";
/// The form field (or query parameter, for a file upload) carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// The header htmx sends the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The largest form an action reads (an upload's file goes in multipart, unread here).
const MAX_FORM_BYTES: usize = 64 << 10;

/// The CSRF token of a session: hex SHA-256 of a fixed label and the session token.
pub fn csrf_token(session_token: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"wasmtasks dashboard csrf\0");
    hash.update(session_token.as_bytes());
    hex::encode(hash.finalize())
}

/// The session token of a request's cookie, if any.
fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// The value of field `name` in a query string or urlencoded form.
fn field(text: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(text)
        .find(|(field, _)| field == name)
        .map(|(_, value)| value.into_owned())
}

/// The `tenant` the operator chose, from the query string.
fn chosen_tenant(parts: &Parts) -> Option<String> {
    field(parts.uri.query()?.as_bytes(), "tenant").filter(|tenant| !tenant.is_empty())
}

/// A logged-in person: the principal of the session's token (an operator's within
/// the tenant `?tenant=` names), and the CSRF token of the session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who acts.
    pub principal: Principal,
    /// The CSRF token every form of the session carries.
    pub csrf: String,
}

impl Session {
    /// `?tenant=…` for the operator's links (the tenant they look at), else empty.
    pub fn tenant_query(&self) -> String {
        if self.principal.is_operator() {
            format!("?tenant={}", self.principal.tenant())
        } else {
            String::new()
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let token = cookie_token(&parts.headers).ok_or(PageError::LogIn)?;
        let principal = match principal_of(state, token, None).await {
            Ok(principal) => principal,
            Err(ServiceError::Unauthorized(_)) => return Err(PageError::LogIn),
            Err(error) => return Err(error.into()),
        };
        let principal = match chosen_tenant(parts) {
            Some(tenant) if principal.is_operator() => principal.within(tenant),
            _ => principal,
        };
        Ok(Session {
            principal,
            csrf: csrf_token(token),
        })
    }
}

/// The login page.
#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage {
    css_url: String,
    error: Option<String>,
}

/// `GET /login`: the form.
pub async fn login_form() -> Response {
    render(&LoginPage {
        css_url: css_url(),
        error: None,
    })
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

/// `POST /login`: checks the token; sets the session cookie and goes to the
/// overview, or shows the form again with why.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let token = form.token.trim();
    match principal_of(&state, token, None).await {
        Ok(_) => {
            // `serve` speaks plain HTTP; behind a TLS proxy the cookie must never
            // travel unencrypted. (A forged header only makes the sender's own
            // cookie stricter.)
            let https = headers
                .get("x-forwarded-proto")
                .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"));
            let secure = if https { "; Secure" } else { "" };
            let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/{secure}");
            ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
        }
        Err(error) => {
            let status = match error {
                ServiceError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
                _ => StatusCode::from_u16(error.kind().status()).unwrap_or(StatusCode::BAD_REQUEST),
            };
            let page = LoginPage {
                css_url: css_url(),
                error: Some(error.to_string()),
            };
            (status, render(&page)).into_response()
        }
    }
}

/// `POST /logout`: clears the cookie.
pub async fn logout() -> Response {
    let cookie = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}

/// Refuses (403) every POST but the login's whose CSRF token (the `X-CSRF-Token`
/// header, the `csrf` field of a urlencoded form, or the `csrf` query parameter
/// of a multipart upload) is not the session's.
pub async fn require_csrf(request: Request, next: Next) -> Response {
    if request.method() != Method::POST || request.uri().path() == "/login" {
        return next.run(request).await;
    }
    let Some(expected) = cookie_token(request.headers()).map(csrf_token) else {
        return PageError::csrf().into_response();
    };
    let header_token = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let query_token = request
        .uri()
        .query()
        .and_then(|query| field(query.as_bytes(), CSRF_FIELD));
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    let (request, form_token) = if is_form && header_token.is_none() {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
            return PageError::status(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.")
                .into_response();
        };
        let token = field(&bytes, CSRF_FIELD);
        (Request::from_parts(parts, Body::from(bytes)), token)
    } else {
        (request, None)
    };
    let presented = header_token.or(form_token).or(query_token);
    let valid = presented
        .is_some_and(|presented| bool::from(presented.as_bytes().ct_eq(expected.as_bytes())));
    if valid {
        next.run(request).await
    } else {
        PageError::csrf().into_response()
    }
}
