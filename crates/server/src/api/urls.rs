//! Malicious URLs over REST: batch import, search with every filter,
//! statistics, exports in four formats, and the signed feed files.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use isx_app::wire_ids::{IdKind, WireIds};
use isx_domain::{Asn, ThreatType, Timestamp, Tlp};
use isx_formats::feed::FeedFormat;
use isx_formats::urls::{UrlFeedWriter, UrlInputFormat};
use isx_store::{FeedFile, UrlStats};
use isx_urls::UrlRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{noted, AuditNote};
use crate::auth::Caller;
use crate::problem::{ApiError, Problem};
use crate::AppState;
use isx_app::urls::{self, parse_opt, ImportOptions};

/// How to take rows that do not say themselves.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Source name for rows without one (default `api`).
    pub source: Option<String>,
    /// Marking for rows without one (default `green`).
    pub tlp: Option<String>,
    /// Confidence 0–100 for rows without one (default 50).
    pub confidence: Option<u8>,
    /// Threat type for rows without one (default `other`).
    pub threat: Option<String>,
    /// `true`: import the valid rows and report the others; default: refuse
    /// the whole batch when a row is invalid.
    pub skip_invalid: Option<bool>,
}

/// The JSON form of a URL import (schema only): an array of URL objects
/// (`url` required; `threat`, `tags`, `source`, `confidence`, `tlp`,
/// `first_seen`, `last_seen`, `ip`…), or URLhaus's JSON export (an
/// object of arrays keyed by id). Each row is checked on its own.
#[derive(utoipa::ToSchema, Deserialize)]
#[serde(untagged)]
#[allow(dead_code)] // schema only
pub(crate) enum UrlRows {
    /// Rows that are no object are refused, or skipped and reported with
    /// `skip_invalid=true`.
    Rows(Vec<serde_json::Value>),
    #[schema(value_type = Object)]
    Urlhaus(serde_json::Value),
}

/// Imports a batch of malicious URLs: a JSON array (or URLhaus JSON),
/// NDJSON (`application/x-ndjson`) or CSV with a header row (`text/csv`;
/// URLhaus CSV exports work as they are). All-or-nothing unless
/// `skip_invalid=true`; a sighting already known changes nothing, so
/// sending the same batch again is harmless. Operator administrators only.
#[utoipa::path(post, path = "/api/v1/urls", tag = "urls", security(("api_key" = [])), params(ImportParams),
    request_body(content((UrlRows = "application/json"), (String = "application/x-ndjson"), (String = "text/csv")), description = "JSON, NDJSON or CSV"),
    responses((status = 200, body = crate::api::wire::ImportReportDto), (status = 403, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem, description = "invalid rows, each with its `/line/N` pointer")))]
pub(crate) async fn import_urls(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    params: Result<Query<ImportParams>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require_staff()?;
    let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let media = crate::extract::media_type(&headers);
    let format = match media.as_str() {
        "application/json" => UrlInputFormat::Json,
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => {
            UrlInputFormat::Ndjson
        }
        "text/csv" => UrlInputFormat::Csv,
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "content type {other:?}: send application/json, application/x-ndjson or text/csv"
            )))
        }
    };
    let opts = ImportOptions {
        format: Some(format),
        name: None,
        source: p.source.unwrap_or_else(|| "api".to_owned()),
        tlp: parse_opt(p.tlp.as_deref(), "tlp")?.unwrap_or(Tlp::Green),
        confidence: match p.confidence {
            Some(c) if c > 100 => return Err(ApiError::invalid("confidence: 0 to 100")),
            Some(c) => c,
            None => 50,
        },
        threat: parse_opt(p.threat.as_deref(), "threat")?.unwrap_or(ThreatType::Other),
        skip_invalid: p.skip_invalid.unwrap_or(false),
    };
    let actor = caller
        .key_id
        .as_ref()
        .map_or_else(|| caller.member.name.to_string(), |k| format!("key:{k}"));
    let report = urls::import(
        state.store.as_ref(),
        &state.geo,
        &body,
        &opts,
        &actor,
        state.clock.now(),
    )
    .await?;
    state.metrics.url_import(&report);
    Ok(noted(
        AuditNote::new(
            "urls.import",
            format!(
                "batch/{}",
                report.batch.map_or("none".into(), |b| b.to_string())
            ),
        ),
        Json(crate::api::wire::ImportReportDto::from(report)),
    ))
}

/// A URL record.
#[derive(Debug, Serialize, ToSchema)]
pub struct UrlRecordDto {
    pub id: i64,
    pub url: String,
    pub host: String,
    pub domain: Option<String>,
    pub ip: Option<String>,
    pub asn: Option<u32>,
    pub as_org: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub threat: String,
    pub tags: Vec<String>,
    pub source: String,
    pub confidence: u8,
    pub tlp: String,
    pub first_seen: String,
    pub last_seen: String,
    pub times_seen: i64,
}

impl UrlRecordDto {
    /// The record as the API shows it, with its opaque id.
    pub fn new(r: UrlRecord, ids: &WireIds) -> Self {
        UrlRecordDto {
            id: ids.encode(IdKind::UrlRecord, r.id),
            url: r.url,
            host: r.host,
            domain: r.domain,
            ip: r.ip.map(|i| i.to_string()),
            asn: r.geo.asn.map(Asn::get),
            as_org: r.geo.as_org,
            country: r.geo.country.map(|c| c.to_string()),
            city: r.geo.city,
            latitude: r.geo.latitude,
            longitude: r.geo.longitude,
            threat: r.threat.to_string(),
            tags: r.tags,
            source: r.source,
            confidence: r.confidence,
            tlp: r.tlp.as_str().to_owned(),
            first_seen: r.first_seen.to_rfc3339(),
            last_seen: r.last_seen.to_rfc3339(),
            times_seen: r.times_seen,
        }
    }
}

/// The answer format a URL filter asks for (`None`: JSON), checked
/// where the filter is read, the statistics included.
fn requested_format(f: &isx_app::urls::UrlFilter) -> Result<Option<FeedFormat>, ApiError> {
    match f.format.as_deref() {
        None | Some("json") => Ok(None),
        Some(other) => FeedFormat::parse(other)
            .map(Some)
            .ok_or_else(|| ApiError::Validation {
                detail: format!("format {other:?}: expected json, ndjson, csv or stix"),
                pointer: Some("/format".into()),
            }),
    }
}

/// Searches the URL records you may see, newest first; `format` exports
/// the page as NDJSON, CSV or a STIX 2.1 bundle instead of JSON.
#[utoipa::path(get, path = "/api/v1/urls", tag = "urls", security(("api_key" = [])), params(crate::api::wire::UrlFilterParams),
    responses((status = 200, description = "The records: JSON by default; with `format=`, NDJSON, CSV or a STIX 2.1 bundle",
        content(([UrlRecordDto] = "application/json"), (String = "application/x-ndjson"), (String = "text/csv"), (Object = "application/stix+json"))),
        (status = 400, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn search_urls(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<crate::api::wire::UrlFilterParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let f: isx_app::urls::UrlFilter = q.map_err(|e| ApiError::BadRequest(e.body_text()))?.0.into();
    let format = requested_format(&f)?;
    let found = urls::search(&state, &caller, f.query()?).await?;
    let ids = state.wire_ids().await?;
    match format {
        None => Ok(Json(
            found
                .into_iter()
                .map(|r| UrlRecordDto::new(r, ids))
                .collect::<Vec<_>>(),
        )
        .into_response()),
        Some(format) => {
            let key = format!(
                "search:{}:{}",
                caller.member.id,
                state.clock.now().as_micros()
            );
            let mut w = UrlFeedWriter::new(Vec::new(), format, &state.config.instance_name, &key)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            for r in &found {
                w.write(r).map_err(|e| ApiError::Internal(e.to_string()))?;
            }
            let (bytes, _, _) = w.finish().map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok(([(header::CONTENT_TYPE, format.media_type())], bytes).into_response())
        }
    }
}

/// One URL record.
#[utoipa::path(get, path = "/api/v1/urls/{id}", tag = "urls", security(("api_key" = [])),
    params(("id" = i64, Path, description = "record id")),
    responses((status = 200, body = UrlRecordDto), (status = 404, body = Problem)))]
pub(crate) async fn get_url(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Json<UrlRecordDto>, ApiError> {
    let ids = state.wire_ids().await?;
    // An id no record encodes to is missing like any other.
    let stored = ids
        .decode(IdKind::UrlRecord, id)
        .ok_or_else(|| ApiError::not_found("URL record"))?;
    Ok(Json(UrlRecordDto::new(
        urls::record(&state, &caller, stored).await?,
        ids,
    )))
}

/// Aggregates over the records a filter selects. (The lists are tuples
/// here, for the web's charts, and objects on the wire.)
#[derive(Debug, Serialize, ToSchema)]
pub struct UrlStatsDto {
    pub total: i64,
    /// Most frequent first.
    #[serde(serialize_with = "threat_counts")]
    #[schema(value_type = Vec<ThreatCountDto>)]
    pub by_threat: Vec<(ThreatType, i64)>,
    /// New URLs per day and threat.
    #[serde(serialize_with = "day_counts")]
    #[schema(value_type = Vec<DayCountDto>)]
    pub per_day: Vec<(String, ThreatType, i64)>,
    #[serde(serialize_with = "asn_counts")]
    #[schema(value_type = Vec<AsnCountDto>)]
    pub top_asns: Vec<(u32, Option<String>, i64)>,
    #[serde(serialize_with = "country_counts")]
    #[schema(value_type = Vec<CountryCountDto>)]
    pub top_countries: Vec<(String, i64)>,
    #[schema(value_type = Vec<MapPointDto>)]
    pub points: Vec<isx_store::MapPoint>,
    /// Which geo databases enrich imports (none: only source-given fields).
    pub geo_databases: Vec<String>,
}

/// URLs of one threat type.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreatCountDto {
    #[schema(example = "phishing")]
    pub threat: String,
    pub count: i64,
}

/// New URLs of one threat type on one day.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayCountDto {
    /// YYYY-MM-DD (UTC).
    pub day: String,
    pub threat: String,
    pub count: i64,
}

/// URLs hosted in one autonomous system.
#[derive(Debug, Serialize, ToSchema)]
pub struct AsnCountDto {
    pub asn: u32,
    pub organisation: Option<String>,
    pub count: i64,
}

/// URLs hosted in one country.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountryCountDto {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub count: i64,
}

/// A located address for the map.
#[derive(Debug, Serialize, ToSchema)]
pub struct MapPointDto {
    pub ip: String,
    pub latitude: f64,
    pub longitude: f64,
    pub country: Option<String>,
    /// URLs at this address.
    pub urls: i64,
}

fn threat_counts<S: serde::Serializer>(v: &[(ThreatType, i64)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|(t, n)| ThreatCountDto {
        threat: t.as_str().to_owned(),
        count: *n,
    }))
}

fn day_counts<S: serde::Serializer>(
    v: &[(String, ThreatType, i64)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|(d, t, n)| DayCountDto {
        day: d.clone(),
        threat: t.as_str().to_owned(),
        count: *n,
    }))
}

fn asn_counts<S: serde::Serializer>(
    v: &[(u32, Option<String>, i64)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|(a, o, n)| AsnCountDto {
        asn: *a,
        organisation: o.clone(),
        count: *n,
    }))
}

fn country_counts<S: serde::Serializer>(v: &[(String, i64)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|(c, n)| CountryCountDto {
        country: c.clone(),
        count: *n,
    }))
}

pub fn day_label(day: i64) -> String {
    Timestamp::from_secs(day * 86_400)
        .to_rfc3339()
        .chars()
        .take(10)
        .collect()
}

pub fn stats_dto(state: &AppState, s: UrlStats) -> UrlStatsDto {
    let status = state.geo.status();
    UrlStatsDto {
        total: s.total,
        by_threat: s.by_threat,
        per_day: s
            .per_day
            .into_iter()
            .map(|(d, t, n)| (day_label(d), t, n))
            .collect(),
        top_asns: s.top_asns,
        top_countries: s.top_countries,
        points: s.points,
        geo_databases: status
            .location
            .iter()
            .chain(status.asn.iter())
            .cloned()
            .collect(),
    }
}

/// Threat types over time, top ASNs and countries, and the located
/// addresses for a map, over the records a filter selects (paging ignored).
#[utoipa::path(get, path = "/api/v1/urls/stats", tag = "urls", security(("api_key" = [])), params(crate::api::wire::UrlFilterParams),
    responses((status = 200, body = UrlStatsDto), (status = 422, body = Problem)))]
pub(crate) async fn url_stats(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<crate::api::wire::UrlFilterParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<UrlStatsDto>, ApiError> {
    let f: isx_app::urls::UrlFilter = q.map_err(|e| ApiError::BadRequest(e.body_text()))?.0.into();
    // Statistics are JSON; another format asked for is still checked.
    requested_format(&f)?;
    let s = urls::stats(&state, &caller, f.query()?).await?;
    Ok(Json(stats_dto(&state, s)))
}

/// The manifest of the URL feed files you may download.
#[derive(Debug, Serialize, ToSchema)]
pub struct ManifestDto {
    pub product: String,
    /// `ed25519`.
    pub algorithm: String,
    /// The instance's public key, raw 32 bytes in base64.
    pub public_key: String,
    /// The same key as a PEM SubjectPublicKeyInfo.
    pub public_key_pem: String,
    /// What each signature covers: these lines, each ending in `\n`.
    pub signed_text: String,
    #[schema(value_type = Vec<Object>)]
    pub files: Vec<FeedFile>,
}

impl ManifestDto {
    /// The manifest of `product`'s files, with the instance's key.
    pub fn new(state: &AppState, product: &str, files: Vec<FeedFile>) -> Self {
        ManifestDto {
            product: product.to_owned(),
            algorithm: "ed25519".to_owned(),
            public_key: state.feeds.signer.public_key(),
            public_key_pem: state.feeds.signer.public_key_pem(),
            signed_text: SIGNED_TEXT_DOC.to_owned(),
            files,
        }
    }
}

pub const SIGNED_TEXT_DOC: &str = "isx-feed-file-v1, name, product, kind, sha256, size, records, period_start (RFC 3339), period_end (RFC 3339)";

/// Feed files of the malicious-URL product, newest first: every 3 hours an
/// increment (records new or changed since the previous slot) and the
/// rolling 5-day full set, in JSON, NDJSON, CSV and STIX 2.1. Each entry
/// carries the file's SHA-256 and an Ed25519 signature of its entry.
#[utoipa::path(get, path = "/api/v1/feeds/urls", tag = "urls", security(("api_key" = [])),
    responses((status = 200, body = ManifestDto)))]
pub(crate) async fn url_manifest(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<ManifestDto>, ApiError> {
    let files = isx_app::feed_files::list(&state, &caller, &isx_app::feed_files::URLS, 400).await?;
    Ok(Json(ManifestDto::new(
        &state,
        isx_app::url_files::URLS,
        files,
    )))
}

/// Downloads one feed file. `X-Isx-Sha256` and `X-Isx-Signature` repeat
/// its manifest entry.
#[utoipa::path(get, path = "/api/v1/feeds/urls/{name}", tag = "urls", security(("api_key" = [])),
    params(("name" = String, Path, description = "file name from the manifest")),
    responses((status = 200, description = "the file"), (status = 404, body = Problem)))]
pub(crate) async fn download_url_file(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    crate::feed_files::download(&state, &caller, &isx_app::feed_files::URLS, &name).await
}

/// The feed-signing public key as PEM.
#[utoipa::path(get, path = "/api/v1/feeds/signing-key", tag = "urls",
    responses((status = 200, description = "PEM SubjectPublicKeyInfo (Ed25519)")))]
pub(crate) async fn signing_key(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        state.feeds.signer.public_key_pem(),
    )
        .into_response()
}
