use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use isx_domain::{GroupId, MemberId, NewTrustGroup};

use super::dto::{GroupDto, JoinRequest, MembershipDto, NewGroupRequest};
use crate::audit::{noted, AuditNote};
use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::AppState;
use isx_app::admin;
use isx_app::records;

/// Trust groups the caller belongs to (all of them for the operator).
#[utoipa::path(get, path = "/api/v1/groups", tag = "groups", security(("api_key" = [])),
    responses((status = 200, body = [GroupDto])))]
pub(crate) async fn list_groups(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<GroupDto>>, ApiError> {
    let groups = state.store.groups().await?;
    Ok(Json(
        groups
            .iter()
            .filter(|g| records::may_see(&state, &caller, &records::group(g)))
            .map(GroupDto::from)
            .collect(),
    ))
}

async fn visible_group(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<isx_domain::TrustGroup, ApiError> {
    state
        .store
        .group(GroupId(id))
        .await?
        .filter(|g| records::may_see(state, caller, &records::group(g)))
        .ok_or_else(|| ApiError::not_found(format!("trust group {id}")))
}

/// One trust group.
#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "groups", security(("api_key" = [])),
    params(("id" = i64, Path, description = "group id")),
    responses((status = 200, body = GroupDto), (status = 404, body = Problem)))]
pub(crate) async fn get_group(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Json<GroupDto>, ApiError> {
    Ok(Json(GroupDto::from(
        &visible_group(&state, &caller, id).await?,
    )))
}

/// Creates a trust group with its owner (operator administrators only).
#[utoipa::path(post, path = "/api/v1/groups", tag = "groups", security(("api_key" = [])), request_body = NewGroupRequest,
    responses((status = 201, body = GroupDto), (status = 403, body = Problem), (status = 404, body = Problem, description = "no such owner"), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn create_group(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<NewGroupRequest>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let new = NewTrustGroup {
        name: req.name,
        description: req.description,
        kind: req.kind,
        hide_members: req.hide_members,
    };
    let g = admin::create_group(
        state.store.as_ref(),
        state.clock.as_ref(),
        &new,
        MemberId(req.owner),
    )
    .await?;
    Ok(noted(
        AuditNote::new("group.create", format!("group/{}", g.id)),
        (StatusCode::CREATED, Json(GroupDto::from(&g))),
    ))
}

/// The group's members, unless the group hides its list from the caller.
#[utoipa::path(get, path = "/api/v1/groups/{id}/members", tag = "groups", security(("api_key" = [])),
    params(("id" = i64, Path, description = "group id")),
    responses((status = 200, body = [MembershipDto]), (status = 404, body = Problem)))]
pub(crate) async fn list_group_members(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<MembershipDto>>, ApiError> {
    let g = visible_group(&state, &caller, id).await?;
    let roster = state.store.group_members(g.id).await?;
    if !records::may_see(&state, &caller, &records::group_roster(&g, &roster)) {
        return Err(ApiError::not_found(format!(
            "member list of trust group {id}"
        )));
    }
    Ok(Json(roster.iter().map(MembershipDto::from).collect()))
}

/// Adds a member to the group or changes its role (operator administrators
/// and the group's owners).
#[utoipa::path(post, path = "/api/v1/groups/{id}/members", tag = "groups", security(("api_key" = [])), request_body = JoinRequest,
    params(("id" = i64, Path, description = "group id")),
    responses((status = 200, body = MembershipDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn join_group(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<JoinRequest>,
) -> Result<Response, ApiError> {
    let g = visible_group(&state, &caller, id).await?;
    let m = admin::join_group(
        state.store.as_ref(),
        state.clock.as_ref(),
        g.id,
        MemberId(req.member),
        req.role,
        Some(&caller.authority()),
    )
    .await?;
    Ok(noted(
        AuditNote::new("group.join", format!("group/{}/member/{}", g.id, m.member)),
        (StatusCode::OK, Json(MembershipDto::from(&m))),
    ))
}

/// Removes a member from the group (the group's owners and operator
/// administrators; any member may leave). The last owner stays: make
/// another member an owner first. Audited.
#[utoipa::path(delete, path = "/api/v1/groups/{id}/members/{member}", tag = "groups", security(("api_key" = [])),
    params(("id" = i64, Path, description = "group id"), ("member" = i64, Path, description = "member id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn remove_group_member(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, member)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let g = visible_group(&state, &caller, id).await?;
    admin::remove_group_member(
        state.store.as_ref(),
        g.id,
        MemberId(member),
        Some(&caller.authority()),
    )
    .await?;
    Ok(noted(
        AuditNote::new("group.remove", format!("group/{}/member/{member}", g.id)),
        StatusCode::NO_CONTENT,
    ))
}
