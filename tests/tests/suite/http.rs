//! Outbound HTTP: denied by default, granted per component by origin, with limits;
//! the notification example end to end against a local server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use wasmtasks_tests::{Workspace, example};

use crate::queue_support::{enqueue, finish, signal, spawn_worker, uploaded, wait_finished};

/// One request the server received.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// An HTTP/1.1 server on 127.0.0.1 answering with `responses` in turn (the last
/// one again once they run out), recording every connection and request.
struct Server {
    origin: String,
    received: Arc<Mutex<Vec<Received>>>,
    connections: Arc<Mutex<usize>>,
}

impl Server {
    fn start(responses: Vec<(u16, String)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let (log, count) = (received.clone(), connections.clone());
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                *count.lock().unwrap() += 1;
                let Ok(stream) = stream else { continue };
                let (status, body) = responses[n.min(responses.len() - 1)].clone();
                if let Some(request) = answer(stream, status, &body) {
                    log.lock().unwrap().push(request);
                }
            }
        });
        Server {
            origin,
            received,
            connections,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }
}

/// Reads one request from `stream` and answers it.
fn answer(stream: std::net::TcpStream, status: u16, body: &str) -> Option<Received> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, value)| value.parse().unwrap());
    let mut content = vec![0; length];
    reader.read_exact(&mut content).ok()?;
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    Some(Received {
        method,
        path,
        headers,
        body: String::from_utf8(content).unwrap(),
    })
}

/// A workspace with `notify` uploaded, granted `grant` and configured to post to
/// `url`.
fn notify_workspace(grant: &str, url: &str) -> Workspace {
    let workspace = Workspace::new();
    let path = example("notify");
    let upload = workspace.run(&["upload", path.to_str().unwrap(), "--allow-http", grant]);
    assert_eq!(upload.code, 0, "{}", upload.stderr);
    assert!(
        upload.stdout.contains("notify: granted"),
        "{}",
        upload.stdout
    );
    let set = workspace.run(&["config", "set", "notify", "ntfy_url", url]);
    assert_eq!(set.code, 0, "{}", set.stderr);
    workspace
}

/// Enqueues, drains with a worker until `id` is finished, and returns its result.
fn run_until_finished(workspace: &Workspace, args: &[&str]) -> Value {
    let id = enqueue(workspace, args);
    let worker = spawn_worker(workspace, &["--interval", "100ms"]);
    let result = wait_finished(workspace, &id, Duration::from_secs(30));
    signal(&worker, "TERM");
    assert_eq!(finish(worker).code, 0);
    result
}

fn error_class(result: &Value) -> &str {
    result["errors"][0]["exception_class_path"]
        .as_str()
        .unwrap()
}

fn traceback(result: &Value) -> &str {
    result["errors"][0]["traceback"].as_str().unwrap()
}

#[test]
fn the_notification_reaches_the_server_with_its_body_and_title() {
    let server = Server::start(vec![(200, "{}".into())]);
    let url = format!("{}/alerts", server.origin);
    let workspace = notify_workspace(&server.origin, &url);

    let result = run_until_finished(
        &workspace,
        &[
            "notify.send_notification",
            "Deploy done",
            "--kwargs",
            r#"{"title": "Deploy"}"#,
        ],
    );
    assert_eq!(result["status"], "SUCCESSFUL", "{result:#}");
    assert_eq!(result["return_value"], 200);
    let untitled = run_until_finished(&workspace, &["notify.send_notification", "plain"]);
    assert_eq!(untitled["return_value"], 200, "{untitled:#}");

    let received = server.received();
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(
        (received[0].method.as_str(), received[0].path.as_str()),
        ("POST", "/alerts")
    );
    assert_eq!(received[0].body, "Deploy done");
    assert_eq!(received[0].header("Title"), Some("Deploy"));
    assert_eq!(received[1].body, "plain");
    assert_eq!(received[1].header("Title"), None);
}

#[test]
fn a_503_is_retried_by_the_tasks_policy_and_then_succeeds() {
    let server = Server::start(vec![(503, "busy".into()), (200, "{}".into())]);
    let workspace = notify_workspace(&server.origin, &format!("{}/t", server.origin));

    let result = run_until_finished(&workspace, &["notify.send_notification", "retry me"]);
    assert_eq!(result["status"], "SUCCESSFUL", "{result:#}");
    assert_eq!(result["return_value"], 200);
    assert_eq!(result["attempts"], 2);
    assert_eq!(error_class(&result), "notify.NotifyError");
    assert!(
        traceback(&result).contains("the server failed with HTTP 503"),
        "{result:#}"
    );
    assert_eq!(server.received().len(), 2);
}

#[test]
fn a_request_to_an_origin_not_granted_is_denied_before_anything_is_sent() {
    let server = Server::start(vec![(200, "{}".into())]);
    let workspace = notify_workspace("https://*.example.com", &format!("{}/t", server.origin));

    let result = run_until_finished(
        &workspace,
        &["notify.send_notification", "nope", "--max-attempts", "1"],
    );
    assert_eq!(result["status"], "FAILED", "{result:#}");
    assert_eq!(error_class(&result), "wasmtasks.HttpDenied");
    assert!(
        traceback(&result).starts_with(&format!(
            "wasmtasks.HttpDenied: the request to {} was denied",
            server.origin
        )),
        "{result:#}"
    );
    assert_eq!(server.connections(), 0, "a packet left");

    // The hostile example, granted nothing, gets the same answer.
    let workspace = uploaded(workspace, &["hostile"]);
    let result = run_until_finished(
        &workspace,
        &["hostile.fetch", &format!("{}/x", server.origin), "1"],
    );
    assert_eq!(error_class(&result), "wasmtasks.HttpDenied", "{result:#}");
    assert_eq!(server.connections(), 0, "a packet left");
}

#[test]
fn revoking_an_origin_denies_the_next_attempt() {
    let server = Server::start(vec![(200, "{}".into())]);
    let workspace = notify_workspace(&server.origin, &format!("{}/t", server.origin));
    let listed = workspace.run(&["grant", "notify"]);
    assert_eq!(listed.stdout.trim(), server.origin, "{}", listed.stderr);

    let first = run_until_finished(&workspace, &["notify.send_notification", "one"]);
    assert_eq!(first["status"], "SUCCESSFUL", "{first:#}");
    let revoke = workspace.run(&["revoke", "notify", "--http", &server.origin]);
    assert!(revoke.stdout.contains("revoked"), "{}", revoke.stderr);
    let second = run_until_finished(
        &workspace,
        &["notify.send_notification", "two", "--max-attempts", "1"],
    );
    assert_eq!(error_class(&second), "wasmtasks.HttpDenied", "{second:#}");
    assert_eq!(server.received().len(), 1);
}

/// A workspace whose configuration file grants `hostile` the server's origin, with
/// `http` limits.
fn hostile_with_limits(server: &Server, limits: &str) -> Workspace {
    let workspace = Workspace::new();
    let config = format!(
        "[http]\n{limits}\n[components.hostile]\nallow_http = [\"{}\"]\n",
        server.origin
    );
    workspace.write("wasmtasks.toml", config.as_bytes());
    workspace
}

#[test]
fn the_response_body_cap_holds() {
    let server = Server::start(vec![(200, "x".repeat(4096))]);
    let workspace = hostile_with_limits(&server, "max_response_size = \"1KiB\"");
    let url = format!("{}/big", server.origin);
    let failure = workspace.task("hostile", "fetch", &[&url, "1"]).failure();
    assert_eq!(failure.class, "wasmtasks.HttpLimit");
    assert_eq!(
        failure.message(),
        format!(
            "the response from {} is larger than the 1024-byte limit",
            server.origin
        )
    );
}

#[test]
fn the_request_count_cap_holds() {
    let server = Server::start(vec![(200, "ok".into())]);
    let workspace = hostile_with_limits(&server, "max_requests = 2");
    let url = format!("{}/n", server.origin);
    let within = workspace.task("hostile", "fetch", &[&url, "2"]).returned();
    assert_eq!(within, serde_json::json!([[200, 2], [200, 2]]));
    let failure = workspace.task("hostile", "fetch", &[&url, "3"]).failure();
    assert_eq!(failure.class, "wasmtasks.HttpLimit");
    assert!(
        failure.message().contains("its 2 HTTP requests"),
        "{failure:?}"
    );
    assert_eq!(server.received().len(), 4);
}

#[test]
fn a_request_to_a_silent_server_ends_at_the_http_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    // Accepts connections and never answers.
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(4).collect();
        std::thread::sleep(Duration::from_secs(30));
        drop(held);
    });
    let workspace = Workspace::new();
    let config =
        format!("[http]\ntimeout = \"300ms\"\n[components.hostile]\nallow_http = [\"{origin}\"]\n");
    workspace.write("wasmtasks.toml", config.as_bytes());
    let started = std::time::Instant::now();
    let failure = workspace
        .task("hostile", "fetch", &[&format!("{origin}/slow"), "1"])
        .failure();
    assert_eq!(failure.class, "hostile.Denied");
    assert!(failure.message().contains("Timeout"), "{failure:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn an_origin_pattern_that_is_not_one_is_refused_at_upload() {
    let workspace = Workspace::new();
    let path = example("notify");
    let upload = workspace.run(&[
        "upload",
        path.to_str().unwrap(),
        "--allow-http",
        "ntfy.sh/topic",
    ]);
    assert_eq!(upload.code, 2, "{}", upload.stderr);
    assert!(
        upload
            .stderr
            .contains("invalid origin `ntfy.sh/topic`: no scheme"),
        "{}",
        upload.stderr
    );
}
