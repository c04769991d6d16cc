//! Per-attempt limits and the resource limiter that enforces the memory cap.
//!
//! Three limits bound every attempt:
//! - **fuel**, a deterministic CPU budget (about one unit per wasm instruction):
//!   the same task with the same input always stops at the same point;
//! - a **wall-clock timeout**, enforced by epoch interruption for running wasm and
//!   by cancelling the attempt's future for a guest blocked in a host call;
//! - a **linear-memory cap**: growing past it traps at once with
//!   [`MemoryLimitExceeded`] instead of letting the guest's allocator limp on.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Default fuel per attempt: ten billion units, a few seconds of CPU.
pub const DEFAULT_FUEL: u64 = 10_000_000_000;
/// Default wall-clock timeout per attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default linear-memory cap per attempt: 128 MiB.
pub const DEFAULT_MEMORY_BYTES: u64 = 128 << 20;
/// Most table elements an instance may grow to; Rust guests rarely grow tables.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// The limits of one attempt. Values, never globals: each attempt carries its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Fuel units the attempt may consume.
    pub fuel: u64,
    /// Wall-clock time the attempt may take, instantiation included.
    #[serde(with = "duration_ms")]
    pub timeout: Duration,
    /// Bytes of linear memory the component may hold.
    pub memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: DEFAULT_FUEL,
            timeout: DEFAULT_TIMEOUT,
            memory_bytes: DEFAULT_MEMORY_BYTES,
        }
    }
}

/// The limits a task declares or a caller asks for; `None` keeps the base value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LimitOverrides {
    /// Fuel units.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::int64::optional",
        default
    )]
    pub fuel: Option<u64>,
    /// Wall-clock timeout, in milliseconds in JSON (`timeout_ms`; `timeout` is
    /// read too, as rows stored before the rename have it).
    #[serde(
        rename = "timeout_ms",
        alias = "timeout",
        skip_serializing_if = "Option::is_none",
        with = "opt_duration_ms",
        default
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u64>))]
    pub timeout: Option<Duration>,
    /// Linear-memory cap in bytes.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::int64::optional",
        default
    )]
    pub memory_bytes: Option<u64>,
}

impl LimitOverrides {
    /// These overrides, falling back to `declared` for what they leave unset.
    pub fn or(self, declared: LimitOverrides) -> LimitOverrides {
        LimitOverrides {
            fuel: self.fuel.or(declared.fuel),
            timeout: self.timeout.or(declared.timeout),
            memory_bytes: self.memory_bytes.or(declared.memory_bytes),
        }
    }
}

impl Limits {
    /// These limits with every value that `overrides` sets replaced.
    pub fn with(self, overrides: LimitOverrides) -> Limits {
        Limits {
            fuel: overrides.fuel.unwrap_or(self.fuel),
            timeout: overrides.timeout.unwrap_or(self.timeout),
            memory_bytes: overrides.memory_bytes.unwrap_or(self.memory_bytes),
        }
    }

    /// These limits, each lowered to the ceiling `ceilings` sets for it, if any.
    pub fn within(self, ceilings: LimitOverrides) -> Limits {
        Limits {
            fuel: ceilings.fuel.map_or(self.fuel, |c| self.fuel.min(c)),
            timeout: ceilings
                .timeout
                .map_or(self.timeout, |c| self.timeout.min(c)),
            memory_bytes: ceilings
                .memory_bytes
                .map_or(self.memory_bytes, |c| self.memory_bytes.min(c)),
        }
    }
}

/// The trap raised when a guest grows its memory past the attempt's cap.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error(
    "linear memory limit exceeded: the guest asked for {requested} bytes, the limit is {limit}"
)]
pub struct MemoryLimitExceeded {
    /// Bytes the growth asked for in total.
    pub requested: u64,
    /// The cap.
    pub limit: u64,
}

/// Enforces the memory cap of one attempt and records the peak it reached.
#[derive(Debug)]
pub(crate) struct AttemptLimiter {
    memory_limit: u64,
    peak_memory: u64,
}

impl AttemptLimiter {
    /// A limiter for a cap of `memory_limit` bytes.
    pub(crate) fn new(memory_limit: u64) -> Self {
        AttemptLimiter {
            memory_limit,
            peak_memory: 0,
        }
    }

    /// The largest linear memory the guest held, in bytes.
    pub(crate) fn peak_memory(&self) -> u64 {
        self.peak_memory
    }
}

impl wasmtime::ResourceLimiter for AttemptLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let desired = desired as u64;
        if desired > self.memory_limit {
            return Err(MemoryLimitExceeded {
                requested: desired,
                limit: self.memory_limit,
            }
            .into());
        }
        self.peak_memory = self.peak_memory.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(value.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}

mod opt_duration_ms {
    use std::time::Duration;

    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.serialize_u64(value.as_millis() as u64),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        crate::int64::optional(deserializer).map(|ms| ms.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests {
    use wasmtime::ResourceLimiter;

    use super::*;

    #[test]
    fn overrides_replace_only_what_they_set() {
        let base = Limits::default();
        let limits = base.with(LimitOverrides {
            fuel: Some(5),
            ..LimitOverrides::default()
        });
        assert_eq!(limits.fuel, 5);
        assert_eq!(limits.timeout, base.timeout);
        assert_eq!(limits.memory_bytes, base.memory_bytes);
    }

    #[test]
    fn limiter_records_peak_and_traps_past_the_cap() {
        let mut limiter = AttemptLimiter::new(1 << 20);
        assert!(limiter.memory_growing(0, 65536, None).unwrap());
        assert!(limiter.memory_growing(65536, 1 << 20, None).unwrap());
        assert_eq!(limiter.peak_memory(), 1 << 20);
        let error = limiter
            .memory_growing(1 << 20, (1 << 20) + 65536, None)
            .unwrap_err();
        let exceeded = error.downcast_ref::<MemoryLimitExceeded>().unwrap();
        assert_eq!(exceeded.limit, 1 << 20);
        assert_eq!(limiter.peak_memory(), 1 << 20);
    }

    #[test]
    fn limits_serialise_timeouts_in_milliseconds() {
        let json = serde_json::to_value(Limits::default()).unwrap();
        assert_eq!(json["timeout"], 60_000);
        let overrides: LimitOverrides = serde_json::from_str(r#"{"timeout_ms": 1500}"#).unwrap();
        assert_eq!(overrides.timeout, Some(Duration::from_millis(1500)));
        let stored_before: LimitOverrides = serde_json::from_str(r#"{"timeout": 1500}"#).unwrap();
        assert_eq!(stored_before, overrides);
        assert_eq!(
            serde_json::to_string(&overrides).unwrap(),
            r#"{"timeout_ms":1500}"#
        );
    }

    #[test]
    fn ceilings_lower_only_what_they_set() {
        let ceilings = LimitOverrides {
            fuel: Some(1_000),
            timeout: Some(Duration::from_secs(300)),
            memory_bytes: None,
        };
        let limited = Limits::default().within(ceilings);
        assert_eq!(limited.fuel, 1_000);
        assert_eq!(limited.timeout, DEFAULT_TIMEOUT);
        assert_eq!(limited.memory_bytes, DEFAULT_MEMORY_BYTES);
    }
}
