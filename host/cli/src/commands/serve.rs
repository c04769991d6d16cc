//! `wasmtasks serve`: the HTTP API (and the OpenAPI document, health checks) over
//! the database, and with `--workers N`, N worker loops in the same process: one
//! command is a whole system on the embedded SQLite default.
//!
//! SIGINT or SIGTERM stops accepting requests and claiming jobs; requests in
//! progress and running attempts get the grace period to finish.

use crate::output::tell;
use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use tokio::task::JoinSet;
use wasmtasks::config::MAX_CONCURRENCY;
use wasmtasks::worker::{Shutdown, Worker};
use wasmtasks_server::ServerOptions;

use super::GlobalArgs;
use super::context;
use super::worker::{WorkerArgs, forward_signals, log_start, serve_metrics};

/// The largest `--max-body-size`: 4 GiB.
const MAX_BODY_SIZE: u64 = 4 << 30;

/// Arguments of `wasmtasks serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8000")]
    listen: SocketAddr,
    /// Worker loops to run in this process, 0..=64 (0: the API only); their
    /// slots in all (workers × concurrency) at most 4096.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=64))]
    workers: u32,
    /// The largest JSON body accepted (a bulk enqueue is one body), e.g. 64MiB;
    /// at most 4GiB.
    #[arg(long, value_parser = super::units::parse_size, default_value = "64MiB")]
    max_body_size: u64,
    /// The workers' flags (queues, concurrency, lease, …).
    #[command(flatten)]
    worker: WorkerArgs,
}

pub async fn execute(args: ServeArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    context::local_only(global, "serve")?;
    let settings = context::settings(global)?;
    let options = args.worker.options(&settings, global.tenant.as_deref())?;
    anyhow::ensure!(
        args.max_body_size <= MAX_BODY_SIZE,
        "--max-body-size {} is above the maximum of 4GiB",
        args.max_body_size
    );
    let slots = options.concurrency * args.workers.max(1);
    anyhow::ensure!(
        slots <= MAX_CONCURRENCY,
        "--workers {} × concurrency {} is {slots} slots; at most {MAX_CONCURRENCY} run in one process",
        args.workers,
        options.concurrency
    );
    let services = context::services(settings, slots).await?;
    serve_metrics(args.worker.metrics_listen, &services).await?;
    let shutdown = Shutdown::default();
    tokio::spawn(forward_signals(shutdown.clone()));
    let mut workers = JoinSet::new();
    for n in 0..args.workers {
        let mut options = options.clone();
        if args.workers > 1 {
            options.worker_id = format!("{}-{n}", options.worker_id)
                .chars()
                .take(wasmtasks::worker_id::MAX_WORKER_ID_LEN)
                .collect();
        }
        let worker = Worker::new(
            services.registry().clone(),
            services.settings().clone(),
            options,
        )?;
        log_start(&worker, services.registry(), services.settings());
        let shutdown = shutdown.clone();
        workers.spawn(async move { worker.run(shutdown).await });
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    let router = wasmtasks_server::router(
        services.clone(),
        ServerOptions {
            max_body_bytes: usize::try_from(args.max_body_size).unwrap_or(usize::MAX),
            ..ServerOptions::default()
        },
    );
    tracing::info!(target: "wasmtasks::serve", %address, workers = args.workers, "serving the API");
    // One line on stderr whatever the log level, for people and scripts alike.
    tell!(
        "wasmtasks serving http://{address} (dashboard at /, API under /api/v1, metrics at /metrics; {} workers)",
        args.workers
    );
    let stopping = shutdown.stop_claiming.clone();
    wasmtasks_server::serve(
        listener,
        router,
        async move { stopping.cancelled().await },
        services.settings().worker.grace_period,
    )
    .await
    .context("the server failed")?;
    // Requests are done; let the workers finish within their grace period.
    shutdown.stop_claiming.cancel();
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(Ok(report)) => tell!("worker stopped: {}", serde_json::to_string(&report)?),
            Ok(Err(error)) => tell!("error: a worker failed: {error}"),
            Err(error) => tell!("error: a worker panicked: {error}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}
