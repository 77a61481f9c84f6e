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
    let ip = |v: &str| match v.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => Some((IndicatorType::Ipv4, v.to_owned())),
        Ok(std::net::IpAddr::V6(_)) => Some((IndicatorType::Ipv6, v.to_owned())),
        Err(_) => None,
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
    let mut end = max.saturating_sub(1);
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
    skipped: &mut BTreeMap<String, u64>,
) -> Result<Vec<Planned>, AppError> {
    let mut out = Vec::new();
    for e in events {
        let event_marking = e.marking().unwrap_or(Tlp::Amber);
        if event_marking == Tlp::Red {
            return Err(refused_red(&e.pointer));
        }
        let incident = !e.techniques.is_empty()
            || e.tags
                .iter()
                .any(|t| t.to_ascii_lowercase().contains("incident"));
        if incident {
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
            let Some((indicator_type, value)) = indicator_of(a) else {
                *skipped.entry(format!("type {}", a.kind)).or_default() += 1;
                continue;
            };
            let marking = a.marking().unwrap_or(event_marking);
            if marking == Tlp::Red {
                return Err(refused_red(&a.pointer));
            }
            let mut description = provenance(e, Some(a));
            if !a.comment.trim().is_empty() {
                description = format!("{}\n\n{description}", a.comment.trim());
            }
            // The value is in the details; repeated in the title it would be
            // free text the personal-data review reads (an IP address).
            let title = clipped(&format!("{} from MISP: {}", a.kind, e.info), 200);
            if let (Some(first), Some(last)) = (a.sightings.iter().min(), a.sightings.iter().max())
            {
                out.push(Planned {
                    content: NewContribution {
                        title: title.clone(),
                        description: description.clone(),
                        marking,
                        anonymous: false,
                        details: Details::Sighting {
                            indicator_type,
                            value: value.clone(),
                            count: u32::try_from(a.sightings.len()).unwrap_or(u32::MAX),
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
                if a.sightings.is_empty() {
                    *skipped.entry("to_ids off".to_owned()).or_default() += 1;
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
    let planned = plan(&events, &mut outcome.skipped)?;
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
    // Idempotence: what this group already has from an earlier import stays.
    // A UUID already used in another group gets an id of its own here,
    // derived from the group, so importing one event into two groups works.
    let mut items = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in checked {
        let mut stix_id = p.stix_id.clone();
        for attempt in 0..2 {
            match app.store.contribution_by_stix_id(&stix_id).await? {
                None => break,
                Some(c) if c.group == group => {
                    stix_id.clear();
                    break;
                }
                Some(_) if attempt == 0 => {
                    let (kind, uuid) = p.stix_id.split_once("--").unwrap_or(("indicator", ""));
                    stix_id = format!(
                        "{kind}--{}",
                        isx_formats::misp::uuid(&format!("group {}:{uuid}", group.0))
                    );
                }
                Some(_) => {
                    return Err(AppError::Conflict(format!(
                        "{}: the id {stix_id} is taken",
                        p.pointer
                    )))
                }
            }
        }
        if stix_id.is_empty() || !seen.insert(stix_id.clone()) {
            outcome.unchanged += 1;
            continue;
        }
        items.push((p.content, stix_id));
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
            ("ip-dst", "not an ip", None),
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
