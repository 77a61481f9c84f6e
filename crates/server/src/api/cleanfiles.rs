//! Clean file metadata over REST: single and bulk lookups (answered from
//! the node's hash sets, metadata from the store), import and removal for
//! the operator, statistics, the signed delta/full/Bloom files, and the
//! CIRCL hashlookup-compatible endpoints (`/lookup/…`, `/bulk/…`, `/info`)
//! that existing hashlookup clients call unchanged.

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use isx_cleanfiles::{CleanFile, HashAlgo, HashValue};
use isx_formats::cleanfiles::{hashlookup_json, CleanListFormat, CleanListParser};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{noted, AuditNote};
use crate::auth::Caller;
use crate::problem::{ApiError, Problem};
use crate::AppState;

/// Hashes one bulk request may hold.
pub const MAX_BULK: usize = 1_000_000;
/// Answers written per chunk of a streamed bulk answer.
const CHUNK: usize = 10_000;

/// Clean file metadata is for every member; asking the policy function
/// keeps it the one place that says so.
fn allowed(state: &AppState, caller: &Caller) -> Result<(), ApiError> {
    if isx_app::records::may_see(state, caller, &isx_cleanfiles::cleanfile_record()) {
        Ok(())
    } else {
        Err(ApiError::not_found("clean file metadata"))
    }
}

/// What an answer repeats of a malformed input: its first 128 characters
/// (twice the longest hash), so a megabyte of garbage is not sent back.
fn echo(input: &str) -> &str {
    match input.char_indices().nth(128) {
        Some((end, _)) => input.get(..end).unwrap_or(input),
        None => input,
    }
}

fn parse_algo(name: &str) -> Result<HashAlgo, ApiError> {
    HashAlgo::from_name(name).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "{name:?} is not a hash algorithm: use md5, sha1 or sha256"
        ))
    })
}

/// The known-good files with one hash, answered like every other lookup.
async fn files_of(state: &AppState, value: HashValue) -> Result<Vec<CleanFile>, ApiError> {
    let view = state.clean.view();
    let mut answers =
        isx_app::cleanfiles::look_up(state.store.as_ref(), &view, &[Ok(value)], true).await?;
    Ok(answers.pop().flatten().map(|k| k.files).unwrap_or_default())
}

/// A known-good file, or not.
#[derive(Debug, Serialize, ToSchema)]
pub struct LookupAnswer {
    pub hash: String,
    pub algorithm: String,
    pub known: bool,
    /// The known-good files with this hash (one per SHA-256).
    #[schema(value_type = Vec<Object>)]
    pub files: Vec<CleanFile>,
}

/// Looks up one hash: 200 with the known-good file(s), 404 when the hash is
/// not in the set.
#[utoipa::path(get, path = "/api/v1/cleanfiles/{algorithm}/{hash}", tag = "cleanfiles", security(("api_key" = [])),
    params(("algorithm" = String, Path, description = "md5, sha1 or sha256", pattern = r"^(md5|sha1|sha256)$"), ("hash" = String, Path, description = "hex, either case: 32, 40 or 64 digits by the algorithm", pattern = r"^([0-9A-Fa-f]{32}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})$")),
    responses((status = 200, body = LookupAnswer), (status = 400, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn lookup_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((algo, hash)): Path<(String, String)>,
) -> Result<Json<LookupAnswer>, ApiError> {
    allowed(&state, &caller)?;
    let algo = parse_algo(&algo)?;
    let value = HashValue::parse_as(algo, &hash).map_err(|e| ApiError::Validation {
        detail: e.to_string(),
        pointer: Some("/hash".into()),
    })?;
    let files = files_of(&state, value).await?;
    if files.is_empty() {
        return Err(ApiError::not_found(format!(
            "{algo} {value} is not a known-good hash"
        )));
    }
    Ok(Json(LookupAnswer {
        hash: value.to_string(),
        algorithm: algo.as_str().to_owned(),
        known: true,
        files,
    }))
}

/// How to answer a bulk lookup.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BulkParams {
    /// `false`: known/unknown only (faster; no store reads). Default `true`.
    pub metadata: Option<bool>,
    /// `ndjson` (default), `json` or `csv`; the `Accept` header also chooses.
    #[param(pattern = r"^(ndjson|json|csv)$")]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BulkFormat {
    Ndjson,
    Json,
    Csv,
}

/// The JSON body of a bulk lookup (schema only): the hashes, or an
/// object holding them. An item that is no string is answered as a
/// malformed hash.
#[derive(utoipa::ToSchema, serde::Deserialize)]
#[serde(untagged)]
#[allow(dead_code)] // schema only
pub(crate) enum LookupBody {
    List(Vec<serde_json::Value>),
    Object(HashesBody),
}

/// `{"hashes": […]}` (schema only).
#[derive(utoipa::ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // schema only
pub(crate) struct HashesBody {
    #[schema(max_items = 1_000_000)]
    hashes: Vec<serde_json::Value>,
}

/// The hashes of a bulk request: a JSON array of strings, an object with
/// `hashes`, or text with one hash per line.
fn bulk_inputs(headers: &HeaderMap, body: &[u8]) -> Result<Vec<String>, ApiError> {
    let media = crate::extract::media_type(headers);
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first.is_none() {
        return Err(ApiError::BadRequest(
            "the body is empty: send a JSON array of hashes or one hash per line".into(),
        ));
    }
    let json = media == "application/json" || matches!(first, Some(b'[') | Some(b'{'));
    let list: Vec<String> = if json {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::BadRequest(format!("not JSON: {e}")))?;
        let arr = match v {
            Value::Array(a) => a,
            Value::Object(mut o) => match o.remove("hashes") {
                Some(Value::Array(a)) if o.is_empty() => a,
                Some(Value::Array(_)) => {
                    let extra: Vec<&String> = o.keys().collect();
                    return Err(ApiError::Validation {
                        detail: format!(
                            "unknown field(s) {extra:?}: send {{\"hashes\": [...]}} only"
                        ),
                        pointer: Some(format!("/{}", extra.first().map_or("", |k| k.as_str()))),
                    });
                }
                _ => {
                    return Err(ApiError::Validation {
                        detail: "expected an array of hashes, or an object with `hashes`".into(),
                        pointer: Some("/hashes".into()),
                    })
                }
            },
            _ => {
                return Err(ApiError::Validation {
                    detail: "expected an array of hashes".into(),
                    pointer: Some(String::new()),
                })
            }
        };
        arr.into_iter()
            .map(|v| match v {
                Value::String(s) => s,
                other => other.to_string(),
            })
            .collect()
    } else if media == "text/plain" || media.is_empty() || media == "application/octet-stream" {
        String::from_utf8_lossy(body)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    } else {
        return Err(ApiError::UnsupportedMediaType(format!(
            "content type {media:?}: send application/json or text/plain"
        )));
    };
    if list.len() > MAX_BULK {
        return Err(ApiError::PayloadTooLarge(format!(
            "{} hashes: at most {MAX_BULK} per request",
            list.len()
        )));
    }
    Ok(list)
}

/// One answer of a bulk lookup.
#[derive(Debug, Serialize)]
struct BulkAnswer<'a> {
    index: usize,
    hash: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    algorithm: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    known: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a CleanFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Looks up to 1,000,000 hashes (MD5, SHA-1 and SHA-256 mixed, told apart
/// by length) and streams one answer per hash, in the order given: NDJSON
/// by default, a JSON array or CSV on request. A malformed hash is answered
/// with an `error` at its `index` and does not fail the others.
#[utoipa::path(post, path = "/api/v1/cleanfiles/lookup", tag = "cleanfiles", security(("api_key" = [])), params(BulkParams),
    request_body(content((LookupBody = "application/json"), (crate::api::schema::HashLines = "text/plain")), description = "a JSON array of hashes, {\"hashes\": […]}, or text with one hash per line (not empty)"),
    responses((status = 200, description = "one answer per hash: {index, hash, algorithm, known, file} or {index, hash, error}"),
        (status = 400, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem)))]
pub(crate) async fn lookup_bulk(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    params: Result<Query<BulkParams>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> Result<Response, ApiError> {
    allowed(&state, &caller)?;
    let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let format = match p.format.as_deref() {
        Some("ndjson") => BulkFormat::Ndjson,
        Some("json") => BulkFormat::Json,
        Some("csv") => BulkFormat::Csv,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format {other:?}: use ndjson, json or csv"
            )))
        }
        None if accept.contains("text/csv") => BulkFormat::Csv,
        None if accept.contains("application/json") => BulkFormat::Json,
        None => BulkFormat::Ndjson,
    };
    let inputs = bulk_inputs(&headers, &body)?;
    let with_metadata = p.metadata.unwrap_or(true);
    let total = inputs.len();
    state.metrics.clean_lookups.inc_by(total as u64);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let task_state = state.clone();
    tokio::spawn(async move {
        let _ = stream_bulk(&task_state, inputs, with_metadata, format, &tx).await;
    });
    let media = match format {
        BulkFormat::Ndjson => "application/x-ndjson",
        BulkFormat::Json => "application/json",
        BulkFormat::Csv => "text/csv; charset=utf-8",
    };
    let mut res = Response::new(Body::from_stream(tokio_stream_from(rx)));
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    Ok(noted(
        AuditNote::new("cleanfiles.lookup", format!("hashes/{total}")),
        res,
    ))
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Answers `inputs` chunk by chunk into `tx` (stops when the client goes).
async fn stream_bulk(
    state: &AppState,
    inputs: Vec<String>,
    with_metadata: bool,
    format: BulkFormat,
    tx: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> Result<(), ()> {
    let view = state.clean.view();
    let mut first = true;
    if format == BulkFormat::Json {
        tx.send(Ok(Bytes::from_static(b"[")))
            .await
            .map_err(|_| ())?;
    }
    if format == BulkFormat::Csv {
        tx.send(Ok(Bytes::from_static(
            b"index,hash,algorithm,known,file_name,product,version,vendor,source,error\r\n",
        )))
        .await
        .map_err(|_| ())?;
    }
    for (c, chunk) in inputs.chunks(CHUNK).enumerate() {
        let base = c * CHUNK;
        let parsed: Vec<Result<HashValue, String>> = chunk
            .iter()
            .map(|h| HashValue::parse(h).map_err(|e| e.to_string()))
            .collect();
        let answers =
            match isx_app::cleanfiles::look_up(state.store.as_ref(), &view, &parsed, with_metadata)
                .await
            {
                Ok(a) => a,
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return Err(());
                }
            };
        let mut out = Vec::with_capacity(chunk.len() * 96);
        for (i, ((raw, p), a)) in chunk.iter().zip(&parsed).zip(&answers).enumerate() {
            let answer = match (p, a) {
                (Ok(v), Some(k)) => BulkAnswer {
                    index: base + i,
                    hash: raw.trim(),
                    algorithm: Some(v.algo().as_str()),
                    known: Some(k.known),
                    file: k.files.first(),
                    error: None,
                },
                (Err(e), _) => BulkAnswer {
                    index: base + i,
                    hash: echo(raw.trim()),
                    algorithm: None,
                    known: None,
                    file: None,
                    error: Some(e.clone()),
                },
                (Ok(_), None) => continue,
            };
            match format {
                BulkFormat::Ndjson | BulkFormat::Json => {
                    if format == BulkFormat::Json && !first {
                        out.push(b',');
                    }
                    if serde_json::to_writer(&mut out, &answer).is_err() {
                        return Err(());
                    }
                    if format == BulkFormat::Ndjson {
                        out.push(b'\n');
                    }
                }
                BulkFormat::Csv => csv_answer(&mut out, &answer),
            }
            first = false;
        }
        tx.send(Ok(Bytes::from(out))).await.map_err(|_| ())?;
    }
    if format == BulkFormat::Json {
        tx.send(Ok(Bytes::from_static(b"]\n")))
            .await
            .map_err(|_| ())?;
    }
    Ok(())
}

fn csv_answer(out: &mut Vec<u8>, a: &BulkAnswer<'_>) {
    let f = a.file;
    let cells = [
        a.index.to_string(),
        a.hash.to_owned(),
        a.algorithm.unwrap_or_default().to_owned(),
        a.known.map(|k| k.to_string()).unwrap_or_default(),
        f.map(|f| f.file_name.clone()).unwrap_or_default(),
        f.and_then(|f| f.product.clone()).unwrap_or_default(),
        f.and_then(|f| f.version.clone()).unwrap_or_default(),
        f.and_then(|f| f.vendor.clone()).unwrap_or_default(),
        f.map(|f| f.source.clone()).unwrap_or_default(),
        a.error.clone().unwrap_or_default(),
    ];
    out.extend_from_slice(isx_formats::csv_row(&cells).as_bytes());
}

/// Where imported rows come from.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CleanImportParams {
    /// Source name for rows without one (default `api`).
    pub source: Option<String>,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct CleanImportReport {
    pub added: u64,
    pub unchanged: u64,
    /// The store's change sequence after the import.
    pub seq: i64,
}

/// Imports known-good files: CSV with a header (`text/csv`), NDJSON
/// (`application/x-ndjson`) or one SHA-256 per line (`text/plain`, as
/// `sha256sum` writes). All-or-nothing; files already known keep their
/// metadata, so sending the same list again changes nothing. Operator
/// administrators only; large sets go through `isx cleanfiles import`.
#[utoipa::path(post, path = "/api/v1/cleanfiles", tag = "cleanfiles", security(("api_key" = [])), params(CleanImportParams),
    request_body(content = String, description = "CSV, NDJSON or a hash list", content_type = "text/csv"),
    responses((status = 200, body = CleanImportReport), (status = 403, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem, description = "invalid rows, each with its `/line/N` pointer")))]
pub(crate) async fn import(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    params: Result<Query<CleanImportParams>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require_staff()?;
    let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let format = match crate::extract::media_type(&headers).as_str() {
        "text/csv" => CleanListFormat::Csv,
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => {
            CleanListFormat::Ndjson
        }
        "text/plain" => CleanListFormat::Hashes,
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "content type {other:?}: send text/csv, application/x-ndjson or text/plain"
            )))
        }
    };
    let source = p.source.unwrap_or_else(|| "api".to_owned());
    let mut parser = CleanListParser::new(format, &source);
    let (mut files, mut errors) = (Vec::new(), Vec::new());
    for line in String::from_utf8_lossy(&body).lines() {
        match parser.line(line) {
            Some(Ok(f)) => files.push(f),
            Some(Err(e)) => errors.push((format!("/line/{}", e.line), e.message)),
            None => {}
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(format!(
            "{} invalid row(s); nothing was imported",
            errors.len()
        ))
        .with_errors(errors));
    }
    let out = state
        .store
        .import_clean_files(&files, state.clock.now())
        .await?;
    state.clean.sync(state.store.as_ref()).await?;
    Ok(noted(
        AuditNote::new("cleanfiles.import", format!("seq/{}", out.seq)),
        Json(CleanImportReport {
            added: out.added,
            unchanged: out.unchanged,
            seq: out.seq,
        }),
    ))
}

/// Removes a file from the known-good set. Operator administrators only.
#[utoipa::path(delete, path = "/api/v1/cleanfiles/sha256/{hash}", tag = "cleanfiles", security(("api_key" = [])),
    params(("hash" = String, Path, description = "SHA-256, hex", pattern = r"^[0-9A-Fa-f]{64}$")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "not a SHA-256")))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
) -> Result<Response, ApiError> {
    caller.require_staff()?;
    let h = isx_cleanfiles::Sha256::parse(&hash).map_err(|e| ApiError::Validation {
        detail: e.to_string(),
        pointer: Some("/hash".into()),
    })?;
    let n = state
        .store
        .remove_clean_files(&[h], state.clock.now())
        .await?;
    if n == 0 {
        return Err(ApiError::not_found(format!("clean file {h}")));
    }
    state.clean.sync(state.store.as_ref()).await?;
    Ok(noted(
        AuditNote::new("cleanfiles.remove", format!("sha256/{h}")),
        StatusCode::NO_CONTENT,
    ))
}

/// The set at a glance.
#[derive(Debug, Serialize, ToSchema)]
pub struct CleanStatsDto {
    pub files: u64,
    /// Files by source, most first.
    #[serde(serialize_with = "name_counts")]
    #[schema(value_type = Vec<NameCountDto>)]
    pub sources: Vec<(String, u64)>,
    #[serde(serialize_with = "name_counts")]
    #[schema(value_type = Vec<NameCountDto>)]
    pub vendors: Vec<(String, u64)>,
    #[serde(serialize_with = "name_counts")]
    #[schema(value_type = Vec<NameCountDto>)]
    pub products: Vec<(String, u64)>,
    /// The store change this node's hash sets reflect.
    pub index_seq: i64,
    /// Bytes per SHA-256 in this node's set file.
    pub bytes_per_sha256: f64,
}

/// Files of one source, vendor or product.
#[derive(Debug, Serialize, ToSchema)]
pub struct NameCountDto {
    pub name: String,
    pub count: u64,
}

fn name_counts<S: serde::Serializer>(v: &[(String, u64)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|(name, count)| NameCountDto {
        name: name.clone(),
        count: *count,
    }))
}

/// Files by source, top vendors and products, and this node's index.
#[utoipa::path(get, path = "/api/v1/cleanfiles/stats", tag = "cleanfiles", security(("api_key" = [])),
    responses((status = 200, body = CleanStatsDto)))]
pub(crate) async fn stats(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<CleanStatsDto>, ApiError> {
    allowed(&state, &caller)?;
    Ok(Json(stats_dto(&state).await?))
}

pub(crate) async fn stats_dto(state: &AppState) -> Result<CleanStatsDto, ApiError> {
    let s = state.store.clean_stats().await?;
    let view = state.clean.view();
    let keys = view.file_keys(HashAlgo::Sha256);
    Ok(CleanStatsDto {
        files: s.files,
        sources: s.sources,
        vendors: s.vendors,
        products: s.products,
        index_seq: view.seq(),
        bytes_per_sha256: if keys == 0 {
            0.0
        } else {
            view.file_bytes(HashAlgo::Sha256) as f64 / keys as f64
        },
    })
}

// CIRCL hashlookup compatibility.

fn hashlookup_error(status: StatusCode, message: String, query: Option<&str>) -> Response {
    let mut body = json!({ "message": message });
    if let (Some(q), Some(o)) = (query, body.as_object_mut()) {
        o.insert("query".into(), json!(q));
    }
    (status, Json(body)).into_response()
}

/// A path hashlookup cannot read (not UTF-8): its 400, in its shape.
fn unreadable_path() -> Response {
    hashlookup_error(
        StatusCode::BAD_REQUEST,
        "the path is not valid UTF-8 text".into(),
        None,
    )
}

fn circl_name(algo: HashAlgo) -> &'static str {
    match algo {
        HashAlgo::Md5 => "MD5",
        HashAlgo::Sha1 => "SHA-1",
        HashAlgo::Sha256 => "SHA-256",
    }
}

/// The scope of a caller's hashlookup sessions and lookup counts: its
/// member. No member reads another's.
fn scope(caller: &Caller) -> i64 {
    caller.member.id.0
}

/// How long a hashlookup session lives, and the longest session name.
pub const SESSION_TTL_SECS: i64 = 86_400;
const SESSION_NAME_MAX: usize = 120;
/// hashlookup's `/stats/top`: the last 30 days, 100 hashes.
pub(crate) const TOP_DAYS: i64 = 30;
const TOP_LIMIT: u32 = 100;
/// Parents shown inside a record (all of them when at most 15, as CIRCL).
const PARENTS_INLINE: u32 = 15;
/// Children listed inside a record.
const CHILDREN_INLINE: u32 = 100;
/// How long a single lookup waits to count itself.
const COUNT_WAIT_MS: u64 = 250;

/// A related file as hashlookup lists it: its SHA-1 (upper case), or its
/// SHA-256 when it has no SHA-1 or is not a clean file itself.
fn related_key(r: &isx_store::Related) -> String {
    match r.file.as_ref().and_then(|f| f.sha1) {
        Some(h) => h.to_upper(),
        None => r.sha256.to_upper(),
    }
}

/// A clean file as hashlookup answers it: the record, its trust from the
/// sources, its parents (records, at most 15) and children (keys), with
/// their totals.
async fn circl_record(state: &AppState, f: &CleanFile) -> Result<Value, ApiError> {
    let evidence = state
        .store
        .clean_evidence(std::slice::from_ref(&f.sha256))
        .await?
        .remove(&f.sha256)
        .unwrap_or_default();
    let mut record = hashlookup_json(f, &evidence);
    if let Some(o) = record.as_object_mut() {
        if evidence.parents > 0 {
            let (parents, _) = state
                .store
                .clean_related(&f.sha256, true, 0, PARENTS_INLINE)
                .await?;
            let list: Vec<Value> = parents
                .iter()
                .map(|p| match &p.file {
                    Some(pf) => hashlookup_json(pf, &isx_cleanfiles::Evidence::default()),
                    None => json!({ "SHA-256": p.sha256.to_upper() }),
                })
                .map(|mut v| {
                    // A parent entry is its identity, not a verdict.
                    if let Some(o) = v.as_object_mut() {
                        o.remove("hashlookup:trust");
                    }
                    v
                })
                .collect();
            o.insert("parents".into(), Value::Array(list));
        }
        if evidence.children > 0 {
            let (children, _) = state
                .store
                .clean_related(&f.sha256, false, 0, CHILDREN_INLINE)
                .await?;
            o.insert(
                "children".into(),
                json!(children.iter().map(related_key).collect::<Vec<_>>()),
            );
        }
    }
    Ok(record)
}

/// Notes a single lookup: in the member's counts (its `/stats/top`) and in
/// its session when the request names one (`hashlookup_session`).
async fn note_lookup(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    hash: &str,
    known: bool,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    // Counting is for the member's own statistics: it must not hold up the
    // answer, e.g. while an import holds the store's write lock. A count
    // that cannot be written at once is skipped (and said in the log).
    match tokio::time::timeout(
        std::time::Duration::from_millis(COUNT_WAIT_MS),
        state.store.count_lookup(scope(caller), hash, known, now),
    )
    .await
    {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!(error = %e, "hashlookup lookup not counted"),
        Err(_) => tracing::debug!("hashlookup lookup not counted: the store is busy"),
    }
    if let Some(name) = headers
        .get("hashlookup_session")
        .and_then(|v| v.to_str().ok())
        .filter(|n| !n.is_empty() && n.len() <= SESSION_NAME_MAX)
    {
        state
            .store
            .lookup_session_note(scope(caller), name, hash, known, now)
            .await?;
    }
    Ok(())
}

/// hashlookup `GET /lookup/{md5|sha1|sha256}/{hash}`: the record in
/// hashlookup's shape, 404 `{"message": "Non existing …"}` when unknown,
/// 400 for a malformed hash.
#[utoipa::path(get, path = "/lookup/{algorithm}/{hash}", tag = "hashlookup", security(("api_key" = []), ("basic" = [])),
    params(("algorithm" = String, Path, description = "md5, sha1 or sha256", pattern = r"^(md5|sha1|sha256)$"), ("hash" = String, Path, description = "hex, either case: 32, 40 or 64 digits by the algorithm", pattern = r"^([0-9A-Fa-f]{32}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})$"),
        ("hashlookup_session" = Option<String>, Header, description = "a session of yours (`/session/create/{name}`) to note the lookup in")),
    responses((status = 200, body = Object, description = "the record in CIRCL's shape (`SHA-256`, `FileName`, `ProductCode`, `OpSystemCode`, `CRC32`, `parents`, `children`, `hashlookup:trust` …)"),
        (status = 400, body = Object, description = "`{\"message\": …}`: a malformed hash, count or cursor"), (status = 404, body = Object, description = "`{\"message\": \"Non existing …\", \"query\": …}`")))]
pub(crate) async fn hashlookup_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    allowed(&state, &caller)?;
    let Ok(Path((algo, hash))) = path else {
        return Ok(unreadable_path());
    };
    let Some(algo) = HashAlgo::from_name(&algo) else {
        return Ok(hashlookup_error(
            StatusCode::NOT_FOUND,
            format!("no lookup for {algo:?}"),
            None,
        ));
    };
    let name = circl_name(algo);
    let Some(value) = circl_hash(algo, &hash) else {
        return Ok(hashlookup_error(
            StatusCode::BAD_REQUEST,
            format!("{name} value incorrect, expecting a {name} value in hex format"),
            Some(echo(&hash)),
        ));
    };
    let found = files_of(&state, value).await?.into_iter().next();
    note_lookup(
        &state,
        &caller,
        &headers,
        &value.to_string().to_uppercase(),
        found.is_some(),
    )
    .await?;
    Ok(match found {
        Some(f) => Json(circl_record(&state, &f).await?).into_response(),
        None => hashlookup_error(
            StatusCode::NOT_FOUND,
            format!("Non existing {name}"),
            Some(echo(&hash)),
        ),
    })
}

/// A hash in hashlookup's path form: exactly the algorithm's hex length.
fn circl_hash(algo: HashAlgo, hash: &str) -> Option<HashValue> {
    (hash.len() == algo.bytes() * 2)
        .then(|| HashValue::parse_as(algo, hash).ok())
        .flatten()
}

/// hashlookup's bulk body (schema only): other keys are ignored, and an
/// item that is no string is answered as a malformed hash.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // schema only
pub(crate) struct HashlookupBulk {
    #[schema(max_items = 1_000_000)]
    hashes: Vec<serde_json::Value>,
}

/// hashlookup `POST /bulk/{md5|sha1|sha256}` with `{"hashes": […]}`: the
/// known records (for SHA-1, hashlookup's convention: one entry per hash,
/// `{}` for an unknown one).
#[utoipa::path(post, path = "/bulk/{algorithm}", tag = "hashlookup", security(("api_key" = []), ("basic" = [])),
    params(("algorithm" = String, Path, description = "md5 or sha1 (sha256 too)", pattern = r"^(md5|sha1|sha256)$")),
    request_body(content = HashlookupBulk, content_type = "application/json", description = "`{\"hashes\": [\"…\", …]}`, at most 1,000,000"),
    responses((status = 200, body = [Object], description = "the known records (SHA-1: one entry per hash, `{}` for an unknown or malformed one)"),
        (status = 400, body = Object, description = "no `hashes` array"),
        (status = 404, body = Object, description = "not a hash algorithm")))]
pub(crate) async fn hashlookup_bulk(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(algo): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    allowed(&state, &caller)?;
    let Some(algo) = HashAlgo::from_name(&algo) else {
        return Ok(hashlookup_error(
            StatusCode::NOT_FOUND,
            format!("no bulk lookup for {algo:?}"),
            None,
        ));
    };
    // No `hashes` array (a missing key, a string, not an object): 400 with
    // hashlookup's own message.
    let array = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(mut o)) => match o.remove("hashes") {
            Some(Value::Array(a)) => Some(a),
            _ => None,
        },
        _ => None,
    };
    let Some(array) = array else {
        return Ok(hashlookup_error(
            StatusCode::BAD_REQUEST,
            "JSON format incorrect. An array of hashes in the key 'hashes' is expected.".into(),
            None,
        ));
    };
    let hashes: Vec<String> = array
        .into_iter()
        .map(|v| v.as_str().map(str::to_owned).unwrap_or_default())
        .collect();
    if hashes.len() > MAX_BULK {
        return Err(ApiError::PayloadTooLarge(format!(
            "{} hashes: at most {MAX_BULK} per request",
            hashes.len()
        )));
    }
    let parsed: Vec<Result<HashValue, String>> = hashes
        .iter()
        .map(|h| HashValue::parse_as(algo, h).map_err(|e| e.to_string()))
        .collect();
    let view = state.clean.view();
    let answers = isx_app::cleanfiles::look_up(state.store.as_ref(), &view, &parsed, true).await?;
    let firsts: Vec<Option<&CleanFile>> = answers
        .iter()
        .map(|a| a.as_ref().and_then(|k| k.files.first()))
        .collect();
    let keys: Vec<isx_cleanfiles::Sha256> = firsts.iter().flatten().map(|f| f.sha256).collect();
    let evidence = state.store.clean_evidence(&keys).await?;
    let none = isx_cleanfiles::Evidence::default();
    let mut out = Vec::new();
    for first in firsts {
        let record = first.map(|f| hashlookup_json(f, evidence.get(&f.sha256).unwrap_or(&none)));
        match (record, algo) {
            (Some(r), _) => out.push(r),
            (None, HashAlgo::Sha1) => out.push(json!({})),
            (None, _) => {}
        }
    }
    Ok(Json(Value::Array(out)).into_response())
}

/// hashlookup `GET /parents/{sha1}/{count}/{cursor}` and
/// `GET /children/{sha1}/{count}/{cursor}`: `{"parents"|"children": [keys],
/// "cursor": next, "total": n}`, the cursor `"0"` once the list is done; 404
/// for a hash with none (or unknown), 400 for a malformed hash or count.
async fn related(
    state: &AppState,
    caller: &Caller,
    parents: bool,
    path: Result<Path<Vec<String>>, PathRejection>,
) -> Result<Response, ApiError> {
    allowed(state, caller)?;
    let Ok(Path(p)) = path else {
        return Ok(unreadable_path());
    };
    let mut p = p.into_iter();
    let (sha1, count, cursor) = (p.next().unwrap_or_default(), p.next(), p.next());
    let (sha1, count, cursor) = (sha1.as_str(), count.as_deref(), cursor.as_deref());
    let what = if parents { "parents" } else { "children" };
    let Some(value) = circl_hash(HashAlgo::Sha1, sha1) else {
        return Ok(hashlookup_error(
            StatusCode::BAD_REQUEST,
            "SHA1 value incorrect, expecting a SHA1 value in hex format".into(),
            Some(echo(sha1)),
        ));
    };
    let count = match count.map(str::parse::<u32>) {
        None => 100,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => {
            return Ok(hashlookup_error(
                StatusCode::BAD_REQUEST,
                "count must be a whole number from 1 to 1000".into(),
                None,
            ))
        }
    };
    let Ok(offset) = cursor.unwrap_or("0").parse::<u64>() else {
        return Ok(hashlookup_error(
            StatusCode::BAD_REQUEST,
            "cursor must be a whole number: 0 to start, then the cursor the previous page returned"
                .into(),
            None,
        ));
    };
    let none = || {
        let single = if parents { "parent" } else { "child" };
        hashlookup_error(
            StatusCode::NOT_FOUND,
            format!("The SHA1 value has no known {single}."),
            Some(echo(sha1)),
        )
    };
    let Some(file) = files_of(state, value).await?.into_iter().next() else {
        return Ok(none());
    };
    let (list, total) = state
        .store
        .clean_related(&file.sha256, parents, offset, count)
        .await?;
    if total == 0 {
        return Ok(none());
    }
    let next = offset.saturating_add(list.len() as u64);
    let cursor = if next >= total || list.is_empty() {
        "0".to_owned()
    } else {
        next.to_string()
    };
    Ok(Json(json!({
        what: list.iter().map(related_key).collect::<Vec<_>>(),
        "cursor": cursor,
        "total": total,
    }))
    .into_response())
}

#[utoipa::path(get, path = "/parents/{sha1}/{count}/{cursor}", tag = "hashlookup", security(("api_key" = []), ("basic" = [])),
    params(("sha1" = String, Path, pattern = r"^[0-9A-Fa-f]{40}$"), ("count" = u32, Path, description = "1 to 1,000 (`/parents/{sha1}` alone: 100)", minimum = 1, maximum = 1000), ("cursor" = String, Path, description = "0 to start, then the cursor returned", pattern = r"^[0-9]{1,19}$")),
    responses((status = 200, body = Object, description = "`{\"parents\": [SHA-1…], \"cursor\", \"total\"}`; the cursor is `0` on the last page"),
        (status = 400, body = Object, description = "`{\"message\": …}`: a malformed hash, count or cursor"), (status = 404, body = Object, description = "no known parent")))]
pub(crate) async fn hashlookup_parents(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<Vec<String>>, PathRejection>,
) -> Result<Response, ApiError> {
    related(&state, &caller, true, path).await
}

#[utoipa::path(get, path = "/children/{sha1}/{count}/{cursor}", tag = "hashlookup", security(("api_key" = []), ("basic" = [])),
    params(("sha1" = String, Path, pattern = r"^[0-9A-Fa-f]{40}$"), ("count" = u32, Path, description = "1 to 1,000 (`/children/{sha1}` alone: 100)", minimum = 1, maximum = 1000), ("cursor" = String, Path, description = "0 to start, then the cursor returned", pattern = r"^[0-9]{1,19}$")),
    responses((status = 200, body = Object, description = "`{\"children\": [SHA-1…], \"cursor\", \"total\"}`; the cursor is `0` on the last page"),
        (status = 400, body = Object, description = "`{\"message\": …}`: a malformed hash, count or cursor"), (status = 404, body = Object, description = "no known child")))]
pub(crate) async fn hashlookup_children(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<Vec<String>>, PathRejection>,
) -> Result<Response, ApiError> {
    related(&state, &caller, false, path).await
}

/// hashlookup `GET /stats/top`: the hashes the caller's own member looked up
/// most in the last 30 days (single lookups), as `{"nx": [[hash, n], …],
/// "exist": [{"FileName", "SHA-1"|"MD5"|"SHA-256": [hash, n]}, …]}`. Another member's
/// lookups are never counted in: what a partner investigates is its own.
#[utoipa::path(get, path = "/stats/top", tag = "hashlookup", security(("api_key" = []), ("basic" = [])),
    responses((status = 200, body = Object, description = "your own member's most looked-up hashes over 30 days: `{\"nx\": [[hash, n]…], \"exist\": [{\"FileName\", \"SHA-1\"|\"MD5\"|\"SHA-256\": [hash, n]}…]}`")))]
pub(crate) async fn hashlookup_top(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    allowed(&state, &caller)?;
    let since = state.clock.now().add_secs(-TOP_DAYS * 86_400);
    let top = state
        .store
        .top_lookups(scope(&caller), since, TOP_LIMIT)
        .await?;
    let (known, unknown): (Vec<_>, Vec<_>) = top.into_iter().partition(|(_, known, _)| *known);
    let nx: Vec<Value> = unknown.iter().map(|(h, _, n)| json!([h, n])).collect();
    // The file names of the known ones, in one lookup.
    let known: Vec<(String, u64, HashValue)> = known
        .into_iter()
        .filter_map(|(h, _, n)| HashValue::parse(&h).ok().map(|v| (h, n, v)))
        .collect();
    let parsed: Vec<Result<HashValue, String>> = known.iter().map(|(_, _, v)| Ok(*v)).collect();
    let view = state.clean.view();
    let answers = isx_app::cleanfiles::look_up(state.store.as_ref(), &view, &parsed, true).await?;
    // CIRCL names the pair "SHA-1" (it counts SHA-1 lookups); isx counts
    // every algorithm and names each pair after its hash's.
    let exist: Vec<Value> = known
        .iter()
        .zip(&answers)
        .map(|((h, n, v), a)| {
            let file_name = a
                .as_ref()
                .and_then(|k| k.files.first())
                .map(|f| f.file_name.clone());
            json!({ "FileName": file_name, circl_name(v.algo()): [h, n] })
        })
        .collect();
    Ok(Json(json!({ "nx": nx, "exist": exist })).into_response())
}

fn session_name(name: &str) -> Option<&str> {
    (!name.is_empty()
        && name.len() <= SESSION_NAME_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)))
    .then_some(name)
}

fn bad_session_name() -> Response {
    hashlookup_error(
        StatusCode::BAD_REQUEST,
        format!("Expecting a name for the session: 1 to {SESSION_NAME_MAX} letters, digits, '-', '_', '.' or ':'"),
        None,
    )
}

/// hashlookup `GET /session/create/{name}`: a session of the caller's
/// member (another member's session of the same name is another session);
/// lookups sent with the header `hashlookup_session: name` are noted in it
/// for a day.
#[utoipa::path(get, path = "/session/create/{name}", tag = "hashlookup", security(("api_key" = []), ("basic" = [])),
    params(("name" = String, Path, description = "1 to 120 letters, digits, '-', '_', '.' or ':'", pattern = r"^[A-Za-z0-9._:-]{1,120}$")),
    responses((status = 200, body = Object, description = "`{\"message\", \"session\", \"ttl\"}`: lives a day"),
        (status = 400, body = Object, description = "a name isx does not take"), (status = 409, body = Problem, description = "100 live sessions already")))]
pub(crate) async fn hashlookup_session_create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    allowed(&state, &caller)?;
    let Ok(Path(name)) = path else {
        return Ok(unreadable_path());
    };
    let Some(name) = session_name(&name) else {
        return Ok(bad_session_name());
    };
    state
        .store
        .lookup_session_create(scope(&caller), name, state.clock.now(), SESSION_TTL_SECS)
        .await?;
    Ok(Json(json!({
        "message": format!("Session {name} created and session will expire in {SESSION_TTL_SECS} seconds"),
        "session": name,
        "ttl": SESSION_TTL_SECS,
    }))
    .into_response())
}

/// The caller's live session the path names, or the hashlookup answer why
/// not (a path that is not UTF-8, a name isx does not take, no such session).
async fn session_of(
    state: &AppState,
    caller: &Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Result<isx_store::LookupSession, Response>, ApiError> {
    allowed(state, caller)?;
    let Ok(Path(name)) = path else {
        return Ok(Err(unreadable_path()));
    };
    let Some(name) = session_name(&name) else {
        return Ok(Err(bad_session_name()));
    };
    Ok(
        match state
            .store
            .lookup_session(scope(caller), name, state.clock.now())
            .await?
        {
            Some(s) => Ok(s),
            None => Err(hashlookup_error(
                StatusCode::NOT_FOUND,
                "Non-existing session".into(),
                None,
            )),
        },
    )
}

/// hashlookup `GET /session/get/{name}`: the hashes looked up in the
/// session, `{"nx": [...], "exist": [...], "info": {...}}`.
#[utoipa::path(get, path = "/session/get/{name}", tag = "hashlookup", security(("api_key" = []), ("basic" = [])),
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9._:-]{1,120}$")),
    responses((status = 200, body = Object, description = "`{\"nx\": […], \"exist\": […], \"info\": {\"created\", \"expires\"}}`"),
        (status = 400, body = Object), (status = 404, body = Object, description = "no live session of yours by that name")))]
pub(crate) async fn hashlookup_session_get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let s = match session_of(&state, &caller, path).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let (exist, nx): (Vec<_>, Vec<_>) = s.hashes.into_iter().partition(|(_, k)| *k);
    Ok(Json(json!({
        "nx": nx.into_iter().map(|(h, _)| h).collect::<Vec<_>>(),
        "exist": exist.into_iter().map(|(h, _)| h).collect::<Vec<_>>(),
        "info": { "created": s.created.to_rfc3339(), "expires": s.expires.to_rfc3339() },
    }))
    .into_response())
}

/// `GET /session/matches/{name}`: the known files the session's lookups
/// found, as hashlookup records (`{"matches": [...], "total": n}`).
#[utoipa::path(get, path = "/session/matches/{name}", tag = "hashlookup", security(("api_key" = []), ("basic" = [])),
    params(("name" = String, Path, pattern = r"^[A-Za-z0-9._:-]{1,120}$")),
    responses((status = 200, body = Object, description = "`{\"matches\": [records…], \"total\"}`: one per known file"),
        (status = 400, body = Object), (status = 404, body = Object, description = "no live session of yours by that name")))]
pub(crate) async fn hashlookup_session_matches(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let s = match session_of(&state, &caller, path).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let parsed: Vec<Result<HashValue, String>> = s
        .hashes
        .iter()
        .filter(|(_, known)| *known)
        .map(|(h, _)| HashValue::parse(h).map_err(|e| e.to_string()))
        .collect();
    let view = state.clean.view();
    let answers = isx_app::cleanfiles::look_up(state.store.as_ref(), &view, &parsed, true).await?;
    let mut files: Vec<&CleanFile> = answers
        .iter()
        .filter_map(|a| a.as_ref().and_then(|k| k.files.first()))
        .collect();
    // One file looked up by two of its hashes is one match.
    files.sort_by_key(|f| f.sha256);
    files.dedup_by_key(|f| f.sha256);
    let keys: Vec<isx_cleanfiles::Sha256> = files.iter().map(|f| f.sha256).collect();
    let evidence = state.store.clean_evidence(&keys).await?;
    let matches: Vec<Value> = files
        .iter()
        .map(|f| hashlookup_json(f, evidence.get(&f.sha256).unwrap_or(&Default::default())))
        .collect();
    Ok(Json(json!({ "total": matches.len(), "matches": matches })).into_response())
}

/// hashlookup `GET /info`, in CIRCL's shape (counts as text): the NSRL
/// release and its records when one was imported, the vendors, operating
/// systems and products, and isx's own totals.
#[utoipa::path(get, path = "/info", tag = "hashlookup", security(("api_key" = []), ("basic" = [])),
    responses((status = 200, body = Object, description = "CIRCL's shape: `nsrl-version`, `nsrl-NSRL-items`, `nsrl-NSRLMfg`, `nsrl-NSRLOS`, `nsrl-NSRLProd`, `hashlookup-version`, and isx's totals")))]
pub(crate) async fn hashlookup_info(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    allowed(&state, &caller)?;
    let s = state.store.clean_stats().await?;
    let nsrl: Vec<&(String, u64)> = s
        .sources
        .iter()
        .filter(|(n, _)| n.starts_with("NSRL"))
        .collect();
    let nsrl_version = nsrl
        .iter()
        .map(|(n, _)| n.trim_start_matches("NSRL RDS").trim().to_owned())
        .max();
    let nsrl_items: u64 = nsrl.iter().map(|(_, c)| c).sum();
    Ok(Json(json!({
        "nsrl-version": nsrl_version,
        "nsrl-NSRL-items": nsrl_items.to_string(),
        "nsrl-NSRLMfg": s.distinct_vendors.to_string(),
        "nsrl-NSRLOS": s.distinct_os.to_string(),
        "nsrl-NSRLProd": s.distinct_products.to_string(),
        "hashlookup-version": concat!("isx ", env!("CARGO_PKG_VERSION")),
        "isx-version": env!("CARGO_PKG_VERSION"),
        "isx-files": s.files.to_string(),
        "isx-sources": s.sources.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// Clean-file files, newest first: every 3 hours a delta (hashes added and
/// removed) and, when the set changed, the full set and a DCSO Bloom filter
/// of it — each with its SHA-256 and Ed25519 signature.
#[utoipa::path(get, path = "/api/v1/feeds/cleanfiles", operation_id = "cleanfile_feed_manifest", tag = "cleanfiles", security(("api_key" = [])),
    responses((status = 200, body = crate::api::urls::ManifestDto)))]
pub(crate) async fn manifest(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<crate::api::urls::ManifestDto>, ApiError> {
    let files =
        isx_app::feed_files::list(&state, &caller, &isx_app::feed_files::CLEANFILES, 500).await?;
    Ok(Json(crate::api::urls::ManifestDto::new(
        &state,
        isx_app::cleanfile_files::CLEANFILES,
        files,
    )))
}

/// Downloads a clean-file file by name, or the newest of a kind:
/// `latest.bloom`, `latest-full.ndjson`, `latest-full.csv`.
#[utoipa::path(get, path = "/api/v1/feeds/cleanfiles/{name}", operation_id = "cleanfile_feed_download", tag = "cleanfiles", security(("api_key" = [])),
    params(("name" = String, Path, description = "file name from the manifest, or latest-…")),
    responses((status = 200, description = "the file"), (status = 404, body = Problem)))]
pub(crate) async fn download(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    crate::feed_files::download(&state, &caller, &isx_app::feed_files::CLEANFILES, &name).await
}

/// `GET /api/v1/cleanfiles/sha256/{hash}` (the path is shared with DELETE).
#[utoipa::path(get, path = "/api/v1/cleanfiles/sha256/{hash}", tag = "cleanfiles", security(("api_key" = [])),
    params(("hash" = String, Path, description = "SHA-256, hex, either case", pattern = r"^[0-9A-Fa-f]{64}$")),
    responses((status = 200, body = LookupAnswer), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn lookup_sha256(
    state: State<AppState>,
    caller: Extension<Caller>,
    Path(hash): Path<String>,
) -> Result<Json<LookupAnswer>, ApiError> {
    lookup_one(state, caller, Path(("sha256".to_owned(), hash))).await
}
