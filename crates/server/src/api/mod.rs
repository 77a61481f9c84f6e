//! The REST API, v1. Every endpoint is described for OpenAPI where it is
//! defined (`#[utoipa::path]`); `/api/openapi.json` is generated from these.

pub(crate) mod advisories;
pub(crate) mod botnet;
mod certs;
pub(crate) mod cleanfiles;
pub mod dto;
pub(crate) mod exchange;
mod groups;
mod keys;
mod members;
pub(crate) mod misp;
pub(crate) mod partnership;
mod schema;
pub(crate) mod urls;
pub(crate) mod wire;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::get;
use axum::{Extension, Json};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

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

/// Every endpoint of the REST API. An endpoint described for OpenAPI is
/// registered with `routes!`, which takes its path and methods from the
/// handler's `#[utoipa::path]`: the router and `/api/openapi.json` are
/// made from the same list, so neither can miss a route the other has.
/// Plain `route` marks what is deliberately left out of the description:
/// the CIRCL hashlookup-compatible API (its own published contract), the
/// SHA-256 shortcut of the generic lookup and `/metrics`. The CSAF
/// provider's files are [`crate::csaf`]'s, described by its own standard.
pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    let state_for_exchange = state.clone();
    let attachment_limit = DefaultBodyLimit::max(isx_partnership::governance::MAX_ATTACHMENT + 1);
    let bulk_limit = DefaultBodyLimit::max(cleanfiles::MAX_BULK * 72 + 4096);
    let v1 = OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(members::get_recipients, members::put_recipients))
        .routes(routes!(list_members, create_member))
        .routes(routes!(get_member))
        .routes(routes!(list_keys, create_key))
        .routes(routes!(revoke_key))
        .routes(routes!(certs::list_certificates, certs::issue_certificate))
        .routes(routes!(certs::revoke_certificate))
        .routes(routes!(list_users, create_user))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(end_sessions))
        .routes(routes!(members::reset_second_factor))
        .routes(routes!(list_groups, create_group))
        .routes(routes!(get_group))
        .routes(routes!(list_group_members, join_group))
        .routes(routes!(remove_group_member))
        .routes(routes!(
            partnership::list_contributions,
            partnership::create_contribution
        ))
        .routes(routes!(partnership::get_rules, partnership::put_rules))
        .routes(routes!(partnership::reporting))
        .routes(routes!(partnership::group_dashboard))
        .routes(routes!(partnership::dashboard))
        .routes(routes!(
            partnership::get_contribution,
            partnership::edit_contribution
        ))
        .routes(routes!(partnership::contribution_versions))
        .routes(routes!(partnership::create_comment))
        .routes(routes!(partnership::attach).layer(attachment_limit))
        .routes(
            routes!(partnership::import_misp)
                .layer(DefaultBodyLimit::max(partnership::MAX_MISP_IMPORT)),
        )
        .routes(routes!(partnership::download_attachment))
        .routes(routes!(partnership::request_share))
        .routes(routes!(partnership::list_shares))
        .routes(routes!(partnership::approve_share))
        .routes(routes!(partnership::reject_share))
        .routes(routes!(partnership::pii_check))
        .routes(routes!(audit_log))
        .routes(routes!(list_releases, create_release))
        .routes(routes!(get_release, change_release))
        .routes(routes!(release_table))
        .routes(routes!(import_advisories))
        .routes(
            routes!(advisories::import_epss)
                .layer(DefaultBodyLimit::max(advisories::MAX_EPSS_UPLOAD)),
        )
        .routes(routes!(advisories::advisory_epss))
        .routes(routes!(search_advisories))
        .routes(routes!(get_advisory))
        .routes(routes!(advisory_csaf))
        .routes(routes!(list_notifications))
        .routes(routes!(put_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(rolie_feed))
        .routes(routes!(search_urls, import_urls))
        .routes(routes!(url_stats))
        .routes(routes!(get_url))
        .routes(routes!(url_manifest))
        .routes(routes!(download_url_file))
        .routes(routes!(botnet::list_events, botnet::ingest_events))
        .routes(routes!(botnet::stream))
        .routes(routes!(botnet::summary))
        .routes(routes!(botnet::manifest))
        .routes(routes!(botnet::download))
        .routes(routes!(misp::manifest))
        .routes(routes!(misp::hashes))
        .routes(routes!(misp::event))
        .routes(routes!(cleanfiles::import))
        .routes(routes!(cleanfiles::lookup_bulk).layer(bulk_limit))
        .routes(routes!(cleanfiles::stats))
        .routes(routes!(cleanfiles::lookup_sha256, cleanfiles::remove))
        .routes(routes!(cleanfiles::lookup_one))
        .routes(routes!(cleanfiles::manifest))
        .routes(routes!(cleanfiles::download))
        .routes(routes!(cleanfiles::hashlookup_one))
        .routes(routes!(cleanfiles::hashlookup_bulk).layer(bulk_limit))
        .routes(routes!(cleanfiles::hashlookup_info))
        .route("/parents/{sha1}", get(cleanfiles::hashlookup_parents))
        .routes(routes!(cleanfiles::hashlookup_parents))
        .route("/children/{sha1}", get(cleanfiles::hashlookup_children))
        .routes(routes!(cleanfiles::hashlookup_children))
        .routes(routes!(cleanfiles::hashlookup_top))
        .routes(routes!(cleanfiles::hashlookup_session_create))
        .routes(routes!(cleanfiles::hashlookup_session_get))
        .routes(routes!(cleanfiles::hashlookup_session_matches))
        .route("/metrics", get(crate::metrics::handler))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::audit::api_gate,
        ));
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(signing_key))
        .merge(v1)
        .merge(OpenApiRouter::from(exchange::routes(state_for_exchange)))
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
#[into_params(parameter_in = Query)]
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
