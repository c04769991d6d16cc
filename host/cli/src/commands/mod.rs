//! The `wasmtasks` command line. Raw clap flags are turned into validated
//! settings once, here; every operation on the system goes through the service
//! layer, on the database or through a server ([`crate::client`]).

mod bench;
mod build;
mod components;
mod config;
pub mod context;
mod dev;
mod enqueue;
mod grant;
mod inspect;
mod jobs;
mod login;
mod new;
mod prune;
mod queues;
mod result;
mod run;
mod schedules;
mod serve;
mod tenant;
mod token;
mod units;
mod upload;
mod usage;
mod worker;
mod workers;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// What the exit codes mean, shown under `--help`.
const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  a task ran and FAILED (`run`), or the job shown is FAILED or CANCELLED
     (`result`, with or without --wait)
  2  the request was refused, or something was not found or not allowed
     (nothing ran, nothing was stored), or the command failed
  3  `result --wait` gave up before the job finished";

/// Django-style background tasks, each run as a sandboxed WebAssembly component.
#[derive(Debug, Parser)]
#[command(name = "wasmtasks", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,

    #[command(subcommand)]
    command: Command,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Text,
    /// One JSON object per event.
    Json,
}

/// Flags every command takes; they override the configuration file.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Configuration file [default: wasmtasks.toml if it exists].
    #[arg(long, global = true, env = "WASMTASKS_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database URL, e.g. sqlite://wasmtasks.sqlite3 (overrides the configuration and WASMTASKS_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    database: Option<String>,
    /// Directory for compiled components [default: $XDG_CACHE_HOME/wasmtasks or ~/.cache/wasmtasks].
    #[arg(long, global = true, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Talk to this `wasmtasks serve` instead of the database, with a token.
    #[arg(long, global = true, env = "WASMTASKS_SERVER", value_name = "URL")]
    server: Option<String>,
    /// The token for --server [default: the one `wasmtasks login` saved for it].
    #[arg(
        long,
        global = true,
        env = "WASMTASKS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    token: Option<String>,
    /// The tenant to act within: on the database (as the operator), or with an
    /// operator token [default: default].
    #[arg(long, global = true, env = "WASMTASKS_TENANT", value_name = "TENANT")]
    tenant: Option<String>,
    /// How log lines (the worker's, the server's) are written.
    #[arg(
        long,
        global = true,
        env = "WASMTASKS_LOG_FORMAT",
        value_enum,
        default_value_t
    )]
    pub log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a task crate that builds, with one task and a test.
    New(new::NewArgs),
    /// Build a task crate (or workspace) into components for wasm32-wasip2.
    Build(build::BuildArgs),
    /// Rebuild, upload and run a task crate on every change, with a worker on a local queue.
    Dev(dev::DevArgs),
    /// Show a component file's name, tasks, signatures and declared defaults.
    Inspect(inspect::InspectArgs),
    /// Run one task of a component file once, now, and print its TaskResult.
    Run(run::RunArgs),
    /// Validate a component and store it as the newest version of its name.
    Upload(upload::UploadArgs),
    /// List uploaded components, show one, or delete versions.
    Components(components::ComponentsArgs),
    /// Enqueue a task by path (`component.task`), or many from a JSON-lines file.
    Enqueue(enqueue::EnqueueArgs),
    /// List jobs, newest first, with filters.
    Jobs(jobs::JobsArgs),
    /// Print a TaskResult, optionally waiting for it to finish.
    Result(result::ResultArgs),
    /// Cancel READY jobs.
    Cancel(jobs::CancelArgs),
    /// Put FAILED or CANCELLED jobs back to READY, with a fresh attempt budget.
    Retry(jobs::RetryArgs),
    /// Claim and run jobs (Django's db_worker).
    Worker(worker::WorkerArgs),
    /// Serve the HTTP API (and, with --workers, run workers in the same process).
    Serve(serve::ServeArgs),
    /// Show job counts per queue and status, and each queue's lag.
    Queues(queues::QueuesArgs),
    /// Pause or resume a queue.
    Queue(queues::QueueArgs),
    /// Show what the tenant used per day: jobs, attempts, fuel, time, memory, HTTP.
    Usage(usage::UsageArgs),
    /// List the workers (live, lost or stopped) and the jobs each is running.
    Workers(workers::WorkersArgs),
    /// Show the periodic jobs and their next runs.
    Schedules(schedules::SchedulesArgs),
    /// Create, delete, pause or resume a periodic job.
    Schedule(schedules::ScheduleArgs),
    /// Set, unset and list a component's configuration values and secrets.
    Config(config::ConfigArgs),
    /// Allow a component to send HTTP requests to origins (or list its origins).
    Grant(grant::GrantArgs),
    /// Take back HTTP origins from a component.
    Revoke(grant::GrantArgs),
    /// Delete finished results by age (and, if asked, unused component versions).
    Prune(prune::PruneArgs),
    /// Create, list, show, change and delete tenants (the operator's).
    Tenant(tenant::TenantArgs),
    /// Create, list and revoke API tokens.
    Token(token::TokenArgs),
    /// Save a token for a server, checked against it, for the remote commands.
    Login(login::LoginArgs),
    /// Print the shell completion script for bash, zsh or fish.
    Completions(CompletionsArgs),
    /// Measure throughput (W1) and latency (W2) on a fresh database.
    Bench(bench::BenchArgs),
}

/// Arguments of `wasmtasks completions`.
#[derive(Debug, Args)]
struct CompletionsArgs {
    /// The shell.
    shell: clap_complete::Shell,
}

impl Cli {
    /// The flags every command takes.
    pub fn global(&self) -> &GlobalArgs {
        &self.global
    }

    /// Whether the command runs for long and logs what it does (its default log
    /// level is `info`, not `warn`).
    pub fn is_long_running(&self) -> bool {
        matches!(
            self.command,
            Command::Worker(_) | Command::Serve(_) | Command::Dev(_)
        )
    }

    /// Runs the chosen subcommand.
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let global = self.global;
        match self.command {
            Command::New(args) => new::execute(args).await,
            Command::Build(args) => build::execute(args).await,
            Command::Dev(args) => dev::execute(args, &global).await,
            Command::Inspect(args) => inspect::execute(args, &global).await,
            Command::Run(args) => run::execute(args, &global).await,
            Command::Upload(args) => upload::execute(args, &global).await,
            Command::Components(args) => components::execute(args, &global).await,
            Command::Enqueue(args) => enqueue::execute(args, &global).await,
            Command::Jobs(args) => jobs::list(args, &global).await,
            Command::Result(args) => result::execute(args, &global).await,
            Command::Cancel(args) => jobs::cancel(args, &global).await,
            Command::Retry(args) => jobs::retry(args, &global).await,
            Command::Worker(args) => worker::execute(args, &global).await,
            Command::Serve(args) => serve::execute(args, &global).await,
            Command::Queues(args) => queues::execute(args, &global).await,
            Command::Queue(args) => queues::execute_control(args, &global).await,
            Command::Usage(args) => usage::execute(args, &global).await,
            Command::Workers(args) => workers::execute(args, &global).await,
            Command::Schedules(args) => schedules::execute(args, &global).await,
            Command::Schedule(args) => schedules::execute_control(args, &global).await,
            Command::Config(args) => config::execute(args, &global).await,
            Command::Grant(args) => grant::execute(args, true, &global).await,
            Command::Revoke(args) => grant::execute(args, false, &global).await,
            Command::Prune(args) => prune::execute(args, &global).await,
            Command::Tenant(args) => tenant::execute(args, &global).await,
            Command::Token(args) => token::execute(args, &global).await,
            Command::Login(args) => login::execute(args, &global).await,
            Command::Completions(args) => {
                clap_complete::generate(
                    args.shell,
                    &mut Cli::command(),
                    "wasmtasks",
                    &mut std::io::stdout(),
                );
                Ok(ExitCode::SUCCESS)
            }
            Command::Bench(args) => bench::execute(args, &global).await,
        }
    }
}
