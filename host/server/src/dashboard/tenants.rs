//! `/tenants` (the operator's; anyone else gets a 404): each tenant's quotas,
//! usage over the last 30 days and tokens; creating a token (shown once) and
//! revoking one after a confirmation step.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use wasmtasks::service::tokens::{TokenInfo, TokenRequest};
use wasmtasks::tenant::Role;

use super::actions::{ConfirmPage, Confirmed, MessagePage, require_confirm};
use super::page::{Layout, PageError, maybe_time, render, time};
use super::session::Session;
use crate::state::AppState;

/// One token, as listed.
struct TokenView {
    id: String,
    name: String,
    role: String,
    created_at: String,
    expires: String,
    state: &'static str,
    revocable: bool,
}

impl From<TokenInfo> for TokenView {
    fn from(token: TokenInfo) -> Self {
        let state = if token.revoked_at.is_some() {
            "revoked"
        } else if token.expires_at.is_some_and(|at| at <= chrono::Utc::now()) {
            "expired"
        } else {
            "active"
        };
        TokenView {
            revocable: state == "active",
            id: token.id,
            name: token.name,
            role: token.role.to_string(),
            created_at: time(token.created_at),
            expires: token
                .expires_at
                .map_or_else(|| "never".to_owned(), |at| maybe_time(Some(at))),
            state,
        }
    }
}

/// One tenant.
struct TenantView {
    name: String,
    created_at: String,
    quotas: Vec<(String, String)>,
    http_ceiling: Vec<String>,
    usage: Vec<(String, String)>,
    tokens: Vec<TokenView>,
}

/// The tenants page.
#[derive(Template)]
#[template(path = "tenants.html")]
struct TenantsPage {
    layout: Layout,
    tenants: Vec<TenantView>,
}

/// The fields of a serialisable value as (name, value) rows; an absent limit
/// reads "no limit".
fn rows(value: &impl serde::Serialize) -> Vec<(String, String)> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(fields)) => fields
            .into_iter()
            .map(|(name, value)| {
                let value = match value {
                    serde_json::Value::Null => "no limit".to_owned(),
                    other => other.to_string(),
                };
                (name.replace('_', " "), value)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The operator's session, else the 404 page (the page does not exist for others).
fn operator(session: &Session) -> Result<(), PageError> {
    if session.principal.is_operator() {
        Ok(())
    } else {
        Err(PageError::not_found("no such page"))
    }
}

/// `GET /tenants`.
pub async fn page(State(state): State<AppState>, session: Session) -> Result<Response, PageError> {
    operator(&session)?;
    let principal = &session.principal;
    let services = &state.services;
    let mut tenants = Vec::new();
    for tenant in services.tenants().list(principal).await? {
        let details = services.tenants().show(principal, &tenant.name).await?;
        let usage = services
            .usage()
            .report(&principal.within(tenant.name.clone()), None, None)
            .await?;
        tenants.push(TenantView {
            created_at: time(tenant.created_at),
            quotas: rows(&tenant.quotas),
            http_ceiling: tenant
                .http_ceiling
                .iter()
                .map(ToString::to_string)
                .collect(),
            usage: rows(&usage.total),
            tokens: details.tokens.into_iter().map(TokenView::from).collect(),
            name: tenant.name,
        });
    }
    let layout = Layout::new(&state, &session, "tenants", "/tenants").await?;
    Ok(render(&TenantsPage { layout, tenants }))
}

/// The form creating a token.
#[derive(Debug, Deserialize)]
pub struct NewToken {
    #[serde(default)]
    name: String,
    role: Role,
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /tenants/{name}/tokens`: creates a token and shows it, this once.
pub async fn create_token(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Form(form): Form<NewToken>,
) -> Result<Response, PageError> {
    operator(&session)?;
    require_confirm(form.confirm.as_deref())?;
    let created = state
        .services
        .tokens()
        .create(
            &session.principal,
            TokenRequest {
                tenant: Some(tenant.clone()),
                role: form.role,
                name: form.name,
                expires_in_seconds: None,
            },
        )
        .await?;
    let layout = Layout::new(&state, &session, "tenants", "/tenants").await?;
    let mut response = render(&MessagePage {
        title: format!("New {} token of {tenant}", created.info.role),
        lines: vec![format!(
            "Token {} ({}) acts for tenant {tenant} as {}.",
            created.info.id,
            if created.info.name.is_empty() {
                "no name"
            } else {
                &created.info.name
            },
            created.info.role
        )],
        secret: Some(created.token),
        back: format!("/tenants{}", layout.tq),
        back_label: "Back to the tenants".to_owned(),
        layout,
    });
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `GET /tenants/{name}/tokens/{id}/revoke`: asks.
pub async fn confirm_revoke(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    operator(&session)?;
    let layout = Layout::new(&state, &session, "tenants", "/tenants").await?;
    Ok(render(&ConfirmPage {
        question: format!("Really revoke token {id} of {tenant}?"),
        details: vec![
            "Every request with it is refused from now on; this cannot be undone.".to_owned(),
        ],
        action: format!("/tenants/{tenant}/tokens/{id}/revoke{}", layout.tq),
        fields: Vec::new(),
        button: "Yes, revoke it".to_owned(),
        back: format!("/tenants{}", layout.tq),
        layout,
    }))
}

/// `POST /tenants/{name}/tokens/{id}/revoke`: revokes, then shows the tenants.
pub async fn revoke(
    State(state): State<AppState>,
    session: Session,
    Path((_tenant, id)): Path<(String, String)>,
    Form(form): Form<Confirmed>,
) -> Result<Response, PageError> {
    operator(&session)?;
    require_confirm(form.confirm.as_deref())?;
    state
        .services
        .tokens()
        .revoke(&session.principal, &id)
        .await?;
    Ok(Redirect::to(&format!("/tenants{}", session.tenant_query())).into_response())
}
