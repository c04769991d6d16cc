//! The `wasmtasks` command line. Raw clap flags are turned into validated settings
//! once, here; the work itself lives in the library.

mod bench;
mod cancel;
mod components;
mod config;
mod context;
mod enqueue;
mod grant;
mod inspect;
mod prune;
mod queues;
mod result;
mod run;
mod units;
mod upload;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Django-style background tasks, each run as a sandboxed WebAssembly component.
#[derive(Debug, Parser)]
#[command(name = "wasmtasks", version, about)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,

    #[command(subcommand)]
    command: Command,
}

/// Flags every command takes; they override the configuration file.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file [default: wasmtasks.toml if it exists].
    #[arg(long, global = true, env = "WASMTASKS_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database URL, e.g. sqlite://wasmtasks.sqlite3 (overrides the configuration and WASMTASKS_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    database: Option<String>,
    /// Directory for compiled components [default: $XDG_CACHE_HOME/wasmtasks or ~/.cache/wasmtasks].
    #[arg(long, global = true, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show a component file's tasks and their declared defaults.
    Inspect(inspect::InspectArgs),
    /// Run one task of a component file once, now, and print its TaskResult as JSON.
    Run(run::RunArgs),
    /// Validate a component and store it as the newest version of its name.
    Upload(upload::UploadArgs),
    /// Enqueue a task by path (`component.task`), or many from a JSON-lines file.
    Enqueue(enqueue::EnqueueArgs),
    /// Claim and run jobs (Django's db_worker).
    Worker(worker::WorkerArgs),
    /// Print a TaskResult as JSON, optionally waiting for it to finish.
    Result(result::ResultArgs),
    /// Cancel a READY job.
    Cancel(cancel::CancelArgs),
    /// Delete finished results by age.
    Prune(prune::PruneArgs),
    /// List uploaded components, their versions and tasks.
    Components(components::ComponentsArgs),
    /// Set, unset and list a component's configuration values and secrets.
    Config(config::ConfigArgs),
    /// Allow a component to send HTTP requests to origins (or list its origins).
    Grant(grant::GrantArgs),
    /// Take back HTTP origins from a component.
    Revoke(grant::GrantArgs),
    /// Show job counts per queue and status.
    Queues(queues::QueuesArgs),
    /// Measure throughput (W1) and latency (W2) on a fresh database.
    Bench(bench::BenchArgs),
}

impl Cli {
    /// Runs the chosen subcommand.
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let global = self.global;
        match self.command {
            Command::Inspect(args) => inspect::execute(args, &global).await,
            Command::Run(args) => run::execute(args, &global).await,
            Command::Upload(args) => upload::execute(args, &global).await,
            Command::Enqueue(args) => enqueue::execute(args, &global).await,
            Command::Worker(args) => worker::execute(args, &global).await,
            Command::Result(args) => result::execute(args, &global).await,
            Command::Cancel(args) => cancel::execute(args, &global).await,
            Command::Prune(args) => prune::execute(args, &global).await,
            Command::Components(args) => components::execute(args, &global).await,
            Command::Config(args) => config::execute(args, &global).await,
            Command::Grant(args) => grant::execute(args, true, &global).await,
            Command::Revoke(args) => grant::execute(args, false, &global).await,
            Command::Queues(args) => queues::execute(args, &global).await,
            Command::Bench(args) => bench::execute(args, &global).await,
        }
    }
}

/// The component name a file stands for: its stem, e.g. `arith` for `arith.wasm`.
fn component_name(path: &std::path::Path) -> anyhow::Result<String> {
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .ok_or_else(|| anyhow::anyhow!("cannot take a component name from {}", path.display()))?;
    anyhow::ensure!(
        wasmtasks::task::path::is_valid_name(stem),
        "the file name `{stem}` is not a valid component name (letters, digits, `_`, `-`); pass --name"
    );
    Ok(stem.to_owned())
}
