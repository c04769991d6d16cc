//! Seeing what happens: the registry of workers (live, lost, stopped, and what
//! each runs) through the CLI and the API, and Prometheus metrics from `serve`
//! and from a worker's `--metrics-listen`, read with a Prometheus text parser.

use std::process::Child;
use std::time::{Duration, Instant};

use openmetrics_parser::openmetrics::parse_openmetrics;
use openmetrics_parser::{MetricsExposition, OpenMetricsType, OpenMetricsValue};
use reqwest::Method;
use serde_json::{Value, json};
use wasmtasks_tests::server::Server;
use wasmtasks_tests::{Workspace, example};

use crate::queue_support::{finish, signal, spawn_worker};
use crate::tenancy_support::{add, enqueue, get, tenant, token, upload};

/// `workers --all --json` of `workspace`.
fn workers(workspace: &Workspace) -> Vec<Value> {
    let run = workspace.run(&["workers", "--all", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json().as_array().cloned().unwrap_or_default()
}

/// Waits until worker `id` is listed and `check` holds for it; returns it.
fn wait_for_worker(workspace: &Workspace, id: &str, check: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let listed = workers(workspace);
        if let Some(worker) = listed.iter().find(|w| w["id"] == id)
            && check(worker)
        {
            return worker.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "worker {id} never got there: {listed:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Worker `id` as `GET /api/v1/workers` lists it for `token`.
fn api_worker(server: &Server, token: &str, id: &str) -> Option<Value> {
    let reply = get(server, token, "/api/v1/workers");
    assert_eq!(reply.status, 200, "{reply:?}");
    let workers = reply.body.as_array().expect("a list").clone();
    workers.into_iter().find(|worker| worker["id"] == id)
}

/// The dashboard's overview page as `token`'s session sees it.
fn overview(server: &Server, token: &str) -> String {
    let request = server
        .request(Method::GET, "/")
        .header("cookie", format!("wasmtasks_session={token}"));
    let reply = server.send(request);
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.text
}

fn kill(child: &mut Child) {
    signal(child, "KILL");
    let _ = child.wait();
}

#[test]
fn workers_are_listed_live_with_their_jobs_then_lost_or_stopped() {
    let workspace = Workspace::new();
    workspace.write("wasmtasks.toml", b"[worker]\nheartbeat = \"200ms\"\n");
    tenant(&workspace, "alice");
    let run = workspace.run(&["upload", example("hostile").to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let id = workspace
        .run(&["enqueue", "hostile.sleep_ms", "4000"])
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let busy = spawn_worker(
        &workspace,
        &[
            "--worker-id",
            "busy",
            "--concurrency",
            "2",
            "--max-tasks",
            "1",
        ],
    );
    let listed = wait_for_worker(&workspace, "busy", |w| {
        w["running"].as_array().is_some_and(|r| !r.is_empty())
    });
    assert_eq!(listed["state"], "live", "{listed}");
    assert_eq!(
        (listed["concurrency"].as_u64(), listed["queues"].as_str()),
        (Some(2), Some("*"))
    );
    assert_eq!(listed["pid"].as_u64(), Some(u64::from(busy.id())));
    assert_eq!(listed["version"], env!("CARGO_PKG_VERSION"));
    let running = &listed["running"][0];
    assert_eq!(
        (running["id"].as_str(), running["task_path"].as_str()),
        (Some(id.as_str()), Some("hostile.sleep_ms"))
    );
    let table = workspace.run(&["workers"]);
    assert!(
        table.stdout.contains("busy") && table.stdout.contains(&id),
        "the table names the worker and its job: {}",
        table.stdout
    );

    // Through the API: the tenant's reader sees it and its job; another tenant
    // sees the worker (it serves every tenant) but not the job.
    let server = Server::start(&workspace, &[]);
    let reader = token(&workspace, Some("default"), "reader", &[]);
    let busy_there = api_worker(&server, &reader, "busy").expect("listed");
    assert_eq!(busy_there["running"][0]["id"], id.as_str());
    let alice = token(&workspace, Some("alice"), "reader", &[]);
    let busy_there = api_worker(&server, &alice, "busy");
    let busy_there = busy_there.expect("a worker of every tenant serves alice too");
    assert_eq!(busy_there["running"], json!([]), "not another tenant's job");
    assert_eq!(busy_there["finished"], 0, "not another tenant's totals");
    // And on the dashboard's overview, alike.
    let ours = overview(&server, &reader);
    assert!(
        ours.contains(r#"data-worker="busy""#) && ours.contains("hostile.sleep_ms"),
        "{ours}"
    );
    let theirs = overview(&server, &alice);
    assert!(
        theirs.contains(r#"data-worker="busy""#) && !theirs.contains("hostile.sleep_ms"),
        "{theirs}"
    );

    let done = finish(busy);
    assert_eq!(done.code, 0, "{}", done.stderr);
    let stopped = wait_for_worker(&workspace, "busy", |w| w["state"] != "live");
    assert_eq!(stopped["state"], "stopped", "{stopped}");
    assert_eq!(stopped["finished"], 1, "{stopped}");
    assert!(stopped["stopped_at"].is_string(), "{stopped}");

    // A worker killed without a word is marked lost once three heartbeats are
    // missed; one limited to a tenant is not shown to others.
    let mut killed = spawn_worker(&workspace, &["--worker-id", "killed"]);
    wait_for_worker(&workspace, "killed", |w| w["state"] == "live");
    kill(&mut killed);
    let lost = wait_for_worker(&workspace, "killed", |w| w["state"] != "live");
    assert_eq!(lost["state"], "lost", "{lost}");
    assert_eq!(lost["stopped_at"], Value::Null);
    let page = overview(&server, &reader);
    let row = page
        .split("<tr ")
        .find(|row| row.contains(r#"data-worker="killed""#))
        .expect("the lost worker is listed");
    assert!(row.contains("LOST"), "{row}");
    assert!(
        !page.contains(r#"data-worker="busy""#),
        "a stopped worker leaves the overview"
    );
    let live = workspace.run(&["workers", "--json"]).json();
    assert_eq!(live, json!([]), "without --all, only live workers");

    let mut scoped = workspace
        .command()
        .env("WASMTASKS_LOG", "warn")
        .args(["--tenant", "default", "worker", "--worker-id", "scoped"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_worker(&workspace, "scoped", |w| w["state"] == "live");
    let theirs = get(&server, &alice, "/api/v1/workers");
    assert!(
        theirs
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["id"] != "scoped"),
        "a worker serving only `default` is none of alice's business: {theirs:?}"
    );
    let ours = get(&server, &reader, "/api/v1/workers");
    assert!(
        ours.body
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == "scoped"),
        "{ours:?}"
    );
    kill(&mut scoped);
}

type Exposition = MetricsExposition<OpenMetricsType, OpenMetricsValue>;

/// Parses `text` as OpenMetrics, strictly.
fn parse(text: &str) -> Exposition {
    parse_openmetrics(text).unwrap_or_else(|e| panic!("not OpenMetrics text ({e:?}):\n{text}"))
}

/// The sum of the samples of `family` with `labels` (0 if none): a counter's or
/// gauge's value, a histogram's count.
fn sample(exposition: &Exposition, family: &str, labels: &[(&str, &str)]) -> f64 {
    let Some(family) = exposition.families.get(family) else {
        return 0.0;
    };
    family
        .iter_samples()
        .filter(|sample| {
            let set = sample.get_labelset().expect("a sample of a family");
            labels
                .iter()
                .all(|(name, value)| set.get_label_value(name) == Some(*value))
        })
        .map(|sample| match &sample.value {
            OpenMetricsValue::Counter(counter) => counter.value.as_f64(),
            OpenMetricsValue::Gauge(n) | OpenMetricsValue::Unknown(n) => n.as_f64(),
            OpenMetricsValue::Histogram(histogram) => histogram.count.unwrap_or(0) as f64,
            other => panic!("unexpected sample {other:?}"),
        })
        .sum()
}

fn scrape(server: &Server, token: &str) -> Exposition {
    let reply = server.send(server.authed(Method::GET, "/metrics", token));
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(
        reply
            .content_type
            .starts_with("application/openmetrics-text"),
        "{reply:?}"
    );
    parse(&reply.text)
}

#[test]
fn metrics_count_what_runs_and_only_the_operator_reads_them() {
    let workspace = Workspace::new();
    workspace.write("wasmtasks.toml", b"[worker]\nheartbeat = \"200ms\"\n");
    let server = Server::start(&workspace, &["--workers", "1"]);
    let operator = token(&workspace, None, "", &[]);
    let member = token(&workspace, Some("default"), "admin", &[]);
    upload(&server, &member, &example("arith"));
    upload(&server, &member, &example("welcome"));

    let none = server.send(server.request(Method::GET, "/metrics"));
    none.problem(401, "unauthorized");
    let tenant_token = server.send(server.authed(Method::GET, "/metrics", &member));
    tenant_token.problem(403, "forbidden");

    let before = scrape(&server, &operator);
    let queue = [("tenant", "default"), ("queue", "default")];
    assert_eq!(sample(&before, "wasmtasks_jobs_enqueued", &queue), 0.0);

    let ok = enqueue(&server, &member, add(2, 3));
    server.wait(&member, ok["id"].as_str().unwrap());
    let bad = enqueue(
        &server,
        &member,
        json!({"task_path": "welcome.welcome", "args": ["no-at-sign", "Bob"],
               "queue_name": "default"}),
    );
    server.wait(&member, bad["id"].as_str().unwrap());
    let secret_args = enqueue(&server, &member, add(424_242, 1));
    server.wait(&member, secret_args["id"].as_str().unwrap());

    let after = scrape(&server, &operator);
    assert_eq!(sample(&after, "wasmtasks_jobs_enqueued", &queue), 3.0);
    let succeeded = [queue[0], queue[1], ("status", "SUCCESSFUL")];
    assert_eq!(
        sample(&after, "wasmtasks_attempts_finished", &succeeded),
        2.0
    );
    let failed = [
        queue[0],
        queue[1],
        ("status", "FAILED"),
        ("exception_class", "welcome.WelcomeError"),
    ];
    assert_eq!(sample(&after, "wasmtasks_attempts_finished", &failed), 1.0);
    for histogram in [
        "wasmtasks_attempt_duration_seconds",
        "wasmtasks_attempt_fuel",
        "wasmtasks_attempt_peak_memory_bytes",
    ] {
        assert_eq!(sample(&after, histogram, &queue), 3.0, "{histogram}");
    }
    assert!(sample(&after, "wasmtasks_claim_batch_size", &[]) >= 1.0);
    assert!(sample(&after, "wasmtasks_completion_latency_seconds", &[]) >= 1.0);
    let successful_jobs = [queue[0], queue[1], ("status", "SUCCESSFUL")];
    assert_eq!(
        sample(&after, "wasmtasks_queue_jobs", &successful_jobs),
        2.0
    );
    assert_eq!(
        sample(&after, "wasmtasks_workers", &[("state", "live")]),
        1.0
    );
    let enqueues = [
        ("route", "/api/v1/jobs"),
        ("method", "POST"),
        ("status", "201"),
    ];
    assert_eq!(
        sample(&after, "wasmtasks_http_requests", &enqueues),
        3.0,
        "routes by pattern"
    );
    let waits = [("route", "/api/v1/jobs/{id}"), ("method", "GET")];
    assert!(sample(&after, "wasmtasks_http_requests", &waits) >= 3.0);
    let text = server
        .send(server.authed(Method::GET, "/metrics", &operator))
        .text;
    assert!(
        !text.contains("424242") && !text.contains(ok["id"].as_str().unwrap()),
        "no argument or job id is a label"
    );

    // A lagging queue: a paused queue's READY job ages.
    let pause = server.send(server.authed(Method::POST, "/api/v1/queues/default/pause", &member));
    assert_eq!(pause.status, 200, "{pause:?}");
    enqueue(&server, &member, add(1, 1));
    std::thread::sleep(Duration::from_millis(1100));
    let lagging = scrape(&server, &operator);
    assert!(sample(&lagging, "wasmtasks_oldest_ready_age_seconds", &queue) >= 1.0);
    assert_eq!(
        sample(
            &lagging,
            "wasmtasks_queue_jobs",
            &[queue[0], queue[1], ("status", "READY")]
        ),
        1.0
    );
}

#[test]
fn a_worker_serves_its_own_metrics_without_a_token() {
    let workspace = Workspace::new();
    let run = workspace.run(&["upload", example("arith").to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let enqueued = workspace.run(&["enqueue", "arith.add", "1", "2"]);
    assert_eq!(enqueued.code, 0, "{}", enqueued.stderr);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let mut worker = spawn_worker(&workspace, &["--metrics-listen", &address]);
    let client = reqwest::blocking::Client::new();
    let started = Instant::now();
    let scrape = loop {
        if let Ok(response) = client.get(format!("http://{address}/metrics")).send() {
            let scrape = parse(&response.text().unwrap());
            let done = [("tenant", "default"), ("status", "SUCCESSFUL")];
            if sample(&scrape, "wasmtasks_attempts_finished", &done) == 1.0 {
                break scrape;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the worker's metrics never showed its attempt"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        sample(&scrape, "wasmtasks_workers", &[("state", "live")]),
        1.0
    );
    let taken = std::net::TcpListener::bind(&address);
    assert!(taken.is_err(), "the worker listens there");
    kill(&mut worker);

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_address = busy.local_addr().unwrap().to_string();
    let refused = workspace.run(&["worker", "--batch", "--metrics-listen", &busy_address]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains(&format!(
            "cannot listen on {busy_address} (--metrics-listen)"
        )),
        "{}",
        refused.stderr
    );
}
