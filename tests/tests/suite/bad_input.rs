//! Input that cannot run is refused with exit code 2 and a message naming the
//! problem; arguments the task cannot bind fail the task (exit 1) with
//! `wasmtasks.InvalidArguments`.

use wasmtasks_tests::{Workspace, example};

fn arith() -> String {
    example("arith").to_str().unwrap().to_owned()
}

#[test]
fn a_missing_file_is_refused() {
    let workspace = Workspace::new();
    let missing = workspace.path().join("missing.wasm");
    let run = workspace.run(&["run", missing.to_str().unwrap(), "add"]);
    let stderr = run.refusal();
    assert!(
        stderr.starts_with(&format!("error: cannot read {}: ", missing.display())),
        "{stderr}"
    );
}

#[test]
fn a_file_that_is_not_wasm_is_refused() {
    let workspace = Workspace::new();
    let path = workspace.write("notes.wasm", b"hello, world");
    let run = workspace.run(&["run", path.to_str().unwrap(), "add"]);
    assert_eq!(
        run.refusal(),
        "error: not a WebAssembly file: it does not start with the `\\0asm` magic bytes\n"
    );
}

#[test]
fn a_core_module_is_refused_as_not_a_component() {
    let workspace = Workspace::new();
    let path = workspace.write("core.wasm", b"\0asm\x01\0\0\0");
    let run = workspace.run(&["inspect", path.to_str().unwrap()]);
    let stderr = run.refusal();
    assert!(
        stderr.starts_with("error: this is a core WebAssembly module, not a component"),
        "{stderr}"
    );
    assert!(stderr.contains("wasm32-wasip2"), "{stderr}");
}

#[test]
fn a_component_of_another_world_is_refused() {
    let workspace = Workspace::new();
    let path = workspace.write("empty.wasm", b"\0asm\x0d\0\x01\0");
    let run = workspace.run(&["run", path.to_str().unwrap(), "add"]);
    let stderr = run.refusal();
    assert!(
        stderr.starts_with(
            "error: component of another world: it does not export \
             `wasmtasks:task/tasks@0.2.0` (nor the older `wasmtasks:task/tasks@0.1.0`; \
             it exports: nothing)"
        ),
        "{stderr}"
    );
}

#[test]
fn a_file_name_names_only_a_component_that_names_itself_not() {
    let workspace = Workspace::new();
    // A component names itself: the file's name does not matter.
    let path = workspace.write("my.arith.wasm", &std::fs::read(example("arith")).unwrap());
    let run = workspace.run(&["run", path.to_str().unwrap(), "add", "1", "2"]);
    assert_eq!(run.returned(), 3);
    assert_eq!(run.json()["task_path"], "arith.add");
    // One built with SDK 0.1 does not: its file's stem must be a valid name.
    let old = workspace.write("my.arith.wasm", &std::fs::read(old_arith()).unwrap());
    let run = workspace.run(&["run", old.to_str().unwrap(), "add", "1", "2"]);
    let stderr = run.refusal();
    assert!(
        stderr.contains("the file name `my.arith` is not a valid one"),
        "{stderr}"
    );
}

/// The arith example as wasmtasks-guest 0.1 built it (contract 0.1.0).
pub fn old_arith() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/arith-sdk-0.1.wasm")
}

#[test]
fn an_unknown_task_is_refused_with_the_list_of_tasks() {
    let workspace = Workspace::new();
    let run = workspace.task("arith", "subtract", &["1", "2"]);
    assert_eq!(
        run.refusal(),
        "error: component has no task `subtract`; its tasks are: add, fib, sum\n"
    );
}

#[test]
fn malformed_kwargs_are_refused() {
    let workspace = Workspace::new();
    let run = workspace.task("arith", "add", &["--kwargs", "{oops"]);
    let stderr = run.refusal();
    assert!(
        stderr.starts_with("error: --kwargs is not valid JSON: "),
        "{stderr}"
    );
    let run = workspace.task("arith", "add", &["--kwargs", "[1, 2]"]);
    assert_eq!(
        run.refusal(),
        "error: kwargs must be a JSON object, got an array\n"
    );
}

#[test]
fn bad_limits_and_options_are_refused() {
    let workspace = Workspace::new();
    let arith = arith();
    let refused = |extra: &[&str]| {
        let mut args = vec!["run", arith.as_str(), "add", "1", "2"];
        args.extend_from_slice(extra);
        workspace.run(&args).refusal().to_owned()
    };
    let stderr = refused(&["--timeout", "soon"]);
    assert!(stderr.contains("`soon` is not a duration"), "{stderr}");
    let stderr = refused(&["--memory", "lots"]);
    assert!(stderr.contains("`lots` is not a size"), "{stderr}");
    let stderr = refused(&["--fuel", "0"]);
    assert!(
        stderr.contains("invalid limits: fuel, timeout and memory must all be above zero (fuel 0,"),
        "{stderr}"
    );
    let stderr = refused(&["--memory", "8GiB"]);
    assert!(
        stderr.contains("--memory 8589934592 bytes is above 4GiB"),
        "{stderr}"
    );
    assert_eq!(
        refused(&["--priority", "101"]),
        "error: priority 101 is outside -100..=100\n"
    );
}

/// Runs `arith add` with `args` and returns its InvalidArguments message.
fn invalid_arguments(workspace: &Workspace, task: &str, args: &[&str]) -> String {
    let failure = workspace.task("arith", task, args).failure();
    assert_eq!(failure.class, "wasmtasks.InvalidArguments", "{failure:?}");
    failure.message().to_owned()
}

#[test]
fn too_many_or_missing_arguments_fail_the_task() {
    let workspace = Workspace::new();
    assert_eq!(
        invalid_arguments(&workspace, "add", &["1", "2", "3"]),
        "add() takes 2 positional arguments but 3 were given"
    );
    assert_eq!(
        invalid_arguments(&workspace, "add", &["1"]),
        "add() missing 1 required argument: 'b'"
    );
    assert_eq!(
        invalid_arguments(&workspace, "add", &["1", "2", "--kwargs", r#"{"c": 3}"#]),
        "add() got an unexpected keyword argument 'c'"
    );
    assert_eq!(
        invalid_arguments(&workspace, "add", &["1", "--kwargs", r#"{"a": 2, "b": 3}"#]),
        "add() got multiple values for argument 'a'"
    );
}

#[test]
fn arguments_of_the_wrong_type_fail_the_task() {
    let workspace = Workspace::new();
    assert_eq!(
        invalid_arguments(&workspace, "add", &["x", "2"]),
        r#"argument 'a' of add(): invalid type: string "x", expected i64"#
    );
    assert_eq!(
        invalid_arguments(&workspace, "fib", &["-1"]),
        "argument 'n' of fib(): invalid value: integer `-1`, expected u32"
    );
    assert_eq!(
        invalid_arguments(&workspace, "sum", &["3"]),
        "argument 'values' of sum(): invalid type: integer `3`, expected a sequence"
    );
}

/// `u64::MAX` and past it, as a count, a duration and a size.
const HUGE: &str = "18446744073709551615";
const PAST_U64: &str = "18446744073709551616";
const HUGE_DURATION: &str = "18446744073709551615s";

#[test]
fn every_numeric_flag_refuses_a_value_past_its_maximum_by_name() {
    let workspace = crate::queue_support::queue_with(&["arith"]);
    let add = ["arith.add", "1", "2"];
    let run_add = [arith(), "add".into(), "1".into(), "2".into()];
    let run_add: Vec<&str> = run_add.iter().map(String::as_str).collect();
    // Each command with one flag set past its maximum, and what the refusal names.
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            [&["enqueue"][..], &add, &["--priority", PAST_U64]].concat(),
            "--priority",
        ),
        (
            [&["enqueue"][..], &add, &["--max-attempts", "4294967295"]].concat(),
            "max_attempts",
        ),
        (
            [&["enqueue"][..], &add, &["--backoff-factor", "1e400"]].concat(),
            "backoff_factor",
        ),
        ([&["enqueue"][..], &add, &["--fuel", HUGE]].concat(), "fuel"),
        (
            [&["enqueue"][..], &add, &["--fuel", PAST_U64]].concat(),
            "--fuel",
        ),
        (
            [&["enqueue"][..], &add, &["--timeout", HUGE_DURATION]].concat(),
            "maximum",
        ),
        (
            [&["enqueue"][..], &add, &["--timeout", "18446744073709552s"]].concat(),
            "maximum",
        ),
        (
            [&["enqueue"][..], &add, &["--memory", HUGE]].concat(),
            "memory",
        ),
        (
            [&["run"][..], &run_add, &["--fuel", PAST_U64]].concat(),
            "--fuel",
        ),
        (
            [&["run"][..], &run_add, &["--timeout", HUGE_DURATION]].concat(),
            "maximum",
        ),
        (
            [&["run"][..], &run_add, &["--memory", HUGE]].concat(),
            "memory",
        ),
        (
            vec!["worker", "--batch", "--interval", HUGE_DURATION],
            "maximum",
        ),
        (
            vec!["worker", "--batch", "--lease", HUGE_DURATION],
            "maximum",
        ),
        (
            vec!["worker", "--batch", "--grace-period", HUGE_DURATION],
            "maximum",
        ),
        (
            vec!["worker", "--batch", "--concurrency", HUGE],
            "--concurrency",
        ),
        (vec!["worker", "--batch", "--prefetch=-1"], "--prefetch"),
        (vec!["worker", "--batch", "--prefetch", HUGE], "--prefetch"),
        (
            vec!["worker", "--batch", "--max-tasks", PAST_U64],
            "--max-tasks",
        ),
        (vec!["serve", "--workers", HUGE], "--workers"),
        (
            vec!["serve", "--workers", "64", "--concurrency", "4096"],
            "slots",
        ),
        (vec!["serve", "--max-body-size", "16EiB"], "--max-body-size"),
        (vec!["jobs", "--limit", HUGE], "--limit"),
        (vec!["jobs", "--since", HUGE_DURATION], "maximum"),
        (vec!["prune", "--min-age-days", HUGE], "--min-age-days"),
        (
            vec!["prune", "--failed-min-age-days", "100000000"],
            "--failed-min-age-days",
        ),
        (vec!["result", "x", "--wait", HUGE_DURATION], "maximum"),
        (
            vec!["tenant", "set", "default", "--max-running", PAST_U64],
            "max-running",
        ),
        (
            vec!["tenant", "set", "default", "--max-fuel", PAST_U64],
            "max-fuel",
        ),
        (
            vec!["tenant", "set", "default", "--max-timeout", HUGE_DURATION],
            "max-timeout",
        ),
        (
            vec!["tenant", "set", "default", "--weight", HUGE],
            "--weight",
        ),
        (vec!["bench", "--jobs", PAST_U64], "--jobs"),
        (vec!["bench", "--concurrency", HUGE], "--concurrency"),
        (vec!["bench", "--prefetch", HUGE], "--prefetch"),
        (vec!["bench", "--runs", HUGE], "--runs"),
        (vec!["bench", "--prune", HUGE], "--prune"),
        (vec!["bench", "--tenants", "--flood", HUGE], "--flood"),
        (vec!["bench", "--claim-cost", HUGE], "--claim-cost"),
        (
            vec!["bench", "--claim-cost", "1000", "--claim-batch", HUGE],
            "--claim-batch",
        ),
    ];
    for (args, named) in cases {
        let run = workspace.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(named),
            "{args:?} names {named}: {}",
            run.stderr
        );
    }
    // u64::MAX attempts is a worker without a limit, not an overflow.
    let run = workspace.run(&["worker", "--batch", "--max-tasks", HUGE]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}
