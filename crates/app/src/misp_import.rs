//! MISP events into a trust group: what a member exports from its MISP (or
//! a MISP feed serves) becomes contributions — indicators from the
//! attributes meant for detection, sightings from MISP's sightings, an
//! incident from an event that names ATT&CK techniques or is tagged as an
//! incident — keeping MISP's UUIDs (as the STIX ids), tags and TLP. The
//! import goes through the same checks, PII review and group rules as a
//! contribution posted by hand, is all or nothing, and is idempotent: an
//! attribute already imported into the group is left as it is.

use std::collections::BTreeMap;

use isx_domain::{GroupId, Timestamp, Tlp};
use isx_formats::misp_read::{read_events, MispAttribute, MispEvent};
use isx_partnership::{
    governance, Details, Impact, IncidentStatus, IndicatorType, NewContribution, PiiChoices,
};
use serde::Serialize;

use crate::identity::Caller;
use crate::{App, AppError};

/// The instance secret that keys imported contributions' STIX ids.
const IDS_SECRET: &str = "misp-import-ids";

/// `kind--uuid` (from the MISP UUID) made into the id this member's import
/// into this group gets: an HMAC-SHA-256 of the three under `key`, shaped
/// as a version 4 UUID.
fn keyed_id(key: &[u8], group: GroupId, member: isx_domain::MemberId, misp_id: &str) -> String {
    use hmac::{Hmac, Mac};
    let (kind, uuid) = misp_id.split_once("--").unwrap_or(("indicator", misp_id));
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(format!("{}|{}|{kind}|{uuid}", group.0, member.0).as_bytes());
    let d = mac.finalize().into_bytes();
    let mut b = [0u8; 16];
    b.copy_from_slice(d.get(..16).unwrap_or(&[0; 16]));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{kind}--{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or_default(),
        h.get(8..12).unwrap_or_default(),
        h.get(12..16).unwrap_or_default(),
        h.get(16..20).unwrap_or_default(),
        h.get(20..32).unwrap_or_default()
    )
}

/// What the member says about personal data the detector finds: the
/// choices of a hand-made contribution, or "redact every finding".
#[derive(Debug, Clone, Default)]
pub struct PiiAnswer {
    pub choices: PiiChoices,
    pub redact_all: bool,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    pub events: u64,
    /// Contributions created.
    pub added: u64,
    /// Already in the group from an earlier import (left as they are).
    pub unchanged: u64,
    /// Attributes not imported, by reason (`type text`, `to_ids off`…).
    pub skipped: BTreeMap<String, u64>,
    /// Personal-data findings redacted and kept.
    pub redacted: u64,
    pub kept: u64,
}

/// One contribution the import would make, and where it comes from.
#[derive(Debug, Clone)]
pub struct Planned {
    pub content: NewContribution,
    pub stix_id: String,
    pub pointer: String,
}

/// The indicator type and value of a MISP attribute isx can carry, or why
/// not. Composite types (`ip-dst|port`, `domain|ip`, `filename|sha256`)
/// give the part isx has a type for.
pub fn indicator_of(a: &MispAttribute) -> Option<(IndicatorType, String)> {
    let (first, second) = match a.value.split_once('|') {
        Some((x, y)) => (x.trim(), Some(y.trim())),
        None => (a.value.trim(), None),
    };
    // A value that is no address stays an IPv4 candidate, so the check
    // refuses it (with its pointer) like any other bad value.
    let ip = |v: &str| match v.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(_)) => Some((IndicatorType::Ipv6, v.to_owned())),
        _ => Some((IndicatorType::Ipv4, v.to_owned())),
    };
    let hash = |t: &str| match t {
        "md5" => Some(IndicatorType::Md5),
        "sha1" => Some(IndicatorType::Sha1),
        "sha256" => Some(IndicatorType::Sha256),
        _ => None,
    };
    match a.kind.as_str() {
        "ip-dst" | "ip-src" | "ip" | "ip-dst|port" | "ip-src|port" => ip(first),
        "domain" | "hostname" | "domain|ip" | "hostname|port" => {
            Some((IndicatorType::Domain, first.to_owned()))
        }
        "url" => Some((IndicatorType::Url, a.value.trim().to_owned())),
        "email" | "email-src" | "email-dst" => Some((IndicatorType::Email, first.to_owned())),
        t => {
            if let Some(h) = hash(t) {
                return Some((h, first.to_owned()));
            }
            let h = hash(t.strip_prefix("filename|")?)?;
            Some((h, second?.to_owned()))
        }
    }
}

fn clipped(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    // The ellipsis takes three bytes of the room.
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", s.get(..end).unwrap_or_default())
}

/// The event's tags other than TLP (kept in the description).
fn other_tags(tags: &[String]) -> Vec<&str> {
    tags.iter()
        .map(String::as_str)
        .filter(|t| isx_formats::misp::tlp_of_tag(t).is_none())
        .collect()
}

fn provenance(e: &MispEvent, a: Option<&MispAttribute>) -> String {
    let mut s = format!("From MISP event \"{}\" ({})", clipped(&e.info, 300), e.uuid);
    if let Some(a) = a {
        s.push_str(&format!(", attribute {} ({}", a.uuid, a.kind));
        if let Some(o) = &a.object {
            s.push_str(&format!(" in a {o} object"));
        }
        s.push(')');
    }
    s.push('.');
    // The event's tags, then the attribute's own.
    let mut tags = other_tags(&e.tags);
    if let Some(a) = a {
        tags.extend(
            other_tags(&a.tags)
                .into_iter()
                .filter(|t| !e.tags.iter().any(|x| x == t)),
        );
    }
    if !tags.is_empty() {
        s.push_str(&format!(" MISP tags: {}.", tags.join(", ")));
    }
    s
}

/// Contributions one import may make (one transaction: more would hold
/// the store's write lock for seconds).
pub const MAX_CONTRIBUTIONS: usize = 5_000;

/// The marking `tags` give, refusing what isx must not guess: TLP:RED, and
/// a `tlp:` tag it cannot read (`tlp:ex:chr`, `tlp:amber strict`).
fn marking_of(tags: &[String], pointer: &str) -> Result<Option<Tlp>, AppError> {
    for t in tags {
        let lower = t.trim().to_ascii_lowercase();
        if lower.starts_with("tlp:") && isx_formats::misp::tlp_of_tag(t).is_none() {
            return Err(AppError::Validation {
                detail: format!(
                    "{pointer}: the tag {t:?} names no TLP 2.0 marking isx knows (tlp:clear, tlp:green, tlp:amber, tlp:amber+strict, tlp:red); nothing was imported"
                ),
                pointer: Some(pointer.to_owned()),
            });
        }
    }
    let m = tags
        .iter()
        .filter_map(|t| isx_formats::misp::tlp_of_tag(t))
        .max();
    if m == Some(Tlp::Red) {
        return Err(refused_red(pointer));
    }
    Ok(m)
}

/// Whether an event's tags classify it as an incident (the incident
/// taxonomies MISP ships: eCSIRT, RSIT, CIRCL's classification).
fn incident_tagged(tags: &[String]) -> bool {
    tags.iter().any(|t| {
        let l = t.trim().to_ascii_lowercase();
        l.starts_with("ecsirt:")
            || l.starts_with("rsit:")
            || l.starts_with("circl:incident-classification")
    })
}

fn refused_red(pointer: &str) -> AppError {
    AppError::Validation {
        detail: format!(
            "{pointer}: marked TLP:RED — TLP:RED is for named individuals, not a group; nothing was imported (share it person to person, or mark it TLP:AMBER+STRICT in MISP)"
        ),
        pointer: Some(pointer.to_owned()),
    }
}

/// The contributions `events` make (pure: no store), with what is skipped.
/// Markings: an attribute's own `tlp:` tag, else its event's, else
/// TLP:AMBER (as for anything shared unmarked); TLP:RED anywhere refuses
/// the import.
pub fn plan(
    events: &[MispEvent],
    now: Timestamp,
    skipped: &mut BTreeMap<String, u64>,
) -> Result<Vec<Planned>, AppError> {
    let mut out = Vec::new();
    let mut skip = |why: &str| *skipped.entry(why.to_owned()).or_default() += 1;
    for e in events {
        let event_marking = marking_of(&e.tags, &e.pointer)?.unwrap_or(Tlp::Amber);
        // Every marking first: a TLP:RED attribute refuses the import even
        // when isx would not import the attribute itself.
        for a in &e.attributes {
            marking_of(&a.tags, &a.pointer)?;
        }
        let incident = !e.techniques.is_empty() || incident_tagged(&e.tags);
        if incident && e.distribution == 0 {
            skip("distribution: your organisation only");
        } else if incident {
            let mut description = provenance(e, None);
            if let Some(d) = e.date {
                description.push_str(&format!(" Event date {}.", d.to_rfc3339()));
            }
            out.push(Planned {
                content: NewContribution {
                    title: clipped(&e.info, 200),
                    description,
                    marking: event_marking,
                    anonymous: false,
                    details: Details::Incident {
                        information_lost: String::new(),
                        techniques: e.techniques.clone(),
                        intent: String::new(),
                        impact: match e.threat_level {
                            1 => Impact::High,
                            2 => Impact::Moderate,
                            3 => Impact::Low,
                            _ => Impact::None,
                        },
                        sector: String::new(),
                        status: if e.analysis == 2 {
                            IncidentStatus::Resolved
                        } else {
                            IncidentStatus::Open
                        },
                        timeline: Vec::new(),
                    },
                },
                stix_id: format!("incident--{}", e.uuid),
                pointer: e.pointer.clone(),
            });
        }
        for a in &e.attributes {
            if a.deleted {
                skip("deleted in MISP");
                continue;
            }
            // Shared beyond the organisation only where MISP allows it.
            if a.distribution == 0 {
                skip("distribution: your organisation only");
                continue;
            }
            let Some((indicator_type, value)) = indicator_of(a) else {
                skip(&format!("type {}", a.kind));
                continue;
            };
            let marking = marking_of(&a.tags, &a.pointer)?.unwrap_or(event_marking);
            // A sighting is a past observation: one dated ahead is dropped.
            let horizon = now.add_secs(3_600);
            let sightings: Vec<Timestamp> = a
                .sightings
                .iter()
                .copied()
                .filter(|t| *t <= horizon)
                .collect();
            if sightings.len() < a.sightings.len() {
                skip("sighting dated in the future");
            }
            let mut description = provenance(e, Some(a));
            if !a.comment.trim().is_empty() {
                description = format!("{}\n\n{description}", a.comment.trim());
            }
            // The value is in the details; repeated in the title it would be
            // free text the personal-data review reads (an IP address).
            let title = clipped(&format!("{} from MISP: {}", a.kind, e.info), 200);
            if let (Some(first), Some(last)) = (sightings.iter().min(), sightings.iter().max()) {
                out.push(Planned {
                    content: NewContribution {
                        title: title.clone(),
                        description: description.clone(),
                        marking,
                        anonymous: false,
                        details: Details::Sighting {
                            indicator_type,
                            value: value.clone(),
                            count: u32::try_from(sightings.len()).unwrap_or(u32::MAX),
                            first_seen: *first,
                            last_seen: *last,
                            location: String::new(),
                        },
                    },
                    stix_id: format!(
                        "sighting--{}",
                        isx_formats::misp::uuid(&format!("sighting:{}", a.uuid))
                    ),
                    pointer: a.pointer.clone(),
                });
            }
            if !a.to_ids {
                if sightings.is_empty() {
                    skip("to_ids off");
                }
                continue;
            }
            out.push(Planned {
                content: NewContribution {
                    title,
                    description,
                    marking,
                    anonymous: false,
                    details: Details::Indicator {
                        indicator_type,
                        value,
                        valid_until: None,
                    },
                },
                stix_id: format!("indicator--{}", a.uuid),
                pointer: a.pointer.clone(),
            });
        }
    }
    Ok(out)
}

fn at(pointer: &str, e: AppError) -> AppError {
    match e {
        AppError::Validation { detail, pointer: p } => AppError::Validation {
            detail: format!("{pointer}: {detail}"),
            pointer: Some(format!("{pointer}{}", p.unwrap_or_default())),
        },
        AppError::Invalid { detail, errors } => AppError::Invalid {
            detail: format!("{pointer}: {detail}"),
            errors,
        },
        other => other,
    }
}

/// Imports MISP events (`bytes`: a MISP JSON document) into `group` as the
/// caller's contributions. Everything is checked first (the document, each
/// contribution, the personal-data answer); then all is written in one
/// transaction — or, on any error, nothing.
pub async fn import(
    app: &App,
    caller: &Caller,
    group: GroupId,
    bytes: &[u8],
    anonymous: bool,
    pii: &PiiAnswer,
) -> Result<ImportOutcome, AppError> {
    let now: Timestamp = app.clock.now();
    let access = crate::partnership::group_for(app, caller, group).await?;
    access.require_writer(now)?;
    let events = read_events(bytes).map_err(|e| match e {
        isx_formats::FormatError::Value { pointer, message } => AppError::Validation {
            detail: format!("{pointer}: {message}"),
            pointer: Some(pointer),
        },
        other => AppError::BadRequest(format!("not a MISP event document: {other}")),
    })?;
    let mut outcome = ImportOutcome {
        events: events.len() as u64,
        ..ImportOutcome::default()
    };
    let planned = plan(&events, now, &mut outcome.skipped)?;
    if planned.len() > MAX_CONTRIBUTIONS {
        return Err(AppError::PayloadTooLarge(format!(
            "{} contributions: at most {MAX_CONTRIBUTIONS} per import (split the export); nothing was imported",
            planned.len()
        )));
    }
    let mut checked = Vec::with_capacity(planned.len());
    for mut p in planned {
        p.content.anonymous = anonymous;
        p.content = p.content.checked().map_err(|e| at(&p.pointer, e.into()))?;
        checked.push(p);
    }
    // Personal data: the same review as by hand, over every contribution.
    let mut choices = pii.choices.clone();
    if pii.redact_all {
        for p in &checked {
            for f in governance::findings(&p.content) {
                if !choices.keep.contains(&f.text) && !choices.redact.contains(&f.text) {
                    choices.redact.push(f.text);
                }
            }
        }
    }
    for p in &mut checked {
        let found = governance::findings(&p.content).len() as u64;
        let kept = governance::check_pii_choices(&mut p.content, &choices)
            .map_err(|e| at(&p.pointer, e.into()))?;
        outcome.kept += kept.len() as u64;
        outcome.redacted += found - kept.len() as u64;
    }
    // The STIX id of each contribution derives from the MISP UUID, the
    // group and the importing member, keyed by an instance secret: the
    // same export imported again by the same member into the same group
    // finds what it made (idempotent), while nobody can compute — or
    // pre-empt, or probe for — the id another member's import gets.
    let key = app
        .store
        .instance_secret(IDS_SECRET, &crate::identity::random_hex32())
        .await?;
    let mut items = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in checked {
        let stix_id = keyed_id(key.as_bytes(), group, caller.member.id, &p.stix_id);
        if !seen.insert(stix_id.clone()) {
            outcome.unchanged += 1;
            continue;
        }
        match app.store.contribution_by_stix_id(&stix_id).await? {
            Some(c) if c.group == group && c.author == caller.member.id => {
                outcome.unchanged += 1;
            }
            Some(_) => {
                // Not reachable without the secret; refuse rather than mix.
                return Err(AppError::Conflict(format!(
                    "{}: cannot import this attribute; nothing was imported",
                    p.pointer
                )));
            }
            None => items.push((p.content, stix_id)),
        }
    }
    outcome.added = items.len() as u64;
    if !items.is_empty() {
        let instance = app.stix_identity_id();
        crate::partnership::store_all(
            app.store.as_ref(),
            &instance,
            &access.group,
            caller.member.id,
            items,
            now,
        )
        .await?;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(kind: &str, value: &str) -> MispAttribute {
        MispAttribute {
            uuid: "5f1e1a2b-0000-4000-8000-000000000002".into(),
            kind: kind.into(),
            category: String::new(),
            value: value.into(),
            to_ids: true,
            comment: String::new(),
            tags: Vec::new(),
            first_seen: None,
            last_seen: None,
            timestamp: None,
            sightings: Vec::new(),
            object: None,
            deleted: false,
            distribution: 1,
            pointer: "/Event/Attribute/0".into(),
        }
    }

    #[test]
    fn attribute_types_map_to_indicator_types() {
        for (kind, value, want) in [
            (
                "ip-dst",
                "192.0.2.1",
                Some((IndicatorType::Ipv4, "192.0.2.1")),
            ),
            (
                "ip-src|port",
                "2001:db8::1|443",
                Some((IndicatorType::Ipv6, "2001:db8::1")),
            ),
            (
                "domain|ip",
                "evil.example|192.0.2.1",
                Some((IndicatorType::Domain, "evil.example")),
            ),
            (
                "filename|sha256",
                &format!("a.exe|{}", "ab".repeat(32)),
                Some((IndicatorType::Sha256, "ab".repeat(32).leak() as &str)),
            ),
            (
                "md5",
                &"c".repeat(32),
                Some((IndicatorType::Md5, "c".repeat(32).leak() as &str)),
            ),
            (
                "email-src",
                "x@evil.example",
                Some((IndicatorType::Email, "x@evil.example")),
            ),
            ("text", "hello", None),
            (
                "ip-dst",
                "not an ip",
                Some((IndicatorType::Ipv4, "not an ip")),
            ),
            ("filename|mutex", "a|b", None),
        ] {
            let got = indicator_of(&attr(kind, value));
            assert_eq!(
                got.as_ref().map(|(t, v)| (*t, v.as_str())),
                want,
                "{kind} {value}"
            );
        }
    }
}
