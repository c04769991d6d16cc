//! Outbound HTTP for guests (`wasi:http`), denied by default.
//!
//! The operator grants a component a list of origins ([`OriginPattern`]:
//! `scheme://host[:port]`, the host may start with `*.`). Every request a guest
//! sends is checked against that list before anything leaves the machine (no DNS
//! lookup, no connection): a request to any other origin fails in the guest with
//! `HTTP-request-denied`, and one past the attempt's request budget with
//! `connection-limit-reached`. Requests that pass are sent within the
//! [`HttpLimits`] timeout (and the attempt's deadline), and a response body larger
//! than the cap fails with `HTTP-response-body-size`. What was refused is recorded,
//! so a failed attempt is reported as `wasmtasks.HttpDenied` or
//! `wasmtasks.HttpLimit` naming the origin or the limit.

use std::fmt;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Uri;
use http::uri::Scheme;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// Per-attempt limits on outbound HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Longest time one request may take, from connecting to the response head
    /// (and between two parts of its body); never past the attempt's deadline.
    pub timeout: Duration,
    /// Largest response body a guest may read, in bytes.
    pub max_response_bytes: u64,
    /// Requests one attempt may send.
    pub max_requests: u32,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            timeout: Duration::from_secs(30),
            max_response_bytes: 1 << 20,
            max_requests: 16,
        }
    }
}

/// An origin the operator allows: `http://127.0.0.1:8080`, `https://ntfy.sh`,
/// `https://*.example.com` (any subdomain, not `example.com` itself). Without a
/// port, the scheme's default port (80, 443).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OriginPattern {
    scheme: String,
    host: String,
    wildcard: bool,
    port: u16,
}

/// A pattern that is not `scheme://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid origin `{pattern}`: {reason} (expected scheme://host[:port], e.g. https://*.example.com)"
)]
pub struct OriginPatternError {
    /// The pattern as given.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FromStr for OriginPattern {
    type Err = OriginPatternError;

    fn from_str(pattern: &str) -> Result<Self, Self::Err> {
        let error = |reason| OriginPatternError {
            pattern: pattern.to_owned(),
            reason,
        };
        let (scheme, rest) = pattern.split_once("://").ok_or(error("no scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = default_port(&scheme).ok_or(error("the scheme is not http or https"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(error("an origin has no path, query or user"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .map_err(|_| error("the port is not a number"))?,
            ),
            _ => (rest, default_port),
        };
        let (wildcard, host) = match host.strip_prefix("*.") {
            Some(host) => (true, host),
            None => (false, host),
        };
        if host.is_empty() || host.contains('*') {
            return Err(error(
                "the host is empty or has a `*` other than a leading `*.`",
            ));
        }
        Ok(OriginPattern {
            scheme,
            host: host.to_ascii_lowercase(),
            wildcard,
            port,
        })
    }
}

impl fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let star = if self.wildcard { "*." } else { "" };
        write!(f, "{}://{star}{}:{}", self.scheme, self.host, self.port)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for OriginPattern {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "An origin `scheme://host[:port]` (http or https); the host may start with `*.` for any subdomain.",
            ))
            .examples(["https://ntfy.sh:443", "https://*.example.com:443"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for OriginPattern {}

impl serde::Serialize for OriginPattern {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for OriginPattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl OriginPattern {
    /// Whether every origin `other` allows is one this pattern allows too: the
    /// same scheme and port, and the same host or (for `*.domain`) a subdomain.
    pub fn covers(&self, other: &OriginPattern) -> bool {
        let host_covered = if self.wildcard {
            (other.wildcard && other.host == self.host)
                || other
                    .host
                    .strip_suffix(&self.host)
                    .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.'))
        } else {
            !other.wildcard && other.host == self.host
        };
        host_covered && self.scheme == other.scheme && self.port == other.port
    }

    fn matches(&self, origin: &Origin) -> bool {
        let host_matches = if self.wildcard {
            origin
                .host
                .strip_suffix(&self.host)
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.'))
        } else {
            origin.host == self.host
        };
        host_matches && origin.scheme == self.scheme && origin.port == self.port
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    fn of(uri: &Uri) -> Origin {
        let scheme = uri
            .scheme()
            .unwrap_or(&Scheme::HTTPS)
            .as_str()
            .to_ascii_lowercase();
        let port = uri
            .port_u16()
            .or_else(|| default_port(&scheme))
            .unwrap_or(0);
        Origin {
            host: uri.host().unwrap_or_default().to_ascii_lowercase(),
            scheme,
            port,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// What an attempt's HTTP refused, for the host to explain a failure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HttpRecord {
    requests: u32,
    /// The first origin refused, as `scheme://host:port`.
    pub(crate) denied: Option<String>,
    /// The first limit hit, in words.
    pub(crate) limited: Option<String>,
}

/// A shared handle on an attempt's [`HttpRecord`].
#[derive(Debug, Clone, Default)]
pub(crate) struct HttpLog(Arc<Mutex<HttpRecord>>);

impl HttpRecord {
    /// The requests sent so far.
    pub(crate) fn requests(&self) -> u32 {
        self.requests
    }
}

impl HttpLog {
    pub(crate) fn lock(&self) -> MutexGuard<'_, HttpRecord> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The `wasi:http` hooks of one attempt: its allow-list, limits and record.
pub(crate) struct AttemptHttp {
    allowed: Arc<[OriginPattern]>,
    limits: HttpLimits,
    deadline: Instant,
    log: HttpLog,
}

impl AttemptHttp {
    pub(crate) fn new(
        allowed: Arc<[OriginPattern]>,
        limits: HttpLimits,
        deadline: Instant,
        log: HttpLog,
    ) -> Self {
        AttemptHttp {
            allowed,
            limits,
            deadline,
            log,
        }
    }

    /// Refuses a request to an origin outside the allow-list or past the budget.
    fn admit(&self, origin: &Origin) -> Result<(), Error> {
        let mut record = self.log.lock();
        if !self.allowed.iter().any(|pattern| pattern.matches(origin)) {
            record.denied.get_or_insert_with(|| origin.to_string());
            return Err(Error::HttpRequestDenied);
        }
        if record.requests >= self.limits.max_requests {
            record.limited.get_or_insert_with(|| {
                format!(
                    "the attempt sent its {} HTTP requests (the limit); one more to {origin} was refused",
                    self.limits.max_requests
                )
            });
            return Err(Error::ConnectionLimitReached);
        }
        record.requests += 1;
        Ok(())
    }
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for AttemptHttp {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        let origin = Origin::of(request.uri());
        if let Err(error) = self.admit(&origin) {
            return Box::new(async move { Err(error) });
        }
        let timeout = self
            .limits
            .timeout
            .min(self.deadline.saturating_duration_since(Instant::now()));
        let bounded = |asked: Option<Duration>| Some(asked.map_or(timeout, |a| a.min(timeout)));
        let options = options.unwrap_or_default();
        let options = RequestOptions {
            connect_timeout: bounded(options.connect_timeout),
            first_byte_timeout: bounded(options.first_byte_timeout),
            between_bytes_timeout: bounded(options.between_bytes_timeout),
        };
        let cap = self.limits.max_response_bytes;
        let log = self.log.clone();
        Box::new(async move {
            let sent = wasmtime_wasi_http::default_send_request(request, Some(options));
            let (response, io) = tokio::time::timeout(timeout, sent)
                .await
                .map_err(|_| Error::ConnectionTimeout)??;
            let response = response.map(|body| {
                CappedBody {
                    inner: body.boxed_unsync(),
                    remaining: cap,
                    cap,
                    origin: origin.to_string(),
                    log,
                }
                .boxed_unsync()
            });
            let io: Box<dyn Future<Output = Result<(), Error>> + Send> = Box::new(io);
            Ok((response, io))
        })
    }
}

/// A response body that fails once it passes the cap.
struct CappedBody {
    inner: WasiBody,
    remaining: u64,
    cap: u64,
    origin: String,
    log: HttpLog,
}

impl Body for CappedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            other => return other,
        };
        let len = frame.data_ref().map_or(0, |data| data.len() as u64);
        match self.remaining.checked_sub(len) {
            Some(remaining) => {
                self.remaining = remaining;
                Poll::Ready(Some(Ok(frame)))
            }
            None => {
                let message = format!(
                    "the response from {} is larger than the {}-byte limit",
                    self.origin, self.cap
                );
                self.log.lock().limited.get_or_insert(message);
                self.remaining = 0;
                Poll::Ready(Some(Err(Error::HttpResponseBodySize(Some(self.cap)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_cover_narrower_patterns() {
        let pattern = |text: &str| text.parse::<OriginPattern>().unwrap();
        let wide = pattern("https://*.example.com");
        assert!(wide.covers(&pattern("https://api.example.com")));
        assert!(wide.covers(&pattern("https://*.api.example.com")));
        assert!(wide.covers(&pattern("https://*.example.com")));
        assert!(!wide.covers(&pattern("https://example.com")));
        assert!(!wide.covers(&pattern("http://api.example.com")));
        assert!(!wide.covers(&pattern("https://api.example.com:8443")));
        let exact = pattern("https://ntfy.sh");
        assert!(exact.covers(&pattern("https://ntfy.sh:443")));
        assert!(!exact.covers(&pattern("https://*.ntfy.sh")));
        assert_eq!(
            serde_json::to_string(&exact).unwrap(),
            "\"https://ntfy.sh:443\""
        );
        assert_eq!(
            serde_json::from_str::<OriginPattern>("\"https://ntfy.sh\"").unwrap(),
            exact
        );
        assert!(serde_json::from_str::<OriginPattern>("\"ftp://x\"").is_err());
    }

    fn origin(uri: &str) -> Origin {
        Origin::of(&uri.parse::<Uri>().unwrap())
    }

    fn allows(pattern: &str, uri: &str) -> bool {
        pattern
            .parse::<OriginPattern>()
            .unwrap()
            .matches(&origin(uri))
    }

    #[test]
    fn patterns_match_scheme_host_and_port() {
        assert!(allows("https://ntfy.sh", "https://ntfy.sh/topic"));
        assert!(allows("https://NTFY.sh/", "https://ntfy.sh:443/topic"));
        assert!(!allows("https://ntfy.sh", "http://ntfy.sh/topic"));
        assert!(!allows("https://ntfy.sh", "https://ntfy.sh:8443/topic"));
        assert!(!allows("https://ntfy.sh", "https://evil-ntfy.sh/"));
        assert!(allows("http://127.0.0.1:8080", "http://127.0.0.1:8080/a?b"));
        assert!(!allows("http://127.0.0.1:8080", "http://127.0.0.1:8081/"));
        assert!(allows("https://*.example.com", "https://a.example.com/"));
        assert!(allows("https://*.example.com", "https://a.b.example.com/"));
        assert!(!allows("https://*.example.com", "https://example.com/"));
        assert!(!allows("https://*.example.com", "https://badexample.com/"));
    }

    #[test]
    fn bad_patterns_are_refused_with_the_reason() {
        for (pattern, reason) in [
            ("ntfy.sh", "no scheme"),
            ("ftp://x", "the scheme is not http or https"),
            ("https://x/path", "an origin has no path, query or user"),
            ("https://x:port", "the port is not a number"),
            (
                "https://*",
                "the host is empty or has a `*` other than a leading `*.`",
            ),
            (
                "https://a.*.com",
                "the host is empty or has a `*` other than a leading `*.`",
            ),
        ] {
            let error = pattern.parse::<OriginPattern>().unwrap_err();
            assert_eq!(error.reason, reason, "{pattern}");
        }
        assert_eq!(
            "https://*.Example.com"
                .parse::<OriginPattern>()
                .unwrap()
                .to_string(),
            "https://*.example.com:443"
        );
    }

    #[test]
    fn requests_past_the_list_or_the_budget_are_refused_and_recorded() {
        let log = HttpLog::default();
        let limits = HttpLimits {
            max_requests: 1,
            ..HttpLimits::default()
        };
        let allowed: Arc<[OriginPattern]> = Arc::new(["http://a.test".parse().unwrap()]);
        let http = AttemptHttp::new(allowed, limits, Instant::now(), log.clone());
        assert!(matches!(
            http.admit(&origin("http://b.test/")),
            Err(Error::HttpRequestDenied)
        ));
        assert!(http.admit(&origin("http://a.test/")).is_ok());
        assert!(matches!(
            http.admit(&origin("http://a.test/")),
            Err(Error::ConnectionLimitReached)
        ));
        let record = log.lock().clone();
        assert_eq!(record.denied.as_deref(), Some("http://b.test:80"));
        assert!(record.limited.unwrap().contains("its 1 HTTP requests"));
    }
}
