//! An idle worker: the CPU its process uses while no job comes (user and system
//! time from `/proc/PID/stat`, as a percentage of one core), then how soon it
//! picks up a job another process (this one) enqueues, and how soon the client
//! sees that job finished.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;

use super::Bench;
use super::latency::timed_job;

/// How long the worker settles after its warm-up job before the measurement.
const SETTLE: Duration = Duration::from_secs(1);

/// One idle run.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub(super) struct IdleRun {
    /// CPU of the idle worker process over the window, % of one core.
    pub(super) idle_cpu_percent: f64,
    /// Seconds measured.
    pub(super) idle_seconds: f64,
    /// The first job after the idle window: enqueued → started, by the store.
    pub(super) idle_pickup_ms: f64,
    /// The same job before the enqueue → the result in hand (library wait).
    pub(super) idle_client_ms: f64,
}

impl Bench {
    /// Starts a worker, lets it run one job and sit idle for `idle`, then sends one
    /// more job.
    pub(super) async fn idle(&self, idle: Duration) -> anyhow::Result<IdleRun> {
        // Three jobs: the warm-up, the measured one, and one to end the worker (a
        // worker's last job is recorded while it stops, later than others).
        let mut worker = self.worker(&["--max-tasks", "3", "--concurrency", "1"])?;
        let pid = worker.child.id().context("the worker has a process id")?;
        let library = self.library();
        timed_job(&library, 0, &mut worker).await?;
        tokio::time::sleep(SETTLE).await;
        let before = cpu_seconds(pid)?;
        let started = Instant::now();
        tokio::time::sleep(idle).await;
        let used = cpu_seconds(pid)? - before;
        let window = started.elapsed().as_secs_f64();
        let (result, client) = timed_job(&library, 1, &mut worker).await?;
        timed_job(&library, 2, &mut worker).await?;
        super::worker_report(worker).await?;
        let started = result.started_at.context("a finished job has started_at")?;
        let pickup = (started - result.enqueued_at)
            .num_microseconds()
            .unwrap_or(0);
        Ok(IdleRun {
            idle_cpu_percent: used / window * 100.0,
            idle_seconds: window,
            idle_pickup_ms: pickup as f64 / 1000.0,
            idle_client_ms: client.as_secs_f64() * 1000.0,
        })
    }
}

/// The user and system CPU seconds process `pid` has used (Linux `/proc`).
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat (idle CPU is measured on Linux)"))?;
    // Fields after the command (which may hold spaces), from field 3: utime and
    // stime are fields 14 and 15, in clock ticks.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("an unreadable /proc stat line")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |n: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(n - 3)
            .context("a short /proc stat line")?
            .parse::<f64>()?)
    };
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Ok((ticks(14)? + ticks(15)?) / per_second)
}
