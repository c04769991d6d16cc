//! Helpers for the tenant and API tests: tenants and tokens made with the CLI on
//! the database (the operator's way), and a server to talk to.

use serde_json::{Value, json};
use wasmtasks_tests::Workspace;
use wasmtasks_tests::server::{Reply, Server};

/// Creates tenant `name` with the CLI on the database.
pub fn tenant(workspace: &Workspace, name: &str) {
    let run = workspace.run(&["tenant", "create", name]);
    assert_eq!(run.code, 0, "tenant create {name}: {}", run.stderr);
}

/// A new token of `tenant` with `role` (`--operator` tokens with `tenant` = None).
pub fn token(workspace: &Workspace, tenant: Option<&str>, role: &str, extra: &[&str]) -> String {
    let mut args = vec!["token", "create"];
    match tenant {
        Some(tenant) => args.extend([tenant, "--role", role]),
        None => args.push("--operator"),
    }
    args.extend(extra);
    let run = workspace.run(&args);
    assert_eq!(run.code, 0, "token create: {}", run.stderr);
    let token = run.stdout.trim().to_owned();
    assert!(
        token.starts_with("wt_") && !token.contains('\n'),
        "token create prints the token alone: {token:?}"
    );
    token
}

/// The public id of a token (`wt_<id>_<secret>`).
pub fn token_id(token: &str) -> &str {
    token
        .strip_prefix("wt_")
        .and_then(|rest| rest.split_once('_'))
        .map(|(id, _)| id)
        .expect("a wasmtasks token")
}

/// Uploads `path` as tenant of `token` over HTTP; the report.
pub fn upload(server: &Server, token: &str, path: &std::path::Path) -> Value {
    let reply = server.send(
        server
            .authed(reqwest::Method::POST, "/api/v1/components", token)
            .header("content-type", "application/wasm")
            .body(std::fs::read(path).unwrap()),
    );
    assert_eq!(reply.status, 201, "{reply:?}");
    reply.body
}

/// Enqueues `spec` as tenant of `token` over HTTP; the READY TaskResult.
pub fn enqueue(server: &Server, token: &str, spec: Value) -> Value {
    let reply = post(server, token, "/api/v1/jobs", spec);
    assert_eq!(reply.status, 201, "{reply:?}");
    reply.body
}

/// `POST path` with a JSON body.
pub fn post(server: &Server, token: &str, path: &str, body: Value) -> Reply {
    server.send(
        server
            .authed(reqwest::Method::POST, path, token)
            .json(&body),
    )
}

/// `GET path`.
pub fn get(server: &Server, token: &str, path: &str) -> Reply {
    server.send(server.authed(reqwest::Method::GET, path, token))
}

/// `arith.add(a, b)`.
pub fn add(a: i64, b: i64) -> Value {
    json!({"task_path": "arith.add", "args": [a, b]})
}
