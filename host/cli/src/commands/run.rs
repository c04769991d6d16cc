//! `wasmtasks run`: run one task once in the sandbox, right now (Django's
//! `ImmediateBackend`), and print its TaskResult. The component gets the values the
//! configuration file grants the default tenant's component of its name (no store
//! is opened).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use wasmtasks::capabilities;
use wasmtasks::immediate::{ImmediateRun, run_immediately};
use wasmtasks::task::{Arguments, TaskStatus};
use wasmtasks::tenant::DEFAULT_TENANT;
use wasmtasks::worker_id::default_worker_id;

use super::GlobalArgs;
use super::context;
use super::inspect::component_name;
use super::units::LimitArgs;
use crate::output::{self, Format, OutputArgs};

/// Arguments of `wasmtasks run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The component file (`.wasm`).
    component: PathBuf,
    /// The task's name within the component, e.g. `add`.
    task: String,
    /// Positional arguments, each a JSON value; a word that is not JSON is a string.
    #[arg(allow_negative_numbers = true)]
    args: Vec<String>,
    /// Keyword arguments as a JSON object.
    #[arg(long, value_name = "JSON")]
    kwargs: Option<String>,
    #[command(flatten)]
    limits: LimitArgs,
    /// Priority other than the task's default (-100..=100).
    #[arg(long, allow_negative_numbers = true)]
    priority: Option<i32>,
    /// Queue other than the task's default.
    #[arg(long = "queue")]
    queue_name: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

pub async fn execute(args: RunArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let arguments = Arguments::from_command_line(&args.args, args.kwargs.as_deref())?;
    let mut settings = context::settings(global)?;
    if let Some(memory) = args.limits.overrides().memory_bytes {
        // A one-off run may ask for more than the configured maximum, up to wasm32's 4 GiB.
        anyhow::ensure!(
            memory <= 4 << 30,
            "--memory {memory} bytes is above 4GiB, the most a wasm32 memory can hold"
        );
        settings.max_memory_bytes = settings.max_memory_bytes.max(memory);
    }
    let sandbox = context::sandbox(&settings, 1)?;
    let component = sandbox.load_file(&args.component).await?;
    let component_name = component_name(&component, &args.component)?;
    let run = ImmediateRun {
        capabilities: capabilities::from_settings(&settings, DEFAULT_TENANT, &component_name),
        component_name,
        task: args.task,
        arguments,
        priority: args.priority,
        queue_name: args.queue_name,
        limits: args.limits.overrides(),
    };
    let result = run_immediately(&sandbox, component, run, &default_worker_id()).await?;
    output::print_task_result(&result, args.output.format(Format::Json))?;
    Ok(if result.status == TaskStatus::Successful {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
