//! Jobs: enqueue (one, through the group writer, or a batch), read a result (or
//! wait for it), list, cancel, retry, prune.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BatchProblem, ServiceError, Services};
use crate::enqueue::{EnqueueRequest, Preparer};
use crate::store::{
    CancelOutcome, JobCountFinished, JobList, JobPrune, JobSummary, NewJob, PruneReport,
    RetryOutcome, RetrySelection, changed_within,
};
use crate::task::{TaskResult, TaskStatus};
use crate::tenant::{Principal, Role};

/// The most jobs one page of a list holds.
pub const MAX_PAGE: u32 = 1000;
/// The page size when none is asked for.
pub const DEFAULT_PAGE: u32 = 50;
/// The longest a caller may wait for a result in one call.
pub const MAX_WAIT: Duration = Duration::from_secs(300);

/// The name of the database backend in a TaskResult's `backend` field.
pub const DATABASE_BACKEND: &str = "database";

/// Which jobs to list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JobFilter {
    /// Only these statuses; all when empty.
    #[serde(default)]
    pub statuses: Vec<TaskStatus>,
    /// Only this queue.
    pub queue_name: Option<String>,
    /// Only this component (`arith`) or task (`arith.add`).
    pub task: Option<String>,
    /// Only jobs enqueued at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only jobs enqueued before this time.
    pub until: Option<DateTime<Utc>>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// At most this many (default 50, at most 1000).
    pub limit: Option<u32>,
}

/// One page of a job list, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobPage {
    /// The jobs.
    pub jobs: Vec<JobSummary>,
    /// Pass as `cursor` for the next page; absent on the last one. A filtered
    /// page reads at most 10,000 jobs, so it can hold fewer than `limit` jobs (even
    /// none) and still have a cursor: older jobs were not looked at yet.
    pub next_cursor: Option<String>,
}

/// The most jobs a filtered page reads (see [`JobPage::next_cursor`]).
pub const MAX_SCAN: u32 = 10_000;

/// The most buckets a throughput series has.
pub const MAX_BUCKETS: u32 = 500;

/// Jobs finished per bucket of time: throughput and failure rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// The width of a bucket, in seconds.
    pub bucket_seconds: u64,
    /// Every bucket, oldest first; the last one is the bucket now runs in.
    pub buckets: Vec<ThroughputBucket>,
}

/// The jobs that finished within one bucket of time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThroughputBucket {
    /// When the bucket starts.
    pub start: DateTime<Utc>,
    /// Jobs that finished SUCCESSFUL.
    pub successful: u64,
    /// Jobs that finished FAILED.
    pub failed: u64,
    /// Jobs CANCELLED.
    pub cancelled: u64,
}

/// `component` or `component.task` as the two filters they stand for.
pub fn task_filter(task: Option<&str>) -> Result<(Option<String>, Option<String>), ServiceError> {
    let Some(task) = task else {
        return Ok((None, None));
    };
    let (component, name) = match task.split_once('.') {
        Some((component, name)) => (component, Some(name)),
        None => (task, None),
    };
    let component = component
        .split_once('@')
        .map_or(component, |(name, _)| name);
    let valid = crate::task::path::is_valid_name(component)
        && name.is_none_or(crate::task::path::is_valid_name);
    if !valid {
        return Err(ServiceError::Invalid(format!(
            "`{task}` is not a component (`arith`) or task path (`arith.add`)"
        )));
    }
    Ok((Some(component.to_owned()), name.map(str::to_owned)))
}

/// What an enqueue did.
#[derive(Debug, Clone, PartialEq)]
pub struct EnqueueOutcome {
    /// The job enqueued (READY), or for a duplicate the existing one, as it is.
    pub result: TaskResult,
    /// True when a job with the same unique key existed and nothing was enqueued.
    pub duplicate: bool,
}

/// What a batch enqueue did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// The ids, in the order of the requests: a duplicate's is the existing job's.
    pub ids: Vec<String>,
    /// The positions of the requests that were duplicates.
    pub duplicates: Vec<usize>,
}

/// The jobs operations.
#[derive(Debug, Clone, Copy)]
pub struct Jobs<'a>(pub(super) &'a Services);

impl Jobs<'_> {
    fn preparer<'p>(&'p self, principal: &'p Principal) -> Preparer<'p> {
        let services = self.0;
        Preparer::new(
            services.registry(),
            services.settings(),
            principal.tenant(),
            DATABASE_BACKEND,
        )
    }

    /// Validates and enqueues one job; returns its READY TaskResult (or, for a
    /// unique job with a duplicate, the existing job's). Concurrent single
    /// enqueues are written together.
    pub async fn enqueue(
        &self,
        principal: &Principal,
        request: EnqueueRequest,
    ) -> Result<EnqueueOutcome, ServiceError> {
        self.0.authorize(principal, Role::Member).await?;
        self.0
            .admit_enqueue(principal.tenant(), std::iter::once(&request.limits))
            .await?;
        let job = self
            .preparer(principal)
            .prepare(request)
            .await
            .map_err(ServiceError::from)?;
        let result = TaskResult::ready(&job);
        let queue = job.queue_name.clone();
        match self.0.inner.enqueuer.enqueue(job).await? {
            None => {
                let metrics = self.0.registry().metrics();
                metrics.count_enqueued(principal.tenant(), &queue);
                Ok(EnqueueOutcome {
                    result,
                    duplicate: false,
                })
            }
            Some(existing) => Ok(EnqueueOutcome {
                result: self.get(principal, &existing).await?,
                duplicate: true,
            }),
        }
    }

    /// Validates every request, then enqueues them all in one statement; if any is
    /// refused, none is stored and the error lists every refused one. Returns the
    /// ids, in order (a unique job's duplicate gets the existing job's id).
    pub async fn enqueue_many(
        &self,
        principal: &Principal,
        requests: Vec<EnqueueRequest>,
    ) -> Result<BatchOutcome, ServiceError> {
        self.0.authorize(principal, Role::Member).await?;
        self.0
            .admit_enqueue(principal.tenant(), requests.iter().map(|r| &r.limits))
            .await?;
        let jobs = self.prepare_all(principal, requests).await?;
        let mut ids: Vec<String> = jobs.iter().map(|job| job.id.clone()).collect();
        let duplicates = self.0.store().job_insert_many(&jobs).await?;
        self.0
            .registry()
            .metrics()
            .count_inserted(&jobs, &duplicates);
        let mut positions = Vec::with_capacity(duplicates.len());
        for duplicate in duplicates {
            if let Some(position) = ids.iter().position(|id| *id == duplicate.id) {
                ids[position] = duplicate.existing;
                positions.push(position);
            }
        }
        positions.sort_unstable();
        Ok(BatchOutcome {
            ids,
            duplicates: positions,
        })
    }

    /// Checks `requests` as [`Jobs::enqueue_many`] would, storing nothing: the
    /// same refusal (every refused request, with its position) when it would
    /// refuse them.
    pub async fn validate_many(
        &self,
        principal: &Principal,
        requests: Vec<EnqueueRequest>,
    ) -> Result<(), ServiceError> {
        self.0.authorize(principal, Role::Member).await?;
        self.0
            .check_ceilings(principal.tenant(), requests.iter().map(|r| &r.limits))
            .await?;
        self.prepare_all(principal, requests).await.map(drop)
    }

    /// Every request as a job, or the refusal listing each refused one.
    async fn prepare_all(
        &self,
        principal: &Principal,
        requests: Vec<EnqueueRequest>,
    ) -> Result<Vec<NewJob>, ServiceError> {
        let mut preparer = self.preparer(principal);
        let mut jobs = Vec::with_capacity(requests.len());
        let mut problems = Vec::new();
        for (index, request) in requests.into_iter().enumerate() {
            match preparer.prepare(request).await {
                Ok(job) => jobs.push(job),
                Err(error) => match ServiceError::from(error) {
                    ServiceError::Store(error) => return Err(ServiceError::Store(error)),
                    refused => problems.push(BatchProblem {
                        index,
                        message: refused.to_string(),
                    }),
                },
            }
        }
        if problems.is_empty() {
            Ok(jobs)
        } else {
            Err(ServiceError::invalid_batch("job", problems))
        }
    }

    /// The TaskResult with `id`.
    pub async fn get(&self, principal: &Principal, id: &str) -> Result<TaskResult, ServiceError> {
        self.0.authorize(principal, Role::Reader).await?;
        self.0
            .store()
            .job_get(principal.tenant(), id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// The TaskResult with `id` once it has finished, or as it is when `timeout`
    /// (at most [`MAX_WAIT`]) has passed.
    pub async fn wait(
        &self,
        principal: &Principal,
        id: &str,
        timeout: Duration,
    ) -> Result<TaskResult, ServiceError> {
        let deadline = tokio::time::Instant::now() + timeout.min(MAX_WAIT);
        // Completions in any process wake the wait at once; the poll, growing to
        // 50 ms, is the fallback for a signal that was lost.
        let mut completions = self.0.store().completions();
        let mut poll = Duration::from_millis(2);
        loop {
            let result = self.get(principal, id).await?;
            let now = tokio::time::Instant::now();
            if result.status.is_finished() || now >= deadline {
                return Ok(result);
            }
            changed_within(&mut completions, poll.min(deadline - now)).await;
            poll = (poll * 2).min(Duration::from_millis(50));
        }
    }

    /// A page of the tenant's jobs, newest first.
    pub async fn list(
        &self,
        principal: &Principal,
        filter: JobFilter,
    ) -> Result<JobPage, ServiceError> {
        self.0.authorize(principal, Role::Reader).await?;
        let limit = filter.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ServiceError::Invalid(format!(
                "limit must be 1..={MAX_PAGE}, got {limit}"
            )));
        }
        let (component, task_name) = task_filter(filter.task.as_deref())?;
        // A time range is also a range of ids, which bounds the pages' index scan
        // to it; the times themselves are still compared exactly.
        let until_id = filter.until.map(|until| id_floor(until + ID_CLOCK_MARGIN));
        let before_id = match (filter.cursor, until_id) {
            (Some(cursor), Some(until)) => Some(cursor.min(until)),
            (cursor, until) => cursor.or(until),
        };
        // A filter besides the statuses (which an index holds) may match few jobs:
        // read a bounded number and hand back a cursor instead of every job.
        let narrowed = filter.queue_name.is_some()
            || component.is_some()
            || filter.since.is_some()
            || filter.until.is_some();
        let listed = self
            .0
            .store()
            .job_list(JobList {
                tenant: principal.tenant().to_owned(),
                statuses: filter.statuses,
                queue_name: filter.queue_name,
                component,
                task_name,
                since: filter.since,
                until: filter.until,
                before_id,
                after_id: filter.since.map(|since| id_floor(since - ID_CLOCK_MARGIN)),
                limit,
                scan: if narrowed { MAX_SCAN } else { limit },
            })
            .await?;
        let next_cursor = if listed.jobs.len() == limit as usize {
            listed.jobs.last().map(|job| job.id.clone())
        } else {
            listed.scan_ended_at
        };
        Ok(JobPage {
            jobs: listed.jobs,
            next_cursor,
        })
    }

    /// The tenant's finished jobs in `buckets` buckets of `bucket` each, the last
    /// one the bucket now runs in (buckets start at multiples of their width).
    pub async fn throughput(
        &self,
        principal: &Principal,
        bucket: Duration,
        buckets: u32,
    ) -> Result<Throughput, ServiceError> {
        self.0.authorize(principal, Role::Reader).await?;
        // Finished jobs are counted per minute as they finish.
        let width = chrono::Duration::from_std(bucket)
            .ok()
            .filter(|width| {
                width.num_seconds() >= 60 && bucket.as_nanos().is_multiple_of(60_000_000_000)
            })
            .ok_or_else(|| {
                ServiceError::Invalid(format!(
                    "a bucket is a whole number of minutes, got {bucket:?}"
                ))
            })?;
        if !(1..=MAX_BUCKETS).contains(&buckets) {
            return Err(ServiceError::Invalid(format!(
                "buckets must be 1..={MAX_BUCKETS}, got {buckets}"
            )));
        }
        let seconds = width.num_seconds();
        let now = Utc::now().timestamp();
        let since = DateTime::from_timestamp(now - now.rem_euclid(seconds), 0).unwrap_or_default()
            - width * (buckets as i32 - 1);
        let counted = self
            .0
            .store()
            .job_count_finished(JobCountFinished {
                tenant: principal.tenant().to_owned(),
                since,
                bucket,
            })
            .await?;
        let mut series: Vec<ThroughputBucket> = (0..buckets)
            .map(|n| ThroughputBucket {
                start: since + width * n as i32,
                successful: 0,
                failed: 0,
                cancelled: 0,
            })
            .collect();
        for count in counted {
            let Some(bucket) = series.get_mut(count.bucket as usize) else {
                continue;
            };
            match count.status {
                TaskStatus::Successful => bucket.successful += count.count,
                TaskStatus::Failed => bucket.failed += count.count,
                TaskStatus::Cancelled => bucket.cancelled += count.count,
                TaskStatus::Ready | TaskStatus::Running => {}
            }
        }
        Ok(Throughput {
            bucket_seconds: seconds as u64,
            buckets: series,
        })
    }

    /// Cancels a READY job; returns its CANCELLED TaskResult.
    pub async fn cancel(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<TaskResult, ServiceError> {
        self.0.authorize(principal, Role::Member).await?;
        match self.0.store().job_cancel(principal.tenant(), id).await? {
            CancelOutcome::Cancelled => self.get(principal, id).await,
            CancelOutcome::NotFound => Err(not_found(id)),
            CancelOutcome::NotReady(status) => Err(ServiceError::Conflict(format!(
                "cannot cancel {id}: it is {status}; only READY jobs can be cancelled"
            ))),
        }
    }

    /// Puts FAILED or CANCELLED jobs back to READY: each keeps its attempts and
    /// gets a fresh budget of `max_attempts`. One outcome per job.
    pub async fn retry(
        &self,
        principal: &Principal,
        selection: RetrySelection,
    ) -> Result<Vec<RetryOutcome>, ServiceError> {
        self.0.authorize(principal, Role::Member).await?;
        if let RetrySelection::Ids(ids) = &selection
            && ids.is_empty()
        {
            return Err(ServiceError::Invalid(
                "name the jobs to retry, or choose every failed job".into(),
            ));
        }
        Ok(self
            .0
            .store()
            .job_retry(principal.tenant(), selection)
            .await?)
    }

    /// Deletes the tenant's finished results by age (and, if asked, component
    /// versions nothing needs any more); `dry_run` counts exactly what it would delete.
    pub async fn prune(
        &self,
        principal: &Principal,
        mut params: JobPrune,
    ) -> Result<PruneReport, ServiceError> {
        self.0.authorize(principal, Role::Admin).await?;
        params.tenant = principal.tenant().to_owned();
        Ok(self.0.store().job_prune(params).await?)
    }
}

/// How far a job's id time and its `enqueued_at` may be apart: both are read
/// from the clock microseconds apart as the job is prepared; the margin covers a
/// clock step between the two reads.
const ID_CLOCK_MARGIN: chrono::Duration = chrono::Duration::seconds(1);

/// The smallest job id of a job enqueued at `time` or later: ids are UUIDv7
/// strings, which begin with their millisecond time in hex and sort as it does.
fn id_floor(time: DateTime<Utc>) -> String {
    let millis = time.timestamp_millis().max(0) as u64;
    format!(
        "{:08x}-{:04x}-0000-0000-000000000000",
        millis >> 16,
        millis & 0xffff
    )
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("no task result with id `{id}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_floor_sorts_with_the_ids_of_its_time() {
        let before = Utc::now();
        let id = uuid::Uuid::now_v7().to_string();
        let after = Utc::now() + chrono::Duration::milliseconds(1);
        assert!(id_floor(before) <= id, "{} <= {id}", id_floor(before));
        assert!(id < id_floor(after), "{id} < {}", id_floor(after));
        assert_eq!(
            id_floor(DateTime::from_timestamp_millis(0x0123_4567_89ab).unwrap()),
            "01234567-89ab-0000-0000-000000000000"
        );
    }
}
