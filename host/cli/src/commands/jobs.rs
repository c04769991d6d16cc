//! `wasmtasks jobs`, `cancel` and `retry`: find jobs, withdraw them, run them again.
//!
//! Retry puts a FAILED or CANCELLED job back to READY at once. Its attempts are
//! kept (the TaskResult lists them all, and attempt numbers go on from where they
//! were); it gets a fresh budget of `max_attempts` more attempts, as a River
//! `JobRetry` or a Celery `retry()` of a failed task does.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use chrono::Utc;
use clap::Args;
use wasmtasks::service::jobs::JobFilter;
use wasmtasks::store::{RetryOutcome, RetrySelection};
use wasmtasks::task::TaskStatus;

use super::GlobalArgs;
use super::context;
use super::units::parse_duration;
use crate::output::{self, Format, OutputArgs};

/// Arguments of `wasmtasks jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Only these statuses (READY, RUNNING, SUCCESSFUL, FAILED, CANCELLED), comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_status)]
    status: Vec<TaskStatus>,
    /// Only this queue.
    #[arg(long)]
    queue: Option<String>,
    /// Only this component (`arith`) or task (`arith.add`).
    #[arg(long)]
    task: Option<String>,
    /// Only jobs enqueued this recently, e.g. 1h, 30m, 7d.
    #[arg(long, value_parser = parse_duration)]
    since: Option<Duration>,
    /// At most this many (1..=1000).
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Continue after this cursor (the last line of the previous page says it).
    #[arg(long)]
    cursor: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

fn parse_status(text: &str) -> Result<TaskStatus, String> {
    serde_json::from_value(serde_json::Value::String(text.to_ascii_uppercase())).map_err(|_| {
        format!("unknown status `{text}`: use READY, RUNNING, SUCCESSFUL, FAILED or CANCELLED")
    })
}

pub async fn list(args: JobsArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let since = match args.since {
        None => None,
        Some(age) => Some(
            chrono::Duration::from_std(age)
                .ok()
                .and_then(|age| Utc::now().checked_sub_signed(age))
                .ok_or_else(|| anyhow::anyhow!("--since reaches before the year 0"))?,
        ),
    };
    let api = context::api(global).await?;
    let page = api
        .jobs(JobFilter {
            statuses: args.status,
            queue_name: args.queue,
            task: args.task,
            since,
            until: None,
            cursor: args.cursor,
            limit: Some(args.limit),
        })
        .await?;
    if args.output.format(Format::Json) == Format::Json {
        output::json(&page)?;
        return Ok(ExitCode::SUCCESS);
    }
    if page.jobs.is_empty() {
        println!("no jobs");
    } else {
        println!(
            "{:<36}  {:<24} {:<10} {:<12} {:>8}  {:<23}  last error",
            "id", "task", "status", "queue", "attempts", "enqueued"
        );
    }
    for job in &page.jobs {
        println!(
            "{:<36}  {:<24} {:<10} {:<12} {:>8}  {:<23}  {}",
            job.id,
            job.task_path,
            job.status,
            job.queue_name,
            job.attempts,
            output::time(job.enqueued_at),
            job.last_error.as_deref().unwrap_or("-")
        );
    }
    if let Some(cursor) = &page.next_cursor {
        println!("more: wasmtasks jobs --cursor {cursor} …");
    }
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `wasmtasks cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The result ids.
    #[arg(required = true)]
    ids: Vec<String>,
}

pub async fn cancel(args: CancelArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let api = context::api(global).await?;
    let mut refused = 0;
    for id in &args.ids {
        match api.cancel(id).await {
            Ok(_) => println!("cancelled {id}"),
            Err(error) => {
                eprintln!("error: {error}");
                refused += 1;
            }
        }
    }
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// Arguments of `wasmtasks retry`.
#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The FAILED or CANCELLED jobs to retry.
    #[arg(required_unless_present = "all_failed", conflicts_with = "all_failed")]
    ids: Vec<String>,
    /// Instead, every FAILED job (of --task, if given).
    #[arg(long)]
    all_failed: bool,
    /// With --all-failed: only this component (`arith`) or task (`arith.add`).
    #[arg(long, requires = "all_failed")]
    task: Option<String>,
}

pub async fn retry(args: RetryArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let selection = if args.all_failed {
        let (component, task_name) = wasmtasks::service::jobs::task_filter(args.task.as_deref())?;
        RetrySelection::Failed {
            component,
            task_name,
        }
    } else {
        RetrySelection::Ids(args.ids)
    };
    let api = context::api(global).await?;
    let outcomes = api.retry(selection).await?;
    let mut refused = 0;
    for outcome in &outcomes {
        match (outcome, outcome.refusal()) {
            (RetryOutcome::Retried { id }, _) => println!("retried {id}"),
            (_, refusal) => {
                refused += 1;
                eprintln!("error: {}", refusal.unwrap_or_default());
            }
        }
    }
    if args.all_failed {
        eprintln!("retried {} failed jobs", outcomes.len());
    }
    if refused > 0 {
        bail!("{refused} of {} jobs were not retried", outcomes.len());
    }
    Ok(ExitCode::SUCCESS)
}
