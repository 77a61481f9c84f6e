//! The audit log: who read or changed what, when, from where.

use serde::{Deserialize, Serialize};

use crate::{MemberId, Timestamp};

/// An entry to append. `actor` names the user (`user:alice`) or key
/// (`key:0123…`) that acted, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuditEvent {
    pub at: Timestamp,
    pub actor: String,
    pub member: Option<MemberId>,
    pub action: String,
    pub target: String,
    pub source_ip: Option<String>,
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: i64,
    #[serde(flatten)]
    pub event: NewAuditEvent,
}
