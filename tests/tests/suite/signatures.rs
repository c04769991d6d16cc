//! Typed task signatures: a component records each task's parameters and their
//! JSON Schemas; `inspect` and `components` show them in Python's notation; an
//! enqueue that does not fit is refused before anything is stored, in the guest
//! SDK's words, and a bulk file reports every bad line. The component names
//! itself; components built with SDK 0.1 still upload and run.

use serde_json::json;
use wasmtasks_tests::{Workspace, example};

use crate::bad_input::old_arith;
use crate::queue_support::*;

#[test]
fn inspect_and_components_show_python_style_signatures() {
    let workspace = queue_with(&["arith", "notify"]);
    let inspect = workspace.run(&["inspect", example("notify").to_str().unwrap()]);
    assert!(
        inspect
            .stdout
            .contains("notify.send_notification(message: str, title: str | None = None) -> int"),
        "{}",
        inspect.stdout
    );
    assert!(inspect.stdout.contains("contract wasmtasks:task@0.2.0"));
    let json = workspace.inspect(&example("arith"));
    assert_eq!(json["declared_name"], "arith");
    let add = &json["tasks"][0];
    assert_eq!(add["signature"]["params"][0]["name"], "a");
    assert_eq!(add["signature"]["params"][0]["schema"]["type"], "integer");
    let list = workspace.run(&["components"]);
    assert!(
        list.stdout.contains("add(a: int, b: int) -> int")
            && list.stdout.contains("sum(values: list[float]) -> float"),
        "{}",
        list.stdout
    );
    let show = workspace.run(&["components", "show", "notify"]);
    assert!(
        show.stdout
            .contains("notify.send_notification(message: str, title: str | None = None) -> int  [priority 0, queue default, max_attempts 5"),
        "{}",
        show.stdout
    );
}

#[test]
fn a_bulk_file_reports_every_bad_line_and_stores_nothing() {
    let workspace = queue_with(&["arith"]);
    let lines = [
        json!({"task_path": "arith.add", "args": [1, 2]}).to_string(),
        json!({"task_path": "arith.add", "args": [1]}).to_string(),
        "not json at all".to_owned(),
        json!({"task_path": "arith.add", "args": [1, 2]}).to_string(),
        json!({"task_path": "arith.sum", "args": [[1, "two"]]}).to_string(),
        json!({"task_path": "arith.add", "args": [1, 2], "colour": "red"}).to_string(),
    ];
    let file = workspace.write("jobs.jsonl", (lines.join("\n") + "\n").as_bytes());
    let run = workspace.run(&["enqueue", "--file", file.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let stderr = &run.stderr;
    assert!(stderr.contains("4 of 6 lines were refused"), "{stderr}");
    for (line, problem) in [
        (2, "add() missing 1 required argument: 'b'"),
        (3, "expected ident"),
        (
            5,
            "argument 'values' of sum(): at /1: \"two\" is not of type \"number\"",
        ),
        (6, "unknown field `colour`"),
    ] {
        assert!(
            stderr.contains(&format!("jobs.jsonl line {line}: ")) && stderr.contains(problem),
            "line {line}: {problem}\n{stderr}"
        );
    }
    assert_eq!(counts(&workspace)["default"]["READY"], 0);
}

#[test]
fn a_component_names_itself_and_a_file_name_never_renames_it() {
    let workspace = Workspace::new();
    let renamed = workspace.write(
        "textstats-v1.wasm",
        &std::fs::read(example("arith")).unwrap(),
    );
    let upload = workspace.run(&["upload", renamed.to_str().unwrap()]);
    assert!(
        upload.stdout.starts_with("uploaded arith version 1"),
        "{}",
        upload.stdout
    );
    let chosen = workspace.run(&["upload", renamed.to_str().unwrap(), "--name", "calc"]);
    assert!(
        chosen.stdout.starts_with("uploaded calc version 1"),
        "{}",
        chosen.stdout
    );
    let id = enqueue(&workspace, &["calc.add", "2", "3"]);
    assert_eq!(finish(spawn_worker(&workspace, &["--batch"])).code, 0);
    assert_eq!(result(&workspace, &id)["return_value"], 5);
}

#[test]
fn components_built_with_sdk_0_1_upload_with_a_name_and_run_unchecked() {
    let workspace = Workspace::new();
    let old = old_arith();
    let unnamed = workspace.run(&["upload", old.to_str().unwrap()]);
    assert!(
        unnamed.refusal().contains("does not name itself") && unnamed.stderr.contains("--name"),
        "{}",
        unnamed.stderr
    );
    let upload = workspace.run(&["upload", old.to_str().unwrap(), "--name", "oldarith"]);
    assert_eq!(upload.code, 0, "{}", upload.stderr);
    assert!(
        upload.stdout.contains("oldarith.add(...)"),
        "{}",
        upload.stdout
    );
    let inspect = workspace.run(&["inspect", old.to_str().unwrap()]);
    assert!(
        inspect.stdout.contains("contract wasmtasks:task@0.1.0"),
        "{}",
        inspect.stdout
    );
    let good = enqueue(&workspace, &["oldarith.add", "2", "3"]);
    // No signature to check against: the guest refuses a bad call when it runs.
    let bad = enqueue(&workspace, &["oldarith.add", "two"]);
    assert_eq!(finish(spawn_worker(&workspace, &["--batch"])).code, 0);
    assert_eq!(result(&workspace, &good)["return_value"], 5);
    let bad = result(&workspace, &bad);
    assert_eq!(bad["status"], "FAILED");
    assert_eq!(
        bad["errors"][0]["exception_class_path"],
        "wasmtasks.InvalidArguments"
    );
}

#[test]
fn upload_warns_of_a_declared_queue_that_is_not_configured() {
    let workspace = Workspace::new();
    let upload = workspace.run(&["upload", example("welcome").to_str().unwrap()]);
    assert_eq!(upload.code, 0);
    assert!(
        upload.stderr.contains(
            "warning: task welcome.welcome declares queue `emails`, which is not configured"
        ),
        "{}",
        upload.stderr
    );
}

#[test]
fn a_version_pinned_by_waiting_jobs_cannot_be_deleted() {
    let workspace = queue_with(&["arith"]);
    let digest = workspace.run(&["components", "--json"]).json()[0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let waiting = enqueue(&workspace, &["arith.add", "1", "2"]);
    let refused = workspace.run(&["components", "delete", "arith"]);
    assert!(
        refused.refusal().contains("1 READY or RUNNING job pins it"),
        "{}",
        refused.stderr
    );
    assert_eq!(workspace.run(&["cancel", &waiting]).code, 0);
    let deleted = workspace.run(&["components", "delete", &format!("arith@{}", &digest[..8])]);
    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
    assert!(
        deleted.stdout.contains("deleted arith v1"),
        "{}",
        deleted.stdout
    );
    assert_eq!(workspace.run(&["components", "--json"]).json(), json!([]));
    // The cancelled job pinned it; retrying it now says why it cannot run.
    let retry = workspace.run(&["retry", &waiting]);
    assert!(
        retry
            .stderr
            .contains("the component version it pins has been deleted"),
        "{}",
        retry.stderr
    );
}
