//! Partnership over REST: contributions to trust groups, their versions,
//! discussion and attachments, share requests and their approval, group
//! rules, reporting status and dashboards. The operations live in
//! `isx_app::partnership` (shared with the web pages); this is the wire.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use isx_domain::{GroupId, MemberId};
use isx_partnership::{
    Attachment, Comment, ContributionId, Dashboard, Finding, GroupRules, NewContribution,
    PiiChoices, ReportingStatus, ShareTarget,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{noted, AuditNote};
use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::AppState;
use isx_app::partnership::{self as ops, CommentDraft, Draft, Seen};

/// The answer to the personal-data detector: the findings (their exact
/// text) to replace by a placeholder, and those to keep knowingly.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // schema only: `isx_partnership::PiiChoices` is read
pub struct PiiChoicesDto {
    #[serde(default)]
    pub redact: Vec<String>,
    #[serde(default)]
    pub keep: Vec<String>,
}

/// A member as contributions name it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorDto {
    pub id: i64,
    pub name: String,
}

/// A contribution as the caller may see it. `author` is absent when the
/// contribution is anonymous (or the group hides its member list) and the
/// caller is neither its author nor the operator.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContributionDto {
    pub id: i64,
    pub group: i64,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<AuthorDto>,
    /// title, description, marking, anonymous, details
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub content: NewContribution,
    pub version: u32,
    pub created_at: String,
    pub updated_at: String,
    pub origin: Option<i64>,
    pub stix_id: String,
}

pub(crate) type Names = HashMap<MemberId, String>;

pub(crate) async fn names(state: &AppState) -> Result<Names, ApiError> {
    Ok(state
        .store
        .members()
        .await?
        .into_iter()
        .map(|m| (m.id, m.name.to_string()))
        .collect())
}

fn author(names: &Names, id: Option<MemberId>) -> Option<AuthorDto> {
    id.map(|id| AuthorDto {
        id: id.0,
        name: names.get(&id).cloned().unwrap_or_default(),
    })
}

impl ContributionDto {
    pub(crate) fn new(s: &Seen, names: &Names) -> Self {
        ContributionDto {
            id: s.c.id.0,
            group: s.c.group.0,
            kind: s.c.kind().to_string(),
            author: author(names, s.author),
            content: s.c.content.clone(),
            version: s.c.version,
            created_at: s.c.created_at.to_rfc3339(),
            updated_at: s.c.updated_at.to_rfc3339(),
            origin: s.c.origin.map(|o| o.0),
            stix_id: s.c.stix_id.clone(),
        }
    }
}

/// A contribution its author just posted or edited, as the author sees it.
async fn own_view(
    state: &AppState,
    c: isx_partnership::Contribution,
) -> Result<ContributionDto, ApiError> {
    let names = names(state).await?;
    Ok(ContributionDto::new(
        &Seen {
            author: Some(c.author),
            c,
        },
        &names,
    ))
}

/// A comment as the caller may see it, with its depth in the thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentDto {
    pub id: i64,
    pub parent: Option<i64>,
    pub depth: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<AuthorDto>,
    pub anonymous: bool,
    pub text: String,
    pub created_at: String,
}

/// A contribution with its attachments and discussion.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContributionDetailDto {
    #[serde(flatten)]
    pub contribution: ContributionDto,
    #[schema(value_type = Vec<Object>)]
    pub attachments: Vec<Attachment>,
    pub comments: Vec<CommentDto>,
}

/// A new contribution, or an edit: the content, and for each finding of
/// the PII detector whether to redact it or keep it knowingly. Every field
/// is named; an unknown one is refused with 422 (a misspelt `anonymus`
/// must not post under the author's name).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftRequest {
    #[schema(min_length = 1, pattern = r"\S")]
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// clear, green, amber or amber+strict (TLP:RED is refused: it is for
    /// named individuals, not groups)
    #[schema(value_type = crate::api::dto::GroupTlpName)]
    pub marking: isx_domain::Tlp,
    #[serde(default)]
    pub anonymous: bool,
    /// `{"kind":"incident","impact":"high","status":"open","techniques":["T1486"],...}`,
    /// `{"kind":"sighting","indicator_type":"ipv4","value":"…","count":3,"first_seen":"…","last_seen":"…"}`,
    /// `{"kind":"indicator","indicator_type":"url","value":"…"}`, `{"kind":"mitigation","techniques":[…]}`
    /// or `{"kind":"analysis"}`
    #[schema(value_type = crate::api::dto::DetailsDto)]
    pub details: isx_partnership::Details,
    /// `{"redact":["jane@corp.example"],"keep":["203.0.113.9"]}`
    #[serde(default)]
    #[schema(value_type = PiiChoicesDto)]
    pub pii: PiiChoices,
    /// For edits: the version being edited (a stale one is refused with 409).
    #[serde(default)]
    pub version: Option<u32>,
}

impl DraftRequest {
    /// The version being edited (for edits) and the draft.
    fn into_parts(self) -> (Option<u32>, Draft) {
        let draft = Draft {
            content: isx_partnership::NewContribution {
                title: self.title,
                description: self.description,
                marking: self.marking,
                anonymous: self.anonymous,
                details: self.details,
            },
            pii: self.pii,
        };
        (self.version, draft)
    }
}

/// The group's contributions the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/groups/{id}/contributions", tag = "partnership", security(("api_key" = [])),
    params(("id" = i64, Path, description = "group id")),
    responses((status = 200, body = [ContributionDto]), (status = 404, body = Problem)))]
pub(crate) async fn list_contributions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ContributionDto>>, ApiError> {
    let access = ops::group_for(&state, &caller, GroupId(id)).await?;
    let names = names(&state).await?;
    let list = ops::list(&state, &caller, &access.group).await?;
    Ok(Json(
        list.iter()
            .map(|s| ContributionDto::new(s, &names))
            .collect(),
    ))
}

/// Posts a contribution (owners and contributors of an open group). If the
/// PII detector finds personal data that `pii` neither redacts nor keeps,
/// nothing is posted: 422 lists each finding (`/pii/<kind>`, its text).
#[utoipa::path(post, path = "/api/v1/groups/{id}/contributions", tag = "partnership", security(("api_key" = [])),
    params(("id" = i64, Path, description = "group id")), request_body = DraftRequest,
    responses((status = 201, body = ContributionDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "invalid, or personal data not yet redacted or kept")))]
pub(crate) async fn create_contribution(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    ApiJson(wire): ApiJson<DraftRequest>,
) -> Result<Response, ApiError> {
    let (_, draft) = wire.into_parts();
    let c = ops::create(&state, &caller, GroupId(id), draft).await?;
    let dto = own_view(&state, c).await?;
    Ok(noted(
        AuditNote::new(
            "contribution.create",
            format!("group/{id}/contribution/{}", dto.id),
        ),
        (StatusCode::CREATED, Json(dto)),
    ))
}

async fn detail(
    state: &AppState,
    caller: &Caller,
    id: ContributionId,
) -> Result<ContributionDetailDto, ApiError> {
    let (_, s) = ops::get(state, caller, id).await?;
    let names = names(state).await?;
    let attachments = state.store.attachments(id).await?;
    let comments = ops::discussion(state, caller, id)
        .await?
        .into_iter()
        .map(|(depth, k)| CommentDto {
            id: k.comment.id,
            parent: k.comment.parent,
            depth,
            author: author(&names, k.author),
            anonymous: k.comment.anonymous,
            text: k.comment.text,
            created_at: k.comment.created_at.to_rfc3339(),
        })
        .collect();
    Ok(ContributionDetailDto {
        contribution: ContributionDto::new(&s, &names),
        attachments,
        comments,
    })
}

/// One contribution with its attachments and discussion.
#[utoipa::path(get, path = "/api/v1/contributions/{id}", tag = "partnership", security(("api_key" = [])),
    params(("id" = i64, Path, description = "contribution id")),
    responses((status = 200, body = ContributionDetailDto), (status = 404, body = Problem)))]
pub(crate) async fn get_contribution(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Json<ContributionDetailDto>, ApiError> {
    Ok(Json(detail(&state, &caller, ContributionId(id)).await?))
}

/// Edits a contribution (its author, while the group is open). Send the
/// `version` being edited; every earlier version is kept.
#[utoipa::path(put, path = "/api/v1/contributions/{id}", tag = "partnership", security(("api_key" = [])),
    params(("id" = i64, Path, description = "contribution id")), request_body = DraftRequest,
    responses((status = 200, body = ContributionDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "edited meanwhile"), (status = 422, body = Problem)))]
pub(crate) async fn edit_contribution(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    ApiJson(wire): ApiJson<DraftRequest>,
) -> Result<Response, ApiError> {
    let (version, draft) = wire.into_parts();
    let version = version.ok_or_else(|| ApiError::Validation {
        detail: "send the version being edited".into(),
        pointer: Some("/version".into()),
    })?;
    let c = ops::edit(&state, &caller, ContributionId(id), version, draft).await?;
    let dto = own_view(&state, c).await?;
    Ok(noted(
        AuditNote::new(
            "contribution.edit",
            format!("contribution/{id}/version/{}", dto.version),
        ),
        Json(dto),
    ))
}

/// A version of a contribution.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionDto {
    pub version: u32,
    pub edited_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub editor: Option<AuthorDto>,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub content: NewContribution,
}

/// Every version of a contribution, oldest first.
#[utoipa::path(get, path = "/api/v1/contributions/{id}/versions", tag = "partnership", security(("api_key" = [])),
    params(("id" = i64, Path, description = "contribution id")),
    responses((status = 200, body = [VersionDto]), (status = 404, body = Problem)))]
pub(crate) async fn contribution_versions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<VersionDto>>, ApiError> {
    let names = names(&state).await?;
    let versions = ops::history(&state, &caller, ContributionId(id)).await?;
    Ok(Json(
        versions
            .into_iter()
            .map(|v| VersionDto {
                version: v.version,
                edited_at: v.edited_at.to_rfc3339(),
                editor: author(&names, (v.editor.0 != 0).then_some(v.editor)),
                content: v.content,
            })
            .collect(),
    ))
}

/// A comment to post. Unknown fields are refused (422): a misspelt
/// `anonymus` must not post under the author's name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    pub text: String,
    /// The comment it answers.
    #[serde(default)]
    pub parent: Option<i64>,
    #[serde(default)]
    pub anonymous: bool,
    #[serde(default)]
    #[schema(value_type = PiiChoicesDto)]
    pub pii: PiiChoices,
}

/// Comments on a contribution (owners and contributors of an open group).
#[utoipa::path(post, path = "/api/v1/contributions/{id}/comments", tag = "partnership", security(("api_key" = [])),
    params(("id" = i64, Path, description = "contribution id")), request_body = CommentRequest,
    responses((status = 201, body = Object), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn create_comment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<CommentRequest>,
) -> Result<Response, ApiError> {
    let draft = CommentDraft {
        comment: isx_partnership::NewComment {
            text: req.text,
            parent: req.parent,
            anonymous: req.anonymous,
        },
        pii: req.pii,
    };
    let k: Comment = ops::comment(&state, &caller, ContributionId(id), draft).await?;
    Ok(noted(
        AuditNote::new(
            "comment.create",
            format!("contribution/{id}/comment/{}", k.id),
        ),
        (
            StatusCode::CREATED,
            Json(
                serde_json::json!({"id": k.id, "parent": k.parent, "anonymous": k.anonymous, "text": k.text, "created_at": k.created_at}),
            ),
        ),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AttachParams {
    /// The file name.
    name: String,
    /// Personal data found in the name or the file to replace by a
    /// placeholder (comma-separated finding texts; text files only).
    #[serde(default)]
    redact: Option<String>,
    /// Personal data found in the name or the file to keep knowingly
    /// (comma-separated finding texts).
    #[serde(default)]
    keep: Option<String>,
}

fn list_param(p: &Option<String>) -> Vec<String> {
    p.as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Attaches a file (the body, at most 5 MiB, with its Content-Type) to a
/// contribution (its author, while the group is open). Its name and body
/// are reviewed for personal data like a contribution (text files whole,
/// other files by their text runs): every finding must be listed in
/// `redact` or `keep`, else 422 lists them; isx redacts only in text files.
#[utoipa::path(post, path = "/api/v1/contributions/{id}/attachments", tag = "partnership", security(("api_key" = [])),
    params(("id" = i64, Path, description = "contribution id"), AttachParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Object), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn attach(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    params: Result<Query<AttachParams>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let media = crate::extract::media_type(&headers);
    let media = if media.is_empty() {
        "application/octet-stream".to_owned()
    } else {
        media
    };
    let pii = isx_partnership::PiiChoices {
        redact: list_param(&p.redact),
        keep: list_param(&p.keep),
    };
    let a = ops::attach(
        &state,
        &caller,
        ContributionId(id),
        &p.name,
        &media,
        &body,
        &pii,
    )
    .await?;
    Ok(noted(
        AuditNote::new(
            "attachment.create",
            format!("contribution/{id}/attachment/{}", a.id),
        ),
        (StatusCode::CREATED, Json(a)),
    ))
}

/// Downloads an attachment (always as a download, never rendered).
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "partnership", security(("api_key" = [])),
    params(("id" = i64, Path, description = "attachment id")),
    responses((status = 200, body = Vec<u8>), (status = 404, body = Problem)))]
pub(crate) async fn download_attachment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (a, bytes) = ops::attachment(&state, &caller, id).await?;
    Ok(attachment_response(&a, bytes))
}

/// An attachment as a download: the browser never renders it in isx's
/// origin (an HTML attachment could otherwise run script there).
pub(crate) fn attachment_response(a: &Attachment, bytes: Vec<u8>) -> Response {
    let safe: String = a
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

/// Asks to share a contribution wider than its group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareRequestBody {
    /// `{"kind":"group","group":7}` or `{"kind":"url-feed"}`
    #[schema(value_type = crate::api::dto::ShareTargetDto)]
    pub target: ShareTarget,
    #[serde(default)]
    pub reason: String,
    /// Answers to the PII detector for the reason (`redact` / `keep`).
    #[serde(default)]
    #[schema(value_type = PiiChoicesDto)]
    pub pii: isx_partnership::PiiChoices,
}

/// A share request as the caller may see it. `requested_by` is absent
/// when the contribution's group hides its member list (unless you asked).
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareDto {
    pub id: i64,
    pub contribution: i64,
    #[schema(value_type = crate::api::dto::ShareTargetDto)]
    pub target: ShareTarget,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<i64>,
    pub requested_at: String,
    pub reason: String,
    pub status: String,
    pub decided_at: Option<String>,
    /// The copy made in the target group, once approved.
    pub copy: Option<i64>,
    pub contribution_title: String,
    /// Whether the caller is the owning member, who approves or rejects.
    pub decides: bool,
    /// What the PII detector finds in the contribution (for the approver).
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Finding>,
}

fn share_dto(s: ops::SeenShare) -> ShareDto {
    let findings = if s.decides {
        isx_partnership::findings(&s.contribution.content)
    } else {
        Vec::new()
    };
    let r = s.request;
    ShareDto {
        id: r.id,
        contribution: r.contribution.0,
        target: r.target,
        requested_by: s.requester_shown.then_some(r.requested_by.0),
        requested_at: r.requested_at.to_rfc3339(),
        reason: r.reason,
        status: r.status.as_str().to_owned(),
        decided_at: r.decided_at.map(|t| t.to_rfc3339()),
        copy: r.copy.map(|c| c.0),
        contribution_title: s.contribution.content.title.clone(),
        decides: s.decides,
        findings,
    }
}

/// Requests that a contribution be shared with another group (a member of
/// both) or into the malicious-URL feed (URL indicators). The member that
/// owns the contribution decides.
#[utoipa::path(post, path = "/api/v1/contributions/{id}/shares", tag = "partnership", security(("api_key" = [])),
    params(("id" = i64, Path, description = "contribution id")), request_body = ShareRequestBody,
    responses((status = 201, body = ShareDto), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn request_share(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ShareRequestBody>,
) -> Result<Response, ApiError> {
    let r = ops::request_share(
        &state,
        &caller,
        ContributionId(id),
        body.target,
        &body.reason,
        &body.pii,
    )
    .await?;
    let s = ops::share(&state, &caller, r.id).await?;
    Ok(noted(
        AuditNote::new("share.request", format!("contribution/{id}/share/{}", r.id)),
        (StatusCode::CREATED, Json(share_dto(s))),
    ))
}

/// The share requests the caller made or must decide, newest first.
#[utoipa::path(get, path = "/api/v1/shares", tag = "partnership", security(("api_key" = [])),
    responses((status = 200, body = [ShareDto])))]
pub(crate) async fn list_shares(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<ShareDto>>, ApiError> {
    Ok(Json(
        ops::shares(&state, &caller)
            .await?
            .into_iter()
            .map(share_dto)
            .collect(),
    ))
}

/// The owning member's decision on a share request.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// For approval: each PII finding redacted or kept for the wider audience.
    #[serde(default)]
    #[schema(value_type = PiiChoicesDto)]
    pub pii: PiiChoices,
}

/// Approves a share request (the owning member only): a copy, redacted as
/// chosen, is posted to the target group (or the URL enters the feed).
#[utoipa::path(post, path = "/api/v1/shares/{id}/approve", tag = "partnership", security(("api_key" = [])),
    params(("id" = i64, Path, description = "share request id")), request_body = DecisionBody,
    responses((status = 200, body = ShareDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn approve_share(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Response, ApiError> {
    ops::decide_share(&state, &caller, id, true, &body.pii).await?;
    let s = ops::share(&state, &caller, id).await?;
    Ok(noted(
        AuditNote::new("share.approve", format!("share/{id}")),
        Json(share_dto(s)),
    ))
}

/// Rejects a share request (the owning member only).
#[utoipa::path(post, path = "/api/v1/shares/{id}/reject", tag = "partnership", security(("api_key" = [])),
    params(("id" = i64, Path, description = "share request id")),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn reject_share(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    ops::decide_share(&state, &caller, id, false, &PiiChoices::default()).await?;
    let s = ops::share(&state, &caller, id).await?;
    Ok(noted(
        AuditNote::new("share.reject", format!("share/{id}")),
        Json(share_dto(s)),
    ))
}

/// The group's rules: retention and reporting duties.
#[utoipa::path(get, path = "/api/v1/groups/{id}/rules", tag = "partnership", security(("api_key" = [])),
    params(("id" = i64, Path, description = "group id")),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
pub(crate) async fn get_rules(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Json<GroupRules>, ApiError> {
    let access = ops::group_for(&state, &caller, GroupId(id)).await?;
    Ok(Json(state.store.group_rules(access.group.id).await?))
}

/// Sets the group's rules (owners and operator administrators):
/// `{"retention_days":365,"mandatory":["incident"],"report_period_days":30}`.
#[utoipa::path(put, path = "/api/v1/groups/{id}/rules", tag = "partnership", security(("api_key" = [])),
    params(("id" = i64, Path, description = "group id")), request_body = crate::api::dto::GroupRulesDto,
    responses((status = 200, body = crate::api::dto::GroupRulesDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn put_rules(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    ApiJson(rules): ApiJson<GroupRules>,
) -> Result<Response, ApiError> {
    let rules = ops::put_rules(&state, &caller, GroupId(id), rules).await?;
    Ok(noted(
        AuditNote::new("group.rules", format!("group/{id}")),
        Json(rules),
    ))
}

/// Who has reported in the group's mandatory categories this period (the
/// group's owners and the operator).
#[utoipa::path(get, path = "/api/v1/groups/{id}/reporting", tag = "partnership", security(("api_key" = [])),
    params(("id" = i64, Path, description = "group id")),
    responses((status = 200, body = [Object]), (status = 404, body = Problem)))]
pub(crate) async fn reporting(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ReportingStatus>>, ApiError> {
    Ok(Json(ops::reporting(&state, &caller, GroupId(id)).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DaysParams {
    /// The period, in days up to now (1–366; 30 by default).
    days: Option<u32>,
}

/// A group's dashboard: activity per day and kind, top ATT&CK techniques
/// and sectors, open incidents.
#[utoipa::path(get, path = "/api/v1/groups/{id}/dashboard", tag = "partnership", security(("api_key" = [])),
    params(("id" = i64, Path, description = "group id"), DaysParams),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
pub(crate) async fn group_dashboard(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Query(p): Query<DaysParams>,
) -> Result<Json<Dashboard>, ApiError> {
    Ok(Json(
        ops::dashboard(&state, &caller, Some(GroupId(id)), p.days.unwrap_or(30)).await?,
    ))
}

/// The dashboard over every group the caller may see (the operator: all).
#[utoipa::path(get, path = "/api/v1/partnership/dashboard", tag = "partnership", security(("api_key" = [])),
    params(DaysParams), responses((status = 200, body = Object)))]
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(p): Query<DaysParams>,
) -> Result<Json<Dashboard>, ApiError> {
    Ok(Json(
        ops::dashboard(&state, &caller, None, p.days.unwrap_or(30)).await?,
    ))
}

/// Texts to run the PII detector over.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PiiCheckRequest {
    pub texts: Vec<String>,
}

/// What the PII detector finds (e-mail addresses, IP addresses, phone
/// numbers, names): the same check contributions go through.
#[utoipa::path(post, path = "/api/v1/pii/check", tag = "partnership", security(("api_key" = [])),
    request_body = PiiCheckRequest, responses((status = 200, body = [Object])))]
pub(crate) async fn pii_check(ApiJson(req): ApiJson<PiiCheckRequest>) -> Json<Vec<Finding>> {
    Json(isx_partnership::findings_in(
        req.texts.iter().map(String::as_str),
    ))
}

/// The largest MISP document one import takes.
pub const MAX_MISP_IMPORT: usize = 32 << 20;

/// How to import MISP events. The body is the MISP JSON as MISP exports it
/// (`{"Event": …}`, a list of events, or a REST search answer), or
/// `{"misp": <that>, "pii": {"redact": [...], "keep": [...]}}` to answer
/// the personal-data detector finding by finding.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MispImportParams {
    /// `redact-all`: replace every personal-data finding by a placeholder
    /// (otherwise each must be answered, as for a contribution by hand).
    #[param(pattern = r"^redact-all$")]
    pub pii: Option<String>,
    /// Publish the contributions without the member's name.
    pub anonymous: Option<bool>,
}

/// Imports MISP events into a trust group as the caller's contributions:
/// indicators from attributes meant for detection (`to_ids`), sightings
/// from MISP sightings, an incident from an event naming ATT&CK techniques
/// or tagged as an incident. MISP UUIDs become the STIX ids, tags are kept,
/// TLP tags give the markings (unmarked: TLP:AMBER; TLP:RED refuses the
/// import). All or nothing; importing the same events again adds nothing.
#[utoipa::path(post, path = "/api/v1/groups/{id}/import/misp", tag = "partnership", security(("api_key" = [])),
    params(("id" = i64, Path, description = "group id"), MispImportParams),
    request_body(content = Object, content_type = "application/json", description = "MISP event JSON"),
    responses((status = 200, body = Object, description = "{events, added, unchanged, skipped, redacted, kept}"),
        (status = 400, body = Problem, description = "not JSON, or not MISP events"),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem, description = "an attribute isx refuses (with its pointer), TLP:RED, or personal data not yet redacted or kept")))]
pub(crate) async fn import_misp(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Query(params): Query<MispImportParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let media = crate::extract::media_type(&headers);
    if media != "application/json" {
        return Err(ApiError::UnsupportedMediaType(format!(
            "send the MISP JSON as application/json, not {media:?}"
        )));
    }
    let mut answer = isx_app::misp_import::PiiAnswer::default();
    match params.pii.as_deref() {
        None => {}
        Some("redact-all") => answer.redact_all = true,
        Some(other) => {
            return Err(ApiError::Validation {
                detail: format!("pii: {other:?} is not an answer; use redact-all, or send pii.redact / pii.keep in the body"),
                pointer: None,
            })
        }
    }
    // The wrapped form carries the answers finding by finding.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Wrapped {
        misp: serde_json::Value,
        #[serde(default)]
        pii: PiiChoices,
    }
    let wrapped = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .filter(|v| v.get("misp").is_some())
        .map(serde_json::from_value::<Wrapped>)
        .transpose()
        .map_err(|e| {
            ApiError::BadRequest(format!(
                "the wrapped form is {{\"misp\": …, \"pii\": …}}: {e}"
            ))
        })?;
    let doc = match wrapped {
        Some(w) => {
            answer.choices = w.pii;
            serde_json::to_vec(&w.misp).map_err(|e| ApiError::BadRequest(e.to_string()))?
        }
        None => body.to_vec(),
    };
    let outcome = isx_app::misp_import::import(
        &state,
        &caller,
        GroupId(id),
        &doc,
        params.anonymous.unwrap_or(false),
        &answer,
    )
    .await?;
    Ok(noted(
        AuditNote::new(
            "contribution.import",
            format!(
                "group/{id}/misp/{}-events/{}-added",
                outcome.events, outcome.added
            ),
        ),
        Json(outcome),
    ))
}
