//! Smoke tests of the `wasmtasks` binary itself. (Being an integration test of this
//! package, this file also makes `cargo test --workspace` build the binary that the
//! end-to-end suite in `tests/` drives.)

use std::process::Command;

fn wasmtasks(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_wasmtasks"))
        .args(args)
        .env(
            "WASMTASKS_CACHE_DIR",
            std::env::temp_dir().join("wasmtasks-cli-smoke"),
        )
        .output()
        .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn help_lists_every_command() {
    let (code, stdout, _) = wasmtasks(&["--help"]);
    assert_eq!(code, 0);
    for command in [
        "inspect",
        "run",
        "upload",
        "enqueue",
        "worker",
        "result",
        "cancel",
        "prune",
        "components",
        "queues",
        "bench",
    ] {
        assert!(
            stdout.contains(command),
            "`{command}` missing from:\n{stdout}"
        );
    }
}

#[test]
fn version_is_the_crate_version() {
    let (code, stdout, _) = wasmtasks(&["--version"]);
    assert_eq!(
        (code, stdout.trim()),
        (
            0,
            format!("wasmtasks {}", env!("CARGO_PKG_VERSION")).as_str()
        )
    );
}

#[test]
fn refused_input_exits_2_with_the_cause_once() {
    let (code, stdout, stderr) = wasmtasks(&["inspect", "/no/such/component.wasm"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(
        stderr.starts_with("error: cannot read /no/such/component.wasm: "),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "the cause is printed once: {stderr}"
    );
}
