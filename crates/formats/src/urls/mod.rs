//! Malicious-URL files: reading what sources publish (JSON, NDJSON, CSV
//! with columns found by header name, URLhaus exports included) and
//! writing isx's feed files (JSON array, NDJSON, CSV, STIX 2.1 bundle).

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::IpAddr;

use isx_domain::{Asn, CountryCode, GeoInfo, Timestamp, Tlp};
use isx_urls::{UrlObservation, UrlRecord};
use serde::Serialize;
use serde_json::{json, Value};

use crate::feed::FeedFormat;
use crate::{stix, FormatError};

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlInputFormat {
    /// A JSON array of objects, an object holding such an array under
    /// `urls`/`records`/`data`, or URLhaus's JSON dump (`{id: [{…}]}`).
    Json,
    /// One JSON object per line.
    Ndjson,
    /// CSV with a header row (a `#`-commented header as in URLhaus dumps
    /// counts); columns are found by name, unknown ones ignored.
    Csv,
}

impl UrlInputFormat {
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "json" => Some(Self::Json),
            "ndjson" | "jsonl" | "jsonlines" => Some(Self::Ndjson),
            "csv" | "txt" => Some(Self::Csv),
            _ => None,
        }
    }

    /// Guesses from a file name's extension, then from the first byte.
    pub fn detect(file_name: Option<&str>, bytes: &[u8]) -> Self {
        if let Some(f) = file_name
            .and_then(|n| n.rsplit_once('.'))
            .and_then(|(_, e)| Self::from_name(e))
        {
            return f;
        }
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        match first {
            Some(b'[') => Self::Json,
            Some(b'{') => {
                // One object per line, or one document?
                let text = String::from_utf8_lossy(bytes.get(..1 << 20).unwrap_or(bytes));
                let mut lines = text.lines().filter(|l| !l.trim().is_empty());
                let first_line = lines.next().unwrap_or_default();
                if serde_json::from_str::<Value>(first_line).is_ok() {
                    Self::Ndjson
                } else {
                    Self::Json
                }
            }
            _ => Self::Csv,
        }
    }
}

/// A row that could not be read, by its line number in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// One input row: its line number and what it says.
pub type UrlRow = (usize, Result<UrlObservation, RowError>);

/// Reads a whole input. A document-level problem (not JSON, no `url`
/// column) is an error; problems of single rows are reported per row, so
/// that the caller decides between all-or-nothing and skipping.
pub fn parse_urls(bytes: &[u8], format: UrlInputFormat) -> Result<Vec<UrlRow>, FormatError> {
    match format {
        UrlInputFormat::Csv => parse_csv(bytes),
        UrlInputFormat::Ndjson => Ok(parse_ndjson(bytes)),
        UrlInputFormat::Json => parse_json(bytes),
    }
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    1 + bytes.iter().take(offset).filter(|b| **b == b'\n').count()
}

fn parse_json(bytes: &[u8]) -> Result<Vec<UrlRow>, FormatError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| FormatError::Json(e.to_string()))?;
    let elements: Vec<&Value> = match &doc {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => {
            if let Some(Value::Array(a)) =
                ["urls", "records", "data"].iter().find_map(|k| o.get(*k))
            {
                a.iter().collect()
            } else if o.values().all(Value::is_array) {
                // URLhaus JSON dump: {"<id>": [{…}], …}
                o.values().filter_map(Value::as_array).flatten().collect()
            } else {
                return Err(FormatError::value("", "expected an array of URL objects"));
            }
        }
        _ => return Err(FormatError::value("", "expected an array of URL objects")),
    };
    // Line numbers: find each element's "url" value in the text in order.
    let text = String::from_utf8_lossy(bytes);
    let mut cursor = 0usize;
    let mut rows = Vec::with_capacity(elements.len());
    for (i, v) in elements.into_iter().enumerate() {
        let line = match v.get("url").and_then(Value::as_str) {
            Some(u) => {
                let needle = serde_json::to_string(u).unwrap_or_default();
                match text[cursor..].find(&needle) {
                    Some(pos) => {
                        cursor += pos + needle.len();
                        line_of(bytes, cursor)
                    }
                    None => line_of(bytes, cursor),
                }
            }
            None => line_of(bytes, cursor),
        };
        let result = match v {
            Value::Object(o) => observation(&json_fields(o)),
            _ => Err(format!("record {} is not an object", i + 1)),
        };
        rows.push((line, result.map_err(|message| RowError { line, message })));
    }
    Ok(rows)
}

fn parse_ndjson(bytes: &[u8]) -> Vec<UrlRow> {
    let text = String::from_utf8_lossy(bytes);
    let mut rows = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let result = match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(o)) => observation(&json_fields(&o)),
            Ok(_) => Err("not a JSON object".to_owned()),
            Err(e) => Err(format!("not JSON: {e}")),
        };
        rows.push((line, result.map_err(|message| RowError { line, message })));
    }
    rows
}

fn parse_csv(bytes: &[u8]) -> Result<Vec<UrlRow>, FormatError> {
    let text = String::from_utf8_lossy(bytes);
    // URLhaus and others put the header in the last comment line before
    // the data: `# id,dateadded,url,…`.
    let mut header: Option<(usize, Vec<String>)> = None;
    let mut data_start = 0usize;
    let mut offset = 0usize;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        let t = l.trim();
        if t.is_empty() {
            offset += l.len();
            continue;
        }
        if let Some(c) = t.strip_prefix('#') {
            let cells = split_header(c);
            if cells.iter().any(|c| c == "url") {
                header = Some((i + 1, cells));
            }
            offset += l.len();
            continue;
        }
        if header.is_none() {
            header = Some((i + 1, split_header(t)));
            offset += l.len();
        }
        data_start = offset;
        break;
    }
    let Some((header_line, columns)) = header else {
        return Ok(Vec::new());
    };
    let Some(url_col) = columns.iter().position(|c| c == "url" || c == "uri") else {
        return Err(FormatError::value(
            format!("line {header_line}"),
            format!("no url column; columns are: {}", columns.join(", ")),
        ));
    };
    let _ = url_col;
    let first_data_line = line_of(bytes, data_start);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(bytes.get(data_start..).unwrap_or_default());
    let mut rows = Vec::new();
    for rec in reader.records() {
        match rec {
            Ok(r) => {
                let line = r.position().map_or(first_data_line, |p| {
                    first_data_line + usize::try_from(p.line()).unwrap_or(1) - 1
                });
                let mut fields = HashMap::new();
                for (name, cell) in columns.iter().zip(r.iter()) {
                    if !cell.is_empty() {
                        fields.insert(name.clone(), Field::Text(cell.to_owned()));
                    }
                }
                let result = if r.len() != columns.len() {
                    Err(format!(
                        "{} cells, the header has {}",
                        r.len(),
                        columns.len()
                    ))
                } else {
                    observation(&fields)
                };
                rows.push((line, result.map_err(|message| RowError { line, message })));
            }
            Err(e) => {
                let line = e.position().map_or(first_data_line, |p| {
                    first_data_line + usize::try_from(p.line()).unwrap_or(1) - 1
                });
                rows.push((
                    line,
                    Err(RowError {
                        line,
                        message: format!("unreadable CSV: {e}"),
                    }),
                ));
            }
        }
    }
    Ok(rows)
}

fn split_header(line: &str) -> Vec<String> {
    line.split(',')
        .map(|c| c.trim().trim_matches('"').trim().to_ascii_lowercase())
        .collect()
}

enum Field {
    Text(String),
    List(Vec<String>),
}

impl Field {
    fn text(&self) -> Option<String> {
        match self {
            Field::Text(t) => Some(t.clone()),
            Field::List(l) => l.first().cloned(),
        }
    }
    fn list(&self) -> Vec<String> {
        match self {
            Field::Text(t) => t
                .split([',', ';', '|'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            Field::List(l) => l.clone(),
        }
    }
}

fn json_fields(o: &serde_json::Map<String, Value>) -> HashMap<String, Field> {
    let mut out = HashMap::new();
    for (k, v) in o {
        let f = match v {
            Value::Null => continue,
            Value::String(s) => Field::Text(s.clone()),
            Value::Number(n) => Field::Text(n.to_string()),
            Value::Bool(b) => Field::Text(b.to_string()),
            Value::Array(a) => Field::List(
                a.iter()
                    .filter_map(|x| match x {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect(),
            ),
            Value::Object(_) => continue,
        };
        out.insert(k.to_ascii_lowercase(), f);
    }
    out
}

fn pick<'a>(f: &'a HashMap<String, Field>, names: &[&str]) -> Option<&'a Field> {
    names.iter().find_map(|n| f.get(*n))
}

fn pick_text(f: &HashMap<String, Field>, names: &[&str]) -> Option<String> {
    pick(f, names)
        .and_then(Field::text)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The name a field is reported by: the first of its spellings.
fn field_name<'a>(names: &[&'a str]) -> &'a str {
    names.first().copied().unwrap_or_default()
}

/// Reads a time as sources write it: RFC 3339, `YYYY-MM-DD HH:MM:SS`
/// (UTC, optionally followed by `UTC`), `YYYY-MM-DD`, or Unix seconds
/// (milliseconds when the number is past the seconds of 9999-12-31, the
/// last instant isx holds).
pub fn parse_time(s: &str) -> Option<Timestamp> {
    /// 9999-12-31T23:59:59Z in Unix seconds.
    const LAST_SECOND: i64 = 253_402_300_799;
    let t = s.trim().trim_end_matches(" UTC").trim_end_matches(" +0000");
    if t.is_empty() {
        return None;
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = t.parse().ok()?;
        return if n > LAST_SECOND {
            Timestamp::checked_from_micros(n.checked_mul(1000)?).ok()
        } else {
            Timestamp::checked_from_secs(n).ok()
        };
    }
    if let Ok(ts) = Timestamp::parse(t) {
        return Some(ts);
    }
    let iso = t.replacen(' ', "T", 1);
    let candidates = [format!("{iso}Z"), format!("{iso}T00:00:00Z")];
    candidates.iter().find_map(|c| Timestamp::parse(c).ok())
}

fn observation(f: &HashMap<String, Field>) -> Result<UrlObservation, String> {
    let url = pick_text(f, &["url", "uri", "link"]).ok_or("no url")?;
    let time = |names: &[&str]| -> Result<Option<Timestamp>, String> {
        match pick_text(f, names) {
            None => Ok(None),
            Some(s) => parse_time(&s)
                .map(Some)
                .ok_or_else(|| format!("{}: unreadable time {s:?}", field_name(names))),
        }
    };
    let first_seen = time(&[
        "first_seen",
        "firstseen",
        "dateadded",
        "date_added",
        "first_seen_utc",
        "submission_time",
    ])?;
    let last_seen = time(&["last_seen", "lastseen", "last_online", "last_seen_utc"])?;
    let confidence = match pick_text(f, &["confidence", "score"]) {
        None => None,
        Some(s) => Some(
            s.parse::<i64>()
                .map_err(|_| format!("confidence {s:?}: expected a number 0 to 100"))?,
        ),
    };
    let ip = match pick_text(f, &["ip", "ip_address", "ipaddr", "resolved_ip", "host_ip"]) {
        None => None,
        Some(s) => Some(
            s.parse::<IpAddr>()
                .map_err(|_| format!("ip {s:?} is not an IP address"))?,
        ),
    };
    let tlp = match pick_text(f, &["tlp", "marking"]) {
        None => None,
        Some(s) => Some(s.parse::<Tlp>().map_err(|e| e.to_string())?),
    };
    let asn = match pick_text(f, &["asn", "as", "as_number"]) {
        None => None,
        Some(s) => Some(s.parse::<Asn>().map_err(|e| e.to_string())?),
    };
    let country = match pick_text(f, &["country", "country_code", "cc"]) {
        None => None,
        Some(s) => Some(s.parse::<CountryCode>().map_err(|e| e.to_string())?),
    };
    let coord = |names: &[&str], max: f64| -> Result<Option<f64>, String> {
        match pick_text(f, names) {
            None => Ok(None),
            Some(s) => match s.parse::<f64>() {
                Ok(v) if v.is_finite() && v.abs() <= max => Ok(Some(v)),
                _ => Err(format!(
                    "{} {s:?}: expected a number within ±{max}",
                    field_name(names)
                )),
            },
        }
    };
    let geo = GeoInfo {
        asn,
        as_org: pick_text(
            f,
            &[
                "as_org",
                "as_name",
                "asn_org",
                "organisation",
                "organization",
            ],
        ),
        country,
        city: pick_text(f, &["city"]),
        latitude: coord(&["latitude", "lat"], 90.0)?,
        longitude: coord(&["longitude", "lon", "lng"], 180.0)?,
    };
    Ok(UrlObservation {
        url,
        threat: pick_text(f, &["threat", "threat_type", "category", "type"]),
        tags: pick(f, &["tags", "tag", "labels"])
            .map(Field::list)
            .unwrap_or_default(),
        source: pick_text(f, &["source", "reporter", "feed", "provider"]),
        confidence,
        first_seen,
        last_seen,
        ip,
        geo,
        tlp,
    })
}

/// CSV columns of URL files, in order.
pub const CSV_COLUMNS: [&str; 17] = [
    "url",
    "host",
    "domain",
    "ip",
    "asn",
    "as_org",
    "country",
    "latitude",
    "longitude",
    "threat",
    "tags",
    "source",
    "confidence",
    "tlp",
    "first_seen",
    "last_seen",
    "times_seen",
];

/// A record as it appears in JSON and NDJSON files.
#[derive(Serialize)]
struct FeedRecord<'a> {
    url: &'a str,
    host: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<IpAddr>,
    #[serde(flatten)]
    geo: &'a GeoInfo,
    threat: &'a str,
    tags: &'a [String],
    source: &'a str,
    confidence: u8,
    tlp: &'a str,
    first_seen: Timestamp,
    last_seen: Timestamp,
    times_seen: i64,
}

impl<'a> From<&'a UrlRecord> for FeedRecord<'a> {
    fn from(r: &'a UrlRecord) -> Self {
        FeedRecord {
            url: &r.url,
            host: &r.host,
            domain: r.domain.as_deref(),
            ip: r.ip,
            geo: &r.geo,
            threat: r.threat.as_str(),
            tags: &r.tags,
            source: &r.source,
            confidence: r.confidence,
            tlp: r.tlp.as_str(),
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            times_seen: r.times_seen,
        }
    }
}

/// Writes URL records as a file, one record at a time, so that files of
/// millions of records never sit in memory.
pub struct UrlFeedWriter<W: Write> {
    frame: crate::feed::FeedFrame<W>,
}

impl<W: Write> UrlFeedWriter<W> {
    /// Starts a file. `instance` names the producing isx instance (the STIX
    /// identity); `bundle_key` makes the STIX bundle id deterministic.
    pub fn new(out: W, format: FeedFormat, instance: &str, bundle_key: &str) -> io::Result<Self> {
        Ok(UrlFeedWriter {
            frame: crate::feed::FeedFrame::new(out, format, instance, bundle_key, &CSV_COLUMNS)?,
        })
    }

    pub fn write(&mut self, r: &UrlRecord) -> io::Result<()> {
        match self.frame.format() {
            FeedFormat::Json | FeedFormat::Ndjson => self.frame.json(&FeedRecord::from(r), r.tlp),
            FeedFormat::Csv => {
                let opt = |v: Option<String>| v.unwrap_or_default();
                let cells = [
                    r.url.clone(),
                    r.host.clone(),
                    opt(r.domain.clone()),
                    opt(r.ip.map(|i| i.to_string())),
                    opt(r.geo.asn.map(|a| a.get().to_string())),
                    opt(r.geo.as_org.clone()),
                    opt(r.geo.country.map(|c| c.to_string())),
                    opt(r.geo.latitude.map(|v| v.to_string())),
                    opt(r.geo.longitude.map(|v| v.to_string())),
                    r.threat.as_str().to_owned(),
                    r.tags.join(","),
                    r.source.clone(),
                    r.confidence.to_string(),
                    r.tlp.as_str().to_owned(),
                    r.first_seen.to_rfc3339(),
                    r.last_seen.to_rfc3339(),
                    r.times_seen.to_string(),
                ];
                self.frame.csv(cells.iter().map(String::as_str), r.tlp)
            }
            FeedFormat::Stix => {
                let indicator = stix_indicator(r, self.frame.identity());
                self.frame.stix(&[indicator], r.tlp)
            }
        }
    }

    /// Ends the file; returns the writer, the number of records and the
    /// most restrictive marking among them.
    pub fn finish(self) -> io::Result<(W, u64, Option<Tlp>)> {
        self.frame.finish()
    }
}

/// The key of a URL record's STIX ids: its lineage
/// ([`UrlRecord::lineage_key`], `url@green:<url>`) for its first
/// indicator, `…#n` for the one after its n-th return to the feed (a
/// revoked indicator is never valid again, so a return is a new
/// indicator).
fn id_key(r: &UrlRecord) -> String {
    generation_key("url", r)
}

fn generation_key(prefix: &str, r: &UrlRecord) -> String {
    let lineage = r.lineage_key(prefix);
    if r.generation == 0 {
        lineage
    } else {
        format!("{lineage}#{}", r.generation)
    }
}

/// A URL record as a STIX 2.1 indicator with a URL pattern. The id is
/// derived from the URL (and its generation), so later files update the
/// same indicator. A record out of the feed is the indicator's final,
/// revoked version: `revoked: true`, modified when the revocation arrived,
/// valid until then.
pub fn stix_indicator(r: &UrlRecord, identity: &str) -> Value {
    let created = stix::timestamp(r.valid_from());
    let mut labels = vec![r.threat.as_str().to_owned()];
    labels.extend(r.tags.iter().cloned());
    let mut o = serde_json::json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix::object_id("indicator", &id_key(r)),
        "created_by_ref": identity,
        "created": created,
        "name": format!("Malicious URL ({}) on {}", r.threat, r.host),
        "indicator_types": ["malicious-activity"],
        "pattern": format!("[url:value = {}]", stix::pattern_string(&r.url)),
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": created,
        "confidence": r.confidence,
        "labels": labels,
        "object_marking_refs": [stix::tlp_marking_id(r.tlp)],
    });
    match r.revoked_at.filter(|_| !r.live) {
        Some(revoked) => {
            let at = stix::timestamp(r.changed_at.max(revoked).max(r.valid_from()));
            stix::set(&mut o, "modified", json!(at));
            stix::set(&mut o, "revoked", json!(true));
            stix::set(
                &mut o,
                "valid_until",
                json!(stix::timestamp(revoked.max(r.valid_from().add_secs(1)))),
            );
            stix::set(
                &mut o,
                "description",
                json!(format!(
                    "Left the feed: not seen in the {} days before {}.",
                    isx_urls::FeedSchedule::default().window_secs / 86_400,
                    revoked
                )),
            );
        }
        None => {
            let modified = r.changed_at.max(r.last_seen).max(r.valid_from());
            stix::set(&mut o, "modified", json!(stix::timestamp(modified)));
            stix::set(
                &mut o,
                "description",
                json!(format!(
                    "Reported by {}; seen {} time(s) between {} and {}.",
                    r.source, r.times_seen, r.first_seen, r.last_seen
                )),
            );
            // It leaves the rolling feed a window after its last sighting.
            stix::set(
                &mut o,
                "valid_until",
                json!(stix::timestamp(r.leaves_feed_at())),
            );
        }
    }
    o
}

/// The STIX infrastructure type a threat type implies, when it implies one.
pub fn infrastructure_type(t: isx_domain::ThreatType) -> Option<&'static str> {
    t.infrastructure()
}

/// The STIX objects of a URL record for TAXII, each with its offset in
/// microseconds from the record's `changed_at` (its `date_added`): the
/// indicator; and, where the threat type says what the URL is part of, an
/// `infrastructure` object (command-and-control, phishing, hosting-malware)
/// and the relationship `indicator indicates infrastructure`. Ids derive
/// from the URL, so a changed record gives new versions of the same
/// objects.
///
/// A record whose previous generation ended (it left the feed, or what
/// the URL is part of changed) carries that generation's final, revoked
/// objects first (offsets 0–2, the same versions as when it ended), so a
/// reader that did not poll in between still gets them; its current
/// objects follow (offsets 3–5).
///
/// Before them come the final versions of the looser records whose
/// readers now read this one ([`UrlRecord::superseded`], three offsets
/// each, whether the record is live or not): a reader moved to a stricter
/// record gets every indicator it held revoked.
pub fn stix_objects(r: &UrlRecord, identity: &str) -> Vec<(i64, Value)> {
    let mut blocks = r.superseded_records();
    if let Some(ended) = r.ended_record().filter(|_| r.live) {
        blocks.push(ended);
    }
    blocks.push(r.clone());
    let mut out = Vec::new();
    for (k, b) in (0i64..).zip(&blocks) {
        out.extend(
            generation_objects(b, identity)
                .into_iter()
                .map(|(o, v)| (o + 3 * k, v)),
        );
    }
    out
}

/// The objects of the record's current generation (offsets 0–2).
fn generation_objects(r: &UrlRecord, identity: &str) -> Vec<(i64, Value)> {
    let indicator = stix_indicator(r, identity);
    let Some(kind) = infrastructure_type(r.threat) else {
        return vec![(0, indicator)];
    };
    let field = |key: &str| indicator.get(key).cloned().unwrap_or_default();
    let created = field("created");
    let modified = field("modified");
    let marking = field("object_marking_refs");
    let infra_id = stix::object_id("infrastructure", &id_key(r));
    let infrastructure = serde_json::json!({
        "type": "infrastructure",
        "spec_version": "2.1",
        "id": infra_id,
        "created_by_ref": identity,
        "created": created,
        "modified": modified,
        "name": format!("{} on {}", r.threat, r.host),
        "description": format!("The server behind {}.", r.url),
        "infrastructure_types": [kind],
        "first_seen": created,
        "last_seen": stix::timestamp(r.last_seen.max(r.first_seen)),
        "object_marking_refs": marking,
    });
    let relationship = serde_json::json!({
        "type": "relationship",
        "spec_version": "2.1",
        "id": stix::object_id("relationship", &generation_key("url-indicates", r)),
        "created_by_ref": identity,
        "created": created,
        "modified": modified,
        "relationship_type": "indicates",
        "source_ref": field("id"),
        "target_ref": infra_id,
        "object_marking_refs": marking,
    });
    let (mut infrastructure, mut relationship) = (infrastructure, relationship);
    if indicator.get("revoked").is_some() {
        // What the URL was part of is withdrawn with it.
        for o in [&mut infrastructure, &mut relationship] {
            stix::set(o, "revoked", json!(true));
        }
    }
    vec![(0, indicator), (1, infrastructure), (2, relationship)]
}

#[cfg(test)]
mod tests;
