//! `/components`: each component's tasks (signatures and defaults), versions with
//! their digests, HTTP grants and configuration keys (a secret's value is never
//! shown; only admins see the keys), and the upload form.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Request, State};
use axum::response::Response;
use wasmtasks::service::ErrorKind;
use wasmtasks::service::components::UploadRequest;
use wasmtasks::service::config::ConfigEntry;
use wasmtasks::store::ComponentVersion;

use super::actions::MessagePage;
use super::page::{Layout, PageError, bytes, render, time};
use super::session::Session;
use crate::api::components::read_upload;
use crate::state::AppState;

/// One task of a component's newest version.
struct TaskView {
    signature: String,
    queue_name: String,
    priority: i32,
    takes_context: bool,
    retry: String,
    limits: String,
}

/// One stored version.
struct VersionView {
    version: u32,
    digest: String,
    size: String,
    uploaded_at: String,
}

/// One component.
struct ComponentView {
    name: String,
    tasks: Vec<TaskView>,
    versions: Vec<VersionView>,
    grants: Vec<String>,
    /// `None` when the viewer may not see them (not an admin).
    config: Option<Vec<ConfigEntry>>,
}

/// The components page.
#[derive(Template)]
#[template(path = "components.html")]
struct ComponentsPage {
    layout: Layout,
    components: Vec<ComponentView>,
}

/// Compact JSON of a value.
fn compact(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// `GET /components`.
pub async fn page(State(state): State<AppState>, session: Session) -> Result<Response, PageError> {
    let principal = &session.principal;
    let services = &state.services;
    let mut by_name: BTreeMap<String, Vec<ComponentVersion>> = BTreeMap::new();
    for version in services.components().list(principal).await? {
        by_name
            .entry(version.name.clone())
            .or_default()
            .push(version);
    }
    let mut components = Vec::with_capacity(by_name.len());
    for (name, versions) in by_name {
        let grants = services
            .grants()
            .list(principal, &name)
            .await?
            .iter()
            .map(ToString::to_string)
            .collect();
        let config = match services.config().list(principal, &name).await {
            Ok(entries) => Some(entries),
            Err(error) if error.kind() == ErrorKind::Forbidden => None,
            Err(error) => return Err(error.into()),
        };
        let tasks = versions
            .first()
            .map(|newest| {
                newest
                    .tasks
                    .iter()
                    .map(|task| TaskView {
                        signature: task.python_signature(),
                        queue_name: task.queue_name.clone(),
                        priority: task.priority,
                        takes_context: task.takes_context,
                        retry: compact(&task.retry),
                        limits: compact(&task.limits),
                    })
                    .collect()
            })
            .unwrap_or_default();
        components.push(ComponentView {
            tasks,
            versions: versions
                .iter()
                .map(|version| VersionView {
                    version: version.version,
                    digest: version.digest.clone(),
                    size: bytes(version.size_bytes),
                    uploaded_at: time(version.uploaded_at),
                })
                .collect(),
            grants,
            config,
            name,
        });
    }
    let layout = Layout::new(&state, &session, "components", "/components").await?;
    Ok(render(&ComponentsPage { layout, components }))
}

/// `POST /components` (multipart: `component`, optional `name`): uploads through
/// the same service as the API, and tells what it stored.
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    request: Request,
) -> Result<Response, PageError> {
    let upload = read_upload(&state, request, UploadRequest::default()).await?;
    let report = state
        .services
        .components()
        .upload(&session.principal, upload)
        .await?;
    let mut lines = vec![format!(
        "{} version {} (sha256 {}){}.",
        report.name,
        report.version,
        report.digest,
        if report.created {
            ""
        } else {
            ": these bytes already were the newest version, nothing changed"
        }
    )];
    lines.extend(
        report
            .tasks
            .iter()
            .map(|task| format!("task {}.{}", report.name, task.python_signature())),
    );
    lines.extend(
        report
            .warnings
            .iter()
            .map(|warning| format!("Warning: {warning}")),
    );
    let layout = Layout::new(&state, &session, "components", "/components").await?;
    Ok(render(&MessagePage {
        title: format!("Uploaded {}", report.name),
        lines,
        secret: None,
        back: format!("/components{}", layout.tq),
        back_label: "Back to the components".to_owned(),
        layout,
    }))
}
