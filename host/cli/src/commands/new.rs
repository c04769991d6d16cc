//! `wasmtasks new NAME`: a task crate that builds on the first try, with one task,
//! a native unit test and a README of the commands that build, upload and run it;
//! with `--python`, the same as a Python task project.
//!
//! The guest SDK comes from the wasmtasks checkout this binary was built from
//! (a `path` dependency) when that checkout is still there, else from git; `--sdk`
//! chooses either (a path to a `guest-sdk` directory, or `git`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Args;

/// The repository the SDK is published from.
const SDK_GIT: &str = "https://github.com/wasmtasks/wasmtasks";

/// Arguments of `wasmtasks new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The crate's name (letters, digits, `_`, `-`); also its directory. The
    /// component is named after it, with `-` as `_`.
    name: String,
    /// Create it in this directory [default: ./NAME].
    #[arg(long)]
    path: Option<PathBuf>,
    /// Where the guest SDK comes from: `git`, or the path of a `guest-sdk`
    /// directory [default: this binary's checkout if present, else git].
    #[arg(long, value_name = "git|PATH")]
    sdk: Option<String>,
    /// A Python task project (`pyproject.toml`, `NAME.py`, a pytest test) instead
    /// of a Rust crate.
    #[arg(long)]
    python: bool,
}

/// Where a new project takes an SDK from: git, or a directory.
enum SdkSource {
    /// The repository, at this binary's version tag.
    Git,
    /// A directory holding the SDK (checked to hold its manifest).
    Dir(PathBuf),
}

/// Which SDK `--sdk` names: `git`, a directory (which must hold `manifest`), or by
/// default the one in this binary's checkout (`checkout`, relative to the
/// repository) when that checkout still exists, else git.
fn sdk_source(sdk: Option<&str>, checkout: &str, manifest: &str) -> anyhow::Result<SdkSource> {
    let dir = match sdk {
        Some("git") => return Ok(SdkSource::Git),
        Some(dir) => PathBuf::from(dir),
        None => {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../..")
                .join(checkout);
            if !dir.join(manifest).is_file() {
                return Ok(SdkSource::Git);
            }
            dir
        }
    };
    let dir = dir
        .canonicalize()
        .with_context(|| format!("the SDK directory {} does not exist", dir.display()))?;
    anyhow::ensure!(
        dir.join(manifest).is_file(),
        "{} is not the SDK's directory {checkout} (it has no {manifest})",
        dir.display()
    );
    Ok(SdkSource::Dir(dir))
}

/// What `pip install` takes for the Python SDK with its builder.
fn python_sdk_requirement(sdk: Option<&str>) -> anyhow::Result<String> {
    let version = env!("CARGO_PKG_VERSION");
    Ok(
        match sdk_source(sdk, "guest-sdk/python", "pyproject.toml")? {
            SdkSource::Git => format!(
                "wasmtasks-guest[build] @ git+{SDK_GIT}@v{version}#subdirectory=guest-sdk/python"
            ),
            SdkSource::Dir(dir) => format!("{}[build]", dir.display()),
        },
    )
}

/// The dependency line of the SDK.
fn sdk_dependency(sdk: Option<&str>) -> anyhow::Result<String> {
    let version = env!("CARGO_PKG_VERSION");
    Ok(match sdk_source(sdk, "guest-sdk", "Cargo.toml")? {
        SdkSource::Git => {
            format!("wasmtasks-guest = {{ git = \"{SDK_GIT}\", tag = \"v{version}\" }}")
        }
        SdkSource::Dir(dir) => format!(
            "wasmtasks-guest = {{ path = {:?} }}",
            dir.display().to_string()
        ),
    })
}

pub async fn execute(args: NewArgs) -> anyhow::Result<ExitCode> {
    let name = &args.name;
    let valid = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        bail!(
            "`{name}` is not a crate name: letters, digits, `_` or `-`, not starting with a digit"
        );
    }
    let component = name.replace('-', "_");
    let dir = args.path.clone().unwrap_or_else(|| PathBuf::from(name));
    if dir.exists() && dir.read_dir()?.next().is_some() {
        bail!("{} exists and is not empty", dir.display());
    }
    if args.python {
        return new_python(&dir, &component, args.sdk.as_deref());
    }
    let dependency = sdk_dependency(args.sdk.as_deref())?;
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let write = |file: &str, text: String| {
        let path = dir.join(file);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    write("Cargo.toml", cargo_toml(name, &dependency))?;
    write("src/lib.rs", lib_rs(&component))?;
    write("README.md", readme(name, &component))?;
    write(".gitignore", "/target\n*.sqlite3*\n".into())?;
    eprintln!(
        "created {} (component `{component}`, task `{component}.slugify`)",
        dir.display()
    );
    eprintln!("next: cd {} && wasmtasks build", dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Writes a Python task project for `component` in `dir`.
fn new_python(dir: &Path, component: &str, sdk: Option<&str>) -> anyhow::Result<ExitCode> {
    let requirement = python_sdk_requirement(sdk)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let write = |file: &str, text: String| {
        let path = dir.join(file);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    write("pyproject.toml", pyproject_toml(component))?;
    write(&format!("{component}.py"), python_module(component))?;
    write(&format!("test_{component}.py"), python_test(component))?;
    write("requirements.txt", format!("{requirement}\npytest\n"))?;
    write("README.md", python_readme(component))?;
    write(
        ".gitignore",
        "/.venv\n/build\n__pycache__/\n*.sqlite3*\n".into(),
    )?;
    eprintln!(
        "created {} (component `{component}`, task `{component}.slugify`)",
        dir.display()
    );
    eprintln!(
        "next: cd {} && python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && wasmtasks build",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn pyproject_toml(component: &str) -> String {
    format!(
        r#"[project]
name = "{component}"
version = "0.1.0"
requires-python = ">=3.12"
# Pure-Python dependencies listed here are bundled into the component.
dependencies = ["wasmtasks-guest"]

[tool.wasmtasks]
module = "{component}"
"#
    )
}

fn python_module(component: &str) -> String {
    format!(
        r#""""Tasks of the `{component}` component. Build it with `wasmtasks build`; its
tasks are `{component}.<function>`."""

import re

from wasmtasks_guest import task


@task
def slugify(title: str, separator: str = "-") -> str:
    """`title` as a URL slug: lower-case words joined by `separator`."""
    return separator.join(word.lower() for word in re.split(r"\W+", title) if word)
"#
    )
}

fn python_test(component: &str) -> String {
    format!(
        r#"import {component}


def test_slugify_joins_lower_case_words() -> None:
    assert {component}.slugify("Hello, World!") == "hello-world"
    assert {component}.slugify("a b", separator="_") == "a_b"
"#
    )
}

fn python_readme(component: &str) -> String {
    format!(
        r#"# {component}

A wasmtasks task component written in Python: its tasks run in a fresh
WebAssembly sandbox per attempt. Set up once, then build, upload and run it:

```sh
python3 -m venv .venv && .venv/bin/pip install -r requirements.txt   # the SDK, componentize-py, pytest
wasmtasks build                                # -> build/{component}.wasm
wasmtasks upload build/{component}.wasm        # stored as component `{component}`
wasmtasks enqueue {component}.slugify "Hello World" && wasmtasks worker --batch
```

`wasmtasks build` uses the project's `.venv` (or the active virtualenv, or
`$WASMTASKS_PYTHON`). `wasmtasks dev` does all three on every change you save,
with a worker running. `.venv/bin/pytest` runs the tests natively. Dependencies
must be pure Python (a package with C extensions cannot be bundled).
"#
    )
}

fn cargo_toml(name: &str, dependency: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
# cdylib: the component; rlib: native unit tests.
crate-type = ["cdylib", "rlib"]

[dependencies]
# The wasmtasks guest SDK. Without network access to its repository, point at a
# checkout instead: wasmtasks-guest = {{ path = "/path/to/wasmtasks/guest-sdk" }}
{dependency}
serde = {{ version = "1", features = ["derive"] }}

[profile.release]
lto = true
codegen-units = 1
panic = "abort"
# Keep the wasm `name` section, so the host's backtraces name your functions.
strip = "debuginfo"

# A workspace of its own, so it builds inside any other project's directory.
[workspace]
"#
    )
}

fn lib_rs(component: &str) -> String {
    format!(
        r##"//! Tasks of the `{component}` component. Build it with `wasmtasks build`;
//! its tasks are `{component}.<function>`.

#[wasmtasks_guest::component]
mod tasks {{
    use wasmtasks_guest::task;

    /// `title` as a URL slug: lower-case words joined by `separator` (default `-`).
    #[task]
    pub fn slugify(title: String, separator: Option<String>) -> String {{
        let separator = separator.unwrap_or_else(|| "-".to_owned());
        title
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(&separator)
    }}
}}

#[cfg(test)]
mod tests {{
    use super::*;

    #[test]
    fn slugify_joins_lower_case_words() {{
        assert_eq!(tasks::slugify("Hello, World!".into(), None), "hello-world");
        assert_eq!(tasks::slugify("a b".into(), Some("_".into())), "a_b");
        // What the host calls, with JSON arguments:
        assert_eq!(
            Component::run("slugify", r#"["Hi There"]"#, "{{}}", None).unwrap(),
            r#""hi-there""#
        );
    }}
}}
"##
    )
}

fn readme(name: &str, component: &str) -> String {
    format!(
        r#"# {name}

A wasmtasks task component: its tasks run in a fresh WebAssembly sandbox per
attempt. Build it, upload it, run it:

```sh
wasmtasks build                                                    # -> target/wasm32-wasip2/release/{component}.wasm
wasmtasks upload target/wasm32-wasip2/release/{component}.wasm     # stored as component `{component}`
wasmtasks enqueue {component}.slugify "Hello World" && wasmtasks worker --batch
```

`wasmtasks dev` does all three on every change you save, with a worker running.
`cargo test` runs the unit tests natively. `wasmtasks inspect
target/wasm32-wasip2/release/{component}.wasm` shows each task's signature.
"#
    )
}
