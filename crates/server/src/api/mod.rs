//! The REST API, v1. Every endpoint is described for OpenAPI where it is
//! defined (`#[utoipa::path]`); `/api/openapi.json` is generated from these.

pub(crate) mod advisories;
pub(crate) mod botnet;
pub(crate) mod cleanfiles;
pub mod dto;
pub(crate) mod exchange;
mod groups;
mod keys;
mod members;
pub(crate) mod partnership;
pub(crate) mod urls;
pub(crate) mod wire;

use axum::extract::State;
use axum::routing::{delete, get};
use axum::{Extension, Json, Router};

use crate::auth::Caller;
use crate::problem::ApiError;
use crate::AppState;
use dto::{AuditEventDto, HealthDto, MeDto, MemberDto};
use isx_app::records;

pub(crate) use advisories::*;
pub(crate) use groups::*;
pub(crate) use keys::*;
pub(crate) use members::*;
pub(crate) use urls::*;

pub fn routes(state: AppState) -> Router<AppState> {
    let state_for_exchange = state.clone();
    let v1 = Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/members", get(list_members).post(create_member))
        .route("/api/v1/members/{id}", get(get_member))
        .route("/api/v1/keys", get(list_keys).post(create_key))
        .route("/api/v1/keys/{key_id}", delete(revoke_key))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route(
            "/api/v1/users/{id}/disable",
            axum::routing::post(disable_user),
        )
        .route(
            "/api/v1/users/{id}/enable",
            axum::routing::post(enable_user),
        )
        .route("/api/v1/users/{id}/sessions", delete(end_sessions))
        .route("/api/v1/groups", get(list_groups).post(create_group))
        .route("/api/v1/groups/{id}", get(get_group))
        .route(
            "/api/v1/groups/{id}/members",
            get(list_group_members).post(join_group),
        )
        .route(
            "/api/v1/groups/{id}/members/{member}",
            delete(remove_group_member),
        )
        .route(
            "/api/v1/groups/{id}/contributions",
            get(partnership::list_contributions).post(partnership::create_contribution),
        )
        .route(
            "/api/v1/groups/{id}/rules",
            get(partnership::get_rules).put(partnership::put_rules),
        )
        .route("/api/v1/groups/{id}/reporting", get(partnership::reporting))
        .route(
            "/api/v1/groups/{id}/dashboard",
            get(partnership::group_dashboard),
        )
        .route("/api/v1/partnership/dashboard", get(partnership::dashboard))
        .route(
            "/api/v1/contributions/{id}",
            get(partnership::get_contribution).put(partnership::edit_contribution),
        )
        .route(
            "/api/v1/contributions/{id}/versions",
            get(partnership::contribution_versions),
        )
        .route(
            "/api/v1/contributions/{id}/comments",
            axum::routing::post(partnership::create_comment),
        )
        .route(
            "/api/v1/contributions/{id}/attachments",
            axum::routing::post(partnership::attach).layer(axum::extract::DefaultBodyLimit::max(
                isx_partnership::governance::MAX_ATTACHMENT + 1,
            )),
        )
        .route(
            "/api/v1/attachments/{id}",
            get(partnership::download_attachment),
        )
        .route(
            "/api/v1/contributions/{id}/shares",
            axum::routing::post(partnership::request_share),
        )
        .route("/api/v1/shares", get(partnership::list_shares))
        .route(
            "/api/v1/shares/{id}/approve",
            axum::routing::post(partnership::approve_share),
        )
        .route(
            "/api/v1/shares/{id}/reject",
            axum::routing::post(partnership::reject_share),
        )
        .route(
            "/api/v1/pii/check",
            axum::routing::post(partnership::pii_check),
        )
        .route("/api/v1/audit", get(audit_log))
        .route("/api/v1/releases", get(list_releases).post(create_release))
        .route(
            "/api/v1/releases/{id}",
            get(get_release).patch(change_release),
        )
        .route("/api/v1/releases/{id}/table", get(release_table))
        .route(
            "/api/v1/releases/{id}/advisories",
            axum::routing::post(import_advisories),
        )
        .route("/api/v1/advisories", get(search_advisories))
        .route("/api/v1/advisories/{cve}", get(get_advisory))
        .route("/api/v1/advisories/{cve}/csaf", get(advisory_csaf))
        .route("/api/v1/notifications", get(list_notifications))
        .route("/api/v1/webhook", axum::routing::put(put_webhook))
        .route("/api/v1/webhook-deliveries", get(list_deliveries))
        .route("/csaf/feed.json", get(rolie_feed))
        .route("/api/v1/urls", get(search_urls).post(import_urls))
        .route("/api/v1/urls/stats", get(url_stats))
        .route("/api/v1/urls/{id}", get(get_url))
        .route("/api/v1/feeds/urls", get(url_manifest))
        .route("/api/v1/feeds/urls/{name}", get(download_url_file))
        .route(
            "/api/v1/botnet/events",
            get(botnet::list_events).post(botnet::ingest_events),
        )
        .route("/api/v1/botnet/stream", get(botnet::stream))
        .route("/api/v1/botnet/summary", get(botnet::summary))
        .route("/api/v1/feeds/botnet", get(botnet::manifest))
        .route("/api/v1/feeds/botnet/{name}", get(botnet::download))
        .route(
            "/api/v1/cleanfiles",
            axum::routing::post(cleanfiles::import),
        )
        .route(
            "/api/v1/cleanfiles/lookup",
            axum::routing::post(cleanfiles::lookup_bulk).layer(
                axum::extract::DefaultBodyLimit::max(cleanfiles::MAX_BULK * 72 + 4096),
            ),
        )
        .route("/api/v1/cleanfiles/stats", get(cleanfiles::stats))
        .route(
            "/api/v1/cleanfiles/sha256/{hash}",
            get(cleanfiles::lookup_sha256).delete(cleanfiles::remove),
        )
        .route(
            "/api/v1/cleanfiles/{algorithm}/{hash}",
            get(cleanfiles::lookup_one),
        )
        .route("/api/v1/feeds/cleanfiles", get(cleanfiles::manifest))
        .route("/api/v1/feeds/cleanfiles/{name}", get(cleanfiles::download))
        .route(
            "/lookup/{algorithm}/{hash}",
            get(cleanfiles::hashlookup_one),
        )
        .route(
            "/bulk/{algorithm}",
            axum::routing::post(cleanfiles::hashlookup_bulk).layer(
                axum::extract::DefaultBodyLimit::max(cleanfiles::MAX_BULK * 72 + 4096),
            ),
        )
        .route("/info", get(cleanfiles::hashlookup_info))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::audit::api_gate,
        ));
    Router::new()
        .route("/healthz", get(health))
        .route("/metrics", get(crate::metrics::handler))
        .route("/api/v1/feeds/signing-key", get(signing_key))
        .route(
            "/.well-known/csaf/provider-metadata.json",
            get(provider_metadata),
        )
        .merge(v1)
        .merge(exchange::routes(state_for_exchange))
        .fallback(|| async { ApiError::not_found("endpoint") })
}

/// Liveness and readiness: answers 200 when the store commits a write
/// (64 KiB added and removed), 503 when it cannot (disk full, read-only,
/// unreachable) — writes recover by themselves once it can again.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = HealthDto), (status = 503, body = crate::problem::Problem)))]
pub(crate) async fn health(State(state): State<AppState>) -> Result<Json<HealthDto>, ApiError> {
    if let Err(e) = state.store.check_writable().await {
        tracing::warn!(error = %e, "health check: the store cannot write");
        return Err(ApiError::Unavailable(format!(
            "the store cannot write: {e}"
        )));
    }
    let backend = serde_json::to_value(state.store.backend())
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    Ok(Json(HealthDto {
        status: "ok".into(),
        backend,
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}

/// The member, groups and rights of the calling key.
#[utoipa::path(get, path = "/api/v1/me", tag = "members", security(("api_key" = [])),
    responses((status = 200, body = MeDto), (status = 401, body = crate::problem::Problem)))]
pub(crate) async fn me(Extension(caller): Extension<Caller>) -> Json<MeDto> {
    Json(MeDto {
        member: MemberDto::from(&caller.member),
        admin: caller.is_admin(),
        key_id: caller.key_id.as_ref().map(ToString::to_string),
        groups: caller.principal.groups().iter().map(|g| g.0).collect(),
    })
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    /// Only events of this member.
    member: Option<i64>,
    /// Only events older than this id (page backwards).
    before: Option<i64>,
    /// At most this many events (default 100, at most 1000).
    limit: Option<u32>,
}

/// The audit log, newest first (operator administrators only).
#[utoipa::path(get, path = "/api/v1/audit", tag = "operations", params(AuditParams), security(("api_key" = [])),
    responses((status = 200, body = [AuditEventDto]), (status = 404, body = crate::problem::Problem)))]
pub(crate) async fn audit_log(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Result<axum::extract::Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<AuditEventDto>>, ApiError> {
    let axum::extract::Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if !records::may_see(&state, &caller, &records::operator_data()) {
        return Err(ApiError::not_found("endpoint"));
    }
    let q = isx_store::AuditQuery {
        member: p.member.map(isx_domain::MemberId),
        before_id: p.before,
        limit: p.limit.unwrap_or(100).min(1000),
    };
    // Everything queued before this read is in the log.
    state.audit.flush().await;
    let events = state.store.audit_events(&q).await?;
    Ok(Json(events.iter().map(AuditEventDto::from).collect()))
}
