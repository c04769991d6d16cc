//! `wasmtasks prune`: delete finished results by age.

use std::process::ExitCode;

use chrono::{Duration, Utc};
use clap::Args;
use wasmtasks::store::JobPrune;

use super::GlobalArgs;
use super::context::Context;

/// Arguments of `wasmtasks prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Delete SUCCESSFUL and CANCELLED results finished at least this many days ago [default: the configuration's purge.finished_min_age_days].
    #[arg(long)]
    min_age_days: Option<u32>,
    /// Delete FAILED results finished at least this many days ago [default: --min-age-days if given, else purge.failed_min_age_days].
    #[arg(long)]
    failed_min_age_days: Option<u32>,
    /// Only these queues, comma-separated.
    #[arg(long, value_delimiter = ',')]
    queue_name: Vec<String>,
    /// Count what would be deleted; delete nothing.
    #[arg(long)]
    dry_run: bool,
}

pub async fn execute(args: PruneArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let context = Context::open(global, 1).await?;
    let purge = context.settings.purge;
    let finished_days = args.min_age_days.unwrap_or(purge.finished_min_age_days);
    let failed_days = args
        .failed_min_age_days
        .or(args.min_age_days)
        .unwrap_or(purge.failed_min_age_days);
    let now = Utc::now();
    let report = context
        .registry
        .store()
        .job_prune(JobPrune {
            tenant: context.tenant().to_owned(),
            finished_before: now - Duration::days(i64::from(finished_days)),
            failed_before: now - Duration::days(i64::from(failed_days)),
            queues: (!args.queue_name.is_empty()).then_some(args.queue_name),
            dry_run: args.dry_run,
        })
        .await?;
    let verb = if args.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    println!(
        "{verb} {} successful, {} failed, {} cancelled results and {} unused component versions",
        report.successful, report.failed, report.cancelled, report.component_versions
    );
    Ok(ExitCode::SUCCESS)
}
