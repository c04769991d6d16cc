//! `wasmtasks cancel`: cancel a READY job.

use std::process::ExitCode;

use clap::Args;
use wasmtasks::store::CancelOutcome;

use super::GlobalArgs;
use super::context::Context;

/// Arguments of `wasmtasks cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The result id.
    id: String,
}

pub async fn execute(args: CancelArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let context = Context::open(global, 1).await?;
    match context
        .registry
        .store()
        .job_cancel(context.tenant(), &args.id)
        .await?
    {
        CancelOutcome::Cancelled => {
            println!("cancelled {}", args.id);
            Ok(ExitCode::SUCCESS)
        }
        CancelOutcome::NotFound => {
            eprintln!("error: no task result with id `{}`", args.id);
            Ok(ExitCode::from(2))
        }
        CancelOutcome::NotReady(status) => {
            eprintln!(
                "error: cannot cancel {}: it is {status}; only READY jobs can be cancelled",
                args.id
            );
            Ok(ExitCode::FAILURE)
        }
    }
}
