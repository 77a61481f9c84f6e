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
        (name = "hashlookup", description = "CIRCL hashlookup-compatible routes (what pyhashlookup and other hashlookup clients call): lookups, bulk, parents and children, /info, and your member's own /stats/top and sessions. Errors here are hashlookup's `{\"message\": …}`; authentication is HTTP Basic (key id, secret) or Bearer"),
        (name = "misp", description = "The member's MISP feed: the products it may see as MISP events (manifest.json, hashes.csv, {uuid}.json)"),
        (name = "csaf", description = "The CSAF 2.0 trusted provider under `/.well-known/csaf/` (provider metadata, ROLIE feeds, TLP folders with signed documents) and `/.well-known/security.txt`. The `white` folder and the metadata are public; the other folders need an API key and list what it may see"),
        (name = "taxii", description = "TAXII 2.1 (OASIS): discovery, the API root `/taxii2/isx/`, collections (the four products and your trust groups), objects with paging and filters, manifest, versions, posting to a group's collection and its status. Send `Accept: application/taxii+json;version=2.1`; every answer, errors included, is that media type, and errors are TAXII error bodies. Authentication: HTTP Basic (key id, secret), Bearer or `Token`"),
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

/// Every error is an RFC 9457 problem (`application/problem+json`), and
/// every operation can answer some of them whatever it does: 401 when it
/// needs a key, 429 when the caller's budget is spent, 400/413/415/422
/// when it reads a body, 400 when it reads parameters. This says so in
/// each operation, once, instead of in every handler's annotation.
struct Problems;

fn is_problem(c: &utoipa::openapi::Content) -> bool {
    matches!(&c.schema, Some(utoipa::openapi::RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"))
}

impl Modify for Problems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                // TAXII answers its errors as TAXII error bodies, in its
                // own media type (and 406 without it in `Accept`).
                let taxii = op
                    .tags
                    .as_ref()
                    .is_some_and(|t| t.iter().any(|t| t == "taxii"));
                let (media, schema) = if taxii {
                    (isx_exchange::media::TAXII, "TaxiiError")
                } else {
                    ("application/problem+json", "Problem")
                };
                for r in op.responses.responses.values_mut() {
                    if let RefOr::T(resp) = r {
                        let problem = resp.content.get("application/json").is_some_and(is_problem);
                        if problem {
                            if let Some(c) = resp.content.shift_remove("application/json") {
                                resp.content.insert(media.to_owned(), c);
                            }
                        }
                    }
                }
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let has_body = op.request_body.is_some();
                let mut add = |code: &str, why: &str| {
                    op.responses
                        .responses
                        .entry(code.to_owned())
                        .or_insert_with(|| {
                            RefOr::T(
                                ResponseBuilder::new()
                                    .description(why)
                                    .content(
                                        media,
                                        Content::new(Some(Ref::from_schema_name(schema))),
                                    )
                                    .build(),
                            )
                        });
                };
                if taxii {
                    add("406", "`Accept` names no TAXII 2.1 media type");
                }
                if secured {
                    add(
                        "401",
                        "no credentials, or ones that name nobody (`WWW-Authenticate` says how)",
                    );
                }
                add(
                    "429",
                    "the caller's request budget is spent (`Retry-After` says when)",
                );
                let has_path_params = op.parameters.as_ref().is_some_and(|ps| {
                    ps.iter()
                        .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Path))
                });
                if has_path_params {
                    add(
                        "404",
                        "no such resource, or one hidden from you (which reads the same)",
                    );
                }
                if has_params || has_body {
                    add("400", "a parameter or the body cannot be read");
                    add(
                        "422",
                        "a value is wrong (the problem's `pointer` says which, where it can)",
                    );
                }
                if has_body {
                    add("413", "the body is larger than this operation takes");
                    add(
                        "415",
                        "the body's media type is not one this operation reads",
                    );
                    add(
                        "422",
                        "a value in the body is wrong (the problem's `pointer` says where)",
                    );
                }
            }
        }
    }
}

/// The whole document as JSON text: the router's paths and schemas under
/// this module's title, tags and security schemes.
pub fn document(from_routes: utoipa::openapi::OpenApi) -> String {
    let mut doc = ApiDoc::openapi();
    doc.merge(from_routes);
    doc.merge(crate::api::exchange::TaxiiDoc::openapi());
    doc.merge(crate::csaf::CsafDoc::openapi());
    Security.modify(&mut doc);
    Problems.modify(&mut doc);
    let Ok(mut json) = serde_json::to_value(&doc) else {
        return "{}".to_owned();
    };
    exact(&mut json);
    serde_json::to_string_pretty(&json).unwrap_or_else(|_| "{}".to_owned())
}

/// Request enums whose variants take no other field (serde's
/// `deny_unknown_fields`, which `utoipa` states for structs only).
const CLOSED_ENUMS: [&str; 3] = ["GroupKindDto", "DetailsDto", "ShareTargetDto"];

/// Fields of a body an operation needs although the body's schema, which
/// it shares with another operation, leaves them optional: editing a
/// contribution names the version edited.
const REQUIRED_IN: [(&str, &str, &str); 1] = [("/api/v1/contributions/{id}", "put", "version")];

/// The hash algorithms of the routes that take one in their path, with
/// the length of their hex digests.
const ALGORITHMS: [(&str, usize); 3] = [("md5", 32), ("sha1", 40), ("sha256", 64)];

/// Says in the document exactly what the server takes, where `utoipa`'s
/// rendering is looser:
/// - integers carry the range of their Rust type (`u32` is 0 … 2³²−1, not
///   any `int32`), so a client is told the bounds the server checks;
/// - an optional string with a format (`date-time`) is "that format, or
///   null" (`oneOf`), which generators and validators read the same way;
/// - the closed request enums take no other field;
/// - a route with `{algorithm}` in its path is described once per
///   algorithm, its `{hash}` with that algorithm's digest length.
fn exact(doc: &mut serde_json::Value) {
    walk(doc);
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(serde_json::Value::as_object_mut)
    {
        for name in CLOSED_ENUMS {
            let variants = schemas
                .get_mut(name)
                .and_then(|s| s.get_mut("oneOf"))
                .and_then(serde_json::Value::as_array_mut);
            for v in variants.into_iter().flatten() {
                if let Some(o) = v.as_object_mut() {
                    o.insert("additionalProperties".into(), false.into());
                }
            }
        }
    }
    for (path, method, field) in REQUIRED_IN {
        let pointer = format!(
            "/paths/{}/{method}/requestBody/content",
            path.replace('/', "~1")
        );
        for (_, content) in doc
            .pointer_mut(&pointer)
            .and_then(serde_json::Value::as_object_mut)
            .into_iter()
            .flatten()
        {
            if let Some(schema) = content.get_mut("schema") {
                *schema = serde_json::json!({"allOf": [
                    schema.take(),
                    {"required": [field], "properties": {field: {"type": "integer"}}},
                ]});
            }
        }
    }
    if let Some(paths) = doc
        .get_mut("paths")
        .and_then(serde_json::Value::as_object_mut)
    {
        let by_algorithm: Vec<String> = paths
            .keys()
            .filter(|p| p.contains("{algorithm}"))
            .cloned()
            .collect();
        for path in by_algorithm {
            let Some(item) = paths.remove(&path) else {
                continue;
            };
            for (algorithm, hex) in ALGORITHMS {
                let mut item = item.clone();
                for (_, op) in item.as_object_mut().into_iter().flatten() {
                    per_algorithm(op, algorithm, hex);
                }
                // A route of its own for one algorithm keeps its description.
                let concrete = paths
                    .entry(path.replace("{algorithm}", algorithm))
                    .or_insert_with(|| serde_json::json!({}));
                if let (Some(to), Some(from)) = (concrete.as_object_mut(), item.as_object()) {
                    for (method, op) in from {
                        to.entry(method.clone()).or_insert_with(|| op.clone());
                    }
                }
            }
        }
    }
}

/// One operation of a `{algorithm}` route, for one algorithm.
fn per_algorithm(op: &mut serde_json::Value, algorithm: &str, hex: usize) {
    if let Some(id) = op.get("operationId").and_then(|v| v.as_str()) {
        let id = format!("{id}_{algorithm}");
        op["operationId"] = id.into();
    }
    if let Some(params) = op
        .get_mut("parameters")
        .and_then(serde_json::Value::as_array_mut)
    {
        params.retain(|p| p.get("name").and_then(|n| n.as_str()) != Some("algorithm"));
        for p in params {
            if p.get("name").and_then(|n| n.as_str()) == Some("hash") {
                p["schema"] = serde_json::json!({
                    "type": "string",
                    "pattern": format!("^[0-9A-Fa-f]{{{hex}}}$"),
                });
            }
        }
    }
}

/// The exact bounds of `utoipa`'s unsigned integer formats.
fn unsigned_max(format: &str) -> Option<u64> {
    Some(match format {
        "uint8" | "u-int8" => u8::MAX.into(),
        "uint16" | "u-int16" => u16::MAX.into(),
        "uint32" | "u-int32" => u32::MAX.into(),
        "uint64" | "u-int64" => u64::MAX,
        _ => return None,
    })
}

fn walk(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
        serde_json::Value::Object(o) => {
            let format = o.get("format").and_then(|f| f.as_str()).map(str::to_owned);
            if format.as_deref() == Some("date-time") && !o.contains_key("pattern") {
                // The years `isx_domain::Timestamp` holds.
                o.insert("pattern".into(), "^(19[7-9][0-9]|[2-9][0-9]{3})-".into());
            }
            if let Some(max) = format.as_deref().and_then(unsigned_max) {
                // JSON Schema has no unsigned formats: the range says it.
                o.remove("format");
                let max = o
                    .get("maximum")
                    .and_then(serde_json::Value::as_u64)
                    .map_or(max, |m| m.min(max));
                o.insert("maximum".into(), max.into());
                let min = o
                    .get("minimum")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0);
                o.insert("minimum".into(), min.into());
            }
            let nullable_string = o.get("type") == Some(&serde_json::json!(["string", "null"]))
                && ["format", "pattern", "minLength", "maxLength"]
                    .iter()
                    .any(|k| o.contains_key(*k));
            if nullable_string {
                let mut string = serde_json::Map::new();
                string.insert("type".into(), "string".into());
                for k in ["format", "pattern", "minLength", "maxLength"] {
                    if let Some(x) = o.remove(k) {
                        string.insert(k.into(), x);
                    }
                }
                o.remove("type");
                o.insert(
                    "oneOf".into(),
                    serde_json::json!([string, {"type": "null"}]),
                );
            }
            o.values_mut().for_each(walk);
        }
        _ => {}
    }
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
