//! The OpenAPI 3.1 description of the REST API, generated from the handler
//! annotations.

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;
use crate::api::dto;
use crate::problem;

#[derive(OpenApi)]
#[openapi(
    info(title = "isx API", description = "Threat-intelligence information sharing and exchange. Authenticate with `Authorization: Bearer isx_<key id>_<secret>` (or HTTP Basic: key id / secret). Errors are RFC 9457 problem bodies."),
    paths(
        api::health, api::me, api::audit_log,
        api::list_members, api::get_member, api::create_member, api::list_users, api::create_user, api::disable_user, api::enable_user, api::end_sessions,
        api::list_keys, api::create_key, api::revoke_key,
        api::list_groups, api::get_group, api::create_group, api::list_group_members, api::join_group, api::remove_group_member,
        api::partnership::list_contributions, api::partnership::create_contribution, api::partnership::get_contribution,
        api::partnership::edit_contribution, api::partnership::contribution_versions, api::partnership::create_comment,
        api::partnership::attach, api::partnership::download_attachment, api::partnership::request_share,
        api::partnership::list_shares, api::partnership::approve_share, api::partnership::reject_share,
        api::partnership::get_rules, api::partnership::put_rules, api::partnership::reporting,
        api::partnership::group_dashboard, api::partnership::dashboard, api::partnership::pii_check,
        api::list_releases, api::get_release, api::release_table, api::search_advisories, api::get_advisory,
        api::advisory_csaf, api::create_release, api::change_release, api::import_advisories,
        api::list_notifications, api::put_webhook, api::list_deliveries, api::rolie_feed,
        api::import_urls, api::search_urls, api::get_url, api::url_stats, api::url_manifest,
        api::download_url_file, api::signing_key,
        api::botnet::ingest_events, api::botnet::list_events, api::botnet::stream, api::botnet::manifest,
        api::botnet::download, api::botnet::summary,
        api::cleanfiles::lookup_one, api::cleanfiles::lookup_bulk, api::cleanfiles::import,
        api::cleanfiles::remove, api::cleanfiles::stats, api::cleanfiles::manifest,
        api::cleanfiles::download,
    ),
    components(schemas(
        problem::Problem, problem::FieldProblem, dto::HealthDto, dto::MeDto, dto::MemberDto, dto::NewMemberRequest,
        dto::ConstituencyDto, dto::UserDto, dto::DisabledUserDto, dto::SessionsEndedDto, dto::NewUserRequest, dto::ApiKeyDto, dto::NewKeyRequest, dto::CreatedKeyDto,
        dto::GroupDto, dto::NewGroupRequest, dto::JoinRequest, dto::MembershipDto, dto::AuditEventDto,
        api::advisories::ReleaseDto, api::advisories::ReleaseDetailDto, api::advisories::AdvisoryDto,
        api::advisories::NewReleaseRequest, api::advisories::ReleaseChange, api::advisories::ImportOutcomeDto,
        api::advisories::NotificationDto, api::advisories::WebhookRequest, api::advisories::DeliveryDto,
        api::urls::UrlRecordDto, api::urls::UrlStatsDto, api::urls::ManifestDto, api::wire::ImportReportDto,
        api::botnet::BatchAck, api::wire::BotnetSummaryDto,
        api::wire::TopIpDto, api::wire::IndicatorDto, api::wire::LocatedDto,
        api::cleanfiles::LookupAnswer, api::cleanfiles::CleanImportReport,
        api::cleanfiles::CleanStatsDto,
    )),
    modifiers(&Security),
    tags(
        (name = "members", description = "Member organisations, their constituencies and web users"),
        (name = "keys", description = "API keys"),
        (name = "groups", description = "Trust groups"),
        (name = "partnership", description = "Contributions to trust groups: incidents, sightings, indicators, mitigations, analyses; discussion, sharing approvals, rules, reporting, dashboards"),
        (name = "advisories", description = "Advance vulnerability notices: releases, advisories, tables, CSAF"),
        (name = "urls", description = "Malicious URLs: import, search, statistics, signed 3-hourly feed files"),
        (name = "cleanfiles", description = "Clean file metadata: known-good hashes, single and bulk lookups (also CIRCL hashlookup-compatible at /lookup, /bulk, /info), deltas, full set and Bloom filter"),
        (name = "botnet", description = "Botnet feeds tailored to each constituency: streaming ingest, events, live stream (SSE), hourly/daily batches, firewall lists, RPZ"),
        (name = "operations", description = "Health, audit log"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "api_key",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
            c.add_security_scheme(
                "basic",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
            );
        }
    }
}

/// The OpenAPI document as JSON text.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned())
}

/// `GET /api/openapi.json`
pub async fn handler() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], openapi_json())
}
