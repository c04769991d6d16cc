//! `[quotas]`: the quotas a tenant gets when it is created (the operator changes
//! them per tenant with `wasmtasks tenant set`).

use super::raw::RawQuotas;
use super::{ConfigError, duration, size};
use crate::store::Quotas;

/// The quotas of new tenants, from `[quotas]` (no limits, weight 1, by default).
pub(super) fn tenant_quotas(
    raw: RawQuotas,
    invalid: &impl Fn(&str, String) -> ConfigError,
) -> Result<Quotas, ConfigError> {
    let count = |value: Option<i64>, key: &str| -> Result<Option<u64>, ConfigError> {
        value
            .map(|n| {
                u64::try_from(n).map_err(|_| invalid(key, format!("must be 0 or more, got {n}")))
            })
            .transpose()
    };
    let small = |value: Option<i64>, key: &str| -> Result<Option<u32>, ConfigError> {
        count(value, key)?
            .map(|n| u32::try_from(n).map_err(|_| invalid(key, format!("is too large: {n}"))))
            .transpose()
    };
    let sized = |value: Option<String>, key: &str| -> Result<Option<u64>, ConfigError> {
        value
            .map(|text| size(Some(&text), 0, key, invalid))
            .transpose()
    };
    let quotas = Quotas {
        max_running: small(raw.max_running, "quotas.max_running")?,
        max_queued: count(raw.max_queued, "quotas.max_queued")?,
        enqueue_rate: raw.enqueue_rate,
        enqueue_burst: small(raw.enqueue_burst, "quotas.enqueue_burst")?,
        max_fuel: count(raw.max_fuel, "quotas.max_fuel")?,
        max_timeout_ms: raw
            .max_timeout
            .map(|text| {
                duration(
                    Some(&text),
                    Default::default(),
                    "quotas.max_timeout",
                    invalid,
                )
            })
            .transpose()?
            .map(|timeout| timeout.as_millis() as u64),
        max_memory_bytes: sized(raw.max_memory, "quotas.max_memory")?,
        max_component_bytes: sized(raw.max_component_size, "quotas.max_component_size")?,
        max_components: small(raw.max_components, "quotas.max_components")?,
        weight: small(raw.weight, "quotas.weight")?.unwrap_or(1),
    };
    quotas
        .validate()
        .map_err(|problem| invalid("quotas", problem))?;
    Ok(quotas)
}
