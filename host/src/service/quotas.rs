//! The tenants' quotas as the service layer enforces them before anything is
//! stored: the per-attempt ceilings a job may not ask past, the enqueue rate, and
//! the component limits of an upload. (`max_queued` is checked by the store in the
//! insert's own transaction; `max_running` and `weight` by the workers' claim.)
//! Each tenant's quotas are read through a cache of a second, so a change reaches
//! every process within that; the operator's check that a tenant exists reads the
//! same cache.

use std::time::Duration;

use wasmtasks_sandbox::LimitOverrides;

use super::{ServiceError, Services};
use crate::quota::QuotaExceeded;
use crate::rate::{Rate, RateLimiter};
use crate::store::Quotas;
use crate::ttl_cache::TtlCache;

/// How long a tenant's quotas are used before they are read again.
const CACHE_FOR: Duration = Duration::from_secs(1);

/// The cached quotas and the enqueue buckets of one process.
#[derive(Debug)]
pub(super) struct QuotaState {
    cache: TtlCache<String, Quotas>,
    rates: RateLimiter,
}

impl QuotaState {
    /// Nothing cached, every bucket full.
    pub(super) fn new() -> Self {
        QuotaState {
            cache: TtlCache::new(CACHE_FOR, 10_000),
            rates: RateLimiter::default(),
        }
    }

    /// Forgets `tenant`'s cached quotas (they were just changed, or it was
    /// deleted, here).
    pub(super) fn forget(&self, tenant: &str) {
        self.cache.forget_where(|cached| cached == tenant);
    }
}

impl Services {
    /// `tenant`'s quotas, at most a second old (the defaults for no such tenant).
    pub(super) async fn quotas_of(&self, tenant: &str) -> Result<Quotas, ServiceError> {
        Ok(self.known_tenant(tenant).await?.unwrap_or_default())
    }

    /// `tenant`'s quotas if it exists. A tenant seen to exist is believed to for a
    /// second (so a deletion in another process is seen within that); one not found
    /// is read again next time, so a tenant created elsewhere is usable at once.
    pub(super) async fn known_tenant(&self, tenant: &str) -> Result<Option<Quotas>, ServiceError> {
        let state = &self.inner.quotas;
        if let Some(quotas) = state.cache.get(tenant) {
            return Ok(Some(quotas));
        }
        let quotas = self
            .store()
            .tenant_get(tenant)
            .await?
            .map(|tenant| tenant.quotas);
        if let Some(quotas) = quotas {
            state.cache.put(tenant.to_owned(), quotas);
        }
        Ok(quotas)
    }

    /// Admits an enqueue of jobs asking for the limits `asked` (one per job, in
    /// order): refused if one asks past a ceiling, or if the tenant's enqueue rate
    /// has no room for all of them.
    pub(super) async fn admit_enqueue<'a>(
        &self,
        tenant: &str,
        asked: impl ExactSizeIterator<Item = &'a LimitOverrides>,
    ) -> Result<(), ServiceError> {
        let count = asked.len() as u64;
        let quotas = self.check_ceilings(tenant, asked).await?;
        self.take_enqueue_rate(tenant, &quotas, count)
    }

    /// Refuses jobs asking for limits past the tenant's ceilings; gives its quotas.
    pub(super) async fn check_ceilings<'a>(
        &self,
        tenant: &str,
        asked: impl ExactSizeIterator<Item = &'a LimitOverrides>,
    ) -> Result<Quotas, ServiceError> {
        let quotas = self.quotas_of(tenant).await?;
        let batch = asked.len() > 1;
        for (index, limits) in asked.enumerate() {
            check_ceilings(tenant, &quotas, limits, batch.then_some(index))?;
        }
        Ok(quotas)
    }

    /// Takes `count` jobs from the tenant's enqueue rate, all or none.
    fn take_enqueue_rate(
        &self,
        tenant: &str,
        quotas: &Quotas,
        count: u64,
    ) -> Result<(), ServiceError> {
        let Some(rate) = quotas.enqueue_rate else {
            return Ok(());
        };
        let burst = quotas
            .enqueue_burst
            .unwrap_or_else(|| rate.ceil().max(1.0) as u32);
        let value = format!("{rate}/s (burst {burst})");
        self.inner
            .quotas
            .rates
            .take(tenant, Rate { rate, burst }, count)
            .map_err(|exceeded| {
                let refusal = if exceeded.retry_after_secs.is_finite() {
                    QuotaExceeded::busy(
                        "enqueue_rate",
                        &value,
                        format!(
                            "tenant `{tenant}` may enqueue {value} jobs (enqueue_rate): \
                             {count} more fit in {:.1}s; nothing was stored",
                            exceeded.retry_after_secs
                        ),
                    )
                    .retry_after(exceeded.retry_after_secs.ceil() as u64)
                } else {
                    QuotaExceeded::busy(
                        "enqueue_rate",
                        &value,
                        format!(
                            "tenant `{tenant}` may enqueue {value} jobs (enqueue_rate): \
                             a batch of {count} never fits; send at most {burst} at once; \
                             nothing was stored"
                        ),
                    )
                };
                ServiceError::Quota(refusal)
            })
    }

    /// Admits the upload of a component of `size` bytes while the tenant keeps
    /// `stored` versions, one more unless its bytes are stored already
    /// (`new_version`): refused past `max_component_bytes` or `max_components`.
    pub(super) async fn admit_upload(
        &self,
        tenant: &str,
        size: u64,
        stored: usize,
        new_version: bool,
    ) -> Result<(), ServiceError> {
        let quotas = self.quotas_of(tenant).await?;
        if let Some(max) = quotas.max_component_bytes
            && size > max
        {
            return Err(ServiceError::Quota(QuotaExceeded::ceiling(
                "max_component_bytes",
                max,
                format!(
                    "tenant `{tenant}` may upload components of at most {max} bytes \
                     (max_component_bytes); this one is {size} bytes"
                ),
            )));
        }
        if let Some(max) = quotas.max_components
            && new_version
            && stored as u64 >= u64::from(max)
        {
            return Err(ServiceError::Quota(QuotaExceeded::ceiling(
                "max_components",
                max,
                format!(
                    "tenant `{tenant}` may keep {max} component versions \
                     (max_components) and has {stored}; delete one first"
                ),
            )));
        }
        Ok(())
    }
}

/// Refuses limits above the tenant's ceilings; `index` names the job of a batch.
fn check_ceilings(
    tenant: &str,
    quotas: &Quotas,
    asked: &LimitOverrides,
    index: Option<usize>,
) -> Result<(), ServiceError> {
    let ceilings = quotas.ceilings();
    let job = index.map_or_else(|| "the job".to_owned(), |i| format!("job {}", i + 1));
    let over = |limit: &str, max: u64, unit: &str, wanted: u64| {
        ServiceError::Quota(QuotaExceeded::ceiling(
            limit,
            max,
            format!(
                "tenant `{tenant}` may give an attempt at most {max}{unit} ({limit}); \
                 {job} asks for {wanted}{unit}; nothing was stored"
            ),
        ))
    };
    if let (Some(max), Some(wanted)) = (ceilings.fuel, asked.fuel)
        && wanted > max
    {
        return Err(over("max_fuel", max, " fuel", wanted));
    }
    if let (Some(max), Some(wanted)) = (ceilings.timeout, asked.timeout)
        && wanted > max
    {
        return Err(over(
            "max_timeout_ms",
            max.as_millis() as u64,
            " ms",
            wanted.as_millis() as u64,
        ));
    }
    if let (Some(max), Some(wanted)) = (ceilings.memory_bytes, asked.memory_bytes)
        && wanted > max
    {
        return Err(over("max_memory_bytes", max, " bytes", wanted));
    }
    Ok(())
}
