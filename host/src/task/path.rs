//! Task paths: `component.task`, or `component@<digest-prefix>.task` to pin a
//! version (Django's `module.function`).

use std::fmt;

/// A parsed task path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPath {
    /// The component name.
    pub component: String,
    /// A digest prefix pinning one version, if given.
    pub digest_prefix: Option<String>,
    /// The task's name within the component.
    pub task: String,
}

/// A task path that does not follow the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid task path `{path}`: {reason} (expected `component.task` or `component@digest.task`)"
)]
pub struct TaskPathError {
    path: String,
    reason: &'static str,
}

pub use wasmtasks_sandbox::is_valid_name;

impl TaskPath {
    /// Parses `component.task` or `component@digest-prefix.task`.
    pub fn parse(path: &str) -> Result<Self, TaskPathError> {
        let error = |reason| TaskPathError {
            path: path.to_owned(),
            reason,
        };
        let (component, task) = path
            .split_once('.')
            .ok_or_else(|| error("no `.` before the task name"))?;
        let (component, digest_prefix) = match component.split_once('@') {
            Some((name, digest)) => {
                if digest.len() < 4 || !digest.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(error("a pinned digest needs at least 4 hex digits"));
                }
                (name, Some(digest.to_ascii_lowercase()))
            }
            None => (component, None),
        };
        if !is_valid_name(component) {
            return Err(error(
                "the component name must be letters, digits, `_` or `-`",
            ));
        }
        if !is_valid_name(task) {
            return Err(error("the task name must be letters, digits or `_`"));
        }
        Ok(TaskPath {
            component: component.to_owned(),
            digest_prefix,
            task: task.to_owned(),
        })
    }
}

impl fmt::Display for TaskPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.digest_prefix {
            Some(digest) => write!(f, "{}@{}.{}", self.component, digest, self.task),
            None => write!(f, "{}.{}", self.component, self.task),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_pinned_paths() {
        let plain = TaskPath::parse("arith.add").unwrap();
        assert_eq!(
            (plain.component.as_str(), plain.task.as_str()),
            ("arith", "add")
        );
        assert_eq!(plain.digest_prefix, None);
        let pinned = TaskPath::parse("arith@ABCDEF12.add").unwrap();
        assert_eq!(pinned.digest_prefix.as_deref(), Some("abcdef12"));
        assert_eq!(pinned.to_string(), "arith@abcdef12.add");
    }

    #[test]
    fn rejects_broken_paths_naming_the_problem() {
        for (path, reason) in [
            ("arith", "no `.`"),
            ("arith@xyz.add", "hex digits"),
            (".add", "component name"),
            ("arith.a.b", "task name"),
        ] {
            let message = TaskPath::parse(path).unwrap_err().to_string();
            assert!(message.contains(reason), "{path}: {message}");
        }
    }
}
