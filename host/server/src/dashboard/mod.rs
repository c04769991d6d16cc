//! The dashboard at `/`: server-rendered pages over the same services as the API
//! (askama templates in `host/server/templates/`, htmx for the live regions,
//! everything embedded in the binary).
//!
//! | page | what |
//! | --- | --- |
//! | `/login`, `/logout` | a token in, an HttpOnly SameSite=Strict session cookie ([`session`]) |
//! | `/` | queues: counts, lag, pause and resume; finished jobs over the last hour and day ([`overview`]) |
//! | `/jobs` | filtered, keyset-paginated, live list; bulk retry and cancel ([`jobs`]) |
//! | `/jobs/{id}` | one TaskResult with every attempt ([`job`]) |
//! | `/components` | versions, tasks, grants, configuration keys, upload ([`components`]) |
//! | `/tenants` | the operator's: quotas, usage, tokens ([`tenants`]) |
//!
//! Every response carries a Content-Security-Policy that allows only the
//! dashboard's own scripts and styles (no inline script, no eval, no framing).
//! Every page needs a session (else it redirects to `/login`); every action is a
//! POST that needs the session's CSRF token ([`session::require_csrf`]) and a
//! confirmation step ([`actions`]). The operator picks the tenant shown with
//! `?tenant=`; anyone else sees their own tenant only, and another tenant's ids
//! answer 404 as unknown ones do.

mod actions;
mod assets;
mod chart;
mod components;
mod job;
mod jobs;
mod overview;
mod page;
mod session;
mod tenants;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

pub use page::PageError;
pub use session::{COOKIE, CSRF_FIELD, CSRF_HEADER, csrf_token};

use crate::state::AppState;

/// What a dashboard page may load and do.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// Every page of the dashboard, with the CSRF check on every POST.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::page))
        .route("/login", get(session::login_form).post(session::login))
        .route("/logout", post(session::logout))
        .route("/jobs", get(jobs::page))
        .route("/jobs/bulk", get(jobs::bulk_confirm).post(jobs::bulk))
        .route("/jobs/{id}", get(job::page))
        .route(
            "/jobs/{id}/{action}",
            get(actions::confirm_job).post(actions::do_job),
        )
        .route(
            "/queues/{name}/{action}",
            get(actions::confirm_queue).post(actions::do_queue),
        )
        .route(
            "/components",
            get(components::page)
                .post(components::upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/tenants", get(tenants::page))
        .route("/tenants/{name}/tokens", post(tenants::create_token))
        .route(
            "/tenants/{name}/tokens/{id}/revoke",
            get(tenants::confirm_revoke).post(tenants::revoke),
        )
        .route("/assets/{file}", get(assets::serve))
        .layer(axum::middleware::from_fn(session::require_csrf))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
}

/// The 404 page, for a path that is no page.
pub fn not_found(path: &str) -> Response {
    PageError::not_found(format!("There is no page at {path}.")).into_response()
}

/// The 405 page, for a method a page does not take.
pub fn method_not_allowed(method: &str, path: &str) -> Response {
    PageError::status(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{path} does not take {method}."),
    )
    .into_response()
}
