//! Administrative operations shared by the REST API, the web application and
//! the CLI (which works directly on the store), so that each rule about
//! members, users, keys and groups is written once.

use isx_domain::{
    ApiKey, ApiToken, Clock, GroupId, GroupMembership, GroupRole, KeyId, Login, Member, MemberId,
    NewApiKey, NewAuditEvent, NewMember, NewTrustGroup, NewUser, Timestamp, TrustGroup, User,
    UserRole,
};
use isx_policy::{Action, Actor, KeyFacts, Refusal};
use isx_store::{Store, StoreError};
use thiserror::Error;

use crate::identity as auth;
use crate::AppError;

#[derive(Debug, Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AdminError> for AppError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid(d) => AppError::invalid(d),
            AdminError::NotFound(what) => AppError::not_found(what),
            AdminError::Forbidden(why) => AppError::Forbidden(why),
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

/// What a new key is to be: whose, called what, with which authority and
/// until when.
#[derive(Debug, Clone)]
pub struct KeySpec<'a> {
    pub member: MemberId,
    pub name: &'a str,
    pub role: UserRole,
    pub expires_at: Option<Timestamp>,
}

impl<'a> KeySpec<'a> {
    /// A key made at the command line (or by a test or benchmark's set-up):
    /// the operator's keys administer, other members' keys act as members;
    /// no expiry.
    pub fn cli(member: &Member, name: &'a str) -> Self {
        KeySpec {
            member: member.id,
            name,
            role: if member.is_operator() {
                UserRole::Admin
            } else {
                UserRole::Member
            },
            expires_at: None,
        }
    }
}

/// Asks `authorize` for `by` (`None`: the command line on the store's own
/// machine, which has every authority); a hidden refusal reads as "not
/// found" of `what`.
pub(crate) fn authorize(by: Option<&Actor>, action: &Action<'_>, what: &str) -> Result<()> {
    match by.map(|a| isx_policy::authorize(a, action)) {
        None | Some(Ok(())) => Ok(()),
        Some(Err(Refusal::Forbidden(why))) => Err(AdminError::Forbidden(why.into())),
        Some(Err(Refusal::Hidden)) => Err(AdminError::NotFound(what.to_owned())),
    }
}

/// Refuses a role its member cannot hold: `admin` and `staff` are the
/// operator's.
pub(crate) fn check_role_fits(member: &Member, role: UserRole, what: &str) -> Result<()> {
    if matches!(role, UserRole::Admin | UserRole::Staff) && !member.is_operator() {
        return Err(AdminError::Invalid(format!(
            "{role} {what} must belong to the operator"
        )));
    }
    Ok(())
}

/// Creates a key as `by` asks (`None`: the command line); the returned
/// token is the only time the secret exists outside the caller's hands. The
/// key carries no more authority than `by`: `authorize` checks the role,
/// the member and the expiry.
pub async fn create_api_key(
    store: &dyn Store,
    clock: &dyn Clock,
    by: Option<&Actor>,
    spec: &KeySpec<'_>,
) -> Result<(ApiKey, ApiToken)> {
    let name = spec.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AdminError::Invalid(
            "key name must be 1 to 100 characters".into(),
        ));
    }
    if let Some(reason) = isx_domain::label_problem(name) {
        return Err(AdminError::Invalid(format!("key name {reason}")));
    }
    let now = clock.now();
    if spec.expires_at.is_some_and(|e| e <= now) {
        return Err(AdminError::Invalid(
            "expires_at must be in the future".into(),
        ));
    }
    let member = spec.member;
    let action = Action::MintKey {
        member,
        role: spec.role,
        expires_at: spec.expires_at,
    };
    authorize(by, &action, &format!("member {member}"))?;
    let m = store
        .member(member)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("member {member}")))?;
    check_role_fits(&m, spec.role, "keys")?;
    let token = auth::new_token();
    let key = store
        .insert_api_key(
            &NewApiKey {
                key_id: token.key_id.clone(),
                member,
                name: name.to_owned(),
                secret_hash: auth::hash_secret(&token.secret),
                expires_at: spec.expires_at,
                role: spec.role,
                parent: by.and_then(|a| a.key.as_ref()).map(|k| k.id.clone()),
                creator: by.and_then(|a| a.user),
            },
            now,
        )
        .await?;
    Ok((key, token))
}

/// The key and the keys that minted it, up to the first made by a person
/// (bounded: a lineage longer than 64 is cut there).
async fn lineage(store: &dyn Store, key: &ApiKey) -> Result<Vec<KeyId>> {
    let mut ids = vec![key.key_id.clone()];
    let mut next = key.parent.clone();
    while let Some(id) = next.take() {
        if ids.len() >= 64 || ids.contains(&id) {
            break;
        }
        next = store.api_key(&id).await?.and_then(|k| k.parent);
        ids.push(id);
    }
    Ok(ids)
}

/// Revokes `key_id` (and the keys it minted) if `by` may (`None`: the
/// command line). Keys `by` may not touch are "not found", like unknown
/// ones.
pub async fn revoke_api_key(
    store: &dyn Store,
    clock: &dyn Clock,
    key_id: &KeyId,
    by: Option<&Actor>,
) -> Result<ApiKey> {
    let not_found = || AdminError::NotFound(format!("API key {key_id}"));
    let key = store.api_key(key_id).await?.ok_or_else(not_found)?;
    let ids = lineage(store, &key).await?;
    let facts = KeyFacts {
        member: key.member,
        creator: key.creator,
        lineage: &ids,
    };
    authorize(by, &Action::RevokeKey(facts), &format!("API key {key_id}"))?;
    store.revoke_api_key(key_id, clock.now()).await?;
    store.api_key(key_id).await?.ok_or_else(not_found)
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
    check_role_fits(&m, role, "users")?;
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

/// Adds `member` to `group` with `role` as `by` asks (`None`: the command
/// line): the group's owners and operator administrators admit members.
/// Checks the group's minimum clearance and that an ad hoc group is still
/// open. A group owner learns nothing about a member it cannot admit (not
/// its name, not its clearance, not whether it exists); operator
/// administrators get the reason.
pub async fn join_group(
    store: &dyn Store,
    clock: &dyn Clock,
    group: GroupId,
    member: MemberId,
    role: GroupRole,
    by: Option<&Actor>,
) -> Result<GroupMembership> {
    let now = clock.now();
    let g = store
        .group(group)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("trust group {group}")))?;
    let roster = store.group_members(group).await?;
    let is_owner = by.is_none_or(|a| {
        roster
            .iter()
            .any(|x| x.member == a.member && x.role == GroupRole::Owner)
    });
    authorize(
        by,
        &Action::ManageGroupMembers { owner: is_owner },
        &format!("trust group {group}"),
    )?;
    if g.is_closed(now) {
        return Err(AdminError::Invalid(format!(
            "trust group {:?} closed at its end date",
            g.name
        )));
    }
    let detailed = by.is_none_or(|a| isx_policy::authorize(a, &Action::Administer).is_ok());
    let cannot = || {
        AdminError::Invalid(format!(
            "member {member} cannot be admitted to this group (no such member, or not cleared for it)"
        ))
    };
    let Some(m) = store.member(member).await? else {
        return Err(if detailed {
            AdminError::NotFound(format!("member {member}"))
        } else {
            cannot()
        });
    };
    if m.clearance < g.kind.min_clearance() {
        return Err(if detailed {
            AdminError::Invalid(format!(
                "member {:?} has clearance {} but group {:?} requires {}",
                m.name.as_str(),
                m.clearance,
                g.name,
                g.kind.min_clearance()
            ))
        } else {
            cannot()
        });
    }
    Ok(store.put_group_member(group, member, role, now).await?)
}

/// What became of a user's access when it was disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Disabled {
    pub sessions_ended: u64,
    pub keys_revoked: usize,
}

async fn managed_user(
    store: &dyn Store,
    user: isx_domain::UserId,
    by: Option<&Actor>,
) -> Result<User> {
    let u = store
        .user(user)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("user {user}")))?;
    let action = Action::ManageUser {
        member: u.member,
        role: u.role,
    };
    authorize(by, &action, &format!("user {user}"))?;
    Ok(u)
}

/// Disables a user as `by` asks (`None`: the command line): it can no
/// longer sign in, its sessions end at once, and the API keys it made are
/// revoked (with the keys they minted) — a key never outlives the
/// authority of the person who made it. Nobody disables themselves (ask
/// another administrator).
pub async fn disable_user(
    store: &dyn Store,
    clock: &dyn Clock,
    user: isx_domain::UserId,
    by: Option<&Actor>,
) -> Result<(User, Disabled)> {
    let u = managed_user(store, user, by).await?;
    if by.is_some_and(|a| a.user == Some(u.id)) {
        return Err(AdminError::Forbidden(
            "you cannot disable yourself: ask another administrator".into(),
        ));
    }
    let now = clock.now();
    let sessions = store.set_user_disabled(u.id, Some(now)).await?;
    // The command line and the operator's administrators lock out for the
    // operator: only they lift it.
    let by_operator = by.is_none_or(|a| a.role == isx_policy::Role::OperatorAdmin);
    store.set_disabled_by_operator(u.id, by_operator).await?;
    let mut keys_revoked = 0;
    for k in store.api_keys(Some(u.member)).await? {
        if k.creator == Some(u.id)
            && k.revoked_at.is_none()
            && store.revoke_api_key(&k.key_id, now).await?
        {
            keys_revoked += 1;
        }
    }
    let u = store
        .user(u.id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("user {user}")))?;
    Ok((
        u,
        Disabled {
            sessions_ended: sessions,
            keys_revoked,
        },
    ))
}

/// Enables a disabled user again (its revoked keys stay revoked).
pub async fn enable_user(
    store: &dyn Store,
    user: isx_domain::UserId,
    by: Option<&Actor>,
) -> Result<User> {
    let u = managed_user(store, user, by).await?;
    if by.is_some_and(|a| a.role != isx_policy::Role::OperatorAdmin)
        && store.disabled_by_operator(u.id).await?
    {
        return Err(AdminError::Forbidden(
            "the operator disabled this user: only the operator's administrators enable it".into(),
        ));
    }
    store.set_user_disabled(u.id, None).await?;
    store
        .user(u.id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("user {user}")))
}

/// Ends every session of a user (signs it out everywhere); the number
/// ended. A user may always sign itself out.
pub async fn end_sessions(
    store: &dyn Store,
    user: isx_domain::UserId,
    by: Option<&Actor>,
) -> Result<u64> {
    let own = by.is_some_and(|a| a.user == Some(user) && a.key.is_none());
    if !own {
        managed_user(store, user, by).await?;
    }
    Ok(store.delete_sessions_of(user).await?)
}

/// Removes a user's second factor and recovery codes as `by` asks (`None`:
/// the command line; else its organisation's administrators or the
/// operator's), ending its sessions and sign-ins in progress: the user
/// sets a factor up again at its next sign-in if its member requires one.
/// Whether it had one, and the sessions ended.
pub async fn reset_second_factor(
    store: &dyn Store,
    user: isx_domain::UserId,
    by: Option<&Actor>,
) -> Result<(bool, u64)> {
    let target = managed_user(store, user, by).await?;
    // A member administrator's factor is reset by the operator's
    // administrators only: one leaked key of a member must not strip its
    // peers' second factors.
    if target.role == UserRole::MemberAdmin
        && by.is_some_and(|a| a.role != isx_policy::Role::OperatorAdmin)
    {
        return Err(AdminError::Forbidden(
            "a member administrator's second factor is reset by the operator".into(),
        ));
    }
    let had_totp = store.delete_totp(user).await?;
    let had = store.delete_passkeys_of(user).await? > 0 || had_totp;
    store.delete_challenges_of(user).await?;
    let ended = store.delete_sessions_of(user).await?;
    Ok((had, ended))
}

/// Removes `member` from `group` as `by` asks (`None`: the command line):
/// the group's owners and operator administrators remove anyone, a member
/// may leave; the last owner stays.
pub async fn remove_group_member(
    store: &dyn Store,
    group: GroupId,
    member: MemberId,
    by: Option<&Actor>,
) -> Result<()> {
    let roster = store.group_members(group).await?;
    let owner = |m: MemberId| {
        roster
            .iter()
            .any(|x| x.member == m && x.role == GroupRole::Owner)
    };
    let leaving = by.is_some_and(|a| a.member == member);
    if !leaving {
        let is_owner = by.is_none_or(|a| owner(a.member));
        authorize(
            by,
            &Action::ManageGroupMembers { owner: is_owner },
            &format!("trust group {group}"),
        )?;
    }
    let Some(m) = roster.iter().find(|x| x.member == member) else {
        return Err(AdminError::NotFound(format!(
            "member {member} in trust group {group}"
        )));
    };
    if !store.remove_group_member(group, member).await? {
        return Err(AdminError::Invalid(if m.role == GroupRole::Owner {
            format!("member {member} is the last owner of trust group {group}: make another member an owner first")
        } else {
            format!("member {member} in trust group {group} not found")
        }));
    }
    Ok(())
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

/// Issues a client certificate for `member` as `by` asks (`None`: the
/// command line): operator administrators for any member, a member's
/// administrator for its own (never a certificate, nor an expiring key:
/// `Action::ManageMemberSettings`). The key is in the answer only.
pub async fn issue_certificate(
    store: &dyn Store,
    clock: &dyn Clock,
    data_dir: &std::path::Path,
    by: Option<&Actor>,
    member: MemberId,
    days: i64,
) -> std::result::Result<crate::client_ca::Issued, AppError> {
    authorize(
        by,
        &Action::ManageMemberSettings { member },
        &format!("member {member}"),
    )?;
    if !(1..=3650).contains(&days) {
        return Err(AppError::invalid("days must be between 1 and 3650"));
    }
    let m = store
        .member(member)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("member {member}")))?;
    let issued = crate::client_ca::issue(store, data_dir, &m, days, clock.now()).await?;
    store.insert_client_cert(&issued.record).await?;
    Ok(issued)
}

/// The client certificates `by` may see: every one for the operator's
/// administrators, its own member's for a member administrator.
pub async fn certificates(
    store: &dyn Store,
    by: Option<&Actor>,
    member: Option<MemberId>,
) -> Result<Vec<isx_store::ClientCert>> {
    // Someone who administers no member (not even its own) learns nothing.
    if let Some(a) = by {
        authorize(
            Some(a),
            &Action::ManageMemberSettings { member: a.member },
            "certificates",
        )?;
    }
    // Each certificate is listed if `authorize` lets `by` manage it: the
    // one rule of who administers which member's settings.
    let may = |m: MemberId| {
        by.is_none_or(|a| {
            isx_policy::authorize(a, &Action::ManageMemberSettings { member: m }).is_ok()
        })
    };
    let narrowed = member.or(by
        .filter(|a| a.role != isx_policy::Role::OperatorAdmin)
        .map(|a| a.member));
    Ok(store
        .client_certs(narrowed)
        .await?
        .into_iter()
        .filter(|c| may(c.member))
        .collect())
}

/// Revokes a client certificate as `by` asks: another member's answers
/// as a missing one. `false` if it was revoked already.
pub async fn revoke_certificate(
    store: &dyn Store,
    clock: &dyn Clock,
    by: Option<&Actor>,
    fingerprint: &str,
) -> Result<(isx_store::ClientCert, bool)> {
    let what = format!("certificate {fingerprint}");
    let cert = store
        .client_cert(fingerprint)
        .await?
        .ok_or_else(|| AdminError::NotFound(what.clone()))?;
    authorize(
        by,
        &Action::ManageMemberSettings {
            member: cert.member,
        },
        &what,
    )?;
    let done = store.revoke_client_cert(fingerprint, clock.now()).await?;
    Ok((cert, done))
}

/// Sets `member`'s webhook as `by` asks (its administrators, or the
/// operator's): an `https://` URL on a public address (unless the
/// instance allows private ones) and a secret of at least 16 characters.
pub async fn set_webhook(
    store: &dyn Store,
    clock: &dyn Clock,
    by: Option<&Actor>,
    member: MemberId,
    url: &str,
    secret: &str,
    allow_private: bool,
) -> std::result::Result<(), AppError> {
    authorize(
        by,
        &Action::ManageMemberSettings { member },
        &format!("member {member}"),
    )?;
    crate::outbound::check_url(url, allow_private).map_err(|detail| AppError::Validation {
        detail,
        pointer: Some("/url".into()),
    })?;
    if secret.chars().count() < 16 {
        return Err(AppError::Validation {
            detail: "the secret must be at least 16 characters".into(),
            pointer: Some("/secret".into()),
        });
    }
    let hook = isx_store::Webhook {
        member,
        url: url.to_owned(),
        secret: secret.to_owned(),
    };
    store.put_webhook(&hook, clock.now()).await?;
    Ok(())
}
