//! Botnet files: deduplicated batches, firewall lists and the RPZ zone.

use std::io::{self, Write};
use std::net::IpAddr;

use ipnet::IpNet;
use isx_botnet::indicator::{self, IndicatorLink, IndicatorState};
use isx_botnet::{BotnetEvent, DedupRow};
use isx_domain::{BotnetProduct, Timestamp, Tlp};
use serde_json::{json, Value};

use crate::feed::FeedFormat;
use crate::stix;

const CSV_COLUMNS: [&str; 19] = [
    "product",
    "ip",
    "port",
    "family",
    "dst_ip",
    "dst_port",
    "domain",
    "count",
    "first_seen",
    "last_seen",
    "asn",
    "country",
    "threat_code",
    "protocol",
    "device_type",
    "status",
    "purpose",
    "confidence",
    "tlp",
];

/// Writes deduplicated rows in one of the feed formats, streaming.
pub struct BatchWriter<W: Write> {
    frame: crate::feed::FeedFrame<W>,
}

impl<W: Write> BatchWriter<W> {
    /// Starts a file; `bundle_key` makes the STIX bundle id deterministic.
    pub fn new(out: W, format: FeedFormat, instance: &str, bundle_key: &str) -> io::Result<Self> {
        Ok(BatchWriter {
            frame: crate::feed::FeedFrame::new(out, format, instance, bundle_key, &CSV_COLUMNS)?,
        })
    }

    pub fn write(&mut self, r: &DedupRow) -> io::Result<()> {
        match self.frame.format() {
            FeedFormat::Json | FeedFormat::Ndjson => self.frame.json(r, r.marking),
            FeedFormat::Csv => {
                let o = |v: Option<String>| v.unwrap_or_default();
                let k = &r.key;
                let cells = [
                    k.product.as_str().to_owned(),
                    o(k.ip.map(|v| v.to_string())),
                    o(k.port.map(|v| v.to_string())),
                    k.family.clone(),
                    o(k.dst_ip.map(|v| v.to_string())),
                    o(k.dst_port.map(|v| v.to_string())),
                    o(k.domain.as_ref().map(|d| d.as_str().to_owned())),
                    r.count.to_string(),
                    r.first_seen.to_rfc3339(),
                    r.last_seen.to_rfc3339(),
                    o(r.asn.map(|a| a.get().to_string())),
                    o(r.country.map(|c| c.to_string())),
                    o(r.threat_code.clone()),
                    o(r.protocol.clone()),
                    o(r.device_type.clone()),
                    o(r.status.clone()),
                    o(r.purpose.clone()),
                    o(r.confidence.map(|c| c.to_string())),
                    r.marking.as_str().to_owned(),
                ];
                self.frame.csv(cells.iter().map(String::as_str), r.marking)
            }
            FeedFormat::Stix => {
                let objects = stix_objects(r, self.frame.identity());
                self.frame.stix(&objects, r.marking)
            }
        }
    }

    /// Ends the file: the writer, the number of rows, the strictest marking.
    pub fn finish(self) -> io::Result<(W, u64, Option<Tlp>)> {
        self.frame.finish()
    }
}

fn ip_sco(ip: IpAddr) -> Value {
    let kind = if ip.is_ipv4() {
        "ipv4-addr"
    } else {
        "ipv6-addr"
    };
    let value = ip.to_string();
    json!({
        "type": kind,
        "spec_version": "2.1",
        "id": stix::sco_id(kind, &json!({"value": value})),
        "value": value,
    })
}

/// The STIX objects of one row: C2 servers and malicious domains are
/// indicators (IP or domain-name patterns); infected machines and IoT
/// devices are observed-data over the address and its network traffic.
/// How long a botnet indicator stays valid after its last sighting: a
/// day, the period of the daily batch (a SIEM drops it then unless a
/// later sighting renews it).
pub const VALID_FOR_SECS: i64 = 86_400;

/// `valid_until` of an indicator first seen at `first`, last at `last`:
/// a day after the last sighting, and always after `valid_from`.
fn valid_until(first: Timestamp, last: Timestamp) -> Timestamp {
    last.max(first).add_secs(VALID_FOR_SECS)
}

pub fn stix_objects(r: &DedupRow, identity: &str) -> Vec<Value> {
    let k = &r.key;
    let created = stix::timestamp(r.first_seen);
    let modified = stix::timestamp(r.last_seen.max(r.first_seen));
    let marking = [stix::tlp_marking_id(r.marking)];
    match k.product {
        BotnetProduct::C2 | BotnetProduct::Domains => {
            let mut terms = Vec::new();
            if let Some(ip) = k.ip {
                let kind = if ip.is_ipv4() {
                    "ipv4-addr"
                } else {
                    "ipv6-addr"
                };
                terms.push(format!(
                    "{kind}:value = {}",
                    stix::pattern_string(&ip.to_string())
                ));
            }
            if let Some(d) = &k.domain {
                terms.push(format!(
                    "domain-name:value = {}",
                    stix::pattern_string(d.as_str())
                ));
            }
            let subject = k
                .domain
                .as_ref()
                .map(|d| d.as_str().to_owned())
                .or_else(|| k.ip.map(|i| i.to_string()))
                .unwrap_or_default();
            let what = if k.product == BotnetProduct::C2 {
                "command-and-control server"
            } else {
                "malicious domain"
            };
            let pattern = terms
                .iter()
                .map(|t| format!("[{t}]"))
                .collect::<Vec<_>>()
                .join(" OR ");
            let mut o = json!({
                "type": "indicator",
                "spec_version": "2.1",
                "id": stix::object_id("indicator", &format!("{}:{subject}:{}:{}", k.product, k.port.unwrap_or(0), k.family)),
                "created_by_ref": identity,
                "created": created,
                "modified": modified,
                "name": format!("{} {what} {subject}", k.family),
                "description": format!("Seen {} time(s) between {} and {}.", r.count, r.first_seen, r.last_seen),
                "indicator_types": ["malicious-activity"],
                "pattern": pattern,
                "pattern_type": "stix",
                "pattern_version": "2.1",
                "valid_from": created,
                "labels": [k.product.as_str(), k.family.as_str()],
                "object_marking_refs": marking,
            });
            if let Some(c) = r.confidence {
                stix::set(&mut o, "confidence", json!(c));
            }
            stix::set(
                &mut o,
                "valid_until",
                json!(stix::timestamp(valid_until(r.first_seen, r.last_seen))),
            );
            vec![o]
        }
        BotnetProduct::Infected | BotnetProduct::Iot => {
            let Some(ip) = k.ip else {
                return Vec::new();
            };
            let src = ip_sco(ip);
            let mut objects = vec![src.clone()];
            let src_id = src.get("id").cloned().unwrap_or_default();
            let mut refs = vec![src_id.clone()];
            let dst = k.dst_ip.map(ip_sco);
            let protocol = r
                .protocol
                .clone()
                .unwrap_or_else(|| "tcp".to_owned())
                .to_ascii_lowercase();
            let mut traffic = json!({
                "type": "network-traffic",
                "spec_version": "2.1",
                "src_ref": src_id,
                "protocols": [protocol],
            });
            if let Some(d) = &dst {
                let dst_id = d.get("id").cloned().unwrap_or_default();
                stix::set(&mut traffic, "dst_ref", dst_id.clone());
                objects.push(d.clone());
                refs.push(dst_id);
            }
            if let Some(p) = k.port {
                stix::set(&mut traffic, "src_port", json!(p));
            }
            if let Some(p) = k.dst_port {
                stix::set(&mut traffic, "dst_port", json!(p));
            }
            let contributing = json!({
                "src_ref": traffic.get("src_ref"), "dst_ref": traffic.get("dst_ref"),
                "src_port": traffic.get("src_port"), "dst_port": traffic.get("dst_port"),
                "protocols": traffic.get("protocols"),
            });
            let traffic_id = json!(stix::sco_id("network-traffic", &contributing));
            stix::set(&mut traffic, "id", traffic_id.clone());
            refs.push(traffic_id);
            objects.push(traffic);
            objects.push(json!({
                "type": "observed-data",
                "spec_version": "2.1",
                "id": stix::object_id("observed-data", &format!("{}:{ip}:{}:{}:{:?}:{:?}:{}", k.product, k.port.unwrap_or(0), k.family, k.dst_ip, k.dst_port, r.first_seen)),
                "created_by_ref": identity,
                "created": created,
                "modified": modified,
                "first_observed": created,
                "last_observed": modified,
                "number_observed": r.count.clamp(1, 999_999_999),
                "object_refs": refs,
                "labels": [k.product.as_str(), k.family.as_str()],
                "object_marking_refs": marking,
            }));
            objects
        }
    }
}

/// Makes `o` (a C2 or domain indicator of one event) the version `v` of
/// its key's followed indicator (`isx_botnet::indicator`): the key's id
/// for the generation, created when the generation began, modified at
/// the event's sighting; the final version revoked, valid until then.
fn followed_version(o: &mut Value, e: &BotnetEvent, v: &IndicatorState) {
    let key = format!(
        "isx-botnet-indicator:{}#{}",
        indicator::key(e),
        v.generation
    );
    stix::set(o, "id", json!(stix::object_id("indicator", &key)));
    stix::set(o, "created", json!(stix::timestamp(v.created)));
    stix::set(
        o,
        "modified",
        json!(stix::timestamp(v.modified.max(v.created))),
    );
    stix::set(o, "valid_from", json!(stix::timestamp(v.created)));
    if v.revoked {
        stix::set(o, "revoked", json!(true));
        stix::set(
            o,
            "valid_until",
            json!(stix::timestamp(v.modified.max(v.created.add_secs(1)))),
        );
    } else {
        stix::set(
            o,
            "valid_until",
            json!(stix::timestamp(v.modified.add_secs(VALID_FOR_SECS))),
        );
    }
}

/// The STIX objects of one stored event for TAXII, each with its offset
/// in microseconds from the event's arrival (its `date_added`): C2 servers
/// and malicious domains are one indicator (as in the batches); an infected
/// machine or IoT device is an indicator of the compromised address
/// (`indicator_types: ["compromised"]`, offset 0) and a sighting of it with
/// the count, first and last seen (offset 1). Ids derive from the event id,
/// so each object has one version.
pub fn stix_event(
    e: &BotnetEvent,
    link: &IndicatorLink,
    event_id: i64,
    identity: &str,
) -> Vec<(i64, Value)> {
    let mut d = isx_botnet::Deduplicator::default();
    d.add(e);
    let Some(row) = d.finish().into_iter().next() else {
        return Vec::new();
    };
    let key = format!("isx-botnet-event:{event_id}");
    match (e.product, link) {
        (BotnetProduct::C2 | BotnetProduct::Domains, IndicatorLink::Silent) => Vec::new(),
        (BotnetProduct::C2 | BotnetProduct::Domains, IndicatorLink::Version(v)) => {
            stix_objects(&row, identity)
                .into_iter()
                .map(|mut o| {
                    followed_version(&mut o, e, v);
                    (0, o)
                })
                .collect()
        }
        (BotnetProduct::C2 | BotnetProduct::Domains, IndicatorLink::PerEvent) => {
            stix_objects(&row, identity)
                .into_iter()
                .map(|mut o| {
                    stix::set(&mut o, "id", json!(stix::object_id("indicator", &key)));
                    (0, o)
                })
                .collect()
        }
        (BotnetProduct::Infected | BotnetProduct::Iot, _) => {
            let Some(ip) = e.ip else {
                return Vec::new();
            };
            let kind = if ip.is_ipv4() {
                "ipv4-addr"
            } else {
                "ipv6-addr"
            };
            let created = stix::timestamp(e.first_seen.min(e.seen_at));
            let marking = [stix::tlp_marking_id(e.marking)];
            let what = if e.product == BotnetProduct::Iot {
                format!("{} device", e.device_type.as_deref().unwrap_or("IoT"))
            } else {
                "machine".to_owned()
            };
            let indicator_id = stix::object_id("indicator", &key);
            let mut pattern = format!("[{kind}:value = {}]", stix::pattern_string(&ip.to_string()));
            if let Some(p) = e.port {
                pattern = format!(
                    "[network-traffic:src_ref.value = {} AND network-traffic:src_port = {p}]",
                    stix::pattern_string(&ip.to_string())
                );
            }
            let mut indicator = json!({
                "type": "indicator",
                "spec_version": "2.1",
                "id": indicator_id,
                "created_by_ref": identity,
                "created": created,
                "modified": created,
                "name": format!("{} {what} {ip}", e.family),
                "description": format!("Infected with {}; seen at {} by {}.", e.family, e.seen_at, e.source),
                "indicator_types": ["compromised"],
                "pattern": pattern,
                "pattern_type": "stix",
                "pattern_version": "2.1",
                "valid_from": created,
                "valid_until": stix::timestamp(valid_until(e.first_seen.min(e.seen_at), e.seen_at.max(e.last_seen))),
                "labels": [e.product.as_str(), e.family.as_str()],
                "object_marking_refs": marking,
            });
            if let Some(c) = e.confidence {
                stix::set(&mut indicator, "confidence", json!(c));
            }
            let mut ext = serde_json::Map::new();
            ext.insert("extension_type".into(), json!("property-extension"));
            ext.insert("product".into(), json!(e.product.as_str()));
            ext.insert("family".into(), json!(e.family));
            ext.insert("src_ip".into(), json!(ip.to_string()));
            for (k, v) in [
                ("src_port", e.port.map(|p| json!(p))),
                ("dst_ip", e.dst_ip.map(|a| json!(a.to_string()))),
                ("dst_port", e.dst_port.map(|p| json!(p))),
                ("protocol", e.protocol.as_ref().map(|p| json!(p))),
                ("device_type", e.device_type.as_ref().map(|p| json!(p))),
                ("asn", e.asn.map(|a| json!(a.get()))),
                ("country", e.country.map(|c| json!(c.to_string()))),
                ("sensor", e.sensor.as_ref().map(|p| json!(p))),
            ] {
                if let Some(v) = v {
                    ext.insert(k.into(), v);
                }
            }
            let sighting = json!({
                "type": "sighting",
                "spec_version": "2.1",
                "id": stix::object_id("sighting", &key),
                "created_by_ref": identity,
                "created": created,
                "modified": created,
                "sighting_of_ref": indicator_id,
                "count": e.count.clamp(1, 999_999_999),
                "first_seen": stix::timestamp(e.first_seen),
                "last_seen": stix::timestamp(e.last_seen.max(e.first_seen)),
                "object_marking_refs": marking,
                "extensions": { stix::ISX_EXTENSION: ext },
            });
            vec![(0, indicator), (1, sighting)]
        }
    }
}

/// Firewall export formats of C2 addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirewallFormat {
    /// One address per line.
    Plain,
    /// Adjacent and covered addresses merged into CIDR blocks, one per line.
    Cidr,
    /// An nftables script that fills the sets `isx_c2_v4` and `isx_c2_v6`
    /// of table `inet isx` (`nft -f FILE`).
    Nftables,
    /// `ipset restore` input for the sets `isx-c2-v4` and `isx-c2-v6`.
    Ipset,
}

impl FirewallFormat {
    pub const ALL: [FirewallFormat; 4] = [Self::Plain, Self::Cidr, Self::Nftables, Self::Ipset];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Cidr => "cidr",
            Self::Nftables => "nftables",
            Self::Ipset => "ipset",
        }
    }

    pub fn file_suffix(self) -> &'static str {
        match self {
            Self::Plain => "ips.txt",
            Self::Cidr => "cidr.txt",
            Self::Nftables => "nft",
            Self::Ipset => "ipset",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// Merges addresses into the fewest CIDR blocks that cover exactly them.
pub fn aggregate(ips: &[IpAddr]) -> Vec<IpNet> {
    let nets: Vec<IpNet> = ips.iter().map(|ip| IpNet::from(*ip)).collect();
    IpNet::aggregate(&nets)
}

/// A firewall file of `ips` (any order, repeats allowed). `header` lines
/// become comments.
pub fn firewall(format: FirewallFormat, ips: &[IpAddr], header: &[String]) -> String {
    let mut sorted = ips.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    for h in header {
        out.push_str("# ");
        out.push_str(h);
        out.push('\n');
    }
    match format {
        FirewallFormat::Plain => {
            for ip in &sorted {
                out.push_str(&ip.to_string());
                out.push('\n');
            }
        }
        FirewallFormat::Cidr => {
            for n in aggregate(&sorted) {
                out.push_str(&n.to_string());
                out.push('\n');
            }
        }
        FirewallFormat::Nftables => {
            let nets = aggregate(&sorted);
            out.push_str("# Load with: nft -f FILE. Then drop traffic to the sets, e.g.\n");
            out.push_str(
                "#   nft add chain inet isx out '{ type filter hook output priority 0; }'\n",
            );
            out.push_str("#   nft add rule inet isx out ip daddr @isx_c2_v4 drop\n");
            out.push_str("table inet isx {\n");
            out.push_str("\tset isx_c2_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t}\n");
            out.push_str("\tset isx_c2_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t}\n}\n");
            out.push_str("flush set inet isx isx_c2_v4\nflush set inet isx isx_c2_v6\n");
            for (set, v4) in [("isx_c2_v4", true), ("isx_c2_v6", false)] {
                let elems: Vec<String> = nets
                    .iter()
                    .filter(|n| matches!(n, IpNet::V4(_)) == v4)
                    .map(|n| match n.prefix_len() == n.max_prefix_len() {
                        true => n.addr().to_string(),
                        false => n.to_string(),
                    })
                    .collect();
                for chunk in elems.chunks(1000) {
                    out.push_str(&format!(
                        "add element inet isx {set} {{ {} }}\n",
                        chunk.join(", ")
                    ));
                }
            }
        }
        FirewallFormat::Ipset => {
            let nets = aggregate(&sorted);
            for (set, family, v4) in [("isx-c2-v4", "inet", true), ("isx-c2-v6", "inet6", false)] {
                out.push_str(&format!(
                    "create {set} hash:net family {family} -exist\nflush {set}\n"
                ));
                for n in nets.iter().filter(|n| matches!(n, IpNet::V4(_)) == v4) {
                    out.push_str(&format!("add {set} {n} -exist\n"));
                }
            }
        }
    }
    out
}

/// A response-policy zone (RPZ) for protective DNS: each domain and its
/// subdomains answer NXDOMAIN (`CNAME .`), and answers that contain a C2
/// address are rewritten the same way (`rpz-ip` triggers). Owner names are
/// relative, so the operator names the zone (e.g. `rpz.isx.`).
pub fn rpz_zone(domains: &[String], ips: &[IpAddr], serial: u32, header: &[String]) -> String {
    let mut out = String::new();
    for h in header {
        out.push_str("; ");
        out.push_str(h);
        out.push('\n');
    }
    out.push_str("$TTL 300\n");
    out.push_str(&format!(
        "@ IN SOA localhost. hostmaster.localhost. ({serial} 3600 600 86400 300)\n@ IN NS localhost.\n"
    ));
    let mut names: Vec<&String> = domains.iter().collect();
    names.sort();
    names.dedup();
    for d in names {
        out.push_str(&format!("{d} CNAME .\n*.{d} CNAME .\n"));
    }
    let mut sorted = ips.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    for ip in sorted {
        out.push_str(&format!("{} CNAME .\n", rpz_ip_owner(ip)));
    }
    out
}

/// The owner name of an `rpz-ip` trigger: prefix length, then the address
/// reversed (`32.1.2.0.192.rpz-ip`; IPv6 groups reversed, `zz` for `::`).
fn rpz_ip_owner(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            format!("32.{}.{}.{}.{}.rpz-ip", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(a) => {
            let groups: Vec<String> = a
                .segments()
                .iter()
                .rev()
                .map(|g| format!("{g:x}"))
                .collect();
            format!("128.{}.rpz-ip", groups.join("."))
        }
    }
}
