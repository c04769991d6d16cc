//! The HTTP API of a real `wasmtasks serve`: the whole user flow (upload →
//! enqueue → worker → result → retry → cancel) on SQLite and PostgreSQL, with
//! embedded and separate workers; problem details for every kind of bad request,
//! with nothing stored; group commit of concurrent single enqueues; the OpenAPI
//! document as checked in.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wasmtasks_tests::postgres::TestDatabase;
use wasmtasks_tests::server::Server;
use wasmtasks_tests::{Workspace, example};

use crate::queue_support::{finish, spawn_worker};
use crate::tenancy_support::*;

/// A workspace with tenant `alice` and an admin token of hers.
fn alice(workspace: &Workspace) -> String {
    tenant(workspace, "alice");
    token(workspace, Some("alice"), "admin", &["--name", "ci"])
}

/// Upload, enqueue, results, a failure and its retry, a cancel, lists and queues.
fn user_flow(server: &Server, token: &str) {
    let report = upload(server, token, &example("arith"));
    assert_eq!(
        (report["name"].as_str(), report["created"].as_bool()),
        (Some("arith"), Some(true)),
        "the component names itself: {report}"
    );
    upload(server, token, &example("welcome"));
    let ready = enqueue(server, token, add(2, 3));
    assert_eq!(ready["status"], "READY");
    let done = server.wait(token, ready["id"].as_str().unwrap());
    assert_eq!(
        (done["status"].as_str(), done["return_value"].clone()),
        (Some("SUCCESSFUL"), json!(5)),
        "{done}"
    );
    assert_eq!(
        done["enqueued_at"], ready["enqueued_at"],
        "the enqueue's answer names the stored enqueue time"
    );
    // A task failing with its own class, then retried: attempts are kept.
    let bad = enqueue(
        server,
        token,
        json!({"task_path": "welcome.welcome", "args": ["no-at-sign", "Bob"], "queue_name": "default"}),
    );
    let id = bad["id"].as_str().unwrap();
    let failed = server.wait(token, id);
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert_eq!(
        failed["errors"][0]["exception_class_path"],
        "welcome.WelcomeError"
    );
    let retried = post(
        server,
        token,
        &format!("/api/v1/jobs/{id}/retry"),
        json!({}),
    );
    assert_eq!(retried.status, 200, "{retried:?}");
    // Back to READY, unless the worker has taken it again already.
    let status = retried.body["status"].as_str().unwrap();
    assert!(
        ["READY", "RUNNING", "FAILED"].contains(&status),
        "{retried:?}"
    );
    let again = server.wait(token, id);
    assert_eq!(
        (again["status"].as_str(), again["attempts"].as_u64()),
        (Some("FAILED"), Some(2)),
        "the retry ran once more, its history kept: {again}"
    );
    // Cancel a job that is not due yet.
    let later = enqueue(
        server,
        token,
        json!({"task_path": "arith.add", "args": [1, 1], "run_after": "2100-01-01T00:00:00Z"}),
    );
    let later_id = later["id"].as_str().unwrap();
    let cancelled = post(
        server,
        token,
        &format!("/api/v1/jobs/{later_id}/cancel"),
        json!({}),
    );
    assert_eq!(cancelled.body["status"], "CANCELLED", "{cancelled:?}");
    let twice = post(
        server,
        token,
        &format!("/api/v1/jobs/{later_id}/cancel"),
        json!({}),
    );
    assert!(twice.problem(409, "conflict").contains("only READY jobs"));
    // Lists and queues.
    let failed_jobs = get(server, token, "/api/v1/jobs?status=FAILED");
    assert_eq!(failed_jobs.status, 200, "{failed_jobs:?}");
    let ids: Vec<&str> = failed_jobs.body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| job["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id]);
    assert_eq!(
        failed_jobs.body["jobs"][0]["last_error"],
        "welcome.WelcomeError"
    );
    let queues = get(server, token, "/api/v1/queues");
    let default = queues
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|queue| queue["queue_name"] == "default")
        .unwrap()
        .clone();
    assert_eq!(default["counts"]["SUCCESSFUL"], 1, "{default}");
    assert_eq!(default["counts"]["FAILED"], 1, "{default}");
    assert_eq!(default["counts"]["CANCELLED"], 1, "{default}");
    // NUL characters, which PostgreSQL cannot store, are refused on every dialect.
    let nul = post(
        server,
        token,
        "/api/v1/jobs",
        json!({"task_path": "arith.add", "args": [1], "kwargs": {"b\u{0}": 2}}),
    );
    assert!(
        nul.problem(422, "invalid-request")
            .contains("NUL character"),
        "{nul:?}"
    );
    let nul = server.send(
        server
            .authed(Method::PUT, "/api/v1/components/arith/config/key", token)
            .json(&json!({"value": "a\u{0}b"})),
    );
    assert!(
        nul.problem(422, "invalid-request")
            .contains("NUL character"),
        "{nul:?}"
    );
    let queues = get(server, token, "/api/v1/queues");
    assert_eq!(queues.body, json!([default]), "nothing more was stored");
}

#[test]
fn the_user_flow_over_http_on_sqlite_with_an_embedded_worker() {
    let workspace = Workspace::new();
    let token = alice(&workspace);
    let server = Server::start(&workspace, &["--workers", "1", "--interval", "100ms"]);
    user_flow(&server, &token);
}

#[test]
fn the_user_flow_over_http_on_postgres_with_a_separate_worker() {
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let workspace = Workspace::with_database(database.url());
    let token = alice(&workspace);
    let server = Server::start(&workspace, &[]);
    let worker = spawn_worker(&workspace, &["--interval", "100ms"]);
    user_flow(&server, &token);
    crate::queue_support::signal(&worker, "TERM");
    assert_eq!(finish(worker).code, 0);
}

#[test]
fn the_user_flow_over_http_on_postgres_with_an_embedded_worker() {
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let workspace = Workspace::with_database(database.url());
    let token = alice(&workspace);
    let server = Server::start(&workspace, &["--workers", "1", "--interval", "100ms"]);
    user_flow(&server, &token);
}

#[test]
fn bad_requests_are_problem_details_and_store_nothing() {
    let workspace = Workspace::new();
    let token = alice(&workspace);
    let server = Server::start(&workspace, &["--max-body-size", "64KiB"]);
    upload(&server, &token, &example("arith"));
    let jobs = || {
        get(&server, &token, "/api/v1/jobs").body["jobs"]
            .as_array()
            .unwrap()
            .len()
    };
    let raw = |body: &'static [u8], content_type: &str| {
        server.send(
            server
                .authed(Method::POST, "/api/v1/jobs", &token)
                .header("content-type", content_type)
                .body(body),
        )
    };
    let detail = raw(b"{\"task_path\": ", "application/json").problem(400, "malformed-request");
    assert!(detail.contains("EOF"), "{detail}");
    raw(b"\xff\xfe{}", "application/json").problem(400, "malformed-request");
    let detail = raw(b"task_path=arith.add", "application/x-www-form-urlencoded")
        .problem(415, "unsupported-media-type");
    assert!(detail.contains("application/json"), "{detail}");
    let detail = post(
        &server,
        &token,
        "/api/v1/jobs",
        json!({"task_path": "arith.add", "colour": 1}),
    )
    .problem(422, "invalid-request");
    assert!(detail.contains("unknown field `colour`"), "{detail}");
    let detail = post(
        &server,
        &token,
        "/api/v1/jobs",
        json!({"task_path": "arith.add", "args": [1]}),
    )
    .problem(422, "invalid-request");
    assert_eq!(detail, "add() missing 1 required argument: 'b'");
    let detail = post(
        &server,
        &token,
        "/api/v1/jobs",
        json!({"task_path": "arith.add", "args": ["1", 2]}),
    )
    .problem(422, "invalid-request");
    assert!(
        detail.starts_with("argument 'a' of add(): \"1\" is not of type \"integer\""),
        "{detail}"
    );
    let huge = json!({"task_path": "arith.add", "args": ["x".repeat(100_000), 1]});
    post(&server, &token, "/api/v1/jobs", huge).problem(413, "too-large");
    let detail =
        get(&server, &token, "/api/v1/jobs/nope?wait=forever").problem(422, "invalid-request");
    assert!(detail.contains("forever"), "{detail}");
    get(&server, &token, "/api/v1/jobs?status=DONE").problem(422, "invalid-request");
    get(&server, &token, "/api/v1/nothing-here").problem(404, "not-found");
    server
        .send(server.authed(Method::PATCH, "/api/v1/jobs", &token))
        .problem(405, "method-not-allowed");
    // A bulk enqueue lists every bad item and stores nothing.
    let bulk = post(
        &server,
        &token,
        "/api/v1/jobs/bulk",
        json!({"jobs": [add(1, 2), {"task_path": "arith.add", "args": [1]}, add(3, 4), {"task_path": "arith.nope"}]}),
    );
    bulk.problem(422, "invalid-request");
    let errors: Vec<(u64, String)> = bulk.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["index"].as_u64().unwrap(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, 1);
    assert_eq!(errors[1].0, 3);
    assert!(errors[1].1.contains("has no task `nope`"), "{errors:?}");
    assert_eq!(jobs(), 0, "nothing was stored");
    // Validating answers as the bulk enqueue would, and stores nothing either way.
    let checked = post(
        &server,
        &token,
        "/api/v1/jobs/validate",
        json!({"jobs": [add(1, 2), {"task_path": "arith.add", "args": [1]}]}),
    );
    checked.problem(422, "invalid-request");
    assert_eq!(checked.body["errors"][0]["index"], 1, "{}", checked.body);
    let fine = post(
        &server,
        &token,
        "/api/v1/jobs/validate",
        json!({"jobs": [add(1, 2)]}),
    );
    assert_eq!(fine.status, StatusCode::NO_CONTENT, "{}", fine.body);
    // Numbers past what the document allows (int64) are refused, not wrapped.
    let past = json!({"task_path": "arith.add", "args": [1, 2], "memory_bytes": 9_223_372_036_854_775_808u64});
    let detail = post(&server, &token, "/api/v1/jobs", past).problem(422, "invalid-request");
    assert!(detail.contains("too large"), "{detail}");
    assert_eq!(jobs(), 0, "nothing was stored");
    // Uploads: not a component, the wrong media type.
    let reply = server.send(
        server
            .authed(Method::POST, "/api/v1/components", &token)
            .header("content-type", "application/wasm")
            .body(&b"not wasm"[..]),
    );
    assert!(
        reply
            .problem(422, "invalid-request")
            .contains("not a WebAssembly file")
    );
    server
        .send(
            server
                .authed(Method::POST, "/api/v1/components", &token)
                .header("content-type", "text/plain")
                .body(&b"x"[..]),
        )
        .problem(415, "unsupported-media-type");
    // Authentication and roles.
    server
        .send(server.request(Method::GET, "/api/v1/jobs"))
        .problem(401, "unauthorized");
    server
        .send(server.authed(Method::GET, "/api/v1/jobs", "wt_0000_nope"))
        .problem(401, "unauthorized");
    let reader = token_for(&workspace, "alice", "reader");
    let detail = post(&server, &reader, "/api/v1/jobs", add(1, 2)).problem(403, "forbidden");
    assert!(detail.contains("member"), "{detail}");
    assert_eq!(jobs(), 0);
}

fn token_for(workspace: &Workspace, tenant: &str, role: &str) -> String {
    token(workspace, Some(tenant), role, &[])
}

#[test]
fn uploads_past_the_configured_size_are_refused_with_413() {
    let workspace = Workspace::new();
    workspace.write(
        "wasmtasks.toml",
        b"[limits]\nmax_component_size = \"64KiB\"\n",
    );
    let token = alice(&workspace);
    let server = Server::start(&workspace, &[]);
    let reply = server.send(
        server
            .authed(Method::POST, "/api/v1/components", &token)
            .header("content-type", "application/wasm")
            .body(std::fs::read(example("arith")).unwrap()),
    );
    let detail = reply.problem(413, "too-large");
    assert!(detail.contains("max_component_size"), "{detail}");
}

#[test]
fn uploads_take_a_multipart_form_too() {
    let workspace = Workspace::new();
    let token = alice(&workspace);
    let server = Server::start(&workspace, &[]);
    let form = reqwest::blocking::multipart::Form::new()
        .part(
            "component",
            reqwest::blocking::multipart::Part::bytes(std::fs::read(example("arith")).unwrap())
                .file_name("arith.wasm"),
        )
        .text("name", "calc");
    let reply = server.send(
        server
            .authed(Method::POST, "/api/v1/components", &token)
            .multipart(form),
    );
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(reply.body["name"], "calc");
    assert_eq!(reply.body["declared_name"], "arith");
}

/// Uploads the example `example` as component `name` over HTTP.
fn upload_as(server: &Server, token: &str, example_name: &str, name: &str) {
    let form = reqwest::blocking::multipart::Form::new()
        .part(
            "component",
            reqwest::blocking::multipart::Part::bytes(
                std::fs::read(example(example_name)).unwrap(),
            )
            .file_name("component.wasm"),
        )
        .text("name", name.to_owned());
    let reply = server.send(
        server
            .authed(Method::POST, "/api/v1/components", token)
            .multipart(form),
    );
    assert_eq!(reply.status, 201, "{reply:?}");
}

#[test]
fn enqueues_resolve_the_newest_version_at_once_after_changes_through_the_server() {
    let workspace = Workspace::new();
    let token = alice(&workspace);
    let server = Server::start(&workspace, &[]);
    upload_as(&server, &token, "arith", "calc");
    let add = json!({"task_path": "calc.add", "args": [1, 2]});
    let welcome =
        json!({"task_path": "calc.welcome", "args": ["a@b.c", "Ann"], "queue_name": "default"});
    assert_eq!(
        post(&server, &token, "/api/v1/jobs", add.clone()).status,
        201
    );
    // A new version uploaded through the server is what the next enqueue pins.
    upload_as(&server, &token, "welcome", "calc");
    assert_eq!(
        post(&server, &token, "/api/v1/jobs", welcome.clone()).status,
        201
    );
    let detail = post(&server, &token, "/api/v1/jobs", add.clone()).problem(422, "invalid-request");
    assert!(detail.contains("has no task `add`"), "{detail}");
    // One uploaded by another process is seen within a second.
    let run = workspace.run(&[
        "--tenant",
        "alice",
        "upload",
        example("arith").to_str().unwrap(),
        "--name",
        "calc",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while post(&server, &token, "/api/v1/jobs", add.clone()).status != 201 {
        assert!(
            std::time::Instant::now() < deadline,
            "the CLI's upload was never seen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Deleting through the server applies at once too (once no job waits).
    for job in get(&server, &token, "/api/v1/jobs?status=READY").body["jobs"]
        .as_array()
        .unwrap()
    {
        let id = job["id"].as_str().unwrap();
        assert_eq!(
            post(
                &server,
                &token,
                &format!("/api/v1/jobs/{id}/cancel"),
                json!({})
            )
            .status,
            200
        );
    }
    let deleted = server.send(server.authed(Method::DELETE, "/api/v1/components/calc", &token));
    assert_eq!(deleted.status, 200, "{deleted:?}");
    let detail = post(&server, &token, "/api/v1/jobs", add).problem(422, "invalid-request");
    assert!(detail.contains("no component `calc`"), "{detail}");
}

#[test]
fn concurrent_single_enqueues_are_each_answered_and_all_stored() {
    let workspace = Workspace::new();
    let token = alice(&workspace);
    let server = Server::start(&workspace, &[]);
    upload(&server, &token, &example("arith"));
    let ids: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|thread| {
                let (server, token) = (&server, &token);
                scope.spawn(move || {
                    (0..25)
                        .map(|i| {
                            let result = enqueue(server, token, add(thread, i));
                            result["id"].as_str().unwrap().to_owned()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 400);
    let page = get(&server, &token, "/api/v1/jobs?limit=1000");
    assert_eq!(page.body["jobs"].as_array().unwrap().len(), 400);
}

#[test]
fn unique_enqueues_answer_with_the_existing_job_even_sixteen_at_once() {
    let workspace = Workspace::new();
    let token = alice(&workspace);
    let server = Server::start(&workspace, &[]);
    upload(&server, &token, &example("arith"));
    let spec =
        |key: &str| json!({"task_path": "arith.add", "args": [1, 2], "unique": {"key": key}});
    let replies: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (server, token, spec) = (&server, &token, spec("order-7"));
                scope.spawn(move || post(server, token, "/api/v1/jobs", spec))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created: Vec<_> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .collect();
    assert_eq!(created.len(), 1, "{replies:?}");
    let id = created[0].body["id"].clone();
    for reply in replies.iter().filter(|r| r.status != StatusCode::CREATED) {
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert_eq!(reply.body["id"], id);
    }
    let duplicate = post(&server, &token, "/api/v1/jobs", spec("order-7"));
    assert_eq!(duplicate.status, StatusCode::OK);
    assert_eq!(
        duplicate.header("x-wasmtasks-duplicate").as_deref(),
        Some("true")
    );
    assert_eq!(
        post(&server, &token, "/api/v1/jobs", spec("order-8")).status,
        StatusCode::CREATED
    );
    let bulk = post(
        &server,
        &token,
        "/api/v1/jobs/bulk",
        json!({"jobs": [spec("order-7"), add(5, 6), spec("order-9"), spec("order-9")]}),
    );
    assert_eq!(bulk.status, StatusCode::CREATED, "{bulk:?}");
    assert_eq!(bulk.body["ids"][0], id);
    assert_eq!(bulk.body["duplicates"], json!([0, 3]));
    assert_eq!(bulk.body["ids"][3], bulk.body["ids"][2]);
    let bad = post(
        &server,
        &token,
        "/api/v1/jobs",
        json!({"task_path": "arith.add", "args": [1, 2], "unique": {"states": ["READY"]}}),
    );
    assert!(
        bad.problem(422, "invalid-request")
            .contains("READY and RUNNING")
    );
    let page = get(&server, &token, "/api/v1/jobs?limit=1000");
    assert_eq!(
        page.body["jobs"].as_array().unwrap().len(),
        4,
        "order-7, order-8, add, order-9"
    );
}

#[test]
fn the_served_openapi_document_is_the_checked_in_one_and_health_checks_answer() {
    let workspace = Workspace::new();
    let server = Server::start(&workspace, &[]);
    let served = server.send(server.request(Method::GET, "/api/v1/openapi.json"));
    let checked_in: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../host/server/openapi.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert!(
        served.body == checked_in,
        "the served document is not host/server/openapi.json (regenerate it: see host/server/tests/openapi.rs)"
    );
    let health = server.send(server.request(Method::GET, "/healthz"));
    assert_eq!((health.status.as_u16(), health.text.as_str()), (200, "ok"));
    let ready = server.send(server.request(Method::GET, "/readyz"));
    assert_eq!(ready.status, 200);
    assert!(
        !health.text.is_empty() && served.status == 200,
        "every answer carries a request id too"
    );
}

#[test]
fn long_polls_answer_when_the_job_finishes() {
    let workspace = Workspace::new();
    let token = alice(&workspace);
    let server = Server::start(&workspace, &["--workers", "1"]);
    upload(&server, &token, &example("hostile"));
    let job = enqueue(
        &server,
        &token,
        json!({"task_path": "hostile.sleep_ms", "args": [300]}),
    );
    let id = job["id"].as_str().unwrap();
    let started = std::time::Instant::now();
    let waited = get(&server, &token, &format!("/api/v1/jobs/{id}?wait=20s"));
    assert_eq!(waited.body["status"], "SUCCESSFUL", "{waited:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // A wait that ends first answers with the job as it is.
    let later = enqueue(
        &server,
        &token,
        json!({"task_path": "hostile.sleep_ms", "args": [1], "run_after": "2100-01-01T00:00:00Z"}),
    );
    let waited = get(
        &server,
        &token,
        &format!("/api/v1/jobs/{}?wait=200ms", later["id"].as_str().unwrap()),
    );
    assert_eq!(waited.body["status"], "READY");
}

#[test]
fn the_event_stream_follows_jobs_from_a_cursor() {
    let workspace = Workspace::new();
    let token = alice(&workspace);
    let server = Server::start(&workspace, &["--workers", "1", "--interval", "100ms"]);
    upload(&server, &token, &example("arith"));
    let start = get(&server, &token, "/api/v1/events");
    assert_eq!(start.status, 200, "{start:?}");
    assert_eq!(start.body["events"], json!([]));
    let mut cursor = start.body["cursor"].as_str().unwrap().to_owned();
    let job = enqueue(&server, &token, add(1, 2));
    let id = job["id"].as_str().unwrap();
    let mut seen: Vec<(String, u64)> = Vec::new();
    let started = std::time::Instant::now();
    while !seen.iter().any(|(status, _)| status == "SUCCESSFUL") {
        assert!(started.elapsed() < Duration::from_secs(30), "{seen:?}");
        let page = get(
            &server,
            &token,
            &format!("/api/v1/events?after={cursor}&wait=5s"),
        );
        assert_eq!(page.status, 200, "{page:?}");
        for event in page.body["events"].as_array().unwrap() {
            assert_eq!(event["task_id"], id);
            assert_eq!(event["task_path"], "arith.add");
            seen.push((
                event["status"].as_str().unwrap().to_owned(),
                event["attempt"].as_u64().unwrap(),
            ));
        }
        cursor = page.body["cursor"].as_str().unwrap().to_owned();
    }
    assert_eq!(
        seen,
        [("RUNNING".to_owned(), 1), ("SUCCESSFUL".to_owned(), 1)]
    );
    // Nothing new: a short wait answers with the same cursor.
    let quiet = get(
        &server,
        &token,
        &format!("/api/v1/events?after={cursor}&wait=200ms"),
    );
    assert_eq!(
        (quiet.body["events"].clone(), quiet.body["cursor"].as_str()),
        (json!([]), Some(cursor.as_str()))
    );
    get(&server, &token, "/api/v1/events?after=bogus").problem(422, "invalid-request");
    // Another tenant's stream is its own.
    tenant(&workspace, "bob");
    let bob = token_for(&workspace, "bob", "reader");
    let theirs = get(
        &server,
        &bob,
        &format!(
            "/api/v1/events?after={}",
            start.body["cursor"].as_str().unwrap()
        ),
    );
    assert_eq!(theirs.body["events"], json!([]));
}

/// A job whose arguments hold integers no 64-bit type holds, echoed back by a
/// guest: the enqueue's answer, the result over HTTP and `wasmtasks result`
/// through the server all carry every digit; a float past a double's range is
/// refused by name, and nothing is stored for it.
fn numbers_keep_every_digit(workspace: &Workspace) {
    let token = alice(workspace);
    let server = Server::start(workspace, &["--workers", "1", "--interval", "100ms"]);
    upload(&server, &token, &example("hostile"));
    let value = r#"{"id":123456789012345678901234567890,"below":-18446744073709551617,"float":1e2,"zero":-0}"#;
    let spec: Value = serde_json::from_str(&format!(
        r#"{{"task_path":"hostile.echo","args":[{value}]}}"#
    ))
    .unwrap();
    let stored = r#"{"id":123456789012345678901234567890,"below":-18446744073709551617,"float":100.0,"zero":0}"#;
    let stored: Value = serde_json::from_str(stored).unwrap();
    let job = enqueue(&server, &token, spec);
    assert_eq!(job["args"], json!([stored]), "{job}");
    let id = job["id"].as_str().unwrap();
    let done = get(&server, &token, &format!("/api/v1/jobs/{id}?wait=30s"));
    assert_eq!(done.body["status"], "SUCCESSFUL", "{done:?}");
    assert_eq!(done.body["return_value"], stored);
    assert!(
        done.text.contains("123456789012345678901234567890"),
        "{}",
        done.text
    );
    let printed = workspace
        .command()
        .env("WASMTASKS_SERVER", &server.url)
        .env("WASMTASKS_TOKEN", &token)
        .args(["result", id])
        .output()
        .unwrap();
    let printed = String::from_utf8(printed.stdout).unwrap();
    assert!(
        printed.contains("123456789012345678901234567890"),
        "{printed}"
    );
    assert!(printed.contains("-18446744073709551617"), "{printed}");
    let huge: Value =
        serde_json::from_str(r#"{"task_path":"hostile.echo","args":[1e400]}"#).unwrap();
    let refused = post(&server, &token, "/api/v1/jobs", huge);
    assert!(
        refused
            .problem(422, "invalid-request")
            .contains("the number 1e+400 is out of range"),
        "{refused:?}"
    );
    let listed = get(&server, &token, "/api/v1/jobs");
    assert_eq!(
        listed.body["jobs"].as_array().unwrap().len(),
        1,
        "nothing stored for it"
    );
}

#[test]
fn numbers_keep_every_digit_on_sqlite() {
    numbers_keep_every_digit(&Workspace::new());
}

#[test]
fn numbers_keep_every_digit_on_postgres() {
    let Some(database) = TestDatabase::create() else {
        return;
    };
    numbers_keep_every_digit(&Workspace::with_database(database.url()));
}
