//! `wasmtasks build`: build a task crate (or a workspace of them) into components,
//! adding the `wasm32-wasip2` target first if the toolchain lacks it; or a Python
//! task project (a `pyproject.toml` with `[tool.wasmtasks]`) with the Python SDK's
//! builder. Prints the path of each component built.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

/// Arguments of `wasmtasks build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The task crate, workspace or Python task project.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Where the output goes [default: the crate's target/; a Python project's build/].
    #[arg(long, value_name = "DIR")]
    target_dir: Option<PathBuf>,
}

pub async fn execute(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let dir = args.dir.clone();
    let target_dir = args.target_dir.clone();
    if wasmtasks_toolchain::python::is_python_project(&dir) {
        let built = tokio::task::spawn_blocking(move || {
            wasmtasks_toolchain::python::build_python(&dir, target_dir.as_deref())
        })
        .await
        .context("the build thread failed")??;
        println!("{}", built.display());
        return Ok(ExitCode::SUCCESS);
    }
    let out = tokio::task::spawn_blocking(move || {
        wasmtasks_toolchain::build(&dir, target_dir.as_deref())
    })
    .await
    .context("the build thread failed")??;
    let mut built: Vec<PathBuf> = std::fs::read_dir(&out)
        .with_context(|| format!("cannot list {}", out.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .collect();
    built.sort();
    for path in built {
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
