//! The store conformance suite: every behaviour of the [`Store`] interface, written
//! once and run unchanged against every dialect, each test on a fresh database.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{Duration as Age, Utc};
use serde_json::json;
use wasmtasks::sandbox::{
    AttemptMetrics, ConfigValue, LimitOverrides, RetryPolicy, TaskDefinition,
};
use wasmtasks::store::*;
use wasmtasks::task::{AttemptRecord, TaskError, TaskStatus};
use wasmtasks::tenant::Role;
use wasmtasks_tests::postgres::TestDatabase;

const TENANT: &str = "default";
const LEASE: Duration = Duration::from_secs(30);

fn job(priority: i32, queue: &str) -> NewJob {
    NewJob {
        id: uuid::Uuid::now_v7().to_string(),
        tenant: TENANT.into(),
        task_path: "arith.add".into(),
        component: "arith".into(),
        task_name: "add".into(),
        component_digest: "d1".into(),
        args: "[1,2]".into(),
        kwargs: "{}".into(),
        priority,
        queue_name: queue.into(),
        backend: "database".into(),
        takes_context: false,
        run_after: None,
        enqueued_at: wasmtasks::store::now_micros(),
        max_attempts: 3,
        backoff_factor: 2.0,
        max_backoff: Duration::from_secs(60),
        limits: LimitOverrides::default(),
        unique_key: None,
        unique_states: 0,
    }
}

fn claim(worker: &str, limit: u32) -> JobClaim {
    JobClaim {
        worker_id: worker.into(),
        queues: QueueFilter::All { exclude: vec![] },
        tenants: None,
        limit,
        lease: LEASE,
    }
}

fn record(attempt: u32, worker: &str, error: Option<&str>) -> AttemptRecord {
    let now = Utc::now();
    AttemptRecord {
        attempt,
        worker_id: worker.into(),
        started_at: now,
        finished_at: now,
        status: if error.is_some() {
            TaskStatus::Failed
        } else {
            TaskStatus::Successful
        },
        error: error.map(|class| TaskError {
            exception_class_path: class.into(),
            traceback: format!("{class}: boom\n"),
        }),
        metrics: AttemptMetrics {
            fuel_consumed: 42,
            peak_memory_bytes: 65536,
            duration_us: 7,
            http_requests: 2,
        },
        stdout: "out".into(),
        stderr: "err".into(),
    }
}

fn completion(claimed: &ClaimedJob, worker: &str, next: NextState) -> Completion {
    let error = match next {
        NextState::Successful(_) => None,
        _ => Some("x.Error"),
    };
    Completion {
        id: claimed.id.clone(),
        worker_id: worker.into(),
        next,
        record: record(claimed.attempt, worker, error),
        only_if_expired: false,
    }
}

/// A prune of every finished job of `tenant`, whatever its age.
fn every_finished(tenant: &str) -> JobPrune {
    JobPrune {
        tenant: tenant.into(),
        finished_before: Utc::now() + Age::hours(1),
        failed_before: Utc::now() + Age::hours(1),
        queues: None,
        components: false,
        dry_run: false,
    }
}

fn definition(name: &str) -> TaskDefinition {
    TaskDefinition {
        name: name.into(),
        priority: 0,
        queue_name: "default".into(),
        takes_context: false,
        retry: RetryPolicy::default(),
        limits: LimitOverrides::default(),
        signature: None,
    }
}

async fn status(store: &dyn Store, id: &str) -> TaskStatus {
    store.job_get(TENANT, id).await.unwrap().unwrap().status
}

/// A version of the `arith` component whose bytes are its digest.
fn arith(digest: &str) -> ComponentInsert {
    ComponentInsert {
        tenant: TENANT.into(),
        name: "arith".into(),
        digest: digest.into(),
        bytes: digest.as_bytes().to_vec(),
        tasks: vec![definition("add")],
    }
}

pub async fn components_are_versioned_and_resolved(store: Arc<dyn Store>) {
    let insert = |digest: &str, bytes: &[u8]| ComponentInsert {
        bytes: bytes.to_vec(),
        ..arith(digest)
    };
    assert_eq!(
        store
            .component_insert(insert("aaaa1111", b"v1"))
            .await
            .unwrap(),
        ComponentInserted::Created { version: 1 }
    );
    assert_eq!(
        store
            .component_insert(insert("aaaa1111", b"v1"))
            .await
            .unwrap(),
        ComponentInserted::Unchanged { version: 1 }
    );
    assert_eq!(
        store
            .component_insert(insert("aaaa2222", b"v2"))
            .await
            .unwrap(),
        ComponentInserted::Created { version: 2 }
    );
    let resolve = |prefix: Option<&str>| ComponentResolve {
        tenant: TENANT.into(),
        name: "arith".into(),
        digest_prefix: prefix.map(Into::into),
    };
    let ComponentLookup::Found(newest) = store.component_resolve(resolve(None)).await.unwrap()
    else {
        panic!("newest")
    };
    assert_eq!(
        (newest.version, newest.digest.as_str(), newest.size_bytes),
        (2, "aaaa2222", 2)
    );
    assert_eq!(newest.tasks, vec![definition("add")]);
    let ComponentLookup::Found(pinned) = store
        .component_resolve(resolve(Some("aaaa1")))
        .await
        .unwrap()
    else {
        panic!("pinned")
    };
    assert_eq!(pinned.version, 1);
    assert!(
        matches!(store.component_resolve(resolve(Some("aaaa"))).await.unwrap(), ComponentLookup::Ambiguous(d) if d.len() == 2)
    );
    assert!(matches!(
        store
            .component_resolve(resolve(Some("ffff")))
            .await
            .unwrap(),
        ComponentLookup::NotFound
    ));
    let other_tenant = ComponentResolve {
        tenant: "other".into(),
        ..resolve(None)
    };
    assert!(matches!(
        store.component_resolve(other_tenant).await.unwrap(),
        ComponentLookup::NotFound
    ));
    assert_eq!(
        store
            .component_get_bytes("aaaa1111")
            .await
            .unwrap()
            .as_deref(),
        Some(&b"v1"[..])
    );
    assert_eq!(store.component_get_bytes("nope").await.unwrap(), None);
    let listed = store.component_list(TENANT).await.unwrap();
    assert_eq!(listed.iter().map(|v| v.version).collect::<Vec<_>>(), [2, 1]);
}

pub async fn inserted_jobs_read_back_as_ready_results(store: Arc<dyn Store>) {
    let mut new = job(5, "default");
    new.args = r#"[1,"two",{"x":null}]"#.into();
    new.kwargs = r#"{"k":[true]}"#.into();
    store
        .job_insert_many(std::slice::from_ref(&new))
        .await
        .unwrap();
    let result = store.job_get(TENANT, &new.id).await.unwrap().unwrap();
    assert_eq!(result.status, TaskStatus::Ready);
    assert_eq!(
        result.args,
        vec![json!(1), json!("two"), json!({"x": null})]
    );
    assert_eq!(json!(result.kwargs), json!({"k": [true]}));
    assert_eq!(
        (
            result.priority,
            result.queue_name.as_str(),
            result.backend.as_str()
        ),
        (5, "default", "database")
    );
    assert_eq!(
        (
            result.attempts,
            result.started_at,
            result.return_value.clone()
        ),
        (0, None, None)
    );
    assert!(
        store.job_get("other", &new.id).await.unwrap().is_none(),
        "tenants are isolated"
    );
    assert!(store.job_get(TENANT, "missing").await.unwrap().is_none());
}

pub async fn claims_in_django_order(store: Arc<dyn Store>) {
    let low = job(-10, "default");
    let first_high = job(10, "default");
    let second_high = job(10, "default");
    let middle = job(0, "default");
    store
        .job_insert_many(&[
            low.clone(),
            first_high.clone(),
            second_high.clone(),
            middle.clone(),
        ])
        .await
        .unwrap();
    let claimed = store.job_claim(claim("w", 10)).await.unwrap();
    let ids: Vec<&str> = claimed.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(
        ids,
        [first_high.id.as_str(), &second_high.id, &middle.id, &low.id]
    );
    assert!(claimed.iter().all(|j| j.attempt == 1));
}

pub async fn claims_respect_run_after_and_limit(store: Arc<dyn Store>) {
    let mut later = job(100, "default");
    later.run_after = Some(Utc::now() + Age::hours(1));
    let now = [job(0, "default"), job(0, "default"), job(0, "default")];
    store
        .job_insert_many(&[
            later.clone(),
            now[0].clone(),
            now[1].clone(),
            now[2].clone(),
        ])
        .await
        .unwrap();
    assert_eq!(store.job_claim(claim("w", 2)).await.unwrap().len(), 2);
    let rest = store.job_claim(claim("w", 10)).await.unwrap();
    assert_eq!(rest.len(), 1, "the future job is not claimable yet");
    assert_eq!(status(store.as_ref(), &later.id).await, TaskStatus::Ready);
    assert!(store.job_claim(claim("w", 10)).await.unwrap().is_empty());
}

pub async fn claims_only_the_workers_queues(store: Arc<dyn Store>) {
    let (a, b, c) = (job(0, "a"), job(0, "b"), job(0, "c"));
    store
        .job_insert_many(&[a.clone(), b.clone(), c.clone()])
        .await
        .unwrap();
    let only_b = JobClaim {
        queues: QueueFilter::Only(vec!["b".into()]),
        ..claim("w", 10)
    };
    let claimed = store.job_claim(only_b).await.unwrap();
    assert_eq!(claimed.iter().map(|j| &j.id).collect::<Vec<_>>(), [&b.id]);
    let not_a = JobClaim {
        queues: QueueFilter::All {
            exclude: vec!["a".into()],
        },
        ..claim("w", 10)
    };
    let claimed = store.job_claim(not_a).await.unwrap();
    assert_eq!(claimed.iter().map(|j| &j.id).collect::<Vec<_>>(), [&c.id]);
    assert_eq!(status(store.as_ref(), &a.id).await, TaskStatus::Ready);
}

pub async fn completion_is_fenced_by_attempt_and_owner(store: Arc<dyn Store>) {
    let new = job(0, "default");
    store
        .job_insert_many(std::slice::from_ref(&new))
        .await
        .unwrap();
    let claimed = store.job_claim(claim("w1", 1)).await.unwrap().remove(0);
    let mut stale = completion(&claimed, "w1", NextState::Successful(json!(1)));
    stale.record.attempt = 2;
    let intruder = completion(&claimed, "w2", NextState::Successful(json!(2)));
    assert!(
        store
            .job_complete_many(&[stale, intruder])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(status(store.as_ref(), &new.id).await, TaskStatus::Running);
    let done = completion(&claimed, "w1", NextState::Successful(json!({"sum": 3})));
    assert_eq!(
        store
            .job_complete_many(std::slice::from_ref(&done))
            .await
            .unwrap(),
        std::slice::from_ref(&new.id)
    );
    assert!(
        store.job_complete_many(&[done]).await.unwrap().is_empty(),
        "a job is finalised once"
    );
    let result = store.job_get(TENANT, &new.id).await.unwrap().unwrap();
    assert_eq!(result.status, TaskStatus::Successful);
    assert_eq!(result.return_value, Some(json!({"sum": 3})));
    assert_eq!(
        (result.attempts, result.worker_ids.clone()),
        (1, vec!["w1".to_owned()])
    );
    assert!(result.finished_at.is_some() && result.started_at.is_some());
    let attempt = &result.attempt_log[0];
    assert_eq!(
        (
            attempt.metrics.fuel_consumed,
            attempt.stdout.as_str(),
            attempt.stderr.as_str()
        ),
        (42, "out", "err")
    );
}

pub async fn failed_attempts_retry_then_fail(store: Arc<dyn Store>) {
    let new = job(0, "default");
    store
        .job_insert_many(std::slice::from_ref(&new))
        .await
        .unwrap();
    let first = store.job_claim(claim("w", 1)).await.unwrap().remove(0);
    store
        .job_complete_many(&[completion(
            &first,
            "w",
            NextState::Retry(Duration::from_millis(50)),
        )])
        .await
        .unwrap();
    assert_eq!(status(store.as_ref(), &new.id).await, TaskStatus::Ready);
    assert!(
        store.job_claim(claim("w", 1)).await.unwrap().is_empty(),
        "not before its backoff"
    );
    tokio::time::sleep(Duration::from_millis(80)).await;
    let second = store.job_claim(claim("w", 1)).await.unwrap().remove(0);
    assert_eq!(second.attempt, 2);
    store
        .job_complete_many(&[completion(&second, "w", NextState::Failed)])
        .await
        .unwrap();
    let result = store.job_get(TENANT, &new.id).await.unwrap().unwrap();
    assert_eq!(
        (result.status, result.attempts, result.errors.len()),
        (TaskStatus::Failed, 2, 2)
    );
    assert_eq!(result.errors[0].exception_class_path, "x.Error");
    assert_eq!(result.return_value, None);
}

pub async fn leases_renew_release_and_expire(store: Arc<dyn Store>) {
    let (a, b) = (job(0, "default"), job(0, "default"));
    store
        .job_insert_many(&[a.clone(), b.clone()])
        .await
        .unwrap();
    let short = JobClaim {
        lease: Duration::from_millis(200),
        ..claim("w", 2)
    };
    let claimed = store.job_claim(short).await.unwrap();
    let refs: Vec<ClaimRef> = claimed
        .iter()
        .map(|j| ClaimRef {
            id: j.id.clone(),
            attempt: j.attempt,
        })
        .collect();
    let renewal = |worker: &str, jobs: Vec<ClaimRef>| LeaseRenewal {
        worker_id: worker.into(),
        jobs,
        lease: Duration::from_millis(200),
    };
    assert_eq!(
        store
            .job_renew_leases(renewal("intruder", refs.clone()))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .job_renew_leases(renewal("w", refs.clone()))
            .await
            .unwrap(),
        2
    );
    // Release one (shutdown): back to READY, its attempt not counted.
    assert_eq!(store.job_release_many("w", &refs[..1]).await.unwrap(), 1);
    let released = store.job_get(TENANT, &refs[0].id).await.unwrap().unwrap();
    assert_eq!(
        (released.status, released.attempts, released.started_at),
        (TaskStatus::Ready, 0, None)
    );
    assert!(
        store.job_get_stuck(10).await.unwrap().is_empty(),
        "the lease is still live"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stuck = store.job_get_stuck(10).await.unwrap();
    assert_eq!(
        stuck
            .iter()
            .map(|s| (&s.id, s.attempt, s.lease_owner.as_str()))
            .collect::<Vec<_>>(),
        [(&refs[1].id, 1, "w")]
    );
}

pub async fn rescue_applies_only_to_expired_leases(store: Arc<dyn Store>) {
    let new = job(0, "default");
    store
        .job_insert_many(std::slice::from_ref(&new))
        .await
        .unwrap();
    let claimed = store.job_claim(claim("w", 1)).await.unwrap().remove(0);
    let mut rescue = completion(&claimed, "w", NextState::Retry(Duration::ZERO));
    rescue.only_if_expired = true;
    assert!(
        store
            .job_complete_many(std::slice::from_ref(&rescue))
            .await
            .unwrap()
            .is_empty(),
        "a live lease is not rescued"
    );
    let expired = JobClaim {
        lease: Duration::from_millis(1),
        ..claim("w2", 1)
    };
    let other = job(0, "default");
    store
        .job_insert_many(std::slice::from_ref(&other))
        .await
        .unwrap();
    let lost = store.job_claim(expired).await.unwrap().remove(0);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut rescue = completion(&lost, "w2", NextState::Retry(Duration::ZERO));
    rescue.only_if_expired = true;
    assert_eq!(
        store.job_complete_many(&[rescue]).await.unwrap(),
        std::slice::from_ref(&other.id)
    );
    // The late worker's own completion is refused: the rescue moved the job on.
    let late = completion(&lost, "w2", NextState::Successful(json!(0)));
    assert!(store.job_complete_many(&[late]).await.unwrap().is_empty());
    let again = store.job_claim(claim("w3", 5)).await.unwrap();
    assert_eq!(
        again.iter().map(|j| (&j.id, j.attempt)).collect::<Vec<_>>(),
        [(&other.id, 2)]
    );
}

pub async fn cancel_only_ready_jobs(store: Arc<dyn Store>) {
    let (ready, running) = (job(0, "default"), job(-1, "default"));
    store
        .job_insert_many(&[ready.clone(), running.clone()])
        .await
        .unwrap();
    store
        .job_claim(JobClaim {
            queues: QueueFilter::Only(vec!["default".into()]),
            ..claim("w", 2)
        })
        .await
        .unwrap();
    let new_ready = job(0, "default");
    store
        .job_insert_many(std::slice::from_ref(&new_ready))
        .await
        .unwrap();
    assert_eq!(
        store.job_cancel(TENANT, &new_ready.id).await.unwrap(),
        CancelOutcome::Cancelled
    );
    assert_eq!(
        store.job_cancel(TENANT, &new_ready.id).await.unwrap(),
        CancelOutcome::NotReady(TaskStatus::Cancelled)
    );
    assert_eq!(
        store.job_cancel(TENANT, &running.id).await.unwrap(),
        CancelOutcome::NotReady(TaskStatus::Running)
    );
    assert_eq!(
        store.job_cancel(TENANT, "missing").await.unwrap(),
        CancelOutcome::NotFound
    );
    assert_eq!(
        store.job_cancel("other", &ready.id).await.unwrap(),
        CancelOutcome::NotFound
    );
    let cancelled = store.job_get(TENANT, &new_ready.id).await.unwrap().unwrap();
    assert!(cancelled.finished_at.is_some());
    assert!(
        store.job_claim(claim("w", 5)).await.unwrap().is_empty(),
        "a cancelled job never runs"
    );
}

pub async fn prune_deletes_finished_results_by_age(store: Arc<dyn Store>) {
    let jobs = [
        job(0, "default"),
        job(0, "default"),
        job(0, "emails"),
        job(0, "default"),
    ];
    store.job_insert_many(&jobs).await.unwrap();
    let claimed = store
        .job_claim(JobClaim {
            limit: 3,
            ..claim("w", 3)
        })
        .await
        .unwrap();
    let finish: Vec<Completion> = claimed
        .iter()
        .enumerate()
        .map(|(i, c)| {
            completion(
                c,
                "w",
                if i == 1 {
                    NextState::Failed
                } else {
                    NextState::Successful(json!(i))
                },
            )
        })
        .collect();
    store.job_complete_many(&finish).await.unwrap();
    let prune = |finished: Age, failed: Age, queues: Option<Vec<String>>, dry_run| JobPrune {
        tenant: TENANT.into(),
        finished_before: Utc::now() - finished,
        failed_before: Utc::now() - failed,
        queues,
        components: false,
        dry_run,
    };
    let none = store
        .job_prune(prune(Age::days(1), Age::days(1), None, false))
        .await
        .unwrap();
    assert_eq!(
        (none.successful, none.failed, none.events),
        (0, 0, 0),
        "nothing is a day old"
    );
    let dry = store
        .job_prune(prune(Age::days(-1), Age::days(-1), None, true))
        .await
        .unwrap();
    // Six events (three claims, three ends); the newest of all always stays.
    assert_eq!((dry.successful, dry.failed, dry.events), (2, 1, 5));
    let emails = store
        .job_prune(prune(
            Age::days(-1),
            Age::days(-1),
            Some(vec!["emails".into()]),
            false,
        ))
        .await
        .unwrap();
    assert_eq!(emails.successful + emails.failed, 1);
    assert_eq!(emails.events, 5, "events are pruned by age, of every queue");
    let only_successful = store
        .job_prune(prune(Age::days(-1), Age::days(1), None, false))
        .await
        .unwrap();
    assert_eq!((only_successful.successful, only_successful.failed), (1, 0));
    let stats = store.queue_stats(Some(TENANT)).await.unwrap();
    let count = |status| {
        stats
            .iter()
            .filter(|s| s.status == status)
            .map(|s| s.count)
            .sum::<u64>()
    };
    assert_eq!(
        (count(TaskStatus::Failed), count(TaskStatus::Ready)),
        (1, 1),
        "unfinished jobs are never pruned"
    );
}

pub async fn queue_stats_count_by_queue_and_status(store: Arc<dyn Store>) {
    store
        .job_insert_many(&[job(0, "a"), job(0, "a"), job(0, "b")])
        .await
        .unwrap();
    store
        .job_claim(JobClaim {
            queues: QueueFilter::Only(vec!["b".into()]),
            ..claim("w", 1)
        })
        .await
        .unwrap();
    let stats = store.queue_stats(Some(TENANT)).await.unwrap();
    let counts: Vec<(&str, TaskStatus, u64)> = stats
        .iter()
        .map(|s| (s.queue_name.as_str(), s.status, s.count))
        .collect();
    assert_eq!(
        counts,
        [("a", TaskStatus::Ready, 2), ("b", TaskStatus::Running, 1)]
    );
    let oldest = stats[0].oldest_available_at.expect("READY jobs have a lag");
    assert!(oldest <= Utc::now() && Utc::now() - oldest < Age::minutes(1));
    assert_eq!(stats[1].oldest_available_at, None, "only READY jobs wait");
    assert!(store.queue_stats(Some("other")).await.unwrap().is_empty());
    store.job_insert_many(&[job_of("tenant-2")]).await.unwrap();
    let every: Vec<(String, String, TaskStatus, u64)> = store
        .queue_stats(None)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.tenant, s.queue_name, s.status, s.count))
        .collect();
    let row = |tenant: &str, queue: &str, status, count| {
        (tenant.to_owned(), queue.to_owned(), status, count)
    };
    assert_eq!(
        every,
        [
            row(TENANT, "a", TaskStatus::Ready, 2),
            row(TENANT, "b", TaskStatus::Running, 1),
            row("tenant-2", "default", TaskStatus::Ready, 1),
        ],
        "every tenant's, by tenant, queue and status"
    );
}

pub async fn job_count_finished_buckets_by_time_and_status(store: Arc<dyn Store>) {
    let jobs: Vec<NewJob> = (0..4).map(|_| job(0, "default")).collect();
    store.job_insert_many(&jobs).await.unwrap();
    assert!(store.tenant_create("other").await.unwrap());
    store.job_insert_many(&[job_of("other")]).await.unwrap();
    let since = Utc::now() - Age::minutes(30);
    let claimed = store.job_claim(claim("w", 10)).await.unwrap();
    let mut completions: Vec<Completion> = Vec::new();
    for (n, claimed) in claimed.iter().filter(|c| c.tenant == TENANT).enumerate() {
        let next = match n {
            0 | 1 => NextState::Successful(json!(n)),
            2 => NextState::Failed,
            _ => continue,
        };
        completions.push(completion(claimed, "w", next));
    }
    store.job_complete_many(&completions).await.unwrap();
    let count = |bucket: Duration| {
        store.job_count_finished(JobCountFinished {
            tenant: TENANT.into(),
            since,
            bucket,
        })
    };
    // Every job finished within the last minute: in the last of 30 one-minute
    // buckets (or the one after, if the minute turned meanwhile).
    let buckets = count(Duration::from_secs(60)).await.unwrap();
    let counts: Vec<(TaskStatus, u64)> = buckets.iter().map(|b| (b.status, b.count)).collect();
    assert_eq!(
        counts,
        [(TaskStatus::Failed, 1), (TaskStatus::Successful, 2)],
        "RUNNING and READY jobs and another tenant's are not counted: {buckets:?}"
    );
    assert!(
        buckets.iter().all(|b| (29..=30).contains(&b.bucket)),
        "{buckets:?}"
    );
    let hourly = count(Duration::from_secs(3600)).await.unwrap();
    assert!(hourly.iter().all(|b| b.bucket == 0), "{hourly:?}");
    let later = store
        .job_count_finished(JobCountFinished {
            tenant: TENANT.into(),
            since: Utc::now() + Age::minutes(1),
            bucket: Duration::from_secs(60),
        })
        .await
        .unwrap();
    assert!(
        later.is_empty(),
        "nothing finished after `since`: {later:?}"
    );
}

pub async fn job_list_after_id_keeps_that_id_and_newer(store: Arc<dyn Store>) {
    let jobs: Vec<NewJob> = (0..3).map(|_| job(0, "default")).collect();
    store.job_insert_many(&jobs).await.unwrap();
    let listed = store
        .job_list(JobList {
            tenant: TENANT.into(),
            after_id: Some(jobs[1].id.clone()),
            limit: 10,
            ..JobList::default()
        })
        .await
        .unwrap();
    let ids: Vec<&str> = listed.jobs.iter().map(|job| job.id.as_str()).collect();
    assert_eq!(ids, [jobs[2].id.as_str(), jobs[1].id.as_str()]);
    let between = store
        .job_list(JobList {
            tenant: TENANT.into(),
            after_id: Some(jobs[0].id.clone()),
            before_id: Some(jobs[2].id.clone()),
            statuses: vec![TaskStatus::Ready],
            limit: 10,
            ..JobList::default()
        })
        .await
        .unwrap();
    let ids: Vec<&str> = between.jobs.iter().map(|job| job.id.as_str()).collect();
    assert_eq!(ids, [jobs[1].id.as_str(), jobs[0].id.as_str()]);
}

pub async fn concurrent_claims_never_share_a_job(store: Arc<dyn Store>) {
    let jobs: Vec<NewJob> = (0..200).map(|_| job(0, "default")).collect();
    store.job_insert_many(&jobs).await.unwrap();
    claim_all_concurrently(store, 200).await;
}

pub async fn concurrent_claims_between_tenants_never_come_back_short(store: Arc<dyn Store>) {
    for (tenant, jobs) in [("alice", 3), ("bob", 97), ("carol", 5), ("dave", 95)] {
        assert!(store.tenant_create(tenant).await.unwrap());
        let batch: Vec<NewJob> = (0..jobs).map(|_| job_of(tenant)).collect();
        store.job_insert_many(&batch).await.unwrap();
    }
    claim_all_concurrently(store, 200).await;
}

/// Claims with 8 workers at once until one claim comes back short, and checks
/// that every one of the `total` jobs was claimed exactly once by then.
///
/// A claim that comes back short tells a worker the queue is drained (a
/// `--batch` worker then stops): so every claimer stops at the first short claim
/// any of them sees, and nothing may be left behind.
async fn claim_all_concurrently(store: Arc<dyn Store>, total: usize) {
    let drained = Arc::new(AtomicBool::new(false));
    let mut claimers = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let (store, drained) = (store.clone(), drained.clone());
        claimers.spawn(async move {
            let mut mine = Vec::new();
            while !drained.load(Ordering::SeqCst) {
                let batch = store
                    .job_claim(claim(&format!("w{worker}"), 7))
                    .await
                    .unwrap();
                if batch.len() < 7 {
                    drained.store(true, Ordering::SeqCst);
                }
                mine.extend(batch.into_iter().map(|j| j.id));
            }
            mine
        });
    }
    let mut all: Vec<String> = claimers.join_all().await.into_iter().flatten().collect();
    let claimed = all.len();
    all.sort();
    all.dedup();
    assert_eq!(
        (claimed, all.len()),
        (total, total),
        "every job claimed exactly once, and no claim came back short while jobs were READY"
    );
}

/// On PostgreSQL, a claim some of whose jobs another transaction holds goes on
/// claiming until they are free, rather than coming back short (which would stop a
/// `--batch` worker with jobs still READY).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_claim_outlasts_a_transaction_holding_its_jobs() {
    let Some((store, database)) = fresh_postgres().await else {
        return;
    };
    let batch: Vec<NewJob> = (0..10).map(|_| job(0, "default")).collect();
    store.job_insert_many(&batch).await.unwrap();
    let pool = wasmtasks::sqlx::PgPool::connect(database.url())
        .await
        .unwrap();
    let mut holder = pool.begin().await.unwrap();
    let held = wasmtasks::sqlx::query("SELECT id FROM tasks ORDER BY id LIMIT 3 FOR UPDATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    assert_eq!(held.rows_affected(), 3);
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        holder.rollback().await.unwrap();
    });
    let claimed = store.job_claim(claim("w", 10)).await.unwrap();
    release.await.unwrap();
    assert_eq!(
        claimed.len(),
        10,
        "the claim waited out the transaction holding 3 of its jobs"
    );
    pool.close().await;
}

/// On PostgreSQL, a claim whose first statement waits (on a tenant with
/// `max_running`, whose row claims lock) returns the count of capability changes
/// as its claiming statement saw it: a change committed during the wait reaches
/// the jobs it claims, which a worker would otherwise run with what it read before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_change_committed_while_a_claim_waits_reaches_its_jobs() {
    let Some((store, database)) = fresh_postgres().await else {
        return;
    };
    limit_running(store.as_ref(), TENANT, 10).await;
    store.job_insert_many(&[job(0, "default")]).await.unwrap();
    let before = store.job_claim(claim("w", 1)).await.unwrap()[0]
        .capabilities_generation
        .unwrap();
    store.job_insert_many(&[job(0, "default")]).await.unwrap();
    let (pool, holder) = hold_tenant_row(&database, TENANT).await;
    let claiming = {
        let store = store.clone();
        tokio::spawn(async move { store.job_claim(claim("w", 1)).await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let change = ComponentConfigSet {
        tenant: TENANT.into(),
        component: "arith".into(),
        key: "url".into(),
        value: ConfigValue {
            value: "http://changed".into(),
            secret: false,
        },
    };
    store.component_config_set(change).await.unwrap();
    holder.rollback().await.unwrap();
    let claimed = claiming.await.unwrap();
    assert_eq!(claimed.len(), 1);
    let after = claimed[0].capabilities_generation.unwrap();
    assert!(
        after > before,
        "the claim waited through the change, yet returned the count {after} from before it ({before})"
    );
    pool.close().await;
}

/// On PostgreSQL, a claim while one tenant alone (without `max_running`) has
/// READY jobs takes them without waiting for the rows of tenants with
/// `max_running`, which only fair claims lock: here another transaction holds
/// such a row throughout the claim.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_lone_tenants_claim_waits_for_no_other_tenants_row() {
    let Some((store, database)) = fresh_postgres().await else {
        return;
    };
    limit_running(store.as_ref(), "limited", 1).await;
    let jobs = [job(0, "default"), job(0, "default")];
    store.job_insert_many(&jobs).await.unwrap();
    let (pool, holder) = hold_tenant_row(&database, "limited").await;
    let claimed = tokio::time::timeout(Duration::from_secs(30), store.job_claim(claim("w", 4)))
        .await
        .expect("the claim waited for a row another transaction holds")
        .unwrap();
    assert_eq!(
        claimed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        "the lone tenant's jobs, in Django's order"
    );
    holder.rollback().await.unwrap();
    pool.close().await;
}

/// Creates `tenant` (unless it exists, as `default` does) with a `max_running` of `limit`.
async fn limit_running(store: &dyn Store, tenant: &str, limit: u32) {
    store.tenant_create(tenant).await.unwrap();
    let limited = Quotas {
        max_running: Some(limit),
        ..Quotas::default()
    };
    assert!(store.tenant_set_quotas(tenant, &limited).await.unwrap());
}

/// A transaction on `database` (and its pool) that holds `tenant`'s row, as a
/// fair claim's lock would, until it is rolled back.
async fn hold_tenant_row(
    database: &TestDatabase,
    tenant: &str,
) -> (
    wasmtasks::sqlx::PgPool,
    wasmtasks::sqlx::Transaction<'static, wasmtasks::sqlx::Postgres>,
) {
    let pool = wasmtasks::sqlx::PgPool::connect(database.url())
        .await
        .unwrap();
    let mut holder = pool.begin().await.unwrap();
    wasmtasks::sqlx::query("SELECT name FROM tenants WHERE name = $1 FOR UPDATE")
        .bind(tenant)
        .execute(&mut *holder)
        .await
        .unwrap();
    (pool, holder)
}

pub async fn return_values_and_output_are_recorded_as_given(store: Arc<dyn Store>) {
    let (nothing, odd) = (job(0, "default"), job(0, "default"));
    store
        .job_insert_many(&[nothing.clone(), odd.clone()])
        .await
        .unwrap();
    let claimed = store.job_claim(claim("w", 2)).await.unwrap();
    let by_id = |id: &str| claimed.iter().find(|c| c.id == id).unwrap();
    let returned_null = completion(by_id(&nothing.id), "w", NextState::Successful(json!(null)));
    let mut with_nul = completion(
        by_id(&odd.id),
        "w",
        NextState::Successful(json!({"k": "a\u{0}b"})),
    );
    with_nul.record.stdout = "out\u{0}put".into();
    let applied = store
        .job_complete_many(&[returned_null, with_nul])
        .await
        .unwrap();
    assert_eq!(applied.len(), 2, "no completion is refused for its content");
    let result = store.job_get(TENANT, &nothing.id).await.unwrap().unwrap();
    assert_eq!(
        result.return_value,
        Some(json!(null)),
        "a task that returned null"
    );
    // NUL characters, which PostgreSQL cannot hold, become U+FFFD on every dialect.
    let result = store.job_get(TENANT, &odd.id).await.unwrap().unwrap();
    assert_eq!(result.return_value.unwrap()["k"], "a\u{FFFD}b");
    assert_eq!(result.attempt_log[0].stdout, "out\u{FFFD}put");
}

pub async fn waits_end_on_an_enqueue_or_at_the_timeout(store: Arc<dyn Store>) {
    let started = std::time::Instant::now();
    store
        .wait_for_jobs(&mut Heard::default(), Duration::from_millis(200))
        .await;
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "an idle wait lasts its timeout"
    );
    let waiter = {
        let store = store.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            store
                .wait_for_jobs(&mut Heard::default(), Duration::from_secs(30))
                .await;
            started.elapsed()
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    store.job_insert_many(&[job(0, "default")]).await.unwrap();
    let waited = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("the enqueue woke the waiter")
        .unwrap();
    assert!(waited < Duration::from_secs(2), "woken after {waited:?}");
}

pub async fn component_config_is_set_replaced_and_deleted_per_component(store: Arc<dyn Store>) {
    let set = |tenant: &str, component: &str, key: &str, value: &str, secret: bool| {
        let store = store.clone();
        let params = ComponentConfigSet {
            tenant: tenant.into(),
            component: component.into(),
            key: key.into(),
            value: ConfigValue {
                value: value.into(),
                secret,
            },
        };
        async move { store.component_config_set(params).await.unwrap() }
    };
    let value = |value: &str, secret: bool| ConfigValue {
        value: value.into(),
        secret,
    };
    assert!(
        store
            .component_config_get_all(TENANT, "notify")
            .await
            .unwrap()
            .is_empty()
    );
    set(TENANT, "notify", "url", "http://a", false).await;
    set(TENANT, "notify", "token", "t1", true).await;
    set(TENANT, "notify", "token", "t2 ünïcode", true).await;
    set(TENANT, "arith", "url", "http://arith", false).await;
    set("other", "notify", "url", "http://other", false).await;
    let notify = store
        .component_config_get_all(TENANT, "notify")
        .await
        .unwrap();
    assert_eq!(
        notify.into_iter().collect::<Vec<_>>(),
        [
            ("token".to_owned(), value("t2 ünïcode", true)),
            ("url".to_owned(), value("http://a", false)),
        ]
    );
    // A secret made plain again is plain.
    set(TENANT, "notify", "token", "t3", false).await;
    let notify = store
        .component_config_get_all(TENANT, "notify")
        .await
        .unwrap();
    assert_eq!(notify["token"], value("t3", false));

    assert!(
        store
            .component_config_delete(TENANT, "notify", "url")
            .await
            .unwrap()
    );
    assert!(
        !store
            .component_config_delete(TENANT, "notify", "url")
            .await
            .unwrap()
    );
    let notify = store
        .component_config_get_all(TENANT, "notify")
        .await
        .unwrap();
    assert_eq!(notify.keys().collect::<Vec<_>>(), ["token"]);
    let arith = store
        .component_config_get_all(TENANT, "arith")
        .await
        .unwrap();
    assert_eq!(arith["url"], value("http://arith", false));
    let other = store
        .component_config_get_all("other", "notify")
        .await
        .unwrap();
    assert_eq!(other["url"], value("http://other", false));
}

pub async fn http_grants_are_added_listed_and_revoked_per_component(store: Arc<dyn Store>) {
    let change = |tenant: &str, component: &str, origin: &str, granted: bool| {
        let store = store.clone();
        let grant = ComponentGrant {
            tenant: tenant.into(),
            component: component.into(),
            origin: origin.parse().unwrap(),
            granted,
        };
        async move { store.component_grant_change(grant).await.unwrap() }
    };
    let list = |tenant: &str, component: &str| {
        let store = store.clone();
        let (tenant, component) = (tenant.to_owned(), component.to_owned());
        async move {
            let origins = store
                .component_grant_list(&tenant, &component)
                .await
                .unwrap();
            origins.iter().map(ToString::to_string).collect::<Vec<_>>()
        }
    };
    assert!(list(TENANT, "notify").await.is_empty());
    assert!(change(TENANT, "notify", "https://ntfy.sh", true).await);
    assert!(!change(TENANT, "notify", "https://ntfy.sh:443", true).await);
    assert!(change(TENANT, "notify", "https://*.example.com:8443", true).await);
    assert!(change(TENANT, "other", "http://127.0.0.1:9", true).await);
    assert!(change("tenant-2", "notify", "http://127.0.0.1:9", true).await);
    assert_eq!(
        list(TENANT, "notify").await,
        ["https://*.example.com:8443", "https://ntfy.sh:443"]
    );
    assert!(change(TENANT, "notify", "https://ntfy.sh", false).await);
    assert!(!change(TENANT, "notify", "https://ntfy.sh", false).await);
    assert_eq!(list(TENANT, "notify").await, ["https://*.example.com:8443"]);
    assert_eq!(list(TENANT, "other").await, ["http://127.0.0.1:9"]);
    assert_eq!(list("tenant-2", "notify").await, ["http://127.0.0.1:9"]);
}

pub async fn claims_carry_a_count_that_moves_with_every_capability_change(store: Arc<dyn Store>) {
    let claimed = || {
        let store = store.clone();
        async move {
            store.job_insert_many(&[job(0, "default")]).await.unwrap();
            let jobs = store.job_claim(claim("w1", 1)).await.unwrap();
            assert_eq!(jobs.len(), 1);
            jobs[0]
                .capabilities_generation
                .expect("a claim reads the count of capability changes")
        }
    };
    let set = |tenant: &str, key: &str, value: &str| ComponentConfigSet {
        tenant: tenant.into(),
        component: "notify".into(),
        key: key.into(),
        value: ConfigValue {
            value: value.into(),
            secret: false,
        },
    };
    let grant = |tenant: &str, granted: bool| ComponentGrant {
        tenant: tenant.into(),
        component: "notify".into(),
        origin: "https://ntfy.sh".parse().unwrap(),
        granted,
    };
    let mut last = claimed().await;
    assert_eq!(claimed().await, last, "nothing changed in between");
    let mut moved = async |change: &str| {
        let now = claimed().await;
        assert!(now > last, "{change}: the count stayed {now}");
        last = now;
    };
    store
        .component_config_set(set(TENANT, "url", "a"))
        .await
        .unwrap();
    moved("set").await;
    store
        .component_config_set(set(TENANT, "url", "b"))
        .await
        .unwrap();
    moved("replace").await;
    store
        .component_config_set(set("other", "url", "c"))
        .await
        .unwrap();
    moved("set for another tenant").await;
    assert!(
        store
            .component_config_delete(TENANT, "notify", "url")
            .await
            .unwrap()
    );
    moved("delete").await;
    store
        .component_grant_change(grant(TENANT, true))
        .await
        .unwrap();
    moved("grant").await;
    store
        .component_grant_change(grant("other", true))
        .await
        .unwrap();
    moved("grant for another tenant").await;
    store
        .component_grant_change(grant(TENANT, false))
        .await
        .unwrap();
    moved("revoke").await;
}

/// The events after `cursor` once there are `count` of them: PostgreSQL shows an
/// event only when every older transaction of the server (of any database) ended.
async fn events_after(
    store: &Arc<dyn Store>,
    tenant: &str,
    cursor: &str,
    count: usize,
) -> EventPage {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let page = store.event_list(tenant, Some(cursor), 100).await.unwrap();
        if page.events.len() >= count || std::time::Instant::now() > deadline {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub async fn events_follow_every_status_change_in_order(store: Arc<dyn Store>) {
    let start = store.event_list(TENANT, None, 100).await.unwrap();
    assert!(start.events.is_empty());
    let jobs = [job(0, "default"), job(0, "default"), job(0, "default")];
    store.job_insert_many(&jobs).await.unwrap();
    store.job_cancel(TENANT, &jobs[2].id).await.unwrap();
    let claimed = store.job_claim(claim("w", 2)).await.unwrap();
    let by_id = |id: &str| claimed.iter().find(|c| c.id == id).unwrap().clone();
    let (first, second) = (by_id(&jobs[0].id), by_id(&jobs[1].id));
    store
        .job_complete_many(&[
            completion(&first, "w", NextState::Successful(json!(1))),
            completion(&second, "w", NextState::Retry(Duration::from_secs(60))),
        ])
        .await
        .unwrap();
    let page = events_after(&store, TENANT, &start.cursor, 5).await;
    let seen: Vec<(String, TaskStatus, u32)> = page
        .events
        .iter()
        .map(|e| (e.task_id.clone(), e.status, e.attempt))
        .collect();
    let of = |id: &str| -> Vec<(TaskStatus, u32)> {
        seen.iter()
            .filter(|(i, _, _)| i == id)
            .map(|(_, s, a)| (*s, *a))
            .collect()
    };
    assert_eq!(
        of(&jobs[0].id),
        [(TaskStatus::Running, 1), (TaskStatus::Successful, 1)]
    );
    assert_eq!(
        of(&jobs[1].id),
        [(TaskStatus::Running, 1), (TaskStatus::Ready, 1)]
    );
    assert_eq!(of(&jobs[2].id), [(TaskStatus::Cancelled, 0)]);
    assert_eq!(page.cursor, page.events.last().unwrap().cursor);
    assert_eq!(page.events[0].task_path, "arith.add");
    // Reading on from the last cursor gets nothing new; from an event's, the rest.
    let after = store
        .event_list(TENANT, Some(&page.cursor), 100)
        .await
        .unwrap();
    assert!(after.events.is_empty());
    assert_eq!(after.cursor, page.cursor);
    let rest = store
        .event_list(TENANT, Some(&page.events[0].cursor), 100)
        .await
        .unwrap();
    assert_eq!(rest.events, page.events[1..]);
    let limited = store
        .event_list(TENANT, Some(&start.cursor), 2)
        .await
        .unwrap();
    assert_eq!(limited.events, page.events[..2]);
    // Another tenant's stream holds none of them; a made-up cursor is refused.
    let other = store
        .event_list("tenant-2", Some(&start.cursor), 100)
        .await
        .unwrap();
    assert!(other.events.is_empty());
    assert!(matches!(
        store.event_list(TENANT, Some("nonsense"), 10).await,
        Err(StoreError::BadCursor(_))
    ));
}

pub async fn tenants_and_tokens_are_stored_and_deleted_with_all_they_own(store: Arc<dyn Store>) {
    assert!(
        store.tenant_get("default").await.unwrap().is_some(),
        "default always exists"
    );
    assert!(store.tenant_create("alice").await.unwrap());
    assert!(!store.tenant_create("alice").await.unwrap());
    let ceiling: Vec<wasmtasks::sandbox::OriginPattern> =
        vec!["https://*.example.com".parse().unwrap()];
    assert!(
        store
            .tenant_set_http_ceiling("alice", &ceiling)
            .await
            .unwrap()
    );
    assert!(
        !store
            .tenant_set_http_ceiling("nobody", &ceiling)
            .await
            .unwrap()
    );
    let alice = store.tenant_get("alice").await.unwrap().unwrap();
    assert_eq!(alice.http_ceiling, ceiling);
    let names: Vec<String> = store
        .tenant_list()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["alice", "default"]);
    let token = |id: &str, tenant: Option<&str>, role| NewToken {
        id: id.into(),
        tenant: tenant.map(str::to_owned),
        role,
        name: format!("token {id}"),
        secret_hash: format!("hash-{id}"),
        expires_at: None,
    };
    store
        .token_insert(token("a1", Some("alice"), Role::Admin))
        .await
        .unwrap();
    store
        .token_insert(token("op", None, Role::Operator))
        .await
        .unwrap();
    let read = store.token_get("a1").await.unwrap().unwrap();
    assert_eq!(
        (
            read.tenant.as_deref(),
            read.role,
            read.secret_hash.as_str(),
            read.revoked_at
        ),
        (Some("alice"), Role::Admin, "hash-a1", None)
    );
    assert_eq!(store.token_list(Some("alice")).await.unwrap().len(), 1);
    assert_eq!(store.token_list(None).await.unwrap().len(), 2);
    assert!(store.token_revoke("a1").await.unwrap());
    assert!(!store.token_revoke("a1").await.unwrap(), "revoked once");
    assert!(
        store
            .token_get("a1")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    // What alice owns goes with her; nobody else's does.
    let mut alices = job(0, "default");
    alices.tenant = "alice".into();
    store
        .job_insert_many(&[alices.clone(), job(0, "default")])
        .await
        .unwrap();
    let start = store.event_list("alice", None, 10).await.unwrap();
    store.job_cancel("alice", &alices.id).await.unwrap();
    assert_eq!(
        events_after(&store, "alice", &start.cursor, 1)
            .await
            .events
            .len(),
        1
    );
    let deleted = store.tenant_delete("alice").await.unwrap().unwrap();
    assert_eq!((deleted.jobs, deleted.tokens), (1, 1));
    assert!(store.tenant_get("alice").await.unwrap().is_none());
    assert!(store.job_get("alice", &alices.id).await.unwrap().is_none());
    assert_eq!(store.token_list(None).await.unwrap().len(), 1);
    assert!(store.tenant_delete("alice").await.unwrap().is_none());
    assert_eq!(store.queue_stats(Some(TENANT)).await.unwrap()[0].count, 1);
    // A new tenant of the same name inherits none of the old one's events.
    assert!(store.tenant_create("alice").await.unwrap());
    let after = store
        .event_list("alice", Some(&start.cursor), 10)
        .await
        .unwrap();
    assert!(after.events.is_empty(), "{:?}", after.events);
}

pub async fn job_lists_filter_and_page_newest_first(store: Arc<dyn Store>) {
    let mut jobs: Vec<NewJob> = (0..5).map(|_| job(0, "default")).collect();
    jobs[4].queue_name = "emails".into();
    jobs[3].task_name = "sum".into();
    jobs[3].task_path = "arith.sum".into();
    store.job_insert_many(&jobs).await.unwrap();
    let claimed = store.job_claim(claim("w", 1)).await.unwrap();
    store
        .job_complete_many(&[completion(&claimed[0], "w", NextState::Failed)])
        .await
        .unwrap();
    let list = |params: JobList| {
        let store = store.clone();
        async move { store.job_list(params).await.unwrap().jobs }
    };
    let base = JobList {
        tenant: TENANT.into(),
        limit: 10,
        ..JobList::default()
    };
    let all = list(base.clone()).await;
    let ids: Vec<&str> = all.iter().map(|j| j.id.as_str()).collect();
    let mut newest_first: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    newest_first.reverse();
    assert_eq!(ids, newest_first);
    let failed = list(JobList {
        statuses: vec![TaskStatus::Failed],
        ..base.clone()
    })
    .await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].last_error.as_deref(), Some("x.Error"));
    assert_eq!(failed[0].attempts, 1);
    let emails = list(JobList {
        queue_name: Some("emails".into()),
        ..base.clone()
    })
    .await;
    assert_eq!(emails.len(), 1);
    let sums = list(JobList {
        component: Some("arith".into()),
        task_name: Some("sum".into()),
        ..base.clone()
    })
    .await;
    assert_eq!(sums.len(), 1);
    let page = list(JobList {
        limit: 2,
        ..base.clone()
    })
    .await;
    let next = list(JobList {
        limit: 2,
        before_id: Some(page[1].id.clone()),
        ..base.clone()
    })
    .await;
    assert_eq!(next[0].id, ids[2]);
    let future = list(JobList {
        since: Some(Utc::now() + Age::hours(1)),
        ..base.clone()
    })
    .await;
    assert!(future.is_empty());
    assert!(
        list(JobList {
            tenant: "tenant-2".into(),
            ..base
        })
        .await
        .is_empty()
    );
}

pub async fn retries_give_a_fresh_budget_and_keep_the_attempts(store: Arc<dyn Store>) {
    // A failed job is retried only while its component version is stored.
    store.component_insert(arith("d1")).await.unwrap();
    let mut once = job(0, "default");
    once.max_attempts = 1;
    let ready = job(0, "default");
    store
        .job_insert_many(&[once.clone(), ready.clone()])
        .await
        .unwrap();
    let claimed = store
        .job_claim(JobClaim {
            limit: 1,
            ..claim("w", 1)
        })
        .await
        .unwrap();
    assert_eq!(claimed[0].id, once.id);
    store
        .job_complete_many(&[completion(&claimed[0], "w", NextState::Failed)])
        .await
        .unwrap();
    let outcomes = store
        .job_retry(
            TENANT,
            RetrySelection::Ids(vec![once.id.clone(), ready.id.clone(), "nope".into()]),
        )
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        [
            RetryOutcome::Retried {
                id: once.id.clone()
            },
            RetryOutcome::NotRetryable {
                id: ready.id.clone(),
                status: TaskStatus::Ready
            },
            RetryOutcome::NotFound { id: "nope".into() },
        ]
    );
    let result = store.job_get(TENANT, &once.id).await.unwrap().unwrap();
    assert_eq!(
        (result.status, result.attempts, result.finished_at),
        (TaskStatus::Ready, 1, None)
    );
    // The next claim is attempt 2, and its budget is max_attempts (1) more.
    let again = store.job_claim(claim("w", 2)).await.unwrap();
    let again = again
        .iter()
        .find(|c| c.id == once.id)
        .expect("claimed again");
    assert_eq!((again.attempt, again.max_attempts), (2, 2));
    store
        .job_complete_many(&[completion(again, "w", NextState::Failed)])
        .await
        .unwrap();
    let result = store.job_get(TENANT, &once.id).await.unwrap().unwrap();
    assert_eq!((result.attempts, result.errors.len()), (2, 2));
    let all_failed = store
        .job_retry(
            TENANT,
            RetrySelection::Failed {
                component: Some("arith".into()),
                task_name: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        all_failed,
        [RetryOutcome::Retried {
            id: once.id.clone()
        }]
    );
    assert!(
        store
            .job_retry("tenant-2", RetrySelection::Ids(vec![once.id.clone()]))
            .await
            .unwrap()
            == [RetryOutcome::NotFound { id: once.id }]
    );
}

pub async fn component_versions_pinned_by_waiting_jobs_stay(store: Arc<dyn Store>) {
    store.component_insert(arith("d1")).await.unwrap();
    store.component_insert(arith("d2")).await.unwrap();
    let pinned = job(0, "default");
    store
        .job_insert_many(std::slice::from_ref(&pinned))
        .await
        .unwrap();
    let delete = |prefix: Option<&str>| ComponentDelete {
        tenant: TENANT.into(),
        name: "arith".into(),
        digest_prefix: prefix.map(str::to_owned),
    };
    assert_eq!(
        store.component_delete(delete(None)).await.unwrap(),
        ComponentDeleted::Pinned { jobs: 1 }
    );
    assert_eq!(
        store.component_delete(delete(Some("d2"))).await.unwrap(),
        ComponentDeleted::Deleted(vec![(2, "d2".into())])
    );
    assert!(
        store.component_get_bytes("d2").await.unwrap().is_none(),
        "unnamed bytes go"
    );
    assert_eq!(
        store.component_delete(delete(Some("d"))).await.unwrap(),
        ComponentDeleted::Pinned { jobs: 1 }
    );
    store.job_cancel(TENANT, &pinned.id).await.unwrap();
    assert_eq!(
        store.component_delete(delete(None)).await.unwrap(),
        ComponentDeleted::Deleted(vec![(1, "d1".into())])
    );
    assert_eq!(
        store.component_delete(delete(None)).await.unwrap(),
        ComponentDeleted::NotFound
    );
}

pub async fn prune_counts_component_versions_as_it_deletes_them(store: Arc<dyn Store>) {
    store.component_insert(arith("d1")).await.unwrap();
    store.job_insert_many(&[job(0, "default")]).await.unwrap();
    let claimed = store.job_claim(claim("w", 1)).await.unwrap();
    store
        .job_complete_many(&[completion(
            &claimed[0],
            "w",
            NextState::Successful(json!(1)),
        )])
        .await
        .unwrap();
    store.component_insert(arith("d2")).await.unwrap();
    let prune = |components, dry_run| JobPrune {
        tenant: TENANT.into(),
        finished_before: Utc::now() + Age::days(1),
        failed_before: Utc::now() + Age::days(1),
        queues: None,
        components,
        dry_run,
    };
    let kept = store.job_prune(prune(false, true)).await.unwrap();
    assert_eq!(
        (kept.successful, kept.component_versions),
        (1, 0),
        "versions only when asked"
    );
    let dry = store.job_prune(prune(true, true)).await.unwrap();
    assert_eq!(
        (dry.successful, dry.component_versions),
        (1, 1),
        "v1 is needed only by a pruned job"
    );
    let real = store.job_prune(prune(true, false)).await.unwrap();
    assert_eq!(real, dry);
    assert!(store.component_get_bytes("d1").await.unwrap().is_none());
    assert!(store.component_get_bytes("d2").await.unwrap().is_some());
}

pub async fn claims_serve_only_the_workers_tenants_and_carry_max_backoff(store: Arc<dyn Store>) {
    let mut other = job(0, "default");
    other.tenant = "tenant-2".into();
    let mine = job(0, "default");
    store
        .job_insert_many(&[other.clone(), mine.clone()])
        .await
        .unwrap();
    let claimed = store
        .job_claim(JobClaim {
            tenants: Some(vec![TENANT.into()]),
            ..claim("w", 10)
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        (claimed[0].id.as_str(), claimed[0].max_backoff),
        (mine.id.as_str(), Duration::from_secs(60))
    );
    let rest = store.job_claim(claim("w", 10)).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].tenant, "tenant-2");
}

pub async fn paused_queues_are_not_claimed_until_resumed(store: Arc<dyn Store>) {
    let waiting = job(0, "default");
    let emails = job(0, "emails");
    let mut others = job(0, "default");
    others.tenant = "tenant-2".into();
    store
        .job_insert_many(&[waiting.clone(), emails.clone(), others.clone()])
        .await
        .unwrap();
    assert!(
        store
            .queue_set_paused(TENANT, "default", true)
            .await
            .unwrap()
    );
    assert!(
        !store
            .queue_set_paused(TENANT, "default", true)
            .await
            .unwrap()
    );
    assert_eq!(store.queue_paused(TENANT).await.unwrap(), ["default"]);
    assert!(store.queue_paused("tenant-2").await.unwrap().is_empty());
    let mut claimed: Vec<String> = store
        .job_claim(claim("w", 10))
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    claimed.sort();
    let mut expected = vec![emails.id.clone(), others.id.clone()];
    expected.sort();
    assert_eq!(claimed, expected, "a pause holds one tenant's queue only");
    assert_eq!(status(store.as_ref(), &waiting.id).await, TaskStatus::Ready);
    assert!(
        store
            .queue_set_paused(TENANT, "default", false)
            .await
            .unwrap()
    );
    assert!(
        !store
            .queue_set_paused(TENANT, "default", false)
            .await
            .unwrap()
    );
    let resumed = store.job_claim(claim("w", 10)).await.unwrap();
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0].id, waiting.id);
}

/// A worker registration of `id` heartbeating every `every`.
fn registration(id: &str, tenants: Option<&[&str]>, every: Duration) -> WorkerRegistration {
    WorkerRegistration {
        id: id.into(),
        host: "host-1".into(),
        pid: 4242,
        version: "0.0.0-test".into(),
        queues: QueueFilter::All {
            exclude: vec!["bulk".into()],
        }
        .describe(),
        tenants: tenants.map(|tenants| tenants.iter().map(|t| t.to_string()).collect()),
        concurrency: 8,
        heartbeat_every: every,
    }
}

pub async fn workers_register_heartbeat_and_show_what_they_run(store: Arc<dyn Store>) {
    let second = Duration::from_secs(1);
    store
        .worker_register(&registration("w1", None, second))
        .await
        .unwrap();
    store
        .worker_register(&registration("w2", Some(&["tenant-2"]), second))
        .await
        .unwrap();
    let mine = job(0, "default");
    let theirs = job_of("tenant-2");
    store
        .job_insert_many(&[mine.clone(), theirs.clone()])
        .await
        .unwrap();
    assert_eq!(store.job_claim(claim("w1", 10)).await.unwrap().len(), 2);

    let all = store.worker_list(None).await.unwrap();
    assert_eq!(
        all.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        ["w1", "w2"]
    );
    let w1 = &all[0];
    assert_eq!(
        (
            w1.host.as_str(),
            w1.pid,
            w1.version.as_str(),
            w1.queues.as_str()
        ),
        ("host-1", 4242, "0.0.0-test", "* except bulk")
    );
    assert_eq!((w1.concurrency, w1.heartbeat_every_ms), (8, 1000));
    assert_eq!(w1.state, WorkerState::Live);
    assert_eq!(w1.tenants, None);
    assert_eq!(all[1].tenants, Some(vec!["tenant-2".to_owned()]));
    let mut running: Vec<_> = w1.running.iter().map(|j| j.id.clone()).collect();
    running.sort();
    let mut expected = vec![mine.id.clone(), theirs.id.clone()];
    expected.sort();
    assert_eq!(running, expected);
    assert!(
        w1.running
            .iter()
            .all(|j| j.attempt == 1 && j.started_at.is_some())
    );
    assert!(all[1].running.is_empty());

    let of_tenant = store.worker_list(Some(TENANT)).await.unwrap();
    assert_eq!(of_tenant[0].running.len(), 1, "only the tenant's own jobs");
    assert_eq!(of_tenant[0].running[0].id, mine.id);
    assert_eq!(of_tenant[0].running[0].tenant, TENANT);

    let beat = |id, stopped| WorkerHeartbeat {
        id,
        finished: 5,
        failed: 1,
        stopped,
    };
    let before = all[0].heartbeat_at;
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(store.worker_heartbeat(beat("w1", false)).await.unwrap());
    assert!(!store.worker_heartbeat(beat("nobody", false)).await.unwrap());
    let w1 = store.worker_list(None).await.unwrap().remove(0);
    assert_eq!((w1.finished, w1.failed), (5, 1));
    assert!(w1.heartbeat_at > before);
    assert_eq!(w1.stopped_at, None);

    assert!(store.worker_heartbeat(beat("w1", true)).await.unwrap());
    let w1 = store.worker_list(None).await.unwrap().remove(0);
    assert_eq!(w1.state, WorkerState::Stopped);
    assert!(w1.stopped_at.is_some());

    // Registering again (a restart with the same id) starts afresh.
    store
        .worker_register(&registration("w1", None, second))
        .await
        .unwrap();
    let w1 = store.worker_list(None).await.unwrap().remove(0);
    assert_eq!(
        (w1.state, w1.stopped_at, w1.finished),
        (WorkerState::Live, None, 0)
    );

    // A heartbeat three intervals late marks the worker lost.
    store
        .worker_register(&registration("w3", None, Duration::from_millis(100)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let workers = store.worker_list(None).await.unwrap();
    assert_eq!(workers[2].id, "w3");
    assert_eq!(workers[2].state, WorkerState::Lost);
    assert_eq!(workers[0].state, WorkerState::Live);
}

/// A job unique by `key`, blocking duplicates while READY, RUNNING or SUCCESSFUL.
fn unique(key: &str) -> NewJob {
    NewJob {
        unique_key: Some(key.into()),
        unique_states: 1 | 2 | 4,
        ..job(0, "default")
    }
}

pub async fn unique_jobs_are_inserted_once_and_duplicates_name_the_holder(store: Arc<dyn Store>) {
    store.component_insert(arith("d1")).await.unwrap();
    let first = NewJob {
        priority: 9,
        ..unique("k1")
    };
    assert!(
        store
            .job_insert_many(std::slice::from_ref(&first))
            .await
            .unwrap()
            .is_empty()
    );
    let second = unique("k1");
    assert_eq!(
        store
            .job_insert_many(std::slice::from_ref(&second))
            .await
            .unwrap(),
        [Duplicate {
            id: second.id.clone(),
            existing: first.id.clone()
        }]
    );
    // Within one batch, the first of a key wins; plain jobs go in beside them.
    let batch = [unique("k2"), job(0, "default"), unique("k2")];
    let duplicates = store.job_insert_many(&batch).await.unwrap();
    assert_eq!(
        duplicates,
        [Duplicate {
            id: batch[2].id.clone(),
            existing: batch[0].id.clone()
        }]
    );
    assert!(
        store.job_get(TENANT, &batch[2].id).await.unwrap().is_none(),
        "a duplicate is not stored"
    );
    // Another tenant's key is its own.
    let theirs = NewJob {
        tenant: "tenant-2".into(),
        ..unique("k1")
    };
    assert!(
        store
            .job_insert_many(std::slice::from_ref(&theirs))
            .await
            .unwrap()
            .is_empty()
    );
    // A holder that fails (FAILED is not among its statuses) lets a new one in; the
    // failed one then cannot be retried while the new one holds the key.
    let claimed = store.job_claim(claim("w", 1)).await.unwrap();
    assert_eq!(claimed[0].id, first.id);
    store
        .job_complete_many(&[completion(&claimed[0], "w", NextState::Failed)])
        .await
        .unwrap();
    let after = unique("k1");
    assert!(
        store
            .job_insert_many(std::slice::from_ref(&after))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .job_retry(TENANT, RetrySelection::Ids(vec![first.id.clone()]))
            .await
            .unwrap(),
        [RetryOutcome::Duplicate {
            id: first.id.clone()
        }]
    );
    // A cancelled holder frees its key too.
    store.job_cancel(TENANT, &after.id).await.unwrap();
    let last = unique("k1");
    assert!(
        store
            .job_insert_many(std::slice::from_ref(&last))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn concurrent_duplicates_insert_exactly_one_job(store: Arc<dyn Store>) {
    let tries: Vec<NewJob> = (0..16).map(|_| unique("race")).collect();
    let mut racing = tokio::task::JoinSet::new();
    for job in tries.clone() {
        let store = store.clone();
        racing.spawn(async move { store.job_insert_many(&[job]).await.unwrap() });
    }
    let mut duplicates = Vec::new();
    while let Some(joined) = racing.join_next().await {
        duplicates.extend(joined.unwrap());
    }
    assert_eq!(duplicates.len(), 15, "{duplicates:?}");
    let holder = &duplicates[0].existing;
    assert!(duplicates.iter().all(|d| &d.existing == holder));
    let stored: Vec<&NewJob> = tries
        .iter()
        .filter(|job| !duplicates.iter().any(|d| d.id == job.id))
        .collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(&stored[0].id, holder);
    let stats = store.queue_stats(Some(TENANT)).await.unwrap();
    assert_eq!(stats.iter().map(|s| s.count).sum::<u64>(), 1);
}

/// A job of `tenant`.
fn job_of(tenant: &str) -> NewJob {
    NewJob {
        tenant: tenant.into(),
        ..job(0, "default")
    }
}

pub async fn tenant_quotas_are_stored_and_read_back(store: Arc<dyn Store>) {
    assert!(store.tenant_create("alice").await.unwrap());
    let fresh = store.tenant_get("alice").await.unwrap().unwrap();
    assert_eq!(fresh.quotas, Quotas::default());
    let quotas = Quotas {
        max_running: Some(4),
        max_queued: Some(10_000_000_000),
        enqueue_rate: Some(2.5),
        enqueue_burst: Some(10),
        max_fuel: Some(20_000_000_000),
        max_timeout_ms: Some(90_000),
        max_memory_bytes: Some(64 << 20),
        max_component_bytes: Some(8 << 20),
        max_components: Some(3),
        weight: 3,
    };
    assert!(store.tenant_set_quotas("alice", &quotas).await.unwrap());
    assert!(!store.tenant_set_quotas("nobody", &quotas).await.unwrap());
    let read = store.tenant_get("alice").await.unwrap().unwrap();
    assert_eq!(read.quotas, quotas);
    let listed = store.tenant_list().await.unwrap();
    let alice = listed.iter().find(|t| t.name == "alice").unwrap();
    assert_eq!(alice.quotas, quotas);
    // The other tenant keeps its own.
    let default = listed.iter().find(|t| t.name == TENANT).unwrap();
    assert_eq!(default.quotas, Quotas::default());
}

pub async fn max_queued_refuses_a_batch_whole_and_stores_nothing(store: Arc<dyn Store>) {
    assert!(store.tenant_create("alice").await.unwrap());
    let quotas = Quotas {
        max_queued: Some(3),
        ..Quotas::default()
    };
    assert!(store.tenant_set_quotas("alice", &quotas).await.unwrap());
    let two: Vec<NewJob> = (0..2).map(|_| job_of("alice")).collect();
    store.job_insert_many(&two).await.unwrap();
    // Two more would make four: the batch is refused whole, naming the quota.
    let more: Vec<NewJob> = (0..2).map(|_| job_of("alice")).collect();
    let error = store.job_insert_many(&more).await.unwrap_err();
    let StoreError::Quota(refusal) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        (refusal.limit.as_str(), refusal.value.as_str()),
        ("max_queued", "3")
    );
    assert!(
        error
            .to_string()
            .contains("tenant `alice` may have 3 READY jobs (max_queued) and has 2"),
        "{error}"
    );
    let stats = store.queue_stats(Some("alice")).await.unwrap();
    assert_eq!(stats.iter().map(|s| s.count).sum::<u64>(), 2);
    // A batch with another tenant's jobs is refused whole too.
    let mixed = vec![job_of(TENANT), job_of("alice"), job_of("alice")];
    assert!(matches!(
        store.job_insert_many(&mixed).await,
        Err(StoreError::Quota(_))
    ));
    assert!(store.queue_stats(Some(TENANT)).await.unwrap().is_empty());
    // One fits; once claimed, the READY count drops and more fit again.
    store.job_insert_many(&[job_of("alice")]).await.unwrap();
    assert!(store.job_insert_many(&[job_of("alice")]).await.is_err());
    assert_eq!(store.job_claim(claim("w1", 2)).await.unwrap().len(), 2);
    let again: Vec<NewJob> = (0..2).map(|_| job_of("alice")).collect();
    store.job_insert_many(&again).await.unwrap();
    // Other tenants are not limited by alice's quota.
    let many: Vec<NewJob> = (0..10).map(|_| job_of(TENANT)).collect();
    store.job_insert_many(&many).await.unwrap();
}

pub async fn concurrent_enqueuers_never_pass_max_queued(store: Arc<dyn Store>) {
    assert!(store.tenant_create("alice").await.unwrap());
    let quotas = Quotas {
        max_queued: Some(20),
        ..Quotas::default()
    };
    assert!(store.tenant_set_quotas("alice", &quotas).await.unwrap());
    let mut enqueuers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let store = store.clone();
        enqueuers.spawn(async move {
            let mut stored = 0;
            for _ in 0..10 {
                let batch: Vec<NewJob> = (0..3).map(|_| job_of("alice")).collect();
                match store.job_insert_many(&batch).await {
                    Ok(_) => stored += 3,
                    Err(StoreError::Quota(_)) => {}
                    Err(error) => panic!("{error}"),
                }
            }
            stored
        });
    }
    let mut stored = 0;
    while let Some(joined) = enqueuers.join_next().await {
        stored += joined.unwrap();
    }
    let ready: u64 = store
        .queue_stats(Some("alice"))
        .await
        .unwrap()
        .iter()
        .map(|s| s.count)
        .sum();
    assert_eq!(ready, stored);
    assert_eq!(
        ready, 18,
        "six batches of three fit under 20, never a seventh"
    );
}

pub async fn claims_carry_the_tenants_ceilings(store: Arc<dyn Store>) {
    assert!(store.tenant_create("alice").await.unwrap());
    let quotas = Quotas {
        max_fuel: Some(1_000),
        max_timeout_ms: Some(2_000),
        ..Quotas::default()
    };
    assert!(store.tenant_set_quotas("alice", &quotas).await.unwrap());
    store
        .job_insert_many(&[job_of("alice"), job_of(TENANT)])
        .await
        .unwrap();
    let claimed = store.job_claim(claim("w1", 2)).await.unwrap();
    let alice = claimed.iter().find(|job| job.tenant == "alice").unwrap();
    assert_eq!(alice.ceilings.fuel, Some(1_000));
    assert_eq!(alice.ceilings.timeout, Some(Duration::from_secs(2)));
    assert_eq!(alice.ceilings.memory_bytes, None);
    let other = claimed.iter().find(|job| job.tenant == TENANT).unwrap();
    assert_eq!(other.ceilings, LimitOverrides::default());
}

/// Creates `tenant` with `quotas`, and `jobs` READY jobs of it.
async fn tenant_with_jobs(store: &dyn Store, tenant: &str, quotas: Quotas, jobs: usize) {
    if tenant != TENANT {
        assert!(store.tenant_create(tenant).await.unwrap());
    }
    assert!(store.tenant_set_quotas(tenant, &quotas).await.unwrap());
    let batch: Vec<NewJob> = (0..jobs).map(|_| job_of(tenant)).collect();
    store.job_insert_many(&batch).await.unwrap();
}

/// How many of `claimed` belong to each of `tenants`.
fn shares(claimed: &[ClaimedJob], tenants: &[&str]) -> Vec<usize> {
    tenants
        .iter()
        .map(|tenant| claimed.iter().filter(|job| job.tenant == *tenant).count())
        .collect()
}

fn weighing(weight: u32) -> Quotas {
    Quotas {
        weight,
        ..Quotas::default()
    }
}

pub async fn a_claim_shares_slots_equally_between_equal_tenants(store: Arc<dyn Store>) {
    // alice enqueued first and more: a claim still takes from both alike.
    tenant_with_jobs(store.as_ref(), "alice", weighing(1), 50).await;
    tenant_with_jobs(store.as_ref(), "bob", weighing(1), 10).await;
    let claimed = store.job_claim(claim("w1", 10)).await.unwrap();
    assert_eq!(shares(&claimed, &["alice", "bob"]), [5, 5]);
    // Running jobs count: with five each running, the next claim is even again.
    let claimed = store.job_claim(claim("w1", 4)).await.unwrap();
    assert_eq!(shares(&claimed, &["alice", "bob"]), [2, 2]);
}

pub async fn a_claim_shares_slots_by_weight(store: Arc<dyn Store>) {
    tenant_with_jobs(store.as_ref(), "alice", weighing(1), 20).await;
    tenant_with_jobs(store.as_ref(), "bob", weighing(3), 20).await;
    let claimed = store.job_claim(claim("w1", 8)).await.unwrap();
    assert_eq!(shares(&claimed, &["alice", "bob"]), [2, 6]);
    // A newcomer with nothing running gets the next slots until its running
    // jobs per weight catch up: carol 1, 2 then bob (6 + 1) / 3, (6 + 2) / 3.
    tenant_with_jobs(store.as_ref(), "carol", weighing(1), 20).await;
    let claimed = store.job_claim(claim("w1", 4)).await.unwrap();
    assert_eq!(shares(&claimed, &["alice", "bob", "carol"]), [0, 2, 2]);
}

pub async fn a_tenant_at_max_running_waits_and_others_fill_the_slots(store: Arc<dyn Store>) {
    let limited = Quotas {
        max_running: Some(2),
        ..Quotas::default()
    };
    tenant_with_jobs(store.as_ref(), "alice", limited, 10).await;
    tenant_with_jobs(store.as_ref(), "bob", weighing(1), 5).await;
    let first = store.job_claim(claim("w1", 8)).await.unwrap();
    assert_eq!(shares(&first, &["alice", "bob"]), [2, 5]);
    // alice is at her limit: nothing of hers, however many slots are free.
    assert!(store.job_claim(claim("w2", 8)).await.unwrap().is_empty());
    // One of hers finishes: one more may start.
    let done = first.iter().find(|job| job.tenant == "alice").unwrap();
    store
        .job_complete_many(&[completion(done, "w1", NextState::Successful(json!(1)))])
        .await
        .unwrap();
    let next = store.job_claim(claim("w2", 8)).await.unwrap();
    assert_eq!(shares(&next, &["alice", "bob"]), [1, 0]);
}

pub async fn a_tenant_alone_gets_every_slot_and_future_jobs_wait(store: Arc<dyn Store>) {
    assert!(store.tenant_create("alice").await.unwrap());
    let later: Vec<NewJob> = (0..5)
        .map(|_| NewJob {
            run_after: Some(Utc::now() + Age::hours(1)),
            ..job_of("alice")
        })
        .collect();
    store.job_insert_many(&later).await.unwrap();
    tenant_with_jobs(store.as_ref(), "bob", weighing(1), 12).await;
    let claimed = store.job_claim(claim("w1", 10)).await.unwrap();
    assert_eq!(shares(&claimed, &["alice", "bob"]), [0, 10]);
}

/// Creates `tenant` and enqueues one job of it at each of `priorities`, in order.
async fn tenant_with_priorities(
    store: &dyn Store,
    tenant: &str,
    priorities: &[i32],
) -> Vec<NewJob> {
    assert!(store.tenant_create(tenant).await.unwrap());
    let jobs: Vec<NewJob> = priorities
        .iter()
        .map(|&priority| NewJob {
            priority,
            ..job_of(tenant)
        })
        .collect();
    store.job_insert_many(&jobs).await.unwrap();
    jobs
}

pub async fn priorities_order_the_jobs_within_a_tenant(store: Arc<dyn Store>) {
    let jobs = tenant_with_priorities(store.as_ref(), "alice", &[0, 5, -3, 5, 9]).await;
    tenant_with_jobs(store.as_ref(), "bob", weighing(1), 3).await;
    // alice's two slots go to her two highest priorities, whatever bob has.
    let claimed = store.job_claim(claim("w1", 4)).await.unwrap();
    let mut alice: Vec<i32> = claimed
        .iter()
        .filter(|job| job.tenant == "alice")
        .map(|job| job.priority)
        .collect();
    alice.sort_unstable();
    assert_eq!(alice, [5, 9]);
    // Of her two equal priorities, the one enqueued first went first.
    assert!(claimed.iter().any(|job| job.id == jobs[1].id));
}

pub async fn a_tenant_alone_at_max_running_gets_its_room_in_order(store: Arc<dyn Store>) {
    let limited = Quotas {
        max_running: Some(3),
        ..Quotas::default()
    };
    let jobs = tenant_with_priorities(store.as_ref(), "alice", &[0, 5, -3, 5, 9, 1]).await;
    assert!(store.tenant_set_quotas("alice", &limited).await.unwrap());
    // Ten slots, but room for three: her three highest priorities, in Django's order.
    let claimed = store.job_claim(claim("w1", 10)).await.unwrap();
    let ids: Vec<&str> = claimed.iter().map(|job| job.id.as_str()).collect();
    assert_eq!(ids, [&jobs[4].id, &jobs[1].id, &jobs[3].id]);
    assert!(store.job_claim(claim("w2", 10)).await.unwrap().is_empty());
    // Alone and unlimited, she gets the rest, as many as the claim asks for.
    assert!(
        store
            .tenant_set_quotas("alice", &Quotas::default())
            .await
            .unwrap()
    );
    let rest = store.job_claim(claim("w2", 2)).await.unwrap();
    let ids: Vec<&str> = rest.iter().map(|job| job.id.as_str()).collect();
    assert_eq!(ids, [&jobs[5].id, &jobs[0].id]);
}

pub async fn usage_is_counted_per_tenant_and_day_and_outlives_pruning(store: Arc<dyn Store>) {
    assert!(store.tenant_create("alice").await.unwrap());
    let jobs: Vec<NewJob> = (0..4).map(|_| job_of("alice")).collect();
    store.job_insert_many(&jobs).await.unwrap();
    store.job_insert_many(&[job_of(TENANT)]).await.unwrap();
    assert!(matches!(
        store.job_cancel("alice", &jobs[3].id).await.unwrap(),
        CancelOutcome::Cancelled
    ));
    let claimed = store
        .job_claim(JobClaim {
            tenants: Some(vec!["alice".into()]),
            ..claim("w1", 3)
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3);
    let ends = [
        NextState::Successful(json!(3)),
        NextState::Failed,
        NextState::Retry(Duration::ZERO),
    ];
    let completions: Vec<Completion> = claimed
        .iter()
        .zip(ends)
        .map(|(job, next)| completion(job, "w1", next))
        .collect();
    store.job_complete_many(&completions).await.unwrap();
    let today = Utc::now().date_naive();
    let expected = UsageCounts {
        successful: 1,
        failed: 1,
        cancelled: 1,
        attempts: 3,
        fuel_consumed: 3 * 42,
        attempt_us: 3 * 7,
        peak_memory_bytes: 65536,
        http_requests: 3 * 2,
    };
    let yesterday = today.pred_opt().unwrap();
    let usage = store.usage_days("alice", yesterday, today).await.unwrap();
    assert_eq!(usage.len(), 1, "{usage:?}");
    assert_eq!((usage[0].day, usage[0].used), (today, expected));
    // Another tenant's jobs are not alice's, and it used nothing yet.
    assert!(
        store
            .usage_days(TENANT, today, today)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .usage_days("alice", yesterday, yesterday)
            .await
            .unwrap()
            .is_empty()
    );
    // Pruning the finished jobs and their attempts keeps the usage.
    let pruned = store.job_prune(every_finished("alice")).await.unwrap();
    assert_eq!(pruned.successful + pruned.failed + pruned.cancelled, 3);
    let usage = store.usage_days("alice", today, today).await.unwrap();
    assert_eq!(usage[0].used, expected);
}

pub async fn integers_past_every_machine_type_are_kept_digit_for_digit(store: Arc<dyn Store>) {
    let big = "123456789012345678901234567890";
    let mut new = job(0, "default");
    new.args = format!("[{big}, -18446744073709551617, 0.5, 100000000000000000000.0, 0.0000001]");
    new.kwargs = format!(r#"{{"id": {big}}}"#);
    store
        .job_insert_many(std::slice::from_ref(&new))
        .await
        .unwrap();
    let claimed = store.job_claim(claim("w", 1)).await.unwrap();
    let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
    // The canonical forms (`wasmtasks_sandbox::numbers`) come back as they went
    // in, on every dialect.
    let args = format!("[{big},-18446744073709551617,0.5,100000000000000000000.0,0.0000001]");
    assert_eq!(claimed[0].args.replace(' ', ""), args);
    assert_eq!(parse(&claimed[0].kwargs), parse(&new.kwargs));
    let returned = parse(&format!(r#"{{"total": {big}0, "parts": [{big}]}}"#));
    store
        .job_complete_many(&[completion(
            &claimed[0],
            "w",
            NextState::Successful(returned.clone()),
        )])
        .await
        .unwrap();
    let result = store.job_get(TENANT, &new.id).await.unwrap().unwrap();
    assert_eq!(result.return_value.as_ref(), Some(&returned));
    assert_eq!(serde_json::Value::Array(result.args).to_string(), args);
}

/// Every tenant's jobs per (tenant, queue, status), counted from the jobs.
async fn counted(store: &dyn Store, tenants: &[&str]) -> Vec<(String, String, TaskStatus, u64)> {
    let mut counts = std::collections::BTreeMap::new();
    for tenant in tenants {
        let listed = store
            .job_list(JobList {
                tenant: (*tenant).into(),
                limit: 1000,
                ..JobList::default()
            })
            .await
            .unwrap();
        for job in listed.jobs {
            *counts
                .entry(((*tenant).to_owned(), job.queue_name, job.status))
                .or_insert(0) += 1;
        }
    }
    counts
        .into_iter()
        .map(|((tenant, queue, status), n)| (tenant, queue, status, n))
        .collect()
}

/// The store's kept counts, in the same shape as [`counted`].
async fn kept(store: &dyn Store) -> Vec<(String, String, TaskStatus, u64)> {
    let mut stats: Vec<_> = store
        .queue_stats(None)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.tenant, s.queue_name, s.status, s.count))
        .collect();
    stats.sort();
    stats
}

pub async fn queue_counts_follow_every_change_of_a_job(store: Arc<dyn Store>) {
    let tenants = [TENANT, "tenant-2"];
    assert!(store.tenant_create("tenant-2").await.unwrap());
    let check = |step: &'static str| {
        let store = store.clone();
        async move {
            assert_eq!(
                kept(store.as_ref()).await,
                counted(store.as_ref(), &tenants).await,
                "after {step}"
            );
        }
    };
    // One statement per job: more than a PostgreSQL fold's 256 appended deltas.
    for n in 0..300 {
        let queue = if n % 3 == 0 { "emails" } else { "default" };
        store.job_insert_many(&[job(0, queue)]).await.unwrap();
    }
    store
        .job_insert_many(&(0..20).map(|_| job_of("tenant-2")).collect::<Vec<_>>())
        .await
        .unwrap();
    check("enqueueing").await;
    let claimed = store.job_claim(claim("w", 40)).await.unwrap();
    check("claiming").await;
    let completions: Vec<Completion> = claimed
        .iter()
        .enumerate()
        .filter(|(n, _)| n % 4 != 3)
        .map(|(n, claimed)| {
            let next = match n % 4 {
                0 => NextState::Successful(json!(n)),
                1 => NextState::Failed,
                _ => NextState::Retry(Duration::ZERO),
            };
            completion(claimed, "w", next)
        })
        .collect();
    store.job_complete_many(&completions).await.unwrap();
    check("completing, failing and retrying").await;
    let ready = store
        .job_list(JobList {
            tenant: TENANT.into(),
            statuses: vec![TaskStatus::Ready],
            limit: 1,
            ..JobList::default()
        })
        .await
        .unwrap();
    assert_eq!(
        store.job_cancel(TENANT, &ready.jobs[0].id).await.unwrap(),
        CancelOutcome::Cancelled
    );
    check("cancelling").await;
    let finished_last_hour = || {
        store.job_count_finished(JobCountFinished {
            tenant: TENANT.into(),
            since: Utc::now() - Age::hours(1),
            bucket: Duration::from_secs(3600),
        })
    };
    let finished_before = finished_last_hour().await.unwrap();
    let by_status: Vec<(TaskStatus, u64)> = finished_before
        .iter()
        .map(|bucket| (bucket.status, bucket.count))
        .collect();
    let ours = |kind: usize| {
        claimed
            .iter()
            .enumerate()
            .filter(|(n, job)| n % 4 == kind && job.tenant == TENANT)
            .count() as u64
    };
    assert_eq!(
        by_status,
        [
            (TaskStatus::Cancelled, 1),
            (TaskStatus::Failed, ours(1)),
            (TaskStatus::Successful, ours(0))
        ],
        "the jobs that finished, counted as they finished"
    );
    store
        .job_retry(
            TENANT,
            RetrySelection::Failed {
                component: None,
                task_name: None,
            },
        )
        .await
        .unwrap();
    check("retrying the failed jobs").await;
    let pruned = store.job_prune(every_finished(TENANT)).await.unwrap();
    assert!(pruned.successful > 0 && pruned.cancelled == 1, "{pruned:?}");
    check("pruning").await;
    let finished_after = finished_last_hour().await.unwrap();
    assert_eq!(
        finished_after, finished_before,
        "finished jobs stay counted when they are pruned or retried"
    );
    store.tenant_delete("tenant-2").await.unwrap();
    check("deleting a tenant").await;
    assert!(
        kept(store.as_ref())
            .await
            .iter()
            .all(|(tenant, ..)| tenant == TENANT),
        "a deleted tenant's counts are gone"
    );
}

pub async fn job_lists_read_a_bounded_number_of_jobs(store: Arc<dyn Store>) {
    let mut jobs: Vec<NewJob> = (0..30).map(|_| job(0, "default")).collect();
    jobs[0].queue_name = "rare".into();
    store.job_insert_many(&jobs).await.unwrap();
    let rare = |scan: u32, before_id: Option<String>| {
        let store = store.clone();
        async move {
            store
                .job_list(JobList {
                    tenant: TENANT.into(),
                    queue_name: Some("rare".into()),
                    limit: 5,
                    scan,
                    before_id,
                    ..JobList::default()
                })
                .await
                .unwrap()
        }
    };
    // The newest 10 are read, none matches: the read says where it stopped.
    let first = rare(10, None).await;
    assert!(first.jobs.is_empty());
    assert_eq!(first.scan_ended_at.as_deref(), Some(jobs[20].id.as_str()));
    let second = rare(10, first.scan_ended_at).await;
    assert!(second.jobs.is_empty());
    assert_eq!(second.scan_ended_at.as_deref(), Some(jobs[10].id.as_str()));
    // The last 10 hold the match; nothing older is left to read.
    let third = rare(10, second.scan_ended_at).await;
    let ids: Vec<&str> = third.jobs.iter().map(|job| job.id.as_str()).collect();
    assert_eq!(ids, [jobs[0].id.as_str()]);
    assert_eq!(third.scan_ended_at.as_deref(), Some(jobs[0].id.as_str()));
    assert_eq!(
        rare(10, Some(jobs[0].id.clone())).await,
        JobListed {
            jobs: Vec::new(),
            scan_ended_at: None,
        }
    );
    // A read wide enough finds it at once and has nothing left.
    let whole = rare(100, None).await;
    assert_eq!(whole.jobs.len(), 1);
    assert_eq!(whole.scan_ended_at, None);
}

/// Instantiates the conformance tests `$test…` for one dialect: `$fresh` is an
/// async fn giving a fresh, migrated store (or `None` to skip with a message).
/// The list is every `pub async fn NAME(store: Arc<dyn Store>)` of this file,
/// found by `tests/build.rs`.
macro_rules! store_conformance {
    ($dialect:ident, $fresh:path; $($test:ident),* $(,)?) => {
        mod $dialect {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some((store, _guard)) = $fresh().await else { return };
                    super::$test(store).await;
                }
            )*
        }
    };
}

/// A fresh SQLite store in its own temporary directory.
pub async fn fresh_sqlite() -> Option<(Arc<dyn Store>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.sqlite3").display());
    Some((connect(&url).await.unwrap(), dir))
}

/// A fresh PostgreSQL store in a database of its own, dropped after the test; `None`
/// (skip) when no server is reachable and `CI` is not `true`.
pub async fn fresh_postgres() -> Option<(Arc<dyn Store>, TestDatabase)> {
    let database = TestDatabase::create()?;
    Some((connect(database.url()).await.unwrap(), database))
}

include!(concat!(env!("OUT_DIR"), "/store_conformance_tests.rs"));
