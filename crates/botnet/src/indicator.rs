//! The STIX indicator a C2 server or malicious domain is in the TAXII
//! botnet collection, followed event by event.
//!
//! One indicator per C2 (product, subject, port, family) and marking, and
//! per *generation*: each event that tells something new is a new version
//! of it (modified at the event's own last sighting, so versions are in
//! the order of what the sources saw, whatever order they arrive in); an
//! event that tells nothing new (a sighting no later than the indicator's
//! last version) adds no version. A source reporting the C2 `offline`
//! adds the final version, `revoked: true`; STIX allows nothing after it,
//! so a C2 back online is the next generation, a new indicator. A C2 that
//! sources stop reporting expires by `valid_until` (a day after its last
//! sighting). Pure: the store keeps the [`IndicatorState`] per key and the
//! link of each event.

use isx_domain::{BotnetProduct, Timestamp};
use serde::{Deserialize, Serialize};

use crate::BotnetEvent;

/// Where a C2 key's indicator stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorState {
    pub generation: i64,
    pub created: Timestamp,
    pub modified: Timestamp,
    pub revoked: bool,
}

/// What one event is in the collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndicatorLink {
    /// Stored before indicators were followed: an indicator of its own.
    PerEvent,
    /// Nothing new (old news, or a report about a C2 already offline).
    Silent,
    /// This version of the key's indicator.
    Version(IndicatorState),
}

/// Whether the indicator of an event's product is followed by key.
pub fn is_followed(product: BotnetProduct) -> bool {
    matches!(product, BotnetProduct::C2 | BotnetProduct::Domains)
}

/// The key of an event's indicator: product, subject, port, family and
/// marking (readers of one marking see one line of versions).
pub fn key(e: &BotnetEvent) -> String {
    let subject = e
        .domain
        .as_ref()
        .map(|d| d.as_str().to_owned())
        .or_else(|| e.ip.map(|i| i.to_string()))
        .unwrap_or_default();
    format!(
        "{}|{subject}|{}|{}|{}",
        e.product.short(),
        e.port.unwrap_or(0),
        e.family,
        e.marking.as_str()
    )
}

/// Whether a source reports the C2 offline ([`crate::OFFLINE_STATUSES`],
/// in any case and spacing).
pub fn reports_offline(e: &BotnetEvent) -> bool {
    e.status
        .as_deref()
        .map(|s| s.trim().to_ascii_lowercase())
        .is_some_and(|s| crate::OFFLINE_STATUSES.contains(&s.as_str()))
}

/// An instant to the millisecond, as STIX timestamps carry it: versions
/// are told apart at that precision, so reports within one millisecond
/// are one version.
fn to_millis(t: Timestamp) -> Timestamp {
    Timestamp::from_micros(t.as_micros().div_euclid(1000) * 1000)
}

/// The event's link given its key's state, and the state after it.
pub fn next(
    state: Option<IndicatorState>,
    e: &BotnetEvent,
) -> (IndicatorLink, Option<IndicatorState>) {
    let at = to_millis(e.last_seen.max(e.seen_at));
    let offline = reports_offline(e);
    let version = |s: IndicatorState| (IndicatorLink::Version(s), Some(s));
    match state {
        // Nothing to revoke: a C2 first reported offline has no indicator.
        None if offline => (IndicatorLink::Silent, None),
        None => version(IndicatorState {
            generation: 0,
            created: at,
            modified: at,
            revoked: false,
        }),
        Some(s) if s.revoked && offline => (IndicatorLink::Silent, Some(s)),
        Some(s) if s.revoked => {
            if at <= s.modified {
                // A sighting from before it went offline: old news.
                return (IndicatorLink::Silent, Some(s));
            }
            version(IndicatorState {
                generation: s.generation + 1,
                created: at,
                modified: at,
                revoked: false,
            })
        }
        // Offline in the millisecond of the last version: the revocation
        // takes the next millisecond (versions need a later `modified`).
        Some(s) if offline && at == s.modified => version(IndicatorState {
            modified: Timestamp::from_micros(at.as_micros().saturating_add(1000)),
            revoked: true,
            ..s
        }),
        Some(s) if at <= s.modified => (IndicatorLink::Silent, Some(s)),
        Some(s) => version(IndicatorState {
            modified: at,
            revoked: offline,
            ..s
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at: i64, status: Option<&str>) -> BotnetEvent {
        let mut e = BotnetEvent::new(BotnetProduct::C2, Timestamp::from_secs(at), "test");
        e.ip = "203.0.113.5".parse().ok();
        e.port = Some(443);
        e.family = "emotet".into();
        e.status = status.map(str::to_owned);
        e
    }

    fn run(events: &[BotnetEvent]) -> Vec<IndicatorLink> {
        let mut state = None;
        events
            .iter()
            .map(|e| {
                let (link, s) = next(state, e);
                state = s;
                link
            })
            .collect()
    }

    #[test]
    fn versions_follow_what_sources_saw_and_end_revoked() {
        let links = run(&[
            event(100, Some("online")),
            event(200, None),
            event(150, None), // older than the last version: nothing new
            event(300, Some("offline")),
            event(310, Some("offline")), // already revoked: nothing after it
            event(250, Some("online")),  // from before it went offline
            event(400, Some("online")),  // back: a new indicator
        ]);
        let v = |l: &IndicatorLink| match l {
            IndicatorLink::Version(s) => Some((s.generation, s.modified.as_secs(), s.revoked)),
            _ => None,
        };
        let got: Vec<_> = links.iter().map(v).collect();
        assert_eq!(
            got,
            vec![
                Some((0, 100, false)),
                Some((0, 200, false)),
                None,
                Some((0, 300, true)),
                None,
                None,
                Some((1, 400, false)),
            ]
        );
        // A generation keeps its creation time; the next starts its own.
        let IndicatorLink::Version(last) = links[6] else {
            panic!("a version")
        };
        assert_eq!(last.created.as_secs(), 400);
        let IndicatorLink::Version(revoked) = links[3] else {
            panic!("a version")
        };
        assert_eq!(revoked.created.as_secs(), 100);
    }

    #[test]
    fn reports_within_a_millisecond_are_one_version() {
        let mut a = event(100, None);
        let mut b = a.clone();
        a.seen_at = Timestamp::from_micros(100_000_000 + 100);
        a.last_seen = a.seen_at;
        b.seen_at = Timestamp::from_micros(100_000_000 + 900);
        b.last_seen = b.seen_at;
        let mut c = b.clone();
        c.status = Some("down".into());
        let links = run(&[a, b, c]);
        assert!(matches!(links[0], IndicatorLink::Version(_)));
        assert_eq!(links[1], IndicatorLink::Silent, "the same millisecond");
        // An offline report in the same millisecond as the last version
        // still revokes it, one millisecond on.
        let IndicatorLink::Version(v) = links[2] else {
            panic!("the revocation: {:?}", links[2])
        };
        assert!(v.revoked);
        assert_eq!(v.modified.as_micros(), 100_001_000);
    }

    #[test]
    fn a_c2_first_reported_offline_has_no_indicator() {
        assert_eq!(
            run(&[event(100, Some("OFFLINE"))]),
            vec![IndicatorLink::Silent]
        );
    }

    #[test]
    fn markings_and_ports_are_separate_indicators() {
        let a = event(100, None);
        let mut b = a.clone();
        b.marking = isx_domain::Tlp::Green;
        let mut c = a.clone();
        c.port = Some(8080);
        assert_ne!(key(&a), key(&b));
        assert_ne!(key(&a), key(&c));
        assert_eq!(key(&a), key(&event(999, Some("offline"))));
    }
}
