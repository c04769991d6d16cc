//! Tenants behind a boundary: with tenant B's tokens, every endpoint and every
//! remote CLI command on tenant A's component names, job ids, configuration keys,
//! grants and tokens answers as for unknown ones (404), or 403 for a role, and
//! A's data is afterwards exactly as it was. A revoked or an expired token gets
//! 401 everywhere. A secret never appears in any answer.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use wasmtasks_tests::server::{Reply, Server};
use wasmtasks_tests::{Workspace, example};

use crate::tenancy_support::*;

const SECRET: &str = "s3cr3t-alice-value";

/// Alice's world: components, configuration (a secret too), a grant, jobs in
/// several states. Returns (server, alice's token, a finished job id, a READY job id).
struct World {
    workspace: Workspace,
    server: Server,
    alice: String,
    done: String,
    ready: String,
}

fn world() -> World {
    let workspace = Workspace::new();
    for name in ["alice", "bob"] {
        tenant(&workspace, name);
    }
    let run = workspace.run(&[
        "tenant",
        "set",
        "alice",
        "--http-ceiling",
        "https://*.example.com",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let alice = token(&workspace, Some("alice"), "admin", &[]);
    let server = Server::start(&workspace, &["--workers", "1", "--interval", "100ms"]);
    upload(&server, &alice, &example("arith"));
    upload(&server, &alice, &example("notify"));
    let put = |key: &str, value: &str, secret: bool| {
        let reply = server.send(
            server
                .authed(
                    Method::PUT,
                    &format!("/api/v1/components/notify/config/{key}"),
                    &alice,
                )
                .json(&json!({"value": value, "secret": secret})),
        );
        assert_eq!(reply.status, 204, "{reply:?}");
    };
    put("ntfy_url", "https://ntfy.example.com/alice", false);
    put("token", SECRET, true);
    let granted = post(
        &server,
        &alice,
        "/api/v1/components/notify/grants",
        json!({"origins": ["https://ntfy.example.com"]}),
    );
    assert_eq!(granted.status, 200, "{granted:?}");
    let done = enqueue(&server, &alice, add(20, 22))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    server.wait(&alice, &done);
    let schedule = server.send(
        server
            .authed(Method::PUT, "/api/v1/schedules/nightly", &alice)
            .json(&json!({"cron": "0 3 * * *", "task_path": "arith.add", "args": [1, 2]})),
    );
    assert_eq!(schedule.status, 200, "{schedule:?}");
    let ready = enqueue(
        &server,
        &alice,
        json!({"task_path": "arith.add", "args": [1, 2], "run_after": "2100-01-01T00:00:00Z"}),
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    World {
        workspace,
        server,
        alice,
        done,
        ready,
    }
}

/// Everything alice can read of her own data.
fn snapshot(world: &World) -> Value {
    let read = |path: &str| {
        let reply = get(&world.server, &world.alice, path);
        assert_eq!(reply.status, 200, "{path}: {reply:?}");
        reply.body
    };
    json!({
        "components": read("/api/v1/components"),
        "notify": read("/api/v1/components/notify"),
        "config": read("/api/v1/components/notify/config"),
        "grants": read("/api/v1/components/notify/grants"),
        "jobs": read("/api/v1/jobs"),
        "done": read(&format!("/api/v1/jobs/{}", world.done)),
        "ready": read(&format!("/api/v1/jobs/{}", world.ready)),
        "queues": read("/api/v1/queues"),
        "tokens": read("/api/v1/tokens"),
        "schedules": read("/api/v1/schedules"),
    })
}

/// Every request a tenant could make that names alice's things.
fn requests(world: &World) -> Vec<(Method, String, Option<Value>)> {
    let (done, ready) = (&world.done, &world.ready);
    let alice_token = token_id(&world.alice).to_owned();
    vec![
        (Method::GET, format!("/api/v1/jobs/{done}"), None),
        (Method::GET, format!("/api/v1/jobs/{done}?wait=100ms"), None),
        (
            Method::POST,
            format!("/api/v1/jobs/{ready}/cancel"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/jobs/{done}/retry"),
            Some(json!({})),
        ),
        (Method::GET, "/api/v1/components/notify".into(), None),
        (Method::GET, "/api/v1/components/arith".into(), None),
        (Method::DELETE, "/api/v1/components/arith".into(), None),
        (
            Method::DELETE,
            "/api/v1/components/notify/config/token".into(),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/tokens/{alice_token}"),
            None,
        ),
        (
            Method::POST,
            "/api/v1/jobs".into(),
            Some(json!({"task_path": "arith.add", "args": [1, 2]})),
        ),
        (
            Method::POST,
            "/api/v1/tokens".into(),
            Some(json!({"tenant": "alice", "role": "admin"})),
        ),
        (Method::GET, "/api/v1/tenants/alice".into(), None),
        (Method::DELETE, "/api/v1/tenants/alice".into(), None),
        (Method::GET, "/api/v1/schedules/nightly".into(), None),
        (Method::DELETE, "/api/v1/schedules/nightly".into(), None),
        (
            Method::POST,
            "/api/v1/schedules/nightly/pause".into(),
            Some(json!({})),
        ),
        (
            Method::PUT,
            "/api/v1/schedules/nightly".into(),
            Some(json!({"cron": "* * * * *", "task_path": "arith.add", "args": [1, 2]})),
        ),
    ]
}

fn send(world: &World, token: &str, method: &Method, path: &str, body: &Option<Value>) -> Reply {
    let mut request = world.server.authed(method.clone(), path, token);
    if let Some(body) = body {
        request = request.json(body);
    }
    world.server.send(request)
}

#[test]
fn another_tenants_ids_and_names_are_unknown_everywhere_and_left_untouched() {
    let world = world();
    let before = snapshot(&world);
    let bob_admin = token(&world.workspace, Some("bob"), "admin", &[]);
    let bob_reader = token(&world.workspace, Some("bob"), "reader", &[]);
    let mut answers = Vec::new();
    for (method, path, body) in requests(&world) {
        for (role, token) in [("admin", &bob_admin), ("reader", &bob_reader)] {
            let reply = send(&world, token, &method, &path, &body);
            let expected: &[u16] = match (role, path.as_str()) {
                // Enqueueing names a component bob does not have: refused as unknown.
                (_, "/api/v1/jobs") if role == "admin" => &[422],
                // Setting a schedule names a task bob does not have: refused.
                (_, "/api/v1/schedules/nightly") if method == Method::PUT && role == "admin" => {
                    &[422]
                }
                // The tenant routes are the operator's.
                (_, p) if p.starts_with("/api/v1/tenants") => &[403],
                // A reader may not write at all.
                ("reader", _) if method != Method::GET => &[403],
                _ => &[404],
            };
            assert!(
                expected.contains(&reply.status.as_u16()),
                "bob's {role} token on {method} {path}: {reply:?}"
            );
            assert_eq!(reply.content_type, "application/problem+json", "{reply:?}");
            if reply.status == 422 {
                assert!(
                    reply.body["detail"]
                        .as_str()
                        .unwrap()
                        .contains("no component `arith` has been uploaded")
                );
            }
            answers.push(reply.text);
        }
    }
    // Lists bob reads hold nothing of alice's.
    for path in [
        "/api/v1/jobs",
        "/api/v1/components",
        "/api/v1/tokens",
        "/api/v1/queues",
        "/api/v1/schedules",
        "/api/v1/events",
    ] {
        let reply = get(&world.server, &bob_admin, path);
        assert_eq!(reply.status, 200, "{path}: {reply:?}");
        for alice_thing in [
            world.done.as_str(),
            world.ready.as_str(),
            "notify",
            "nightly",
            token_id(&world.alice),
        ] {
            assert!(
                !reply.text.contains(alice_thing),
                "{path} shows {alice_thing}: {}",
                reply.text
            );
        }
        answers.push(reply.text);
    }
    // Bob's own `notify` values and grants are his: alice's stay hers.
    let reply = world.server.send(
        world
            .server
            .authed(
                Method::PUT,
                "/api/v1/components/notify/config/token",
                &bob_admin,
            )
            .json(&json!({"value": "bob's", "secret": true})),
    );
    assert_eq!(reply.status, 204, "{reply:?}");
    let reply = get(
        &world.server,
        &bob_admin,
        "/api/v1/components/notify/config",
    );
    assert!(!reply.text.contains("ntfy.example.com"), "{}", reply.text);
    let denied = post(
        &world.server,
        &bob_admin,
        "/api/v1/components/notify/grants",
        json!({"origins": ["https://ntfy.example.com"]}),
    );
    assert!(
        denied
            .problem(403, "forbidden")
            .contains("outside the origins")
    );
    answers.push(denied.text);
    assert_eq!(
        snapshot(&world),
        before,
        "alice's data is exactly as it was"
    );
    for answer in answers
        .iter()
        .chain(std::iter::once(&snapshot(&world).to_string()))
    {
        assert!(!answer.contains(SECRET), "a secret leaked: {answer}");
    }
}

#[test]
fn revoked_and_expired_tokens_are_refused_everywhere() {
    let world = world();
    let revoked = token(&world.workspace, Some("alice"), "admin", &[]);
    let expiring = token(
        &world.workspace,
        Some("alice"),
        "admin",
        &["--expires", "1s"],
    );
    let reply = world.server.send(world.server.authed(
        Method::DELETE,
        &format!("/api/v1/tokens/{}", token_id(&revoked)),
        &world.alice,
    ));
    assert_eq!(reply.status, 200, "{reply:?}");
    std::thread::sleep(Duration::from_millis(1100));
    for token in [&revoked, &expiring] {
        let mut paths = requests(&world);
        paths.push((Method::GET, "/api/v1/jobs".into(), None));
        paths.push((Method::GET, "/api/v1/whoami".into(), None));
        for (method, path, body) in paths {
            let reply = send(&world, token, &method, &path, &body);
            let detail = reply.problem(401, "unauthorized");
            assert!(
                detail.contains("revoked") || detail.contains("expired"),
                "{method} {path}: {detail}"
            );
        }
    }
}

#[test]
fn the_remote_cli_of_another_tenant_gets_not_found_and_changes_nothing() {
    let world = world();
    let before = snapshot(&world);
    let bob = token(&world.workspace, Some("bob"), "admin", &[]);
    let remote = |args: &[&str]| {
        world
            .workspace
            .command()
            .env("WASMTASKS_SERVER", &world.server.url)
            .env("WASMTASKS_TOKEN", &bob)
            .args(args)
            .output()
            .map(wasmtasks_tests::Run::from)
            .unwrap()
    };
    let (done, ready) = (world.done.as_str(), world.ready.as_str());
    for args in [
        vec!["result", done],
        vec!["result", done, "--wait", "1s"],
        vec!["cancel", ready],
        vec!["retry", done],
        vec!["components", "show", "notify"],
        vec!["components", "delete", "arith"],
        vec!["config", "unset", "notify", "token"],
        vec!["enqueue", "arith.add", "1", "2"],
        vec!["token", "revoke", token_id(&world.alice)],
    ] {
        let run = remote(&args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("no task result with id")
                || run.stderr.contains("no component")
                || run.stderr.contains("has no value")
                || run.stderr.contains("no token"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stdout.contains(SECRET) && !run.stderr.contains(SECRET));
    }
    for args in [
        vec!["jobs"],
        vec!["components"],
        vec!["queues", "--json"],
        vec!["config", "list", "notify"],
    ] {
        let run = remote(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(
            !run.stdout.contains(done) && !run.stdout.contains("ntfy.example.com"),
            "{args:?}: {}",
            run.stdout
        );
    }
    let run = remote(&["tenant", "list"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("only the operator"), "{}", run.stderr);
    assert_eq!(snapshot(&world), before);
}
