//! `wasmtasks queues`: job counts per queue and status, and each queue's lag;
//! `wasmtasks queue pause|resume NAME`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use wasmtasks::service::queues::STATUSES;

use super::GlobalArgs;
use super::context;
use crate::output::{self, Format, OutputArgs};

/// Arguments of `wasmtasks queues`.
#[derive(Debug, Args)]
pub struct QueuesArgs {
    #[command(flatten)]
    output: OutputArgs,
}

pub async fn execute(args: QueuesArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let api = context::api(global).await?;
    let queues = api.queues().await?;
    if args.output.format(Format::Table) == Format::Json {
        output::json(&queues)?;
        return Ok(ExitCode::SUCCESS);
    }
    print!("{:<20}", "queue");
    for status in STATUSES {
        print!(" {:>10}", status.as_str());
    }
    println!("  {:>8}", "lag");
    for queue in &queues {
        print!("{:<20}", queue.queue_name);
        for status in STATUSES {
            print!(" {:>10}", queue.counts.get(&status).copied().unwrap_or(0));
        }
        let lag = queue
            .oldest_ready_age_seconds
            .map_or("-".to_owned(), |seconds| format!("{seconds:.1}s"));
        let note = match (queue.paused, queue.configured) {
            (true, _) => "  (paused: its jobs wait until it is resumed)",
            (false, false) => "  (not configured: its jobs wait)",
            (false, true) => "",
        };
        println!("  {lag:>8}{note}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `wasmtasks queue`.
#[derive(Debug, Args)]
pub struct QueueArgs {
    #[command(subcommand)]
    action: QueueAction,
}

/// What to do to a queue.
#[derive(Debug, Subcommand)]
enum QueueAction {
    /// Stop workers claiming the queue's jobs (they stay READY); stored, so it
    /// outlives every worker.
    Pause {
        /// The queue.
        name: String,
    },
    /// Let workers claim the queue's jobs again.
    Resume {
        /// The queue.
        name: String,
    },
}

pub async fn execute_control(args: QueueArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let api = context::api(global).await?;
    let (name, paused) = match &args.action {
        QueueAction::Pause { name } => (name, true),
        QueueAction::Resume { name } => (name, false),
    };
    let change = api.queue_set_paused(name, paused).await?;
    let state = if paused { "paused" } else { "running" };
    let already = if change.changed {
        ""
    } else {
        " (it already was)"
    };
    println!("queue {}: {state}{already}", change.queue_name);
    Ok(ExitCode::SUCCESS)
}
