//! REST: releases and advisories. Reads go through `isx_app::notices`.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use isx_advisories::{NewRelease, Release, ReleaseStatus, Revision};
use isx_domain::{Timestamp, Tlp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{noted, AuditNote};
use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::AppState;
use isx_app::advisories::{self, AdvisoryFilter};

/// A release package as a caller sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseDto {
    pub id: i64,
    pub title: String,
    /// Public release time T.
    pub release_at: String,
    /// draft, scheduled, released or withdrawn (now).
    pub state: String,
    pub marking: String,
    pub notes: String,
    /// Whether exploitability data is withheld from you (before your window includes it).
    pub exploitability_withheld: bool,
    #[schema(value_type = Vec<Object>)]
    pub revisions: Vec<Revision>,
}

fn release_dto(state: &AppState, r: &Release, mask: isx_policy::FieldMask) -> ReleaseDto {
    ReleaseDto {
        id: r.id,
        title: r.title.clone(),
        release_at: r.release_at.to_rfc3339(),
        state: r.state(state.clock.now()).as_str().into(),
        marking: r.marking.as_str().into(),
        notes: r.notes.clone(),
        exploitability_withheld: mask.hides(isx_policy::FieldMask::EXPLOITABILITY),
        revisions: r.revisions.clone(),
    }
}

/// A release with its advisories.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseDetailDto {
    #[serde(flatten)]
    pub release: ReleaseDto,
    /// Advisories in isx's JSON form (exploitability is `null` when withheld).
    #[schema(value_type = Vec<Object>)]
    pub advisories: Vec<isx_advisories::Advisory>,
}

/// An advisory with the release it belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisoryDto {
    pub release: i64,
    /// CVSS scores computed by isx from the vectors.
    pub score: Option<f64>,
    pub severity: Option<String>,
    #[schema(value_type = Object)]
    pub advisory: isx_advisories::Advisory,
}

fn advisory_dto(r: &Release, a: isx_advisories::Advisory) -> AdvisoryDto {
    AdvisoryDto {
        release: r.id,
        score: a.score(),
        severity: a.severity().map(|s| s.as_str().to_owned()),
        advisory: a,
    }
}

/// Release packages you may see now (drafts and withdrawn ones only for the
/// operator; scheduled ones from your tier's advance window).
#[utoipa::path(get, path = "/api/v1/releases", tag = "advisories", security(("api_key" = [])),
    responses((status = 200, body = [ReleaseDto]), (status = 401, body = Problem)))]
pub(crate) async fn list_releases(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<ReleaseDto>>, ApiError> {
    let list = advisories::visible_releases(&state, &caller.principal).await?;
    Ok(Json(
        list.iter()
            .map(|(r, m)| release_dto(&state, r, *m))
            .collect(),
    ))
}

/// One release with its advisories.
#[utoipa::path(get, path = "/api/v1/releases/{id}", tag = "advisories", security(("api_key" = [])),
    params(("id" = i64, Path, description = "release id")),
    responses((status = 200, body = ReleaseDetailDto), (status = 404, body = Problem)))]
pub(crate) async fn get_release(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Json<ReleaseDetailDto>, ApiError> {
    let (r, mask, advisories) = advisories::release_contents(&state, &caller.principal, id).await?;
    Ok(Json(ReleaseDetailDto {
        release: release_dto(&state, &r, mask),
        advisories,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct TableParams {
    /// json (default) or csv.
    #[param(pattern = r"^(json|csv)$")]
    format: Option<String>,
}

/// The affected-software table of a release: one row per affected product
/// (CVE, title, severity, CVSS, exploitability, KEV, vendor, product,
/// version, fix), as JSON or CSV.
#[utoipa::path(get, path = "/api/v1/releases/{id}/table", tag = "advisories", security(("api_key" = [])),
    params(("id" = i64, Path, description = "release id"), TableParams),
    responses((status = 200, description = "JSON rows or text/csv"), (status = 404, body = Problem)))]
pub(crate) async fn release_table(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Query(p): Query<TableParams>,
) -> Result<Response, ApiError> {
    let (_, mask, advisories) = advisories::release_contents(&state, &caller.principal, id).await?;
    let withheld = mask.hides(isx_policy::FieldMask::EXPLOITABILITY);
    let csv = isx_formats::table::to_csv(&advisories, withheld);
    match p.format.as_deref().unwrap_or("json") {
        "csv" => Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response()),
        "json" => {
            let mut lines = csv.lines();
            let head: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
            let rows: Vec<serde_json::Value> = isx_formats::table::rows(&advisories, withheld)
                .into_iter()
                .map(|cells| {
                    serde_json::Value::Object(
                        head.iter()
                            .zip(cells)
                            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v)))
                            .collect(),
                    )
                })
                .collect();
            Ok(Json(rows).into_response())
        }
        other => Err(ApiError::invalid(format!(
            "unknown format {other:?}: use json or csv"
        ))),
    }
}

/// Search advisories you may see. Filters apply to what you may see: an
/// exploitability filter never matches data withheld from you.
#[utoipa::path(get, path = "/api/v1/advisories", tag = "advisories", security(("api_key" = [])), params(crate::api::wire::AdvisoryFilterParams),
    responses((status = 200, body = [AdvisoryDto]), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn search_advisories(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<
        Query<crate::api::wire::AdvisoryFilterParams>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Result<Json<Vec<AdvisoryDto>>, ApiError> {
    let Query(f) = q.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let found = advisories::search(&state, &caller.principal, &f.into()).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|(r, a)| advisory_dto(&r, a))
            .collect(),
    ))
}

/// One advisory.
#[utoipa::path(get, path = "/api/v1/advisories/{id}", tag = "advisories", security(("api_key" = [])),
    params(("id" = String, Path, description = "advisory id: a CVE id, or another id (GHSA-…, a vendor id) for a vulnerability without one")),
    responses((status = 200, body = AdvisoryDto), (status = 404, body = Problem)))]
pub(crate) async fn get_advisory(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(cve): Path<String>,
) -> Result<Json<AdvisoryDto>, ApiError> {
    let (r, a, _) = advisories::advisory(&state, &caller.principal, &cve).await?;
    Ok(Json(advisory_dto(&r, a)))
}

/// One advisory as a CSAF 2.0 document (`tracking.status` interim before
/// release, final after; exploitability omitted when withheld from you).
#[utoipa::path(get, path = "/api/v1/advisories/{id}/csaf", tag = "advisories", security(("api_key" = [])),
    params(("id" = String, Path, description = "advisory id: a CVE id, or another id (GHSA-…, a vendor id) for a vulnerability without one")),
    responses((status = 200, description = "CSAF 2.0 JSON"), (status = 404, body = Problem)))]
pub(crate) async fn advisory_csaf(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(cve): Path<String>,
) -> Result<Response, ApiError> {
    let (r, a, _) = advisories::advisory(&state, &caller.principal, &cve).await?;
    let doc = advisories::csaf(&state, &r, &a);
    Ok(([(header::CONTENT_TYPE, "application/json")], Json(doc)).into_response())
}

/// The status a new release may start in.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)] // schema only: never built, its variants name the values
pub enum ReleaseStatusName {
    Draft,
    Scheduled,
    Withdrawn,
}

/// Creates a release package (operator administrators).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReleaseRequest {
    /// 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    #[schema(value_type = String, format = DateTime, example = "2026-12-08T17:00:00Z")]
    pub release_at: Timestamp,
    #[serde(default)]
    pub notes: String,
    /// draft (default) or scheduled.
    #[serde(default)]
    #[schema(value_type = Option<ReleaseStatusName>)]
    pub status: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<crate::api::dto::TlpName>, example = "green")]
    pub marking: Option<Tlp>,
}

#[utoipa::path(post, path = "/api/v1/releases", tag = "advisories", security(("api_key" = [])), request_body = NewReleaseRequest,
    responses((status = 201, body = ReleaseDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn create_release(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<NewReleaseRequest>,
) -> Result<Response, ApiError> {
    caller.require_staff()?;
    let status = req
        .status
        .as_deref()
        .map(ReleaseStatus::parse)
        .transpose()
        .map_err(ApiError::invalid)?
        .unwrap_or(ReleaseStatus::Draft);
    let new = NewRelease {
        title: req.title,
        release_at: req.release_at,
        notes: req.notes,
        status,
        marking: req.marking.unwrap_or(Tlp::Green),
    };
    new.validate().map_err(ApiError::invalid)?;
    let r = state.store.insert_release(&new, state.clock.now()).await?;
    let dto = release_dto(&state, &r, isx_policy::FieldMask::NONE);
    Ok(noted(
        AuditNote::new("release.create", format!("release/{}", r.id)),
        (StatusCode::CREATED, Json(dto)),
    ))
}

/// Changes a release: schedule, move T, withdraw, retitle (operator
/// administrators). Each change is kept in the revision history.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseChange {
    #[schema(value_type = Option<ReleaseStatusName>)]
    pub status: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub release_at: Option<Timestamp>,
    pub title: Option<String>,
    pub notes: Option<String>,
    /// What changed, for the revision history.
    #[schema(min_length = 1, pattern = r"\S")]
    pub summary: String,
}

#[utoipa::path(patch, path = "/api/v1/releases/{id}", tag = "advisories", security(("api_key" = [])), request_body = ReleaseChange,
    params(("id" = i64, Path, description = "release id")),
    responses((status = 200, body = ReleaseDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn change_release(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<ReleaseChange>,
) -> Result<Response, ApiError> {
    caller.require_staff()?;
    let now = state.clock.now();
    let (mut r, _) = advisories::visible_release(&state, &caller.principal, id).await?;
    let change = isx_advisories::ReleaseChange {
        status: req
            .status
            .as_deref()
            .map(ReleaseStatus::parse)
            .transpose()
            .map_err(ApiError::invalid)?,
        release_at: req.release_at,
        title: req.title,
        notes: req.notes,
    };
    r.revise(change, &req.summary, now)
        .map_err(|e| ApiError::Validation {
            detail: e.to_string(),
            pointer: Some("/summary".into()),
        })?;
    let r = state.store.update_release(&r).await?;
    Ok(noted(
        AuditNote::new("release.change", format!("release/{id}")),
        Json(release_dto(&state, &r, isx_policy::FieldMask::NONE)),
    ))
}

/// Outcome of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportOutcomeDto {
    pub created: usize,
    pub revised: usize,
    pub unchanged: usize,
    /// The ids of the advisories the document gave (CVE ids, other ids,
    /// an informational advisory's tracking id), in document order.
    pub stored: Vec<String>,
    /// E.g. a supplied CVSS score that disagrees with its vector, a
    /// vulnerability stored under another id than a CVE id.
    pub warnings: Vec<String>,
}

/// A CSAF 2.0 document (schema only: the server checks it against CSAF's
/// schema and its mandatory tests).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // schema only
pub(crate) struct CsafBody {
    #[schema(value_type = Object)]
    document: serde_json::Value,
    #[schema(value_type = Option<Object>)]
    product_tree: Option<serde_json::Value>,
    #[schema(value_type = Option<Vec<Object>>)]
    vulnerabilities: Option<Vec<serde_json::Value>>,
}

/// Imports one CSAF 2.0 document or CVE JSON 5 record into a release (operator administrators):
/// validated against the schema (422 with the JSON pointer of the problem),
/// stored all-or-nothing, idempotent, changed advisories revised.
#[utoipa::path(post, path = "/api/v1/releases/{id}/advisories", tag = "advisories", security(("api_key" = [])),
    params(("id" = i64, Path, description = "release id")),
    request_body(content = CsafBody, description = "a CSAF 2.0 document"),
    responses((status = 200, body = ImportOutcomeDto), (status = 403, body = Problem), (status = 404, body = Problem, description = "no such release"), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn import_advisories(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    ApiJson(doc): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    caller.require_staff()?;
    let (release, _) = advisories::visible_release(&state, &caller.principal, id).await?;
    let bytes = serde_json::to_vec(&doc).map_err(|e| ApiError::Internal(e.to_string()))?;
    let located = |e: isx_formats::FormatError| ApiError::Validation {
        detail: e.to_string(),
        pointer: e.pointer().map(str::to_owned),
    };
    let (advisories, warnings) = if isx_formats::cve5::is_cve_record(&doc) {
        let (a, w) = isx_formats::cve5::parse(&bytes).map_err(located)?;
        (vec![a], w)
    } else {
        let parsed = isx_formats::csaf::parse(&bytes).map_err(located)?;
        release
            .admits(parsed.tlp)
            .map_err(|e| ApiError::Validation {
                detail: e.to_string(),
                pointer: Some("/document/distribution/tlp/label".into()),
            })?;
        (parsed.advisories, parsed.warnings)
    };
    let out = state
        .store
        .put_advisories(id, &advisories, "Imported", state.clock.now())
        .await?;
    let dto = ImportOutcomeDto {
        created: out.created,
        revised: out.revised,
        unchanged: out.unchanged,
        stored: advisories.iter().map(|a| a.id.to_string()).collect(),
        warnings,
    };
    Ok(noted(
        AuditNote::new("advisories.import", format!("release/{id}")),
        Json(dto),
    ))
}

/// The most an EPSS upload may be (FIRST's gzipped daily file is about 2 MB).
pub(crate) const MAX_EPSS_UPLOAD: usize = 64 * 1024 * 1024;

/// What an EPSS import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct EpssImportDto {
    /// The file's score date and model.
    pub date: String,
    pub model_version: String,
    /// Scores in the file.
    pub scores: usize,
    /// Scores of CVEs isx has advisories for, new or changed.
    pub stored: usize,
    /// Scores of other CVEs, not kept.
    pub other_cves: usize,
}

/// Imports one of FIRST's daily EPSS files (operator administrators): the
/// body is `epss_scores-YYYY-MM-DD.csv.gz` as downloaded, or the CSV
/// inside it. Scores are kept per CVE and day for the CVEs isx has
/// advisories for, in one transaction; the same file again changes nothing.
#[utoipa::path(post, path = "/api/v1/advisories/epss", tag = "advisories", security(("api_key" = [])),
    request_body(content = String, content_type = "text/csv", description = "FIRST's EPSS CSV (gzipped or not)"),
    responses((status = 200, body = EpssImportDto), (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn import_epss(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    caller.require_staff()?;
    let file = advisories::read_epss(&body, None)?;
    let out = advisories::import_epss(state.store.as_ref(), &file).await?;
    Ok(noted(
        AuditNote::new("advisories.epss", format!("epss/{}", file.date)),
        Json(EpssImportDto {
            date: file.date,
            model_version: file.model_version,
            scores: out.scores,
            stored: out.stored,
            other_cves: out.other_cves,
        }),
    ))
}

/// One day's EPSS score.
#[derive(Debug, Serialize, ToSchema)]
pub struct EpssDto {
    pub date: String,
    pub epss: f64,
    pub percentile: f64,
    pub model_version: String,
}

/// An advisory's EPSS history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EpssHistoryDto {
    pub cve: String,
    /// True while exploitability data is withheld from you (before the
    /// 24-hour window): `scores` is then empty whatever is stored.
    pub withheld: bool,
    /// Oldest first.
    pub scores: Vec<EpssDto>,
}

/// The EPSS history of an advisory you may see (exploitability data:
/// withheld until the 24-hour window).
#[utoipa::path(get, path = "/api/v1/advisories/{id}/epss", tag = "advisories", security(("api_key" = [])),
    params(("id" = String, Path, description = "advisory id: a CVE id, or another id (GHSA-…, a vendor id) for a vulnerability without one")),
    responses((status = 200, body = EpssHistoryDto), (status = 404, body = Problem)))]
pub(crate) async fn advisory_epss(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(cve): Path<String>,
) -> Result<Json<EpssHistoryDto>, ApiError> {
    let history = advisories::epss_history(&state, &caller.principal, &cve).await?;
    Ok(Json(EpssHistoryDto {
        cve: cve.to_ascii_uppercase(),
        withheld: history.is_none(),
        scores: history
            .unwrap_or_default()
            .into_iter()
            .map(|e| EpssDto {
                date: e.date,
                epss: e.epss,
                percentile: e.percentile,
                model_version: e.model_version,
            })
            .collect(),
    }))
}

/// A notification as the member sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationDto {
    /// Opaque: not a row number (it tells nothing of others' notifications).
    pub id: i64,
    pub release: i64,
    /// advance, release or revision
    pub kind: String,
    pub at: String,
    pub message: String,
}

/// Your notifications, newest first. A notification about a release you may
/// no longer see (withdrawn) is not shown.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "advisories", security(("api_key" = [])),
    responses((status = 200, body = [NotificationDto])))]
pub(crate) async fn list_notifications(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<NotificationDto>>, ApiError> {
    let visible: std::collections::HashSet<i64> =
        advisories::visible_releases(&state, &caller.principal)
            .await?
            .into_iter()
            .map(|(r, _)| r.id)
            .collect();
    let list = state.store.notifications(caller.member.id, 200).await?;
    let ids = state.wire_ids().await?;
    Ok(Json(
        list.into_iter()
            .filter(|n| visible.contains(&n.release))
            .map(|n| NotificationDto {
                id: ids.encode(isx_app::wire_ids::IdKind::Notification, n.id),
                release: n.release,
                kind: n.kind,
                at: n.at.to_rfc3339(),
                message: n.message,
            })
            .collect(),
    ))
}

/// Registers (or replaces) your webhook.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// An https URL.
    #[schema(max_length = 2000, pattern = r"^https://[^\s]+$")]
    pub url: String,
    /// Shared secret for the `X-Isx-Signature: sha256=<hex HMAC-SHA256>` header (16+ characters).
    #[schema(min_length = 16)]
    pub secret: String,
}

/// Sets the caller's organisation's webhook (its administrators: a
/// member-admin key or user, or the operator's administrators).
#[utoipa::path(put, path = "/api/v1/webhook", tag = "advisories", security(("api_key" = [])), request_body = WebhookRequest,
    responses((status = 204), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn put_webhook(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<WebhookRequest>,
) -> Result<Response, ApiError> {
    // Where the organisation's notifications go is its administrators'.
    isx_app::admin::set_webhook(
        state.store.as_ref(),
        state.clock.as_ref(),
        Some(&caller.authority()),
        caller.member.id,
        &req.url,
        &req.secret,
        state.config.webhook_allow_private,
    )
    .await?;
    Ok(noted(
        AuditNote::new("webhook.put", format!("member/{}", caller.member.id)),
        StatusCode::NO_CONTENT,
    ))
}

/// A webhook delivery and its status.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDto {
    /// Opaque: not a row number.
    pub id: i64,
    pub member: i64,
    pub url: String,
    /// pending, delivered or failed
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
}

/// Webhook deliveries and their status (operator administrators: all;
/// members: their own).
#[utoipa::path(get, path = "/api/v1/webhook-deliveries", tag = "advisories", security(("api_key" = [])),
    responses((status = 200, body = [DeliveryDto])))]
pub(crate) async fn list_deliveries(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<DeliveryDto>>, ApiError> {
    // Narrow in SQL for members; the policy function still decides each row.
    let narrow = (!caller.is_admin()).then_some(caller.member.id);
    let list = state.store.deliveries(narrow, 500).await?;
    let ids = state.wire_ids().await?;
    Ok(Json(
        list.into_iter()
            .filter(|d| {
                isx_app::records::may_see(&state, &caller, &isx_app::records::webhook_delivery(d))
            })
            .map(|d| DeliveryDto {
                id: ids.encode(isx_app::wire_ids::IdKind::WebhookDelivery, d.id),
                member: d.member.0,
                url: d.url,
                status: d.status,
                attempts: d.attempts,
                next_attempt_at: d.next_attempt_at.to_rfc3339(),
                last_error: d.last_error,
                delivered_at: d.delivered_at.map(Timestamp::to_rfc3339),
            })
            .collect(),
    ))
}

/// The ROLIE feed of CSAF documents the caller may see now.
#[utoipa::path(get, path = "/csaf/feed.json", tag = "advisories", security(("api_key" = [])),
    responses((status = 200, description = "ROLIE feed (JSON)"), (status = 401, body = Problem)))]
pub(crate) async fn rolie_feed(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let base = state.public_url().to_owned();
    let found = advisories::search(&state, &caller.principal, &AdvisoryFilter::default()).await?;
    let entries: Vec<serde_json::Value> = found
        .iter()
        .map(|(r, a)| {
            let url = format!("{base}/api/v1/advisories/{}/csaf", a.id);
            let updated = a.revisions.last().map_or(r.release_at, |x| x.date.max(r.release_at));
            serde_json::json!({
                "id": advisories::tracking_id(a),
                "title": a.title,
                "link": [{"rel": "self", "href": url}],
                "published": r.release_at.to_rfc3339(),
                "updated": updated.to_rfc3339(),
                "content": {"type": "application/json", "src": url},
                "format": {"schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json", "version": "2.0"}
            })
        })
        .collect();
    Ok(Json(serde_json::json!({"feed": {
        "id": "isx-csaf-feed",
        "title": "isx CSAF advisories",
        "link": [{"rel": "self", "href": format!("{base}/csaf/feed.json")}],
        "category": [{"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}],
        "updated": state.clock.now().to_rfc3339(),
        "entry": entries
    }})))
}
