//! A small HTTP client over `wasi:http`, for the origins the operator granted the
//! component (`wasmtasks grant COMPONENT --http https://ntfy.sh`). Everything else is
//! refused by the host before anything leaves the machine, and reported here as
//! [`HttpError::Denied`].
//!
//! ```no_run
//! use wasmtasks_guest::http;
//!
//! # fn main() -> Result<(), http::HttpError> {
//! let response = http::post("https://ntfy.sh/alerts")
//!     .header("Title", "Deploy")
//!     .body("done")
//!     .send()?;
//! assert!(response.is_success());
//! let status: serde_json::Value = http::get("https://ntfy.sh/v1/health").send()?.json()?;
//! # Ok(()) }
//! ```
//!
//! Requests are blocking and whole: the response body is read completely (up to the
//! host's cap). Built natively (unit tests), [`Request::send`] fails with
//! [`HttpError::Unavailable`].

use std::fmt;

/// An HTTP request being built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A response, read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code, e.g. 200.
    pub status: u16,
    /// The headers, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The URL is not `http(s)://host[:port][/path][?query]`.
    InvalidUrl(String),
    /// The host refused the request: the origin is not granted to this component.
    Denied(String),
    /// The request was sent (or refused by a limit) and failed, in words.
    Failed(String),
    /// A JSON body could not be written or read.
    Json(String),
    /// No `wasi:http` here (a native build).
    Unavailable,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::InvalidUrl(url) => write!(
                f,
                "invalid URL `{url}`: expected http(s)://host[:port][/path]"
            ),
            HttpError::Denied(origin) => write!(
                f,
                "the request to {origin} was denied: the origin is not in this component's allow-list"
            ),
            HttpError::Failed(why) => write!(f, "the HTTP request failed: {why}"),
            HttpError::Json(why) => write!(f, "JSON body: {why}"),
            HttpError::Unavailable => {
                f.write_str("HTTP requests need the wasmtasks host (wasm32-wasip2)")
            }
        }
    }
}

impl std::error::Error for HttpError {}

/// A `GET` request to `url`.
pub fn get(url: &str) -> Request {
    request("GET", url)
}

/// A `POST` request to `url`.
pub fn post(url: &str) -> Request {
    request("POST", url)
}

/// A request with any method (`PUT`, `DELETE`, ...).
pub fn request(method: &str, url: &str) -> Request {
    Request {
        method: method.to_ascii_uppercase(),
        url: url.to_owned(),
        headers: Vec::new(),
        body: Vec::new(),
    }
}

impl Request {
    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets the body to `value` as JSON, with `Content-Type: application/json`.
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> Result<Self, HttpError> {
        let body = serde_json::to_vec(value).map_err(|e| HttpError::Json(e.to_string()))?;
        Ok(self.header("content-type", "application/json").body(body))
    }

    /// Sends the request and reads the whole response.
    pub fn send(self) -> Result<Response, HttpError> {
        let target = Target::parse(&self.url)?;
        send(self, target)
    }
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_slice(&self.body).map_err(|e| HttpError::Json(e.to_string()))
    }
}

/// A URL split the way `wasi:http` wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    https: bool,
    authority: String,
    path_with_query: String,
}

impl Target {
    fn parse(url: &str) -> Result<Target, HttpError> {
        let invalid = || HttpError::InvalidUrl(url.to_owned());
        let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "http" => false,
            "https" => true,
            _ => return Err(invalid()),
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if authority.is_empty() || authority.contains('@') {
            return Err(invalid());
        }
        let path_with_query = match path {
            "" => "/".to_owned(),
            query if query.starts_with('?') => format!("/{query}"),
            path => path.to_owned(),
        };
        Ok(Target {
            https,
            authority: authority.to_owned(),
            path_with_query,
        })
    }

    /// `scheme://authority`, as a denial names it (only wasm builds send requests).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    fn origin(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.authority)
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn send(_request: Request, _target: Target) -> Result<Response, HttpError> {
    Err(HttpError::Unavailable)
}

#[cfg(target_arch = "wasm32")]
fn send(request: Request, target: Target) -> Result<Response, HttpError> {
    use wasip2::http::outgoing_handler;
    use wasip2::http::types::{ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, Scheme};

    let failed = |what: &str| HttpError::Failed(what.to_owned());
    let mut headers: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone().into_bytes()))
        .collect();
    if !request.body.is_empty() {
        headers.push((
            "content-length".into(),
            request.body.len().to_string().into_bytes(),
        ));
    }
    let fields =
        Fields::from_list(&headers).map_err(|e| HttpError::Failed(format!("bad header: {e:?}")))?;
    let outgoing = OutgoingRequest::new(fields);
    let method = match request.method.as_str() {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "OPTIONS" => Method::Options,
        "PATCH" => Method::Patch,
        other => Method::Other(other.to_owned()),
    };
    outgoing
        .set_method(&method)
        .map_err(|()| failed("invalid method"))?;
    let scheme = if target.https {
        Scheme::Https
    } else {
        Scheme::Http
    };
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|()| failed("invalid scheme"))?;
    outgoing
        .set_authority(Some(&target.authority))
        .map_err(|()| HttpError::InvalidUrl(request.url.clone()))?;
    outgoing
        .set_path_with_query(Some(&target.path_with_query))
        .map_err(|()| HttpError::InvalidUrl(request.url.clone()))?;
    let body = outgoing.body().map_err(|()| failed("no request body"))?;
    let error = |code: ErrorCode| match code {
        ErrorCode::HttpRequestDenied => HttpError::Denied(target.origin()),
        code => HttpError::Failed(format!("{code:?}")),
    };
    let pending = outgoing_handler::handle(outgoing, None).map_err(error)?;
    // A refused request has no one reading its body: write errors are expected
    // then, and the response says why.
    if let Ok(stream) = body.write() {
        for chunk in request.body.chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                break;
            }
        }
    }
    let _ = OutgoingBody::finish(body, None);
    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(error(code)),
        _ => return Err(failed("no response")),
    };
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let incoming = response
        .consume()
        .map_err(|()| failed("no response body"))?;
    let mut body = Vec::new();
    {
        let stream = incoming.stream().map_err(|()| failed("no response body"))?;
        loop {
            match stream.blocking_read(64 << 10) {
                Ok(chunk) => body.extend_from_slice(&chunk),
                Err(wasip2::io::streams::StreamError::Closed) => break,
                Err(wasip2::io::streams::StreamError::LastOperationFailed(e)) => {
                    return Err(match wasip2::http::types::http_error_code(&e) {
                        Some(code) => error(code),
                        None => HttpError::Failed(e.to_debug_string()),
                    });
                }
            }
        }
    }
    drop(incoming);
    Ok(Response {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_origin_and_path() {
        let target = Target::parse("https://ntfy.sh/alerts?x=1#frag").unwrap();
        assert_eq!(target.origin(), "https://ntfy.sh");
        assert_eq!(target.path_with_query, "/alerts?x=1");
        let bare = Target::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            (bare.authority.as_str(), bare.path_with_query.as_str()),
            ("127.0.0.1:8080", "/")
        );
        assert_eq!(Target::parse("http://h?q").unwrap().path_with_query, "/?q");
        for bad in ["ntfy.sh", "ftp://x", "https://", "http://u@h/"] {
            assert_eq!(Target::parse(bad), Err(HttpError::InvalidUrl(bad.into())));
        }
    }

    #[test]
    fn requests_build_and_natively_are_unavailable() {
        let request = post("http://h/")
            .header("Title", "t")
            .json(&[1, 2])
            .unwrap();
        assert_eq!(request.body, b"[1,2]");
        assert_eq!(
            request.headers[1],
            ("content-type".into(), "application/json".into())
        );
        assert_eq!(request.send(), Err(HttpError::Unavailable));
        let response = Response {
            status: 201,
            headers: vec![("title".into(), "x".into())],
            body: b"{\"a\":1}".to_vec(),
        };
        assert!(response.is_success());
        assert_eq!(response.header("Title"), Some("x"));
        assert_eq!(response.json::<serde_json::Value>().unwrap()["a"], 1);
    }
}
