//! The OpenAPI 3.1 description of the REST API: the paths and schemas
//! come from the router itself (`api::routes`, built with `utoipa-axum`'s
//! `routes!` from each handler's `#[utoipa::path]`); this module adds what
//! belongs to the document as a whole — title, tags, security schemes.

use std::sync::Arc;

use axum::http::header;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "isx API", description = "Threat-intelligence information sharing and exchange. Authenticate with `Authorization: Bearer isx_<key id>_<secret>` (or HTTP Basic: key id / secret). Errors are RFC 9457 problem bodies."),
    tags(
        (name = "members", description = "Member organisations, their constituencies and web users"),
        (name = "keys", description = "API keys"),
        (name = "groups", description = "Trust groups"),
        (name = "partnership", description = "Contributions to trust groups: incidents, sightings, indicators, mitigations, analyses; discussion, sharing approvals, rules, reporting, dashboards"),
        (name = "advisories", description = "Advance vulnerability notices: releases, advisories, tables, CSAF"),
        (name = "urls", description = "Malicious URLs: import, search, statistics, signed 3-hourly feed files"),
        (name = "cleanfiles", description = "Clean file metadata: known-good hashes, single and bulk lookups (also CIRCL hashlookup-compatible at /lookup, /bulk, /info), deltas, full set and Bloom filter"),
        (name = "botnet", description = "Botnet feeds tailored to each constituency: streaming ingest, events, live stream (SSE), hourly/daily batches, firewall lists, RPZ"),
        (name = "misp", description = "The member's MISP feed: the products it may see as MISP events (manifest.json, hashes.csv, {uuid}.json)"),
        (name = "operations", description = "Health, audit log"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        {
            let c = openapi
                .components
                .get_or_insert_with(utoipa::openapi::Components::new);
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

/// The whole document as JSON text: the router's paths and schemas under
/// this module's title, tags and security schemes.
pub fn document(from_routes: utoipa::openapi::OpenApi) -> String {
    let mut doc = ApiDoc::openapi();
    doc.merge(from_routes);
    Security.modify(&mut doc);
    doc.to_pretty_json().unwrap_or_else(|_| "{}".to_owned())
}

/// `GET /api/openapi.json`: the document rendered once at start-up.
pub fn handler(json: Arc<String>) -> axum::routing::MethodRouter<crate::AppState> {
    axum::routing::get(move || {
        let json = json.clone();
        async move {
            (
                [(header::CONTENT_TYPE, "application/json")],
                json.as_str().to_owned(),
            )
        }
    })
}
