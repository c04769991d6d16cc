//! Usage per tenant and day, through the API and the CLI: each tenant sees its
//! own, counted from what its jobs did.

use wasmtasks_tests::server::Server;
use wasmtasks_tests::{Workspace, example};

use crate::queue_support::{finish, spawn_worker};
use crate::tenancy_support::{get, tenant, token};

/// Uploads arith for `tenant` and enqueues `jobs` additions with the CLI.
fn arith_jobs(workspace: &Workspace, tenant: &str, jobs: usize) {
    let upload = workspace.run(&[
        "--tenant",
        tenant,
        "upload",
        example("arith").to_str().unwrap(),
    ]);
    assert_eq!(upload.code, 0, "{}", upload.stderr);
    for i in 0..jobs {
        let i = i.to_string();
        let run = workspace.run(&["--tenant", tenant, "enqueue", "arith.add", &i, "1"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
}

#[test]
fn each_tenant_reads_its_own_usage_per_day() {
    let workspace = Workspace::new();
    tenant(&workspace, "alice");
    tenant(&workspace, "bob");
    arith_jobs(&workspace, "alice", 3);
    arith_jobs(&workspace, "bob", 1);
    let worker = finish(spawn_worker(&workspace, &["--batch"]));
    assert_eq!(worker.code, 0, "{}", worker.stderr);

    let alice = token(&workspace, Some("alice"), "reader", &[]);
    let bob = token(&workspace, Some("bob"), "reader", &[]);
    let server = Server::start(&workspace, &[]);
    let today = chrono::Utc::now().date_naive().to_string();
    let mine = get(&server, &alice, "/api/v1/usage");
    assert_eq!(mine.status, 200, "{mine:?}");
    assert_eq!(mine.body["tenant"], "alice");
    assert_eq!(mine.body["to"], today);
    assert_eq!(mine.body["days"][0]["day"], today, "{mine:?}");
    let total = &mine.body["total"];
    assert_eq!(
        (total["successful"].as_u64(), total["attempts"].as_u64()),
        (Some(3), Some(3))
    );
    assert!(total["fuel_consumed"].as_u64().unwrap() > 0, "{total}");
    assert!(total["peak_memory_bytes"].as_u64().unwrap() > 0, "{total}");
    let theirs = get(
        &server,
        &bob,
        &format!("/api/v1/usage?from={today}&to={today}"),
    );
    assert_eq!(theirs.body["total"]["successful"], 1, "{theirs:?}");

    let backwards = get(
        &server,
        &alice,
        "/api/v1/usage?from=2026-12-01&to=2026-11-01",
    );
    assert_eq!(backwards.status, 422, "{backwards:?}");
    assert!(
        backwards.body["detail"]
            .as_str()
            .unwrap()
            .contains("`from` (2026-12-01) is after `to` (2026-11-01)"),
        "{backwards:?}"
    );
    let cli = workspace
        .run(&["--tenant", "alice", "usage", "--json"])
        .json();
    assert_eq!(cli["total"], mine.body["total"]);
    let table = workspace.run(&["--tenant", "alice", "usage"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.lines().any(|line| line.starts_with("total")),
        "{}",
        table.stdout
    );
}
