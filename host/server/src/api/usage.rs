//! `/api/v1/usage`: what the tenant used, per UTC day.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wasmtasks::service::usage::UsageReport;

use crate::extract::{ApiQuery, Caller};
use crate::problem::Problem;
use crate::state::AppState;

/// The routes of usage.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report))
}

/// `GET /api/v1/usage` range.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    /// The first day, `YYYY-MM-DD` (UTC) [default: 29 days before `to`].
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<chrono::NaiveDate>,
    /// The last day, included [default: today].
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<chrono::NaiveDate>,
}

/// The tenant's usage per UTC day: jobs finished by status, attempts, fuel,
/// attempt time, peak memory and HTTP requests, kept after results are pruned.
#[utoipa::path(get, path = "/usage", tag = "usage", params(UsageQuery),
    responses(
        (status = 200, description = "The usage", body = UsageReport),
        (status = 422, description = "A bad range", body = Problem, content_type = "application/problem+json"),
    ), security(("token" = [])))]
async fn report(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiQuery(query): ApiQuery<UsageQuery>,
) -> Result<Json<UsageReport>, Problem> {
    Ok(Json(
        state
            .services
            .usage()
            .report(&principal, query.from, query.to)
            .await?,
    ))
}
