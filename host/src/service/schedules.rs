//! Periodic jobs of a tenant: list them with their next runs, create or replace
//! one, delete, pause and resume. Those of the configuration file are listed too
//! (and can be paused) but are changed only in the file.

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::{ServiceError, Services};
use crate::schedule::ScheduleSpec;
use crate::store::{SchedulePut, ScheduleRecord, ScheduleSource};
use crate::task::path::is_valid_name;
use crate::tenant::{Principal, Role};

/// A schedule and its next runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleInfo {
    /// What is stored of it.
    #[serde(flatten)]
    pub record: ScheduleRecord,
    /// Its next ticks after the one it waits for (up to five), for people.
    pub upcoming: Vec<chrono::DateTime<Utc>>,
}

/// The schedules operations.
#[derive(Debug, Clone, Copy)]
pub struct Schedules<'a>(pub(super) &'a Services);

fn check_name(name: &str) -> Result<(), ServiceError> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(ServiceError::Invalid(format!(
            "invalid schedule name `{name}`: use letters, digits, `_` or `-`"
        )))
    }
}

fn not_found(name: &str) -> ServiceError {
    ServiceError::NotFound(format!("no schedule `{name}`"))
}

impl Schedules<'_> {
    /// The tenant's schedules, by name. Those of the file that no worker has
    /// stored yet are listed from the file.
    pub async fn list(&self, principal: &Principal) -> Result<Vec<ScheduleInfo>, ServiceError> {
        self.0.authorize(principal, Role::Reader).await?;
        let tenant = principal.tenant();
        let mut records = self.0.store().schedule_list(Some(tenant)).await?;
        let now = Utc::now();
        if let Some(file) = self.0.settings().schedules.get(tenant) {
            for (name, spec) in file {
                if records.iter().any(|record| &record.name == name) {
                    continue;
                }
                let Ok(ticks) = spec.check() else { continue };
                let Some(next_run_at) = ticks.next_after(now) else {
                    continue;
                };
                records.push(ScheduleRecord {
                    tenant: tenant.to_owned(),
                    name: name.clone(),
                    source: ScheduleSource::File,
                    spec: spec.clone(),
                    paused: false,
                    next_run_at,
                    last_run_at: None,
                    last_job_id: None,
                    last_error: None,
                });
            }
        }
        records.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(records.into_iter().map(with_upcoming).collect())
    }

    /// One schedule of the tenant.
    pub async fn get(
        &self,
        principal: &Principal,
        name: &str,
    ) -> Result<ScheduleInfo, ServiceError> {
        self.list(principal)
            .await?
            .into_iter()
            .find(|info| info.record.name == name)
            .ok_or_else(|| not_found(name))
    }

    /// Creates the schedule `name`, or replaces its definition (its next tick stays
    /// unless the pattern or time zone changed). The task must exist now.
    pub async fn put(
        &self,
        principal: &Principal,
        name: &str,
        spec: ScheduleSpec,
    ) -> Result<ScheduleInfo, ServiceError> {
        self.0.authorize(principal, Role::Admin).await?;
        check_name(name)?;
        let ticks = spec.check().map_err(ServiceError::Invalid)?;
        let in_file = self
            .0
            .settings()
            .schedules
            .get(principal.tenant())
            .is_some_and(|file| file.contains_key(name));
        if in_file {
            return Err(ServiceError::Conflict(format!(
                "schedule `{name}` is defined in the configuration file; change it there"
            )));
        }
        // The task, its queue and its arguments must be enqueueable now.
        let probe = crate::enqueue::EnqueueRequest {
            task_path: spec.task_path.clone(),
            arguments: crate::task::Arguments {
                args: spec.args.clone(),
                kwargs: spec.kwargs.clone(),
            },
            priority: spec.priority,
            queue_name: spec.queue_name.clone(),
            ..crate::enqueue::EnqueueRequest::default()
        };
        crate::enqueue::prepare(
            self.0.registry(),
            self.0.settings(),
            principal.tenant(),
            super::jobs::DATABASE_BACKEND,
            probe,
        )
        .await
        .map_err(ServiceError::from)?;
        let next_run_at = ticks.next_after(Utc::now()).ok_or_else(|| {
            ServiceError::Invalid(format!("`{}` has no tick in the future", spec.cron))
        })?;
        self.0
            .store()
            .schedule_put(SchedulePut {
                tenant: principal.tenant().to_owned(),
                name: name.to_owned(),
                source: ScheduleSource::Store,
                spec,
                next_run_at,
            })
            .await?;
        self.get(principal, name).await
    }

    /// Deletes a schedule made through the API or the CLI.
    pub async fn delete(&self, principal: &Principal, name: &str) -> Result<(), ServiceError> {
        self.0.authorize(principal, Role::Admin).await?;
        let info = self.get(principal, name).await?;
        if info.record.source == ScheduleSource::File {
            return Err(ServiceError::Conflict(format!(
                "schedule `{name}` is defined in the configuration file; remove it there"
            )));
        }
        self.0
            .store()
            .schedule_delete(principal.tenant(), name, Some(ScheduleSource::Store))
            .await?;
        Ok(())
    }

    /// Pauses (`paused`) or resumes a schedule: a paused one takes no tick; on
    /// resume, its missed ticks are caught up by its `catch_up`.
    pub async fn set_paused(
        &self,
        principal: &Principal,
        name: &str,
        paused: bool,
    ) -> Result<ScheduleInfo, ServiceError> {
        self.0.authorize(principal, Role::Member).await?;
        check_name(name)?;
        let found = self
            .0
            .store()
            .schedule_set_paused(principal.tenant(), name, paused)
            .await?;
        if !found {
            return Err(not_found(name));
        }
        self.get(principal, name).await
    }
}

fn with_upcoming(record: ScheduleRecord) -> ScheduleInfo {
    let mut upcoming = Vec::new();
    if let Ok(ticks) = crate::schedule::Ticks::parse(&record.spec.cron, &record.spec.timezone) {
        let mut at = record.next_run_at;
        while upcoming.len() < 5 {
            match ticks.next_after(at) {
                Some(next) => {
                    upcoming.push(next);
                    at = next;
                }
                None => break,
            }
        }
    }
    ScheduleInfo { record, upcoming }
}
