//! Users: people who sign in to the web application on behalf of a member.

use serde::{Deserialize, Serialize};

use crate::{DomainError, MemberId, Timestamp};

id_newtype!(
    /// The store's id of a user.
    UserId
);

choice_enum!(
    /// What a user (or an API key) may administer. `admin` and `staff` belong
    /// to the operator: administrators run the instance (members, users,
    /// groups, the audit log), staff manage its content (releases, imports)
    /// and see what the operator sees. `member-admin` administers its own
    /// organisation's keys; `member` users act for their organisation.
    /// `isx_policy::authorize` decides every administrative action from it.
    UserRole, "user role" {
        Admin => "admin",
        Staff => "staff",
        MemberAdmin => "member-admin",
        Member => "member",
    }
);

text_newtype!(
    /// A login name: 2–64 characters of letters, digits, `.`, `_`, `-`, `@`.
    Login,
    check_login
);

fn check_login(text: &str) -> Result<String, DomainError> {
    let t = text.trim();
    let ok_len = (2..=64).contains(&t.len());
    let ok_chars = t
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if ok_len && ok_chars {
        Ok(t.to_ascii_lowercase())
    } else {
        Err(DomainError::InvalidText {
            what: "login",
            reason: "expected 2 to 64 letters, digits, '.', '_', '-' or '@'".into(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub login: Login,
    pub member: MemberId,
    pub role: UserRole,
    /// Argon2id PHC string; never serialised.
    #[serde(skip_serializing, default)]
    pub password_hash: String,
    pub created_at: Timestamp,
    /// When an administrator disabled the user: it cannot sign in, and
    /// its sessions were ended. `None` for an active user.
    #[serde(default)]
    pub disabled_at: Option<Timestamp>,
}

impl User {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub login: Login,
    pub member: MemberId,
    pub role: UserRole,
    pub password_hash: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins() {
        assert_eq!(Login::new("Alice@CERT").unwrap().as_str(), "alice@cert");
        for bad in ["a", "has space", "", "semi;colon"] {
            assert!(Login::new(bad).is_err(), "{bad}");
        }
    }
}
