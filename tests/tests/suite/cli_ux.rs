//! A CLI that shows what happens: a worker's log lines (text and JSON), output
//! formats, `jobs`, `retry`, consistent exit codes, shell completions, and a
//! `prune` whose dry run counts what the real one deletes.

use serde_json::{Value, json};
use wasmtasks_tests::{Workspace, example};

use crate::queue_support::*;

#[test]
fn the_worker_logs_its_start_and_every_attempt() {
    let workspace = queue_with(&["arith", "welcome"]);
    let good = enqueue(&workspace, &["arith.add", "1", "2"]);
    let bad = enqueue(
        &workspace,
        &["welcome.welcome", "nobody", "Bob", "--queue", "default"],
    );
    let run = workspace.run(&["worker", "--batch", "--concurrency", "2"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stderr = &run.stderr;
    let started = stderr
        .lines()
        .find(|l| l.contains("worker started"))
        .expect(stderr);
    for field in [
        "queues=*",
        "tenants=*",
        "concurrency=2",
        "database=sqlite://",
    ] {
        assert!(started.contains(field), "{started}");
    }
    let line = |id: &str| {
        stderr
            .lines()
            .find(|l| l.contains("attempt finished") && l.contains(id))
            .unwrap_or_else(|| panic!("no line for {id}:\n{stderr}"))
            .to_owned()
    };
    let ok = line(&good);
    assert!(
        ok.contains("INFO")
            && ok.contains("task=arith.add")
            && ok.contains("status=\"SUCCESSFUL\"")
            && ok.contains("duration_ms="),
        "{ok}"
    );
    let failed = line(&bad);
    assert!(
        failed.contains("error=\"welcome.WelcomeError\"") && failed.contains("status=\"FAILED\""),
        "{failed}"
    );

    let again = enqueue(&workspace, &["arith.add", "3", "4"]);
    let run = workspace.run(&["--log-format", "json", "worker", "--batch"]);
    let events: Vec<Value> = run
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let attempt = events
        .iter()
        .find(|e| e["job"] == again.as_str())
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert_eq!(attempt["task"], "arith.add");
    assert_eq!(attempt["status"], "SUCCESSFUL");
    assert_eq!(attempt["attempt"], 1);
    assert!(attempt["duration_ms"].is_number(), "{attempt}");
}

#[test]
fn results_print_as_a_table_on_request_and_exit_by_status() {
    let workspace = queue_with(&["arith", "welcome"]);
    let good = enqueue(&workspace, &["arith.add", "1", "2"]);
    let bad = enqueue(
        &workspace,
        &["welcome.welcome", "nobody", "Bob", "--queue", "default"],
    );
    assert_eq!(finish(spawn_worker(&workspace, &["--batch"])).code, 0);
    let table = workspace.run(&["result", &good, "--output", "table"]);
    assert_eq!(table.code, 0);
    assert!(
        table.stdout.contains("status      SUCCESSFUL"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("returned    3"), "{}", table.stdout);
    assert!(
        table.stdout.contains("attempt 1  SUCCESSFUL"),
        "{}",
        table.stdout
    );
    // Piped, the default is JSON.
    assert_eq!(workspace.run(&["result", &good]).json()["return_value"], 3);
    // A FAILED job exits 1, waited for or not.
    let failed = workspace.run(&["result", &bad, "--output", "table"]);
    assert_eq!(failed.code, 1);
    assert!(
        failed
            .stdout
            .contains("welcome.WelcomeError: invalid email address"),
        "{}",
        failed.stdout
    );
    assert_eq!(workspace.run(&["result", &bad, "--wait", "1s"]).code, 1);
    assert_eq!(workspace.run(&["result", "no-such-id"]).code, 2);
    let waiting = enqueue(&workspace, &["arith.add", "1", "2", "--run-after", "+1h"]);
    assert_eq!(
        workspace.run(&["result", &waiting, "--wait", "200ms"]).code,
        3
    );
    let help = workspace.run(&["--help"]);
    assert!(help.stdout.contains("Exit codes:"), "{}", help.stdout);
}

#[test]
fn jobs_lists_with_filters_and_pages() {
    let workspace = queue_with(&["arith", "welcome"]);
    for i in 0..5 {
        enqueue(&workspace, &["arith.add", &i.to_string(), "1"]);
    }
    let bad = enqueue(
        &workspace,
        &["welcome.welcome", "nobody", "Bob", "--queue", "default"],
    );
    assert_eq!(finish(spawn_worker(&workspace, &["--batch"])).code, 0);
    let failed = workspace.run(&["jobs", "--status", "failed", "--output", "table"]);
    assert_eq!(failed.code, 0, "{}", failed.stderr);
    assert!(
        failed.stdout.contains(&bad) && failed.stdout.contains("welcome.WelcomeError"),
        "{}",
        failed.stdout
    );
    assert!(!failed.stdout.contains("arith.add"), "{}", failed.stdout);
    let page = workspace
        .run(&["jobs", "--task", "arith.add", "--limit", "3"])
        .json();
    assert_eq!(page["jobs"].as_array().unwrap().len(), 3);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = workspace
        .run(&[
            "jobs",
            "--task",
            "arith.add",
            "--limit",
            "3",
            "--cursor",
            cursor,
        ])
        .json();
    assert_eq!(rest["jobs"].as_array().unwrap().len(), 2);
    assert_eq!(rest["next_cursor"], Value::Null);
    let recent = workspace.run(&["jobs", "--since", "1h"]).json();
    assert_eq!(recent["jobs"].as_array().unwrap().len(), 6);
}

#[test]
fn retry_gives_failed_jobs_a_fresh_budget_and_keeps_their_history() {
    let workspace = queue_with(&["welcome", "arith"]);
    let bad = enqueue(
        &workspace,
        &[
            "welcome.welcome",
            "nobody",
            "Bob",
            "--queue",
            "default",
            "--max-attempts",
            "1",
        ],
    );
    let other = enqueue(
        &workspace,
        &[
            "welcome.welcome",
            "nobody",
            "Eve",
            "--queue",
            "default",
            "--max-attempts",
            "1",
        ],
    );
    let good = enqueue(&workspace, &["arith.add", "1", "2"]);
    assert_eq!(finish(spawn_worker(&workspace, &["--batch"])).code, 0);
    let retry = workspace.run(&["retry", &bad]);
    assert_eq!(
        (retry.code, retry.stdout.trim()),
        (0, format!("retried {bad}").as_str())
    );
    assert_eq!(result(&workspace, &bad)["status"], "READY");
    let refused = workspace.run(&["retry", &good]);
    assert_eq!(refused.code, 2);
    assert!(
        refused
            .stderr
            .contains("it is SUCCESSFUL; only FAILED or CANCELLED"),
        "{}",
        refused.stderr
    );
    assert_eq!(finish(spawn_worker(&workspace, &["--batch"])).code, 0);
    let again = result(&workspace, &bad);
    assert_eq!(
        (
            again["status"].clone(),
            again["attempts"].clone(),
            again["errors"].as_array().unwrap().len()
        ),
        (json!("FAILED"), json!(2), 2),
        "{again}"
    );
    let all = workspace.run(&["retry", "--all-failed", "--task", "welcome.welcome"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    assert!(
        all.stdout.contains(&bad) && all.stdout.contains(&other),
        "{}",
        all.stdout
    );
    assert!(
        all.stderr.contains("retried 2 failed jobs"),
        "{}",
        all.stderr
    );
}

#[test]
fn completions_are_printed_for_each_shell() {
    let workspace = Workspace::new();
    for shell in ["bash", "zsh", "fish"] {
        let run = workspace.run(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(
            run.stdout.contains("wasmtasks") && run.stdout.contains("enqueue"),
            "{shell}"
        );
    }
}

#[test]
fn prune_keeps_component_versions_unless_asked_and_its_dry_run_counts_what_it_deletes() {
    let workspace = queue_with(&["arith"]);
    let id = enqueue(&workspace, &["arith.add", "1", "2"]);
    assert_eq!(finish(spawn_worker(&workspace, &["--batch"])).code, 0);
    assert_eq!(result(&workspace, &id)["status"], "SUCCESSFUL");
    // Version 2 of `arith`: version 1 is needed only by the finished job.
    let upload = workspace.run(&[
        "upload",
        example("welcome").to_str().unwrap(),
        "--name",
        "arith",
    ]);
    assert_eq!(upload.code, 0, "{}", upload.stderr);
    let jobs_only = workspace.run(&["prune", "--min-age-days", "0", "--dry-run"]);
    assert!(
        !jobs_only.stdout.contains("component versions"),
        "{}",
        jobs_only.stdout
    );
    let dry = workspace.run(&["prune", "--min-age-days", "0", "--components", "--dry-run"]);
    assert!(
        dry.stdout.contains(
            "would delete 1 successful, 0 failed, 0 cancelled results, 1 unused component versions"
        ),
        "{}",
        dry.stdout
    );
    assert_eq!(
        workspace
            .run(&["components", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let real = workspace.run(&["prune", "--min-age-days", "0", "--components"]);
    assert_eq!(real.stdout.replace("deleted", "would delete"), dry.stdout);
    assert_eq!(
        workspace
            .run(&["components", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn backoff_factor_must_be_positive_everywhere() {
    let workspace = queue_with(&["arith"]);
    let run = workspace.run(&["enqueue", "arith.add", "1", "2", "--backoff-factor", "0"]);
    assert!(
        run.refusal()
            .contains("backoff_factor must be a positive number, got 0"),
        "{}",
        run.stderr
    );
}
