//! The policy metadata of the records this crate serves. Every read path
//! builds a record's [`RecordMeta`] here and asks [`isx_policy::decide`];
//! nothing in the server judges visibility on its own.

use isx_domain::{ApiKey, Clearance, GroupMembership, GroupRole, MemberId, Tlp, TrustGroup};
use isx_policy::{decide, Audience, Decision, RecordMeta};

use crate::identity::Caller;
use crate::App;

/// A member's profile and constituency: private to that member.
pub fn member(id: MemberId) -> RecordMeta {
    RecordMeta::private_to(id)
}

/// An API key's metadata: private to the member that owns it.
pub fn api_key(key: &ApiKey) -> RecordMeta {
    RecordMeta::private_to(key.member)
}

/// A member's webhook deliveries: private to that member.
pub fn webhook_delivery(d: &isx_store::Delivery) -> RecordMeta {
    RecordMeta::private_to(d.member)
}

/// Users, the audit log: the operator's.
pub fn operator_data() -> RecordMeta {
    RecordMeta::operator_only()
}

/// A trust group's description: for its members, at its clearance.
pub fn group(g: &TrustGroup) -> RecordMeta {
    RecordMeta {
        marking: Tlp::Amber,
        audience: Audience::Group(g.id),
        author: None,
        anonymous: false,
        embargo: None,
        min_clearance: g.kind.min_clearance().min(Clearance::Secret),
    }
}

fn owners(roster: &[GroupMembership]) -> Vec<MemberId> {
    roster
        .iter()
        .filter(|m| m.role == GroupRole::Owner)
        .map(|m| m.member)
        .collect()
}

/// A trust group's member list: its members, or only its owners when the
/// group hides the list.
pub fn group_roster(g: &TrustGroup, roster: &[GroupMembership]) -> RecordMeta {
    if g.hide_members {
        RecordMeta {
            audience: Audience::Recipients(owners(roster)),
            ..group(g)
        }
    } else {
        group(g)
    }
}

/// A release package and everything in it: see
/// [`isx_advisories::release_record`].
pub fn release(r: &isx_advisories::Release) -> RecordMeta {
    isx_advisories::release_record(r)
}

/// A malicious-URL record: every member, per its TLP marking.
pub fn url(marking: Tlp) -> RecordMeta {
    isx_urls::url_record(marking)
}

/// Clean file metadata: every member (see
/// [`isx_cleanfiles::cleanfile_record`]).
pub fn clean_file() -> RecordMeta {
    isx_cleanfiles::cleanfile_record()
}

/// A STIX object posted to a trust group's TAXII collection: the group's
/// members at its clearance, per the object's marking; its author always.
pub fn exchange_object(g: &TrustGroup, marking: Tlp, author: MemberId) -> RecordMeta {
    RecordMeta {
        marking,
        author: Some(author),
        ..group(g)
    }
}

/// A contribution to a trust group: the group's members at its clearance,
/// per its marking; its author always. The author's name is withheld from
/// others when the contribution is anonymous or the group hides its member
/// list (a named author would tell members who belongs).
pub fn contribution(g: &TrustGroup, c: &isx_partnership::Contribution) -> RecordMeta {
    RecordMeta {
        marking: c.content.marking,
        author: Some(c.author),
        anonymous: c.content.anonymous || g.hide_members,
        ..group(g)
    }
}

/// A comment on a contribution: like the contribution, with the comment's
/// own author and anonymity.
pub fn comment(
    g: &TrustGroup,
    c: &isx_partnership::Contribution,
    k: &isx_partnership::Comment,
) -> RecordMeta {
    RecordMeta {
        author: Some(k.author),
        anonymous: k.anonymous || g.hide_members,
        ..contribution(g, c)
    }
}

/// A request to share a contribution wider: the member that owns the
/// contribution (who decides) and the member that asked.
pub fn share_request(
    c: &isx_partnership::Contribution,
    s: &isx_partnership::ShareRequest,
) -> RecordMeta {
    RecordMeta {
        audience: Audience::Recipients(vec![c.author, s.requested_by]),
        ..RecordMeta::everyone(Tlp::Amber)
    }
}

/// Who asked to share a contribution, as a field of the request: named to
/// the other members concerned unless the group hides its member list.
pub fn share_requester(g: &TrustGroup, s: &isx_partnership::ShareRequest) -> RecordMeta {
    RecordMeta {
        author: Some(s.requested_by),
        anonymous: g.hide_members,
        ..group(g)
    }
}

/// Who has reported in a group's mandatory categories: its owners (it names
/// members, so it is as private as a hidden member list).
pub fn group_reporting(g: &TrustGroup, roster: &[GroupMembership]) -> RecordMeta {
    RecordMeta {
        audience: Audience::Recipients(owners(roster)),
        ..group(g)
    }
}

/// A feed file: like the most restrictive record it holds; a member's
/// botnet batch is that member's alone.
pub fn feed_file(f: &isx_store::FeedFile) -> RecordMeta {
    match f.member {
        Some(m) => RecordMeta {
            audience: Audience::Recipients(vec![m]),
            ..RecordMeta::everyone(f.marking)
        },
        None => isx_urls::url_record(f.marking),
    }
}

/// A botnet event: victim data for the members it concerns, C2 servers
/// and malicious domains for every member, per marking.
pub fn botnet_event(e: &isx_store::StoredBotnetEvent) -> RecordMeta {
    isx_botnet::botnet_record(e.event.product, e.event.marking, &e.recipients)
}

/// The markings of URL records `principal` may see at `now`. URL records
/// differ only by marking, so asking the policy function once per marking
/// lets the store filter in SQL without a second copy of the rule.
pub fn url_markings(principal: &isx_policy::Principal, now: isx_domain::Timestamp) -> Vec<Tlp> {
    Tlp::ALL
        .into_iter()
        .filter(|t| decide(principal, &url(*t), now).is_allowed())
        .collect()
}

/// Asks the policy function on behalf of `caller`, now.
pub fn decide_for(app: &App, caller: &Caller, record: &RecordMeta) -> Decision {
    decide(&caller.principal, record, app.clock.now())
}

/// Whether `caller` may read a feed file (any product) at `now`.
pub fn may_read_file(caller: &Caller, f: &isx_store::FeedFile, now: isx_domain::Timestamp) -> bool {
    decide(&caller.principal, &feed_file(f), now).is_allowed()
}

pub fn may_see(app: &App, caller: &Caller, record: &RecordMeta) -> bool {
    decide_for(app, caller, record).is_allowed()
}
