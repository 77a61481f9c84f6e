//! Administrative operations shared by the REST API, the web application and
//! the CLI (which works directly on the store), so that each rule about
//! members, users, keys and groups is written once.

use isx_domain::{
    ApiKey, ApiToken, Clock, GroupId, GroupMembership, GroupRole, KeyId, Login, Member, MemberId,
    NewApiKey, NewAuditEvent, NewMember, NewTrustGroup, NewUser, Timestamp, TrustGroup, User,
    UserRole,
};
use isx_store::{Store, StoreError};
use thiserror::Error;

use crate::auth;
use crate::problem::ApiError;

#[derive(Debug, Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid(d) => ApiError::invalid(d),
            AdminError::NotFound(what) => ApiError::not_found(what),
            AdminError::Store(s) => s.into(),
        }
    }
}

type Result<T> = std::result::Result<T, AdminError>;

pub async fn create_member(
    store: &dyn Store,
    clock: &dyn Clock,
    new: &NewMember,
) -> Result<Member> {
    Ok(store.insert_member(new, clock.now()).await?)
}

/// Creates a key for `member`; the returned token is the only time the
/// secret exists outside the caller's hands.
pub async fn create_api_key(
    store: &dyn Store,
    clock: &dyn Clock,
    member: MemberId,
    name: &str,
    expires_at: Option<Timestamp>,
) -> Result<(ApiKey, ApiToken)> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(AdminError::Invalid(
            "key name must be 1 to 100 characters".into(),
        ));
    }
    let now = clock.now();
    if expires_at.is_some_and(|e| e <= now) {
        return Err(AdminError::Invalid(
            "expires_at must be in the future".into(),
        ));
    }
    if store.member(member).await?.is_none() {
        return Err(AdminError::NotFound(format!("member {member}")));
    }
    let token = auth::new_token();
    let key = store
        .insert_api_key(
            &NewApiKey {
                key_id: token.key_id.clone(),
                member,
                name: name.to_owned(),
                secret_hash: auth::hash_secret(&token.secret),
                expires_at,
            },
            now,
        )
        .await?;
    Ok((key, token))
}

/// Revokes `key_id` if `by` may: its own member's keys, or any key for an
/// administrator. Unknown keys and other members' keys are "not found".
pub async fn revoke_api_key(
    store: &dyn Store,
    clock: &dyn Clock,
    key_id: &KeyId,
    by: Option<MemberId>,
) -> Result<ApiKey> {
    let key = store
        .api_key(key_id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("API key {key_id}")))?;
    if by.is_some_and(|m| m != key.member) {
        return Err(AdminError::NotFound(format!("API key {key_id}")));
    }
    store.revoke_api_key(key_id, clock.now()).await?;
    store
        .api_key(key_id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("API key {key_id}")))
}

pub async fn create_user(
    store: &dyn Store,
    clock: &dyn Clock,
    login: &Login,
    password: &str,
    member: MemberId,
    role: UserRole,
) -> Result<User> {
    let m = store
        .member(member)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("member {member}")))?;
    if role == UserRole::Admin && !m.is_operator() {
        return Err(AdminError::Invalid(
            "admin users must belong to the operator".into(),
        ));
    }
    let password_hash = auth::hash_password(password).map_err(AdminError::Invalid)?;
    Ok(store
        .insert_user(
            &NewUser {
                login: login.clone(),
                member,
                role,
                password_hash,
            },
            clock.now(),
        )
        .await?)
}

pub async fn create_group(
    store: &dyn Store,
    clock: &dyn Clock,
    new: &NewTrustGroup,
    owner: MemberId,
) -> Result<TrustGroup> {
    new.validate()
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
    let m = store
        .member(owner)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("member {owner}")))?;
    if m.clearance < new.kind.min_clearance() {
        return Err(AdminError::Invalid(format!(
            "the owner {:?} has clearance {} but the group requires {}",
            m.name.as_str(),
            m.clearance,
            new.kind.min_clearance()
        )));
    }
    Ok(store.insert_group(new, owner, clock.now()).await?)
}

/// Adds `member` to `group` with `role`, checking the group's minimum
/// clearance and that an ad hoc group is still open.
pub async fn join_group(
    store: &dyn Store,
    clock: &dyn Clock,
    group: GroupId,
    member: MemberId,
    role: GroupRole,
) -> Result<GroupMembership> {
    let now = clock.now();
    let g = store
        .group(group)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("trust group {group}")))?;
    let m = store
        .member(member)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("member {member}")))?;
    if g.is_closed(now) {
        return Err(AdminError::Invalid(format!(
            "trust group {:?} closed at its end date",
            g.name
        )));
    }
    if m.clearance < g.kind.min_clearance() {
        return Err(AdminError::Invalid(format!(
            "member {:?} has clearance {} but group {:?} requires {}",
            m.name.as_str(),
            m.clearance,
            g.name,
            g.kind.min_clearance()
        )));
    }
    Ok(store.put_group_member(group, member, role, now).await?)
}

/// Writes an audit event for work done outside HTTP (the CLI).
pub async fn record(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &str,
    member: Option<MemberId>,
    action: &str,
    target: &str,
) -> Result<()> {
    store
        .append_audit(&NewAuditEvent {
            at: clock.now(),
            actor: actor.to_owned(),
            member,
            action: action.to_owned(),
            target: target.to_owned(),
            source_ip: None,
            outcome: "ok".to_owned(),
        })
        .await?;
    Ok(())
}
