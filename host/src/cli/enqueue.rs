//! `wasmtasks enqueue`: enqueue one task by path, or many from a JSON-lines file.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use clap::Args;
use serde::Deserialize;
use serde_json::Value;
use wasmtasks::backend::{BackendKind, TaskBackend};
use wasmtasks::enqueue::EnqueueRequest;
use wasmtasks::task::Arguments;

use super::GlobalArgs;
use super::context::Context;
use super::units::{LimitArgs, parse_duration};

/// Arguments of `wasmtasks enqueue`.
#[derive(Debug, Args)]
pub struct EnqueueArgs {
    /// The task path: `component.task`, or `component@<digest-prefix>.task` to pin a version.
    #[arg(required_unless_present = "file")]
    task_path: Option<String>,
    /// Positional arguments, each a JSON value; a word that is not JSON is a string.
    #[arg(allow_negative_numbers = true)]
    args: Vec<String>,
    /// Keyword arguments as a JSON object.
    #[arg(long, value_name = "JSON")]
    kwargs: Option<String>,
    /// Priority, -100..=100 (higher runs first) [default: the task's].
    #[arg(long, allow_negative_numbers = true)]
    priority: Option<i32>,
    /// Queue [default: the task's].
    #[arg(long = "queue")]
    queue_name: Option<String>,
    /// Not before this time: RFC 3339 (2030-01-01T09:00:00Z) or relative (+30s, +5m).
    #[arg(long, value_parser = parse_run_after)]
    run_after: Option<DateTime<Utc>>,
    /// Attempts allowed [default: the task's, else the queue's].
    #[arg(long)]
    max_attempts: Option<u32>,
    /// Backoff base in seconds [default: the task's, else the queue's].
    #[arg(long)]
    backoff_factor: Option<f64>,
    #[command(flatten)]
    limits: LimitArgs,
    /// Enqueue every line of this JSON-lines file (`-` for stdin) instead: each line
    /// is {"task_path", "args", "kwargs", "priority", "queue_name", "run_after",
    /// "max_attempts", "backoff_factor"}.
    #[arg(long, value_name = "FILE", conflicts_with = "task_path")]
    file: Option<PathBuf>,
    /// Backend: database (the queue), dummy (store nothing, run nothing) or immediate (run now).
    #[arg(long, default_value = "database")]
    backend: BackendKind,
}

/// One line of a bulk file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    task_path: String,
    #[serde(default = "empty_array")]
    args: Value,
    #[serde(default)]
    kwargs: Value,
    priority: Option<i32>,
    queue_name: Option<String>,
    run_after: Option<DateTime<Utc>>,
    max_attempts: Option<u32>,
    backoff_factor: Option<f64>,
}

fn empty_array() -> Value {
    Value::Array(Vec::new())
}

/// `run_after` from RFC 3339 or `+DURATION`.
fn parse_run_after(text: &str) -> Result<DateTime<Utc>, String> {
    if let Some(relative) = text.strip_prefix('+') {
        let delay = parse_duration(relative)?;
        return Ok(Utc::now() + chrono::Duration::from_std(delay).map_err(|e| e.to_string())?);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|e| format!("`{text}` is neither an RFC 3339 time (2030-01-01T09:00:00Z) nor relative (+30s): {e}"))
}

pub async fn execute(args: EnqueueArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let context = Context::open(global, 1).await?;
    let backend = TaskBackend::new(
        args.backend,
        context.registry.clone(),
        context.settings.clone(),
    );
    if let Some(file) = &args.file {
        let requests = read_lines(file)?;
        let total = requests.len();
        let started = std::time::Instant::now();
        // Every line is validated before any is stored, and all go in one statement:
        // a file is enqueued whole or not at all.
        let ids = backend
            .enqueue_many(requests)
            .await
            .context("nothing was enqueued")?;
        let elapsed = started.elapsed();
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for id in ids {
            writeln!(out, "{id}")?;
        }
        out.flush()?;
        eprintln!(
            "enqueued {total} jobs in {:.3}s ({:.0} jobs/s)",
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64().max(1e-9)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let Some(task_path) = args.task_path else {
        bail!("give a task path, or --file");
    };
    let request = EnqueueRequest {
        task_path,
        arguments: Arguments::from_command_line(&args.args, args.kwargs.as_deref())?,
        priority: args.priority,
        queue_name: args.queue_name,
        run_after: args.run_after,
        max_attempts: args.max_attempts,
        backoff_factor: args.backoff_factor,
        limits: args.limits.overrides(),
    };
    let result = backend.enqueue(request).await?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(ExitCode::SUCCESS)
}

fn read_lines(file: &PathBuf) -> anyhow::Result<Vec<EnqueueRequest>> {
    let reader: Box<dyn BufRead> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?,
        ))
    };
    let mut requests = Vec::new();
    for (number, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{} line {}", file.display(), number + 1);
        let line: Line = serde_json::from_str(&line).with_context(at)?;
        requests.push(EnqueueRequest {
            task_path: line.task_path,
            arguments: Arguments::from_values(line.args, line.kwargs).with_context(at)?,
            priority: line.priority,
            queue_name: line.queue_name,
            run_after: line.run_after,
            max_attempts: line.max_attempts,
            backoff_factor: line.backoff_factor,
            limits: Default::default(),
        });
    }
    Ok(requests)
}
