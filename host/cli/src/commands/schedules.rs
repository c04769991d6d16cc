//! `wasmtasks schedules`: the periodic jobs and their next runs;
//! `wasmtasks schedule set|delete|pause|resume NAME`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use wasmtasks::schedule::{CatchUp, ScheduleSpec};
use wasmtasks::service::schedules::ScheduleInfo;
use wasmtasks::store::ScheduleSource;
use wasmtasks::task::Arguments;

use super::GlobalArgs;
use super::context;
use crate::output::{self, Format, OutputArgs};

/// Arguments of `wasmtasks schedules`.
#[derive(Debug, Args)]
pub struct SchedulesArgs {
    #[command(flatten)]
    output: OutputArgs,
}

pub async fn execute(args: SchedulesArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let api = context::api(global).await?;
    let schedules = api.schedules().await?;
    if args.output.format(Format::Table) == Format::Json {
        output::json(&schedules)?;
        return Ok(ExitCode::SUCCESS);
    }
    if schedules.is_empty() {
        println!("no schedules");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<20} {:<16} {:<14} {:<28} {:<22} {:<22} state",
        "schedule", "cron", "timezone", "task", "next run", "last run"
    );
    for info in &schedules {
        print_row(info);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_row(info: &ScheduleInfo) {
    let record = &info.record;
    let time = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d %H:%M:%SZ").to_string();
    let mut state = vec![if record.paused { "paused" } else { "active" }];
    if record.source == ScheduleSource::File {
        state.push("from the file");
    }
    println!(
        "{:<20} {:<16} {:<14} {:<28} {:<22} {:<22} {}",
        record.name,
        record.spec.cron,
        record.spec.timezone,
        record.spec.task_path,
        time(record.next_run_at),
        record.last_run_at.map_or("-".to_owned(), time),
        state.join(", ")
    );
    if let Some(error) = &record.last_error {
        println!("  last tick refused: {error}");
    }
}

/// Arguments of `wasmtasks schedule`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    #[command(subcommand)]
    action: ScheduleAction,
}

/// What to do to a schedule.
#[derive(Debug, Subcommand)]
enum ScheduleAction {
    /// Create a schedule, or replace its definition.
    Set(SetArgs),
    /// Delete a schedule (its jobs stay).
    Delete {
        /// The schedule.
        name: String,
    },
    /// Stop a schedule taking ticks.
    Pause {
        /// The schedule.
        name: String,
    },
    /// Let a paused schedule take ticks again (missed ones by its catch-up).
    Resume {
        /// The schedule.
        name: String,
    },
}

/// Arguments of `wasmtasks schedule set`.
#[derive(Debug, Args)]
struct SetArgs {
    /// The schedule's name.
    name: String,
    /// A cron pattern: 5 fields (minute hour day month weekday), or 6 with seconds first.
    #[arg(long)]
    cron: String,
    /// The task to enqueue at each tick: `component.task`.
    #[arg(long)]
    task: String,
    /// Its positional arguments, each a JSON value; a word that is not JSON is a string.
    #[arg(allow_negative_numbers = true)]
    args: Vec<String>,
    /// Its keyword arguments as a JSON object.
    #[arg(long, value_name = "JSON")]
    kwargs: Option<String>,
    /// The IANA time zone of the pattern.
    #[arg(long, default_value = "UTC")]
    timezone: String,
    /// Queue [default: the task's].
    #[arg(long = "queue")]
    queue_name: Option<String>,
    /// Priority, -100..=100 [default: the task's].
    #[arg(long, allow_negative_numbers = true)]
    priority: Option<i32>,
    /// Ticks missed while no worker ran: enqueue the latest once, or none.
    #[arg(long, value_enum, default_value = "latest")]
    catch_up: CatchUpArg,
}

/// `--catch-up`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum CatchUpArg {
    Latest,
    None,
}

pub async fn execute_control(args: ScheduleArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let api = context::api(global).await?;
    match args.action {
        ScheduleAction::Set(set) => {
            let arguments = Arguments::from_command_line(&set.args, set.kwargs.as_deref())?;
            let spec = ScheduleSpec {
                cron: set.cron,
                timezone: set.timezone,
                task_path: set.task,
                args: arguments.args,
                kwargs: arguments.kwargs,
                queue_name: set.queue_name,
                priority: set.priority,
                catch_up: match set.catch_up {
                    CatchUpArg::Latest => CatchUp::Latest,
                    CatchUpArg::None => CatchUp::None,
                },
            };
            let info = api.schedule_put(&set.name, spec).await?;
            println!(
                "schedule {}: next run {}",
                info.record.name, info.record.next_run_at
            );
        }
        ScheduleAction::Delete { name } => {
            api.schedule_delete(&name).await?;
            println!("schedule {name}: deleted");
        }
        ScheduleAction::Pause { name } => {
            api.schedule_set_paused(&name, true).await?;
            println!("schedule {name}: paused");
        }
        ScheduleAction::Resume { name } => {
            let info = api.schedule_set_paused(&name, false).await?;
            println!(
                "schedule {name}: active, next run {}",
                info.record.next_run_at
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
