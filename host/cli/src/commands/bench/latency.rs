//! W2 (latency) as a client sees it: from just before the enqueue call until the
//! client holds the finished result, through the library (the service layer's
//! wait) and through the HTTP API (`POST /jobs`, then the long-poll
//! `GET /jobs/{id}?wait=`) of a `wasmtasks serve` process. One idle worker process
//! runs the jobs; each job is enqueued once the one before it has been seen
//! finished. The store's own enqueued→finished times are reported beside them.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::Serialize;
use serde_json::json;
use tokio::io::AsyncBufReadExt;
use wasmtasks::enqueue::EnqueueRequest;
use wasmtasks::service::tokens::TokenRequest;
use wasmtasks::task::{Arguments, TaskResult, TaskStatus};
use wasmtasks::tenant::{DEFAULT_TENANT, Role};

use super::{Bench, Spread, WorkerProcess};
use crate::client::{Api, Local, Remote};

/// How long one job may take before the run fails.
const JOB_TIMEOUT: Duration = Duration::from_secs(30);

/// One W2 run: the store's times and both clients'.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub(super) struct LatencyRun {
    /// Enqueued→finished by the store's timestamps (library jobs).
    pub(super) p50_ms: f64,
    pub(super) p99_ms: f64,
    pub(super) max_ms: f64,
    /// Before `enqueue` → the result in hand, through the library.
    pub(super) client_p50_ms: f64,
    pub(super) client_p99_ms: f64,
    pub(super) client_max_ms: f64,
    /// The same through the HTTP API and its long-poll.
    pub(super) http_client_p50_ms: f64,
    pub(super) http_client_p99_ms: f64,
    pub(super) http_client_max_ms: f64,
}

impl Bench {
    /// W2: `jobs` sequential jobs through each client, one idle worker process.
    pub(super) async fn latency(
        &self,
        jobs: usize,
        concurrency: u32,
    ) -> anyhow::Result<LatencyRun> {
        // Each client's first job warms the path up (component load, connections)
        // and is not measured.
        let total = (2 * (jobs + 1)).to_string();
        let mut worker = self.worker(&[
            "--max-tasks",
            &total,
            "--concurrency",
            &concurrency.to_string(),
        ])?;
        let (store, client) = sequential(&self.library(), jobs, &mut worker).await?;
        let server = self.serve().await?;
        let token = self
            .services
            .tokens()
            .create(
                &self.principal,
                TokenRequest {
                    tenant: Some(DEFAULT_TENANT.into()),
                    role: Role::Member,
                    name: "bench".into(),
                    expires_in_seconds: None,
                },
            )
            .await?;
        let http = Remote::new(&server.url, Some(&token.token), None)?;
        let (_, over_http) = sequential(&http, jobs, &mut worker).await?;
        drop(server);
        super::worker_report(worker).await?;
        Ok(LatencyRun {
            p50_ms: store.p50,
            p99_ms: store.p99,
            max_ms: store.max,
            client_p50_ms: client.p50,
            client_p99_ms: client.p99,
            client_max_ms: client.max,
            http_client_p50_ms: over_http.p50,
            http_client_p99_ms: over_http.p99,
            http_client_max_ms: over_http.max,
        })
    }

    /// The library as a client: the service layer, as the bench's operator.
    pub(super) fn library(&self) -> Local {
        Local {
            services: self.services.clone(),
            principal: self.principal.clone(),
        }
    }

    /// A `wasmtasks serve` process (no workers of its own) on this run's database.
    async fn serve(&self) -> anyhow::Result<ServeProcess> {
        let exe = std::env::current_exe().context("cannot find the wasmtasks binary")?;
        let mut child = tokio::process::Command::new(exe)
            .arg("--database")
            .arg(&self.database)
            .arg("--cache-dir")
            .arg(&self.cache_dir)
            .args(["serve", "--listen", "127.0.0.1:0", "--workers", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start a server process")?;
        let stderr = child
            .stderr
            .take()
            .context("the server's stderr is piped")?;
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        let mut log = Vec::new();
        let url = loop {
            let Some(line) = lines.next_line().await? else {
                bail!("the server exited before it listened:\n{}", log.join("\n"));
            };
            if let Some(rest) = line.strip_prefix("wasmtasks serving ") {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
            log.push(line);
        };
        // Keep reading what it logs, so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ServeProcess { _child: child, url })
    }
}

/// A server process, killed when dropped.
struct ServeProcess {
    _child: tokio::process::Child,
    url: String,
}

/// Enqueues `jobs` + 1 jobs through `api`, each once the one before has been seen
/// finished; the store's and the client's latencies of all but the first.
async fn sequential(
    api: &dyn Api,
    jobs: usize,
    worker: &mut WorkerProcess,
) -> anyhow::Result<(Spread, Spread)> {
    let mut store = Vec::with_capacity(jobs);
    let mut client = Vec::with_capacity(jobs);
    for i in 0..=jobs {
        let (result, seen) = timed_job(api, i, worker).await?;
        let finished = result
            .finished_at
            .context("a finished job has finished_at")?;
        if i > 0 {
            let stored = (finished - result.enqueued_at)
                .num_microseconds()
                .unwrap_or(0);
            store.push(stored as f64 / 1000.0);
            client.push(seen.as_secs_f64() * 1000.0);
        }
    }
    Ok((Spread::of(store), Spread::of(client)))
}

/// Enqueues `arith.add(i, 1)` through `api` and waits for it to succeed; its
/// result and the time from before the enqueue call to the result in hand.
pub(super) async fn timed_job(
    api: &dyn Api,
    i: usize,
    worker: &mut WorkerProcess,
) -> anyhow::Result<(TaskResult, Duration)> {
    let request = EnqueueRequest::new(
        "arith.add",
        Arguments::from_values(json!([i, 1]), json!({}))?,
    );
    let started = Instant::now();
    let id = api.enqueue(request).await?.result.id;
    let result = api.wait(&id, JOB_TIMEOUT).await?;
    let seen = started.elapsed();
    if !result.status.is_finished() {
        if let Ok(Some(status)) = worker.child.try_wait() {
            bail!("the worker exited ({status}) before job {i} finished");
        }
        bail!("job {i} ({id}) is {} after {JOB_TIMEOUT:?}", result.status);
    }
    if result.status != TaskStatus::Successful {
        bail!("job {id} ended {}", result.status);
    }
    Ok((result, seen))
}
