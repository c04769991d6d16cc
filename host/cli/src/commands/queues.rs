//! `wasmtasks queues`: job counts per queue and status, and each queue's lag.

use std::process::ExitCode;

use clap::Args;
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
        let note = if queue.configured {
            ""
        } else {
            "  (not configured: its jobs wait)"
        };
        println!("  {lag:>8}{note}");
    }
    Ok(ExitCode::SUCCESS)
}
