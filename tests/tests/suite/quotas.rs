//! Tenant quotas end to end: set and shown by the operator's CLI, enforced for a
//! tenant's token over HTTP (429 or 403 problems naming the quota, nothing
//! stored), clamped by the worker, and given to new tenants from `[quotas]`.

use serde_json::{Value, json};
use wasmtasks_tests::server::{Reply, Server};
use wasmtasks_tests::{Workspace, example};

use crate::queue_support::{finish, spawn_worker};
use crate::tenancy_support::{add, get, post, tenant, token, upload};

/// The quota a problem names, checking its status and type.
#[track_caller]
fn quota(reply: &Reply, status: u16, slug: &str) -> Value {
    assert_eq!(reply.status.as_u16(), status, "{reply:?}");
    assert_eq!(
        reply.body["type"],
        format!("urn:wasmtasks:problem:{slug}"),
        "{reply:?}"
    );
    reply.body["quota"].clone()
}

/// How many jobs the tenant of `token` has.
fn jobs(server: &Server, token: &str) -> usize {
    let reply = get(server, token, "/api/v1/jobs");
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body["jobs"].as_array().expect("a job list").len()
}

#[test]
fn quotas_are_set_shown_and_enforced_over_http() {
    let workspace = Workspace::new();
    tenant(&workspace, "alice");
    let set = workspace.run(&[
        "tenant",
        "set",
        "alice",
        "--max-queued",
        "2",
        "--max-fuel",
        "1000",
        "--max-components",
        "1",
        "--weight",
        "3",
    ]);
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert!(
        set.stdout.contains("max_queued           2"),
        "{}",
        set.stdout
    );
    let shown = workspace.run(&["tenant", "show", "alice", "--json"]).json();
    assert_eq!(shown["quotas"]["max_queued"], 2);
    assert_eq!(shown["quotas"]["max_fuel"], 1000);
    assert_eq!(shown["quotas"]["weight"], 3);
    assert_eq!(shown["quotas"]["max_running"], Value::Null);
    // A quota not named stays; `none` lifts one.
    let lifted = workspace.run(&["tenant", "set", "alice", "--max-components", "none"]);
    assert_eq!(lifted.code, 0, "{}", lifted.stderr);
    let shown = workspace.run(&["tenant", "show", "alice", "--json"]).json();
    assert_eq!(shown["quotas"]["max_components"], Value::Null);
    assert_eq!(shown["quotas"]["max_queued"], 2);
    let again = workspace.run(&["tenant", "set", "alice", "--max-components", "1"]);
    assert_eq!(again.code, 0, "{}", again.stderr);

    let alice = token(&workspace, Some("alice"), "admin", &[]);
    let server = Server::start(&workspace, &[]);
    // Over HTTP, the operator puts the quotas as one JSON object, nothing else.
    let operator = token(&workspace, None, "", &[]);
    let put = |body: Value| {
        server.send(
            server
                .authed(
                    reqwest::Method::PUT,
                    "/api/v1/tenants/alice/quotas",
                    &operator,
                )
                .json(&body),
        )
    };
    let array = put(json!([null, null]));
    assert_eq!(array.status, 422, "{array:?}");
    assert!(
        array.body["detail"]
            .as_str()
            .unwrap()
            .contains("expected a map"),
        "{array:?}"
    );
    let unknown = put(json!({"max_queue": 2}));
    assert_eq!(unknown.status, 422, "{unknown:?}");
    let current = workspace.run(&["tenant", "show", "alice", "--json"]).json();
    // Every 64-bit quota past int64, as the document allows, is refused by name
    // and changes nothing (it is not clamped to the largest the store keeps).
    for field in [
        "max_queued",
        "max_fuel",
        "max_timeout_ms",
        "max_memory_bytes",
        "max_component_bytes",
    ] {
        let past = put(json!({ field: 9_223_372_036_854_775_808u64 }));
        assert_eq!(past.status, 422, "{field}: {past:?}");
        let detail = past.body["detail"].as_str().unwrap();
        assert!(detail.contains("too large"), "{field}: {detail}");
        let after = workspace.run(&["tenant", "show", "alice", "--json"]).json();
        assert_eq!(after["quotas"], current["quotas"], "{field}");
    }
    let put_back = put(current["quotas"].clone());
    assert_eq!(put_back.status, 200, "{put_back:?}");
    assert_eq!(put_back.body["quotas"]["max_queued"], 2);
    let forbidden = server.send(
        server
            .authed(reqwest::Method::PUT, "/api/v1/tenants/alice/quotas", &alice)
            .json(&json!({})),
    );
    assert_eq!(forbidden.status, 403, "only the operator: {forbidden:?}");
    upload(&server, &alice, &example("arith"));
    // A second component version is one too many.
    let refused = server.send(
        server
            .authed(reqwest::Method::POST, "/api/v1/components", &alice)
            .header("content-type", "application/wasm")
            .body(std::fs::read(example("welcome")).unwrap()),
    );
    let named = quota(&refused, 403, "over-ceiling");
    assert_eq!(
        (named["limit"].as_str(), named["value"].as_str()),
        (Some("max_components"), Some("1"))
    );
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("tenant `alice` may keep 1 component versions (max_components) and has 1"),
        "{refused:?}"
    );
    // Uploading the same bytes again is no new version.
    upload(&server, &alice, &example("arith"));

    // Asking for more fuel than the ceiling: refused, nothing stored.
    let greedy = post(
        &server,
        &alice,
        "/api/v1/jobs",
        json!({"task_path": "arith.add", "args": [1, 2], "fuel": 5000}),
    );
    let named = quota(&greedy, 403, "over-ceiling");
    assert_eq!(named["limit"], "max_fuel");
    assert!(
        greedy.body["detail"]
            .as_str()
            .unwrap()
            .contains("at most 1000 fuel (max_fuel); the job asks for 5000 fuel"),
        "{greedy:?}"
    );
    assert_eq!(jobs(&server, &alice), 0);

    // Two READY jobs fit; a third, alone or in a batch, does not.
    for i in 0..2 {
        assert_eq!(post(&server, &alice, "/api/v1/jobs", add(i, i)).status, 201);
    }
    let third = post(&server, &alice, "/api/v1/jobs", add(9, 9));
    let named = quota(&third, 429, "quota-exceeded");
    assert_eq!(
        (named["limit"].as_str(), named["value"].as_str()),
        (Some("max_queued"), Some("2"))
    );
    let batch = post(
        &server,
        &alice,
        "/api/v1/jobs/bulk",
        json!({"jobs": [add(1, 1), add(2, 2)]}),
    );
    quota(&batch, 429, "quota-exceeded");
    assert_eq!(jobs(&server, &alice), 2);

    // The worker gives each attempt no more than the ceiling: `add` declares no
    // fuel, so it gets 1,000 instead of the default and runs out.
    let worker = finish(spawn_worker(&workspace, &["--batch", "--tenant", "alice"]));
    assert_eq!(worker.code, 0, "{}", worker.stderr);
    let listed = get(&server, &alice, "/api/v1/jobs?status=FAILED");
    let failed = listed.body["jobs"].as_array().unwrap();
    assert_eq!(failed.len(), 2, "{listed:?}");
    let id = failed[0]["id"].as_str().unwrap();
    let result = get(&server, &alice, &format!("/api/v1/jobs/{id}"));
    assert_eq!(
        result.body["errors"][0]["exception_class_path"], "wasmtasks.OutOfFuel",
        "{result:?}"
    );
}

#[test]
fn the_enqueue_rate_refuses_with_retry_after() {
    let workspace = Workspace::new();
    tenant(&workspace, "alice");
    let set = workspace.run(&[
        "tenant",
        "set",
        "alice",
        "--enqueue-rate",
        "0.5",
        "--enqueue-burst",
        "2",
    ]);
    assert_eq!(set.code, 0, "{}", set.stderr);
    let alice = token(&workspace, Some("alice"), "admin", &[]);
    let server = Server::start(&workspace, &[]);
    upload(&server, &alice, &example("arith"));
    let too_big = post(
        &server,
        &alice,
        "/api/v1/jobs/bulk",
        json!({"jobs": [add(1, 1), add(2, 2), add(3, 3)]}),
    );
    let named = quota(&too_big, 429, "quota-exceeded");
    assert_eq!(named["limit"], "enqueue_rate");
    assert!(
        too_big.body["detail"]
            .as_str()
            .unwrap()
            .contains("send at most 2 at once"),
        "{too_big:?}"
    );
    for i in 0..2 {
        assert_eq!(post(&server, &alice, "/api/v1/jobs", add(i, i)).status, 201);
    }
    let third = post(&server, &alice, "/api/v1/jobs", add(7, 7));
    let named = quota(&third, 429, "quota-exceeded");
    assert_eq!(named["value"], "0.5/s (burst 2)");
    let retry_after = third
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
        .map(|(_, value)| value.parse::<u64>().unwrap());
    assert_eq!(retry_after, Some(2), "{third:?}");
    assert_eq!(jobs(&server, &alice), 2);
    // Another tenant has its own bucket.
    let default = token(&workspace, Some("default"), "admin", &[]);
    upload(&server, &default, &example("arith"));
    for i in 0..5 {
        assert_eq!(
            post(&server, &default, "/api/v1/jobs", add(i, i)).status,
            201
        );
    }
}

#[test]
fn quotas_that_do_not_fit_together_are_refused_by_name() {
    let workspace = Workspace::new();
    tenant(&workspace, "alice");
    let burst = workspace.run(&["tenant", "set", "alice", "--enqueue-burst", "5"]);
    assert!(
        burst.stderr.contains("enqueue_burst needs an enqueue_rate"),
        "{}",
        burst.stderr
    );
    let weight = workspace.run(&["tenant", "set", "alice", "--weight", "0"]);
    assert!(
        weight.stderr.contains("weight must be 1..=1000, got 0"),
        "{}",
        weight.stderr
    );
    let word = workspace.run(&["tenant", "set", "alice", "--max-running", "lots"]);
    assert!(
        word.stderr
            .contains("--max-running lots: give a value or `none`"),
        "{}",
        word.stderr
    );
    let nothing = workspace.run(&["tenant", "set", "alice"]);
    assert!(
        nothing.stderr.contains("nothing to set"),
        "{}",
        nothing.stderr
    );
    let shown = workspace.run(&["tenant", "show", "alice", "--json"]).json();
    assert_eq!(shown["quotas"]["weight"], 1, "nothing was changed");
}

#[test]
fn new_tenants_get_the_configured_quotas() {
    let workspace = Workspace::new();
    workspace.write(
        "wasmtasks.toml",
        b"[quotas]\nmax_queued = 5\nmax_memory = \"64MiB\"\nweight = 2\n",
    );
    tenant(&workspace, "bob");
    let shown = workspace.run(&["tenant", "show", "bob", "--json"]).json();
    assert_eq!(shown["quotas"]["max_queued"], 5);
    assert_eq!(shown["quotas"]["max_memory_bytes"], 64 << 20);
    assert_eq!(shown["quotas"]["weight"], 2);
    // The tenant that existed before keeps its own.
    let default = workspace
        .run(&["tenant", "show", "default", "--json"])
        .json();
    assert_eq!(default["quotas"]["max_queued"], Value::Null);
    workspace.write("wasmtasks.toml", b"[quotas]\nweight = 0\n");
    let bad = workspace.run(&["tenant", "list"]);
    assert!(
        bad.stderr
            .contains("`quotas`: weight must be 1..=1000, got 0"),
        "{}",
        bad.stderr
    );
}

/// Four worker processes against `max_running = 3`: sampled all along, the
/// tenant never has more than three attempts running (and does reach three).
fn workers_never_pass_max_running(workspace: &Workspace, database_url: &str) {
    use wasmtasks::store::connect;
    use wasmtasks::task::TaskStatus;

    tenant(workspace, "alice");
    let set = workspace.run(&["tenant", "set", "alice", "--max-running", "3"]);
    assert_eq!(set.code, 0, "{}", set.stderr);
    let upload = workspace.run(&[
        "--tenant",
        "alice",
        "upload",
        example("hostile").to_str().unwrap(),
    ]);
    assert_eq!(upload.code, 0, "{}", upload.stderr);
    const JOBS: u64 = 24;
    for _ in 0..JOBS {
        let run = workspace.run(&["--tenant", "alice", "enqueue", "hostile.sleep_ms", "100"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let workers: Vec<_> = (0..4)
        .map(|_| spawn_worker(workspace, &["--concurrency", "4", "--interval", "20ms"]))
        .collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (most, finished) = runtime.block_on(async {
        let store = connect(database_url).await.unwrap();
        let started = std::time::Instant::now();
        let mut most = 0;
        loop {
            let stats = store.queue_stats(Some("alice")).await.unwrap();
            let count = |status| {
                stats
                    .iter()
                    .filter(|stat| stat.status == status)
                    .map(|stat| stat.count)
                    .sum::<u64>()
            };
            most = most.max(count(TaskStatus::Running));
            let finished = count(TaskStatus::Successful);
            if finished == JOBS || started.elapsed() > std::time::Duration::from_secs(120) {
                break (most, finished);
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    });
    for worker in &workers {
        crate::queue_support::signal(worker, "TERM");
    }
    for worker in workers {
        let run = finish(worker);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert_eq!(finished, JOBS, "every job ran");
    assert_eq!(most, 3, "at most max_running at once, and that many");
}

#[test]
fn workers_never_pass_max_running_on_sqlite() {
    let workspace = Workspace::new();
    let url = format!(
        "sqlite://{}",
        workspace.path().join("wasmtasks.sqlite3").display()
    );
    workers_never_pass_max_running(&workspace, &url);
}

#[test]
fn workers_never_pass_max_running_on_postgres() {
    let Some(database) = wasmtasks_tests::postgres::TestDatabase::create() else {
        return;
    };
    let workspace = Workspace::with_database(database.url());
    workers_never_pass_max_running(&workspace, database.url());
}
