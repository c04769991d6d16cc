//! `wasmtasks usage`: what the tenant used per UTC day — jobs finished by status,
//! attempts, fuel, attempt time, peak memory, HTTP requests — and in all.

use std::process::ExitCode;

use chrono::NaiveDate;
use clap::Args;
use wasmtasks::store::UsageCounts;

use super::GlobalArgs;
use super::context;
use crate::output::{self, Format, OutputArgs};

/// Arguments of `wasmtasks usage`.
#[derive(Debug, Args)]
pub struct UsageArgs {
    /// The first day, YYYY-MM-DD (UTC) [default: 29 days before --to].
    #[arg(long)]
    from: Option<NaiveDate>,
    /// The last day, included [default: today].
    #[arg(long)]
    to: Option<NaiveDate>,
    #[command(flatten)]
    output: OutputArgs,
}

pub async fn execute(args: UsageArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let api = context::api(global).await?;
    let report = api.usage(args.from, args.to).await?;
    if args.output.format(Format::Table) == Format::Json {
        output::json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "tenant {} from {} to {} (UTC days)",
        report.tenant, report.from, report.to
    );
    println!(
        "{:<10} {:>10} {:>8} {:>9} {:>9} {:>16} {:>12} {:>12} {:>8}",
        "day",
        "successful",
        "failed",
        "cancelled",
        "attempts",
        "fuel",
        "attempt ms",
        "peak memory",
        "http"
    );
    for day in &report.days {
        print_row(&day.day.to_string(), &day.used);
    }
    print_row("total", &report.total);
    Ok(ExitCode::SUCCESS)
}

fn print_row(label: &str, used: &UsageCounts) {
    println!(
        "{label:<10} {:>10} {:>8} {:>9} {:>9} {:>16} {:>12.1} {:>12} {:>8}",
        used.successful,
        used.failed,
        used.cancelled,
        used.attempts,
        used.fuel_consumed,
        used.attempt_us as f64 / 1000.0,
        used.peak_memory_bytes,
        used.http_requests
    );
}
