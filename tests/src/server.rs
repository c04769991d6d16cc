//! A real `wasmtasks serve` process for one test: started on a free port in the
//! test's workspace, stopped (SIGTERM, then killed) when dropped; its log kept for
//! failure messages. And a small client of its API.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::Workspace;

/// A running server.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    log: Arc<Mutex<Vec<String>>>,
    http: Client,
}

impl Server {
    /// Starts `wasmtasks serve --listen 127.0.0.1:0 ARGS…` in `workspace` and waits
    /// until it listens.
    pub fn start(workspace: &Workspace, args: &[&str]) -> Server {
        let mut child = workspace
            .command()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (found, address) = std::sync::mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(rest) = line.strip_prefix("wasmtasks serving ") {
                        let url = rest.split_whitespace().next().unwrap_or_default();
                        let _ = found.send(url.to_owned());
                    }
                    log.lock().unwrap().push(line);
                }
            });
        }
        let url = match address.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the server did not start:\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
        };
        Server {
            child,
            url,
            log,
            http: Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .expect("an HTTP client"),
        }
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// A request to `path` (under the server, e.g. `/api/v1/jobs`).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.url))
    }

    /// A request to `path` with `token`.
    pub fn authed(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(token)
    }

    /// Sends a request; its status and body (JSON, or the text as a JSON string).
    pub fn send(&self, request: RequestBuilder) -> Reply {
        Reply::from(request.send().expect("the server answers"))
    }

    /// Waits until the job `id` has finished (through the long-poll) and returns it.
    pub fn wait(&self, token: &str, id: &str) -> Value {
        let started = Instant::now();
        loop {
            let reply =
                self.send(self.authed(Method::GET, &format!("/api/v1/jobs/{id}?wait=10s"), token));
            assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
            let status = reply.body["status"].as_str().unwrap_or_default().to_owned();
            if ["SUCCESSFUL", "FAILED", "CANCELLED"].contains(&status.as_str()) {
                return reply.body;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "job {id} did not finish: {}\n{}",
                reply.body,
                self.log()
            );
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An answer: its status, content type and body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The `Content-Type`.
    pub content_type: String,
    /// The body as JSON (a string when it is not JSON).
    pub body: Value,
    /// The body as text.
    pub text: String,
    /// Every header, as text.
    pub headers: Vec<(String, String)>,
}

impl From<Response> for Reply {
    fn from(response: Response) -> Self {
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let text = response.text().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
        Reply {
            status,
            content_type,
            body,
            text,
            headers,
        }
    }
}

impl Reply {
    /// The value of header `name` (lower case), if it was sent.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.clone())
    }

    /// Asserts a problem detail of `status` and type slug `slug`; returns its detail.
    #[track_caller]
    pub fn problem(&self, status: u16, slug: &str) -> String {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        assert_eq!(self.content_type, "application/problem+json", "{self:?}");
        assert_eq!(
            self.body["type"],
            format!("urn:wasmtasks:problem:{slug}"),
            "{self:?}"
        );
        assert_eq!(self.body["status"], status, "{self:?}");
        self.body["detail"]
            .as_str()
            .expect("a problem has a detail")
            .to_owned()
    }
}
