//! How a failed attempt is described: the `exception_class_path` of every way an
//! attempt can end badly, and the readable traceback that goes with it.
//!
//! | class | when |
//! | --- | --- |
//! | `wasmtasks.OutOfFuel` | the attempt used up its fuel (CPU budget) |
//! | `wasmtasks.Timeout` | the attempt ran past its wall-clock deadline |
//! | `wasmtasks.MemoryLimit` | the guest grew its memory past the cap |
//! | `wasmtasks.StackOverflow` | the guest exhausted the wasm call stack |
//! | `wasmtasks.Panic` | the guest panicked (message taken from its stderr) |
//! | `wasmtasks.Trap` | any other trap (out-of-bounds access, division by zero, ...) |
//! | `wasmtasks.InvalidReturnValue` | the guest returned something that is not JSON, or too much of it |
//! | `wasmtasks.InvalidArguments` | the SDK could not bind the arguments to the parameters |
//! | `wasmtasks.TaskNotFound` | the guest does not know the task it was asked to run |
//! | `wasmtasks.HttpDenied` | the task failed after an HTTP request to an origin it was not granted |
//! | `wasmtasks.HttpLimit` | the task failed after passing an HTTP limit (requests per attempt, response size) |
//!
//! Errors a task returns itself keep the class the guest gives them, for example
//! `welcome.WelcomeError`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use wasmtime::{Trap, WasmBacktrace};

use crate::limits::MemoryLimitExceeded;
use crate::output::clip;

/// The attempt used up its fuel.
pub const OUT_OF_FUEL: &str = "wasmtasks.OutOfFuel";
/// The attempt ran past its deadline.
pub const TIMEOUT: &str = "wasmtasks.Timeout";
/// The guest grew its memory past the cap.
pub const MEMORY_LIMIT: &str = "wasmtasks.MemoryLimit";
/// The guest overflowed the wasm stack.
pub const STACK_OVERFLOW: &str = "wasmtasks.StackOverflow";
/// The guest panicked.
pub const PANIC: &str = "wasmtasks.Panic";
/// Any other trap.
pub const TRAP: &str = "wasmtasks.Trap";
/// The guest's return value is not acceptable JSON.
pub const INVALID_RETURN_VALUE: &str = "wasmtasks.InvalidReturnValue";
/// The arguments could not be bound to the task's parameters.
pub const INVALID_ARGUMENTS: &str = "wasmtasks.InvalidArguments";

/// The task failed after an HTTP request to an origin it was not granted.
pub const HTTP_DENIED: &str = "wasmtasks.HttpDenied";
/// The task failed after passing an HTTP limit.
pub const HTTP_LIMIT: &str = "wasmtasks.HttpLimit";

/// Whether `class` is a sandbox limit (fuel, deadline, memory, stack), which keeps
/// its class whatever else the attempt did.
pub(crate) fn is_limit(class: &str) -> bool {
    [OUT_OF_FUEL, TIMEOUT, MEMORY_LIMIT, STACK_OVERFLOW].contains(&class)
}

/// How many bytes of stderr a traceback quotes.
const STDERR_TAIL_BYTES: usize = 4096;

/// Most bytes of a failure's class kept (first and last halves, the cut marked).
pub const MAX_CLASS_BYTES: usize = 256;
/// Most bytes of a failure's message kept.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// Most bytes of a failure's detail (backtrace, guest traceback) kept.
pub const MAX_DETAIL_BYTES: usize = 32 << 10;

/// A failed attempt, described the way Django's `TaskError` is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskFailure {
    /// Dotted class path naming the kind of failure.
    pub exception_class_path: String,
    /// One-line message.
    pub message: String,
    /// Readable detail: message, wasm backtrace, tail of stderr.
    pub traceback: String,
}

/// Raised from the epoch callback when an attempt passes its deadline.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the attempt ran past its deadline of {0:?}")]
pub(crate) struct DeadlineExceeded(pub std::time::Duration);

impl TaskFailure {
    /// A failure with a class and message, its traceback completed with stderr;
    /// class, message and detail each cut to their maximum (a guest chooses them).
    pub(crate) fn new(class: &str, message: String, detail: &str, stderr: &str) -> Self {
        let class = clip(class, MAX_CLASS_BYTES).into_owned();
        let message = match clip(&message, MAX_MESSAGE_BYTES) {
            Cow::Borrowed(_) => message,
            Cow::Owned(clipped) => clipped,
        };
        let mut traceback = format!("{class}: {message}\n");
        if !detail.is_empty() {
            traceback.push('\n');
            traceback.push_str(&clip(detail.trim_end(), MAX_DETAIL_BYTES));
            traceback.push('\n');
        }
        let tail = tail_of(stderr, STDERR_TAIL_BYTES);
        if !tail.is_empty() {
            traceback.push_str("\nstderr (tail):\n");
            traceback.push_str(tail.trim_end());
            traceback.push('\n');
        }
        TaskFailure {
            exception_class_path: class,
            message,
            traceback,
        }
    }

    /// Classifies the error that ended a guest call.
    pub(crate) fn from_trap(error: &wasmtime::Error, stderr: &str) -> Self {
        let backtrace = error
            .downcast_ref::<WasmBacktrace>()
            .map(|backtrace| backtrace.to_string())
            .unwrap_or_default();
        let (class, message) = classify(error, stderr);
        TaskFailure::new(class, message, &backtrace, stderr)
    }
}

fn classify(error: &wasmtime::Error, stderr: &str) -> (&'static str, String) {
    if let Some(exceeded) = error.downcast_ref::<MemoryLimitExceeded>() {
        return (MEMORY_LIMIT, exceeded.to_string());
    }
    if let Some(deadline) = error.downcast_ref::<DeadlineExceeded>() {
        return (TIMEOUT, deadline.to_string());
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => (OUT_OF_FUEL, "the attempt used up its fuel".to_owned()),
        Some(Trap::StackOverflow) => (STACK_OVERFLOW, "the wasm call stack overflowed".to_owned()),
        Some(Trap::Interrupt) => (TIMEOUT, "the attempt was interrupted".to_owned()),
        Some(Trap::UnreachableCodeReached) => match panic_message(stderr) {
            Some(message) => (PANIC, message),
            None => (TRAP, Trap::UnreachableCodeReached.to_string()),
        },
        Some(trap) => (TRAP, trap.to_string()),
        None => (TRAP, crate::error::describe(error)),
    }
}

/// The last Rust panic message in `stderr`, with its location, if there is one.
///
/// Rust prints `thread '…' panicked at src/lib.rs:3:5:` followed by the message
/// lines, then possibly a `note:` line.
pub(crate) fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.rfind("panicked at ")?;
    let after = &stderr[start + "panicked at ".len()..];
    let (location, rest) = after.split_once('\n').unwrap_or((after, ""));
    let location = location.trim_end().trim_end_matches(':');
    let message = rest
        .lines()
        .take_while(|line| !line.starts_with("note: "))
        .collect::<Vec<_>>()
        .join("\n");
    let message = message.trim();
    Some(if message.is_empty() {
        format!("panicked at {location}")
    } else {
        format!("{message} (panicked at {location})")
    })
}

fn tail_of(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_message_has_text_and_location() {
        let stderr = "noise\nthread '<unnamed>' panicked at src/lib.rs:10:5:\nboom\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_message(stderr).unwrap(),
            "boom (panicked at src/lib.rs:10:5)"
        );
    }

    #[test]
    fn last_panic_wins_and_absent_panic_is_none() {
        let stderr =
            "thread 'a' panicked at a.rs:1:1:\nfirst\nthread 'b' panicked at b.rs:2:2:\nsecond\n";
        assert_eq!(
            panic_message(stderr).unwrap(),
            "second (panicked at b.rs:2:2)"
        );
        assert_eq!(panic_message("just logs\n"), None);
    }

    #[test]
    fn traceback_quotes_detail_and_stderr_tail() {
        let failure = TaskFailure::new(TRAP, "bad".into(), "wasm backtrace:\n 0: f", "line\n");
        assert_eq!(
            failure.traceback,
            "wasmtasks.Trap: bad\n\nwasm backtrace:\n 0: f\n\nstderr (tail):\nline\n"
        );
    }

    #[test]
    fn tail_respects_char_boundaries() {
        assert_eq!(tail_of("ééé", 3), "é");
        assert_eq!(tail_of("abc", 10), "abc");
    }

    #[test]
    fn traps_map_to_their_classes() {
        let fuel = wasmtime::Error::from(Trap::OutOfFuel);
        assert_eq!(classify(&fuel, "").0, OUT_OF_FUEL);
        let stack = wasmtime::Error::from(Trap::StackOverflow);
        assert_eq!(classify(&stack, "").0, STACK_OVERFLOW);
        let unreachable = wasmtime::Error::from(Trap::UnreachableCodeReached);
        assert_eq!(classify(&unreachable, "").0, TRAP);
        let panic = "thread 'x' panicked at a.rs:1:1:\nno\n";
        assert_eq!(
            classify(&unreachable, panic),
            (PANIC, "no (panicked at a.rs:1:1)".into())
        );
        let memory = wasmtime::Error::from(MemoryLimitExceeded {
            requested: 2,
            limit: 1,
        });
        assert_eq!(classify(&memory, "").0, MEMORY_LIMIT);
    }
}
