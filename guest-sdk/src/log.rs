//! Structured log lines: one JSON object per line on stderr, which the host keeps
//! with the attempt (in its `attempt_log`, and the tail of it in a failure's
//! traceback).
//!
//! ```
//! use wasmtasks_guest::log;
//! log::info("sending the notification");
//! log::event(log::Level::Warning, "slow server", serde_json::json!({"ms": 1200}));
//! ```

use std::io::Write;

use serde::Serialize;

/// How much a line matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Detail for whoever debugs the task.
    Debug,
    /// Normal progress.
    Info,
    /// Something unexpected that the task survived.
    Warning,
    /// A failure.
    Error,
}

#[derive(Serialize)]
struct Line<'a> {
    level: Level,
    message: &'a str,
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    fields: serde_json::Value,
}

/// Writes one line with `fields` (any JSON value; `null` for none).
pub fn event(level: Level, message: &str, fields: serde_json::Value) {
    let line = Line {
        level,
        message,
        fields,
    };
    if let Ok(mut text) = serde_json::to_string(&line) {
        text.push('\n');
        // Logging never fails a task: a line that cannot be written is dropped.
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// Writes an `info` line.
pub fn info(message: &str) {
    event(Level::Info, message, serde_json::Value::Null);
}

/// Writes a `warning` line.
pub fn warning(message: &str) {
    event(Level::Warning, message, serde_json::Value::Null);
}

/// Writes an `error` line.
pub fn error(message: &str) {
    event(Level::Error, message, serde_json::Value::Null);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_object() {
        let line = Line {
            level: Level::Warning,
            message: "slow",
            fields: serde_json::json!({"ms": 3}),
        };
        assert_eq!(
            serde_json::to_string(&line).unwrap(),
            r#"{"level":"warning","message":"slow","fields":{"ms":3}}"#
        );
        let bare = Line {
            level: Level::Info,
            message: "hi",
            fields: serde_json::Value::Null,
        };
        assert_eq!(
            serde_json::to_string(&bare).unwrap(),
            r#"{"level":"info","message":"hi"}"#
        );
    }
}
