//! The scheduler: enqueues the ticks of periodic jobs. Every worker runs it; at
//! start it writes the configuration file's schedules to the store (the store
//! also holds those made through the API or the CLI), then every second it takes
//! the due ticks. A tick's job carries a unique key of the schedule and the tick,
//! and the tick is taken by compare and set, so any number of racing schedulers
//! enqueue one job per tick ([`crate::schedule`]).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::clock::Clock;
use crate::config::Settings;
use crate::enqueue::{EnqueueRequest, prepare};
use crate::registry::Registry;
use crate::schedule::{ScheduleSpec, Ticks};
use crate::service::jobs::DATABASE_BACKEND;
use crate::store::{ScheduleAdvance, SchedulePut, ScheduleRecord, ScheduleSource, StoreError};
use crate::task::{Arguments, TaskStatus};
use crate::unique::UniqueOptions;

/// How often the scheduler looks for due ticks.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Due schedules taken in one step.
const DUE_PAGE: u32 = 100;

/// The next tick of a schedule whose pattern has none (a date long past): never.
fn never() -> DateTime<Utc> {
    "9999-12-31T00:00:00Z".parse().expect("a valid time")
}

/// The scheduler service.
#[derive(Debug)]
pub struct Scheduler {
    registry: Arc<Registry>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
}

impl Scheduler {
    /// A scheduler over `registry`'s store, with the file's schedules of `settings`.
    pub fn new(registry: Arc<Registry>, settings: Arc<Settings>, clock: Arc<dyn Clock>) -> Self {
        Scheduler {
            registry,
            settings,
            clock,
        }
    }

    /// Writes the file's schedules to the store (a new or changed pattern starts
    /// from its next tick), and deletes the file schedules the file no longer has:
    /// the workers' configuration files must agree on them.
    pub async fn sync_file(&self) -> Result<(), StoreError> {
        let store = self.registry.store();
        let now = self.clock.now();
        for (tenant, schedules) in &self.settings.schedules {
            for (name, spec) in schedules {
                let Ok(ticks) = spec.check() else { continue };
                store
                    .schedule_put(SchedulePut {
                        tenant: tenant.clone(),
                        name: name.clone(),
                        source: ScheduleSource::File,
                        spec: spec.clone(),
                        next_run_at: ticks.next_after(now).unwrap_or_else(never),
                    })
                    .await?;
            }
        }
        for stored in store.schedule_list(None).await? {
            let in_file = self
                .settings
                .schedules
                .get(&stored.tenant)
                .is_some_and(|schedules| schedules.contains_key(&stored.name));
            if stored.source == ScheduleSource::File && !in_file {
                store
                    .schedule_delete(&stored.tenant, &stored.name, Some(ScheduleSource::File))
                    .await?;
            }
        }
        Ok(())
    }

    /// Takes the ticks due now; how many jobs were enqueued.
    pub async fn step(&self) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let store = self.registry.store();
        let mut enqueued = 0;
        for schedule in store.schedule_due(now, DUE_PAGE).await? {
            let (tick, next, job_id, error) =
                match Ticks::parse(&schedule.spec.cron, &schedule.spec.timezone) {
                    Err(error) => (None, never(), None, Some(error)),
                    Ok(ticks) => {
                        let firing = ticks.fire(schedule.next_run_at, now, schedule.spec.catch_up);
                        let next = firing.next.unwrap_or_else(never);
                        match firing.tick {
                            None => (None, next, None, None),
                            Some(tick) => match self.enqueue(&schedule, tick).await? {
                                Ok(id) => (Some(tick), next, Some(id), None),
                                Err(refused) => (Some(tick), next, None, Some(refused)),
                            },
                        }
                    }
                };
            if let Some(error) = &error {
                tracing::warn!(tenant = %schedule.tenant, schedule = %schedule.name, %error, "a scheduled job was refused");
            }
            let taken = store
                .schedule_advance(ScheduleAdvance {
                    tenant: schedule.tenant.clone(),
                    name: schedule.name.clone(),
                    expected: schedule.next_run_at,
                    next,
                    tick,
                    job_id: job_id.clone(),
                    error,
                })
                .await?;
            if taken && job_id.is_some() {
                enqueued += 1;
            }
        }
        Ok(enqueued)
    }

    /// Enqueues the job of `schedule`'s `tick` (or finds the one a racing
    /// scheduler enqueued): its id, or why the task refused it.
    async fn enqueue(
        &self,
        schedule: &ScheduleRecord,
        tick: DateTime<Utc>,
    ) -> Result<Result<String, String>, StoreError> {
        let request = tick_request(&schedule.name, &schedule.spec, tick);
        let job = match prepare(
            &self.registry,
            &self.settings,
            &schedule.tenant,
            DATABASE_BACKEND,
            request,
        )
        .await
        {
            Ok(job) => job,
            Err(crate::enqueue::EnqueueError::Registry(crate::registry::RegistryError::Store(
                error,
            ))) => {
                return Err(error);
            }
            Err(refused) => return Ok(Err(refused.to_string())),
        };
        let duplicates = self
            .registry
            .store()
            .job_insert_many(std::slice::from_ref(&job))
            .await?;
        self.registry
            .metrics()
            .count_inserted(std::slice::from_ref(&job), &duplicates);
        Ok(Ok(duplicates
            .into_iter()
            .next()
            .map_or(job.id, |duplicate| duplicate.existing)))
    }

    /// Syncs the file's schedules, then steps every [`INTERVAL`] until `stop`.
    pub async fn run(self, stop: CancellationToken) {
        if let Err(error) = self.sync_file().await {
            tracing::warn!(%error, "cannot store the configuration's schedules");
        }
        loop {
            if let Err(error) = self.step().await {
                tracing::warn!(%error, "cannot enqueue scheduled jobs");
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(INTERVAL) => {}
            }
        }
    }
}

/// The enqueue of one tick: the schedule's task, unique by schedule and tick in
/// every status, so a tick never has two jobs.
fn tick_request(name: &str, spec: &ScheduleSpec, tick: DateTime<Utc>) -> EnqueueRequest {
    EnqueueRequest {
        task_path: spec.task_path.clone(),
        arguments: Arguments {
            args: spec.args.clone(),
            kwargs: spec.kwargs.clone(),
        },
        priority: spec.priority,
        queue_name: spec.queue_name.clone(),
        unique: Some(UniqueOptions {
            key: Some(format!("schedule {name} {}", tick.to_rfc3339())),
            states: vec![
                TaskStatus::Ready,
                TaskStatus::Running,
                TaskStatus::Successful,
                TaskStatus::Failed,
                TaskStatus::Cancelled,
            ],
            ..UniqueOptions::default()
        }),
        ..EnqueueRequest::default()
    }
}
