//! The actions on one job or queue, each in two steps: a GET page that asks
//! ("Really cancel …?") with a form, and the POST that does it, which refuses a
//! request without the form's `confirm=yes` (and, as every POST, without the CSRF
//! token). GET never changes anything.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::page::{Layout, PageError, render};
use super::session::Session;
use crate::api::jobs::retry_one;
use crate::state::AppState;

/// A page asking to confirm an action.
#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    /// The frame.
    pub layout: Layout,
    /// `Really …?`
    pub question: String,
    /// What it will touch.
    pub details: Vec<String>,
    /// Where the form posts.
    pub action: String,
    /// Hidden fields the action needs.
    pub fields: Vec<(String, String)>,
    /// The button's words.
    pub button: String,
    /// Where "No" goes.
    pub back: String,
}

/// A page telling what an action did.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    /// The frame.
    pub layout: Layout,
    /// The heading.
    pub title: String,
    /// What happened.
    pub lines: Vec<String>,
    /// A secret shown this once (a new token).
    pub secret: Option<String>,
    /// Where to go next.
    pub back: String,
    /// The link's words.
    pub back_label: String,
}

/// The confirmation field of an action's form.
#[derive(Debug, Deserialize)]
pub struct Confirmed {
    /// `yes` when the form came from the confirmation page.
    #[serde(default)]
    pub confirm: Option<String>,
}

/// Refuses an action whose form did not go through its confirmation step.
pub fn require_confirm(confirm: Option<&str>) -> Result<(), PageError> {
    if confirm == Some("yes") {
        Ok(())
    } else {
        Err(PageError::status(
            StatusCode::BAD_REQUEST,
            "This action needs confirming first: use its button, which asks.",
        ))
    }
}

/// An action on a job.
fn job_action(action: &str) -> Result<(&'static str, &'static str), PageError> {
    match action {
        "cancel" => Ok((
            "cancel",
            "It will not run; only a READY job can be cancelled.",
        )),
        "retry" => Ok((
            "retry",
            "It goes back to READY with a fresh budget of attempts; its earlier attempts are kept.",
        )),
        other => Err(PageError::not_found(format!("no job action `{other}`"))),
    }
}

/// `GET /jobs/{id}/{cancel|retry}`: asks.
pub async fn confirm_job(
    State(state): State<AppState>,
    session: Session,
    Path((id, action)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (action, effect) = job_action(&action)?;
    let job = state.services.jobs().get(&session.principal, &id).await?;
    let back = format!("/jobs/{}{}", job.id, session.tenant_query());
    let layout = Layout::new(&state, &session, "jobs", format!("/jobs/{}", job.id)).await?;
    Ok(render(&ConfirmPage {
        question: format!("Really {action} job {}?", job.id),
        details: vec![
            format!(
                "{} on queue {}, now {}.",
                job.task_path, job.queue_name, job.status
            ),
            effect.to_owned(),
        ],
        action: format!("/jobs/{}/{action}{}", job.id, session.tenant_query()),
        fields: Vec::new(),
        button: format!("Yes, {action} it"),
        back,
        layout,
    }))
}

/// `POST /jobs/{id}/{cancel|retry}`: does it, then shows the job.
pub async fn do_job(
    State(state): State<AppState>,
    session: Session,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<Confirmed>,
) -> Result<Response, PageError> {
    require_confirm(form.confirm.as_deref())?;
    let (action, _) = job_action(&action)?;
    if action == "cancel" {
        state
            .services
            .jobs()
            .cancel(&session.principal, &id)
            .await?;
    } else {
        retry_one(&state, &session.principal, &id).await?;
    }
    Ok(Redirect::to(&format!("/jobs/{id}{}", session.tenant_query())).into_response())
}

/// Whether a queue action pauses.
fn queue_action(action: &str) -> Result<bool, PageError> {
    match action {
        "pause" => Ok(true),
        "resume" => Ok(false),
        other => Err(PageError::not_found(format!("no queue action `{other}`"))),
    }
}

/// `GET /queues/{name}/{pause|resume}`: asks.
pub async fn confirm_queue(
    State(state): State<AppState>,
    session: Session,
    Path((name, action)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let pause = queue_action(&action)?;
    let layout = Layout::new(&state, &session, "overview", "/").await?;
    let effect = if pause {
        "Workers claim none of its jobs until it is resumed; they stay READY."
    } else {
        "Workers claim its jobs again at once."
    };
    Ok(render(&ConfirmPage {
        question: format!("Really {action} queue {name}?"),
        details: vec![effect.to_owned()],
        action: format!("/queues/{name}/{action}{}", session.tenant_query()),
        fields: Vec::new(),
        button: format!("Yes, {action} {name}"),
        back: format!("/{}", session.tenant_query()),
        layout,
    }))
}

/// `POST /queues/{name}/{pause|resume}`: does it, then shows the overview.
pub async fn do_queue(
    State(state): State<AppState>,
    session: Session,
    Path((name, action)): Path<(String, String)>,
    Form(form): Form<Confirmed>,
) -> Result<Response, PageError> {
    require_confirm(form.confirm.as_deref())?;
    let pause = queue_action(&action)?;
    state
        .services
        .queues()
        .set_paused(&session.principal, &name, pause)
        .await?;
    Ok(Redirect::to(&format!("/{}", session.tenant_query())).into_response())
}
