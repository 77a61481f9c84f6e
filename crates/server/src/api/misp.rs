//! The member's MISP feed (`isx_app::misp`): what a MISP instance fetches
//! when it adds isx as a feed of the MISP format, with the member's API
//! key in an `Authorization` header.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use crate::auth::Caller;
use crate::problem::{ApiError, Problem};
use crate::AppState;

/// The feed's manifest: every event the caller may see under its UUID,
/// with its organisation, tags, info, date and `timestamp` (which moves
/// only when the event changes), as MISP's feed generator writes it.
#[utoipa::path(get, path = "/api/v1/feeds/misp/manifest.json", operation_id = "misp_manifest", tag = "misp", security(("api_key" = [])),
    responses((status = 200, description = "MISP feed manifest", content_type = "application/json"),
        (status = 401, body = Problem), (status = 429, body = Problem)))]
pub(crate) async fn manifest(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let events = isx_app::misp::events(&state, &caller).await?;
    Ok(Json(isx_formats::misp::manifest(&events)))
}

/// The feed's `hashes.csv`: the MD5 of every attribute value with its
/// event's UUID, one per line, for MISP's feed correlation and caching.
#[utoipa::path(get, path = "/api/v1/feeds/misp/hashes.csv", tag = "misp", security(("api_key" = [])),
    responses((status = 200, description = "md5,event-uuid lines", content_type = "text/csv"),
        (status = 401, body = Problem), (status = 429, body = Problem)))]
pub(crate) async fn hashes(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let events = isx_app::misp::events(&state, &caller).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        isx_formats::misp::hashes(&events),
    )
        .into_response())
}

/// One event of the feed in the MISP core format (`{"Event": …}`), by
/// `{uuid}.json` as the manifest names it; 404 for an event the caller
/// may not see as for one that does not exist.
#[utoipa::path(get, path = "/api/v1/feeds/misp/{event}", tag = "misp", security(("api_key" = [])),
    params(("event" = String, Path, description = "`{uuid}.json`, a UUID from the manifest")),
    responses((status = 200, description = "a MISP event", content_type = "application/json"),
        (status = 401, body = Problem), (status = 404, body = Problem), (status = 429, body = Problem)))]
pub(crate) async fn event(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let uuid = name
        .strip_suffix(".json")
        .filter(|u| u.len() == 36 && u.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
        .ok_or_else(|| ApiError::not_found("MISP event"))?;
    let e = isx_app::misp::event(&state, &caller, uuid).await?;
    Ok(Json(e.to_json()))
}
