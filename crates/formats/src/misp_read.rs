//! Reads MISP events (MISP's core format, as MISP exports them, as a MISP
//! feed serves them, or as its REST search answers) into plain records:
//! the event with its tags and ATT&CK techniques, and every attribute —
//! top-level or inside an object — with its own tags and sightings.
//! Nothing here decides what isx makes of them.

use isx_domain::{Timestamp, Tlp};
use serde_json::Value;

use crate::FormatError;

/// Events one document may hold, and attributes over all of them.
pub const MAX_EVENTS: usize = 1_000;
pub const MAX_ATTRIBUTES: usize = 10_000;

/// A MISP event as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MispEvent {
    pub uuid: String,
    /// The event's title (`info`).
    pub info: String,
    /// 1 high, 2 medium, 3 low, 4 undefined.
    pub threat_level: u8,
    /// 0 initial, 1 ongoing, 2 completed.
    pub analysis: u8,
    pub date: Option<Timestamp>,
    pub tags: Vec<String>,
    /// ATT&CK technique ids named by the event's tags and galaxy clusters.
    pub techniques: Vec<String>,
    pub attributes: Vec<MispAttribute>,
    /// MISP's distribution of the event (0 your organisation only … 4).
    pub distribution: u8,
    /// Where in the document the event is (a JSON pointer).
    pub pointer: String,
}

/// One attribute as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MispAttribute {
    pub uuid: String,
    pub kind: String,
    pub category: String,
    pub value: String,
    pub to_ids: bool,
    pub comment: String,
    pub tags: Vec<String>,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    pub timestamp: Option<Timestamp>,
    /// When it was sighted (MISP `Sighting` entries of type 0).
    pub sightings: Vec<Timestamp>,
    /// The object it belongs to (`url`, `domain-ip`, `file`…), if any.
    pub object: Option<String>,
    /// Retracted in MISP (the attribute or its object is `deleted`).
    pub deleted: bool,
    /// MISP's distribution: 0 your organisation only, 1 this community,
    /// 2 connected communities, 3 all, 4 a sharing group, 5 inherit the
    /// event's (resolved here: never 5).
    pub distribution: u8,
    /// Where in the document the attribute is.
    pub pointer: String,
}

impl MispEvent {
    /// The marking the event's `tlp:` tags give (the strictest, if several).
    pub fn marking(&self) -> Option<Tlp> {
        strictest(&self.tags)
    }
}

impl MispAttribute {
    /// The attribute's own `tlp:` marking (the strictest, if several).
    pub fn marking(&self) -> Option<Tlp> {
        strictest(&self.tags)
    }
}

fn strictest(tags: &[String]) -> Option<Tlp> {
    tags.iter().filter_map(|t| crate::misp::tlp_of_tag(t)).max()
}

fn bad(pointer: &str, message: impl Into<String>) -> FormatError {
    FormatError::Value {
        pointer: pointer.to_owned(),
        message: message.into(),
    }
}

/// A text field, or a number written as text (MISP writes both).
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn flag(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        Some(Value::String(s)) => matches!(s.as_str(), "1" | "true" | "True"),
        _ => false,
    }
}

/// An epoch in seconds, as MISP writes timestamps (text or number).
fn epoch(v: Option<&Value>) -> Option<Timestamp> {
    let s = text(v)?;
    let secs: i64 = s.trim().parse().ok()?;
    (0..=253_402_300_799)
        .contains(&secs)
        .then(|| Timestamp::from_secs(secs))
}

/// An ISO time (`first_seen`, `last_seen`, `date`), or an epoch.
fn instant(v: Option<&Value>) -> Option<Timestamp> {
    let s = text(v)?;
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    // MISP writes instants as epoch seconds, never milliseconds.
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return epoch(v);
    }
    crate::urls::parse_time(t)
}

/// The tags of an event, object or attribute, in every shape MISP writes
/// them: `Tag: [{"name"}]`, `Tag: ["name"]`, `Tag: [{"Tag": {"name"}}]`,
/// and the `EventTag` / `AttributeTag` link lists of MISP's database export.
fn tags_of(o: &serde_json::Map<String, Value>) -> Vec<String> {
    fn name_of(t: &Value) -> Option<String> {
        match t {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => match o.get("Tag") {
                Some(inner) => name_of(inner),
                None => text(o.get("name")),
            },
            _ => None,
        }
    }
    ["Tag", "EventTag", "AttributeTag", "ObjectTag"]
        .iter()
        .filter_map(|k| o.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(name_of)
        .collect()
}

/// Whether MISP marked it deleted (soft deletion: retracted data).
fn deleted(o: &serde_json::Map<String, Value>) -> bool {
    flag(o.get("deleted"))
}

/// ATT&CK ids (`T1566`, `T1566.001`) in a text.
fn techniques_in(s: &str, out: &mut Vec<String>) {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(at) = s.get(i..).and_then(|r| r.find('T')).map(|p| p + i) {
        let digits = |from: usize, n: usize| {
            b.get(from..from + n)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        };
        let before_ok = at == 0 || b.get(at - 1).is_some_and(|c| !c.is_ascii_alphanumeric());
        if before_ok && digits(at + 1, 4) {
            let mut end = at + 5;
            if b.get(end) == Some(&b'.') && digits(end + 1, 3) {
                end += 4;
            }
            if !b.get(end).is_some_and(u8::is_ascii_alphanumeric) {
                if let Some(t) = s.get(at..end) {
                    out.push(t.to_owned());
                }
            }
        }
        i = at + 1;
    }
}

/// The events of a MISP document: `{"Event": {…}}`, a bare event, a list of
/// either, or a REST search answer `{"response": [ … ]}`.
pub fn read_events(bytes: &[u8]) -> Result<Vec<MispEvent>, FormatError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| FormatError::Json(e.to_string()))?;
    let (list, base): (Vec<&Value>, &str) = match &doc {
        Value::Array(a) => (a.iter().collect(), ""),
        Value::Object(o) => match o.get("response") {
            Some(Value::Array(a)) => (a.iter().collect(), "/response"),
            _ => (vec![&doc], ""),
        },
        _ => return Err(bad("", "not a MISP event: expected an object or a list")),
    };
    if list.len() > MAX_EVENTS {
        return Err(bad(
            base,
            format!("more than {MAX_EVENTS} events in one document"),
        ));
    }
    let mut events = Vec::with_capacity(list.len());
    let mut attributes = 0usize;
    for (i, item) in list.iter().enumerate() {
        let at = if list.len() == 1 && base.is_empty() && !doc.is_array() {
            String::new()
        } else {
            format!("{base}/{i}")
        };
        let (event, pointer) = match item.get("Event") {
            Some(e) => (e, format!("{at}/Event")),
            None => (*item, at),
        };
        let e = read_event(event, &pointer)?;
        attributes += e.attributes.len();
        if attributes > MAX_ATTRIBUTES {
            return Err(bad(
                &pointer,
                format!("more than {MAX_ATTRIBUTES} attributes in one document"),
            ));
        }
        events.push(e);
    }
    Ok(events)
}

fn uuid_at(o: &serde_json::Map<String, Value>, pointer: &str) -> Result<String, FormatError> {
    let u = text(o.get("uuid")).ok_or_else(|| bad(pointer, "no uuid"))?;
    let u = u.trim().to_ascii_lowercase();
    let shape = u.len() == 36
        && u.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if shape {
        Ok(u)
    } else {
        Err(bad(
            &format!("{pointer}/uuid"),
            format!("{u:?} is not a UUID"),
        ))
    }
}

fn read_event(v: &Value, pointer: &str) -> Result<MispEvent, FormatError> {
    let o = v
        .as_object()
        .ok_or_else(|| bad(pointer, "not a MISP event: expected an object"))?;
    let info = text(o.get("info")).ok_or_else(|| bad(pointer, "not a MISP event: no info"))?;
    let tags = tags_of(o);
    let mut techniques = Vec::new();
    for t in &tags {
        if t.contains("attack-pattern") {
            techniques_in(t, &mut techniques);
        }
    }
    for g in o
        .get("Galaxy")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for c in g
            .get("GalaxyCluster")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let is_attack = text(c.get("type")).is_some_and(|t| t.contains("attack-pattern"))
                || text(c.get("tag_name")).is_some_and(|t| t.contains("attack-pattern"));
            if !is_attack {
                continue;
            }
            for f in [c.get("value"), c.get("tag_name")] {
                if let Some(s) = text(f) {
                    techniques_in(&s, &mut techniques);
                }
            }
            if let Some(ids) = c.pointer("/meta/external_id").and_then(Value::as_array) {
                for id in ids.iter().filter_map(Value::as_str) {
                    techniques_in(id, &mut techniques);
                }
            }
        }
    }
    techniques.sort();
    techniques.dedup();
    let mut event = MispEvent {
        uuid: uuid_at(o, pointer)?,
        info,
        threat_level: text(o.get("threat_level_id"))
            .and_then(|s| s.parse().ok())
            .filter(|l| (1..=4).contains(l))
            .unwrap_or(4),
        analysis: text(o.get("analysis"))
            .and_then(|s| s.parse().ok())
            .filter(|a| *a <= 2)
            .unwrap_or(0),
        date: instant(o.get("date")),
        tags,
        techniques,
        attributes: Vec::new(),
        distribution: distribution(o.get("distribution"))
            .filter(|d| *d != 5)
            .unwrap_or(1),
        pointer: pointer.to_owned(),
    };
    let list = |key: &str| -> &[Value] {
        o.get(key)
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
    };
    let inherit = Inherited {
        object: None,
        tags: Vec::new(),
        deleted: false,
        distribution: event.distribution,
    };
    for (i, a) in list("Attribute").iter().enumerate() {
        let p = format!("{pointer}/Attribute/{i}");
        event.attributes.push(read_attribute(a, &p, &inherit)?);
    }
    for (i, ob) in list("Object").iter().enumerate() {
        let p = format!("{pointer}/Object/{i}");
        let Some(obj) = ob.as_object() else {
            return Err(bad(&p, "not a MISP object: expected an object"));
        };
        // An object's tags, deletion and distribution hold for its attributes.
        let inherit = Inherited {
            object: Some(text(obj.get("name")).unwrap_or_default()),
            tags: tags_of(obj),
            deleted: deleted(obj),
            distribution: distribution(obj.get("distribution"))
                .filter(|d| *d != 5)
                .unwrap_or(event.distribution),
        };
        let attrs = obj
            .get("Attribute")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for (j, a) in attrs.iter().enumerate() {
            let ap = format!("{p}/Attribute/{j}");
            event.attributes.push(read_attribute(a, &ap, &inherit)?);
        }
        if event.attributes.len() > MAX_ATTRIBUTES {
            return Err(bad(
                pointer,
                format!("more than {MAX_ATTRIBUTES} attributes"),
            ));
        }
    }
    Ok(event)
}

/// What an attribute takes from the object (or event) it is in.
struct Inherited {
    object: Option<String>,
    tags: Vec<String>,
    deleted: bool,
    distribution: u8,
}

fn distribution(v: Option<&Value>) -> Option<u8> {
    text(v)?.trim().parse().ok().filter(|d| *d <= 5)
}

fn read_attribute(
    v: &Value,
    pointer: &str,
    inherit: &Inherited,
) -> Result<MispAttribute, FormatError> {
    let o = v
        .as_object()
        .ok_or_else(|| bad(pointer, "not a MISP attribute: expected an object"))?;
    let kind = text(o.get("type")).ok_or_else(|| bad(pointer, "no type"))?;
    let value = text(o.get("value")).ok_or_else(|| bad(pointer, "no value"))?;
    let sightings = o
        .get("Sighting")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                // Type 0 is a sighting; 1 a false positive, 2 an expiration.
                .filter(|s| text(s.get("type")).is_none_or(|t| t == "0"))
                .filter_map(|s| epoch(s.get("date_sighting")))
                .collect()
        })
        .unwrap_or_default();
    Ok(MispAttribute {
        uuid: uuid_at(o, pointer)?,
        kind,
        category: text(o.get("category")).unwrap_or_default(),
        value,
        to_ids: flag(o.get("to_ids")),
        comment: text(o.get("comment")).unwrap_or_default(),
        tags: {
            let mut t = inherit.tags.clone();
            t.extend(tags_of(o));
            t
        },
        first_seen: instant(o.get("first_seen")),
        last_seen: instant(o.get("last_seen")),
        timestamp: epoch(o.get("timestamp")),
        sightings,
        object: inherit.object.clone(),
        deleted: inherit.deleted || deleted(o),
        distribution: distribution(o.get("distribution"))
            .filter(|d| *d != 5)
            .unwrap_or(inherit.distribution),
        pointer: pointer.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"Event": {"uuid": "5f1e1a2b-0000-4000-8000-000000000001", "info": "Phishing wave",
      "threat_level_id": "1", "analysis": "2", "date": "2026-11-30",
      "Tag": [{"name": "tlp:amber"}, {"name": "misp-galaxy:mitre-attack-pattern=\"Phishing - T1566\""}],
      "Galaxy": [{"type": "mitre-attack-pattern", "GalaxyCluster": [{"type": "mitre-attack-pattern", "value": "Spearphishing Link - T1566.002", "meta": {"external_id": ["T1566.002"]}}]}],
      "Attribute": [{"uuid": "5F1E1A2B-0000-4000-8000-000000000002", "type": "domain", "category": "Network activity",
        "value": "evil.example", "to_ids": true, "timestamp": "1764460800",
        "Sighting": [{"date_sighting": "1764460800", "type": "0"}, {"date_sighting": "1764464400", "type": "1"}]}],
      "Object": [{"name": "url", "Attribute": [{"uuid": "5f1e1a2b-0000-4000-8000-000000000003", "type": "url",
        "value": "https://evil.example/login", "to_ids": "1", "Tag": [{"name": "tlp:green"}]}]}]}}"#;

    #[test]
    fn reads_tags_techniques_objects_and_sightings() {
        let events = read_events(EVENT.as_bytes()).unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.marking(), Some(Tlp::Amber));
        assert_eq!(e.techniques, vec!["T1566", "T1566.002"]);
        assert_eq!(e.threat_level, 1);
        assert_eq!(e.attributes.len(), 2);
        assert_eq!(e.attributes[0].uuid, "5f1e1a2b-0000-4000-8000-000000000002");
        assert_eq!(
            e.attributes[0].sightings,
            vec![Timestamp::from_secs(1_764_460_800)]
        );
        assert_eq!(e.attributes[1].object.as_deref(), Some("url"));
        assert!(e.attributes[1].to_ids);
        assert_eq!(e.attributes[1].marking(), Some(Tlp::Green));
        assert_eq!(e.attributes[1].pointer, "/Event/Object/0/Attribute/0");
    }

    #[test]
    fn lists_and_search_answers_and_bad_documents() {
        let list = format!("[{EVENT}, {EVENT}]");
        assert_eq!(read_events(list.as_bytes()).unwrap().len(), 2);
        let search = format!(r#"{{"response": [{EVENT}]}}"#);
        assert_eq!(
            read_events(search.as_bytes()).unwrap()[0].pointer,
            "/response/0/Event"
        );
        for (doc, want) in [
            ("nope", "not JSON"),
            ("42", "expected an object"),
            (r#"{"Event": {"info": "x"}}"#, "no uuid"),
            (
                r#"{"Event": {"uuid": "not-a-uuid", "info": "x"}}"#,
                "is not a UUID",
            ),
            (
                r#"{"Event": {"uuid": "5f1e1a2b-0000-4000-8000-000000000001", "info": "x", "Attribute": [{"uuid": "5f1e1a2b-0000-4000-8000-000000000002", "type": "ip-dst"}]}}"#,
                "/Event/Attribute/0: no value",
            ),
        ] {
            let e = read_events(doc.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(want), "{doc}: {e}");
        }
    }

    #[test]
    fn tags_in_every_shape_and_inherited_from_objects() {
        let doc = r#"{"Event": {"uuid": "5f1e1a2b-0000-4000-8000-000000000001", "info": "x", "distribution": "0",
          "EventTag": [{"Tag": {"name": "tlp: red"}}],
          "Object": [{"name": "url", "deleted": true, "distribution": "5", "Tag": [{"name": "tlp:amber"}],
            "Attribute": [{"uuid": "5f1e1a2b-0000-4000-8000-000000000003", "type": "url", "value": "https://a.example/",
              "Tag": [{"Tag": {"name": "osint"}}], "distribution": "3"}]}]}}"#;
        let e = &read_events(doc.as_bytes()).unwrap()[0];
        assert_eq!(e.marking(), Some(Tlp::Red), "a space after the colon");
        assert_eq!(e.distribution, 0);
        let a = &e.attributes[0];
        assert_eq!(a.tags, vec!["tlp:amber", "osint"]);
        assert!(a.deleted, "its object is deleted");
        assert_eq!(a.distribution, 3);
        let late = r#"{"uuid": "5f1e1a2b-0000-4000-8000-000000000001", "info": "x", "date": "253402300800"}"#;
        assert_eq!(
            read_events(late.as_bytes()).unwrap()[0].date,
            None,
            "seconds, out of range"
        );
    }

    #[test]
    fn techniques_need_word_boundaries() {
        let mut out = Vec::new();
        techniques_in("T1059.001, XT1234, T12345, T1071", &mut out);
        assert_eq!(out, vec!["T1059.001", "T1071"]);
    }
}
