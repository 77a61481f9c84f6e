//! Who is calling: API keys for machines, password + session token for
//! people. How a request carries them (headers, cookies) is the server's.
//!
//! API key secrets are 256-bit random values, so a single SHA-256 is the
//! right stored form (a slow hash would cost tens of milliseconds per
//! request without adding safety). Passwords are low-entropy and get
//! Argon2id.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use isx_domain::{ApiToken, KeyId, Member, Timestamp, User};
use isx_policy::{Action, Actor, KeyGrant, Principal, Refusal, Role};
use isx_store::{Session, Store, StoreError};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::AppError;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub member: Member,
    pub user: Option<User>,
    pub key_id: Option<KeyId>,
    pub session: Option<Session>,
    /// What the caller may administer (of the user, or carried by the key).
    pub role: Role,
    /// When the calling key stops working (`None` for sessions and keys
    /// without an expiry).
    pub key_expires_at: Option<Timestamp>,
    /// The SHA-256 of the client certificate the caller authenticated
    /// with, if it did.
    pub certificate: Option<String>,
}

impl Caller {
    /// Reads as the operator does: the operator's administrators and staff
    /// (the policy principal says the same).
    pub fn is_admin(&self) -> bool {
        self.principal.operator
    }

    /// The caller as `isx_policy::authorize` sees it.
    pub fn authority(&self) -> Actor {
        Actor {
            member: self.member.id,
            role: self.role,
            user: self.user.as_ref().map(|u| u.id),
            key: self.key_id.as_ref().map(|id| KeyGrant {
                id: id.clone(),
                expires_at: self.key_expires_at,
            }),
            certificate: self.certificate.is_some(),
        }
    }

    /// Asks `authorize` whether the caller may do `action`; a hidden refusal
    /// answers 404.
    pub fn require(&self, action: &Action<'_>) -> Result<(), AppError> {
        isx_policy::authorize(&self.authority(), action).map_err(|r| match r {
            Refusal::Forbidden(why) => AppError::Forbidden(why.into()),
            Refusal::Hidden => AppError::not_found("resource"),
        })
    }

    /// Releases, advisories and imports: the operator's staff.
    pub fn require_staff(&self) -> Result<(), AppError> {
        self.require(&Action::ManageContent)
    }

    /// How the audit log names this caller (never a secret).
    pub fn actor(&self) -> String {
        match (&self.user, &self.key_id, &self.certificate) {
            (Some(u), _, _) => format!("user:{}", u.login),
            (None, Some(k), _) => format!("key:{k}"),
            (None, None, Some(fp)) => format!("cert:{}", fp.get(..16).unwrap_or(fp)),
            (None, None, None) => format!("member:{}", self.member.id),
        }
    }

    /// Members, users, groups, the audit log: operator administrators.
    pub fn require_admin(&self) -> Result<(), AppError> {
        self.require(&Action::Administer)
    }
}

/// Hex SHA-256 of a key secret or session token.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A fresh random token (64-bit key id, 256-bit secret).
pub fn new_token() -> ApiToken {
    let mut id = [0u8; 8];
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut id);
    OsRng.fill_bytes(&mut secret);
    ApiToken {
        key_id: KeyId::new(&hex::encode(id)).unwrap_or_else(|_| unreachable_key_id()),
        secret: hex::encode(secret),
    }
}

fn unreachable_key_id() -> KeyId {
    // hex::encode of 8 bytes is always 16 lower-case hex characters.
    KeyId::new("0000000000000000").unwrap_or_else(|_| unreachable!("constant key id is valid"))
}

/// A random value for session cookies and CSRF tokens (256 bits, hex).
pub fn random_hex32() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Argon2id (m=19 MiB, t=2, p=1) in PHC string form.
pub fn hash_password(password: &str) -> Result<String, String> {
    if password.chars().count() < 12 {
        return Err("passwords must be at least 12 characters".into());
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// An Argon2id hash of a random password nobody knows, made once: sign-ins
/// with an unknown login are verified against it, so they take as long as
/// those with a known one.
pub fn dummy_password_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_hex32()).unwrap_or_default())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A member acting through the operator's command line (`isx partnership
/// import --as MEMBER`): a member user of that member, with its trust
/// groups — no more than its own people could do.
pub async fn member_caller(store: &dyn Store, member: Member) -> Result<Caller, StoreError> {
    let principal = principal_for(store, &member, false).await?;
    Ok(Caller {
        principal,
        member,
        user: None,
        key_id: None,
        session: None,
        role: Role::MemberUser,
        key_expires_at: None,
        certificate: None,
    })
}

/// Authenticates a client certificate (mTLS) by its SHA-256 `fingerprint`
/// (the server has checked that it chains to a trusted client CA and that
/// the client holds its key): it must be registered, unrevoked and not
/// past its end. It acts as a `member` of its member — machines read;
/// administration takes a key or a user. Revocation takes effect on the
/// next request, on every node (nothing is cached).
pub async fn caller_from_client_cert(
    store: &dyn Store,
    fingerprint: &str,
    now: Timestamp,
) -> Result<Caller, AppError> {
    let invalid =
        || AppError::Unauthorized("unknown, expired or revoked client certificate".into());
    let cert = store.client_cert(fingerprint).await?.ok_or_else(invalid)?;
    if cert.revoked_at.is_some() || cert.not_after <= now {
        return Err(invalid());
    }
    let member = store.member(cert.member).await?.ok_or_else(invalid)?;
    Ok(Caller {
        certificate: Some(cert.fingerprint),
        ..member_caller(store, member).await?
    })
}

/// The policy principal of a member (with its trust groups).
pub async fn principal_for(
    store: &dyn Store,
    member: &Member,
    admin: bool,
) -> Result<Principal, StoreError> {
    let groups = store
        .memberships_of(member.id)
        .await?
        .into_iter()
        .map(|m| m.group)
        .collect();
    Ok(Principal::member(
        member.id,
        admin,
        member.tier,
        member.clearance,
        groups,
    ))
}

/// Authenticates an API key: it must exist, be active, and its secret must
/// match. Revocation takes effect on the next request (nothing is cached).
pub async fn caller_from_token(
    store: &dyn Store,
    token: &ApiToken,
    now: Timestamp,
) -> Result<Caller, AppError> {
    let invalid = || AppError::Unauthorized("invalid, expired or revoked API key".into());
    let (key, member, groups) = store
        .api_key_caller(&token.key_id)
        .await?
        .ok_or_else(invalid)?;
    let presented = hash_secret(&token.secret);
    let matches: bool = presented
        .as_bytes()
        .ct_eq(key.secret_hash.as_bytes())
        .into();
    if !matches || !key.is_active(now) {
        return Err(invalid());
    }
    if key
        .last_used_at
        .is_none_or(|t| now.as_micros() - t.as_micros() > 60_000_000)
    {
        store.touch_api_key(&key.key_id, now).await?;
    }
    // The key's own authority, never its member's: a key made by a member
    // user of the operator reads and acts as a member.
    let role = Role::of(member.is_operator(), key.role);
    let principal = Principal::member(
        member.id,
        role.sees_as_operator(),
        member.tier,
        member.clearance,
        groups,
    );
    Ok(Caller {
        principal,
        member,
        user: None,
        key_id: Some(key.key_id),
        session: None,
        role,
        key_expires_at: key.expires_at,
        certificate: None,
    })
}

/// Authenticates a web session by the token its cookie holds.
pub async fn caller_from_session_token(
    store: &dyn Store,
    token: &str,
    now: Timestamp,
) -> Result<Option<Caller>, AppError> {
    let Some(session) = store.session(&hash_secret(token)).await? else {
        return Ok(None);
    };
    if session.expires_at <= now {
        store.delete_session(&session.token_hash).await?;
        return Ok(None);
    }
    let Some(user) = store.user(session.user).await? else {
        return Ok(None);
    };
    // Disabling deletes the sessions; this holds even for one that raced it.
    if user.is_disabled() {
        store.delete_session(&session.token_hash).await?;
        return Ok(None);
    }
    let Some(member) = store.member(user.member).await? else {
        return Ok(None);
    };
    let role = Role::of(member.is_operator(), user.role);
    let principal = principal_for(store, &member, role.sees_as_operator()).await?;
    Ok(Some(Caller {
        principal,
        member,
        user: Some(user),
        key_id: None,
        session: Some(session),
        role,
        key_expires_at: None,
        certificate: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_parse_back() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a.secret, b.secret);
        assert_eq!(ApiToken::parse(&a.expose()).unwrap(), a);
    }

    #[test]
    fn passwords() {
        assert!(hash_password("short").is_err());
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse battery!", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
