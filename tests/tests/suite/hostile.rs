//! Every hostile behaviour is contained and reported with its exact class.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::json;
use wasmtasks_tests::Workspace;

/// The default cap on each captured stream (64 KiB).
const OUTPUT_CAP: usize = 64 << 10;

fn fuel_consumed(attempt: &serde_json::Value) -> u64 {
    attempt["fuel_consumed"]
        .as_u64()
        .expect("fuel_consumed is a number")
}

#[test]
fn spin_is_ended_by_the_deadline_with_the_fuel_it_burnt() {
    let workspace = Workspace::new();
    let run = workspace.task("hostile", "spin", &["--timeout", "300ms"]);
    let failure = run.failure();
    assert_eq!(failure.class, "wasmtasks.Timeout");
    assert_eq!(
        failure.message(),
        "the attempt ran past its deadline of 300ms"
    );
    assert!(failure.traceback.contains("wasm backtrace"), "{failure:?}");
    // The fuel burnt until the deadline is flushed into the report, not lost.
    let attempt = run.attempt();
    assert!(fuel_consumed(&attempt) > 0, "{attempt:#}");
}

#[test]
fn spin_is_ended_by_fuel_at_exactly_its_budget() {
    let workspace = Workspace::new();
    let run = workspace.task("hostile", "spin", &["--fuel", "1000000"]);
    let failure = run.failure();
    assert_eq!(failure.class, "wasmtasks.OutOfFuel");
    assert_eq!(failure.message(), "the attempt used up its fuel");
    assert_eq!(fuel_consumed(&run.attempt()), 1_000_000);
}

#[test]
fn memory_bomb_hits_the_default_cap() {
    let workspace = Workspace::new();
    let run = workspace.task("hostile", "memory_bomb", &[]);
    let failure = run.failure();
    assert_eq!(failure.class, "wasmtasks.MemoryLimit");
    assert!(
        failure.message().ends_with("the limit is 134217728"),
        "{failure:?}"
    );
    let peak = run.attempt()["peak_memory_bytes"].as_u64().unwrap();
    assert!(peak <= 128 << 20 && peak > 64 << 20, "peak {peak}");
}

#[test]
fn memory_bomb_hits_a_cap_set_on_the_command_line() {
    let workspace = Workspace::new();
    let run = workspace.task("hostile", "memory_bomb", &["--memory", "16MiB"]);
    let failure = run.failure();
    assert_eq!(failure.class, "wasmtasks.MemoryLimit");
    assert!(
        failure
            .message()
            .starts_with("linear memory limit exceeded")
    );
    assert!(
        failure.message().ends_with("the limit is 16777216"),
        "{failure:?}"
    );
    let peak = run.attempt()["peak_memory_bytes"].as_u64().unwrap();
    assert!(peak <= 16 << 20, "peak {peak}");
}

#[test]
fn panic_is_reported_with_its_message() {
    let workspace = Workspace::new();
    let run = workspace.task("hostile", "panic", &["boom"]);
    let failure = run.failure();
    assert_eq!(failure.class, "wasmtasks.Panic");
    assert!(
        failure.message().starts_with("boom (panicked at "),
        "{failure:?}"
    );
    assert!(failure.traceback.contains("\nboom\n"), "{failure:?}");
    let stderr = run.attempt()["stderr"].as_str().unwrap().to_owned();
    assert!(stderr.contains("panicked at"), "{stderr}");
}

#[test]
fn deep_recursion_overflows_the_wasm_stack() {
    let workspace = Workspace::new();
    let run = workspace.task("hostile", "recurse", &["100000000"]);
    let failure = run.failure();
    assert_eq!(failure.class, "wasmtasks.StackOverflow");
    assert_eq!(failure.message(), "the wasm call stack overflowed");
    assert!(failure.traceback.contains("descend"), "{failure:?}");
    // A shallow recursion is fine.
    let run = workspace.task("hostile", "recurse", &["1000"]);
    assert_eq!(run.returned(), json!(1000));
}

#[test]
fn files_are_out_of_reach() {
    let workspace = Workspace::new();
    let run = workspace.task("hostile", "read_file", &["/etc/passwd"]);
    let failure = run.failure();
    assert_eq!(failure.class, "hostile.Denied");
    assert!(
        failure
            .message()
            .starts_with(r#"cannot read "/etc/passwd": "#),
        "{failure:?}"
    );
    assert!(!run.stdout.contains("root:"), "{}", run.stdout);
}

#[test]
fn the_environment_is_empty() {
    let workspace = Workspace::new();
    let run = workspace.task("hostile", "read_env", &["HOME"]);
    let failure = run.failure();
    assert_eq!(failure.class, "hostile.Denied");
    assert_eq!(
        failure.message(),
        r#"cannot read environment variable "HOME": environment variable not found"#
    );
    let run = workspace.task("hostile", "env", &[]);
    assert_eq!(run.returned(), json!([]));
}

#[test]
fn the_network_is_out_of_reach() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let workspace = Workspace::new();
    let run = workspace.task("hostile", "connect", &[&addr]);
    let failure = run.failure();
    assert_eq!(failure.class, "hostile.Denied");
    assert!(
        failure
            .message()
            .starts_with(&format!("cannot connect to {addr:?}: ")),
        "{failure:?}"
    );
    match listener.accept() {
        Err(error) if error.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the guest reached the listener: {other:?}"),
    }
}

/// Floods `stream` with a million bytes and checks the capture kept the cap.
fn flood(stream: &str, other: &str) {
    let workspace = Workspace::new();
    let run = workspace.task("hostile", "flood", &[stream, "1000000"]);
    assert_eq!(run.returned(), json!(1_000_000));
    let attempt = run.attempt();
    let captured = attempt[stream].as_str().unwrap();
    let marker = format!("\n[... {} bytes truncated ...]\n", 1_000_000 - OUTPUT_CAP);
    assert!(captured.contains(&marker), "no marker in {stream}");
    assert!(
        captured.len() <= OUTPUT_CAP + marker.len(),
        "{}",
        captured.len()
    );
    assert!(captured.starts_with("xxxxxxxx") && captured.ends_with("x\n"));
    assert_eq!(attempt[other], "");
}

#[test]
fn a_stdout_flood_is_capped() {
    flood("stdout", "stderr");
}

#[test]
fn a_stderr_flood_is_capped() {
    flood("stderr", "stdout");
}

#[test]
fn a_guest_blocked_in_sleep_is_ended_by_the_deadline() {
    let workspace = Workspace::new();
    let started = Instant::now();
    let run = workspace.task("hostile", "sleep_ms", &["10000", "--timeout", "300ms"]);
    let elapsed = started.elapsed();
    let failure = run.failure();
    assert_eq!(failure.class, "wasmtasks.Timeout");
    assert!(
        failure.message().contains("deadline of 300ms"),
        "{failure:?}"
    );
    // Well under the 10 s sleep, process start and compile included.
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
}

#[test]
fn no_state_survives_from_one_run_to_the_next() {
    let workspace = Workspace::new();
    assert_eq!(
        workspace.task("hostile", "counter", &[]).returned(),
        json!(1)
    );
    assert_eq!(
        workspace.task("hostile", "counter", &[]).returned(),
        json!(1)
    );
}

#[test]
fn a_huge_error_is_cut_to_size_head_and_tail_kept() {
    let workspace = Workspace::new();
    let bytes = 20_000_000;
    let run = workspace.task("hostile", "huge_error", &[&bytes.to_string()]);
    let failure = run.failure();
    assert_eq!(failure.class, "hostile.Denied");
    // The message keeps its first and last 2 KiB around the marked cut.
    let head = failure.message();
    assert!(head.len() <= 2048 && head.starts_with("eeee"), "{head}");
    let cut = format!("\n[... {} bytes truncated ...]\n", bytes - 4096);
    assert!(
        failure.traceback.contains(&cut),
        "{}",
        &failure.traceback[..3000]
    );
    assert!(
        failure.traceback.len() < 64 << 10,
        "{}",
        failure.traceback.len()
    );
}
