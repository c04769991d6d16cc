//! `/jobs`: the tenant's jobs, newest first, filtered by status, queue, task and
//! time, a page at a time (the store's keyset cursor, never a count of them all);
//! the table refreshes itself every 2 s (htmx, while "Live" is ticked); bulk
//! retry or cancel of the filtered jobs after a confirmation step.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDateTime, Utc};
use serde::Deserialize;
use wasmtasks::service::jobs::{JobFilter, MAX_PAGE, MAX_SCAN};
use wasmtasks::service::queues::STATUSES;
use wasmtasks::store::{JobSummary, RetryOutcome, RetrySelection};
use wasmtasks::task::TaskStatus;

use super::actions::{ConfirmPage, MessagePage, require_confirm};
use super::page::{Layout, PageError, maybe_time, render, time};
use super::session::Session;
use crate::api::jobs::parse_status;
use crate::state::AppState;

/// Jobs a page shows.
const PAGE: u32 = 50;
/// The most pages a bulk action reads looking for its jobs: with a filter that
/// matches few, it acts on those among the newest `BULK_READS × MAX_SCAN` jobs.
const BULK_READS: usize = 10;

/// The filter of the jobs page, as its form sends it (empty fields are no filter).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JobsQuery {
    /// One status.
    #[serde(default)]
    status: String,
    /// One queue.
    #[serde(default)]
    queue: String,
    /// A component (`arith`) or task (`arith.add`).
    #[serde(default)]
    task: String,
    /// Enqueued at or after (UTC, `YYYY-MM-DDTHH:MM[:SS]`).
    #[serde(default)]
    since: String,
    /// Enqueued before (UTC).
    #[serde(default)]
    until: String,
    /// The last id of the previous page.
    #[serde(default)]
    cursor: String,
    /// A job id to open.
    #[serde(default)]
    id: String,
}

impl JobsQuery {
    /// The service's filter (without a page position unless `paged`).
    fn filter(&self, paged: bool, limit: u32) -> Result<JobFilter, PageError> {
        let text = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
        let when = |name: &str, value: &str| -> Result<_, PageError> {
            let Some(value) = text(value) else {
                return Ok(None);
            };
            NaiveDateTime::parse_from_str(&value, "%Y-%m-%dT%H:%M:%S")
                .or_else(|_| NaiveDateTime::parse_from_str(&value, "%Y-%m-%dT%H:%M"))
                .map(|at| Some(at.and_utc()))
                .map_err(|_| {
                    PageError::status(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!(
                            "`{name}` must be a time like 2026-12-01T14:30 (UTC), got `{value}`"
                        ),
                    )
                })
        };
        Ok(JobFilter {
            statuses: text(&self.status)
                .map(|status| parse_status(&status))
                .transpose()?
                .into_iter()
                .collect(),
            queue_name: text(&self.queue),
            task: text(&self.task),
            since: when("since", &self.since)?,
            until: when("until", &self.until)?,
            cursor: text(&self.cursor).filter(|_| paged),
            limit: Some(limit),
        })
    }

    /// The filter as query parameters (no page position), each `&`-prefixed.
    fn query_and(&self, session: &Session) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("status", &self.status),
            ("queue", &self.queue),
            ("task", &self.task),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if !value.trim().is_empty() {
                query.append_pair(name, value.trim());
            }
        }
        if session.principal.is_operator() {
            query.append_pair("tenant", session.principal.tenant());
        }
        let query = query.finish();
        if query.is_empty() {
            query
        } else {
            format!("&{query}")
        }
    }
}

/// One row of the table.
struct JobRow {
    id: String,
    task_path: String,
    status: String,
    queue_name: String,
    priority: i32,
    enqueued_at: String,
    finished_at: String,
    attempts: u32,
    last_error: String,
}

impl From<JobSummary> for JobRow {
    fn from(job: JobSummary) -> Self {
        JobRow {
            id: job.id,
            task_path: job.task_path,
            status: job.status.to_string(),
            queue_name: job.queue_name,
            priority: job.priority,
            enqueued_at: time(job.enqueued_at),
            finished_at: maybe_time(job.finished_at),
            attempts: job.attempts,
            last_error: job.last_error.unwrap_or_default(),
        }
    }
}

/// The table: the live region of the page.
#[derive(Template)]
#[template(path = "jobs_table.html")]
struct JobsTable {
    jobs: Vec<JobRow>,
    live: bool,
    refresh_url: String,
    tq: String,
    paged: bool,
    first_url: String,
    next_url: Option<String>,
    /// The page holds fewer jobs than it could though older ones remain: the
    /// filter matched none of the rest of the jobs the store read for it.
    partial: bool,
    refreshed: String,
}

/// The filter's values, as the form shows them.
struct FilterValues {
    queue: String,
    task: String,
    since: String,
    until: String,
}

/// The jobs page.
#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsPage {
    layout: Layout,
    filter: FilterValues,
    status_options: Vec<(String, bool)>,
    queue_names: Vec<String>,
    filter_query_and: String,
    table: JobsTable,
}

/// `GET /jobs`: the page, or (for htmx's refresh) only the table.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Query(query): Query<JobsQuery>,
) -> Result<Response, PageError> {
    let principal = &session.principal;
    let id = query.id.trim();
    if !id.is_empty() {
        return Ok(Redirect::to(&format!("/jobs/{id}{}", session.tenant_query())).into_response());
    }
    let paged = !query.cursor.trim().is_empty();
    let page = state
        .services
        .jobs()
        .list(principal, query.filter(true, PAGE)?)
        .await?;
    let filter_query_and = query.query_and(&session);
    let first_url = format!("/jobs?{}", filter_query_and.trim_start_matches('&'));
    let partial = page.next_cursor.is_some() && page.jobs.len() < PAGE as usize;
    let table = JobsTable {
        partial,
        jobs: page.jobs.into_iter().map(JobRow::from).collect(),
        live: !paged,
        refresh_url: first_url.clone(),
        tq: session.tenant_query(),
        paged,
        next_url: page
            .next_cursor
            .map(|cursor| format!("/jobs?cursor={cursor}{filter_query_and}")),
        first_url,
        refreshed: format!("{} UTC", Utc::now().format("%H:%M:%S")),
    };
    let mut response = if headers.contains_key("hx-request") {
        render(&table)
    } else {
        // The configured queues (counting every job's queue would cost a scan).
        let queue_names = state.services.settings().queues.keys().cloned().collect();
        let layout = Layout::new(&state, &session, "jobs", "/jobs").await?;
        render(&JobsPage {
            layout,
            filter: FilterValues {
                queue: query.queue.clone(),
                task: query.task.clone(),
                since: query.since.clone(),
                until: query.until.clone(),
            },
            status_options: STATUSES
                .iter()
                .map(|status| {
                    let selected = query.status.trim().eq_ignore_ascii_case(status.as_str());
                    (status.to_string(), selected)
                })
                .collect(),
            queue_names,
            filter_query_and,
            table,
        })
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("HX-Request"));
    Ok(response)
}

/// A bulk action: `retry` or `cancel`, and the filter it applies to.
#[derive(Debug, Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    confirm: Option<String>,
    #[serde(flatten)]
    query: JobsQuery,
}

/// What a bulk action does, and to which statuses.
fn bulk_kind(action: &str) -> Result<(&'static str, &'static [TaskStatus]), PageError> {
    match action {
        "retry" => Ok(("retry", &[TaskStatus::Failed, TaskStatus::Cancelled])),
        "cancel" => Ok(("cancel", &[TaskStatus::Ready])),
        other => Err(PageError::status(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("unknown bulk action `{other}`: use retry or cancel"),
        )),
    }
}

/// The ids of the (at most [`MAX_PAGE`]) newest filtered jobs an action applies to.
async fn bulk_targets(
    state: &AppState,
    session: &Session,
    query: &JobsQuery,
    statuses: &[TaskStatus],
) -> Result<Vec<String>, PageError> {
    let mut filter = query.filter(false, MAX_PAGE)?;
    filter.statuses = if filter.statuses.is_empty() {
        statuses.to_vec()
    } else {
        filter
            .statuses
            .into_iter()
            .filter(|status| statuses.contains(status))
            .collect()
    };
    if filter.statuses.is_empty() {
        return Ok(Vec::new());
    }
    // A filtered page reads a bounded number of jobs: follow its cursor until the
    // action has its jobs, there are no older ones, or BULK_READS pages were read.
    let mut ids = Vec::new();
    for _ in 0..BULK_READS {
        filter.limit = Some(MAX_PAGE - ids.len() as u32);
        let page = state
            .services
            .jobs()
            .list(&session.principal, filter.clone())
            .await?;
        ids.extend(page.jobs.into_iter().map(|job| job.id));
        match page.next_cursor {
            Some(cursor) if ids.len() < MAX_PAGE as usize => filter.cursor = Some(cursor),
            _ => break,
        }
    }
    Ok(ids)
}

/// `GET /jobs/bulk?action=…&<filter>`: how many jobs it would touch, and a form
/// to confirm.
pub async fn bulk_confirm(
    State(state): State<AppState>,
    session: Session,
    Query(form): Query<BulkForm>,
) -> Result<Response, PageError> {
    let (action, statuses) = bulk_kind(&form.action)?;
    let ids = bulk_targets(&state, &session, &form.query, statuses).await?;
    let back = format!(
        "/jobs?{}",
        form.query.query_and(&session).trim_start_matches('&')
    );
    let layout = Layout::new(&state, &session, "jobs", "/jobs").await?;
    let count = ids.len();
    let which = statuses
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" or ");
    let mut fields = vec![("action".to_owned(), action.to_owned())];
    for (name, value) in [
        ("status", &form.query.status),
        ("queue", &form.query.queue),
        ("task", &form.query.task),
        ("since", &form.query.since),
        ("until", &form.query.until),
    ] {
        if !value.trim().is_empty() {
            fields.push((name.to_owned(), value.trim().to_owned()));
        }
    }
    Ok(render(&ConfirmPage {
        question: format!("Really {action} {count} {which} job{}?", plural(count)),
        details: vec![format!(
            "The filter matches {count} {which} job{} (the newest {MAX_PAGE} at most, among the newest {} jobs; repeat for more).",
            plural(count),
            BULK_READS * MAX_SCAN as usize
        )],
        action: format!("/jobs/bulk{}", session.tenant_query()),
        fields,
        button: format!("Yes, {action} {count} job{}", plural(count)),
        back,
        layout,
    }))
}

/// `POST /jobs/bulk`: retries or cancels the filtered jobs.
pub async fn bulk(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<BulkForm>,
) -> Result<Response, PageError> {
    require_confirm(form.confirm.as_deref())?;
    let (action, statuses) = bulk_kind(&form.action)?;
    let ids = bulk_targets(&state, &session, &form.query, statuses).await?;
    let jobs = state.services.jobs();
    let principal = &session.principal;
    let (done, skipped) = if ids.is_empty() {
        (0, 0)
    } else if action == "retry" {
        let outcomes = jobs.retry(principal, RetrySelection::Ids(ids)).await?;
        let done = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, RetryOutcome::Retried { .. }))
            .count();
        (done, outcomes.len() - done)
    } else {
        let mut done = 0;
        let mut skipped = 0;
        for id in &ids {
            match jobs.cancel(principal, id).await {
                Ok(_) => done += 1,
                Err(error) if error.kind() == wasmtasks::service::ErrorKind::Conflict => {
                    skipped += 1
                }
                Err(error) => return Err(error.into()),
            }
        }
        (done, skipped)
    };
    let past = if action == "retry" {
        "Retried"
    } else {
        "Cancelled"
    };
    let mut lines = vec![format!("{past} {done} job{}.", plural(done))];
    if skipped > 0 {
        lines.push(format!(
            "{skipped} job{} had changed meanwhile and {} left as {}.",
            plural(skipped),
            if skipped == 1 { "was" } else { "were" },
            if skipped == 1 { "it was" } else { "they were" }
        ));
    }
    let layout = Layout::new(&state, &session, "jobs", "/jobs").await?;
    Ok(render(&MessagePage {
        title: format!("{past} {done} job{}", plural(done)),
        lines,
        secret: None,
        back: format!(
            "/jobs?{}",
            form.query.query_and(&session).trim_start_matches('&')
        ),
        back_label: "Back to the jobs".to_owned(),
        layout,
    }))
}

/// `s` unless `count` is 1.
pub fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}
