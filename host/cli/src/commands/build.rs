//! `wasmtasks build`: build a task crate (or a workspace of them) into components,
//! adding the `wasm32-wasip2` target first if the toolchain lacks it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

/// Arguments of `wasmtasks build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The task crate or workspace.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Where cargo puts its output [default: the crate's target/].
    #[arg(long, value_name = "DIR")]
    target_dir: Option<PathBuf>,
}

pub async fn execute(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let dir = args.dir.clone();
    let target_dir = args.target_dir.clone();
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
