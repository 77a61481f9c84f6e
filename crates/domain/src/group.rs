//! Trust groups: sharing communities inside an instance.

use serde::{Deserialize, Serialize};

use crate::choice::check_display_name;
use crate::{Clearance, DomainError, MemberId, Timestamp};

id_newtype!(
    /// The store's id of a trust group.
    GroupId
);

choice_enum!(
    /// A member's role inside a trust group.
    GroupRole, "group role" {
        Owner => "owner",
        Contributor => "contributor",
        Reader => "reader",
    }
);

/// Formal groups rest on an agreement and require a clearance; ad hoc groups
/// rest on trust alone and may be tied to one event, closing at an end date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TrustGroupKind {
    Formal {
        agreement: String,
        min_clearance: Clearance,
    },
    AdHoc {
        #[serde(default)]
        ends_at: Option<Timestamp>,
    },
}

impl TrustGroupKind {
    /// The clearance a member needs to read the group's content.
    pub fn min_clearance(&self) -> Clearance {
        match self {
            TrustGroupKind::Formal { min_clearance, .. } => *min_clearance,
            TrustGroupKind::AdHoc { .. } => Clearance::None,
        }
    }

    pub fn validate(&self) -> Result<(), DomainError> {
        if let TrustGroupKind::Formal { agreement, .. } = self {
            check_display_name("agreement reference", agreement)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustGroup {
    pub id: GroupId,
    pub name: String,
    pub description: String,
    #[serde(flatten)]
    pub kind: TrustGroupKind,
    /// Members see contributions but not who else belongs.
    pub hide_members: bool,
    pub created_at: Timestamp,
}

impl TrustGroup {
    /// An ad hoc group past its end date is closed: readable, no longer writable.
    pub fn is_closed(&self, now: Timestamp) -> bool {
        matches!(self.kind, TrustGroupKind::AdHoc { ends_at: Some(end) } if now >= end)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTrustGroup {
    pub name: String,
    pub description: String,
    pub kind: TrustGroupKind,
    pub hide_members: bool,
}

impl NewTrustGroup {
    pub fn validate(&self) -> Result<(), DomainError> {
        check_display_name("group name", &self.name)?;
        if self.description.len() > 10_000 {
            return Err(DomainError::InvalidText {
                what: "group description",
                reason: "must be at most 10000 bytes".into(),
            });
        }
        self.kind.validate()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMembership {
    pub group: GroupId,
    pub member: MemberId,
    pub role: GroupRole,
    pub joined_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ad_hoc_group_closes_at_its_end_date() {
        let g = TrustGroup {
            id: GroupId(1),
            name: "Incident 42".into(),
            description: String::new(),
            kind: TrustGroupKind::AdHoc {
                ends_at: Some(Timestamp::from_secs(1000)),
            },
            hide_members: false,
            created_at: Timestamp::from_secs(0),
        };
        assert!(!g.is_closed(Timestamp::from_secs(999)));
        assert!(g.is_closed(Timestamp::from_secs(1000)));
    }

    #[test]
    fn kind_serialises_with_a_tag() {
        let k = TrustGroupKind::Formal {
            agreement: "MoU-2026-07".into(),
            min_clearance: Clearance::Confidential,
        };
        let j = serde_json::to_string(&k).unwrap();
        assert_eq!(
            j,
            r#"{"kind":"formal","agreement":"MoU-2026-07","min_clearance":"confidential"}"#
        );
        assert_eq!(k.min_clearance(), Clearance::Confidential);
        assert!(serde_json::from_str::<TrustGroupKind>(r#"{"kind":"secret-club"}"#).is_err());
    }
}
