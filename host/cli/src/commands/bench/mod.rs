//! `wasmtasks bench`: the two workloads every queue is judged by, on a fresh
//! database each run, with the worker in its own process as in production.
//!
//! - W1 (throughput): enqueue N `arith.add` jobs in bulk, then drain them with one
//!   worker process (`--batch`). Reports enqueue jobs/s, processing jobs/s (over the
//!   worker's active window, from its first claim to its last write) and the
//!   wall time of each phase, and the worker's peak resident memory (in all and
//!   per slot of its concurrency).
//! - W2 (latency): one idle worker process; 200 jobs enqueued one after another,
//!   each waited for, through the library and then through the HTTP API of a
//!   `serve` process. Reports p50/p99 as the client sees them (before the enqueue
//!   call → the finished result in hand) and from the store's timestamps
//!   ([`latency`]).
//! - Idle: the CPU an idle worker process uses, and how soon it then runs a job
//!   another process enqueues ([`idle`]).
//!
//! - `--prune ROWS` instead: the pruner against ROWS finished jobs ([`prune`]).
//! - `--tenants` instead: fairness when one tenant floods the queue ([`tenants`]).
//! - `--claim-cost BACKLOG` instead: one claim's cost against BACKLOG READY jobs
//!   over 100 tenants ([`claims`]).
//! - `--scale-out` instead: W1's backlog drained by 1, 2 and 4 worker processes
//!   at once ([`scale`]).
//!
//! Each workload runs `--runs` times; the report gives every run and the medians.
//! With `--database postgres://…`, each run gets a database of its own on that
//! server, dropped afterwards.

use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;
use serde::Serialize;
use serde_json::json;
use tokio::io::AsyncBufReadExt;
use wasmtasks::backend::{BackendKind, TaskBackend};
use wasmtasks::config::MAX_CONCURRENCY;
use wasmtasks::enqueue::EnqueueRequest;
use wasmtasks::service::Services;
use wasmtasks::service::components::UploadRequest;
use wasmtasks::store::postgres;
use wasmtasks::task::{Arguments, TaskStatus};
use wasmtasks::tenant::{DEFAULT_TENANT, Principal};

use super::GlobalArgs;
use super::context;

mod claims;
mod idle;
mod latency;
mod prune;
mod scale;
mod tenants;

/// Arguments of `wasmtasks bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Jobs enqueued and drained in W1 (1 to 10,000,000).
    #[arg(long, default_value_t = 10_000, value_parser = count(1, 10_000_000))]
    jobs: usize,
    /// Sequential jobs in W2 (1 to 100,000).
    #[arg(long, default_value_t = 200, value_parser = count(1, 100_000))]
    latency_jobs: usize,
    /// Worker concurrency (1 to 4096).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_CONCURRENCY)))]
    concurrency: u32,
    /// Jobs each W1 and scale-out worker claims ahead of free slots (`worker
    /// --prefetch`, 0 to 4096).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_CONCURRENCY)))]
    prefetch: u32,
    /// Runs of each workload; medians are reported (1 to 100).
    #[arg(long, default_value_t = 3, value_parser = count(1, 100))]
    runs: usize,
    /// The arith example component [default: target/wasm-guests/wasm32-wasip2/release/arith.wasm].
    #[arg(long)]
    component: Option<PathBuf>,
    /// Measure the pruner instead: this many finished jobs, deleted in batches
    /// (1 to 10,000,000).
    #[arg(long, value_name = "ROWS", value_parser = count(1, 10_000_000))]
    prune: Option<usize>,
    /// Jobs per pruner batch (with --prune; 1 to 100,000).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    prune_batch: u32,
    /// Measure fairness between tenants instead: one floods the queue, another
    /// arrives while the worker drains it.
    #[arg(long, conflicts_with = "prune")]
    tenants: bool,
    /// Jobs the flooding tenant enqueues (with --tenants; 1 to 10,000,000).
    #[arg(long, default_value_t = 100_000, value_parser = count(1, 10_000_000))]
    flood: usize,
    /// Jobs the newcomer enqueues (with --tenants; 1 to 1,000,000).
    #[arg(long, default_value_t = 1000, value_parser = count(1, 1_000_000))]
    newcomer: usize,
    /// Measure what a claim costs instead, with this many READY jobs over 100
    /// tenants (100 to 10,000,000).
    #[arg(long, value_name = "BACKLOG", conflicts_with_all = ["prune", "tenants"], value_parser = count(100, 10_000_000))]
    claim_cost: Option<usize>,
    /// Jobs per claim (with --claim-cost; 1 to 4096).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_CONCURRENCY)))]
    claim_batch: u32,
    /// Seconds an idle worker is watched for its CPU use (1 to 3600).
    #[arg(long, default_value_t = 10, value_parser = count(1, 3600))]
    idle_seconds: usize,
    /// Measure scale-out instead: W1's jobs drained by 1, 2 and 4 worker processes.
    #[arg(long, conflicts_with_all = ["prune", "tenants", "claim_cost"])]
    scale_out: bool,
}

/// The median of `pick` over `runs` (the upper one of an even count).
fn median_of<T>(runs: &[T], pick: impl Fn(&T) -> f64) -> f64 {
    Spread::of(runs.iter().map(pick).collect()).p50
}

/// The median (the upper one of an even count), 99th percentile and largest of
/// some samples.
#[derive(Debug, Clone, Copy)]
struct Spread {
    p50: f64,
    p99: f64,
    max: f64,
}

impl Spread {
    /// The spread of `samples`, which must not be empty.
    fn of(mut samples: Vec<f64>) -> Spread {
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
        Spread {
            p50: at(0.5),
            p99: at(0.99),
            max: samples[samples.len() - 1],
        }
    }
}

/// A parser of a count from `min` to `max`.
fn count(min: u64, max: u64) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(min..=max)
}

#[derive(Debug, Default, Clone, Copy, Serialize)]
struct ThroughputRun {
    enqueue_seconds: f64,
    enqueue_jobs_per_second: f64,
    worker_wall_seconds: f64,
    worker_active_seconds: f64,
    processing_jobs_per_second: f64,
    /// The worker process's peak resident memory.
    worker_peak_rss_bytes: u64,
    /// That peak divided by the worker's concurrency: the RAM one slot costs.
    peak_rss_per_slot_bytes: u64,
}

pub async fn execute(args: BenchArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let component = args
        .component
        .clone()
        .unwrap_or_else(|| PathBuf::from("target/wasm-guests/wasm32-wasip2/release/arith.wasm"));
    let bytes = std::fs::read(&component).with_context(|| {
        format!(
            "cannot read {} (build the examples: ./scripts/quickstart.sh, or pass --component)",
            component.display()
        )
    })?;
    let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
    let cache_dir = global
        .cache_dir
        .clone()
        .unwrap_or_else(|| scratch.path().join("cache"));
    // Each run's own database, set up alike.
    let fresh = |id| Fresh {
        global,
        scratch: scratch.path(),
        id,
        cache_dir: &cache_dir,
        bytes: &bytes,
    };
    if let Some(rows) = args.prune {
        let mut runs = Vec::new();
        for run in 1..=args.runs {
            let measured = fresh(run)
                .measure(async |bench| bench.prune(rows, args.prune_batch).await)
                .await?;
            eprintln!("run {run} prune: {}", serde_json::to_string(&measured)?);
            runs.push(measured);
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "prune": runs }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(backlog) = args.claim_cost {
        let mut runs = Vec::new();
        for run in 1..=args.runs {
            let measured = fresh(run)
                .measure(async |bench| bench.claim_cost(backlog, args.claim_batch).await)
                .await?;
            eprintln!(
                "run {run} claim cost: {}",
                serde_json::to_string(&measured)?
            );
            runs.push(measured);
        }
        let median = |pick: fn(&claims::ClaimCostRun) -> f64| median_of(&runs, pick);
        let report = json!({
            "database": global.database.as_deref().map_or("sqlite (a fresh file per run)".to_owned(), postgres::redacted),
            "backlog": backlog,
            "claim_batch": args.claim_batch,
            "runs": runs,
            "median": {
                "claim_p50_ms": median(|r| r.claim_p50_ms),
                "claim_p99_ms": median(|r| r.claim_p99_ms),
                "per_job_p50_us": median(|r| r.per_job_p50_us),
                "jobs_per_claim": median(|r| r.jobs_per_claim),
            },
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    if args.tenants {
        let mut runs = Vec::new();
        for run in 1..=args.runs {
            let measured = fresh(run)
                .measure(async |bench| {
                    bench
                        .fairness(args.flood, args.newcomer, args.concurrency)
                        .await
                })
                .await?;
            eprintln!("run {run} tenants: {}", serde_json::to_string(&measured)?);
            runs.push(measured);
        }
        let median = |pick: fn(&tenants::FairnessRun) -> f64| median_of(&runs, pick);
        let report = json!({
            "database": global.database.as_deref().map_or("sqlite (a fresh file per run)".to_owned(), postgres::redacted),
            "flood": args.flood,
            "newcomer": args.newcomer,
            "concurrency": args.concurrency,
            "runs": args.runs,
            "tenants": runs,
            "median": {
                "fairness_ratio": median(|r| r.fairness_ratio),
                "newcomer_p50_wait_ms": median(|r| r.newcomer_p50_wait_ms),
                "newcomer_p99_wait_ms": median(|r| r.newcomer_p99_wait_ms),
                "fair_p50_wait_ms": median(|r| r.fair_p50_wait_ms),
                "processing_jobs_per_second": median(|r| r.processing_jobs_per_second),
            },
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    if args.scale_out {
        let mut runs = Vec::new();
        let mut medians = serde_json::Map::new();
        for workers in [1, 2, 4] {
            let mut these = Vec::new();
            for run in 1..=args.runs {
                let measured = fresh(run + 100 * workers)
                    .measure(async |bench| {
                        bench
                            .scale_out(args.jobs, workers, args.concurrency, args.prefetch)
                            .await
                    })
                    .await?;
                eprintln!("run {run} scale-out: {}", serde_json::to_string(&measured)?);
                these.push(measured);
            }
            medians.insert(
                format!("workers_{workers}_jobs_per_second"),
                median_of(&these, |r| r.processing_jobs_per_second).into(),
            );
            runs.extend(these);
        }
        let report = json!({
            "database": global.database.as_deref().map_or("sqlite (a fresh file per run)".to_owned(), postgres::redacted),
            "jobs": args.jobs,
            "concurrency": args.concurrency,
            "prefetch": args.prefetch,
            "scale_out": runs,
            "median": medians,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let idle_window = Duration::from_secs(args.idle_seconds as u64);
    let mut throughput = Vec::new();
    let mut latency = Vec::new();
    let mut idle = Vec::new();
    for run in 1..=args.runs {
        let w1 = fresh(run)
            .measure(async |bench| {
                bench
                    .throughput(args.jobs, args.concurrency, args.prefetch)
                    .await
            })
            .await?;
        eprintln!("run {run} W1: {}", serde_json::to_string(&w1)?);
        throughput.push(w1);
        let w2 = fresh(run + 1000)
            .measure(async |bench| bench.latency(args.latency_jobs, args.concurrency).await)
            .await?;
        eprintln!("run {run} W2: {}", serde_json::to_string(&w2)?);
        latency.push(w2);
        let quiet = fresh(run + 2000)
            .measure(async |bench| bench.idle(idle_window).await)
            .await?;
        eprintln!("run {run} idle: {}", serde_json::to_string(&quiet)?);
        idle.push(quiet);
    }
    let report = json!({
        "database": global.database.as_deref().map_or("sqlite (a fresh file per run)".to_owned(), postgres::redacted),
        "jobs": args.jobs,
        "latency_jobs": args.latency_jobs,
        "concurrency": args.concurrency,
        "prefetch": args.prefetch,
        "runs": args.runs,
        "w1": throughput,
        "w2": latency,
        "idle": idle,
        "median": {
            "enqueue_jobs_per_second": median_of(&throughput, |r| r.enqueue_jobs_per_second),
            "processing_jobs_per_second": median_of(&throughput, |r| r.processing_jobs_per_second),
            "worker_wall_seconds": median_of(&throughput, |r| r.worker_wall_seconds),
            "worker_peak_rss_bytes": median_of(&throughput, |r| r.worker_peak_rss_bytes as f64),
            "peak_rss_per_slot_bytes": median_of(&throughput, |r| r.peak_rss_per_slot_bytes as f64),
            "w2_p50_ms": median_of(&latency, |r| r.p50_ms),
            "w2_p99_ms": median_of(&latency, |r| r.p99_ms),
            "w2_client_p50_ms": median_of(&latency, |r| r.client_p50_ms),
            "w2_client_p99_ms": median_of(&latency, |r| r.client_p99_ms),
            "w2_http_client_p50_ms": median_of(&latency, |r| r.http_client_p50_ms),
            "w2_http_client_p99_ms": median_of(&latency, |r| r.http_client_p99_ms),
            "idle_cpu_percent": median_of(&idle, |r| r.idle_cpu_percent),
            "idle_pickup_ms": median_of(&idle, |r| r.idle_pickup_ms),
            "idle_client_ms": median_of(&idle, |r| r.idle_client_ms),
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// A database no earlier run has touched: a fresh SQLite file, or a database
/// created for the run on the server `--database` names (dropped by [`remove`]).
///
/// [`remove`]: BenchDatabase::remove
struct BenchDatabase {
    url: String,
    /// The server and name of a database created for the run.
    created: Option<(String, String)>,
}

impl BenchDatabase {
    /// Drops a database created for the run (a SQLite file goes with the scratch
    /// directory).
    async fn remove(self) -> anyhow::Result<()> {
        if let Some((server, name)) = self.created {
            postgres::drop_database(&server, &name).await?;
        }
        Ok(())
    }
}

async fn fresh_database(
    global: &GlobalArgs,
    scratch: &std::path::Path,
    run: usize,
) -> anyhow::Result<BenchDatabase> {
    match &global.database {
        None => Ok(BenchDatabase {
            url: format!(
                "sqlite://{}",
                scratch.join(format!("bench-{run}.sqlite3")).display()
            ),
            created: None,
        }),
        Some(url) if url.starts_with("sqlite:") => {
            bail!("bench makes its own SQLite files; give --database only for a server")
        }
        Some(server) => {
            let name = format!("wasmtasks_bench_{}_{run}", std::process::id());
            Ok(BenchDatabase {
                url: postgres::create_database(server, &name).await?,
                created: Some((server.clone(), name)),
            })
        }
    }
}

/// A workload's own database and what it needs to open it.
struct Fresh<'a> {
    global: &'a GlobalArgs,
    scratch: &'a std::path::Path,
    id: usize,
    cache_dir: &'a std::path::Path,
    bytes: &'a [u8],
}

impl Fresh<'_> {
    /// Runs `workload` on a fresh database, removed afterwards however it went.
    async fn measure<T>(
        self,
        workload: impl AsyncFnOnce(&Bench) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let database = fresh_database(self.global, self.scratch, self.id).await?;
        let result = match Bench::open(&database.url, self.cache_dir, self.bytes).await {
            Ok(bench) => {
                let result = workload(&bench).await;
                bench.services.registry().store().close().await;
                result
            }
            Err(error) => Err(error),
        };
        database.remove().await?;
        result
    }
}

struct Bench {
    /// The arith component's bytes.
    arith: Vec<u8>,
    database: String,
    cache_dir: PathBuf,
    backend: TaskBackend,
    services: Services,
    principal: Principal,
}

impl Bench {
    async fn open(
        database: &str,
        cache_dir: &std::path::Path,
        bytes: &[u8],
    ) -> anyhow::Result<Bench> {
        let settings = wasmtasks::config::Settings {
            database_url: database.to_owned(),
            cache_dir: Some(cache_dir.to_owned()),
            ..wasmtasks::config::Settings::default()
        };
        let services = context::services(settings, 1).await?;
        let principal = Principal::operator(DEFAULT_TENANT);
        upload_arith(&services, &principal, bytes).await?;
        let backend = TaskBackend::new(BackendKind::Database, services.clone(), principal.clone());
        Ok(Bench {
            arith: bytes.to_vec(),
            database: database.to_owned(),
            cache_dir: cache_dir.to_owned(),
            backend,
            services,
            principal,
        })
    }

    /// Fails unless `jobs` jobs are SUCCESSFUL.
    async fn all_successful(&self, workload: &str, jobs: usize) -> anyhow::Result<()> {
        let queues = self.services.queues().list(&self.principal).await?;
        let successful: u64 = queues
            .iter()
            .map(|queue| {
                queue
                    .counts
                    .get(&TaskStatus::Successful)
                    .copied()
                    .unwrap_or(0)
            })
            .sum();
        if successful != jobs as u64 {
            bail!("{workload}: only {successful} of {jobs} jobs are SUCCESSFUL: {queues:?}");
        }
        Ok(())
    }

    /// A `--batch` worker of `concurrency` and `prefetch`, as W1 and scale-out run.
    fn draining_worker(&self, concurrency: u32, prefetch: u32) -> anyhow::Result<WorkerProcess> {
        self.worker(&[
            "--batch",
            "--concurrency",
            &concurrency.to_string(),
            "--prefetch",
            &prefetch.to_string(),
        ])
    }

    fn worker(&self, extra: &[&str]) -> anyhow::Result<WorkerProcess> {
        let exe = std::env::current_exe().context("cannot find the wasmtasks binary")?;
        let mut command = tokio::process::Command::new(exe);
        command
            .arg("--database")
            .arg(&self.database)
            .arg("--cache-dir")
            .arg(&self.cache_dir)
            .arg("worker")
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().context("cannot start a worker process")?;
        let stderr = child
            .stderr
            .take()
            .context("the worker's stderr is piped")?;
        let log = tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            let mut log = Vec::new();
            while let Some(line) = lines.next_line().await? {
                log.push(line);
            }
            Ok(log)
        });
        Ok(WorkerProcess { child, log })
    }

    async fn throughput(
        &self,
        jobs: usize,
        concurrency: u32,
        prefetch: u32,
    ) -> anyhow::Result<ThroughputRun> {
        let requests = additions(0..jobs);
        let started = Instant::now();
        self.backend.enqueue_many(requests).await?;
        let enqueue = started.elapsed();
        let started = Instant::now();
        let worker = self.draining_worker(concurrency, prefetch)?;
        let report = worker_report(worker).await?;
        let wall = started.elapsed();
        self.all_successful("W1", jobs).await?;
        let active = report["active_ms"].as_f64().unwrap_or(0.0) / 1000.0;
        let peak_rss = report["peak_rss_bytes"].as_u64().unwrap_or(0);
        Ok(ThroughputRun {
            worker_peak_rss_bytes: peak_rss,
            peak_rss_per_slot_bytes: peak_rss / u64::from(concurrency.max(1)),
            enqueue_seconds: enqueue.as_secs_f64(),
            enqueue_jobs_per_second: jobs as f64 / enqueue.as_secs_f64(),
            worker_wall_seconds: wall.as_secs_f64(),
            worker_active_seconds: active,
            processing_jobs_per_second: jobs as f64 / active.max(1e-9),
        })
    }
}

/// Uploads the arith component's `bytes` as `arith`, as `principal`.
async fn upload_arith(
    services: &Services,
    principal: &Principal,
    bytes: &[u8],
) -> anyhow::Result<()> {
    let upload = UploadRequest {
        bytes: bytes.to_vec(),
        name: Some("arith".into()),
        ..UploadRequest::default()
    };
    services.components().upload(principal, upload).await?;
    Ok(())
}

/// `arith.add(i, i)` for each `i`.
fn additions(range: impl Iterator<Item = usize>) -> Vec<EnqueueRequest> {
    range
        .map(|i| {
            EnqueueRequest::new(
                "arith.add",
                Arguments::from_values(json!([i, i]), json!({})).expect("two numbers"),
            )
        })
        .collect()
}

/// A worker process, and what it logs, read as it comes: a worker whose stderr
/// pipe filled up would stall.
struct WorkerProcess {
    child: tokio::process::Child,
    log: tokio::task::JoinHandle<std::io::Result<Vec<String>>>,
}

/// Waits for a worker process and returns the report it printed last.
async fn worker_report(worker: WorkerProcess) -> anyhow::Result<serde_json::Value> {
    let WorkerProcess { mut child, log } = worker;
    let status = child.wait().await?;
    let log = log
        .await
        .context("the task reading the worker's log panicked")??;
    let report = log
        .iter()
        .rev()
        .find_map(|line| line.split_once(" stopped: "))
        .and_then(|(_, json)| serde_json::from_str::<serde_json::Value>(json).ok());
    match report {
        Some(report) if status.success() => Ok(report),
        _ => bail!("the worker failed ({status}):\n{}", log.join("\n")),
    }
}
