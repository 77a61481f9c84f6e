//! The one policy function.
//!
//! Every read in isx — REST, TAXII, feed files, streams, web pages, search,
//! exports, lookups — asks [`decide`]: *may this principal see this record
//! now, and which fields?* TLP 2.0 markings, embargo and tier windows,
//! trust-group membership, constituency ownership and clearance are judged
//! here and nowhere else. A second copy of any of these rules elsewhere is a
//! bug.
//!
//! The function is pure and allocation-free: callers pass the clock's
//! reading, so tests can stand at any instant, and hot paths (streams, feed
//! files) can call it per record.

mod authority;
mod model;

pub use authority::{authorize, Action, Actor, KeyFacts, KeyGrant, Refusal, Role};
pub use model::{AdvanceWindow, Audience, Embargo, FieldMask, Principal, RecordMeta};

use isx_domain::{Timestamp, Tlp};

/// Why a record was withheld. Callers that answer HTTP requests must not
/// reveal the reason to the principal (they answer 404 as if the record did
/// not exist); it is for logs, the audit trail and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DenyReason {
    /// Not signed in, and the record is not TLP:CLEAR for everyone.
    Anonymous,
    /// Before release, and the principal's tier has no open window.
    Embargoed,
    /// Posted to a trust group the principal does not belong to.
    NotInGroup,
    /// Meant for named members (constituency owners, recipients) only.
    NotRecipient,
    /// Internal to the operator.
    OperatorOnly,
    /// The principal's clearance is below what the record requires.
    Clearance,
    /// TLP:RED, and the principal is not a named recipient.
    TlpRed,
    /// TLP:AMBER+STRICT shared with every member: the marking limits it to
    /// the organisation that received it (the operator's).
    AmberStrict,
}

/// The answer of [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Deny(DenyReason),
    /// Allowed, with these fields withheld.
    Allow(FieldMask),
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        matches!(self, Decision::Allow(_))
    }

    /// The fields to withhold, or `None` when the record must not be shown.
    pub fn mask(self) -> Option<FieldMask> {
        match self {
            Decision::Allow(m) => Some(m),
            Decision::Deny(_) => None,
        }
    }
}

/// May `principal` see the record described by `record` at instant `now`,
/// and which fields must be withheld?
///
/// The rules, in order:
/// 1. The operator sees everything, in full (it runs the instance and knows
///    every author).
/// 2. The author of a record sees it in full.
/// 3. Before the embargo's release time, only principals whose tier has an
///    open advance window see it, with that window's mask.
/// 4. The audience: `Everyone` needs a signed-in member unless the marking
///    is TLP:CLEAR; `Group` needs membership; `Recipients` needs the
///    principal to be named; `Operator` admits no one else.
/// 5. The principal's clearance must reach the record's minimum.
/// 6. TLP:RED goes only to named recipients.
/// 7. TLP:AMBER+STRICT is for the recipient organisation only: it goes to
///    the members a record names (constituency owners, recipients) or to
///    the trust group it was posted to, never to every member (so never
///    into shared feed files).
/// 8. Anonymous contributions hide their author.
#[inline]
pub fn decide(principal: &Principal, record: &RecordMeta, now: Timestamp) -> Decision {
    if principal.operator {
        return Decision::Allow(FieldMask::NONE);
    }
    let Some(me) = principal.member else {
        // Anonymous callers only ever see released, public, TLP:CLEAR records.
        let public = record.marking == Tlp::Clear
            && matches!(record.audience, Audience::Everyone)
            && record.embargo.is_none_or(|e| now >= e.release_at)
            && record.min_clearance == isx_domain::Clearance::None;
        return if public {
            Decision::Allow(author_mask(record))
        } else {
            Decision::Deny(DenyReason::Anonymous)
        };
    };
    if record.author == Some(me) {
        return Decision::Allow(FieldMask::NONE);
    }

    let mut mask = author_mask(record);
    if let Some(embargo) = &record.embargo {
        if now < embargo.release_at {
            match embargo.open_window(principal.tier, now) {
                Some(window) => mask = mask.union(window.mask),
                None => return Decision::Deny(DenyReason::Embargoed),
            }
        }
    }

    let named = match &record.audience {
        Audience::Everyone => false,
        Audience::Group(g) => {
            if !principal.in_group(*g) {
                return Decision::Deny(DenyReason::NotInGroup);
            }
            false
        }
        Audience::Recipients(list) => {
            if !list.contains(&me) {
                return Decision::Deny(DenyReason::NotRecipient);
            }
            true
        }
        Audience::Operator => return Decision::Deny(DenyReason::OperatorOnly),
    };

    if principal.clearance < record.min_clearance {
        return Decision::Deny(DenyReason::Clearance);
    }
    if record.marking == Tlp::Red && !named {
        return Decision::Deny(DenyReason::TlpRed);
    }
    if record.marking == Tlp::AmberStrict && matches!(record.audience, Audience::Everyone) {
        return Decision::Deny(DenyReason::AmberStrict);
    }
    Decision::Allow(mask)
}

#[inline]
fn author_mask(record: &RecordMeta) -> FieldMask {
    if record.anonymous {
        FieldMask::AUTHOR
    } else {
        FieldMask::NONE
    }
}

/// Since when `decide` has given its present answer for this principal and
/// record: the last instant at or before `now` at which the decision (allow
/// or deny, and the mask) changed — one of the embargo's window openings or
/// its release — or `None` when it has never changed. Found by asking
/// `decide` at those instants, so it holds no rule of its own. TAXII uses it
/// to date an advisory into a member's collection when the member may first
/// see it (or see more of it).
pub fn decided_since(
    principal: &Principal,
    record: &RecordMeta,
    now: Timestamp,
) -> Option<Timestamp> {
    let embargo = record.embargo?;
    let mut instants: Vec<Timestamp> = embargo
        .windows()
        .map(|w| embargo.release_at.add_secs(-w.lead_secs))
        .chain(std::iter::once(embargo.release_at))
        .filter(|t| *t <= now)
        .collect();
    instants.sort_unstable();
    let current = decide(principal, record, now);
    instants.into_iter().rev().find(|t| {
        decide(principal, record, Timestamp::from_micros(t.as_micros() - 1)) != current
            && decide(principal, record, *t) == current
    })
}

#[cfg(test)]
mod tests;
