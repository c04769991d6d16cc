//! Metrics: this process's Prometheus metrics, with queue depths, lag and workers
//! read from the store at each scrape. They name every tenant, so only the
//! operator reads them through the API; `--metrics-listen` serves them on a port
//! of the operator's choosing without a token.

use super::{ServiceError, Services, operator_only};
use crate::tenant::Principal;

/// The metrics operations.
#[derive(Debug, Clone, Copy)]
pub struct Metrics<'a>(pub(super) &'a Services);

impl Metrics<'_> {
    /// The metrics as OpenMetrics text, for the operator.
    pub async fn render(&self, principal: &Principal) -> Result<String, ServiceError> {
        operator_only(principal)?;
        self.render_for_listener().await
    }

    /// The metrics as OpenMetrics text, for the `--metrics-listen` port (which
    /// the operator chose to expose; no token there).
    pub async fn render_for_listener(&self) -> Result<String, ServiceError> {
        let registry = self.0.registry();
        Ok(registry.metrics().render(registry.store().as_ref()).await?)
    }
}
