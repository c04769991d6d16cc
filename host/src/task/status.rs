//! The lifecycle of a task result.

use serde::{Deserialize, Serialize};

/// Where a job is in its life (Django's `TaskResultStatus`, plus `CANCELLED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    /// Waiting to be run (again).
    Ready,
    /// A worker holds it and is running an attempt.
    Running,
    /// Finished with a return value.
    Successful,
    /// Finished with an error, attempts exhausted or not retryable.
    Failed,
    /// Withdrawn before it ran.
    Cancelled,
}

impl TaskStatus {
    /// The status as stored and printed, e.g. `SUCCESSFUL`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Ready => "READY",
            TaskStatus::Running => "RUNNING",
            TaskStatus::Successful => "SUCCESSFUL",
            TaskStatus::Failed => "FAILED",
            TaskStatus::Cancelled => "CANCELLED",
        }
    }

    /// Whether the job is done for good.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TaskStatus::Successful | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_like_django() {
        assert_eq!(
            serde_json::to_string(&TaskStatus::Successful).unwrap(),
            "\"SUCCESSFUL\""
        );
        assert_eq!(TaskStatus::Cancelled.as_str(), "CANCELLED");
        assert!(TaskStatus::Failed.is_finished());
        assert!(!TaskStatus::Running.is_finished());
    }
}
