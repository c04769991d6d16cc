//! Builds the example task components (`tasks-examples/`) for `wasm32-wasip2`, so
//! that `cargo test` from a fresh clone needs no other step. They are a separate
//! workspace with their own target, so this runs a nested cargo on them; its
//! output lands in `<workspace>/target/wasm-guests`, where the README's
//! quickstart builds them too.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    let examples = root.join("tasks-examples");
    let target_dir = root.join("target").join("wasm-guests");
    println!(
        "cargo:rerun-if-changed={}",
        examples.join("Cargo.toml").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        examples.join("Cargo.lock").display()
    );
    for dir in ["arith", "welcome", "flaky", "hostile", "notify"] {
        println!("cargo:rerun-if-changed={}", examples.join(dir).display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        root.join("guest-sdk").display()
    );

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&examples)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir);
    // The outer build's settings are for the host target; the guests get their own.
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        command.env_remove(var);
    }
    let status = command
        .status()
        .expect("cannot run cargo to build the example tasks");
    assert!(
        status.success(),
        "building the example tasks for wasm32-wasip2 failed (see the output above)"
    );
    let out = target_dir.join("wasm32-wasip2").join("release");
    println!("cargo:rustc-env=WASMTASKS_EXAMPLES_DIR={}", out.display());
}
