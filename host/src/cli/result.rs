//! `wasmtasks result`: print a TaskResult, optionally waiting for it to finish.
//!
//! Exit codes: 0 when found (with `--wait`: when SUCCESSFUL), 1 when it FAILED or
//! was CANCELLED (with `--wait`), 2 when there is no such result, 3 when `--wait`
//! timed out first.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use wasmtasks::task::TaskStatus;

use super::GlobalArgs;
use super::context::Context;
use super::units::parse_duration;

/// Arguments of `wasmtasks result`.
#[derive(Debug, Args)]
pub struct ResultArgs {
    /// The result id (what enqueue printed).
    id: String,
    /// Wait until it finishes, at most this long [default when given without a value: 60s].
    #[arg(long, value_name = "TIMEOUT", num_args = 0..=1, default_missing_value = "60s", value_parser = parse_duration)]
    wait: Option<Duration>,
}

/// How often `--wait` looks again.
const POLL: Duration = Duration::from_millis(20);

pub async fn execute(args: ResultArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let context = Context::open(global, 1).await?;
    let store = context.registry.store();
    let deadline = args.wait.map(|wait| tokio::time::Instant::now() + wait);
    loop {
        let Some(result) = store.job_get(context.tenant(), &args.id).await? else {
            eprintln!("error: no task result with id `{}`", args.id);
            return Ok(ExitCode::from(2));
        };
        let finished = result.status.is_finished();
        let timed_out = deadline.is_some_and(|deadline| tokio::time::Instant::now() >= deadline);
        if deadline.is_none() || finished || timed_out {
            println!("{}", serde_json::to_string_pretty(&result)?);
            return Ok(match (deadline, result.status) {
                (None, _) | (_, TaskStatus::Successful) => ExitCode::SUCCESS,
                (Some(_), TaskStatus::Failed | TaskStatus::Cancelled) => ExitCode::FAILURE,
                (Some(_), _) => {
                    eprintln!(
                        "still {} after waiting {:?}",
                        result.status,
                        args.wait.unwrap_or_default()
                    );
                    ExitCode::from(3)
                }
            });
        }
        tokio::time::sleep(POLL).await;
    }
}
