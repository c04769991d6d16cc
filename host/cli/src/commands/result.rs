//! `wasmtasks result`: print a TaskResult, optionally waiting for it to finish.
//!
//! Exit codes: 0 when the job is READY, RUNNING or SUCCESSFUL (with `--wait`: once
//! SUCCESSFUL), 1 when it is FAILED or CANCELLED (with or without `--wait`), 2
//! when there is no such result, 3 when `--wait` gave up before it finished.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use wasmtasks::service::ServiceError;
use wasmtasks::task::TaskStatus;

use super::GlobalArgs;
use super::context;
use super::units::parse_duration;
use crate::output::{self, Format, OutputArgs};

/// Arguments of `wasmtasks result`.
#[derive(Debug, Args)]
pub struct ResultArgs {
    /// The result id (what enqueue printed).
    id: String,
    /// Wait until it finishes, at most this long [default when given without a value: 60s].
    #[arg(long, value_name = "TIMEOUT", num_args = 0..=1, default_missing_value = "60s", value_parser = parse_duration)]
    wait: Option<Duration>,
    #[command(flatten)]
    output: OutputArgs,
}

pub async fn execute(args: ResultArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let api = context::api(global).await?;
    let result = match args.wait {
        None => api.result(&args.id).await,
        Some(timeout) => api.wait(&args.id, timeout).await,
    };
    let result = match result {
        Ok(result) => result,
        Err(ServiceError::NotFound(message)) => {
            eprintln!("error: {message}");
            return Ok(ExitCode::from(2));
        }
        Err(error) => return Err(error.into()),
    };
    output::print_task_result(&result, args.output.format(Format::Json))?;
    Ok(match result.status {
        TaskStatus::Failed | TaskStatus::Cancelled => ExitCode::FAILURE,
        status if args.wait.is_some() && !status.is_finished() => {
            eprintln!(
                "still {status} after waiting {}",
                humantime::format_duration(args.wait.unwrap_or_default())
            );
            ExitCode::from(3)
        }
        _ => ExitCode::SUCCESS,
    })
}
