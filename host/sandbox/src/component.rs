//! A loaded task component: its digest, its tasks with their declared defaults,
//! and the pre-instantiated form every attempt starts from.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cache::CacheStatus;
use crate::contract::{ComponentPre, Declared, DeclaredParam};
use crate::error::SandboxError;
use crate::limits::LimitOverrides;
use crate::signature::{ParamSpec, Signature};

/// The sha256 digest of a component's bytes, as lowercase hex.
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A task's declared retry policy; `None` leaves the choice to the queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Parameters and return type, with their JSON Schemas; `None` for a
    /// component built with SDK 0.1, which records none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<Signature>,
}

/// The lowest priority Django allows.
pub const MIN_PRIORITY: i32 = -100;
/// The highest priority Django allows.
pub const MAX_PRIORITY: i32 = 100;

impl TaskDefinition {
    /// The task in Python's notation, `add(a: int, b: int) -> int`; a task whose
    /// component records no signature (contract 0.1.0) reads `add(...)`.
    pub fn python_signature(&self) -> String {
        match &self.signature {
            Some(signature) => format!("{}{}", self.name, signature.to_python()),
            None => format!("{}(...)", self.name),
        }
    }

    /// Converts and checks what a guest declared.
    pub(crate) fn from_declared(declared: Declared) -> Result<Self, SandboxError> {
        let invalid =
            |rule: String| SandboxError::InvalidDefinition(format!("`{}` {rule}", declared.name));
        if !is_identifier(&declared.name) {
            return Err(invalid(
                "is not a valid task name (letters, digits, `_`)".into(),
            ));
        }
        if !(MIN_PRIORITY..=MAX_PRIORITY).contains(&declared.priority) {
            return Err(invalid(format!(
                "declares priority {}, outside {MIN_PRIORITY}..={MAX_PRIORITY}",
                declared.priority
            )));
        }
        if declared.queue_name.is_empty() {
            return Err(invalid("declares an empty queue name".into()));
        }
        if declared.max_attempts == Some(0) {
            return Err(invalid(
                "declares max_attempts = 0; it must be at least 1".into(),
            ));
        }
        if let Some(factor) = declared.backoff_factor
            && !(factor.is_finite() && factor > 0.0)
        {
            return Err(invalid(format!(
                "declares backoff_factor = {factor}; it must be a positive number"
            )));
        }
        let limits = LimitOverrides {
            fuel: declared.fuel,
            timeout: declared.timeout_ms.map(std::time::Duration::from_millis),
            memory_bytes: declared.memory_bytes,
        };
        if [limits.fuel, declared.timeout_ms, limits.memory_bytes].contains(&Some(0)) {
            return Err(invalid("declares a zero limit".into()));
        }
        let signature = match declared.signature {
            None => None,
            Some((params, returns)) => Some(signature(params, &returns).map_err(invalid)?),
        };
        Ok(TaskDefinition {
            priority: declared.priority,
            queue_name: declared.queue_name,
            takes_context: declared.takes_context,
            retry: RetryPolicy {
                max_attempts: declared.max_attempts,
                backoff_factor: declared.backoff_factor,
            },
            limits,
            signature,
            name: declared.name,
        })
    }
}

/// Whether `name` is a task or parameter name: letters, digits and `_`, not
/// starting with a digit.
fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The checked signature of declared `(name, required, schema)` parameters.
fn signature(params: Vec<DeclaredParam>, returns: &str) -> Result<Signature, String> {
    let schema = |what: &str, text: &str| {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .filter(|value| value.is_object() || value.is_boolean())
            .ok_or_else(|| format!("declares a schema for {what} that is not a JSON Schema"))
    };
    let mut checked: Vec<ParamSpec> = Vec::with_capacity(params.len());
    for (name, required, text) in params {
        if !is_identifier(&name) {
            return Err(format!(
                "declares a parameter `{name}` that is not a valid name"
            ));
        }
        if checked.iter().any(|param| param.name == name) {
            return Err(format!("declares the parameter `{name}` twice"));
        }
        let schema = schema(&format!("parameter `{name}`"), &text)?;
        checked.push(ParamSpec {
            name,
            required,
            schema,
        });
    }
    Ok(Signature {
        params: checked,
        returns: schema("its return value", returns)?,
    })
}

/// A validated, compiled component, ready to run attempts.
pub struct TaskComponent {
    pub(crate) digest: String,
    pub(crate) size_bytes: usize,
    /// Bytes of its compiled machine code in memory.
    pub(crate) code_bytes: u64,
    pub(crate) name: Option<String>,
    pub(crate) tasks: Vec<TaskDefinition>,
    pub(crate) cache: CacheStatus,
    pub(crate) pre: ComponentPre,
}

impl std::fmt::Debug for TaskComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskComponent")
            .field("digest", &self.digest)
            .field("name", &self.name)
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

    /// The name the component gives itself (its crate's), if its contract has one.
    pub fn declared_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The version of the contract it was built against: `0.2.0` or `0.1.0`.
    pub fn contract(&self) -> &'static str {
        self.pre.version()
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

/// Whether `name` is a valid name of a component, tenant, queue or configuration
/// key: 1 to 128 letters, digits, `_` or `-`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The name a component declares, checked against [`is_valid_name`].
pub(crate) fn check_name(name: String) -> Result<String, SandboxError> {
    if is_valid_name(&name) {
        Ok(name)
    } else {
        Err(SandboxError::InvalidDefinition(format!(
            "the component's name `{name}` is not a valid component name (letters, digits, `_`, `-`)"
        )))
    }
}

/// Checks the declared tasks are unique and
/// converts them.
pub(crate) fn definitions(declared: Vec<Declared>) -> Result<Vec<TaskDefinition>, SandboxError> {
    let mut tasks: Vec<TaskDefinition> = Vec::with_capacity(declared.len());
    for definition in declared {
        let definition = TaskDefinition::from_declared(definition)?;
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

    fn declared(name: &str, priority: i32) -> Declared {
        Declared {
            name: name.into(),
            priority,
            queue_name: "default".into(),
            takes_context: false,
            max_attempts: None,
            backoff_factor: None,
            fuel: None,
            timeout_ms: Some(1500),
            memory_bytes: None,
            signature: None,
        }
    }

    fn with_params(params: &[(&str, bool, &str)]) -> Declared {
        Declared {
            signature: Some((
                params
                    .iter()
                    .map(|(name, required, schema)| ((*name).into(), *required, (*schema).into()))
                    .collect(),
                "{}".into(),
            )),
            ..declared("f", 0)
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
        let tasks = definitions(vec![declared("add", 0)]).unwrap();
        assert_eq!(
            tasks[0].limits.timeout,
            Some(std::time::Duration::from_millis(1500))
        );
        assert_eq!(tasks[0].signature, None);
    }

    #[test]
    fn definitions_reject_broken_declarations() {
        let priority = definitions(vec![declared("add", 101)])
            .unwrap_err()
            .to_string();
        assert!(priority.contains("priority 101"), "{priority}");
        let twice = definitions(vec![declared("add", 0), declared("add", 1)])
            .unwrap_err()
            .to_string();
        assert!(twice.contains("declared twice"), "{twice}");
        let name = definitions(vec![declared("a.b", 0)])
            .unwrap_err()
            .to_string();
        assert!(name.contains("not a valid task name"), "{name}");
        assert!(definitions(vec![]).is_err());
    }

    #[test]
    fn signatures_are_checked() {
        let ok = definitions(vec![with_params(&[("a", true, r#"{"type":"integer"}"#)])]).unwrap();
        let signature = ok[0].signature.as_ref().unwrap();
        assert_eq!(signature.params[0].name, "a");
        assert_eq!(signature.params[0].schema["type"], "integer");
        for (params, problem) in [
            (
                vec![("a", true, "{}"), ("a", false, "{}")],
                "parameter `a` twice",
            ),
            (vec![("a b", true, "{}")], "not a valid name"),
            (vec![("a", true, "[1]")], "not a JSON Schema"),
            (vec![("a", true, "{oops")], "not a JSON Schema"),
        ] {
            let message = definitions(vec![with_params(&params)])
                .unwrap_err()
                .to_string();
            assert!(message.contains(problem), "{message}");
        }
    }

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            digest(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
