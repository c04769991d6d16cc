//! The stylesheet, the dashboard's script and htmx, embedded in the binary and served under `/assets/`
//! with a year's cache: each URL carries a hash of the file, so a new build's file
//! is a new URL.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::page::PageError;

/// The dashboard's one stylesheet.
const CSS: &str = include_str!("../../assets/dashboard.css");
/// The dashboard's own script (what the CSP keeps out of the pages).
const JS: &str = include_str!("../../assets/dashboard.js");
/// htmx, vendored (see `assets/vendor/README.md`).
const HTMX: &str = include_str!("../../assets/vendor/htmx.min.js");

/// The first 16 hex digits of the SHA-256 of `text`.
fn short_hash(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

static CSS_URL: LazyLock<String> =
    LazyLock::new(|| format!("/assets/dashboard.css?v={}", short_hash(CSS)));
static JS_URL: LazyLock<String> =
    LazyLock::new(|| format!("/assets/dashboard.js?v={}", short_hash(JS)));
static HTMX_URL: LazyLock<String> =
    LazyLock::new(|| format!("/assets/htmx.min.js?v={}", short_hash(HTMX)));

/// The stylesheet's URL.
pub fn css_url() -> String {
    CSS_URL.clone()
}

/// The dashboard script's URL.
pub fn js_url() -> String {
    JS_URL.clone()
}

/// htmx's URL.
pub fn htmx_url() -> String {
    HTMX_URL.clone()
}

/// `GET /assets/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "dashboard.css" => (CSS, "text/css; charset=utf-8"),
        "dashboard.js" => (JS, "text/javascript; charset=utf-8"),
        "htmx.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        _ => return PageError::not_found(format!("no asset `{file}`")).into_response(),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}
