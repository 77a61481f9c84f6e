//! Deduplicated batches: one row per (product, IP, port, family,
//! destination, domain) with a count and first/last seen.

use std::collections::HashMap;
use std::net::IpAddr;

use isx_domain::{Asn, BotnetProduct, CountryCode, DomainName, Timestamp, Tlp};
use serde::Serialize;

use crate::BotnetEvent;

/// What makes two events the same row of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DedupKey {
    pub product: BotnetProduct,
    pub ip: Option<IpAddr>,
    pub port: Option<u16>,
    pub family: String,
    pub dst_ip: Option<IpAddr>,
    pub dst_port: Option<u16>,
    pub domain: Option<DomainName>,
}

impl DedupKey {
    pub fn of(e: &BotnetEvent) -> Self {
        DedupKey {
            product: e.product,
            ip: e.ip,
            port: e.port,
            family: e.family.clone(),
            dst_ip: e.dst_ip,
            dst_port: e.dst_port,
            domain: e.domain.clone(),
        }
    }
}

/// One row of a batch. Descriptive fields come from the latest event; the
/// marking is the strictest of the events merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DedupRow {
    #[serde(flatten)]
    pub key: DedupKey,
    pub count: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub asn: Option<Asn>,
    pub country: Option<CountryCode>,
    pub threat_code: Option<String>,
    pub protocol: Option<String>,
    pub device_type: Option<String>,
    pub status: Option<String>,
    pub purpose: Option<String>,
    pub confidence: Option<u8>,
    pub marking: Tlp,
}

impl Serialize for DedupKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("product", &self.product)?;
        m.serialize_entry("ip", &self.ip)?;
        m.serialize_entry("port", &self.port)?;
        m.serialize_entry("family", &self.family)?;
        m.serialize_entry("dst_ip", &self.dst_ip)?;
        m.serialize_entry("dst_port", &self.dst_port)?;
        m.serialize_entry("domain", &self.domain)?;
        m.end()
    }
}

/// Merges events into rows.
#[derive(Debug, Default)]
pub struct Deduplicator {
    rows: HashMap<DedupKey, DedupRow>,
    events: u64,
}

impl Deduplicator {
    pub fn add(&mut self, e: &BotnetEvent) {
        self.events += 1;
        let key = DedupKey::of(e);
        match self.rows.get_mut(&key) {
            Some(row) => {
                row.count += u64::from(e.count);
                row.first_seen = row.first_seen.min(e.first_seen);
                if e.last_seen >= row.last_seen {
                    row.last_seen = e.last_seen;
                    row.asn = e.asn.or(row.asn);
                    row.country = e.country.or(row.country);
                    fill(&mut row.threat_code, &e.threat_code);
                    fill(&mut row.protocol, &e.protocol);
                    fill(&mut row.device_type, &e.device_type);
                    fill(&mut row.status, &e.status);
                    fill(&mut row.purpose, &e.purpose);
                }
                row.confidence = row.confidence.max(e.confidence);
                row.marking = row.marking.max(e.marking);
            }
            None => {
                self.rows.insert(
                    key.clone(),
                    DedupRow {
                        key,
                        count: u64::from(e.count),
                        first_seen: e.first_seen,
                        last_seen: e.last_seen,
                        asn: e.asn,
                        country: e.country,
                        threat_code: e.threat_code.clone(),
                        protocol: e.protocol.clone(),
                        device_type: e.device_type.clone(),
                        status: e.status.clone(),
                        purpose: e.purpose.clone(),
                        confidence: e.confidence,
                        marking: e.marking,
                    },
                );
            }
        }
    }

    /// How many events were added.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The rows in key order.
    pub fn finish(self) -> Vec<DedupRow> {
        let mut rows: Vec<DedupRow> = self.rows.into_values().collect();
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        rows
    }
}

fn fill(slot: &mut Option<String>, newer: &Option<String>) {
    if newer.is_some() {
        slot.clone_from(newer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_merges_counts_and_times() {
        let t = Timestamp::from_secs(1_700_000_000);
        let mut a = BotnetEvent::new(BotnetProduct::Infected, t, "s");
        a.ip = Some("192.0.2.1".parse().expect("ip"));
        a.port = Some(4444);
        a.family = "emotet".into();
        a.count = 3;
        let mut b = a.clone();
        b.seen_at = t.add_secs(60);
        b.first_seen = b.seen_at;
        b.last_seen = b.seen_at;
        b.marking = Tlp::Red;
        b.count = 1;
        b.protocol = Some("tcp".into());
        let mut other = a.clone();
        other.port = Some(4445);
        let mut d = Deduplicator::default();
        for e in [&b, &a, &other] {
            d.add(e);
        }
        assert_eq!(d.events(), 3);
        let rows = d.finish();
        assert_eq!(rows.len(), 2);
        let r = &rows[0];
        assert_eq!((r.key.port, r.count), (Some(4444), 4));
        assert_eq!((r.first_seen, r.last_seen), (t, t.add_secs(60)));
        assert_eq!(r.marking, Tlp::Red);
        assert_eq!(r.protocol.as_deref(), Some("tcp"));
    }
}
