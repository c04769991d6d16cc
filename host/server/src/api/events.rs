//! `/api/v1/events`: the tenant's job transitions, read from a cursor with a long
//! poll (what Django's `wasmtasks_events` command follows).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wasmtasks::store::EventPage;

use crate::extract::{ApiQuery, Caller};
use crate::problem::Problem;
use crate::state::AppState;

/// The routes of events.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read))
}

/// `GET /api/v1/events` options.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// The `cursor` of the previous answer (or of an event); from now on when absent.
    pub after: Option<String>,
    /// Wait this long for an event when there is none (`30s`; at most 5 minutes).
    pub wait: Option<String>,
    /// At most this many events (1..=1000, default 100).
    pub limit: Option<u32>,
}

/// The tenant's job transitions after a cursor, oldest first: RUNNING (an
/// attempt started), SUCCESSFUL, FAILED, CANCELLED, READY (a retry, a release).
///
/// Keep the answer's `cursor` and pass it as `after` next time: every event comes
/// once, in order; an older cursor gets events again (at least once). Events are
/// kept as long as finished results (`purge` in the configuration).
#[utoipa::path(get, path = "/events", tag = "jobs", params(EventsQuery),
    responses((status = 200, description = "The events and the cursor to read on from", body = EventPage)),
    security(("token" = [])))]
async fn read(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Json<EventPage>, Problem> {
    let wait = match &query.wait {
        None => std::time::Duration::ZERO,
        Some(wait) => humantime::parse_duration(wait).map_err(|error| {
            Problem::invalid(format!(
                "wait `{wait}` is not a duration like 30s or 500ms: {error}"
            ))
        })?,
    };
    let page = state
        .services
        .events()
        .read(
            &principal,
            query.after.as_deref(),
            wait,
            query.limit.unwrap_or(100),
        )
        .await?;
    Ok(Json(page))
}
