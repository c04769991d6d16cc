//! `wasmtasks prune`: delete finished results by age; with `--components`, also
//! the component versions that are not their name's newest and that no job left
//! pins. `--dry-run` counts exactly what the same run would delete.

use std::process::ExitCode;

use chrono::{Duration, Utc};
use clap::Args;
use wasmtasks::store::JobPrune;
use wasmtasks::tenant::{DEFAULT_TENANT, Principal};

use super::GlobalArgs;
use super::context;

/// The most days an age may be.
const MAX_DAYS: u32 = 36_500;

/// Arguments of `wasmtasks prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Delete SUCCESSFUL and CANCELLED results finished at least this many days ago (0..=36500) [default: the configuration's purge.finished_min_age_days].
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=MAX_DAYS as i64))]
    min_age_days: Option<u32>,
    /// Delete FAILED results finished at least this many days ago (0..=36500) [default: --min-age-days if given, else purge.failed_min_age_days].
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=MAX_DAYS as i64))]
    failed_min_age_days: Option<u32>,
    /// Only these queues, comma-separated.
    #[arg(long, value_delimiter = ',')]
    queue_name: Vec<String>,
    /// Also delete component versions that are not their name's newest and that
    /// no remaining job pins (and their bytes).
    #[arg(long)]
    components: bool,
    /// Count what would be deleted; delete nothing.
    #[arg(long)]
    dry_run: bool,
}

pub async fn execute(args: PruneArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    context::local_only(global, "prune")?;
    let settings = context::settings(global)?;
    let purge = settings.purge;
    let finished_days = args.min_age_days.unwrap_or(purge.finished_min_age_days);
    let failed_days = args
        .failed_min_age_days
        .or(args.min_age_days)
        .unwrap_or(purge.failed_min_age_days);
    let services = context::services(settings, 1).await?;
    let tenant = global.tenant.as_deref().unwrap_or(DEFAULT_TENANT);
    let now = Utc::now();
    let report = services
        .jobs()
        .prune(
            &Principal::operator(tenant),
            JobPrune {
                tenant: tenant.to_owned(),
                finished_before: now - Duration::days(i64::from(finished_days)),
                failed_before: now - Duration::days(i64::from(failed_days)),
                queues: (!args.queue_name.is_empty()).then_some(args.queue_name),
                components: args.components,
                dry_run: args.dry_run,
            },
        )
        .await?;
    let verb = if args.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    print!(
        "{verb} {} successful, {} failed, {} cancelled results",
        report.successful, report.failed, report.cancelled
    );
    if args.components {
        print!(", {} unused component versions", report.component_versions);
    }
    println!(", {} job status events", report.events);
    Ok(ExitCode::SUCCESS)
}
