//! Administrative authority: who may change what.
//!
//! [`decide`](crate::decide) says who may *read* a record; [`authorize`]
//! says who may *act*: administer the instance, manage its content, mint
//! and revoke keys, manage users. Every administrative check of the REST
//! API, the web application and the CLI's server-side twins asks this
//! function, so a rule about authority is written here once.
//!
//! The rule that matters most: a credential never carries more authority
//! than the one that made it. A key made by a `member` user has member
//! rights even when the user belongs to the operator; a key that expires
//! cannot mint one that outlives it; a key acts on itself and on the keys
//! it minted, not on its siblings.

use isx_domain::{KeyId, MemberId, Timestamp, UserId, UserRole};

/// The four roles, as they act: the stored [`UserRole`] read together with
/// whether its member is the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Runs the instance: members, users, groups, the audit log, any key.
    OperatorAdmin,
    /// The operator's analysts: content (releases, imports) and every read.
    OperatorStaff,
    /// Administers its own organisation's keys.
    MemberAdmin,
    /// Acts for its own organisation.
    MemberUser,
}

impl Role {
    /// The role a stored user or key role has in a member. `admin` and
    /// `staff` outside the operator (which the write paths refuse) act as
    /// plain members: the least authority, never more.
    pub fn of(operator_member: bool, role: UserRole) -> Role {
        match (operator_member, role) {
            (true, UserRole::Admin) => Role::OperatorAdmin,
            (true, UserRole::Staff) => Role::OperatorStaff,
            (_, UserRole::MemberAdmin) => Role::MemberAdmin,
            _ => Role::MemberUser,
        }
    }

    /// Reads as the operator does (drafts, every member's data).
    pub fn sees_as_operator(self) -> bool {
        matches!(self, Role::OperatorAdmin | Role::OperatorStaff)
    }

    /// May hand out `role` (to a key or a user): only roles this one
    /// includes.
    pub fn covers(self, role: UserRole) -> bool {
        match self {
            Role::OperatorAdmin => true,
            Role::OperatorStaff => matches!(role, UserRole::Staff | UserRole::Member),
            Role::MemberAdmin => matches!(role, UserRole::MemberAdmin | UserRole::Member),
            Role::MemberUser => role == UserRole::Member,
        }
    }
}

/// A key acting: its id and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGrant {
    pub id: KeyId,
    pub expires_at: Option<Timestamp>,
}

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub member: MemberId,
    pub role: Role,
    /// The user behind a web session (or behind the key, when it made it).
    pub user: Option<UserId>,
    /// Set when the actor is an API key.
    pub key: Option<KeyGrant>,
    /// Set when the actor authenticated with a client certificate: it
    /// reads, and administers nothing (a key or account it made would
    /// outlive the certificate's revocation).
    pub certificate: bool,
}

/// A key an action is about, as far as authority is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFacts<'a> {
    pub member: MemberId,
    /// The user that made the key (or the key that minted it).
    pub creator: Option<UserId>,
    /// The key itself, then the key that minted it, and so on up.
    pub lineage: &'a [KeyId],
}

/// What an actor wants to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<'a> {
    /// Members, users, trust groups, the audit log, other members' keys.
    Administer,
    /// Releases and advisories, URL, botnet and clean-file imports.
    ManageContent,
    /// Make a key for `member` with `role`, expiring at `expires_at`.
    MintKey {
        member: MemberId,
        role: UserRole,
        expires_at: Option<Timestamp>,
    },
    /// Revoke a key.
    RevokeKey(KeyFacts<'a>),
    /// Disable or enable a user of `member` holding `role`, or end its
    /// sessions.
    ManageUser { member: MemberId, role: UserRole },
    /// Admit members to a trust group or remove them; `owner`: the actor's
    /// member owns the group.
    ManageGroupMembers { owner: bool },
    /// Change `member`'s own settings: its webhook (where its release
    /// notifications go) and its client certificates (issue, list,
    /// revoke).
    ManageMemberSettings { member: MemberId },
}

/// Why an action was refused. `Hidden` must be answered as "not found":
/// the actor may not learn that the thing exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Forbidden(&'static str),
    Hidden,
}

/// May `actor` do `action`?
pub fn authorize(actor: &Actor, action: &Action<'_>) -> Result<(), Refusal> {
    if actor.certificate {
        return Err(Refusal::Forbidden(
            "a client certificate reads; administration takes an API key or a user",
        ));
    }
    match action {
        Action::Administer => match actor.role {
            Role::OperatorAdmin => Ok(()),
            _ => Err(Refusal::Forbidden("this needs an operator administrator")),
        },
        Action::ManageContent => match actor.role {
            Role::OperatorAdmin | Role::OperatorStaff => Ok(()),
            _ => Err(Refusal::Forbidden("this needs the operator's staff")),
        },
        Action::MintKey {
            member,
            role,
            expires_at,
        } => {
            if *member != actor.member && actor.role != Role::OperatorAdmin {
                return Err(Refusal::Forbidden(
                    "only an operator administrator makes keys for other members",
                ));
            }
            if !actor.role.covers(*role) {
                return Err(Refusal::Forbidden(
                    "a key cannot carry more authority than the one who makes it",
                ));
            }
            if let Some(limit) = actor.key.as_ref().and_then(|k| k.expires_at) {
                if expires_at.is_none_or(|e| e > limit) {
                    return Err(Refusal::Forbidden(
                        "a key cannot outlive the key that makes it: set expires_at no later than this key's",
                    ));
                }
            }
            Ok(())
        }
        Action::ManageUser { member, role } => {
            // An expiring key is a delegation for data, not for accounts.
            if actor.key.as_ref().is_some_and(|k| k.expires_at.is_some()) {
                return Err(Refusal::Forbidden("an expiring key does not manage users"));
            }
            match actor.role {
                Role::OperatorAdmin => Ok(()),
                Role::MemberAdmin if *member == actor.member => {
                    if actor.role.covers(*role) {
                        Ok(())
                    } else {
                        Err(Refusal::Forbidden(
                            "a member administrator manages its organisation's member and member-admin users",
                        ))
                    }
                }
                _ if *member != actor.member => Err(Refusal::Hidden),
                _ => Err(Refusal::Forbidden(
                    "this needs an administrator of your organisation",
                )),
            }
        }
        Action::ManageMemberSettings { member } => {
            if actor.key.as_ref().is_some_and(|k| k.expires_at.is_some()) {
                return Err(Refusal::Forbidden(
                    "an expiring key does not change its organisation's settings",
                ));
            }
            match actor.role {
                Role::OperatorAdmin => Ok(()),
                Role::MemberAdmin if *member == actor.member => Ok(()),
                _ if *member != actor.member => Err(Refusal::Hidden),
                _ => Err(Refusal::Forbidden(
                    "this needs an administrator of your organisation",
                )),
            }
        }
        Action::ManageGroupMembers { owner } => {
            if actor.role == Role::OperatorAdmin || *owner {
                Ok(())
            } else {
                Err(Refusal::Forbidden(
                    "only the group's owners and operator administrators admit or remove members",
                ))
            }
        }
        Action::RevokeKey(facts) => {
            if actor.role == Role::OperatorAdmin
                && actor.key.as_ref().is_none_or(|k| k.expires_at.is_none())
            {
                return Ok(());
            }
            if facts.member != actor.member {
                return Err(Refusal::Hidden);
            }
            match &actor.key {
                // A key acts on itself and what it minted; an expiring key
                // is a delegation, never an administrator of its siblings.
                Some(k) => {
                    let mine = facts.lineage.contains(&k.id);
                    let admin = actor.role == Role::MemberAdmin && k.expires_at.is_none();
                    if mine || admin {
                        Ok(())
                    } else {
                        Err(Refusal::Hidden)
                    }
                }
                None => {
                    let made_it = actor.user.is_some() && facts.creator == actor.user;
                    if made_it || actor.role == Role::MemberAdmin {
                        Ok(())
                    } else {
                        Err(Refusal::Hidden)
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> KeyId {
        KeyId::new(id).expect("key id")
    }

    fn actor(role: Role, expires: Option<i64>) -> Actor {
        Actor {
            member: MemberId(1),
            role,
            user: Some(UserId(7)),
            key: Some(KeyGrant {
                id: key("00000000000000aa"),
                expires_at: expires.map(Timestamp::from_secs),
            }),
            certificate: false,
        }
    }

    #[test]
    fn a_client_certificate_administers_nothing() {
        let cert = Actor {
            key: None,
            user: None,
            certificate: true,
            ..actor(Role::MemberUser, None)
        };
        let mint = Action::MintKey {
            member: MemberId(1),
            role: UserRole::Member,
            expires_at: None,
        };
        let settings = Action::ManageMemberSettings {
            member: MemberId(1),
        };
        let user = Action::ManageUser {
            member: MemberId(1),
            role: UserRole::Member,
        };
        for a in [&mint, &settings, &user, &Action::Administer] {
            assert!(
                matches!(authorize(&cert, a), Err(Refusal::Forbidden(_))),
                "{a:?}"
            );
        }
    }

    #[test]
    fn only_a_member_s_administrators_change_its_settings() {
        let own = Action::ManageMemberSettings {
            member: MemberId(1),
        };
        let other = Action::ManageMemberSettings {
            member: MemberId(2),
        };
        assert!(authorize(&actor(Role::MemberAdmin, None), &own).is_ok());
        assert!(matches!(
            authorize(&actor(Role::MemberUser, None), &own),
            Err(Refusal::Forbidden(_))
        ));
        assert_eq!(
            authorize(&actor(Role::MemberAdmin, None), &other),
            Err(Refusal::Hidden)
        );
        assert!(authorize(&actor(Role::MemberAdmin, Some(100)), &own).is_err());
        assert!(authorize(&actor(Role::OperatorAdmin, None), &other).is_ok());
        assert!(authorize(&actor(Role::OperatorStaff, None), &own).is_err());
    }

    #[test]
    fn roles_of_stored_values() {
        assert_eq!(Role::of(true, UserRole::Admin), Role::OperatorAdmin);
        assert_eq!(Role::of(false, UserRole::Admin), Role::MemberUser);
        assert_eq!(Role::of(false, UserRole::Staff), Role::MemberUser);
        assert_eq!(Role::of(true, UserRole::Member), Role::MemberUser);
        assert!(!Role::of(true, UserRole::Member).sees_as_operator());
        assert!(Role::of(true, UserRole::Staff).sees_as_operator());
    }

    #[test]
    fn a_member_key_of_the_operator_administers_nothing() {
        let a = actor(Role::MemberUser, None);
        assert!(authorize(&a, &Action::Administer).is_err());
        assert!(authorize(&a, &Action::ManageContent).is_err());
        let mint_admin = Action::MintKey {
            member: MemberId(1),
            role: UserRole::Admin,
            expires_at: None,
        };
        assert!(authorize(&a, &mint_admin).is_err());
        let mint_member = Action::MintKey {
            member: MemberId(1),
            role: UserRole::Member,
            expires_at: None,
        };
        assert!(authorize(&a, &mint_member).is_ok());
        let other = Action::MintKey {
            member: MemberId(2),
            role: UserRole::Member,
            expires_at: None,
        };
        assert!(authorize(&a, &other).is_err());
    }

    #[test]
    fn an_expiring_key_mints_no_longer_lived_key_and_leaves_siblings_alone() {
        let a = actor(Role::MemberAdmin, Some(100));
        for (expires, ok) in [
            (None, false),
            (Some(101), false),
            (Some(100), true),
            (Some(50), true),
        ] {
            let mint = Action::MintKey {
                member: MemberId(1),
                role: UserRole::Member,
                expires_at: expires.map(Timestamp::from_secs),
            };
            assert_eq!(authorize(&a, &mint).is_ok(), ok, "{expires:?}");
        }
        let sibling = [key("00000000000000bb")];
        let facts = KeyFacts {
            member: MemberId(1),
            creator: Some(UserId(7)),
            lineage: &sibling,
        };
        assert_eq!(
            authorize(&a, &Action::RevokeKey(facts)),
            Err(Refusal::Hidden)
        );
        let child = [key("00000000000000cc"), key("00000000000000aa")];
        let facts = KeyFacts {
            member: MemberId(1),
            creator: Some(UserId(7)),
            lineage: &child,
        };
        assert!(authorize(&a, &Action::RevokeKey(facts)).is_ok());
        // Even an operator administrator's key, when it expires, is a
        // delegation: it does not revoke the administrator's other keys.
        let op = actor(Role::OperatorAdmin, Some(100));
        let facts = KeyFacts {
            member: MemberId(1),
            creator: None,
            lineage: &sibling,
        };
        assert!(authorize(&op, &Action::RevokeKey(facts)).is_err());
    }

    #[test]
    fn users_revoke_their_own_keys_and_admins_their_members() {
        let mut u = actor(Role::MemberUser, None);
        u.key = None;
        let lineage = [key("00000000000000bb")];
        let mine = KeyFacts {
            member: MemberId(1),
            creator: Some(UserId(7)),
            lineage: &lineage,
        };
        let colleague = KeyFacts {
            member: MemberId(1),
            creator: Some(UserId(8)),
            lineage: &lineage,
        };
        let foreign = KeyFacts {
            member: MemberId(2),
            creator: None,
            lineage: &lineage,
        };
        assert!(authorize(&u, &Action::RevokeKey(mine.clone())).is_ok());
        assert_eq!(
            authorize(&u, &Action::RevokeKey(colleague.clone())),
            Err(Refusal::Hidden)
        );
        u.role = Role::MemberAdmin;
        assert!(authorize(&u, &Action::RevokeKey(colleague)).is_ok());
        assert_eq!(
            authorize(&u, &Action::RevokeKey(foreign.clone())),
            Err(Refusal::Hidden)
        );
        u.role = Role::OperatorAdmin;
        assert!(authorize(&u, &Action::RevokeKey(foreign)).is_ok());
    }

    #[test]
    fn users_are_managed_by_administrators_of_their_organisation() {
        let admin = Actor {
            key: None,
            ..actor(Role::OperatorAdmin, None)
        };
        let madmin = Actor {
            key: None,
            ..actor(Role::MemberAdmin, None)
        };
        let user = Actor {
            key: None,
            ..actor(Role::MemberUser, None)
        };
        let own = |role| Action::ManageUser {
            member: MemberId(1),
            role,
        };
        let other = Action::ManageUser {
            member: MemberId(2),
            role: UserRole::Member,
        };
        assert!(authorize(&admin, &other).is_ok());
        assert!(authorize(&madmin, &own(UserRole::Member)).is_ok());
        assert!(authorize(&madmin, &own(UserRole::MemberAdmin)).is_ok());
        assert!(authorize(&madmin, &own(UserRole::Admin)).is_err());
        assert_eq!(authorize(&madmin, &other), Err(Refusal::Hidden));
        assert!(matches!(
            authorize(&user, &own(UserRole::Member)),
            Err(Refusal::Forbidden(_))
        ));
        assert_eq!(authorize(&user, &other), Err(Refusal::Hidden));
        let expiring = actor(Role::OperatorAdmin, Some(2_000_000_000));
        assert!(
            authorize(&expiring, &other).is_err(),
            "an expiring key manages no accounts"
        );
        assert!(authorize(&user, &Action::ManageGroupMembers { owner: true }).is_ok());
        assert!(authorize(&user, &Action::ManageGroupMembers { owner: false }).is_err());
        assert!(authorize(&admin, &Action::ManageGroupMembers { owner: false }).is_ok());
    }
}
