//! A loaded task component: its digest, its tasks with their declared defaults,
//! and the pre-instantiated form every attempt starts from.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::bindings::{self, WitTaskDefinition};
use crate::cache::CacheStatus;
use crate::engine::AttemptState;
use crate::error::SandboxError;
use crate::limits::LimitOverrides;

/// The sha256 digest of a component's bytes, as lowercase hex.
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A task's declared retry policy; `None` leaves the choice to the queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Total attempts allowed, the first included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Backoff base in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_factor: Option<f64>,
}

/// One task of a component with the defaults it declares (Django's `@task(...)`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskDefinition {
    /// The function name; the task path is `component.name`.
    pub name: String,
    /// Default priority, -100..=100.
    pub priority: i32,
    /// Default queue.
    pub queue_name: String,
    /// Whether the task receives a `TaskContext`.
    pub takes_context: bool,
    /// Declared retry policy.
    pub retry: RetryPolicy,
    /// Declared limits.
    pub limits: LimitOverrides,
}

/// The lowest priority Django allows.
pub const MIN_PRIORITY: i32 = -100;
/// The highest priority Django allows.
pub const MAX_PRIORITY: i32 = 100;

impl TaskDefinition {
    /// Converts and checks what a guest declared.
    pub(crate) fn from_wit(wit: WitTaskDefinition) -> Result<Self, SandboxError> {
        let invalid =
            |rule: String| SandboxError::InvalidDefinition(format!("`{}` {rule}", wit.name));
        let identifier = !wit.name.is_empty()
            && !wit.name.starts_with(|c: char| c.is_ascii_digit())
            && wit
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !identifier {
            return Err(invalid(
                "is not a valid task name (letters, digits, `_`)".into(),
            ));
        }
        if !(MIN_PRIORITY..=MAX_PRIORITY).contains(&wit.priority) {
            return Err(invalid(format!(
                "declares priority {}, outside {MIN_PRIORITY}..={MAX_PRIORITY}",
                wit.priority
            )));
        }
        if wit.queue_name.is_empty() {
            return Err(invalid("declares an empty queue name".into()));
        }
        if wit.retry.max_attempts == Some(0) {
            return Err(invalid(
                "declares max_attempts = 0; it must be at least 1".into(),
            ));
        }
        if let Some(factor) = wit.retry.backoff_factor
            && !(factor.is_finite() && factor > 0.0)
        {
            return Err(invalid(format!(
                "declares backoff_factor = {factor}; it must be a positive number"
            )));
        }
        let limits = LimitOverrides {
            fuel: wit.limits.fuel,
            timeout: wit.limits.timeout_ms.map(std::time::Duration::from_millis),
            memory_bytes: wit.limits.memory_bytes,
        };
        if [limits.fuel, wit.limits.timeout_ms, limits.memory_bytes].contains(&Some(0)) {
            return Err(invalid("declares a zero limit".into()));
        }
        Ok(TaskDefinition {
            priority: wit.priority,
            queue_name: wit.queue_name,
            takes_context: wit.takes_context,
            retry: RetryPolicy {
                max_attempts: wit.retry.max_attempts,
                backoff_factor: wit.retry.backoff_factor,
            },
            limits,
            name: wit.name,
        })
    }
}

/// A validated, compiled component, ready to run attempts.
pub struct TaskComponent {
    pub(crate) digest: String,
    pub(crate) size_bytes: usize,
    pub(crate) tasks: Vec<TaskDefinition>,
    pub(crate) cache: CacheStatus,
    pub(crate) pre: bindings::TaskComponentPre<AttemptState>,
}

impl std::fmt::Debug for TaskComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskComponent")
            .field("digest", &self.digest)
            .field("tasks", &self.tasks)
            .finish_non_exhaustive()
    }
}

impl TaskComponent {
    /// The sha256 digest of the component's bytes.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The size of the component's bytes.
    pub fn size_bytes(&self) -> usize {
        self.size_bytes
    }

    /// The tasks the component exports, in the order it lists them.
    pub fn tasks(&self) -> &[TaskDefinition] {
        &self.tasks
    }

    /// Where its compiled code came from when it was loaded.
    pub fn cache_status(&self) -> CacheStatus {
        self.cache
    }

    /// The task called `name`, or an error listing the ones that exist.
    pub fn task(&self, name: &str) -> Result<&TaskDefinition, SandboxError> {
        self.tasks
            .iter()
            .find(|task| task.name == name)
            .ok_or_else(|| SandboxError::UnknownTask {
                task: name.to_owned(),
                available: self
                    .tasks
                    .iter()
                    .map(|task| task.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// The kind of binary, read from the preamble.
pub(crate) fn check_preamble(bytes: &[u8]) -> Result<(), SandboxError> {
    const MAGIC: &[u8] = b"\0asm";
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err(SandboxError::NotWasm);
    }
    // Bytes 6..8 are the layer: 0 for a core module, 1 for a component.
    match u16::from_le_bytes([bytes[6], bytes[7]]) {
        0 => Err(SandboxError::CoreModule),
        1 => Ok(()),
        layer => Err(SandboxError::Invalid(format!(
            "unknown binary layer {layer}"
        ))),
    }
}

/// Checks that the declared tasks are unique and converts them.
pub(crate) fn definitions(
    wit: Vec<WitTaskDefinition>,
) -> Result<Vec<TaskDefinition>, SandboxError> {
    let mut tasks: Vec<TaskDefinition> = Vec::with_capacity(wit.len());
    for definition in wit {
        let definition = TaskDefinition::from_wit(definition)?;
        if tasks.iter().any(|task| task.name == definition.name) {
            return Err(SandboxError::InvalidDefinition(format!(
                "`{}` is declared twice",
                definition.name
            )));
        }
        tasks.push(definition);
    }
    if tasks.is_empty() {
        return Err(SandboxError::InvalidDefinition(
            "the component declares no tasks".into(),
        ));
    }
    Ok(tasks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::wasmtasks::task::types::{
        Limits as WitLimits, RetryPolicy as WitRetryPolicy,
    };

    fn wit(name: &str, priority: i32) -> WitTaskDefinition {
        WitTaskDefinition {
            name: name.into(),
            priority,
            queue_name: "default".into(),
            takes_context: false,
            retry: WitRetryPolicy {
                max_attempts: None,
                backoff_factor: None,
            },
            limits: WitLimits {
                fuel: None,
                timeout_ms: Some(1500),
                memory_bytes: None,
            },
        }
    }

    #[test]
    fn preamble_tells_module_from_component() {
        assert!(matches!(
            check_preamble(b"hello"),
            Err(SandboxError::NotWasm)
        ));
        assert!(matches!(
            check_preamble(b"\0asm\x01\0\0\0"),
            Err(SandboxError::CoreModule)
        ));
        assert!(check_preamble(b"\0asm\x0d\0\x01\0").is_ok());
    }

    #[test]
    fn definitions_convert_limits() {
        let tasks = definitions(vec![wit("add", 0)]).unwrap();
        assert_eq!(
            tasks[0].limits.timeout,
            Some(std::time::Duration::from_millis(1500))
        );
    }

    #[test]
    fn definitions_reject_broken_declarations() {
        let priority = definitions(vec![wit("add", 101)]).unwrap_err().to_string();
        assert!(priority.contains("priority 101"), "{priority}");
        let twice = definitions(vec![wit("add", 0), wit("add", 1)])
            .unwrap_err()
            .to_string();
        assert!(twice.contains("declared twice"), "{twice}");
        let name = definitions(vec![wit("a.b", 0)]).unwrap_err().to_string();
        assert!(name.contains("not a valid task name"), "{name}");
        assert!(definitions(vec![]).is_err());
    }

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            digest(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
