//! The inputs of the policy function.

use isx_domain::{Clearance, GroupId, MemberId, Tier, Timestamp, Tlp};

/// Who is asking. Built once per request (from an API key or a web session)
/// and reused for every record the request touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `None` for an anonymous caller.
    pub member: Option<MemberId>,
    /// Staff of the organisation that runs the instance.
    pub operator: bool,
    pub tier: Tier,
    pub clearance: Clearance,
    /// Trust groups the member belongs to, sorted.
    groups: Vec<GroupId>,
}

impl Principal {
    pub fn anonymous() -> Self {
        Principal {
            member: None,
            operator: false,
            tier: Tier::Standard,
            clearance: Clearance::None,
            groups: Vec::new(),
        }
    }

    pub fn member(
        member: MemberId,
        operator: bool,
        tier: Tier,
        clearance: Clearance,
        mut groups: Vec<GroupId>,
    ) -> Self {
        groups.sort_unstable();
        groups.dedup();
        Principal {
            member: Some(member),
            operator,
            tier,
            clearance,
            groups,
        }
    }

    /// Any signed-in member: standard tier, no clearance, no groups. What
    /// this principal may see is what every member may see; files shared
    /// with all members (feed files) hold exactly that. No real member has
    /// id 0 (ids start at 1), so no record is ever authored by it.
    pub fn any_member() -> Self {
        Principal::member(
            MemberId(0),
            false,
            Tier::Standard,
            Clearance::None,
            Vec::new(),
        )
    }

    pub fn groups(&self) -> &[GroupId] {
        &self.groups
    }

    #[inline]
    pub fn in_group(&self, g: GroupId) -> bool {
        self.groups.binary_search(&g).is_ok()
    }
}

/// Who a record is meant for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every member of the instance (and the public, if TLP:CLEAR).
    Everyone,
    /// The members of one trust group.
    Group(GroupId),
    /// Named members only: the owners of a constituency that victim data
    /// concerns, the recipients of a TLP:RED contribution, or a member's own
    /// private data.
    Recipients(Vec<MemberId>),
    /// The operator's internal data.
    Operator,
}

/// Fields a decision withholds. A small bit set so that decisions stay
/// `Copy` and allocation-free; products add bits as they need them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FieldMask(u32);

impl FieldMask {
    pub const NONE: FieldMask = FieldMask(0);
    /// An advisory's exploitability index and exploited/disclosed flags.
    pub const EXPLOITABILITY: FieldMask = FieldMask(1);
    /// Who contributed a record (for anonymous contributions).
    pub const AUTHOR: FieldMask = FieldMask(1 << 1);

    #[inline]
    pub const fn union(self, other: FieldMask) -> FieldMask {
        FieldMask(self.0 | other.0)
    }

    /// Whether every field in `field` is withheld.
    #[inline]
    pub const fn hides(self, field: FieldMask) -> bool {
        self.0 & field.0 == field.0 && field.0 != 0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub const fn bits(self) -> u32 {
        self.0
    }
}

/// An advance window: members of `tier` see the record from `lead_secs`
/// before release, with `mask` withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdvanceWindow {
    pub tier: Tier,
    pub lead_secs: i64,
    pub mask: FieldMask,
}

/// A release time and the advance windows that open before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Embargo {
    pub release_at: Timestamp,
    windows: [Option<AdvanceWindow>; 4],
}

impl Embargo {
    /// No advance windows: nobody but the operator sees the record before
    /// `release_at`.
    pub fn until(release_at: Timestamp) -> Self {
        Embargo {
            release_at,
            windows: [None; 4],
        }
    }

    /// The advance-notice policy of isx: `advance-5d` from T−5 days without
    /// exploitability data, `advance-24h` from T−24 hours with it.
    pub fn advance_notice(release_at: Timestamp) -> Self {
        Embargo::until(release_at)
            .with_window(AdvanceWindow {
                tier: Tier::Advance5d,
                lead_secs: 5 * 86_400,
                mask: FieldMask::EXPLOITABILITY,
            })
            .with_window(AdvanceWindow {
                tier: Tier::Advance24h,
                lead_secs: 86_400,
                mask: FieldMask::NONE,
            })
    }

    /// Adds (or replaces) the window of `window.tier`.
    pub fn with_window(mut self, window: AdvanceWindow) -> Self {
        if let Some(slot) = self
            .windows
            .iter_mut()
            .find(|w| w.is_none_or(|w| w.tier == window.tier))
        {
            *slot = Some(window);
        }
        self
    }

    pub fn windows(&self) -> impl Iterator<Item = &AdvanceWindow> {
        self.windows.iter().flatten()
    }

    /// The window of `tier` if it is open at `now` (before release).
    #[inline]
    pub fn open_window(&self, tier: Tier, now: Timestamp) -> Option<&AdvanceWindow> {
        self.windows()
            .find(|w| w.tier == tier && now >= self.release_at.add_secs(-w.lead_secs))
    }
}

/// What the policy function needs to know about a record. Products build it
/// from their own records; it never holds the content itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMeta {
    pub marking: Tlp,
    pub audience: Audience,
    pub author: Option<MemberId>,
    /// Published anonymously: members other than the author must not learn
    /// who contributed it.
    pub anonymous: bool,
    pub embargo: Option<Embargo>,
    pub min_clearance: Clearance,
}

impl RecordMeta {
    /// A record for every member, with this marking.
    pub fn everyone(marking: Tlp) -> Self {
        RecordMeta {
            marking,
            audience: Audience::Everyone,
            author: None,
            anonymous: false,
            embargo: None,
            min_clearance: Clearance::None,
        }
    }

    /// A member's own private data (its profile, constituency, keys).
    pub fn private_to(member: MemberId) -> Self {
        RecordMeta {
            marking: Tlp::AmberStrict,
            audience: Audience::Recipients(vec![member]),
            author: None,
            anonymous: false,
            embargo: None,
            min_clearance: Clearance::None,
        }
    }

    /// The operator's internal data (audit log, other members' keys).
    pub fn operator_only() -> Self {
        RecordMeta {
            marking: Tlp::Red,
            audience: Audience::Operator,
            author: None,
            anonymous: false,
            embargo: None,
            min_clearance: Clearance::None,
        }
    }
}
