use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use isx_domain::{MemberId, NewMember, UserId};

use super::dto::{
    DisabledUserDto, MemberDto, NewMemberRequest, NewUserRequest, SessionsEndedDto, UserDto,
};
use crate::audit::{noted, AuditNote};
use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::AppState;
use isx_app::admin;
use isx_app::records;

/// Members the caller may see: all of them for the operator, otherwise only
/// its own organisation.
#[utoipa::path(get, path = "/api/v1/members", tag = "members", security(("api_key" = [])),
    responses((status = 200, body = [MemberDto]), (status = 401, body = Problem)))]
pub(crate) async fn list_members(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<MemberDto>>, ApiError> {
    let members = state.store.members().await?;
    Ok(Json(
        members
            .iter()
            .filter(|m| records::may_see(&state, &caller, &records::member(m.id)))
            .map(MemberDto::from)
            .collect(),
    ))
}

/// One member. Another member's record answers 404, exactly as a missing one.
#[utoipa::path(get, path = "/api/v1/members/{id}", tag = "members", security(("api_key" = [])),
    params(("id" = i64, Path, description = "member id")),
    responses((status = 200, body = MemberDto), (status = 404, body = Problem)))]
pub(crate) async fn get_member(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Json<MemberDto>, ApiError> {
    let m = state
        .store
        .member(MemberId(id))
        .await?
        .filter(|m| records::may_see(&state, &caller, &records::member(m.id)));
    m.map(|m| Json(MemberDto::from(&m)))
        .ok_or_else(|| ApiError::not_found(format!("member {id}")))
}

/// Registers a member (operator administrators only).
#[utoipa::path(post, path = "/api/v1/members", tag = "members", security(("api_key" = [])), request_body = NewMemberRequest,
    responses((status = 201, body = MemberDto), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn create_member(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<NewMemberRequest>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let new: NewMember = req.into();
    let m = admin::create_member(state.store.as_ref(), state.clock.as_ref(), &new).await?;
    // A new constituency: the next botnet batch is matched against it.
    state.botnet.invalidate();
    Ok(noted(
        AuditNote::new("member.create", format!("member/{}", m.id)),
        (StatusCode::CREATED, Json(MemberDto::from(&m))),
    ))
}

/// Web users: all of them for the operator, its own organisation's for a
/// member administrator.
#[utoipa::path(get, path = "/api/v1/users", tag = "members", security(("api_key" = [])),
    responses((status = 200, body = [UserDto]), (status = 404, body = Problem)))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<UserDto>>, ApiError> {
    let all = records::may_see(&state, &caller, &records::operator_data());
    if !all && caller.role != isx_policy::Role::MemberAdmin {
        return Err(ApiError::not_found("endpoint"));
    }
    Ok(Json(
        state
            .store
            .users()
            .await?
            .iter()
            .filter(|u| all || u.member == caller.member.id)
            .map(UserDto::from)
            .collect(),
    ))
}

/// Creates a web user: operator administrators for any member, a member
/// administrator for its own organisation (member or member-admin users).
/// The password is stored as an Argon2id hash.
#[utoipa::path(post, path = "/api/v1/users", tag = "members", security(("api_key" = [])), request_body = NewUserRequest,
    responses((status = 201, body = UserDto), (status = 403, body = Problem), (status = 404, body = Problem, description = "no such member"), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<NewUserRequest>,
) -> Result<Response, ApiError> {
    caller.require(&isx_policy::Action::ManageUser {
        member: MemberId(req.member),
        role: req.role,
    })?;
    let u = admin::create_user(
        state.store.as_ref(),
        state.clock.as_ref(),
        &req.login,
        &req.password,
        MemberId(req.member),
        req.role,
    )
    .await?;
    Ok(noted(
        AuditNote::new("user.create", format!("user/{}", u.login)),
        (StatusCode::CREATED, Json(UserDto::from(&u))),
    ))
}

/// Disables a user: it can no longer sign in, its web sessions end at
/// once, and the API keys it made are revoked (operator administrators;
/// member administrators for their own organisation's users). Audited.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "members", security(("api_key" = [])),
    params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = DisabledUserDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn disable_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (u, done) = admin::disable_user(
        state.store.as_ref(),
        state.clock.as_ref(),
        UserId(id),
        Some(&caller.authority()),
    )
    .await?;
    Ok(noted(
        AuditNote::new(
            "user.disable",
            format!(
                "user/{} ({} sessions ended, {} keys revoked)",
                u.login, done.sessions_ended, done.keys_revoked
            ),
        ),
        Json(DisabledUserDto {
            user: UserDto::from(&u),
            sessions_ended: done.sessions_ended,
            keys_revoked: done.keys_revoked,
        }),
    ))
}

/// Enables a disabled user again (keys revoked when it was disabled stay
/// revoked). Audited.
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "members", security(("api_key" = [])),
    params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = UserDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn enable_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let u = admin::enable_user(state.store.as_ref(), UserId(id), Some(&caller.authority())).await?;
    Ok(noted(
        AuditNote::new("user.enable", format!("user/{}", u.login)),
        Json(UserDto::from(&u)),
    ))
}

/// Ends every web session of a user (signs it out everywhere): the same
/// administrators, or the user itself. Audited.
#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions", tag = "members", security(("api_key" = [])),
    params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = SessionsEndedDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn end_sessions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let n =
        admin::end_sessions(state.store.as_ref(), UserId(id), Some(&caller.authority())).await?;
    Ok(noted(
        AuditNote::new("user.sign-out", format!("user/{id} ({n} sessions ended)")),
        Json(SessionsEndedDto { sessions_ended: n }),
    ))
}

/// Removes a user's second factor and recovery codes (it lost its
/// authenticator and its codes, or hit the limit of wrong codes), ending
/// its sessions and sign-ins in progress: operator administrators, or
/// the user's organisation's administrators. Audited.
#[utoipa::path(delete, path = "/api/v1/users/{id}/second-factor", tag = "members", security(("api_key" = [])),
    params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = FactorResetDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn reset_second_factor(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (had, ended) =
        admin::reset_second_factor(state.store.as_ref(), UserId(id), Some(&caller.authority()))
            .await?;
    Ok(noted(
        AuditNote::new(
            "factor.reset",
            format!("user/{id} ({ended} sessions ended)"),
        ),
        Json(FactorResetDto {
            had_factor: had,
            sessions_ended: ended,
        }),
    ))
}

/// What resetting a second factor did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct FactorResetDto {
    /// Whether the user had a second factor.
    had_factor: bool,
    sessions_ended: u64,
}

/// The keys your organisation's own files are encrypted to.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipientsDto {
    /// age X25519 recipients (`age1…`, as `age-keygen` prints them), at
    /// most 10. Every file meant for your organisation alone (its botnet
    /// batches) is delivered encrypted to all of them (`application/age`);
    /// an empty list makes them plain again.
    #[schema(max_items = 10, value_type = Vec<String>, pattern = "^age1[02-9ac-hj-np-z]{58}$")]
    pub recipients: Vec<String>,
}

/// Your organisation's file recipients.
#[utoipa::path(get, path = "/api/v1/me/recipients", tag = "members", security(("api_key" = [])),
    responses((status = 200, body = RecipientsDto), (status = 401, body = Problem)))]
pub(crate) async fn get_recipients(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<RecipientsDto>, ApiError> {
    Ok(Json(RecipientsDto {
        recipients: state.store.recipients(caller.member.id).await?,
    }))
}

/// Sets your organisation's file recipients (its administrators: a
/// member-admin key or user, or the operator's administrators). Audited.
#[utoipa::path(put, path = "/api/v1/me/recipients", tag = "members", security(("api_key" = [])), request_body = RecipientsDto,
    responses((status = 200, body = RecipientsDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn put_recipients(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<RecipientsDto>,
) -> Result<Response, ApiError> {
    let stored = isx_app::sealing::set_recipients(
        state.store.as_ref(),
        state.clock.as_ref(),
        Some(&caller.authority()),
        caller.member.id,
        &req.recipients,
    )
    .await?;
    Ok(noted(
        AuditNote::new(
            "recipients.put",
            format!("member/{} [{}]", caller.member.id, stored.join(" ")),
        ),
        Json(RecipientsDto { recipients: stored }),
    ))
}
