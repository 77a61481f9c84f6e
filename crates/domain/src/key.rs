//! API keys: how machines authenticate.
//!
//! A key is shown once as `isx_<key id>_<secret>`. The key id is public (it is
//! how the store finds the key and how the audit log names it); only a hash of
//! the secret is stored. The `isx_` prefix lets secret scanners spot leaks.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{DomainError, MemberId, Timestamp, UserId, UserRole};

/// 16 lower-case hex characters naming a key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl KeyId {
    pub const LEN: usize = 16;

    pub fn new(text: &str) -> Result<Self, DomainError> {
        if text.len() == Self::LEN && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(KeyId(text.to_owned()))
        } else {
            Err(DomainError::InvalidText {
                what: "key id",
                reason: format!("expected {} lower-case hex characters", Self::LEN),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for KeyId {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        KeyId::new(&s)
    }
}

impl From<KeyId> for String {
    fn from(k: KeyId) -> String {
        k.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A presented token, split into its key id and secret. The secret is never
/// printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub key_id: KeyId,
    pub secret: String,
}

impl ApiToken {
    pub const PREFIX: &'static str = "isx_";
    pub const SECRET_LEN: usize = 64;

    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let rest = text
            .trim()
            .strip_prefix(Self::PREFIX)
            .ok_or(DomainError::MalformedApiToken)?;
        let (id, secret) = rest.split_once('_').ok_or(DomainError::MalformedApiToken)?;
        Self::from_parts(id, secret)
    }

    /// From HTTP Basic credentials (user = key id, password = secret).
    pub fn from_parts(key_id: &str, secret: &str) -> Result<Self, DomainError> {
        let key_id = KeyId::new(key_id).map_err(|_| DomainError::MalformedApiToken)?;
        if secret.len() != Self::SECRET_LEN || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DomainError::MalformedApiToken);
        }
        Ok(ApiToken {
            key_id,
            secret: secret.to_owned(),
        })
    }

    /// The full token, as shown once to its owner.
    pub fn expose(&self) -> String {
        format!("{}{}_{}", Self::PREFIX, self.key_id, self.secret)
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiToken({}, <secret>)", self.key_id)
    }
}

/// An API key as stored: metadata and the hash of its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub key_id: KeyId,
    pub member: MemberId,
    pub name: String,
    #[serde(skip_serializing)]
    pub secret_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    /// The authority the key carries: never more than its maker's.
    pub role: UserRole,
    /// The key that minted this one, if a key did.
    pub parent: Option<KeyId>,
    /// The user that made it (directly, or through the keys it minted).
    pub creator: Option<UserId>,
}

impl ApiKey {
    /// Usable now: neither revoked nor expired.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub key_id: KeyId,
    pub member: MemberId,
    pub name: String,
    pub secret_hash: String,
    pub expires_at: Option<Timestamp>,
    pub role: UserRole,
    pub parent: Option<KeyId>,
    pub creator: Option<UserId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trip_and_debug_hides_secret() {
        let secret = "ab".repeat(32);
        let t = ApiToken::parse(&format!("isx_0123456789abcdef_{secret}")).unwrap();
        assert_eq!(t.key_id.as_str(), "0123456789abcdef");
        assert_eq!(ApiToken::parse(&t.expose()).unwrap(), t);
        assert!(!format!("{t:?}").contains(&secret));
    }

    #[test]
    fn malformed_tokens() {
        let secret = "ab".repeat(32);
        for bad in [
            String::new(),
            format!("xsi_0123456789abcdef_{secret}"),
            format!("isx_0123456789ABCDEF_{secret}"),
            format!("isx_0123456789abcde_{secret}"),
            "isx_0123456789abcdef_short".to_owned(),
            format!("isx_0123456789abcdef{secret}"),
        ] {
            assert!(ApiToken::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_activity() {
        let mut k = ApiKey {
            key_id: KeyId::new("0123456789abcdef").unwrap(),
            member: MemberId(1),
            name: "ci".into(),
            secret_hash: String::new(),
            created_at: Timestamp::from_secs(0),
            expires_at: Some(Timestamp::from_secs(100)),
            revoked_at: None,
            last_used_at: None,
            role: UserRole::Member,
            parent: None,
            creator: None,
        };
        assert!(k.is_active(Timestamp::from_secs(99)));
        assert!(!k.is_active(Timestamp::from_secs(100)));
        k.expires_at = None;
        k.revoked_at = Some(Timestamp::from_secs(5));
        assert!(!k.is_active(Timestamp::from_secs(6)));
    }
}
