//! What every page shares: the layout (navigation, the operator's tenant picker,
//! the CSRF token), rendering a template with the headers every page gets, error
//! pages, and how times and sizes are written.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use wasmtasks::service::{ErrorKind, ServiceError};

use super::assets;
use super::session::Session;
use crate::state::AppState;

/// The frame around every page.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The navigation entry to mark as current.
    pub active: &'static str,
    /// The path of this page, for the tenant picker.
    pub here: String,
    /// The tenant shown.
    pub tenant: String,
    /// The viewer's role.
    pub role: String,
    /// Whether the viewer is the operator (who picks the tenant).
    pub operator: bool,
    /// For the operator: every tenant, and whether it is the one shown.
    pub tenants: Vec<(String, bool)>,
    /// `?tenant=…` for the operator's links, else empty.
    pub tq: String,
    /// `&tenant=…` for the operator's links with a query already, else empty.
    pub tq_and: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// The stylesheet's URL.
    pub css_url: String,
    /// htmx's URL.
    pub htmx_url: String,
    /// The dashboard script's URL.
    pub js_url: String,
}

impl Layout {
    /// The layout of page `active` at `here` for `session`.
    pub async fn new(
        state: &AppState,
        session: &Session,
        active: &'static str,
        here: impl Into<String>,
    ) -> Result<Layout, PageError> {
        let principal = &session.principal;
        let tenants = if principal.is_operator() {
            state
                .services
                .tenants()
                .list(principal)
                .await?
                .into_iter()
                .map(|tenant| {
                    let selected = tenant.name == principal.tenant();
                    (tenant.name, selected)
                })
                .collect()
        } else {
            Vec::new()
        };
        let tq = session.tenant_query();
        Ok(Layout {
            active,
            here: here.into(),
            tenant: principal.tenant().to_owned(),
            role: principal.role().to_string(),
            operator: principal.is_operator(),
            tenants,
            tq_and: tq.replacen('?', "&", 1),
            tq,
            csrf: session.csrf.clone(),
            css_url: assets::css_url(),
            htmx_url: assets::htmx_url(),
            js_url: assets::js_url(),
        })
    }
}

/// The stylesheet's URL (for pages without a layout).
pub fn css_url() -> String {
    assets::css_url()
}

/// A rendered template as an HTML response that is never cached and never framed.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = Html(html).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "rendering a dashboard page failed");
            PageError::status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page failed to render.",
            )
            .into_response()
        }
    }
}

/// Why a page cannot be shown.
#[derive(Debug)]
pub enum PageError {
    /// No session, or its token no longer works: to the login page.
    LogIn,
    /// An error page of this status.
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// What went wrong, in words.
        message: String,
    },
}

impl PageError {
    /// An error page of `status`.
    pub fn status(status: StatusCode, message: impl Into<String>) -> Self {
        PageError::Status {
            status,
            message: message.into(),
        }
    }

    /// The 404 page.
    pub fn not_found(message: impl Into<String>) -> Self {
        PageError::status(StatusCode::NOT_FOUND, message)
    }

    /// A POST without the session's CSRF token.
    pub fn csrf() -> Self {
        PageError::status(
            StatusCode::FORBIDDEN,
            "This action did not carry the page's CSRF token, so it was refused and nothing changed. Reload the page and try again.",
        )
    }
}

impl From<ServiceError> for PageError {
    fn from(error: ServiceError) -> Self {
        match error.kind() {
            ErrorKind::Unauthorized => PageError::LogIn,
            kind => {
                if matches!(kind, ErrorKind::Internal | ErrorKind::Unavailable) {
                    tracing::error!(%error, "a dashboard page failed");
                }
                let status = StatusCode::from_u16(kind.status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                PageError::status(status, error.to_string())
            }
        }
    }
}

impl From<crate::problem::Problem> for PageError {
    fn from(problem: crate::problem::Problem) -> Self {
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        PageError::status(status, problem.detail)
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    css_url: String,
    status: u16,
    title: String,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::LogIn => Redirect::to("/login").into_response(),
            PageError::Status { status, message } => {
                let page = ErrorPage {
                    css_url: css_url(),
                    status: status.as_u16(),
                    title: status.canonical_reason().unwrap_or("Error").to_owned(),
                    message,
                };
                (status, render(&page)).into_response()
            }
        }
    }
}

/// A time as people read it, to the second.
pub fn time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// An optional time, or a dash.
pub fn maybe_time(time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(|| "—".to_owned(), self::time)
}

/// A byte count as people read it.
pub fn bytes(count: u64) -> String {
    bytesize::ByteSize(count).to_string()
}

/// A number of seconds as people read it (`3m 12s`), to the second.
pub fn seconds(seconds: f64) -> String {
    let whole = std::time::Duration::from_secs(seconds.max(0.0).round() as u64);
    if whole.is_zero() {
        "under 1s".to_owned()
    } else {
        humantime::format_duration(whole).to_string()
    }
}
