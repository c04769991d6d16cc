//! `wasmtasks worker`: claim and run jobs, with the flags of Django's `db_worker`.
//!
//! It logs a line when it starts (id, queues, tenants, concurrency, database) and
//! one per finished attempt (job, task, attempt, status, duration, error class),
//! at info level; `--log-format json` writes them as JSON. With `--batch` or
//! `--max-tasks` on a terminal, a progress bar shows the attempts.
//!
//! SIGINT or SIGTERM stops claiming and lets running attempts finish within the
//! grace period; then (or at a second signal) the rest are interrupted and put back
//! to READY.

use crate::output::tell;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use wasmtasks::config::{MAX_CONCURRENCY, Settings};
use wasmtasks::registry::Registry;
use wasmtasks::service::Services;
use wasmtasks::store::QueueFilter;
use wasmtasks::store::postgres::redacted;
use wasmtasks::worker::{Shutdown, Worker, WorkerOptions};

use super::GlobalArgs;
use super::context;
use super::units::parse_duration;
use crate::progress;

/// Arguments of `wasmtasks worker` (the global `--tenant A,B` limits it to the
/// jobs of those tenants; all tenants by default).
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
    /// Attempts run at once, 1..=4096 [default: the configuration's].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_CONCURRENCY)))]
    concurrency: Option<u32>,
    /// Jobs claimed ahead of free slots, 0..=4096, waiting in the worker for one
    /// [default: the configuration's]. Helps short jobs; with long ones, a job may
    /// wait here while another worker is idle.
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_CONCURRENCY)))]
    prefetch: Option<u32>,
    /// Lease length, e.g. 30s [default: the configuration's].
    #[arg(long, value_parser = parse_duration)]
    lease: Option<Duration>,
    /// Time running attempts get to finish after SIGINT/SIGTERM [default: the configuration's].
    #[arg(long, value_parser = parse_duration)]
    grace_period: Option<Duration>,
    /// Serve Prometheus metrics at http://ADDRESS/metrics, without a token (e.g.
    /// 127.0.0.1:9090; choose an address only your scraper reaches).
    #[arg(long, value_name = "ADDRESS")]
    pub metrics_listen: Option<SocketAddr>,
}

impl WorkerArgs {
    /// The worker's options: the configuration's, overridden by these flags.
    pub fn options(
        &self,
        settings: &Settings,
        tenants: Option<&str>,
    ) -> anyhow::Result<WorkerOptions> {
        let mut options = WorkerOptions::new(settings);
        if let Some(concurrency) = self.concurrency {
            options.concurrency = concurrency;
        }
        if let Some(prefetch) = self.prefetch {
            options.prefetch = prefetch;
        }
        options.queues = queue_filter(self, settings)?;
        options.tenants = tenant_filter(tenants)?;
        if let Some(id) = &self.worker_id {
            options.worker_id = id.clone();
        }
        options.batch = self.batch;
        options.max_tasks = self.max_tasks;
        if let Some(interval) = self.interval {
            options.interval = interval;
        }
        if let Some(lease) = self.lease {
            anyhow::ensure!(
                lease >= Duration::from_secs(1),
                "--lease must be at least 1s"
            );
            options.lease = lease;
            options.rescue_interval = (lease / 2).max(Duration::from_secs(1));
        }
        if let Some(grace) = self.grace_period {
            options.grace_period = grace;
        }
        Ok(options)
    }
}

pub async fn execute(args: WorkerArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    context::local_only(global, "worker")?;
    let settings = context::settings(global)?;
    let options = args.options(&settings, global.tenant.as_deref())?;
    let services = context::services(settings, options.concurrency).await?;
    let worker = Worker::new(
        services.registry().clone(),
        services.settings().clone(),
        options,
    )?;
    serve_metrics(args.metrics_listen, &services).await?;
    let shutdown = Shutdown::default();
    tokio::spawn(forward_signals(shutdown.clone()));
    log_start(&worker, services.registry(), services.settings());
    let total = worker.options().max_tasks;
    let bar = (worker.options().batch || total.is_some()).then(|| progress::bar(total, "attempts"));
    let watcher = bar.clone().map(|bar| {
        let progress = worker.progress();
        tokio::spawn(async move {
            loop {
                bar.set_position(progress.finished.load(Ordering::Relaxed));
                bar.set_message(format!(
                    "attempts ({} failed)",
                    progress.failed.load(Ordering::Relaxed)
                ));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    });
    let report = worker.run(shutdown).await;
    if let Some(watcher) = watcher {
        watcher.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut report = serde_json::to_value(report?)?;
    report["peak_rss_bytes"] = peak_rss_bytes().into();
    tell!(
        "worker {} stopped: {}",
        worker.worker_id(),
        serde_json::to_string(&report)?
    );
    Ok(ExitCode::SUCCESS)
}

/// Serves `/metrics` on `address`, if given, until the process exits.
pub async fn serve_metrics(address: Option<SocketAddr>, services: &Services) -> anyhow::Result<()> {
    let Some(address) = address else {
        return Ok(());
    };
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address} (--metrics-listen)"))?;
    let address = listener.local_addr()?;
    let router = wasmtasks_server::metrics::listener_router(services.clone());
    tokio::spawn(async move {
        let forever = std::future::pending();
        if let Err(error) = wasmtasks_server::serve(listener, router, forever, Duration::ZERO).await
        {
            tracing::error!(%error, "the metrics listener failed");
        }
    });
    tell!("metrics at http://{address}/metrics");
    Ok(())
}

/// The most resident memory this process has used (0 if the system cannot tell).
fn peak_rss_bytes() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes the struct it is given and nothing else.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } != 0 {
        return 0;
    }
    // SAFETY: initialised by the successful call above (and zeroed before it).
    let usage = unsafe { usage.assume_init() };
    // Linux reports kibibytes.
    u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024
}

/// The startup line: who the worker is and what it serves.
pub fn log_start(worker: &Worker, registry: &Arc<Registry>, settings: &Settings) {
    let options = worker.options();
    let queues = options.queues.describe();
    let tenants = options
        .tenants
        .as_ref()
        .map_or("*".to_owned(), |tenants| tenants.join(","));
    tracing::info!(
        target: "wasmtasks::worker",
        worker = %worker.worker_id(),
        queues = %queues,
        tenants = %tenants,
        concurrency = options.concurrency,
        prefetch = options.prefetch,
        database = %redacted(&settings.database_url),
        dialect = registry.store().dialect(),
        "worker started"
    );
}

fn queue_filter(args: &WorkerArgs, settings: &Settings) -> anyhow::Result<QueueFilter> {
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

/// `--tenant A,B`: only those tenants' jobs; every tenant's without it.
fn tenant_filter(tenants: Option<&str>) -> anyhow::Result<Option<Vec<String>>> {
    let Some(tenants) = tenants else {
        return Ok(None);
    };
    let tenants: Vec<String> = tenants
        .split(',')
        .map(str::trim)
        .filter(|tenant| !tenant.is_empty())
        .map(str::to_owned)
        .collect();
    for tenant in &tenants {
        anyhow::ensure!(
            wasmtasks::task::path::is_valid_name(tenant),
            "invalid tenant name `{tenant}` in --tenant: use letters, digits, `_` or `-`"
        );
    }
    anyhow::ensure!(!tenants.is_empty(), "--tenant names no tenant");
    Ok(Some(tenants))
}

/// First SIGINT/SIGTERM: stop claiming. Second: interrupt running attempts.
pub async fn forward_signals(shutdown: Shutdown) {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        tell!("warning: cannot listen for signals; stop the worker with SIGKILL");
        return;
    };
    async fn either(interrupt: &mut Signal, terminate: &mut Signal) {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    }
    either(&mut interrupt, &mut terminate).await;
    // Stop first, then say so: stderr may be a closed pipe, and saying so must not
    // keep the worker from stopping.
    shutdown.stop_claiming.cancel();
    tell!("stopping: no new jobs; running attempts may finish (signal again to interrupt them)");
    either(&mut interrupt, &mut terminate).await;
    shutdown.cancel_running.cancel();
    tell!("interrupting running attempts; their jobs go back to READY");
}
