//! Demo botnet events: three days of sinkhole hits from infected machines
//! and IoT devices in the demo members' networks (documentation address
//! space, RFC 5737/3849), C2 servers in the benchmarking range (RFC 2544)
//! and malicious domains under reserved top-level domains. Fixed seed:
//! every demo looks the same.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use isx_botnet::BotnetEvent;
use isx_domain::{BotnetProduct, DomainName, Tlp};

use super::demo_urls::Rng;
use super::Ctx;

/// Where victims sit: a network prefix (first three octets or an IPv6
/// /48), the country, coordinates, the documentation ASN.
const NETWORKS: &[(&str, &str, f64, f64, u32)] = &[
    ("192.0.2", "NL", 52.37, 4.90, 64496),
    ("198.51.100", "NL", 51.92, 4.48, 64497),
    ("203.0.113", "NL", 53.22, 6.57, 64500),
    ("2001:db8:4001", "BE", 51.22, 4.40, 64499),
    ("2001:db8:17", "NL", 52.09, 5.12, 64496),
];
const FAMILIES: &[&str] = &["emotet", "qakbot", "andromeda", "conficker", "pikabot"];
const IOT_FAMILIES: &[(&str, &str)] = &[("mirai", "camera"), ("mozi", "router"), ("gafgyt", "dvr")];
const DOMAIN_PURPOSES: &[&str] = &["c2", "dga", "payload", "phishing-kit"];

fn ip_in(prefix: &str, host: u64) -> IpAddr {
    if prefix.contains(':') {
        let base: Ipv6Addr = format!("{prefix}::").parse().unwrap_or(Ipv6Addr::LOCALHOST);
        IpAddr::V6(Ipv6Addr::from(u128::from(base) | u128::from(host & 0xffff)))
    } else {
        format!("{prefix}.{}", 1 + host % 254)
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }
}

/// A command-and-control server: address, port, malware family.
type C2 = (IpAddr, u16, &'static str);

/// Generates the demo events relative to `now`: infected machines and IoT
/// devices calling the C2 servers, the servers themselves, and malicious
/// domains, all from one generator in that order.
pub fn generate(now: isx_domain::Timestamp, count: usize, seed: u64) -> Vec<BotnetEvent> {
    let mut rng = Rng(seed);
    let mut out = Vec::with_capacity(count + 80);
    let c2 = c2_servers();
    for i in 0..count {
        out.push(victim(i, now, &c2, &mut rng));
    }
    for (i, server) in c2.iter().enumerate() {
        out.push(c2_event(i, server, now, &mut rng));
    }
    for i in 0..30u64 {
        out.push(domain_event(i, now, &mut rng));
    }
    out.into_iter().filter_map(|e| e.validate().ok()).collect()
}

/// 24 C2 servers in the benchmarking range, every sixth on IPv6.
fn c2_servers() -> Vec<C2> {
    (0..24)
        .map(|i| {
            let ip = if i % 6 == 5 {
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0x100 + i))
            } else {
                IpAddr::V4(Ipv4Addr::new(
                    198,
                    18,
                    (i / 8) as u8,
                    10 + (i % 8) as u8 * 3,
                ))
            };
            (
                ip,
                [443u16, 8080, 447, 2222][i as usize % 4],
                FAMILIES[i as usize % FAMILIES.len()],
            )
        })
        .collect()
}

/// A sinkhole hit from an infected machine (or, one in four, an IoT device).
fn victim(i: usize, now: isx_domain::Timestamp, c2: &[C2], rng: &mut Rng) -> BotnetEvent {
    let secs = rng.below(3 * 86_400) as i64;
    let at = now.add_secs(-secs - 60);
    let net = rng.pick(NETWORKS);
    let iot = rng.below(4) == 0;
    let (product, family, device) = if iot {
        let (f, d) = rng.pick(IOT_FAMILIES);
        (BotnetProduct::Iot, *f, Some(*d))
    } else {
        (BotnetProduct::Infected, *rng.pick(FAMILIES), None)
    };
    let source = if i.is_multiple_of(3) {
        "partner-sensors"
    } else {
        "isx-sinkhole"
    };
    let mut e = BotnetEvent::new(product, at, source);
    // A few hosts per network do most of the talking.
    e.ip = Some(ip_in(net.0, rng.below(40) * rng.below(6)));
    e.port = Some(49_152 + rng.below(16_000) as u16);
    let (c2_ip, c2_port, _) = c2[rng.below(c2.len() as u64) as usize];
    e.dst_ip = Some(c2_ip);
    e.dst_port = Some(c2_port);
    e.family = family.to_owned();
    e.device_type = device.map(str::to_owned);
    e.protocol = Some(if iot { "udp" } else { "tcp" }.to_owned());
    e.sensor = Some("sinkhole-ams-1".to_owned());
    e.country = net.1.parse().ok();
    e.asn = isx_domain::Asn::new(net.4).ok();
    e.latitude = Some(net.2 + (rng.below(100) as f64 - 50.0) / 200.0);
    e.longitude = Some(net.3 + (rng.below(100) as f64 - 50.0) / 200.0);
    e.confidence = Some(if iot { 80 } else { 95 });
    e.count = 1 + rng.below(5) as u32;
    e.threat_code = Some(format!("B-{}", family.to_uppercase()));
    e.marking = Tlp::Amber;
    e
}

/// A C2 tracker's report of the `i`th server.
fn c2_event(i: usize, server: &C2, now: isx_domain::Timestamp, rng: &mut Rng) -> BotnetEvent {
    let (ip, port, family) = *server;
    let seen = now.add_secs(-(rng.below(2 * 86_400) as i64) - 120);
    let mut e = BotnetEvent::new(BotnetProduct::C2, seen, "c2-tracker");
    e.ip = Some(ip);
    e.port = Some(port);
    e.family = family.to_owned();
    e.first_seen = seen.add_secs(-(rng.below(20) as i64 + 1) * 86_400);
    e.status = Some(if i % 7 == 3 { "offline" } else { "online" }.to_owned());
    e.domain = DomainName::new(&format!("panel{i}.c2-{family}.test")).ok();
    e.marking = if i.is_multiple_of(5) {
        Tlp::Green
    } else {
        Tlp::Amber
    };
    e.confidence = Some(90);
    e
}

/// A malicious domain seen in DNS telemetry.
fn domain_event(i: u64, now: isx_domain::Timestamp, rng: &mut Rng) -> BotnetEvent {
    let seen = now.add_secs(-(rng.below(3 * 86_400) as i64) - 90);
    let mut e = BotnetEvent::new(BotnetProduct::Domains, seen, "dns-telemetry");
    let label: String = (0..10)
        .map(|_| (b'a' + rng.below(26) as u8) as char)
        .collect();
    let tld = ["test", "example", "invalid"][(i % 3) as usize];
    e.domain = DomainName::new(&format!("{label}.{tld}")).ok();
    e.family = FAMILIES[(i % FAMILIES.len() as u64) as usize].to_owned();
    e.purpose = Some(DOMAIN_PURPOSES[(i % 4) as usize].to_owned());
    e.marking = Tlp::Green;
    e
}

/// Stores the demo events, matched against the demo constituencies.
pub async fn seed(ctx: &Ctx) -> anyhow::Result<()> {
    let now = ctx.clock.now();
    let mut events = generate(now, 2400, 0xB07_2026);
    events.sort_by_key(|e| e.seen_at);
    let geo = isx_geo::GeoDb::open(None, None)?;
    let hub = isx_app::botnet::BotnetHub::default();
    // As if they had arrived over three days, an hour at a time: the hourly
    // batches of the past then hold them.
    let mut hour: Vec<BotnetEvent> = Vec::new();
    for e in events {
        if let Some(first) = hour.first() {
            if first.seen_at.as_secs() / 3600 != e.seen_at.as_secs() / 3600 {
                let at = hour.last().map_or(now, |l| l.seen_at.add_secs(30));
                isx_app::botnet::ingest(&ctx.store, &geo, &hub, std::mem::take(&mut hour), at)
                    .await?;
            }
        }
        hour.push(e);
    }
    isx_app::botnet::ingest(&ctx.store, &geo, &hub, hour, now).await?;
    Ok(())
}
