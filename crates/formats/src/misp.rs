//! The MISP core format, as MISP feeds carry it: events of attributes and
//! objects (after MISP's object templates), tagged with TLP, and a feed's
//! `manifest.json` and `hashes.csv` computed from its events exactly as
//! MISP's feed generator computes them. Building events from isx's
//! products (and deciding who sees which) is the application's; this
//! module only writes the shapes.

use std::fmt::Write as _;

use isx_domain::{Timestamp, Tlp};
use md5::{Digest as _, Md5};
use serde_json::{json, Map, Value};

/// A deterministic UUID (RFC 4122 version 4 shape) from `key`: the same
/// key always gives the same event, object or attribute, so a MISP that
/// fetches the feed again updates what it has instead of duplicating it.
pub fn uuid(key: &str) -> String {
    let id = crate::stix::object_id("misp", key);
    id.trim_start_matches("misp--").to_owned()
}

/// The MISP tag of a TLP marking (MISP's `tlp` taxonomy, TLP 2.0 names).
pub fn tlp_tag(t: Tlp) -> &'static str {
    match t {
        Tlp::Clear => "tlp:clear",
        Tlp::Green => "tlp:green",
        Tlp::Amber => "tlp:amber",
        Tlp::AmberStrict => "tlp:amber+strict",
        Tlp::Red => "tlp:red",
    }
}

/// The colour MISP's `tlp` taxonomy gives each tag.
fn tlp_colour(t: Tlp) -> &'static str {
    match t {
        Tlp::Clear => "#ffffff",
        Tlp::Green => "#339900",
        Tlp::Amber | Tlp::AmberStrict => "#ffc000",
        Tlp::Red => "#cc0033",
    }
}

/// The marking a MISP `tlp:` tag names, if it names one (TLP 1.0's
/// `tlp:white` and `tlp:ex:…` spellings included where they map).
pub fn tlp_of_tag(tag: &str) -> Option<Tlp> {
    let rest = tag.trim().to_ascii_lowercase();
    let rest = rest.strip_prefix("tlp:")?;
    match rest.trim().trim_matches('"').trim() {
        "clear" | "white" => Some(Tlp::Clear),
        "green" => Some(Tlp::Green),
        "amber" => Some(Tlp::Amber),
        "amber+strict" => Some(Tlp::AmberStrict),
        "red" => Some(Tlp::Red),
        _ => None,
    }
}

/// The attribute types isx writes, each with the category MISP gives it
/// by default (`describeTypes.json`'s `sane_defaults`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    Url,
    Domain,
    Hostname,
    IpDst,
    IpSrc,
    Port,
    As,
    Vulnerability,
    Text,
    Float,
    Datetime,
    Link,
    Stix2Pattern,
    EmailSrc,
    Md5,
    Sha1,
    Sha256,
    Filename,
    Size,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::Url => "url",
            AttrType::Domain => "domain",
            AttrType::Hostname => "hostname",
            AttrType::IpDst => "ip-dst",
            AttrType::IpSrc => "ip-src",
            AttrType::Port => "port",
            AttrType::As => "AS",
            AttrType::Vulnerability => "vulnerability",
            AttrType::Text => "text",
            AttrType::Float => "float",
            AttrType::Datetime => "datetime",
            AttrType::Link => "link",
            AttrType::Stix2Pattern => "stix2-pattern",
            AttrType::EmailSrc => "email-src",
            AttrType::Md5 => "md5",
            AttrType::Sha1 => "sha1",
            AttrType::Sha256 => "sha256",
            AttrType::Filename => "filename",
            AttrType::Size => "size-in-bytes",
        }
    }

    /// The category MISP files the type under by default.
    pub fn category(self) -> &'static str {
        match self {
            AttrType::Url
            | AttrType::Domain
            | AttrType::Hostname
            | AttrType::IpDst
            | AttrType::IpSrc
            | AttrType::Port
            | AttrType::As => "Network activity",
            AttrType::Vulnerability | AttrType::Link => "External analysis",
            AttrType::Text | AttrType::Float | AttrType::Datetime | AttrType::Size => "Other",
            AttrType::Stix2Pattern => "Payload installation",
            AttrType::EmailSrc => "Payload delivery",
            AttrType::Md5 | AttrType::Sha1 | AttrType::Sha256 | AttrType::Filename => {
                "Payload delivery"
            }
        }
    }

    /// The type a MISP `type` string names, among those isx reads.
    pub fn parse(s: &str) -> Option<Self> {
        const ALL: [AttrType; 19] = [
            AttrType::Url,
            AttrType::Domain,
            AttrType::Hostname,
            AttrType::IpDst,
            AttrType::IpSrc,
            AttrType::Port,
            AttrType::As,
            AttrType::Vulnerability,
            AttrType::Text,
            AttrType::Float,
            AttrType::Datetime,
            AttrType::Link,
            AttrType::Stix2Pattern,
            AttrType::EmailSrc,
            AttrType::Md5,
            AttrType::Sha1,
            AttrType::Sha256,
            AttrType::Filename,
            AttrType::Size,
        ];
        ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// The MISP object templates isx fills (name, template UUID and version,
/// meta-category, description), as in MISP's `misp-objects` repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    Url,
    DomainIp,
    IpPort,
    Vulnerability,
    File,
}

impl Template {
    pub fn name(self) -> &'static str {
        match self {
            Template::Url => "url",
            Template::DomainIp => "domain-ip",
            Template::IpPort => "ip-port",
            Template::Vulnerability => "vulnerability",
            Template::File => "file",
        }
    }

    fn uuid(self) -> &'static str {
        match self {
            Template::Url => "60efb77b-40b5-4c46-871b-ed1ed999fce5",
            Template::DomainIp => "43b3b146-77eb-4931-b4cc-b66c60f28734",
            Template::IpPort => "9f8cea74-16fe-4968-a2b4-026676949ac6",
            Template::Vulnerability => "81650945-f186-437b-8945-9f31715d32da",
            Template::File => "688c46fb-5edb-40a3-8273-1af7923e2215",
        }
    }

    fn version(self) -> &'static str {
        match self {
            Template::Url => "10",
            Template::DomainIp => "11",
            Template::IpPort => "10",
            Template::Vulnerability => "12",
            Template::File => "25",
        }
    }

    /// Whether the template switches correlation off for `relation`.
    fn uncorrelated(self, relation: &str) -> bool {
        matches!(relation, "first-seen" | "last-seen")
            || match self {
                Template::IpPort => {
                    matches!(relation, "src-port" | "dst-port" | "AS" | "country-code")
                }
                Template::Vulnerability => matches!(
                    relation,
                    "cvss-score"
                        | "cvss-string"
                        | "published"
                        | "modified"
                        | "state"
                        | "created"
                        | "credit"
                ),
                Template::Url | Template::DomainIp | Template::File => false,
            }
    }

    /// The category the template gives `relation`, where it is not the
    /// type's default.
    fn category(self, relation: &str) -> Option<&'static str> {
        match (self, relation) {
            (Template::IpPort, "country-code") => Some("Network activity"),
            _ => None,
        }
    }

    fn meta_category(self) -> &'static str {
        match self {
            Template::Url | Template::DomainIp | Template::IpPort => "network",
            Template::Vulnerability => "vulnerability",
            Template::File => "file",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Template::Url => "url object describes an url along with its normalized field (like extracted using faup parsing library) and its metadata.",
            Template::DomainIp => "A domain/hostname and IP address seen as a tuple in a specific time frame.",
            Template::IpPort => "An IP address (or domain or hostname) and a port seen as a tuple (or as a triple) in a specific time frame.",
            Template::Vulnerability => "Vulnerability object describing a common vulnerability enumeration which can describe published, unpublished, under review or embargo vulnerability for software, equipments or hardware.",
            Template::File => "File object describing a file with meta-information",
        }
    }
}

/// One attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub uuid: String,
    pub kind: AttrType,
    pub value: String,
    pub to_ids: bool,
    pub comment: String,
    pub timestamp: Timestamp,
    /// The relation within its object (`url`, `ip`, …); `None` for an
    /// attribute of the event itself.
    pub relation: Option<&'static str>,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    /// Tags of the attribute alone (a marking stricter than the event's).
    pub tags: Vec<String>,
    /// MISP does not correlate it (times, ports, scores: values many
    /// unrelated events share).
    pub disable_correlation: bool,
    /// The category, where the object template asks for another than the
    /// type's default.
    pub category: Option<&'static str>,
}

impl Attribute {
    /// An attribute whose UUID derives from `key`, with MISP's usual
    /// `to_ids` for indicators of that type left to the caller.
    pub fn new(key: &str, kind: AttrType, value: impl Into<String>, at: Timestamp) -> Self {
        Attribute {
            uuid: uuid(key),
            kind,
            value: value.into(),
            to_ids: false,
            comment: String::new(),
            timestamp: at,
            relation: None,
            first_seen: None,
            last_seen: None,
            tags: Vec::new(),
            disable_correlation: false,
            category: None,
        }
    }

    pub fn ids(mut self, to_ids: bool) -> Self {
        self.to_ids = to_ids;
        self
    }

    pub fn comment(mut self, c: impl Into<String>) -> Self {
        self.comment = c.into();
        self
    }

    fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("uuid".into(), json!(self.uuid));
        o.insert("type".into(), json!(self.kind.as_str()));
        o.insert(
            "category".into(),
            json!(self.category.unwrap_or(self.kind.category())),
        );
        o.insert("value".into(), json!(self.value));
        o.insert("to_ids".into(), json!(self.to_ids));
        o.insert("comment".into(), json!(self.comment));
        o.insert("deleted".into(), json!(false));
        o.insert(
            "disable_correlation".into(),
            json!(self.disable_correlation),
        );
        o.insert(
            "timestamp".into(),
            json!(self.timestamp.as_secs().to_string()),
        );
        if let Some(r) = self.relation {
            o.insert("object_relation".into(), json!(r));
        }
        if let Some(t) = self.first_seen {
            o.insert("first_seen".into(), json!(misp_time(t)));
        }
        if let Some(t) = self.last_seen {
            o.insert("last_seen".into(), json!(misp_time(t)));
        }
        if !self.tags.is_empty() {
            o.insert(
                "Tag".into(),
                Value::Array(self.tags.iter().map(|t| tag_json(t)).collect()),
            );
        }
        Value::Object(o)
    }

    /// The values MISP hashes into `hashes.csv` (a composite `a|b` type's
    /// parts one by one).
    fn hashed_values(&self) -> Vec<&str> {
        if self.kind.as_str().contains('|') {
            self.value.split('|').collect()
        } else {
            vec![self.value.as_str()]
        }
    }
}

/// One object after a template.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub uuid: String,
    pub template: Template,
    pub comment: String,
    pub timestamp: Timestamp,
    pub attributes: Vec<Attribute>,
}

impl Object {
    pub fn new(key: &str, template: Template, at: Timestamp) -> Self {
        Object {
            uuid: uuid(key),
            template,
            comment: String::new(),
            timestamp: at,
            attributes: Vec::new(),
        }
    }

    /// Adds the attribute `relation` (its UUID derived from the object's).
    pub fn add(
        &mut self,
        relation: &'static str,
        kind: AttrType,
        value: impl Into<String>,
        to_ids: bool,
    ) -> &mut Attribute {
        let mut a = Attribute::new(
            &format!("{}/{relation}/{}", self.uuid, self.attributes.len()),
            kind,
            value,
            self.timestamp,
        )
        .ids(to_ids);
        a.relation = Some(relation);
        a.disable_correlation = self.template.uncorrelated(relation);
        a.category = self.template.category(relation);
        self.attributes.push(a);
        let last = self.attributes.len() - 1;
        // Just pushed: the index exists.
        #[allow(clippy::indexing_slicing)]
        &mut self.attributes[last]
    }

    fn to_json(&self) -> Value {
        json!({
            "uuid": self.uuid,
            "name": self.template.name(),
            "meta-category": self.template.meta_category(),
            "description": self.template.description(),
            "template_uuid": self.template.uuid(),
            "template_version": self.template.version(),
            "timestamp": self.timestamp.as_secs().to_string(),
            "comment": self.comment,
            "deleted": false,
            "Attribute": self.attributes.iter().map(Attribute::to_json).collect::<Vec<_>>(),
        })
    }
}

/// The organisation an event is from (its creator, MISP's `Orgc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub name: String,
    pub uuid: String,
}

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub uuid: String,
    pub info: String,
    /// The day the event is about (MISP's `date`).
    pub date: Timestamp,
    /// The last change of anything in it; moves only when it changes.
    pub timestamp: Timestamp,
    pub marking: Tlp,
    /// MISP's threat level: 1 high, 2 medium, 3 low, 4 undefined.
    pub threat_level: u8,
    /// More tags beyond the TLP one (e.g. `isx:product="urls"`).
    pub tags: Vec<String>,
    pub org: Org,
    pub attributes: Vec<Attribute>,
    pub objects: Vec<Object>,
}

impl Event {
    fn tags_json(&self) -> Vec<Value> {
        std::iter::once(tlp_tag(self.marking).to_owned())
            .chain(self.tags.iter().cloned())
            .map(|t| tag_json(&t))
            .collect()
    }

    /// The event as a feed serves it (`{"Event": …}`).
    pub fn to_json(&self) -> Value {
        json!({"Event": {
            "uuid": self.uuid,
            "info": self.info,
            "date": day(self.date),
            "timestamp": self.timestamp.as_secs().to_string(),
            "publish_timestamp": self.timestamp.as_secs().to_string(),
            "published": true,
            "analysis": "2",
            "threat_level_id": self.threat_level.to_string(),
            "extends_uuid": "",
            "protected": false,
            "Orgc": {"name": self.org.name, "uuid": self.org.uuid},
            "Tag": self.tags_json(),
            "Attribute": self.attributes.iter().map(Attribute::to_json).collect::<Vec<_>>(),
            "Object": self.objects.iter().map(Object::to_json).collect::<Vec<_>>(),
        }})
    }

    /// The event's entry in `manifest.json` (what MISP reads to decide
    /// whether to fetch it again).
    pub fn manifest_entry(&self) -> Value {
        json!({
            "Orgc": {"name": self.org.name, "uuid": self.org.uuid},
            "Tag": self.tags_json(),
            "info": self.info,
            "date": day(self.date),
            "analysis": 2,
            "threat_level_id": self.threat_level,
            "timestamp": self.timestamp.as_secs(),
        })
    }

    /// The event's lines of `hashes.csv`: the MD5 of every attribute value
    /// (objects' included), each followed by the event's UUID.
    pub fn write_hashes(&self, out: &mut String) {
        let all = self
            .attributes
            .iter()
            .chain(self.objects.iter().flat_map(|o| o.attributes.iter()));
        for a in all {
            for v in a.hashed_values() {
                let digest = Md5::digest(v.as_bytes());
                for b in digest {
                    let _ = write!(out, "{b:02x}");
                }
                let _ = writeln!(out, ",{}", self.uuid);
            }
        }
    }

    /// How many attributes (objects' included) it holds.
    pub fn attribute_count(&self) -> usize {
        self.attributes.len()
            + self
                .objects
                .iter()
                .map(|o| o.attributes.len())
                .sum::<usize>()
    }
}

/// A feed's `manifest.json`: each event's entry under its UUID.
pub fn manifest(events: &[Event]) -> Value {
    Value::Object(
        events
            .iter()
            .map(|e| (e.uuid.clone(), e.manifest_entry()))
            .collect(),
    )
}

/// A feed's `hashes.csv`.
pub fn hashes(events: &[Event]) -> String {
    let mut out = String::new();
    for e in events {
        e.write_hashes(&mut out);
    }
    out
}

fn tag_json(name: &str) -> Value {
    let colour = tlp_of_tag(name).map_or("#0088cc", tlp_colour);
    json!({"name": name, "colour": colour, "local": false, "relationship_type": ""})
}

/// A day as MISP's `date` (`YYYY-MM-DD`).
fn day(t: Timestamp) -> String {
    t.to_rfc3339().get(..10).unwrap_or("1970-01-01").to_owned()
}

/// An instant as a MISP `datetime` value: `2026-12-03 09:00:00+00:00`
/// (with `.ffffff` when it has microseconds). RFC 3339 with a space, and
/// the very text Python prints for the instant, so the MD5 in
/// `hashes.csv` is the one PyMISP's feed generator computes.
pub fn misp_time(t: Timestamp) -> String {
    let micros = t.as_micros().rem_euclid(1_000_000);
    let whole = Timestamp::from_secs(t.as_secs()).to_rfc3339();
    let mut out: String = whole.chars().take(19).collect();
    out = out.replacen('T', " ", 1);
    if micros != 0 {
        let _ = write!(out, ".{micros:06}");
    }
    out.push_str("+00:00");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        let at = Timestamp::from_secs(1_764_000_000);
        let mut o = Object::new("o", Template::Url, at);
        o.add("url", AttrType::Url, "http://a.example/x", true);
        let mut e = Event {
            uuid: uuid("e"),
            info: "test".into(),
            date: at,
            timestamp: at,
            marking: Tlp::Green,
            threat_level: 2,
            tags: vec![],
            org: Org {
                name: "isx".into(),
                uuid: uuid("org"),
            },
            attributes: vec![Attribute::new("a", AttrType::IpDst, "192.0.2.1", at).ids(true)],
            objects: vec![o],
        };
        e.tags.push("isx:product=\"urls\"".into());
        e
    }

    #[test]
    fn uuids_are_stable_and_well_formed() {
        assert_eq!(uuid("x"), uuid("x"));
        assert_ne!(uuid("x"), uuid("y"));
        let u = uuid("x");
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
    }

    #[test]
    fn hashes_are_md5_of_each_value_with_the_event() {
        let e = event();
        let h = hashes(std::slice::from_ref(&e));
        let lines: Vec<&str> = h.lines().collect();
        assert_eq!(lines.len(), 2);
        // md5("192.0.2.1")
        assert!(lines[0].ends_with(&format!(",{}", e.uuid)));
        assert_eq!(lines[0].split(',').next().map(str::len), Some(32));
        let md5_of = |s: &str| {
            Md5::digest(s.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        assert_eq!(lines[0], format!("{},{}", md5_of("192.0.2.1"), e.uuid));
        assert_eq!(
            lines[1],
            format!("{},{}", md5_of("http://a.example/x"), e.uuid)
        );
    }

    #[test]
    fn events_carry_their_tlp_tag_and_string_timestamps() {
        let v = event().to_json();
        assert_eq!(v["Event"]["Tag"][0]["name"], "tlp:green");
        assert_eq!(v["Event"]["timestamp"], "1764000000");
        assert_eq!(v["Event"]["date"], "2025-11-24");
        assert_eq!(
            v["Event"]["Object"][0]["Attribute"][0]["object_relation"],
            "url"
        );
        assert_eq!(v["Event"]["Attribute"][0]["category"], "Network activity");
        let m = manifest(&[event()]);
        assert_eq!(m[uuid("e")]["timestamp"], 1_764_000_000);
    }

    #[test]
    fn times_are_written_as_python_prints_them() {
        let t = Timestamp::parse("2026-12-03T09:00:00Z").unwrap();
        assert_eq!(misp_time(t), "2026-12-03 09:00:00+00:00");
        let t = Timestamp::from_micros(t.as_micros() + 120);
        assert_eq!(misp_time(t), "2026-12-03 09:00:00.000120+00:00");
    }

    #[test]
    fn tlp_tags_read_back() {
        for t in Tlp::ALL {
            assert_eq!(tlp_of_tag(tlp_tag(t)), Some(t));
        }
        assert_eq!(tlp_of_tag("tlp:white"), Some(Tlp::Clear));
        assert_eq!(tlp_of_tag("TLP:AMBER+STRICT"), Some(Tlp::AmberStrict));
        assert_eq!(tlp_of_tag("osint:source-type=\"blog\""), None);
    }
}
