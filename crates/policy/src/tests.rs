//! Table-driven tests for each rule, and a property test against a
//! deliberately simple reference implementation.

use super::*;
use isx_domain::{Clearance, GroupId, MemberId, Tier};
use proptest::prelude::*;

const DAY: i64 = 86_400;
const T: Timestamp = Timestamp::from_secs(1_800_000_000);

fn member(id: i64, tier: Tier) -> Principal {
    Principal::member(MemberId(id), false, tier, Clearance::None, vec![])
}

fn advisory() -> RecordMeta {
    RecordMeta {
        embargo: Some(Embargo::advance_notice(T)),
        ..RecordMeta::everyone(Tlp::Green)
    }
}

fn at(offset_secs: i64) -> Timestamp {
    T.add_secs(offset_secs)
}

/// One row: a principal, a record, an instant and the expected decision.
fn check(rows: &[(&str, Principal, RecordMeta, Timestamp, Decision)]) {
    for (name, p, r, now, want) in rows {
        assert_eq!(decide(p, r, *now), *want, "row {name:?}");
    }
}

#[test]
fn embargo_tier_windows() {
    let allow = Decision::Allow(FieldMask::NONE);
    let no_expl = Decision::Allow(FieldMask::EXPLOITABILITY);
    let deny = Decision::Deny(DenyReason::Embargoed);
    let std = || member(1, Tier::Standard);
    let a5 = || member(2, Tier::Advance5d);
    let a24 = || member(3, Tier::Advance24h);
    check(&[
        ("T-6d standard", std(), advisory(), at(-6 * DAY), deny),
        ("T-6d 5d", a5(), advisory(), at(-6 * DAY), deny),
        ("T-6d 24h", a24(), advisory(), at(-6 * DAY), deny),
        ("T-5d standard", std(), advisory(), at(-5 * DAY), deny),
        ("T-5d 5d", a5(), advisory(), at(-5 * DAY), no_expl),
        ("T-5d 24h", a24(), advisory(), at(-5 * DAY), deny),
        ("T-25h 5d", a5(), advisory(), at(-25 * 3600), no_expl),
        ("T-25h 24h", a24(), advisory(), at(-25 * 3600), deny),
        ("T-24h standard", std(), advisory(), at(-DAY), deny),
        ("T-24h 5d", a5(), advisory(), at(-DAY), no_expl),
        ("T-24h 24h", a24(), advisory(), at(-DAY), allow),
        (
            "T-1us 5d",
            a5(),
            advisory(),
            Timestamp::from_micros(T.as_micros() - 1),
            no_expl,
        ),
        ("T standard", std(), advisory(), T, allow),
        ("T 5d", a5(), advisory(), T, allow),
        ("T 24h", a24(), advisory(), T, allow),
        (
            "T anonymous green",
            Principal::anonymous(),
            advisory(),
            T,
            Decision::Deny(DenyReason::Anonymous),
        ),
    ]);
}

#[test]
fn operator_and_author_see_everything() {
    let op = Principal::member(MemberId(9), true, Tier::Standard, Clearance::None, vec![]);
    let mut secret = RecordMeta::operator_only();
    secret.embargo = Some(Embargo::until(T));
    secret.min_clearance = Clearance::Secret;
    secret.anonymous = true;
    let authored = RecordMeta {
        author: Some(MemberId(4)),
        anonymous: true,
        ..RecordMeta::everyone(Tlp::Red)
    };
    check(&[
        (
            "operator before release",
            op.clone(),
            secret.clone(),
            at(-30 * DAY),
            Decision::Allow(FieldMask::NONE),
        ),
        (
            "author of anonymous red",
            member(4, Tier::Standard),
            authored.clone(),
            T,
            Decision::Allow(FieldMask::NONE),
        ),
        (
            "other member, red to everyone",
            member(5, Tier::Standard),
            authored,
            T,
            Decision::Deny(DenyReason::TlpRed),
        ),
        (
            "member, operator data",
            member(5, Tier::Standard),
            RecordMeta::operator_only(),
            T,
            Decision::Deny(DenyReason::OperatorOnly),
        ),
    ]);
}

#[test]
fn audiences() {
    let g7 = GroupId(7);
    let in_g7 = Principal::member(
        MemberId(1),
        false,
        Tier::Standard,
        Clearance::None,
        vec![GroupId(3), g7],
    );
    let outside = member(2, Tier::Standard);
    let group_rec = RecordMeta {
        audience: Audience::Group(g7),
        ..RecordMeta::everyone(Tlp::Amber)
    };
    let victims = RecordMeta {
        audience: Audience::Recipients(vec![MemberId(1), MemberId(3)]),
        ..RecordMeta::everyone(Tlp::Amber)
    };
    let allow = Decision::Allow(FieldMask::NONE);
    check(&[
        ("group member", in_g7.clone(), group_rec.clone(), T, allow),
        (
            "not in group",
            outside.clone(),
            group_rec.clone(),
            T,
            Decision::Deny(DenyReason::NotInGroup),
        ),
        (
            "anonymous, group",
            Principal::anonymous(),
            group_rec,
            T,
            Decision::Deny(DenyReason::Anonymous),
        ),
        ("owner of constituency", in_g7, victims.clone(), T, allow),
        (
            "not an owner",
            outside.clone(),
            victims,
            T,
            Decision::Deny(DenyReason::NotRecipient),
        ),
        (
            "own private data",
            outside.clone(),
            RecordMeta::private_to(MemberId(2)),
            T,
            allow,
        ),
        (
            "another member's private data",
            outside,
            RecordMeta::private_to(MemberId(1)),
            T,
            Decision::Deny(DenyReason::NotRecipient),
        ),
    ]);
}

#[test]
fn tlp_markings() {
    let m = || member(1, Tier::Standard);
    let anon = Principal::anonymous;
    let allow = Decision::Allow(FieldMask::NONE);
    let red_named = RecordMeta {
        audience: Audience::Recipients(vec![MemberId(1)]),
        ..RecordMeta::everyone(Tlp::Red)
    };
    let red_group = RecordMeta {
        audience: Audience::Group(GroupId(1)),
        ..RecordMeta::everyone(Tlp::Red)
    };
    let in_group = Principal::member(
        MemberId(1),
        false,
        Tier::Standard,
        Clearance::None,
        vec![GroupId(1)],
    );
    check(&[
        (
            "clear, anonymous",
            anon(),
            RecordMeta::everyone(Tlp::Clear),
            T,
            allow,
        ),
        (
            "green, anonymous",
            anon(),
            RecordMeta::everyone(Tlp::Green),
            T,
            Decision::Deny(DenyReason::Anonymous),
        ),
        (
            "green, member",
            m(),
            RecordMeta::everyone(Tlp::Green),
            T,
            allow,
        ),
        (
            "amber, member",
            m(),
            RecordMeta::everyone(Tlp::Amber),
            T,
            allow,
        ),
        (
            "amber+strict to everyone, member",
            m(),
            RecordMeta::everyone(Tlp::AmberStrict),
            T,
            Decision::Deny(DenyReason::AmberStrict),
        ),
        (
            "amber+strict, named recipient",
            m(),
            RecordMeta {
                audience: Audience::Recipients(vec![MemberId(1)]),
                ..RecordMeta::everyone(Tlp::AmberStrict)
            },
            T,
            allow,
        ),
        (
            "amber+strict to a group, group member",
            Principal::member(
                MemberId(1),
                false,
                Tier::Standard,
                Clearance::None,
                vec![GroupId(1)],
            ),
            RecordMeta {
                audience: Audience::Group(GroupId(1)),
                ..RecordMeta::everyone(Tlp::AmberStrict)
            },
            T,
            allow,
        ),
        (
            "red to everyone",
            m(),
            RecordMeta::everyone(Tlp::Red),
            T,
            Decision::Deny(DenyReason::TlpRed),
        ),
        (
            "red to a group, group member",
            in_group,
            red_group,
            T,
            Decision::Deny(DenyReason::TlpRed),
        ),
        ("red, named recipient", m(), red_named, T, allow),
        (
            "clear but embargoed, anonymous",
            anon(),
            RecordMeta {
                embargo: Some(Embargo::until(T)),
                ..RecordMeta::everyone(Tlp::Clear)
            },
            at(-1),
            Decision::Deny(DenyReason::Anonymous),
        ),
    ]);
}

#[test]
fn clearance_and_anonymous_authors() {
    let formal = RecordMeta {
        min_clearance: Clearance::Confidential,
        ..RecordMeta::everyone(Tlp::Amber)
    };
    let low = Principal::member(
        MemberId(1),
        false,
        Tier::Standard,
        Clearance::Restricted,
        vec![],
    );
    let high = Principal::member(
        MemberId(2),
        false,
        Tier::Standard,
        Clearance::Secret,
        vec![],
    );
    let anon_contrib = RecordMeta {
        author: Some(MemberId(3)),
        anonymous: true,
        ..RecordMeta::everyone(Tlp::Green)
    };
    check(&[
        (
            "below clearance",
            low,
            formal.clone(),
            T,
            Decision::Deny(DenyReason::Clearance),
        ),
        (
            "above clearance",
            high.clone(),
            formal,
            T,
            Decision::Allow(FieldMask::NONE),
        ),
        (
            "anonymous contribution hides author",
            high,
            anon_contrib,
            T,
            Decision::Allow(FieldMask::AUTHOR),
        ),
    ]);
}

#[test]
fn field_mask_algebra() {
    let both = FieldMask::EXPLOITABILITY.union(FieldMask::AUTHOR);
    assert!(both.hides(FieldMask::AUTHOR) && both.hides(FieldMask::EXPLOITABILITY));
    assert!(!FieldMask::AUTHOR.hides(FieldMask::EXPLOITABILITY));
    assert!(!FieldMask::NONE.hides(FieldMask::NONE));
}

// ---- property test against a reference implementation ----

/// The rules restated as independent conditions, without early returns or
/// shared helpers, so that a mistake in `decide` is unlikely to be repeated.
fn reference(p: &Principal, r: &RecordMeta, now: Timestamp) -> Option<u32> {
    if p.operator {
        return Some(0);
    }
    if p.member.is_some() && r.author.is_some() && p.member == r.author {
        return Some(0);
    }
    let signed_in = p.member.is_some();
    let released = match &r.embargo {
        None => true,
        Some(e) => now.as_micros() >= e.release_at.as_micros(),
    };
    let mut window_mask: Option<u32> = if released { Some(0) } else { None };
    if !released && signed_in {
        if let Some(e) = &r.embargo {
            for w in e.windows() {
                let opens = e.release_at.as_micros() - w.lead_secs * 1_000_000;
                if w.tier == p.tier && now.as_micros() >= opens {
                    window_mask = Some(w.mask.bits());
                }
            }
        }
    }
    let named = match (&r.audience, p.member) {
        (Audience::Recipients(list), Some(me)) => list.contains(&me),
        _ => false,
    };
    let audience_ok = match &r.audience {
        Audience::Everyone => signed_in || r.marking == Tlp::Clear,
        Audience::Group(g) => signed_in && p.groups().contains(g),
        Audience::Recipients(_) => named,
        Audience::Operator => false,
    };
    let clearance_ok = p.clearance >= r.min_clearance;
    let red_ok = r.marking != Tlp::Red || named;
    let strict_ok = r.marking != Tlp::AmberStrict || !matches!(r.audience, Audience::Everyone);
    let ok = window_mask.is_some() && audience_ok && clearance_ok && red_ok && strict_ok;
    let author_bits = if r.anonymous {
        FieldMask::AUTHOR.bits()
    } else {
        0
    };
    ok.then(|| window_mask.unwrap_or(0) | author_bits)
}

fn tier() -> impl Strategy<Value = Tier> {
    prop::sample::select(Tier::ALL.to_vec())
}

fn clearance() -> impl Strategy<Value = Clearance> {
    prop::sample::select(Clearance::ALL.to_vec())
}

fn principal() -> impl Strategy<Value = Principal> {
    (
        prop::option::weighted(0.85, 0i64..5),
        prop::bool::weighted(0.1),
        tier(),
        clearance(),
        prop::collection::vec(0i64..5, 0..4),
    )
        .prop_map(|(m, op, tier, cl, groups)| match m {
            None => Principal::anonymous(),
            Some(id) => Principal::member(
                MemberId(id),
                op,
                tier,
                cl,
                groups.into_iter().map(GroupId).collect(),
            ),
        })
}

fn record() -> impl Strategy<Value = RecordMeta> {
    let audience = prop_oneof![
        Just(Audience::Everyone),
        (0i64..5).prop_map(|g| Audience::Group(GroupId(g))),
        prop::collection::vec(0i64..5, 0..3)
            .prop_map(|v| Audience::Recipients(v.into_iter().map(MemberId).collect())),
        Just(Audience::Operator),
    ];
    let window =
        (tier(), 0i64..7 * DAY, any::<bool>()).prop_map(|(tier, lead, hide)| AdvanceWindow {
            tier,
            lead_secs: lead,
            mask: if hide {
                FieldMask::EXPLOITABILITY
            } else {
                FieldMask::NONE
            },
        });
    let embargo = prop::option::of(
        prop::collection::vec(window, 0..3)
            .prop_map(|ws| ws.into_iter().fold(Embargo::until(T), Embargo::with_window)),
    );
    (
        prop::sample::select(Tlp::ALL.to_vec()),
        audience,
        prop::option::of(0i64..5),
        any::<bool>(),
        embargo,
        clearance(),
    )
        .prop_map(
            |(marking, audience, author, anonymous, embargo, min_clearance)| RecordMeta {
                marking,
                audience,
                author: author.map(MemberId),
                anonymous,
                embargo,
                min_clearance,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn decide_agrees_with_the_reference(
        p in principal(),
        r in record(),
        offset in -8 * DAY..2 * DAY,
    ) {
        let now = at(offset);
        let got = decide(&p, &r, now).mask().map(FieldMask::bits);
        prop_assert_eq!(got, reference(&p, &r, now));
    }
}

#[test]
fn decided_since_is_the_last_change_of_the_answer() {
    let five = member(1, Tier::Advance5d);
    let day = member(2, Tier::Advance24h);
    let none = member(3, Tier::Standard);
    let r = advisory();
    // Twelve hours before release.
    assert_eq!(
        decided_since(&five, &r, at(-12 * 3600)),
        Some(at(-5 * 86_400))
    );
    assert_eq!(decided_since(&day, &r, at(-12 * 3600)), Some(at(-86_400)));
    assert_eq!(decided_since(&none, &r, at(-12 * 3600)), None);
    // After release every member sees it in full: the answer changed at
    // release for each of them (the 24-hour tier saw it in full already).
    assert_eq!(decided_since(&five, &r, at(3600)), Some(at(0)));
    assert_eq!(decided_since(&none, &r, at(3600)), Some(at(0)));
    assert_eq!(decided_since(&day, &r, at(3600)), Some(at(-86_400)));
    // Without an embargo nothing ever changes.
    assert_eq!(
        decided_since(&five, &RecordMeta::everyone(Tlp::Green), at(0)),
        None
    );
}
