//! TAXII 2.1: discovery, one API root (`/taxii2/isx/`), collections,
//! objects (GET, POST, DELETE), object, versions, manifest and status.
//!
//! Every response — errors included — has the TAXII media type; `Accept`
//! is read tolerantly (406 when it admits no TAXII 2.1 type); errors are
//! TAXII error bodies; 401 carries `WWW-Authenticate: Basic`. Paths answer
//! with and without their trailing slash (no redirects: a POST must not
//! bounce). What each caller sees comes from [`isx_app::exchange`], which asks
//! the policy function for every object.

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use isx_domain::Timestamp;
use isx_exchange::page::{Filter, VersionSel};
use isx_exchange::resources::{
    ApiRoot, Collection, Collections, Discovery, Envelope, Manifest, ManifestRecord, Status,
    StatusDetail, TaxiiError, Versions,
};
use isx_exchange::{media, taxii_timestamp};
use serde::Serialize;

use crate::audit::{noted, AuditNote};
use crate::auth::Caller;
use crate::problem::ApiError;
use crate::AppState;
use isx_app::exchange::{self, CollectionInfo, ItemsPage, Source};

/// The API root's path.
pub const ROOT: &str = "/taxii2/isx";
/// The largest request body the API root accepts (its `max_content_length`).
pub const MAX_CONTENT_LENGTH: usize = 10 * 1024 * 1024;
/// The most objects one page holds.
pub const MAX_PAGE: usize = 10_000;
/// Days a POST's status resource is kept.
pub const STATUS_DAYS: i64 = 7;
/// The most characters of a posted value a status repeats.
const ECHO_CHARS: usize = 200;

/// `text`, cut to `ECHO_CHARS` characters (with `…` when cut): a status
/// resource repeats what was posted, not megabytes of it.
fn clip(text: &str) -> String {
    match text.char_indices().nth(ECHO_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The TAXII 2.1 routes in the OpenAPI document (tag `taxii`; errors are
/// TAXII error bodies, see `openapi::Problems`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        discovery,
        api_root,
        list_collections,
        get_collection,
        get_objects,
        add_objects,
        get_object,
        delete_object,
        manifest,
        object_versions,
        status
    ),
    components(schemas(
        Discovery,
        ApiRoot,
        Collections,
        Collection,
        Envelope,
        Manifest,
        ManifestRecord,
        Versions,
        Status,
        StatusDetail,
        TaxiiError
    ))
)]
pub struct TaxiiDoc;

pub fn routes(state: AppState) -> Router<AppState> {
    let mut r = Router::new();
    // Every path with and without its trailing slash.
    for (path, route) in [
        ("/taxii2", get(discovery)),
        (ROOT, get(api_root)),
        ("/taxii2/isx/status/{sid}", get(status)),
        ("/taxii2/isx/collections", get(list_collections)),
        ("/taxii2/isx/collections/{cid}", get(get_collection)),
        ("/taxii2/isx/collections/{cid}/manifest", get(manifest)),
        (
            "/taxii2/isx/collections/{cid}/objects",
            get(get_objects).post(add_objects),
        ),
        (
            "/taxii2/isx/collections/{cid}/objects/{oid}",
            get(get_object).delete(delete_object),
        ),
        (
            "/taxii2/isx/collections/{cid}/objects/{oid}/versions",
            get(object_versions),
        ),
    ] {
        r = r
            .route(path, route.clone())
            .route(&format!("{path}/"), route);
    }
    r.layer(axum::extract::DefaultBodyLimit::max(MAX_CONTENT_LENGTH))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::audit::api_gate,
        ))
        .layer(axum::middleware::from_fn(frame))
}

/// The TAXII frame around every response: 406 for an `Accept` without a
/// TAXII 2.1 type, 413 for a declared body over `max_content_length`, the
/// TAXII media type on everything, problems turned into TAXII errors, and
/// `WWW-Authenticate: Basic` on 401.
async fn frame(req: Request, next: Next) -> Response {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    if !media::accepts_taxii(accept) {
        return error(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable",
            format!("send Accept: {}", media::TAXII),
        );
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_CONTENT_LENGTH) {
        return too_large();
    }
    let res = next.run(req).await;
    let is_taxii = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/taxii+json"));
    if is_taxii {
        return res;
    }
    let status = res.status();
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let explained = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_owned));
    let title = status.canonical_reason().unwrap_or("Error");
    // A 413 of the body limit says the limit; one a handler explained (too
    // many objects) keeps its explanation.
    let mut out = match explained {
        None if status == StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        None => error(status, title, String::from_utf8_lossy(&bytes).into_owned()),
        Some(detail) => error(status, title, detail),
    };
    for (k, v) in parts.headers.iter() {
        if k == header::RETRY_AFTER {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    if let Some(note) = parts.extensions.get::<AuditNote>() {
        out.extensions_mut().insert(note.clone());
    }
    out
}

/// The TAXII frame for `/taxii2/…` answers made outside the TAXII
/// router (a target too long, an unknown path, a method a path does not
/// take): TAXII error bodies there too (red-team pass 2026-12-07: those
/// were `application/problem+json`).
pub async fn unrouted_frame(req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/taxii2") {
        frame(req, next).await
    } else {
        next.run(req).await
    }
}

fn too_large() -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Payload Too Large",
        format!("the API root accepts at most {MAX_CONTENT_LENGTH} bytes (max_content_length)"),
    )
}

/// A TAXII error response.
fn error(status: StatusCode, title: &str, description: impl Into<String>) -> Response {
    let body = TaxiiError::new(status.as_u16(), title, description);
    let mut res = taxii(status, &body);
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"isx\", charset=\"UTF-8\""),
        );
    }
    res
}

/// A TAXII resource with its media type.
fn taxii<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(media::TAXII))],
            bytes,
        )
            .into_response(),
        Err(e) => ApiError::Internal(format!("TAXII response: {e}")).into_response(),
    }
}

fn bad_request(e: isx_exchange::ExchangeError) -> ApiError {
    ApiError::BadRequest(e.to_string())
}

/// TAXII discovery: the API roots.
#[utoipa::path(get, path = "/taxii2/", tag = "taxii", security(("basic" = []), ("api_key" = [])),
    responses((status = 200, description = "The discovery resource", content_type = "application/taxii+json;version=2.1", body = Discovery)))]
async fn discovery(State(state): State<AppState>) -> Result<Response, ApiError> {
    let body = Discovery {
        title: format!("{} TAXII 2.1", state.config.instance_name),
        description: Some(
            "Advance vulnerability notices, malicious URLs, clean file metadata and trust-group \
             exchange as STIX 2.1."
                .into(),
        ),
        contact: None,
        default: Some(format!("{}{ROOT}/", state.public_url())),
        api_roots: vec![format!("{}{ROOT}/", state.public_url())],
    };
    Ok(taxii(StatusCode::OK, &body))
}

/// The API root: TAXII versions and the most a POST may carry.
#[utoipa::path(get, path = "/taxii2/isx/", tag = "taxii", security(("basic" = []), ("api_key" = [])),
    responses((status = 200, description = "The API root", content_type = "application/taxii+json;version=2.1", body = ApiRoot)))]
async fn api_root(State(state): State<AppState>) -> Result<Response, ApiError> {
    let body = ApiRoot {
        title: state.config.instance_name.clone(),
        description: Some("The collections of this isx instance.".into()),
        versions: vec![media::TAXII.to_owned()],
        max_content_length: MAX_CONTENT_LENGTH as u64,
    };
    Ok(taxii(StatusCode::OK, &body))
}

fn collection_body(c: &CollectionInfo) -> Collection {
    Collection {
        id: c.id.clone(),
        title: c.title.clone(),
        description: Some(c.description.clone()),
        alias: Some(c.alias.clone()),
        can_read: c.can_read,
        can_write: c.can_write,
        media_types: vec![media::STIX.to_owned()],
    }
}

/// The collections the caller may read: the four products and the
/// trust groups it belongs to.
#[utoipa::path(get, path = "/taxii2/isx/collections/", tag = "taxii", security(("basic" = []), ("api_key" = [])),
    responses((status = 200, description = "The collections (`{}` when none)", content_type = "application/taxii+json;version=2.1", body = Collections)))]
async fn list_collections(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let list = exchange::collections(&state, &caller).await?;
    let body = Collections {
        collections: list.iter().map(collection_body).collect(),
    };
    Ok(taxii(StatusCode::OK, &body))
}

/// One collection: whether the caller may read and write it.
#[utoipa::path(get, path = "/taxii2/isx/collections/{cid}/", tag = "taxii", security(("basic" = []), ("api_key" = [])),
    params(("cid" = String, Path, description = "The collection's id or alias")),
    responses((status = 200, description = "The collection", content_type = "application/taxii+json;version=2.1", body = Collection)))]
async fn get_collection(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(cid): Path<String>,
) -> Result<Response, ApiError> {
    let c = exchange::collection(&state, &caller, &cid, true).await?;
    Ok(taxii(StatusCode::OK, &collection_body(&c)))
}

/// The query's pairs, as sent (names like `match[type]`).
fn query_pairs(req_query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(req_query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn filter_of(query: Option<&str>) -> Result<Filter, ApiError> {
    Filter::from_query(&query_pairs(query), MAX_PAGE).map_err(bad_request)
}

/// What `X-TAXII-Date-Added-First` and `-Last` report for a page.
#[derive(Clone, Copy)]
struct Range {
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl Range {
    /// The page's first `date_added` and its last (the end of the last
    /// entry's millisecond when the page holds all of it, so clients that
    /// keep the header to milliseconds resume exactly after the page). An
    /// empty page reports the point it was asked to start after, so a
    /// client that takes its next `added_after` from the header (Elastic's
    /// TAXII input) keeps its place instead of starting over.
    fn of(page: &ItemsPage, resume: Option<Timestamp>) -> Range {
        match page.items.first() {
            Some((first, _)) => Range {
                first: Some(first.date_added),
                last: page.date_added_last(),
            },
            None => Range {
                first: resume,
                last: resume,
            },
        }
    }
}

/// Adds `X-TAXII-Date-Added-First` and `-Last`.
fn with_range(mut res: Response, range: Range) -> Response {
    for (name, t) in [
        ("x-taxii-date-added-first", range.first),
        ("x-taxii-date-added-last", range.last),
    ] {
        if let Some(v) = t.and_then(|t| HeaderValue::from_str(&taxii_timestamp(t)).ok()) {
            res.headers_mut().insert(name, v);
        }
    }
    res
}

fn envelope((page, range): (ItemsPage, Range)) -> Response {
    // The envelope is written around the objects' JSON text (the members
    // `Envelope` would write, in its order), so stored objects are not
    // parsed and written again.
    let mut body = String::with_capacity(
        64 + page
            .items
            .iter()
            .map(|(_, o)| o.as_ref().map_or(0, |t| t.len() + 1))
            .sum::<usize>(),
    );
    let mut parts = Vec::with_capacity(3);
    if page.more {
        parts.push("\"more\":true".to_owned());
    }
    if let Some(next) = &page.next {
        parts.push(format!(
            "\"next\":{}",
            serde_json::Value::from(next.as_str())
        ));
    }
    body.push('{');
    body.push_str(&parts.join(","));
    let mut objects = page.items.into_iter().filter_map(|(_, o)| o).peekable();
    if objects.peek().is_some() {
        if !parts.is_empty() {
            body.push(',');
        }
        body.push_str("\"objects\":[");
        for (i, o) in objects.enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&o);
        }
        body.push(']');
    }
    body.push('}');
    let res = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(media::TAXII))],
        body,
    )
        .into_response();
    with_range(res, range)
}

/// What the GET handlers share: the collection (404 when the caller may
/// not read it), the filters (every version when `all_versions`), the page
/// — and, for one object, 404 when nothing of it is there to show.
async fn read_page(
    state: &AppState,
    caller: &Caller,
    cid: &str,
    query: Option<&str>,
    object: Option<&str>,
    with_objects: bool,
    all_versions: bool,
) -> Result<(ItemsPage, Range), ApiError> {
    let c = exchange::collection(state, caller, cid, false).await?;
    let mut filter = filter_of(query)?;
    if all_versions {
        filter.versions = vec![VersionSel::All];
    }
    let page = exchange::read(state, caller, &c, &filter, object, with_objects).await?;
    if let Some(oid) = object {
        // (A page that read as far as a request reads and found nothing
        // yet says `more`: not a 404, the client pages on.)
        if page.items.is_empty()
            && !page.more
            && filter.after.is_none()
            && filter.added_after.is_none()
        {
            return Err(ApiError::not_found(format!("object {oid}")));
        }
    }
    let resume = match (filter.added_after, filter.after) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let range = Range::of(&page, resume);
    Ok((page, range))
}

/// The filters and paging of a collection's objects and manifest, as the
/// OpenAPI document names them (the handlers read the query as sent:
/// `Filter::from_query`).
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // schema only
struct CollectionQuery {
    /// Only objects added to the collection after this instant (RFC 3339; `X-TAXII-Date-Added-Last` of the last page)
    #[param(format = DateTime)]
    added_after: Option<String>,
    /// Objects a page holds at most (10,000 and the default; more is read as 10,000)
    #[param(minimum = 1)]
    limit: Option<u64>,
    /// The `next` of the previous page: alone, or with the same filters
    next: Option<String>,
    /// Object ids, comma-separated
    #[serde(rename = "match[id]")]
    match_id: Option<String>,
    /// STIX types, comma-separated
    #[serde(rename = "match[type]")]
    match_type: Option<String>,
    /// `last` (default), `first`, `all` or version timestamps, comma-separated
    #[serde(rename = "match[version]")]
    match_version: Option<String>,
    /// STIX spec versions, comma-separated (default: each object's latest)
    #[serde(rename = "match[spec_version]")]
    match_spec_version: Option<String>,
}

/// `CollectionQuery` for one object: no `match[id]` or `match[type]`.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // schema only
struct ObjectQuery {
    /// Only objects added to the collection after this instant (RFC 3339; `X-TAXII-Date-Added-Last` of the last page)
    #[param(format = DateTime)]
    added_after: Option<String>,
    /// Objects a page holds at most (10,000 and the default; more is read as 10,000)
    #[param(minimum = 1)]
    limit: Option<u64>,
    /// The `next` of the previous page: alone, or with the same filters
    next: Option<String>,
    /// `last` (default), `first`, `all` or version timestamps, comma-separated
    #[serde(rename = "match[version]")]
    match_version: Option<String>,
    /// STIX spec versions, comma-separated (default: each object's latest)
    #[serde(rename = "match[spec_version]")]
    match_spec_version: Option<String>,
}

/// `ObjectQuery` for an object's versions: every version, always.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // schema only
struct VersionsQuery {
    /// Only objects added to the collection after this instant (RFC 3339; `X-TAXII-Date-Added-Last` of the last page)
    #[param(format = DateTime)]
    added_after: Option<String>,
    /// Objects a page holds at most (10,000 and the default; more is read as 10,000)
    #[param(minimum = 1)]
    limit: Option<u64>,
    /// The `next` of the previous page: alone, or with the same filters
    next: Option<String>,
    /// STIX spec versions, comma-separated (default: each object's latest)
    #[serde(rename = "match[spec_version]")]
    match_spec_version: Option<String>,
}

/// A page of the collection's objects, as the caller may see them.
#[utoipa::path(get, path = "/taxii2/isx/collections/{cid}/objects/", tag = "taxii", security(("basic" = []), ("api_key" = [])),
    params(
        ("cid" = String, Path, description = "The collection's id or alias (`urls`, `botnet`, `advisories`, `cleanfiles`, `group-N`)"),
        CollectionQuery,
    ),
    responses((status = 200, description = "An envelope (`{}` when empty)", content_type = "application/taxii+json;version=2.1", body = Envelope,
        headers(
            ("X-TAXII-Date-Added-First" = String, description = "The first object's `date_added` (an empty page: the point it started after)"),
            ("X-TAXII-Date-Added-Last" = String, description = "The last object's `date_added`, or the end of its millisecond when the page holds that millisecond whole: `added_after` at it resumes exactly after the page"),
        ))))]
async fn get_objects(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(cid): Path<String>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let page = read_page(&state, &caller, &cid, uri.query(), None, true, false).await?;
    Ok(envelope(page))
}

/// One object's versions (the last by default).
#[utoipa::path(get, path = "/taxii2/isx/collections/{cid}/objects/{oid}/", tag = "taxii", security(("basic" = []), ("api_key" = [])),
    params(
        ("cid" = String, Path, description = "The collection's id or alias"),
        ("oid" = String, Path, description = "The STIX object id"),
        ObjectQuery,
    ),
    responses((status = 200, description = "An envelope of the object's selected versions", content_type = "application/taxii+json;version=2.1", body = Envelope,
        headers(
            ("X-TAXII-Date-Added-First" = String, description = "The first object's `date_added` (an empty page: the point it started after)"),
            ("X-TAXII-Date-Added-Last" = String, description = "The last object's `date_added`, or the end of its millisecond when the page holds that millisecond whole: `added_after` at it resumes exactly after the page"),
        ))))]
async fn get_object(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((cid, oid)): Path<(String, String)>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let page = read_page(&state, &caller, &cid, uri.query(), Some(&oid), true, false).await?;
    Ok(envelope(page))
}

/// The collection's manifest: id, `date_added`, version and media type
/// of each object version the filters select.
#[utoipa::path(get, path = "/taxii2/isx/collections/{cid}/manifest/", operation_id = "taxii_manifest", tag = "taxii", security(("basic" = []), ("api_key" = [])),
    params(
        ("cid" = String, Path, description = "The collection's id or alias (`urls`, `botnet`, `advisories`, `cleanfiles`, `group-N`)"),
        CollectionQuery,
    ),
    responses((status = 200, description = "A manifest page (`{}` when empty)", content_type = "application/taxii+json;version=2.1", body = Manifest,
        headers(
            ("X-TAXII-Date-Added-First" = String, description = "The first object's `date_added` (an empty page: the point it started after)"),
            ("X-TAXII-Date-Added-Last" = String, description = "The last object's `date_added`, or the end of its millisecond when the page holds that millisecond whole: `added_after` at it resumes exactly after the page"),
        ))))]
async fn manifest(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(cid): Path<String>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let (page, range) = read_page(&state, &caller, &cid, uri.query(), None, false, false).await?;
    let body = Manifest {
        more: page.more,
        next: page.next.clone(),
        objects: page
            .items
            .iter()
            .map(|(e, _)| ManifestRecord {
                id: e.id.clone(),
                date_added: taxii_timestamp(e.date_added),
                version: taxii_timestamp(e.version),
                media_type: media::STIX.to_owned(),
            })
            .collect(),
    };
    Ok(with_range(taxii(StatusCode::OK, &body), range))
}

/// The versions of one object.
#[utoipa::path(get, path = "/taxii2/isx/collections/{cid}/objects/{oid}/versions/", tag = "taxii", security(("basic" = []), ("api_key" = [])),
    params(
        ("cid" = String, Path, description = "The collection's id or alias"),
        ("oid" = String, Path, description = "The STIX object id"),
        VersionsQuery,
    ),
    responses((status = 200, description = "A page of version timestamps", content_type = "application/taxii+json;version=2.1", body = Versions,
        headers(
            ("X-TAXII-Date-Added-First" = String, description = "The first object's `date_added` (an empty page: the point it started after)"),
            ("X-TAXII-Date-Added-Last" = String, description = "The last object's `date_added`, or the end of its millisecond when the page holds that millisecond whole: `added_after` at it resumes exactly after the page"),
        ))))]
async fn object_versions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((cid, oid)): Path<(String, String)>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let (page, range) =
        read_page(&state, &caller, &cid, uri.query(), Some(&oid), false, true).await?;
    let body = Versions {
        more: page.more,
        next: page.next.clone(),
        versions: page
            .items
            .iter()
            .map(|(e, _)| taxii_timestamp(e.version))
            .collect(),
    };
    Ok(with_range(taxii(StatusCode::OK, &body), range))
}

fn writable_group(c: &CollectionInfo) -> Result<&isx_domain::TrustGroup, ApiError> {
    match (&c.source, c.can_write) {
        (Source::Group(g), true) => Ok(g),
        _ => Err(ApiError::Forbidden(format!(
            "collection {} is not writable for this key",
            c.alias
        ))),
    }
}

/// The free-text properties of a STIX object that people write.
const FREE_TEXT: [&str; 5] = ["name", "description", "content", "abstract", "explanation"];

/// The PII review of a posted object, as for REST contributions: every
/// finding in its free text must be listed in `x_isx_pii_keep` (kept
/// knowingly; the list itself is not stored), or the object is refused with
/// the findings. TAXII has no redaction: the poster removes the data.
fn review_pii(object: &mut serde_json::Value, id: &str) -> Result<(), String> {
    let Some(map) = object.as_object_mut() else {
        return Ok(());
    };
    let keep: Vec<String> = match map.remove("x_isx_pii_keep") {
        None => Vec::new(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                format!("{id}: x_isx_pii_keep is a list of the finding texts to keep")
            })?,
        Some(_) => {
            return Err(format!(
                "{id}: x_isx_pii_keep is a list of the finding texts to keep"
            ))
        }
    };
    let texts: Vec<&str> = FREE_TEXT
        .iter()
        .filter_map(|k| map.get(*k).and_then(serde_json::Value::as_str))
        .collect();
    let open: Vec<String> = isx_partnership::findings_in(texts)
        .into_iter()
        .filter(|f| !keep.contains(&f.text))
        .map(|f| format!("{} {:?}", f.kind.as_str(), f.text))
        .collect();
    if open.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{id}: personal data found ({}): remove it, or list each finding's text in \
             x_isx_pii_keep to keep it knowingly",
            open.join(", ")
        ))
    }
}

/// POST an envelope: each object is checked on its own; valid ones are
/// kept (a version already held changes nothing), invalid ones are listed
/// in the status with the reason. Answered 202 with the (complete) status.
#[utoipa::path(post, path = "/taxii2/isx/collections/{cid}/objects/", tag = "taxii", security(("basic" = []), ("api_key" = [])),
    params(("cid" = String, Path, description = "A trust group's collection (`group-N`)")),
    request_body(content = Envelope, content_type = "application/taxii+json;version=2.1", description = "`{\"objects\": [STIX 2.1 objects]}`, at most 10,000 objects and 10 MiB"),
    responses(
        (status = 202, description = "The status of the post: each object kept or refused with its reason", content_type = "application/taxii+json;version=2.1", body = Status),
        (status = 403, description = "The collection is not writable for this key", content_type = "application/taxii+json;version=2.1", body = TaxiiError),
    ))]
async fn add_objects(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(cid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !media::is_taxii_content(content_type) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "send the envelope as Content-Type: {}",
            media::TAXII
        )));
    }
    let c = exchange::collection(&state, &caller, &cid, true).await?;
    let g = writable_group(&c)?;
    let envelope: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not JSON: {e}")))?;
    let objects = envelope
        .get("objects")
        .and_then(|o| o.as_array())
        .ok_or_else(|| ApiError::Validation {
            detail: "an envelope is {\"objects\": [ … ]}".into(),
            pointer: Some("/objects".into()),
        })?;
    if objects.len() > MAX_PAGE {
        return Err(ApiError::PayloadTooLarge(format!(
            "an envelope holds at most {MAX_PAGE} objects ({} posted); post the rest in further envelopes",
            objects.len()
        )));
    }
    let now = state.clock.now();
    // A member posts as itself: the operator as the instance. Only the
    // operator's administrators and staff add versions of others' objects
    // (not every key of the operator's organisation).
    let operator = caller.member.is_operator();
    let any_owner = caller.require(&isx_policy::Action::ManageContent).is_ok();
    let (identity, name) = if operator {
        (state.stix_identity_id(), state.config.instance_name.clone())
    } else {
        (
            isx_formats::partnership::member_identity(caller.member.id),
            caller.member.name.as_str().to_owned(),
        )
    };
    let poster = isx_exchange::ingest::Poster {
        identity: &identity,
        name: &name,
        named: !g.hide_members,
    };
    let refused = |o: &serde_json::Value, message: String| StatusDetail {
        id: clip(o.get("id").and_then(|v| v.as_str()).unwrap_or("")),
        version: clip(
            o.get("modified")
                .or_else(|| o.get("created"))
                .and_then(|v| v.as_str())
                .unwrap_or(""),
        ),
        // A reason quotes what it refuses: a few lines of it at most.
        message: Some(match message.char_indices().nth(4 * ECHO_CHARS) {
            Some((at, _)) => format!("{}…", &message[..at]),
            None => message,
        }),
    };
    let mut failures = Vec::new();
    let mut valid = Vec::new();
    for o in objects {
        let checked = isx_exchange::ingest::check_object(o).and_then(|head| {
            // Everything in a group's collection is readable by every
            // member: TLP:RED, for named people only, cannot go in (and
            // refusing a later post of its id would tell others it exists).
            if head.marking == Some(isx_domain::Tlp::Red) {
                return Err(format!(
                    "{}: TLP:RED is for named recipients and a trust group's collection is read \
                     by all its members; mark it TLP:AMBER+STRICT to keep it within the group",
                    head.id
                ));
            }
            // A version from the future would stay the latest whatever its
            // owner posts later: five minutes of clock skew, no more.
            if head.version.is_some_and(|v| v > now.add_secs(300)) {
                return Err(format!(
                    "{}: modified/created is in the future (more than 5 minutes ahead of the server)",
                    head.id
                ));
            }
            let mut body = o.clone();
            // Unmarked group content is TLP:AMBER, like the group, and is
            // served marked so: a reader's tool sees the marking it is
            // judged by.
            if head.marking.is_none() && head.object_type != "marking-definition" {
                if let Some(map) = body.as_object_mut() {
                    let amber = isx_formats::stix::tlp_marking_id(isx_domain::Tlp::Amber);
                    match map.get_mut("object_marking_refs").and_then(|v| v.as_array_mut()) {
                        Some(refs) => refs.push(serde_json::json!(amber)),
                        None => {
                            map.insert("object_marking_refs".into(), serde_json::json!([amber]));
                        }
                    }
                }
            }
            isx_exchange::ingest::check_authorship(&mut body, &head, &poster)?;
            review_pii(&mut body, &head.id)?;
            Ok((head, body))
        });
        match checked {
            Ok((head, body)) => valid.push(isx_store::NewExchangeObject {
                id: head.id,
                object_type: head.object_type,
                version: head.version.unwrap_or(now),
                spec_version: head.spec_version,
                // Unmarked group content is TLP:AMBER, like the group.
                marking: head.marking.unwrap_or(isx_domain::Tlp::Amber),
                body: body.to_string(),
            }),
            Err(message) => failures.push(refused(o, message)),
        }
    }
    let alias = exchange::group_alias(g);
    let added = state
        .store
        .exchange_add(&alias, caller.member.id, &valid, now, any_owner)
        .await?;
    let mut successes = Vec::with_capacity(valid.len());
    for (o, added) in valid.iter().zip(added) {
        let version = taxii_timestamp(o.version);
        let refusal = match added {
            isx_store::ExchangeAdded::NotYours => Some(format!(
                "{}: this object id belongs to the member that first posted it; only it \
                 adds versions (post your own object with a new id)",
                o.id
            )),
            isx_store::ExchangeAdded::TooManyVersions => Some(format!(
                "{}: an object keeps at most {} versions in a collection; delete old ones \
                 (DELETE …/objects/{}/?match[version]=first) before adding more",
                o.id,
                isx_store::MAX_VERSIONS,
                o.id
            )),
            isx_store::ExchangeAdded::New | isx_store::ExchangeAdded::Held => None,
        };
        match refusal {
            Some(message) => failures.push(StatusDetail {
                id: o.id.clone(),
                version,
                message: Some(message),
            }),
            None => successes.push(StatusDetail {
                id: o.id.clone(),
                version,
                message: None,
            }),
        }
    }
    let status = Status {
        id: crate::auth::random_hex32(),
        status: "complete".into(),
        request_timestamp: Some(taxii_timestamp(now)),
        total_count: objects.len() as u64,
        success_count: successes.len() as u64,
        failure_count: failures.len() as u64,
        pending_count: 0,
        successes,
        failures,
        pendings: Vec::new(),
    };
    let text =
        serde_json::to_string(&status).map_err(|e| ApiError::Internal(format!("status: {e}")))?;
    state
        .store
        .put_exchange_status(&status.id, caller.member.id, now, &text)
        .await?;
    Ok(noted(
        AuditNote::new(
            "taxii add objects",
            format!(
                "{} ({} kept, {} refused)",
                c.alias, status.success_count, status.failure_count
            ),
        ),
        taxii(StatusCode::ACCEPTED, &status),
    ))
}

/// The status of an earlier post (readable by its poster).
#[utoipa::path(get, path = "/taxii2/isx/status/{sid}/", tag = "taxii", security(("basic" = []), ("api_key" = [])),
    params(("sid" = String, Path, description = "The status id a POST answered")),
    responses((status = 200, description = "The status resource", content_type = "application/taxii+json;version=2.1", body = Status)))]
async fn status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(sid): Path<String>,
) -> Result<Response, ApiError> {
    let missing = || ApiError::not_found(format!("status {sid}"));
    let (member, body) = state
        .store
        .exchange_status(&sid)
        .await?
        .ok_or_else(missing)?;
    // A status is private to the member that posted.
    if !isx_app::records::may_see(&state, &caller, &isx_app::records::member(member)) {
        return Err(missing());
    }
    let value: serde_json::Value = serde_json::from_str(&body)
        .map_err(|e| ApiError::Internal(format!("stored status: {e}")))?;
    Ok(taxii(StatusCode::OK, &value))
}

/// DELETE an object (the versions `match[version]` selects, every version
/// by default) from a trust group's collection: its owners may delete any
/// object, contributors their own.
#[utoipa::path(delete, path = "/taxii2/isx/collections/{cid}/objects/{oid}/", tag = "taxii", security(("basic" = []), ("api_key" = [])),
    params(
        ("cid" = String, Path, description = "A trust group's collection (`group-N`)"),
        ("oid" = String, Path, description = "The STIX object id"),
        ("match[version]" = Option<String>, Query, description = "`all` (default), `first`, `last` or version timestamps"),
        ("match[spec_version]" = Option<String>, Query, description = "STIX spec versions, comma-separated"),
    ),
    responses(
        (status = 200, description = "Deleted (an empty body)"),
        (status = 403, description = "Not yours to delete, or the collection is not writable", content_type = "application/taxii+json;version=2.1", body = TaxiiError),
    ))]
async fn delete_object(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((cid, oid)): Path<(String, String)>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let c = exchange::collection(&state, &caller, &cid, true).await?;
    let g = writable_group(&c)?.clone();
    let mut filter = filter_of(uri.query())?;
    let pairs = query_pairs(uri.query());
    if !pairs.iter().any(|(k, _)| k == "match[version]") {
        filter.versions = vec![VersionSel::All];
    }
    filter.limit = usize::MAX;
    let page = exchange::read(&state, &caller, &c, &filter, Some(&oid), false).await?;
    if page.items.is_empty() {
        return Err(ApiError::not_found(format!("object {oid}")));
    }
    let owner = c.role == Some(isx_domain::GroupRole::Owner);
    let alias = exchange::group_alias(&g);
    let entries = state
        .store
        .exchange_versions_of(&alias, std::slice::from_ref(&oid))
        .await?;
    let versions: Vec<Timestamp> = page.items.iter().map(|(e, _)| e.version).collect();
    let foreign = entries
        .iter()
        .any(|e| versions.contains(&e.version) && e.author != caller.member.id);
    if foreign && !owner {
        return Err(ApiError::Forbidden(
            "only the group's owners may delete what other members posted".into(),
        ));
    }
    let removed = state.store.exchange_delete(&alias, &oid, &versions).await?;
    Ok(noted(
        AuditNote::new(
            "taxii delete object",
            format!("{} {oid} ({removed} versions)", c.alias),
        ),
        taxii(StatusCode::OK, &serde_json::json!({})),
    ))
}
