//! `wasmtasks worker`: claim and run jobs, with the flags of Django's `db_worker`.
//!
//! SIGINT or SIGTERM stops claiming and lets running attempts finish within the
//! grace period; then (or at a second signal) the rest are interrupted and put back
//! to READY.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use wasmtasks::store::QueueFilter;
use wasmtasks::worker::{Shutdown, Worker, WorkerOptions};

use super::GlobalArgs;
use super::context::Context;
use super::units::parse_duration;

/// Arguments of `wasmtasks worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Queues to serve, comma-separated, or `*` for all.
    #[arg(long, default_value = "*", value_delimiter = ',')]
    queue_name: Vec<String>,
    /// Queues to leave alone (with `--queue-name '*'`), comma-separated.
    #[arg(long, value_delimiter = ',')]
    exclude_queues: Vec<String>,
    /// This worker's id [default: host:pid:random].
    #[arg(long)]
    worker_id: Option<String>,
    /// Run the jobs available now, then exit.
    #[arg(long)]
    batch: bool,
    /// Exit after this many attempts.
    #[arg(long)]
    max_tasks: Option<u64>,
    /// Fallback poll interval, e.g. 1s [default: the configuration's].
    #[arg(long, value_parser = parse_duration)]
    interval: Option<Duration>,
    /// Attempts run at once [default: the configuration's].
    #[arg(long)]
    concurrency: Option<u32>,
    /// Lease length, e.g. 30s [default: the configuration's].
    #[arg(long, value_parser = parse_duration)]
    lease: Option<Duration>,
    /// Time running attempts get to finish after SIGINT/SIGTERM [default: the configuration's].
    #[arg(long, value_parser = parse_duration)]
    grace_period: Option<Duration>,
}

pub async fn execute(args: WorkerArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let settings = super::context::settings(global)?;
    let concurrency = args.concurrency.unwrap_or(settings.worker.concurrency);
    anyhow::ensure!(concurrency >= 1, "--concurrency must be at least 1");
    let context = Context::open(global, concurrency).await?;
    let mut options = WorkerOptions::new(&context.settings);
    options.concurrency = concurrency;
    options.queues = queue_filter(&args, &context.settings)?;
    if let Some(id) = args.worker_id {
        options.worker_id = id;
    }
    options.batch = args.batch;
    options.max_tasks = args.max_tasks;
    if let Some(interval) = args.interval {
        options.interval = interval;
    }
    if let Some(lease) = args.lease {
        anyhow::ensure!(
            lease >= Duration::from_secs(1),
            "--lease must be at least 1s"
        );
        options.lease = lease;
        options.rescue_interval = (lease / 2).max(Duration::from_secs(1));
    }
    if let Some(grace) = args.grace_period {
        options.grace_period = grace;
    }
    let worker = Worker::new(context.registry.clone(), context.settings.clone(), options)?;
    let shutdown = Shutdown::default();
    tokio::spawn(forward_signals(shutdown.clone()));
    eprintln!(
        "worker {} started (concurrency {concurrency})",
        worker.worker_id()
    );
    let report = worker.run(shutdown).await?;
    eprintln!(
        "worker {} stopped: {}",
        worker.worker_id(),
        serde_json::to_string(&report)?
    );
    Ok(ExitCode::SUCCESS)
}

fn queue_filter(
    args: &WorkerArgs,
    settings: &wasmtasks::config::Settings,
) -> anyhow::Result<QueueFilter> {
    for queue in args.queue_name.iter().chain(&args.exclude_queues) {
        if queue != "*" {
            settings.require_queue(queue).map_err(anyhow::Error::msg)?;
        }
    }
    if args.queue_name.iter().any(|q| q == "*") {
        anyhow::ensure!(
            args.queue_name.len() == 1,
            "`*` stands for every queue; give it alone"
        );
        Ok(QueueFilter::All {
            exclude: args.exclude_queues.clone(),
        })
    } else {
        anyhow::ensure!(
            args.exclude_queues.is_empty(),
            "--exclude-queues goes with --queue-name '*'"
        );
        Ok(QueueFilter::Only(args.queue_name.clone()))
    }
}

/// First SIGINT/SIGTERM: stop claiming. Second: interrupt running attempts.
async fn forward_signals(shutdown: Shutdown) {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        eprintln!("warning: cannot listen for signals; stop the worker with SIGKILL");
        return;
    };
    async fn either(interrupt: &mut Signal, terminate: &mut Signal) {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    }
    either(&mut interrupt, &mut terminate).await;
    eprintln!(
        "stopping: no new jobs; running attempts may finish (signal again to interrupt them)"
    );
    shutdown.stop_claiming.cancel();
    either(&mut interrupt, &mut terminate).await;
    eprintln!("interrupting running attempts; their jobs go back to READY");
    shutdown.cancel_running.cancel();
}
