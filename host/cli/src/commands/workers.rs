//! `wasmtasks workers`: the registered workers — live, lost (heartbeat stopped)
//! or stopped — and the jobs each is running.

use std::process::ExitCode;

use clap::Args;
use wasmtasks::store::WorkerState;

use super::GlobalArgs;
use super::context;
use crate::output::{self, Format, OutputArgs};

/// Arguments of `wasmtasks workers`.
#[derive(Debug, Args)]
pub struct WorkersArgs {
    /// Also list workers that stopped or were lost.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    output: OutputArgs,
}

pub async fn execute(args: WorkersArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let api = context::api(global).await?;
    let workers: Vec<_> = api
        .workers()
        .await?
        .into_iter()
        .filter(|worker| args.all || worker.state == WorkerState::Live)
        .collect();
    if args.output.format(Format::Table) == Format::Json {
        output::json(&workers)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<40} {:<8} {:>7} {:>8} {:<20} {:>27}",
        "worker", "state", "running", "slots", "queues", "last heartbeat"
    );
    for worker in &workers {
        let state = match worker.state {
            WorkerState::Live => "live",
            WorkerState::Lost => "LOST",
            WorkerState::Stopped => "stopped",
        };
        println!(
            "{:<40} {:<8} {:>7} {:>8} {:<20} {:>27}",
            worker.id,
            state,
            worker.running.len(),
            worker.concurrency,
            worker.queues,
            output::time(worker.heartbeat_at)
        );
        for job in &worker.running {
            println!("    {} {} (attempt {})", job.id, job.task_path, job.attempt);
        }
    }
    Ok(ExitCode::SUCCESS)
}
