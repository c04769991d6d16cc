//! `wasmtasks queues`: job counts per queue and status.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Args;
use wasmtasks::task::TaskStatus;

use super::GlobalArgs;
use super::context::Context;

/// Arguments of `wasmtasks queues`.
#[derive(Debug, Args)]
pub struct QueuesArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

const STATUSES: [TaskStatus; 5] = [
    TaskStatus::Ready,
    TaskStatus::Running,
    TaskStatus::Successful,
    TaskStatus::Failed,
    TaskStatus::Cancelled,
];

pub async fn execute(args: QueuesArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let context = Context::open(global, 1).await?;
    let stats = context
        .registry
        .store()
        .queue_stats(context.tenant())
        .await?;
    // Every configured queue is shown, with zeros if it has no jobs.
    let mut table: BTreeMap<String, BTreeMap<&str, u64>> = context
        .settings
        .queues
        .keys()
        .map(|queue| {
            (
                queue.clone(),
                STATUSES.iter().map(|s| (s.as_str(), 0)).collect(),
            )
        })
        .collect();
    for stat in &stats {
        let row = table
            .entry(stat.queue_name.clone())
            .or_insert_with(|| STATUSES.iter().map(|s| (s.as_str(), 0)).collect());
        row.insert(stat.status.as_str(), stat.count);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&table)?);
        return Ok(ExitCode::SUCCESS);
    }
    print!("{:<20}", "queue");
    for status in STATUSES {
        print!(" {:>10}", status.as_str());
    }
    println!();
    for (queue, counts) in &table {
        print!("{queue:<20}");
        for status in STATUSES {
            print!(" {:>10}", counts[status.as_str()]);
        }
        println!();
    }
    Ok(ExitCode::SUCCESS)
}
