//! Configuration values and secrets: granted per component by the operator, read by
//! the guest, never readable by another component, current at each attempt, and
//! redacted wherever an attempt's output is kept.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use wasmtasks_tests::postgres::TestDatabase;
use wasmtasks_tests::{Run, Workspace};

use crate::queue_support::{
    enqueue, finish, queue_with, signal, spawn_worker, uploaded, wait_finished,
};

const SECRET: &str = "tok-5ecr3t-value";

/// Runs `wasmtasks config ARGS…` and checks it succeeded.
fn config(workspace: &Workspace, args: &[&str]) -> Run {
    let run = workspace.run(&[&["config"], args].concat());
    assert_eq!(run.code, 0, "config {args:?}: {}", run.stderr);
    run
}

/// Enqueues `hostile.TASK ARGS…`, drains the queue with one worker, and returns the result.
fn run_queued(workspace: &Workspace, task: &str, args: &[&str]) -> Value {
    let id = enqueue(
        workspace,
        &[&[format!("hostile.{task}").as_str()], args].concat(),
    );
    let worker = workspace.run(&["worker", "--batch"]);
    assert_eq!(worker.code, 0, "worker: {}", worker.stderr);
    wait_finished(workspace, &id, Duration::from_secs(30))
}

fn assert_redacted(result: &Value) {
    let text = result.to_string();
    assert!(!text.contains(SECRET), "the secret leaked: {result:#}");
    let attempt = &result["attempt_log"][0];
    for stream in ["stdout", "stderr"] {
        assert!(
            attempt[stream].as_str().unwrap().contains("[REDACTED]"),
            "{stream}: {attempt:#}"
        );
    }
}

#[test]
fn a_secret_echoed_by_a_guest_is_redacted_in_the_stored_result() {
    let workspace = queue_with(&["hostile"]);
    config(&workspace, &["set", "hostile", "token", SECRET, "--secret"]);

    let returned = run_queued(&workspace, "leak_config", &["token", "false"]);
    assert_eq!(returned["status"], "SUCCESSFUL", "{returned:#}");
    assert_eq!(returned["return_value"], "returned: [REDACTED]");
    assert_redacted(&returned);
    let stderr = returned["attempt_log"][0]["stderr"].as_str().unwrap();
    // The log helper's line is structured, and kept (redacted) with the attempt.
    let line = stderr.lines().find(|l| l.starts_with('{')).unwrap();
    let line: Value = serde_json::from_str(line).unwrap();
    assert_eq!(
        line,
        serde_json::json!({"level": "info", "message": "log: [REDACTED]"})
    );

    let failed = run_queued(&workspace, "leak_config", &["token", "true"]);
    assert_eq!(failed["status"], "FAILED", "{failed:#}");
    let error = &failed["errors"][0];
    assert_eq!(error["exception_class_path"], "hostile.Denied");
    assert!(
        error["traceback"]
            .as_str()
            .unwrap()
            .contains("error: [REDACTED]"),
        "{error:#}"
    );
    assert_redacted(&failed);
}

#[test]
fn plain_values_are_read_as_set_and_listed_while_secrets_are_not() {
    let workspace = queue_with(&["hostile"]);
    config(&workspace, &["set", "hostile", "url", "http://x.test/a"]);
    let set = config(&workspace, &["set", "hostile", "token", SECRET, "--secret"]);
    assert!(!set.stdout.contains(SECRET), "{}", set.stdout);

    let result = run_queued(&workspace, "read_config", &["url"]);
    assert_eq!(result["return_value"], "http://x.test/a", "{result:#}");

    let list = config(&workspace, &["list", "hostile"]);
    assert_eq!(list.stdout, "token = [REDACTED]\nurl = http://x.test/a\n");
    let components = workspace.run(&["components", "--json"]);
    assert!(!components.stdout.contains(SECRET));
}

#[test]
fn another_components_configuration_is_not_readable() {
    let workspace = queue_with(&["hostile", "arith"]);
    config(&workspace, &["set", "arith", "token", SECRET, "--secret"]);
    config(&workspace, &["set", "arith", "url", "http://arith.test"]);
    for key in ["token", "url", "arith.url", "arith/url"] {
        let result = run_queued(&workspace, "read_config", &[key]);
        assert_eq!(result["status"], "FAILED", "{result:#}");
        let error = &result["errors"][0];
        assert_eq!(error["exception_class_path"], "hostile.Denied");
        assert_eq!(
            error["traceback"].as_str().unwrap().lines().next().unwrap(),
            format!("hostile.Denied: no configuration value {key:?}")
        );
    }
}

#[test]
fn a_revoked_value_is_gone_from_the_next_attempt() {
    let workspace = queue_with(&["hostile"]);
    config(&workspace, &["set", "hostile", "url", "http://one.test"]);
    let first = run_queued(&workspace, "read_config", &["url"]);
    assert_eq!(first["return_value"], "http://one.test");

    config(&workspace, &["set", "hostile", "url", "http://two.test"]);
    let changed = run_queued(&workspace, "read_config", &["url"]);
    assert_eq!(changed["return_value"], "http://two.test");

    config(&workspace, &["unset", "hostile", "url"]);
    let revoked = run_queued(&workspace, "read_config", &["url"]);
    assert_eq!(revoked["status"], "FAILED", "{revoked:#}");
    let missing = workspace.run(&["config", "unset", "hostile", "url"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
}

/// One worker process runs throughout, keeping what it read between attempts:
/// each change still reaches the next attempt it claims.
fn changes_reach_a_running_worker_at_its_next_attempt(workspace: &Workspace) {
    let worker = spawn_worker(workspace, &[]);
    let read = || {
        let id = enqueue(workspace, &["hostile.read_config", "url"]);
        wait_finished(workspace, &id, Duration::from_secs(30))
    };
    config(workspace, &["set", "hostile", "url", "http://one.test"]);
    for _ in 0..2 {
        assert_eq!(read()["return_value"], "http://one.test");
    }
    config(workspace, &["set", "hostile", "url", "http://two.test"]);
    assert_eq!(read()["return_value"], "http://two.test");
    config(workspace, &["unset", "hostile", "url"]);
    let revoked = read();
    assert_eq!(revoked["status"], "FAILED", "{revoked:#}");
    config(workspace, &["set", "hostile", "url", "http://three.test"]);
    assert_eq!(read()["return_value"], "http://three.test");
    signal(&worker, "TERM");
    let stopped = finish(worker);
    assert_eq!(stopped.code, 0, "{}", stopped.stderr);
}

#[test]
fn changes_reach_a_running_worker_at_its_next_attempt_on_sqlite() {
    changes_reach_a_running_worker_at_its_next_attempt(&queue_with(&["hostile"]));
}

#[test]
fn changes_reach_a_running_worker_at_its_next_attempt_on_postgres() {
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let workspace = uploaded(Workspace::with_database(database.url()), &["hostile"]);
    changes_reach_a_running_worker_at_its_next_attempt(&workspace);
}

#[test]
fn the_configuration_file_grants_values_and_secrets_the_store_overrides() {
    let workspace = Workspace::new();
    workspace.write(
        "wasmtasks.toml",
        format!(
            "[components.hostile.config]\nurl = \"http://file.test\"\n\
             [components.hostile.secrets]\ntoken = \"{SECRET}\"\n"
        )
        .as_bytes(),
    );
    let run = workspace.task("hostile", "read_config", &["url"]);
    assert_eq!(run.returned(), "http://file.test");
    let leak = workspace.task("hostile", "leak_config", &["token", "false"]);
    assert_eq!(leak.returned(), "returned: [REDACTED]");
    assert!(!leak.stdout.contains(SECRET), "{}", leak.stdout);

    let workspace = crate::queue_support::uploaded(workspace, &["hostile"]);
    config(&workspace, &["set", "hostile", "url", "http://store.test"]);
    let result = run_queued(&workspace, "read_config", &["url"]);
    assert_eq!(result["return_value"], "http://store.test");
}

#[test]
fn a_value_is_read_from_standard_input_and_bad_names_are_refused() {
    let workspace = queue_with(&["hostile"]);
    let mut child = workspace
        .command()
        .args(["config", "set", "hostile", "token", "--secret"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{SECRET}").unwrap();
    assert!(child.wait().unwrap().success());
    let result = run_queued(&workspace, "leak_config", &["token", "false"]);
    assert_eq!(result["return_value"], "returned: [REDACTED]");

    let bad = workspace.run(&["config", "set", "hostile", "a key", "v"]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("invalid key `a key`"), "{}", bad.stderr);
}

#[test]
fn a_secret_escaped_or_cut_by_truncation_is_still_redacted() {
    // Quotes and a backslash: JSON and Rust's `Debug` both escape them.
    let secret = r#"q"5ecr\3t-value"#;
    let workspace = queue_with(&["hostile"]);
    config(&workspace, &["set", "hostile", "token", secret, "--secret"]);
    // The secret starts 4 bytes before the end of stdout's kept head (half of 64 KiB).
    let cut_at = (32 << 10) - 4;
    let failed = run_queued(&workspace, "leak_escaped", &["token", &cut_at.to_string()]);
    assert_eq!(failed["status"], "FAILED", "{failed:#}");
    let error = &failed["errors"][0];
    assert_eq!(
        error["exception_class_path"], "wasmtasks.Panic",
        "{error:#}"
    );
    let attempt = &failed["attempt_log"][0];
    let texts = [
        &attempt["stdout"],
        &attempt["stderr"],
        &error["traceback"],
        &attempt["error"],
    ];
    for text in texts {
        let text = text.to_string();
        for piece in ["5ecr", "q\\\"5", "3t-val"] {
            assert!(!text.contains(piece), "{piece} in {text}");
        }
    }
    let stdout = attempt["stdout"].as_str().unwrap();
    // The head ends where the secret began: with the start of its replacement.
    let head = stdout.split("\n[... ").next().unwrap();
    assert!(head.ends_with("----[RED"), "{}", &head[head.len() - 40..]);
    let stderr = attempt["stderr"].as_str().unwrap();
    assert!(stderr.contains("debug: \"[REDACTED]\""), "{stderr}");
    assert!(stderr.contains("log: [REDACTED]"), "{stderr}");
    assert!(
        error["traceback"]
            .as_str()
            .unwrap()
            .contains("`Err` value: \"[REDACTED]\""),
        "{error:#}"
    );
}

#[test]
fn a_secret_the_host_quotes_in_a_failure_is_redacted() {
    let workspace = queue_with(&["hostile"]);
    config(&workspace, &["set", "hostile", "token", SECRET, "--secret"]);
    // The guest puts the secret in an origin it was not granted; the refusal
    // names the origin.
    let url = format!("http://{SECRET}.invalid/");
    let denied = run_queued(&workspace, "fetch", &[&url, "1"]);
    let error = &denied["errors"][0];
    assert_eq!(
        error["exception_class_path"], "wasmtasks.HttpDenied",
        "{denied:#}"
    );
    let traceback = error["traceback"].as_str().unwrap();
    assert!(
        traceback.contains("http://[REDACTED].invalid"),
        "{traceback}"
    );
    // (The arguments hold it as the caller gave them; what the attempt left does not.)
    let left = format!("{}{}", denied["errors"], denied["attempt_log"]);
    assert!(!left.contains(SECRET), "{denied:#}");
}
