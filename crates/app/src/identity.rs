//! Who is calling: API keys (Bearer, or HTTP Basic with key id and secret)
//! for machines, password + session cookie for people.
//!
//! API key secrets are 256-bit random values, so a single SHA-256 is the
//! right stored form (a slow hash would cost tens of milliseconds per
//! request without adding safety). Passwords are low-entropy and get
//! Argon2id.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::http::{header, HeaderMap};
use base64::Engine;
use isx_domain::{ApiToken, KeyId, Member, Timestamp, User};
use isx_policy::{Action, Actor, KeyGrant, Principal, Refusal, Role};
use isx_store::{Session, Store, StoreError};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::problem::ApiError;
use crate::AppState;

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
        }
    }

    /// Asks `authorize` whether the caller may do `action`; a hidden refusal
    /// answers 404.
    pub fn require(&self, action: &Action<'_>) -> Result<(), ApiError> {
        isx_policy::authorize(&self.authority(), action).map_err(|r| match r {
            Refusal::Forbidden(why) => ApiError::Forbidden(why.into()),
            Refusal::Hidden => ApiError::not_found("resource"),
        })
    }

    /// Releases, advisories and imports: the operator's staff.
    pub fn require_staff(&self) -> Result<(), ApiError> {
        self.require(&Action::ManageContent)
    }

    /// How the audit log names this caller (never a secret).
    pub fn actor(&self) -> String {
        match (&self.user, &self.key_id) {
            (Some(u), _) => format!("user:{}", u.login),
            (None, Some(k)) => format!("key:{k}"),
            (None, None) => format!("member:{}", self.member.id),
        }
    }

    /// Members, users, groups, the audit log: operator administrators.
    pub fn require_admin(&self) -> Result<(), ApiError> {
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

fn unauthorized(msg: &str) -> ApiError {
    ApiError::Unauthorized(msg.to_owned())
}

/// Reads `Authorization: Bearer isx_…` or `Authorization: Basic` (key id as
/// user name, secret as password).
pub fn token_from_headers(headers: &HeaderMap) -> Result<Option<ApiToken>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not valid text"))?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let malformed = || unauthorized("malformed API key: expected isx_<key id>_<secret>");
    if scheme.eq_ignore_ascii_case("bearer") {
        ApiToken::parse(rest).map(Some).map_err(|_| malformed())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .map_err(|_| unauthorized("malformed Basic credentials"))?;
        let text =
            String::from_utf8(decoded).map_err(|_| unauthorized("malformed Basic credentials"))?;
        let (user, pass) = text
            .split_once(':')
            .ok_or_else(|| unauthorized("malformed Basic credentials"))?;
        ApiToken::from_parts(user, pass)
            .map(Some)
            .map_err(|_| malformed())
    } else {
        Err(unauthorized(
            "unsupported Authorization scheme: use Bearer or Basic",
        ))
    }
}

/// Authenticates an API key: it must exist, be active, and its secret must
/// match. Revocation takes effect on the next request (nothing is cached).
pub async fn caller_from_token(
    state: &AppState,
    token: &ApiToken,
    now: Timestamp,
) -> Result<Caller, ApiError> {
    let invalid = || unauthorized("invalid, expired or revoked API key");
    let (key, member, groups) = state
        .store
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
        state.store.touch_api_key(&key.key_id, now).await?;
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
    })
}

pub const SESSION_COOKIE: &str = "isx_session";

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Authenticates a web session cookie.
pub async fn caller_from_session(
    state: &AppState,
    headers: &HeaderMap,
    now: Timestamp,
) -> Result<Option<Caller>, ApiError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(session) = state.store.session(&hash_secret(token)).await? else {
        return Ok(None);
    };
    if session.expires_at <= now {
        state.store.delete_session(&session.token_hash).await?;
        return Ok(None);
    }
    let Some(user) = state.store.user(session.user).await? else {
        return Ok(None);
    };
    // Disabling deletes the sessions; this holds even for one that raced it.
    if user.is_disabled() {
        state.store.delete_session(&session.token_hash).await?;
        return Ok(None);
    }
    let Some(member) = state.store.member(user.member).await? else {
        return Ok(None);
    };
    let role = Role::of(member.is_operator(), user.role);
    let principal = principal_for(state.store.as_ref(), &member, role.sees_as_operator()).await?;
    Ok(Some(Caller {
        principal,
        member,
        user: Some(user),
        key_id: None,
        session: Some(session),
        role,
        key_expires_at: None,
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

    #[test]
    fn basic_and_bearer_headers() {
        let t = new_token();
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            format!("Bearer {}", t.expose()).parse().unwrap(),
        );
        assert_eq!(token_from_headers(&h).unwrap(), Some(t.clone()));
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", t.key_id, t.secret));
        h.insert(
            header::AUTHORIZATION,
            format!("Basic {basic}").parse().unwrap(),
        );
        assert_eq!(token_from_headers(&h).unwrap(), Some(t));
        h.insert(header::AUTHORIZATION, "Bearer nope".parse().unwrap());
        assert_eq!(token_from_headers(&h).unwrap_err().status().as_u16(), 401);
        h.insert(header::COOKIE, "a=1; isx_session=abc".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
    }
}
