//! The three backends of Django's `django.tasks`, behind one interface, for Rust
//! applications:
//!
//! - `immediate`: runs the task now, in this process, and returns it finished;
//! - `dummy`: keeps the result in memory and never runs it (for testing code that
//!   enqueues);
//! - `database`: enqueues the job through the service layer, for workers to run.
//!
//! All three validate a request the same way ([`crate::enqueue::Preparer`]), so a
//! request the database backend would refuse is refused by the others too. A
//! backend acts as one [`Principal`], given when it is made.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;

use tokio::sync::OnceCell;

use crate::capabilities;
use crate::enqueue::{EnqueueError, EnqueueRequest, Preparer};
use crate::immediate::run_job;
use crate::service::{ServiceError, Services};
use crate::store::{NewJob, postgres};
use crate::task::TaskResult;
use crate::tenant::Principal;

/// Which backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// Run now, in process.
    Immediate,
    /// Store in memory, never run.
    Dummy,
    /// The SQL queue.
    Database,
}

impl BackendKind {
    /// The name stored in `TaskResult.backend`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Immediate => "immediate",
            BackendKind::Dummy => "dummy",
            BackendKind::Database => "database",
        }
    }
}

impl FromStr for BackendKind {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "immediate" => Ok(BackendKind::Immediate),
            "dummy" => Ok(BackendKind::Dummy),
            "database" => Ok(BackendKind::Database),
            other => Err(format!(
                "unknown backend `{other}`: use immediate, dummy or database"
            )),
        }
    }
}

/// The application's handle on tasks: enqueue, and read results back.
#[derive(Debug)]
pub struct TaskBackend {
    kind: BackendKind,
    services: Services,
    principal: Principal,
    /// Results of the in-memory backends (`immediate`, `dummy`).
    results: Mutex<HashMap<String, TaskResult>>,
    worker_id: String,
}

impl TaskBackend {
    /// A backend of `kind` over `services`, acting as `principal`.
    pub fn new(kind: BackendKind, services: Services, principal: Principal) -> Self {
        TaskBackend {
            kind,
            services,
            principal,
            results: Mutex::new(HashMap::new()),
            worker_id: crate::worker_id::default_worker_id(),
        }
    }

    /// Which backend this is.
    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    /// Validates and enqueues one task; returns its TaskResult (READY, or finished for
    /// `immediate`).
    pub async fn enqueue(&self, request: EnqueueRequest) -> Result<TaskResult, ServiceError> {
        if self.kind == BackendKind::Database {
            // A unique job's duplicate answers with the existing job, as Django
            // has no word for it.
            let outcome = self
                .services
                .jobs()
                .enqueue(&self.principal, request)
                .await?;
            return Ok(outcome.result);
        }
        let job = self
            .preparer()
            .prepare(request)
            .await
            .map_err(ServiceError::from)?;
        Ok(self.accept(vec![job]).await?.remove(0))
    }

    /// Validates every request, then enqueues them all at once (one statement on the
    /// database backend); if any request is refused, none is enqueued.
    pub async fn enqueue_many(
        &self,
        requests: Vec<EnqueueRequest>,
    ) -> Result<Vec<String>, ServiceError> {
        if self.kind == BackendKind::Database {
            let outcome = self
                .services
                .jobs()
                .enqueue_many(&self.principal, requests)
                .await?;
            return Ok(outcome.ids);
        }
        let mut preparer = self.preparer();
        let mut jobs = Vec::with_capacity(requests.len());
        for request in requests {
            jobs.push(
                preparer
                    .prepare(request)
                    .await
                    .map_err(ServiceError::from)?,
            );
        }
        let ids = jobs.iter().map(|job| job.id.clone()).collect();
        self.accept(jobs).await?;
        Ok(ids)
    }

    /// Validates and enqueues one task inside the caller's PostgreSQL transaction
    /// (or on its connection), so the job exists only if that transaction commits:
    /// enqueue together with the data the task is about. Workers hear of it at the
    /// commit. `connection` must be on the database this backend's store uses; the
    /// component lookup runs on the store's own connections.
    ///
    /// ```no_run
    /// # async fn demo(backend: &wasmtasks::backend::TaskBackend, pool: &wasmtasks::sqlx::PgPool)
    /// # -> Result<(), Box<dyn std::error::Error>> {
    /// use wasmtasks::enqueue::EnqueueRequest;
    /// use wasmtasks::task::Arguments;
    ///
    /// let mut tx = pool.begin().await?;
    /// // … the caller's own writes on `tx` …
    /// let arguments = Arguments::from_values(serde_json::json!([2, 3]), serde_json::json!({}))?;
    /// let result = backend.enqueue_in(&mut tx, EnqueueRequest::new("arith.add", arguments)).await?;
    /// tx.commit().await?; // now the job exists
    /// # Ok(()) }
    /// ```
    pub async fn enqueue_in(
        &self,
        connection: &mut sqlx::PgConnection,
        request: EnqueueRequest,
    ) -> Result<TaskResult, ServiceError> {
        let dialect = self.services.registry().store().dialect();
        if self.kind != BackendKind::Database || dialect != "postgres" {
            return Err(ServiceError::from(EnqueueError::NotTransactional(format!(
                "the {} backend on {dialect}",
                self.kind.as_str()
            ))));
        }
        let job = self
            .preparer()
            .prepare(request)
            .await
            .map_err(ServiceError::from)?;
        let duplicates = postgres::insert_jobs(connection, std::slice::from_ref(&job)).await?;
        match duplicates.into_iter().next() {
            None => Ok(TaskResult::ready(&job)),
            Some(duplicate) => {
                self.services
                    .jobs()
                    .get(&self.principal, &duplicate.existing)
                    .await
            }
        }
    }

    fn preparer(&self) -> Preparer<'_> {
        Preparer::new(
            self.services.registry(),
            self.services.settings(),
            self.principal.tenant(),
            self.kind.as_str(),
        )
    }

    /// Hands validated jobs to an in-memory backend: remember, or run now.
    async fn accept(&self, jobs: Vec<NewJob>) -> Result<Vec<TaskResult>, ServiceError> {
        if self.kind == BackendKind::Dummy {
            return Ok(jobs
                .iter()
                .map(|job| self.remember(TaskResult::ready(job)))
                .collect());
        }
        let registry = self.services.registry();
        let settings = self.services.settings();
        let mut results = Vec::with_capacity(jobs.len());
        for job in jobs {
            let capabilities = OnceCell::new();
            let prepared = match registry.load(&job.component_digest).await {
                Ok(component) => {
                    let resolved = capabilities
                        .get_or_try_init(|| {
                            capabilities::resolve(
                                registry.store().as_ref(),
                                settings,
                                &job.tenant,
                                &job.component,
                            )
                        })
                        .await?;
                    Ok((component, resolved.clone()))
                }
                Err(error) => Err(format!(
                    "cannot load component {}: {error}",
                    job.component_digest
                )),
            };
            let result = run_job(
                registry.sandbox(),
                prepared,
                job,
                settings.limits,
                &self.worker_id,
            )
            .await;
            results.push(self.remember(result));
        }
        Ok(results)
    }

    /// The TaskResult with `id` (Django's `get_result`).
    pub async fn get_result(&self, id: &str) -> Result<TaskResult, ServiceError> {
        match self.kind {
            BackendKind::Database => self.services.jobs().get(&self.principal, id).await,
            BackendKind::Dummy | BackendKind::Immediate => self
                .lock_results()
                .get(id)
                .cloned()
                .ok_or_else(|| ServiceError::NotFound(format!("no task result with id `{id}`"))),
        }
    }

    /// Reloads `result` from the backend (Django's `TaskResult.refresh()`).
    pub async fn refresh(&self, result: &mut TaskResult) -> Result<(), ServiceError> {
        *result = self.get_result(&result.id).await?;
        Ok(())
    }

    /// Every result the in-memory backends hold (Django's `DummyBackend.results`).
    pub fn results(&self) -> Vec<TaskResult> {
        let mut results: Vec<TaskResult> = self.lock_results().values().cloned().collect();
        results.sort_by(|a, b| a.id.cmp(&b.id));
        results
    }

    fn remember(&self, result: TaskResult) -> TaskResult {
        self.lock_results()
            .insert(result.id.clone(), result.clone());
        result
    }

    fn lock_results(&self) -> std::sync::MutexGuard<'_, HashMap<String, TaskResult>> {
        self.results
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
