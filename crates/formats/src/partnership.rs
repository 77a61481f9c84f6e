//! Trust-group contributions as STIX 2.1: incidents → `incident`,
//! indicators → `indicator`, sightings → `sighting` (of an `indicator` for
//! the sighted value), mitigations → `course-of-action`, analyses →
//! `report`, comments → `note`. ATT&CK techniques are `mitre-attack`
//! external references; what STIX has no property for (information lost,
//! intent, impact, sector, status, timeline, where a sighting was made,
//! attachments) goes in isx's property extension. An anonymous
//! contribution (or any in a group that hides its member list) has no
//! `created_by_ref`: nothing in the object names its author.

use isx_domain::MemberId;
use isx_partnership::{Attachment, Comment, Contribution, Details, IndicatorType};
use serde_json::{json, Map, Value};

use crate::stix;

/// The STIX identity id that stands for a member.
pub fn member_identity(member: MemberId) -> String {
    stix::object_id("identity", &format!("isx-member:{}", member.0))
}

/// The id of the indicator a sighting points at (one per sighting: a STIX
/// object's versions share their `created`, so sightings made at different
/// times cannot share one).
pub fn sighted_indicator_id(sighting: &str) -> String {
    stix::object_id("indicator", &format!("isx-sighted:{sighting}"))
}

/// The STIX pattern of an indicator value.
pub fn pattern(t: IndicatorType, value: &str) -> String {
    let v = stix::pattern_string(value);
    match t {
        IndicatorType::Ipv4 => format!("[ipv4-addr:value = {v}]"),
        IndicatorType::Ipv6 => format!("[ipv6-addr:value = {v}]"),
        IndicatorType::Domain => format!("[domain-name:value = {v}]"),
        IndicatorType::Url => format!("[url:value = {v}]"),
        IndicatorType::Email => format!("[email-addr:value = {v}]"),
        IndicatorType::Sha256 => format!("[file:hashes.'SHA-256' = {v}]"),
        IndicatorType::Sha1 => format!("[file:hashes.'SHA-1' = {v}]"),
        IndicatorType::Md5 => format!("[file:hashes.MD5 = {v}]"),
    }
}

fn technique_refs(techniques: &[String]) -> Vec<Value> {
    techniques
        .iter()
        // No `url`: STIX asks for a hash of what a URL reference points at.
        .map(|t| json!({"source_name": "mitre-attack", "external_id": t}))
        .collect()
}

fn base(kind: &str, id: &str, c: &Contribution, show_author: bool) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("type".into(), json!(kind));
    o.insert("spec_version".into(), json!("2.1"));
    o.insert("id".into(), json!(id));
    o.insert("created".into(), json!(stix::timestamp(c.created_at)));
    o.insert("modified".into(), json!(stix::timestamp(c.updated_at)));
    if show_author {
        o.insert("created_by_ref".into(), json!(member_identity(c.author)));
    }
    o.insert(
        "object_marking_refs".into(),
        json!([stix::tlp_marking_id(c.content.marking)]),
    );
    o
}

fn extension(o: &mut Map<String, Value>, fields: Map<String, Value>) {
    let mut ext = Map::new();
    ext.insert("extension_type".into(), json!("property-extension"));
    ext.extend(fields);
    o.insert("extensions".into(), json!({ stix::ISX_EXTENSION: ext }));
}

/// The STIX objects of a contribution, its own object last; `instance` is
/// the instance identity's id (what an analysis report refers to when it
/// has no other object). `show_author` is false for anonymous
/// contributions and in groups that hide their member list.
pub fn stix_contribution(
    c: &Contribution,
    attachments: &[Attachment],
    instance: &str,
    show_author: bool,
) -> Vec<Value> {
    let title = c.content.title.as_str();
    let description = c.content.description.as_str();
    let mut fields = Map::new();
    fields.insert("contribution_kind".into(), json!(c.kind().as_str()));
    let mut out = Vec::new();
    let mut o = match &c.content.details {
        Details::Incident {
            information_lost,
            techniques,
            intent,
            impact,
            sector,
            status,
            timeline,
        } => {
            let mut o = base("incident", &c.stix_id, c, show_author);
            o.insert("name".into(), json!(title));
            if !techniques.is_empty() {
                o.insert(
                    "external_references".into(),
                    json!(technique_refs(techniques)),
                );
            }
            for (k, v) in [
                ("information_lost", information_lost),
                ("intent", intent),
                ("sector", sector),
            ] {
                if !v.is_empty() {
                    fields.insert(k.into(), json!(v));
                }
            }
            fields.insert("impact".into(), json!(impact.as_str()));
            fields.insert("status".into(), json!(status.as_str()));
            if !timeline.is_empty() {
                fields.insert(
                    "timeline".into(),
                    json!(timeline
                        .iter()
                        .map(|e| json!({"at": stix::timestamp(e.at), "text": e.text}))
                        .collect::<Vec<_>>()),
                );
            }
            o
        }
        Details::Indicator {
            indicator_type,
            value,
            valid_until,
        } => {
            let mut o = base("indicator", &c.stix_id, c, show_author);
            o.insert("name".into(), json!(title));
            o.insert("indicator_types".into(), json!(["malicious-activity"]));
            o.insert("pattern".into(), json!(pattern(*indicator_type, value)));
            o.insert("pattern_type".into(), json!("stix"));
            o.insert("valid_from".into(), json!(stix::timestamp(c.created_at)));
            if let Some(u) = valid_until.filter(|u| *u > c.created_at) {
                o.insert("valid_until".into(), json!(stix::timestamp(u)));
            }
            o
        }
        Details::Sighting {
            indicator_type,
            value,
            count,
            first_seen,
            last_seen,
            location,
        } => {
            let target = sighted_indicator_id(&c.stix_id);
            let mut ind = base("indicator", &target, c, show_author);
            ind.insert("created".into(), json!(stix::timestamp(c.created_at)));
            ind.insert("modified".into(), json!(stix::timestamp(c.created_at)));
            ind.remove("created_by_ref");
            ind.insert(
                "name".into(),
                json!(format!("{} {value}", indicator_type.as_str())),
            );
            ind.insert(
                "description".into(),
                json!(format!("The value sighted in \"{title}\"")),
            );
            ind.insert("indicator_types".into(), json!(["malicious-activity"]));
            ind.insert("pattern".into(), json!(pattern(*indicator_type, value)));
            ind.insert("pattern_type".into(), json!("stix"));
            ind.insert("valid_from".into(), json!(stix::timestamp(c.created_at)));
            out.push(Value::Object(ind));
            let mut o = base("sighting", &c.stix_id, c, show_author);
            o.insert("sighting_of_ref".into(), json!(target));
            o.insert("count".into(), json!((*count).min(999_999_999)));
            o.insert("first_seen".into(), json!(stix::timestamp(*first_seen)));
            o.insert("last_seen".into(), json!(stix::timestamp(*last_seen)));
            fields.insert("title".into(), json!(title));
            if !location.is_empty() {
                fields.insert("location".into(), json!(location));
            }
            o
        }
        Details::Mitigation { techniques } => {
            let mut o = base("course-of-action", &c.stix_id, c, show_author);
            o.insert("name".into(), json!(title));
            if !techniques.is_empty() {
                o.insert(
                    "external_references".into(),
                    json!(technique_refs(techniques)),
                );
            }
            o
        }
        Details::Analysis {} => {
            let mut o = base("report", &c.stix_id, c, show_author);
            o.insert("name".into(), json!(title));
            o.insert("report_types".into(), json!(["threat-report"]));
            o.insert("published".into(), json!(stix::timestamp(c.created_at)));
            o.insert("object_refs".into(), json!([instance]));
            o
        }
    };
    if !description.is_empty() {
        o.insert("description".into(), json!(description));
    } else if matches!(c.content.details, Details::Indicator { .. }) {
        // STIX asks indicators for both a name and a description.
        o.insert("description".into(), json!(title));
    }
    if !attachments.is_empty() {
        fields.insert(
            "attachments".into(),
            json!(attachments
                .iter()
                .map(|a| json!({"name": a.name, "media_type": a.media_type, "size": a.size, "sha256": a.sha256}))
                .collect::<Vec<_>>()),
        );
    }
    extension(&mut o, fields);
    out.push(Value::Object(o));
    out
}

/// A comment as a STIX `note` on its contribution's object.
pub fn stix_note(c: &Contribution, comment: &Comment, show_author: bool) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), json!("note"));
    o.insert("spec_version".into(), json!("2.1"));
    o.insert("id".into(), json!(comment.stix_id));
    o.insert("created".into(), json!(stix::timestamp(comment.created_at)));
    o.insert(
        "modified".into(),
        json!(stix::timestamp(comment.created_at)),
    );
    if show_author {
        o.insert(
            "created_by_ref".into(),
            json!(member_identity(comment.author)),
        );
    }
    o.insert("content".into(), json!(comment.text));
    o.insert("object_refs".into(), json!([c.stix_id]));
    o.insert(
        "object_marking_refs".into(),
        json!([stix::tlp_marking_id(c.content.marking)]),
    );
    Value::Object(o)
}
