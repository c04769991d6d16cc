//! The JSON API under `/api/v1`: one module per concern, each registering its
//! handlers and their OpenAPI paths together (utoipa-axum), so the document
//! cannot drift from the routes.

pub mod components;
pub mod events;
pub mod jobs;
pub mod queues;
pub mod schedules;
pub mod tenants;
pub mod tokens;
pub mod types;
pub mod usage;
pub mod workers;

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
        (name = "queues", description = "Counts and lag, pause and resume"),
        (name = "schedules", description = "Periodic jobs"),
        (name = "tenants", description = "Tenants (operator)"),
        (name = "tokens", description = "API tokens"),
        (name = "usage", description = "What the tenant used, per day"),
        (name = "workers", description = "Workers and what they run"),
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

/// Documents, on every operation, the problems any request may get: a malformed
/// or refused request, a missing or bad token, a role that may not, an unknown
/// id or route, a body too large or of the wrong type, and the server's own
/// failures. An operation's own description of one of them is kept.
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        const COMMON: [(&str, &str); 9] = [
            (
                "400",
                "A malformed request: bad JSON, text that is not UTF-8, a bad path",
            ),
            (
                "401",
                "No token, or one that is unknown, revoked or expired",
            ),
            ("403", "The token's role may not do this"),
            ("404", "No such thing (another tenant's answers the same)"),
            ("413", "The body is larger than allowed"),
            ("415", "The body is not of a type this operation takes"),
            ("422", "The request breaks a rule; nothing was stored"),
            ("500", "The server failed"),
            ("503", "The database is not reachable now"),
        ];
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                for (status, description) in COMMON {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| {
                            ResponseBuilder::new()
                                .description(description)
                                .content(
                                    "application/problem+json",
                                    ContentBuilder::new()
                                        .schema(Some(Ref::from_schema_name("Problem")))
                                        .build(),
                                )
                                .into()
                        });
                }
            }
        }
    }
}

/// Completes the document the routes gave: the problems every operation may answer.
pub fn complete(document: &mut utoipa::openapi::OpenApi) {
    ProblemResponses.modify(document);
}

/// Every route of `/api/v1`, with the OpenAPI document describing them (to be
/// [`complete`]d).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest(
        "/api/v1",
        OpenApiRouter::new()
            .merge(jobs::router())
            .merge(events::router())
            .merge(components::router())
            .merge(queues::router())
            .merge(schedules::router())
            .merge(tenants::router())
            .merge(tokens::router())
            .merge(usage::router())
            .merge(workers::router()),
    )
}
