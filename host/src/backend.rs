//! The three backends of Django's `django.tasks`, behind one interface:
//!
//! - `immediate`: runs the task now, in this process, and returns it finished;
//! - `dummy`: stores the result in memory and never runs it (for testing code that
//!   enqueues);
//! - `database`: inserts the job into the SQL queue for workers to run.
//!
//! All three validate a request the same way ([`crate::enqueue::prepare`]), so a
//! request the database backend would refuse is refused by the others too.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use chrono::Utc;

use crate::capabilities;
use crate::config::Settings;
use crate::enqueue::{EnqueueError, EnqueueRequest, Preparer};
use crate::immediate::run_job;
use crate::registry::{Registry, RegistryError};
use crate::store::{NewJob, StoreError, postgres};
use crate::task::TaskResult;

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

/// Why a result could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ResultError {
    /// No result with that id.
    #[error("no task result with id `{0}`")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The application's handle on tasks: enqueue, and read results back.
#[derive(Debug)]
pub struct TaskBackend {
    kind: BackendKind,
    registry: Arc<Registry>,
    settings: Arc<Settings>,
    /// Results of the in-memory backends (`immediate`, `dummy`).
    results: Mutex<HashMap<String, TaskResult>>,
    worker_id: String,
}

impl TaskBackend {
    /// A backend of `kind` over `registry`, configured by `settings`.
    pub fn new(kind: BackendKind, registry: Arc<Registry>, settings: Arc<Settings>) -> Self {
        TaskBackend {
            kind,
            registry,
            settings,
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
    pub async fn enqueue(&self, request: EnqueueRequest) -> Result<TaskResult, EnqueueError> {
        let mut preparer = self.preparer();
        let job = preparer.prepare(request).await?;
        Ok(self.accept(vec![job]).await?.remove(0))
    }

    /// Validates every request, then enqueues them all at once (one statement on the
    /// database backend); if any request is refused, none is enqueued.
    pub async fn enqueue_many(
        &self,
        requests: Vec<EnqueueRequest>,
    ) -> Result<Vec<String>, EnqueueError> {
        let mut preparer = self.preparer();
        let mut jobs = Vec::with_capacity(requests.len());
        for (index, request) in requests.into_iter().enumerate() {
            let job = preparer.prepare(request).await.map_err(|error| {
                EnqueueError::Invalid(format!("request {}: {error}", index + 1))
            })?;
            jobs.push(job);
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
    ) -> Result<TaskResult, EnqueueError> {
        let dialect = self.registry.store().dialect();
        if self.kind != BackendKind::Database || dialect != "postgres" {
            return Err(EnqueueError::NotTransactional(format!(
                "the {} backend on {dialect}",
                self.kind.as_str()
            )));
        }
        let job = self.preparer().prepare(request).await?;
        postgres::insert_jobs(connection, std::slice::from_ref(&job))
            .await
            .map_err(RegistryError::from)?;
        Ok(TaskResult::ready(&job, Utc::now()))
    }

    fn preparer(&self) -> Preparer<'_> {
        Preparer::new(
            &self.registry,
            &self.settings,
            &self.settings.tenant,
            self.kind.as_str(),
        )
    }

    /// Hands validated jobs to this backend: insert, remember, or run now.
    async fn accept(&self, jobs: Vec<NewJob>) -> Result<Vec<TaskResult>, RegistryError> {
        let now = Utc::now();
        match self.kind {
            BackendKind::Database => {
                self.registry.store().job_insert_many(&jobs).await?;
                Ok(jobs.iter().map(|job| TaskResult::ready(job, now)).collect())
            }
            BackendKind::Dummy => Ok(jobs
                .iter()
                .map(|job| self.remember(TaskResult::ready(job, now)))
                .collect()),
            BackendKind::Immediate => {
                let mut results = Vec::with_capacity(jobs.len());
                for job in jobs {
                    let component = self.registry.load(&job.component_digest).await?;
                    let sandbox = self.registry.sandbox();
                    let capabilities = capabilities::resolve(
                        self.registry.store().as_ref(),
                        &self.settings,
                        &job.tenant,
                        &job.component,
                    )
                    .await?;
                    let result = run_job(
                        sandbox,
                        &component,
                        job,
                        self.settings.limits,
                        capabilities,
                        &self.worker_id,
                    )
                    .await?;
                    results.push(self.remember(result));
                }
                Ok(results)
            }
        }
    }

    /// The TaskResult with `id` (Django's `get_result`).
    pub async fn get_result(&self, id: &str) -> Result<TaskResult, ResultError> {
        match self.kind {
            BackendKind::Database => self
                .registry
                .store()
                .job_get(&self.settings.tenant, id)
                .await?
                .ok_or_else(|| ResultError::NotFound(id.to_owned())),
            BackendKind::Dummy | BackendKind::Immediate => self
                .lock_results()
                .get(id)
                .cloned()
                .ok_or_else(|| ResultError::NotFound(id.to_owned())),
        }
    }

    /// Reloads `result` from the backend (Django's `TaskResult.refresh()`).
    pub async fn refresh(&self, result: &mut TaskResult) -> Result<(), ResultError> {
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
