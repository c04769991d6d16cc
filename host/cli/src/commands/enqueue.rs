//! `wasmtasks enqueue`: enqueue one task by path, or many from a JSON-lines file.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use clap::Args;
use wasmtasks::enqueue::{EnqueueRequest, JobSpec};
use wasmtasks::service::{BatchProblem, ServiceError};
use wasmtasks::task::{Arguments, TaskStatus};
use wasmtasks::unique::UniqueOptions;

use super::GlobalArgs;
use super::context;
use super::units::{LimitArgs, parse_duration};
use crate::output::{self, Format, OutputArgs};
use crate::progress;

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
    /// Backoff base in seconds, a positive number [default: the task's, else the queue's].
    #[arg(long)]
    backoff_factor: Option<f64>,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    unique: UniqueArgs,
    /// Enqueue every line of this JSON-lines file (`-` for stdin) instead, all or
    /// nothing: each line is {"task_path", "args", "kwargs", "priority",
    /// "queue_name", "run_after", "max_attempts", "backoff_factor", "fuel",
    /// "timeout_ms", "memory_bytes", "unique"}. Every bad line is reported, by
    /// number.
    #[arg(long, value_name = "FILE", conflicts_with = "task_path")]
    file: Option<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
}

/// Uniqueness: enqueue only if no job with the same unique key blocks it.
#[derive(Debug, Args)]
struct UniqueArgs {
    /// Unique by this key (with the task): while a job with it is READY, RUNNING
    /// or SUCCESSFUL, the enqueue returns that job instead.
    #[arg(long, value_name = "KEY")]
    unique_key: Option<String>,
    /// Unique within windows of this length (1h: one job per task and key an hour).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    unique_for: Option<std::time::Duration>,
    /// The arguments are part of the unique key.
    #[arg(long)]
    unique_by_args: bool,
    /// The queue is part of the unique key.
    #[arg(long)]
    unique_by_queue: bool,
    /// The statuses in which a job blocks duplicates (READY and RUNNING always)
    /// [default: READY,RUNNING,SUCCESSFUL].
    #[arg(long, value_delimiter = ',', value_name = "STATUS,…", value_parser = parse_status)]
    unique_states: Vec<TaskStatus>,
}

impl UniqueArgs {
    /// The options, when any flag asks for uniqueness.
    fn options(self) -> Option<UniqueOptions> {
        let asked = self.unique_key.is_some()
            || self.unique_for.is_some()
            || self.unique_by_args
            || self.unique_by_queue
            || !self.unique_states.is_empty();
        asked.then(|| UniqueOptions {
            key: self.unique_key,
            by_args: self.unique_by_args,
            by_queue: self.unique_by_queue,
            period_ms: self.unique_for.map(|d| d.as_millis() as u64),
            states: self.unique_states,
        })
    }
}

fn parse_status(text: &str) -> Result<TaskStatus, String> {
    serde_json::from_value(serde_json::Value::String(text.to_ascii_uppercase())).map_err(|_| {
        format!("`{text}` is not a status: READY, RUNNING, SUCCESSFUL, FAILED or CANCELLED")
    })
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
    if let Some(file) = &args.file {
        return enqueue_file(file, global).await;
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
        unique: args.unique.options(),
    };
    let api = context::api(global).await?;
    let enqueued = api.enqueue(request).await?;
    if enqueued.duplicate {
        eprintln!(
            "not enqueued: job {} has the same unique key; it is shown instead",
            enqueued.result.id
        );
    }
    output::print_task_result(&enqueued.result, args.output.format(Format::Json))?;
    Ok(ExitCode::SUCCESS)
}

/// One line of a bulk file: its number and what it asks for (or what is wrong).
type Line = (usize, Result<EnqueueRequest, String>);

async fn enqueue_file(file: &PathBuf, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let reading = progress::bar(None, "reading jobs");
    let lines = read_lines(file, &reading)?;
    reading.finish_and_clear();
    let total = lines.len();
    let mut numbers = Vec::with_capacity(total);
    let mut requests = Vec::with_capacity(total);
    let mut problems: Vec<(usize, String)> = Vec::new();
    for (number, line) in lines {
        match line {
            Ok(request) => {
                numbers.push(number);
                requests.push(request);
            }
            Err(problem) => problems.push((number, problem)),
        }
    }
    let api = context::api(global).await?;
    let storing = progress::bar(None, &format!("validating and storing {total} jobs"));
    // Lines that are not even JSON are known already: the others are checked too,
    // so that one run reports every bad line.
    let refused = if problems.is_empty() {
        match api.enqueue_many(requests).await {
            Ok(outcome) => {
                storing.finish_and_clear();
                let elapsed = storing.elapsed();
                let mut out = String::with_capacity(outcome.ids.len() * 37);
                for id in &outcome.ids {
                    out.push_str(id);
                    out.push('\n');
                }
                print!("{out}");
                let stored = total - outcome.duplicates.len();
                eprintln!(
                    "enqueued {stored} jobs in {:.3}s ({:.0} jobs/s)",
                    elapsed.as_secs_f64(),
                    total as f64 / elapsed.as_secs_f64().max(1e-9)
                );
                if !outcome.duplicates.is_empty() {
                    let lines: Vec<String> = outcome
                        .duplicates
                        .iter()
                        .map(|&index| numbers[index].to_string())
                        .collect();
                    eprintln!(
                        "{} lines were duplicates of existing unique jobs (their ids are printed): lines {}",
                        lines.len(),
                        lines.join(", ")
                    );
                }
                return Ok(ExitCode::SUCCESS);
            }
            Err(ServiceError::InvalidBatch { problems, .. }) => problems,
            Err(error) => return Err(error.into()),
        }
    } else {
        match api.validate_many(requests).await {
            Ok(()) => Vec::new(),
            Err(ServiceError::InvalidBatch { problems, .. }) => problems,
            Err(error) => return Err(error.into()),
        }
    };
    storing.finish_and_clear();
    problems.extend(
        refused
            .into_iter()
            .map(|BatchProblem { index, message }| (numbers[index], message)),
    );
    problems.sort();
    let listed: Vec<String> = problems
        .iter()
        .map(|(number, problem)| format!("{} line {number}: {problem}", file.display()))
        .collect();
    bail!(
        "nothing was enqueued: {} of {total} lines {} refused:\n{}",
        problems.len(),
        if problems.len() == 1 { "was" } else { "were" },
        listed.join("\n")
    );
}

fn read_lines(file: &PathBuf, reading: &indicatif::ProgressBar) -> anyhow::Result<Vec<Line>> {
    let reader: Box<dyn BufRead> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?,
        ))
    };
    let mut lines = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", file.display()))?;
        reading.inc(1);
        if line.trim().is_empty() {
            continue;
        }
        let request = serde_json::from_str::<JobSpec>(&line)
            .map(EnqueueRequest::from)
            .map_err(|error| error.to_string());
        lines.push((index + 1, request));
    }
    Ok(lines)
}
