//! How commands print: JSON for programs, tables for people.
//!
//! The rule, for `run`, `enqueue`, `result` and `jobs`: `--output json|table`
//! chooses; without it, a table when standard output is a terminal and JSON
//! otherwise (a pipe, a file, a script capturing it). `--json` is short for
//! `--output json`. The listing commands (`components`, `queues`, …) print a
//! table unless asked for JSON.

use std::io::IsTerminal;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use serde::Serialize;
use wasmtasks::task::TaskResult;

/// `eprintln!` that cannot panic, for long-running commands (worker, serve, dev)
/// whose stderr may be a closed pipe: saying something must never stop them.
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use tell;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// JSON, for programs.
    Json,
    /// Aligned text, for people.
    Table,
}

/// The output flags a command takes.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format [default: table on a terminal, else JSON (`run`, `enqueue`, `result`, `jobs`) or table (listings)].
    #[arg(long, value_enum, value_name = "FORMAT")]
    output: Option<Format>,
    /// Print JSON (`--output json`).
    #[arg(long, conflicts_with = "output")]
    json: bool,
}

impl OutputArgs {
    /// The format asked for; without a choice, a table on a terminal and
    /// `piped` otherwise.
    pub fn format(&self, piped: Format) -> Format {
        match (self.json, self.output) {
            (true, _) => Format::Json,
            (false, Some(format)) => format,
            (false, None) if std::io::stdout().is_terminal() => Format::Table,
            (false, None) => piped,
        }
    }
}

/// Prints `value` as pretty JSON.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A time as people read it, to the millisecond.
pub fn time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string()
}

/// A byte count as people read it.
pub fn bytes(count: u64) -> String {
    bytesize::ByteSize(count).to_string()
}

/// A TaskResult as people read it: its fields, then one block per attempt.
pub fn task_result(result: &TaskResult) -> String {
    let mut out = String::new();
    let mut field = |name: &str, value: String| {
        out.push_str(&format!("{name:<10}  {value}\n"));
    };
    field("id", result.id.clone());
    field(
        "task",
        format!(
            "{}  (version {})",
            result.task_path,
            &result.component_digest[..result.component_digest.len().min(12)]
        ),
    );
    field("status", result.status.to_string());
    field(
        "queue",
        format!("{}, priority {}", result.queue_name, result.priority),
    );
    field(
        "args",
        serde_json::Value::Array(result.args.clone()).to_string(),
    );
    field(
        "kwargs",
        serde_json::Value::Object(result.kwargs.clone()).to_string(),
    );
    if let Some(run_after) = result.run_after {
        field("run after", time(run_after));
    }
    field("enqueued", time(result.enqueued_at));
    for (name, at) in [
        ("started", result.started_at),
        ("finished", result.finished_at),
    ] {
        if let Some(at) = at {
            field(name, time(at));
        }
    }
    field("attempts", result.attempts.to_string());
    if let Some(value) = &result.return_value {
        field("returned", value.to_string());
    }
    for attempt in &result.attempt_log {
        out.push_str(&format!(
            "\nattempt {}  {}  {:.3} ms  fuel {}  memory {}  worker {}\n",
            attempt.attempt,
            attempt.status,
            attempt.metrics.duration_us as f64 / 1000.0,
            attempt.metrics.fuel_consumed,
            bytes(attempt.metrics.peak_memory_bytes),
            attempt.worker_id,
        ));
        if let Some(error) = &attempt.error {
            for line in error.traceback.trim_end().lines() {
                out.push_str(&format!("  {line}\n"));
            }
        }
        for (name, text) in [("stdout", &attempt.stdout), ("stderr", &attempt.stderr)] {
            if !text.is_empty() && attempt.error.is_none() {
                out.push_str(&format!("  {name}:\n"));
                for line in text.trim_end().lines() {
                    out.push_str(&format!("    {line}\n"));
                }
            }
        }
    }
    out
}

/// Prints a TaskResult in `format`.
pub fn print_task_result(result: &TaskResult, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => json(result),
        Format::Table => {
            print!("{}", task_result(result));
            Ok(())
        }
    }
}
