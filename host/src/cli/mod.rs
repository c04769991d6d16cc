//! The `wasmtasks` command line. Raw clap flags are turned into validated settings
//! once, here; the work itself lives in the library.

mod inspect;
mod run;
mod units;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use wasmtasks::sandbox::{Sandbox, SandboxConfig};

/// Django-style background tasks, each run as a sandboxed WebAssembly component.
#[derive(Debug, Parser)]
#[command(name = "wasmtasks", version, about)]
pub struct Cli {
    /// Directory for compiled components [default: $XDG_CACHE_HOME/wasmtasks or ~/.cache/wasmtasks].
    #[arg(long, global = true, env = "WASMTASKS_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show a component's tasks and their declared defaults.
    Inspect(inspect::InspectArgs),
    /// Run one task once in the sandbox and print its TaskResult as JSON.
    Run(run::RunArgs),
}

impl Cli {
    /// Runs the chosen subcommand.
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let cache_dir = self.cache_dir.or_else(default_cache_dir);
        match self.command {
            Command::Inspect(args) => inspect::execute(args, cache_dir).await,
            Command::Run(args) => run::execute(args, cache_dir).await,
        }
    }
}

/// A sandbox with the command line's cache directory and any other overrides.
fn sandbox(cache_dir: Option<PathBuf>, config: SandboxConfig) -> anyhow::Result<Sandbox> {
    Ok(Sandbox::new(SandboxConfig {
        cache_dir,
        ..config
    })?)
}

fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("wasmtasks"))
}

/// The component name a file stands for: its stem, e.g. `arith` for `arith.wasm`.
fn component_name(path: &std::path::Path) -> anyhow::Result<String> {
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .ok_or_else(|| anyhow::anyhow!("cannot take a component name from {}", path.display()))?;
    anyhow::ensure!(
        wasmtasks::task::TaskPath::parse(&format!("{stem}.x")).is_ok(),
        "the file name `{stem}` is not a valid component name (letters, digits, `_`, `-`)"
    );
    Ok(stem.to_owned())
}
