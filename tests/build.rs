//! Builds the example task components (`tasks-examples/`) for `wasm32-wasip2`, so
//! that `cargo test` from a fresh clone needs no other step: the target is added
//! with rustup when the toolchain lacks it. The examples are a separate workspace
//! with their own target; their output lands in `<workspace>/target/wasm-guests`,
//! where the README's quickstart builds them too.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    let examples = root.join("tasks-examples");
    for watched in [
        examples.join("Cargo.toml"),
        examples.join("Cargo.lock"),
        root.join("guest-sdk"),
    ] {
        println!("cargo:rerun-if-changed={}", watched.display());
    }
    for dir in ["arith", "welcome", "flaky", "hostile", "notify"] {
        println!("cargo:rerun-if-changed={}", examples.join(dir).display());
    }
    let target_dir = root.join("target").join("wasm-guests");
    match wasmtasks_toolchain::build(&examples, Some(&target_dir)) {
        Ok(out) => println!("cargo:rustc-env=WASMTASKS_EXAMPLES_DIR={}", out.display()),
        // One line a person can act on, which fails the build.
        Err(error) => println!("cargo::error={error}"),
    }
}
