//! Botnet events in and out.
//!
//! In: NDJSON and CSV, a row at a time (so that the HTTP endpoint can read
//! a stream), with columns found by name. Besides isx's own field names the
//! shapes in real use parse as they come: Microsoft CTIP JSON lines
//! (`DataFeed`, `SourcedFrom`, `DateTimeReceivedUtc`, `Malware`,
//! `ThreatCode`, `ThreatConfidence`, `TotalEncounters`, `TLP`, `SourceIp`,
//! `SourcePort`, `DestinationIp`, `DestinationPort`, `SourceIpInfo{…}`) and
//! Shadowserver sinkhole-event CSV (`timestamp,protocol,src_ip,src_port,
//! src_asn,src_geo,…,infection,family,tag,…`).
//!
//! Out ([`out`]): deduplicated batches in JSON, NDJSON, CSV and STIX 2.1,
//! firewall lists (plain, CIDR-aggregated, nftables, ipset) and an RPZ zone.

pub mod out;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::IpAddr;

use isx_botnet::BotnetEvent;
use isx_domain::{Asn, BotnetProduct, CountryCode, DomainName, Timestamp, Tlp};

use crate::rows::{pick, FieldReader};
use crate::urls::{parse_time, RowError};

/// Input formats of botnet events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BotnetInputFormat {
    /// One JSON object per line (isx's own fields, or CTIP).
    Ndjson,
    /// A header line, then one event per line (isx's own columns, or Shadowserver's).
    Csv,
}

impl BotnetInputFormat {
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "ndjson" | "jsonl" | "json" => Some(Self::Ndjson),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }

    /// Guesses from a file name and the first bytes: `{` starts NDJSON.
    pub fn detect(file_name: Option<&str>, bytes: &[u8]) -> Self {
        let lower = file_name.unwrap_or_default().to_ascii_lowercase();
        if lower.ends_with(".csv") {
            return Self::Csv;
        }
        if lower.ends_with(".ndjson") || lower.ends_with(".jsonl") || lower.ends_with(".json") {
            return Self::Ndjson;
        }
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => Self::Ndjson,
            _ => Self::Csv,
        }
    }
}

/// What a row does not say itself.
#[derive(Debug, Clone)]
pub struct BotnetDefaults {
    /// The product of rows that do not name one (CTIP's `DataFeed` and
    /// Shadowserver's columns name it).
    pub product: Option<BotnetProduct>,
    pub source: String,
    pub marking: Tlp,
    /// The time of rows without one.
    pub received_at: Timestamp,
}

/// Reads events a line at a time.
#[derive(Debug)]
pub struct BotnetParser {
    fields: FieldReader,
    defaults: BotnetDefaults,
}

impl BotnetParser {
    pub fn new(format: BotnetInputFormat, defaults: BotnetDefaults) -> Self {
        let csv = format == BotnetInputFormat::Csv;
        BotnetParser {
            fields: FieldReader::new(csv),
            defaults,
        }
    }

    /// The number of the line read last (1-based).
    pub fn line_number(&self) -> usize {
        self.fields.line_number()
    }

    /// Reads the next line. `None` for blank lines, `#` comments and the
    /// CSV header.
    pub fn line(&mut self, text: &str) -> Option<Result<BotnetEvent, RowError>> {
        let line = self.fields.line_number() + 1;
        let fields = self.fields.line(text)?;
        Some(
            fields
                .and_then(|f| event(&f, &self.defaults))
                .map_err(|message| RowError { line, message }),
        )
    }
}

pub fn parse_events(
    bytes: &[u8],
    format: BotnetInputFormat,
    defaults: BotnetDefaults,
) -> Vec<Result<BotnetEvent, RowError>> {
    let text = String::from_utf8_lossy(bytes);
    let mut p = BotnetParser::new(format, defaults);
    text.lines().filter_map(|l| p.line(l)).collect()
}

/// A time as sources write it; also Windows FILETIME ticks (CTIP's
/// `DateTimeReceivedUtc` in the Azure stream).
/// `None` for text that is no time, or a time outside the years 1970–9999.
fn time(text: &str) -> Option<Timestamp> {
    let t = text.trim();
    if let Ok(n) = t.parse::<i64>() {
        if n > 10_000_000_000_000_000 {
            // 100 ns ticks since 1601-01-01.
            const UNIX_EPOCH_TICKS: i64 = 116_444_736_000_000_000;
            return Timestamp::checked_from_micros((n - UNIX_EPOCH_TICKS) / 10).ok();
        }
    }
    // CTIP's text form: `2019-04-30 08:00:02Z` or with fractions.
    parse_time(t).or_else(|| parse_time(&t.replacen(' ', "T", 1)))
}

fn product_of(
    f: &HashMap<String, String>,
    defaults: &BotnetDefaults,
) -> Result<BotnetProduct, String> {
    if let Some(p) = pick(f, &["product", "feed"]) {
        return BotnetProduct::from_any(p).map_err(|e| e.to_string());
    }
    if let Some(feed) = pick(f, &["datafeed"]) {
        let l = feed.to_ascii_lowercase();
        return Ok(if l.contains("c2") {
            BotnetProduct::C2
        } else if l.contains("iot") {
            BotnetProduct::Iot
        } else {
            BotnetProduct::Infected
        });
    }
    if f.contains_key("infection") || (f.contains_key("src_ip") && f.contains_key("family")) {
        // Shadowserver sinkhole events: IoT when a device type or tag says so.
        let iot = pick(f, &["device_type"]).is_some()
            || pick(f, &["tag"]).is_some_and(|t| t.to_ascii_lowercase().contains("iot"));
        return Ok(if iot {
            BotnetProduct::Iot
        } else {
            BotnetProduct::Infected
        });
    }
    defaults.product.ok_or_else(|| {
        "the row names no product (give one, e.g. --product botnet-infected)".to_owned()
    })
}

fn confidence(text: &str) -> Result<u8, String> {
    match text.to_ascii_lowercase().as_str() {
        "high" => Ok(100),
        "medium" => Ok(50),
        "low" => Ok(20),
        "informational" | "info" => Ok(10),
        n => n.parse::<u8>().ok().filter(|c| *c <= 100).ok_or_else(|| {
            format!("confidence {text:?}: expected 0–100 or High/Medium/Low/Informational")
        }),
    }
}

fn parse_ip(field: &str, text: &str) -> Result<IpAddr, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{field} {text:?} is not an IP address"))
}

fn parse_port(field: &str, text: &str) -> Result<u16, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{field} {text:?} is not a port (0–65535)"))
}

fn event(f: &HashMap<String, String>, defaults: &BotnetDefaults) -> Result<BotnetEvent, String> {
    let product = product_of(f, defaults)?;
    let seen = |names: &[&str], what: &str| {
        pick(f, names)
            .map(|t| {
                time(t).ok_or_else(|| {
                    format!("{what} {t:?}: expected RFC 3339, YYYY-MM-DD HH:MM:SS, Unix seconds or FILETIME ticks, between the years 1970 and 9999")
                })
            })
            .transpose()
    };
    let first = seen(&["first_seen", "firstseen"], "first seen")?;
    let last = seen(&["last_seen", "lastseen", "last_online"], "last seen")?;
    let at = seen(
        &[
            "seen_at",
            "time",
            "timestamp",
            "datetimereceivedutc",
            "datetimereceivedutctxt",
            "date",
        ],
        "time",
    )?
    .or(last)
    .or(first)
    .unwrap_or(defaults.received_at);
    let source = pick(f, &["source"]).unwrap_or(&defaults.source);
    let mut e = BotnetEvent::new(product, at, source);
    e.marking = defaults.marking;
    let opt = |names: &[&str]| pick(f, names).map(str::to_owned);
    let ip_names: &[&str] = &[
        "ip",
        "src_ip",
        "sourceip",
        "source_ip",
        "c2_ip",
        "ip_address",
    ];
    e.ip = pick(f, ip_names).map(|t| parse_ip("ip", t)).transpose()?;
    e.port = pick(
        f,
        &["port", "src_port", "sourceport", "source_port", "c2_port"],
    )
    .map(|t| parse_port("port", t))
    .transpose()?;
    e.dst_ip = pick(f, &["dst_ip", "destinationip", "destination_ip"])
        .map(|t| parse_ip("destination IP", t))
        .transpose()?;
    e.dst_port = pick(f, &["dst_port", "destinationport", "destination_port"])
        .map(|t| parse_port("destination port", t))
        .transpose()?;
    e.domain = pick(
        f,
        &["domain", "hostname", "c2_domain", "host", "src_hostname"],
    )
    .map(|d| DomainName::new(d).map_err(|e| e.to_string()))
    .transpose()?;
    if let Some(fam) = pick(f, &["family", "malware", "malware_family", "infection"]) {
        e.family = fam.to_owned();
    }
    e.threat_code = opt(&["threat_code", "threatcode", "infection"]);
    e.confidence = pick(f, &["confidence", "threatconfidence"])
        .map(confidence)
        .transpose()?;
    e.protocol = opt(&["protocol", "transport"]);
    e.sensor = opt(&["sensor", "sourcedfrom", "public_source", "sinkhole"]);
    e.device_type = opt(&["device_type", "devicetype"]);
    e.status = opt(&["status", "c2_status"]);
    e.purpose = opt(&["purpose"]);
    e.asn = pick(f, &["asn", "src_asn", "sourceipasnnumber", "as_number"])
        .filter(|a| *a != "0")
        .map(|a| {
            a.trim_start_matches("AS")
                .parse::<Asn>()
                .map_err(|e| e.to_string())
        })
        .transpose()?;
    e.country = pick(
        f,
        &["country", "src_geo", "sourceipcountrycode", "country_code"],
    )
    .filter(|c| c.len() == 2 && !c.eq_ignore_ascii_case("zz"))
    .map(|c| c.parse::<CountryCode>().map_err(|e| e.to_string()))
    .transpose()?;
    let coord = |names: &[&str]| -> Result<Option<f64>, String> {
        pick(f, names)
            .map(|t| {
                t.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| format!("coordinate {t:?} is not a finite number"))
            })
            .transpose()
    };
    e.latitude = coord(&["latitude", "lat", "sourceiplatitude"])?;
    e.longitude = coord(&["longitude", "lon", "lng", "sourceiplongitude"])?;
    if let Some(n) = pick(f, &["count", "totalencounters"]) {
        e.count = n
            .parse()
            .map_err(|_| format!("count {n:?} is not a whole number"))?;
    }
    e.first_seen = first.unwrap_or(at).min(at);
    e.last_seen = last.unwrap_or(at).max(at);
    if let Some(t) = pick(f, &["tlp", "marking"]) {
        e.marking = t
            .parse()
            .map_err(|e: isx_domain::DomainError| e.to_string())?;
    }
    let e = e.validate().map_err(|e| e.to_string())?;
    let latest = e.last_seen.max(e.seen_at);
    if latest
        > defaults
            .received_at
            .add_secs(isx_domain::MAX_CLOCK_SKEW_SECS)
    {
        return Err(format!(
            "seen at {latest}: in the future (more than {} s after now)",
            isx_domain::MAX_CLOCK_SKEW_SECS
        ));
    }
    Ok(e)
}
