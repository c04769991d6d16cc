//! Tenants and tokens from the command line, the CLI as a client of a server
//! (same output as on the database), `login`, and the tenant holes closed: file
//! configuration and grants belong to one tenant, and a worker may serve some
//! tenants only.

use std::os::unix::fs::PermissionsExt;

use serde_json::json;
use wasmtasks_tests::server::Server;
use wasmtasks_tests::{Run, Workspace, example};

use crate::queue_support::{enqueue, finish, queue_with, spawn_worker};
use crate::tenancy_support::{tenant, token, token_id};

/// Runs `wasmtasks ARGS` against `server` with `token`.
fn remote(workspace: &Workspace, server: &Server, token: &str, args: &[&str]) -> Run {
    workspace
        .command()
        .env("WASMTASKS_SERVER", &server.url)
        .env("WASMTASKS_TOKEN", token)
        .args(args)
        .output()
        .unwrap()
        .into()
}

#[test]
fn tenants_and_tokens_are_data() {
    let workspace = Workspace::new();
    tenant(&workspace, "alice");
    let duplicate = workspace.run(&["tenant", "create", "alice"]);
    assert!(
        duplicate
            .refusal()
            .contains("tenant `alice` exists already")
    );
    let invalid = workspace.run(&["tenant", "create", "no spaces"]);
    assert!(invalid.refusal().contains("invalid tenant name"));
    let list = workspace.run(&["tenant", "list", "--json"]).json();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "default"]);

    let create = workspace.run(&[
        "token",
        "create",
        "alice",
        "--role",
        "reader",
        "--name",
        "dashboard",
        "--expires",
        "90d",
    ]);
    assert_eq!(create.code, 0, "{}", create.stderr);
    let token = create.stdout.trim();
    assert!(
        token.starts_with("wt_"),
        "only the token on stdout: {token:?}"
    );
    assert_eq!(token.len(), 3 + 12 + 1 + 64, "a 256-bit secret: {token}");
    assert!(create.stderr.contains("shown once"), "{}", create.stderr);
    let show = workspace.run(&["tenant", "show", "alice", "--json"]).json();
    let tokens = show["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["id"], token_id(token));
    assert_eq!(tokens[0]["name"], "dashboard");
    assert_eq!(tokens[0]["role"], "reader");
    assert!(tokens[0]["expires_at"].is_string());
    assert!(
        !show.to_string().contains(&token[16..]),
        "the secret is never shown again"
    );
    let stored = std::fs::read(workspace.path().join("wasmtasks.sqlite3")).unwrap();
    assert!(
        !String::from_utf8_lossy(&stored).contains(&token[16..]),
        "only a hash of the secret is stored"
    );
    let revoke = workspace.run(&["token", "revoke", token_id(token)]);
    assert_eq!(revoke.code, 0, "{}", revoke.stderr);
    assert!(
        workspace.run(&["tenant", "show", "alice", "--json"]).json()["tokens"][0]["revoked_at"]
            .is_string()
    );

    assert!(
        workspace
            .run(&["tenant", "delete", "alice"])
            .refusal()
            .contains("--yes")
    );
    let deleted = workspace.run(&["tenant", "delete", "alice", "--yes"]);
    assert!(
        deleted.stdout.contains("deleted tenant alice"),
        "{}",
        deleted.stdout
    );
    assert!(
        workspace
            .run(&["tenant", "show", "alice"])
            .refusal()
            .contains("no tenant `alice`")
    );
    assert!(
        workspace
            .run(&["tenant", "delete", "default", "--yes"])
            .refusal()
            .contains("cannot be deleted")
    );
    // The operator acting within a tenant that does not exist is told so.
    let upload = workspace.run(&[
        "--tenant",
        "ghost",
        "upload",
        example("arith").to_str().unwrap(),
    ]);
    assert!(
        upload.refusal().contains("no tenant `ghost`"),
        "{}",
        upload.stderr
    );
}

#[test]
fn the_remote_cli_prints_what_the_local_one_does() {
    let workspace = queue_with(&["arith", "welcome"]);
    let id = enqueue(&workspace, &["arith.add", "2", "3"]);
    assert_eq!(finish(spawn_worker(&workspace, &["--batch"])).code, 0);
    let operator = token(&workspace, None, "", &[]);
    let server = Server::start(&workspace, &[]);
    for args in [
        vec!["components"],
        vec!["components", "show", "arith"],
        vec!["queues"],
        vec!["queues", "--json"],
        vec!["result", id.as_str()],
        vec!["result", id.as_str(), "--output", "table"],
        vec!["jobs", "--output", "table"],
        vec!["config", "list", "arith"],
        vec!["tenant", "list"],
    ] {
        let local = workspace.run(&args);
        let over_http = remote(&workspace, &server, &operator, &args);
        assert_eq!(local.code, 0, "{args:?}: {}", local.stderr);
        assert_eq!(
            (over_http.code, &over_http.stdout),
            (local.code, &local.stdout),
            "{args:?}: {}",
            over_http.stderr
        );
    }
    // Writes go through the server too.
    let alice = {
        tenant(&workspace, "alice");
        token(&workspace, Some("alice"), "admin", &[])
    };
    let upload = remote(
        &workspace,
        &server,
        &alice,
        &["upload", example("arith").to_str().unwrap()],
    );
    assert_eq!(upload.code, 0, "{}", upload.stderr);
    let enqueued = remote(
        &workspace,
        &server,
        &alice,
        &["enqueue", "arith.add", "4", "5"],
    );
    assert_eq!(enqueued.code, 0, "{}", enqueued.stderr);
    let id = enqueued.json()["id"].as_str().unwrap().to_owned();
    // Alice's job is hers: the operator's default tenant does not see it.
    assert_eq!(workspace.run(&["result", &id]).code, 2);
    assert_eq!(
        workspace.run(&["--tenant", "alice", "result", &id]).json()["status"],
        "READY"
    );
    let file = workspace.write("jobs.jsonl", b"{\"task_path\": \"arith.add\", \"args\": [1, 2]}\n{\"task_path\": \"arith.add\", \"args\": [1]}\n");
    let bulk = remote(
        &workspace,
        &server,
        &alice,
        &["enqueue", "--file", file.to_str().unwrap()],
    );
    assert_eq!(bulk.code, 2);
    assert!(
        bulk.stderr
            .contains("jobs.jsonl line 2: add() missing 1 required argument: 'b'"),
        "{}",
        bulk.stderr
    );
}

#[test]
fn login_saves_the_token_for_the_server_readable_only_by_its_owner() {
    let workspace = Workspace::new();
    tenant(&workspace, "alice");
    let alice = token(&workspace, Some("alice"), "member", &[]);
    let server = Server::start(&workspace, &[]);
    let config = workspace.path().join("config");
    let login = |token: &str| -> Run {
        use std::io::Write;
        let mut child = workspace
            .command()
            .env("XDG_CONFIG_HOME", &config)
            .args(["login", &server.url])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{token}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap().into()
    };
    assert!(login("wt_0000_nope").refusal().contains("unknown token"));
    let ok = login(&alice);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(
        ok.stdout.contains("as member of tenant alice"),
        "{}",
        ok.stdout
    );
    let file = config.join("wasmtasks/credentials.json");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let queues = workspace
        .command()
        .env("XDG_CONFIG_HOME", &config)
        .env("WASMTASKS_SERVER", &server.url)
        .args(["queues", "--json"])
        .output()
        .map(Run::from)
        .unwrap();
    assert_eq!(queues.code, 0, "{}", queues.stderr);
}

#[test]
fn file_configuration_belongs_to_one_tenant_and_workers_may_serve_some_tenants() {
    let workspace = Workspace::new();
    workspace.write(
        "wasmtasks.toml",
        b"[components.hostile.config]\nsecret_url = \"default's\"\n\
          [tenants.bob.components.hostile.config]\nsecret_url = \"bob's\"\n",
    );
    for name in ["alice", "bob"] {
        tenant(&workspace, name);
    }
    let mut ids = Vec::new();
    for tenant in ["default", "alice", "bob"] {
        let upload = workspace.run(&[
            "--tenant",
            tenant,
            "upload",
            example("hostile").to_str().unwrap(),
        ]);
        assert_eq!(upload.code, 0, "{}", upload.stderr);
        let run = workspace.run(&[
            "--tenant",
            tenant,
            "enqueue",
            "hostile.read_config",
            "secret_url",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        ids.push((tenant, run.json()["id"].as_str().unwrap().to_owned()));
    }
    // A worker limited to alice and bob leaves the default tenant's job alone.
    let run = workspace.run(&["--tenant", "alice,bob", "worker", "--batch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let status = |tenant: &str, id: &str| {
        workspace
            .run(&["--tenant", tenant, "result", id, "--output", "json"])
            .json()
    };
    assert_eq!(status("default", &ids[0].1)["status"], "READY");
    let alice = status("alice", &ids[1].1);
    assert_eq!(
        alice["status"], "FAILED",
        "alice's hostile reads nothing: {alice}"
    );
    let bob = status("bob", &ids[2].1);
    assert_eq!(bob["return_value"], json!("bob's"), "{bob}");
    assert_eq!(finish(spawn_worker(&workspace, &["--batch"])).code, 0);
    assert_eq!(
        status("default", &ids[0].1)["return_value"],
        json!("default's")
    );
}
