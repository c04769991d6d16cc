//! Usage: what a tenant used per UTC day (jobs finished by status, attempts,
//! fuel, attempt time, peak memory, HTTP requests), kept after results are
//! pruned, for billing.

use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{ServiceError, Services};
use crate::store::{UsageCounts, UsageDay};
use crate::tenant::{Principal, Role};

/// The longest range one report covers.
pub const MAX_DAYS: u64 = 366;
/// The range of a report that names none: the last 30 days, today included.
const DEFAULT_DAYS: u64 = 30;

/// A tenant's usage over a range of days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageReport {
    /// The tenant.
    pub tenant: String,
    /// The first day (UTC).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub from: NaiveDate,
    /// The last day (UTC), included.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub to: NaiveDate,
    /// Each day on which it used anything, oldest first.
    pub days: Vec<UsageDay>,
    /// The whole range.
    pub total: UsageCounts,
}

/// The usage operations.
#[derive(Debug, Clone, Copy)]
pub struct Usage<'a>(pub(super) &'a Services);

impl Usage<'_> {
    /// The principal's tenant's usage from `from` to `to` (UTC days, both
    /// included; by default the last 30 days).
    pub async fn report(
        &self,
        principal: &Principal,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<UsageReport, ServiceError> {
        self.0.authorize(principal, Role::Reader).await?;
        let to = to.unwrap_or_else(|| Utc::now().date_naive());
        let from = match from {
            Some(from) => from,
            None => to
                .checked_sub_days(Days::new(DEFAULT_DAYS - 1))
                .unwrap_or(NaiveDate::MIN),
        };
        if from > to {
            return Err(ServiceError::Invalid(format!(
                "`from` ({from}) is after `to` ({to})"
            )));
        }
        let span = (to - from).num_days() as u64 + 1;
        if span > MAX_DAYS {
            return Err(ServiceError::Invalid(format!(
                "a usage report covers at most {MAX_DAYS} days; {from} to {to} is {span}"
            )));
        }
        let days = self
            .0
            .store()
            .usage_days(principal.tenant(), from, to)
            .await?;
        let mut total = UsageCounts::default();
        days.iter().for_each(|day| total.add(&day.used));
        Ok(UsageReport {
            tenant: principal.tenant().to_owned(),
            from,
            to,
            days,
            total,
        })
    }
}
