//! The JSON API under `/api/v1`: one module per concern, each registering its
//! handlers and their OpenAPI paths together (utoipa-axum), so the document
//! cannot drift from the routes.

pub mod components;
pub mod jobs;
pub mod queues;
pub mod tenants;
pub mod tokens;
pub mod types;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The document's fixed parts: information, the token scheme, tags.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "wasmtasks",
        description = "Django's background tasks, each run as a sandboxed WebAssembly component. \
            Every request carries a token (`Authorization: Bearer wt_…`); an operator token \
            names the tenant it acts within with `X-Wasmtasks-Tenant`. Errors are RFC 9457 \
            problem details. Another tenant's names and ids answer 404, as unknown ones do.",
        license(name = "Apache-2.0"),
    ),
    modifiers(&TokenScheme),
    tags(
        (name = "jobs", description = "Enqueue, results, lists, cancel, retry"),
        (name = "components", description = "Upload, list, show, delete"),
        (name = "config", description = "Configuration values and secrets of components"),
        (name = "grants", description = "HTTP origins granted to components"),
        (name = "queues", description = "Counts and lag"),
        (name = "tenants", description = "Tenants (operator)"),
        (name = "tokens", description = "API tokens"),
    )
)]
struct ApiDoc;

/// Adds the bearer-token security scheme.
struct TokenScheme;

impl Modify for TokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("wt_<id>_<secret>")
                    .build(),
            ),
        );
    }
}

/// Every route of `/api/v1`, with the OpenAPI document describing them.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest(
        "/api/v1",
        OpenApiRouter::new()
            .merge(jobs::router())
            .merge(components::router())
            .merge(queues::router())
            .merge(tenants::router())
            .merge(tokens::router()),
    )
}
