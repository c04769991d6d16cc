//! Settings of a [`crate::Sandbox`], validated once when the sandbox is built.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::SandboxError;
use crate::limits::Limits;
use crate::output::DEFAULT_OUTPUT_CAP;

/// How a sandbox is set up. Every field documents its default and its trade-off.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Limits of an attempt that asks for nothing else. Default: [`Limits::default`].
    pub default_limits: Limits,
    /// The largest memory cap any attempt may ask for. Each slot of the pooling
    /// allocator is sized for it, so it bounds address-space use, not RAM.
    /// Default 1 GiB; at most 4 GiB (the wasm32 address space).
    pub max_memory_bytes: u64,
    /// Instances that may be alive at once, i.e. concurrent attempts. The pooling
    /// allocator pre-reserves this many slots; attempts beyond it wait for a free
    /// slot. Default 128.
    pub pool_slots: u32,
    /// Where compiled components are cached, keyed by content digest and engine
    /// compatibility. `None` (the default) compiles every component on every load.
    pub cache_dir: Option<PathBuf>,
    /// Interval of the epoch ticker: the precision of wall-clock timeouts, and how
    /// often a running guest yields to the async executor. Default 10 ms.
    pub epoch_tick: Duration,
    /// Bytes kept of each of a guest's stdout and stderr. Default 64 KiB.
    pub output_cap: usize,
    /// Largest return value (JSON text) accepted from a guest. Default 1 MiB.
    pub max_return_bytes: usize,
    /// Bytes of each slot's linear memory that are reset in place after an attempt
    /// (copied back from the component's initial image, or zeroed) and stay
    /// resident; memory beyond them is given back to the kernel and faulted in again
    /// by the next attempt. Default 16 MiB: a Python component's whole memory (its
    /// interpreter heap is ~13 MiB). Each slot that ran a component keeps up to this
    /// much RAM.
    pub keep_resident_bytes: u64,
    /// Machine code of loaded components kept in memory, ready to instantiate; the
    /// least recently used are let go past it (and loaded again, from the compile
    /// cache when there is one, when next needed). Default 512 MiB.
    pub max_loaded_bytes: u64,
}

/// The default of [`SandboxConfig::max_loaded_bytes`].
pub const DEFAULT_MAX_LOADED_BYTES: u64 = 512 << 20;

/// The default of [`SandboxConfig::keep_resident_bytes`].
pub const DEFAULT_KEEP_RESIDENT_BYTES: u64 = 16 << 20;

/// The wasm32 linear-memory address space.
const WASM32_MEMORY_BYTES: u64 = 4 << 30;

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            default_limits: Limits::default(),
            max_memory_bytes: 1 << 30,
            pool_slots: 128,
            cache_dir: None,
            epoch_tick: Duration::from_millis(10),
            output_cap: DEFAULT_OUTPUT_CAP,
            max_return_bytes: 1 << 20,
            keep_resident_bytes: DEFAULT_KEEP_RESIDENT_BYTES,
            max_loaded_bytes: DEFAULT_MAX_LOADED_BYTES,
        }
    }
}

impl SandboxConfig {
    /// Checks that the settings fit together.
    pub fn validate(&self) -> Result<(), SandboxError> {
        if self.max_memory_bytes == 0 || self.max_memory_bytes > WASM32_MEMORY_BYTES {
            return Err(SandboxError::Engine(format!(
                "max_memory_bytes must be between 1 and {WASM32_MEMORY_BYTES}, got {}",
                self.max_memory_bytes
            )));
        }
        if self.pool_slots == 0 {
            return Err(SandboxError::Engine("pool_slots must be at least 1".into()));
        }
        if self.epoch_tick.is_zero() {
            return Err(SandboxError::Engine("epoch_tick must be above zero".into()));
        }
        self.check_limits(&self.default_limits)
    }

    /// Checks that an attempt's limits are within what this sandbox allows.
    pub fn check_limits(&self, limits: &Limits) -> Result<(), SandboxError> {
        if limits.memory_bytes > self.max_memory_bytes {
            return Err(SandboxError::LimitTooHigh {
                what: "a memory limit",
                requested: format!("{} bytes", limits.memory_bytes),
                maximum: format!("{} bytes", self.max_memory_bytes),
            });
        }
        if limits.fuel == 0 || limits.timeout.is_zero() || limits.memory_bytes == 0 {
            return Err(SandboxError::InvalidLimits(format!(
                "fuel, timeout and memory must all be above zero (fuel {}, timeout {:?}, memory {} bytes)",
                limits.fuel, limits.timeout, limits.memory_bytes
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        SandboxConfig::default().validate().unwrap();
    }

    #[test]
    fn memory_above_the_maximum_is_refused_with_both_numbers() {
        let config = SandboxConfig::default();
        let limits = Limits {
            memory_bytes: 2 << 30,
            ..Limits::default()
        };
        let message = config.check_limits(&limits).unwrap_err().to_string();
        assert!(message.contains("2147483648 bytes"), "{message}");
        assert!(message.contains("1073741824 bytes"), "{message}");
    }

    #[test]
    fn zero_slots_or_oversized_memory_is_refused() {
        let config = SandboxConfig {
            pool_slots: 0,
            ..SandboxConfig::default()
        };
        assert!(config.validate().is_err());
        let config = SandboxConfig {
            max_memory_bytes: 8 << 30,
            ..SandboxConfig::default()
        };
        assert!(config.validate().is_err());
    }
}
