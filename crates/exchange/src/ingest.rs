//! Checking the STIX objects a partner posts (TAXII `POST …/objects/`):
//! what isx needs to keep a version — id, type, version, spec version and
//! TLP marking — or a message saying why the object is refused. Each object
//! is judged on its own: one bad object does not refuse the envelope.

use isx_domain::{Timestamp, Tlp};
use serde_json::Value;

/// What a valid object declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    pub id: String,
    pub object_type: String,
    /// `modified`, else `created`; `None` for objects without either
    /// (cyber-observables), which the server dates itself.
    pub version: Option<Timestamp>,
    pub spec_version: String,
    /// The strictest TLP marking among `object_marking_refs` (TLP 2.0 and
    /// TLP 1.0 ids); `None` when it carries none.
    pub marking: Option<Tlp>,
}

/// The TLP marking a marking-definition id stands for (TLP 2.0 ids, and
/// TLP 1.0's, WHITE read as CLEAR).
pub fn tlp_of_marking(id: &str) -> Option<Tlp> {
    Some(match id.strip_prefix("marking-definition--")? {
        "94868c89-83c2-464b-929b-a1a8aa3c8487" | "613f2e26-407d-48c7-9eca-b8e91df99dc9" => {
            Tlp::Clear
        }
        "bab4a63c-aed9-4cf5-a766-dfca5abac2bb" | "34098fce-860f-48ae-8e50-ebd3cc5e41da" => {
            Tlp::Green
        }
        "55d920b0-5e8b-4f79-9ee9-91f868d9b421" | "f88d31f6-486f-44da-b317-01333bde0b82" => {
            Tlp::Amber
        }
        "939a9414-2ddd-4d32-a0cd-375ea402b003" => Tlp::AmberStrict,
        "e828b379-4e03-4974-9ac4-e53a884c97c1" | "5e57c739-391a-4eb3-b6be-7d15ca92d5ed" => Tlp::Red,
        _ => return None,
    })
}

/// STIX cyber-observable types: no `created`/`modified` required.
const SCO_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

fn is_uuid(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_type_name(t: &str) -> bool {
    (3..=250).contains(&t.len())
        && t.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !t.starts_with('-')
        && !t.ends_with('-')
}

/// The longest `name` an object may carry, in characters.
pub const MAX_NAME_CHARS: usize = 1024;

/// The timestamp properties of STIX 2.1 objects that isx checks: RFC 3339,
/// from 1970 on, and each range in order.
const TIMESTAMP_FIELDS: &[&str] = &[
    "created",
    "modified",
    "valid_from",
    "valid_until",
    "first_seen",
    "last_seen",
    "first_observed",
    "last_observed",
    "published",
    "start_time",
    "stop_time",
];

/// Whether any string (or key) in `v` holds a NUL character.
fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(has_nul),
        Value::Object(m) => m.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Checks one posted object: an error message says what is wrong.
pub fn check_object(object: &Value) -> Result<ObjectHead, String> {
    let map = object
        .as_object()
        .ok_or_else(|| "an object must be a JSON object".to_owned())?;
    let id = map
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| "missing id".to_owned())?;
    let object_type = map
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{id}: missing type"))?;
    if !is_type_name(object_type) {
        return Err(format!(
            "{id}: type {object_type:?} is not a STIX type name"
        ));
    }
    let (prefix, uuid) = id
        .split_once("--")
        .ok_or_else(|| format!("{id}: an id is <type>--<UUID>"))?;
    if prefix != object_type {
        return Err(format!(
            "{id}: the id does not start with its type {object_type:?}"
        ));
    }
    if !is_uuid(uuid) {
        return Err(format!("{id}: {uuid:?} is not a UUID"));
    }
    // One object, one spelling: ids that differ only in case would be two
    // objects here and one to a client that normalises them.
    if uuid.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "{id}: write the UUID in lowercase (STIX ids are compared as written)"
        ));
    }
    if object_type == "marking-definition" && tlp_of_marking(id).is_some() {
        return Err(format!(
            "{id}: the official TLP marking definitions are not posted; refer to them by id"
        ));
    }
    if object_type == "bundle" {
        return Err(format!(
            "{id}: post the objects of a bundle, not the bundle"
        ));
    }
    let spec_version = match map.get("spec_version") {
        None if SCO_TYPES.contains(&object_type) => "2.1".to_owned(),
        None => return Err(format!("{id}: missing spec_version (isx keeps STIX 2.1)")),
        Some(Value::String(s)) if s == "2.1" => s.clone(),
        Some(other) => {
            return Err(format!(
                "{id}: spec_version {other} is not supported (isx keeps STIX 2.1)"
            ))
        }
    };
    let stamp = |name: &str| -> Result<Option<Timestamp>, String> {
        match map.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => crate::parse_timestamp(s)
                .map(Some)
                .ok_or_else(|| format!("{id}: {name} {s:?} is not an RFC 3339 timestamp")),
            Some(other) => Err(format!(
                "{id}: {name} must be a timestamp string, not {other}"
            )),
        }
    };
    if has_nul(object) {
        return Err(format!(
            "{id}: text must not contain NUL (\\u0000) characters"
        ));
    }
    if let Some(name) = map.get("name").and_then(Value::as_str) {
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(format!(
                "{id}: name must be at most {MAX_NAME_CHARS} characters"
            ));
        }
        if let Some(reason) = isx_domain::label_problem(name) {
            return Err(format!("{id}: name {reason}"));
        }
    }
    let mut stamps = Vec::new();
    for field in TIMESTAMP_FIELDS {
        if let Some(t) = stamp(field)? {
            if t < Timestamp::from_micros(0) {
                return Err(format!(
                    "{id}: {field} is before 1970; isx keeps times from 1970-01-01 on"
                ));
            }
            stamps.push((*field, t));
        }
    }
    let at = |f: &str| stamps.iter().find(|(n, _)| *n == f).map(|(_, t)| *t);
    for (from, until) in [
        ("valid_from", "valid_until"),
        ("first_seen", "last_seen"),
        ("first_observed", "last_observed"),
        ("start_time", "stop_time"),
    ] {
        if let (Some(a), Some(b)) = (at(from), at(until)) {
            if b < a {
                return Err(format!("{id}: {until} is earlier than {from}"));
            }
        }
    }
    let created = at("created");
    let modified = at("modified");
    let is_sco = SCO_TYPES.contains(&object_type);
    if !is_sco && object_type != "marking-definition" {
        if created.is_none() {
            return Err(format!("{id}: missing created"));
        }
        if modified.is_none() {
            return Err(format!("{id}: missing modified"));
        }
    }
    if let (Some(c), Some(m)) = (created, modified) {
        if m < c {
            return Err(format!("{id}: modified is earlier than created"));
        }
    }
    let mut marking = None;
    if let Some(refs) = map.get("object_marking_refs") {
        let refs = refs
            .as_array()
            .ok_or_else(|| format!("{id}: object_marking_refs must be a list"))?;
        for r in refs {
            let r = r
                .as_str()
                .ok_or_else(|| format!("{id}: object_marking_refs holds ids"))?;
            if !r.starts_with("marking-definition--") {
                return Err(format!(
                    "{id}: {r:?} in object_marking_refs is not a marking definition"
                ));
            }
            if let Some(t) = tlp_of_marking(r) {
                marking = Some(marking.map_or(t, |m: Tlp| m.max(t)));
            }
        }
    }
    // A TLP marking on part of the object marks the object: isx serves
    // objects whole, so a granular TLP:RED makes it TLP:RED (red-team
    // pass 2026-12-07: granular RED was stored and served as AMBER).
    if let Some(granular) = map.get("granular_markings") {
        let list = granular
            .as_array()
            .ok_or_else(|| format!("{id}: granular_markings must be a list"))?;
        for g in list {
            // A language marking (`lang`) has no marking_ref.
            if g.get("lang").is_some() && g.get("marking_ref").is_none() {
                continue;
            }
            let r = g
                .get("marking_ref")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{id}: each granular marking has a marking_ref or lang"))?;
            if let Some(t) = tlp_of_marking(r) {
                marking = Some(marking.map_or(t, |m: Tlp| m.max(t)));
            }
        }
    }
    Ok(ObjectHead {
        id: id.to_owned(),
        object_type: object_type.to_owned(),
        version: modified.or(created),
        spec_version,
        marking,
    })
}

/// Who posts an object, as the authorship rules need to know them.
#[derive(Debug, Clone)]
pub struct Poster<'a> {
    /// The STIX identity id that stands for the posting member.
    pub identity: &'a str,
    /// The member's name (an identity object it posts must carry it).
    pub name: &'a str,
    /// Whether the collection may name its posters: false in a trust group
    /// that hides its member list, where isx adds no `created_by_ref`.
    pub named: bool,
}

/// The authorship rules of a posted object, applied after [`check_object`]:
/// a member posts as itself, never as the instance or another member.
///
/// - `created_by_ref`, when given, must be the poster's own identity; when
///   absent isx sets it (on SDOs and SROs, where the collection names its
///   posters).
/// - An `identity` object must be the poster's own (its id and name):
///   identities named after other members, or the instance's, are refused.
pub fn check_authorship(
    object: &mut Value,
    head: &ObjectHead,
    poster: &Poster<'_>,
) -> Result<(), String> {
    let id = head.id.as_str();
    if head.object_type == "identity" {
        let name = object.get("name").and_then(Value::as_str).unwrap_or("");
        if id != poster.identity || name != poster.name {
            return Err(format!(
                "{id}: an identity object you post must be your own ({} named {:?}); isx \
                 publishes the identities of the others",
                poster.identity, poster.name
            ));
        }
    }
    let is_sco = SCO_TYPES.contains(&head.object_type.as_str());
    let Some(map) = object.as_object_mut() else {
        return Err(format!("{id}: an object must be a JSON object"));
    };
    match map.get("created_by_ref") {
        Some(Value::String(r)) if r == poster.identity => Ok(()),
        Some(other) => Err(format!(
            "{id}: created_by_ref {other} is not your identity ({}): objects you post are \
             created by you (omit created_by_ref and isx sets it)",
            poster.identity
        )),
        None => {
            if poster.named && !is_sco && head.object_type != "marking-definition" {
                map.insert(
                    "created_by_ref".into(),
                    Value::String(poster.identity.to_owned()),
                );
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn indicator() -> Value {
        json!({
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-02T10:00:00.123Z",
            "pattern": "[url:value = 'http://x.example/']", "pattern_type": "stix",
            "valid_from": "2026-11-01T10:00:00Z",
            "object_marking_refs": [
                "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
                "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
            ]
        })
    }

    #[test]
    fn a_granular_tlp_marking_marks_the_object() {
        let red = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
        let mut o = indicator();
        o.as_object_mut().unwrap().remove("object_marking_refs");
        o["granular_markings"] = json!([{"marking_ref": red, "selectors": ["description"]}]);
        assert_eq!(check_object(&o).unwrap().marking, Some(Tlp::Red));
        // With a lesser object marking, the stricter one counts.
        o["object_marking_refs"] =
            json!(["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]);
        assert_eq!(check_object(&o).unwrap().marking, Some(Tlp::Red));
        o["granular_markings"] = json!([{"selectors": ["description"]}]);
        assert!(check_object(&o).is_err());
        o["granular_markings"] = json!([{"lang": "de", "selectors": ["description"]}]);
        assert_eq!(check_object(&o).unwrap().marking, Some(Tlp::Green));
        o["granular_markings"] = json!("red");
        assert!(check_object(&o).is_err());
    }

    #[test]
    fn poison_text_and_times_are_refused() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("name", json!("evil\u{0000}"), "NUL"),
            ("description", json!("a\u{0000}b"), "NUL"),
            ("name", json!("invoice\u{202E}fdp.exe"), "bidirectional"),
            ("name", json!("two\nlines"), "control"),
            ("name", json!("x".repeat(MAX_NAME_CHARS + 1)), "at most"),
            ("valid_until", json!("1969-12-31T23:59:59Z"), "timestamp"),
            (
                "valid_until",
                json!("2026-10-01T00:00:00Z"),
                "earlier than valid_from",
            ),
            ("valid_until", json!("soon"), "RFC 3339"),
        ];
        for (field, value, says) in cases {
            let mut o = indicator();
            o[field] = value;
            let e = check_object(&o).unwrap_err();
            assert!(e.contains(says), "{field}: {e}");
        }
        let mut o = indicator();
        o["name"] = json!("شبكة بوت — ordinary right-to-left text");
        o["valid_until"] = json!("2027-01-01T00:00:00Z");
        assert!(check_object(&o).is_ok());
    }

    #[test]
    fn a_valid_object_gives_its_head() {
        let h = check_object(&indicator()).unwrap();
        assert_eq!(h.object_type, "indicator");
        assert_eq!(h.version, Timestamp::parse("2026-11-02T10:00:00.123Z").ok());
        assert_eq!(
            h.marking,
            Some(Tlp::AmberStrict),
            "the strictest of TLP 1.0 GREEN and 2.0 AMBER+STRICT"
        );
        let sco = json!({"type": "ipv4-addr", "id": "ipv4-addr--12592121-be4c-5a93-a813-5a5af16e50db", "value": "198.51.100.7"});
        let h = check_object(&sco).unwrap();
        assert_eq!(
            (h.version, h.marking, h.spec_version.as_str()),
            (None, None, "2.1")
        );
    }

    #[test]
    fn invalid_objects_say_why() {
        let cases: Vec<(Value, &str)> = vec![
            (json!([1]), "JSON object"),
            (json!({"type": "indicator"}), "missing id"),
            (
                {
                    let mut o = indicator();
                    o["id"] = json!("malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
                    o
                },
                "does not start with its type",
            ),
            (
                {
                    let mut o = indicator();
                    o["id"] = json!("indicator--nope");
                    o
                },
                "not a UUID",
            ),
            (
                {
                    let mut o = indicator();
                    o["spec_version"] = json!("2.0");
                    o
                },
                "not supported",
            ),
            (
                {
                    let mut o = indicator();
                    o.as_object_mut().unwrap().remove("modified");
                    o
                },
                "missing modified",
            ),
            (
                {
                    let mut o = indicator();
                    o["created"] = json!("yesterday");
                    o
                },
                "not an RFC 3339",
            ),
            (
                {
                    let mut o = indicator();
                    o["modified"] = json!("2020-01-01T00:00:00Z");
                    o
                },
                "earlier than created",
            ),
            (
                {
                    let mut o = indicator();
                    o["object_marking_refs"] =
                        json!(["identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]);
                    o
                },
                "not a marking definition",
            ),
            (
                {
                    let mut o = indicator();
                    o["type"] = json!("Indicator!");
                    o
                },
                "not a STIX type name",
            ),
        ];
        let mut cases = cases;
        cases.push((
            {
                let mut o = indicator();
                o["id"] = json!("indicator--8E2E2D2B-17d4-4cbf-938f-98ee46b3cd3f");
                o
            },
            "lowercase",
        ));
        cases.push((
            json!({"type": "marking-definition", "spec_version": "2.1",
                   "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
                   "created": "2026-11-01T10:00:00Z", "definition_type": "statement",
                   "definition": {"statement": "TLP:CLEAR - ok to publish"}}),
            "official TLP",
        ));
        for (object, want) in cases {
            let err = check_object(&object).expect_err(want);
            assert!(err.contains(want), "{err:?} should say {want:?}");
        }
    }

    #[test]
    fn posters_post_as_themselves() {
        let me = Poster {
            identity: "identity--11111111-1111-4111-8111-111111111111",
            name: "Member B",
            named: true,
        };
        let mut o = indicator();
        let head = check_object(&o).unwrap();
        check_authorship(&mut o, &head, &me).unwrap();
        assert_eq!(o["created_by_ref"], me.identity, "isx sets it");
        check_authorship(&mut o, &head, &me).expect("its own identity is fine");

        let mut forged = indicator();
        forged["created_by_ref"] = json!("identity--22222222-2222-4222-8222-222222222222");
        let err = check_authorship(&mut forged, &head, &me).unwrap_err();
        assert!(err.contains("not your identity"), "{err}");

        let hidden = Poster {
            named: false,
            ..me.clone()
        };
        let mut o = indicator();
        check_authorship(&mut o, &head, &hidden).unwrap();
        assert!(
            o.get("created_by_ref").is_none(),
            "a hidden roster names no poster"
        );

        for (id, name, ok) in [
            (me.identity, "Member B", true),
            (me.identity, "Member A", false),
            (
                "identity--22222222-2222-4222-8222-222222222222",
                "Member B",
                false,
            ),
        ] {
            let mut ident = json!({"type": "identity", "spec_version": "2.1", "id": id,
                "created": "2026-11-01T10:00:00Z", "modified": "2026-11-01T10:00:00Z", "name": name});
            let head = check_object(&ident).unwrap();
            assert_eq!(
                check_authorship(&mut ident, &head, &me).is_ok(),
                ok,
                "{id} {name}"
            );
        }
    }
}
