use super::*;
use isx_domain::{Cidr, DomainName};
use proptest::prelude::*;

fn member(n: i64) -> MemberId {
    MemberId(n)
}

fn constituency(
    cidrs: &[&str],
    asns: &[u32],
    domains: &[&str],
    country: Option<&str>,
) -> Constituency {
    Constituency {
        cidrs: cidrs.iter().map(|c| c.parse().expect("cidr")).collect(),
        asns: asns.iter().map(|a| Asn::new(*a).expect("asn")).collect(),
        domains: domains
            .iter()
            .map(|d| DomainName::new(d).expect("domain"))
            .collect(),
        country: country.map(|c| c.parse().expect("country")),
    }
}

fn key(ip: &str) -> MatchKey<'static> {
    MatchKey {
        ip: Some(ip.parse().expect("ip")),
        ..MatchKey::default()
    }
}

#[test]
fn every_covering_prefix_receives_the_event() {
    let m = Matcher::build(&[
        (
            member(1),
            constituency(&["10.0.0.0/8", "2001:db8::/32"], &[], &[], None),
        ),
        (
            member(2),
            constituency(&["10.1.0.0/16"], &[64500], &["example.net"], None),
        ),
        (
            member(3),
            constituency(
                &["10.1.2.0/24", "10.255.255.0/24"],
                &[],
                &["shop.example.net"],
                None,
            ),
        ),
        (member(4), constituency(&[], &[], &[], Some("DE"))),
        (member(5), constituency(&["10.1.0.0/16"], &[], &[], None)),
    ]);
    assert_eq!(
        m.recipients(&key("10.1.2.3")),
        vec![member(1), member(2), member(3), member(5)]
    );
    assert_eq!(
        m.recipients(&key("10.1.3.3")),
        vec![member(1), member(2), member(5)]
    );
    assert_eq!(m.recipients(&key("10.2.0.0")), vec![member(1)]);
    assert_eq!(
        m.recipients(&key("10.255.255.255")),
        vec![member(1), member(3)]
    );
    assert_eq!(m.recipients(&key("11.0.0.0")), Vec::<MemberId>::new());
    assert_eq!(m.recipients(&key("9.255.255.255")), Vec::<MemberId>::new());
    assert_eq!(m.recipients(&key("2001:db8:ffff::1")), vec![member(1)]);
    assert_eq!(
        m.recipients(&key("::ffff:10.1.2.3")),
        vec![member(1), member(2), member(3), member(5)]
    );
    let by_asn = MatchKey {
        ip: Some("192.0.2.1".parse().expect("ip")),
        asn: Some(Asn::new(64500).expect("asn")),
        ..MatchKey::default()
    };
    assert_eq!(m.recipients(&by_asn), vec![member(2)]);
    let by_country = MatchKey {
        country: Some("de".parse().expect("cc")),
        ..MatchKey::default()
    };
    assert_eq!(m.recipients(&by_country), vec![member(4)]);
    let dom = |d: &'static str| MatchKey {
        domain: Some(d),
        ..MatchKey::default()
    };
    assert_eq!(
        m.recipients(&dom("a.shop.example.net")),
        vec![member(2), member(3)]
    );
    assert_eq!(m.recipients(&dom("example.net")), vec![member(2)]);
    assert_eq!(m.recipients(&dom("badexample.net")), Vec::<MemberId>::new());
    assert_eq!(m.recipients(&dom("evil.de")), vec![member(4)]);
    let s = m.stats();
    assert_eq!((s.members, s.prefixes), (5, 6));
}

#[test]
fn edges_of_the_address_space() {
    let m = Matcher::build(&[
        (
            member(1),
            constituency(&["0.0.0.0/0", "::/0"], &[], &[], None),
        ),
        (
            member(2),
            constituency(&["255.255.255.255/32", "0.0.0.0/32"], &[], &[], None),
        ),
    ]);
    assert_eq!(
        m.recipients(&key("255.255.255.255")),
        vec![member(1), member(2)]
    );
    assert_eq!(m.recipients(&key("0.0.0.0")), vec![member(1), member(2)]);
    assert_eq!(m.recipients(&key("0.0.0.1")), vec![member(1)]);
    assert_eq!(
        m.recipients(&key("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
        vec![member(1)]
    );
    let empty = Matcher::default();
    assert!(empty.recipients(&key("192.0.2.1")).is_empty());
}

/// The simple computation the matcher must agree with.
fn reference(members: &[(MemberId, Constituency)], k: &MatchKey<'_>) -> Vec<MemberId> {
    let mut out: Vec<MemberId> = members
        .iter()
        .filter(|(_, c)| {
            let ip = k.ip.is_some_and(|ip| {
                let ip = match ip {
                    IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
                    v4 => v4,
                };
                c.cidrs.iter().any(|n| n.contains(ip))
            });
            let asn = k.asn.is_some_and(|a| c.asns.contains(&a));
            let country = k.country.is_some() && k.country == c.country;
            let suffix = |s: &str| {
                k.domain
                    .is_some_and(|d| d == s || d.ends_with(&format!(".{s}")))
            };
            let domain = c.domains.iter().any(|d| suffix(d.as_str()))
                || c.country.is_some_and(|cc| suffix(&cc.cctld()));
            ip || asn || country || domain
        })
        .map(|(m, _)| *m)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn arb_cidr() -> impl Strategy<Value = Cidr> {
    // A small corner of the address space, so that prefixes nest and collide.
    prop_oneof![
        (0u32..64, 20u8..=32).prop_map(|(x, len)| {
            let a = std::net::Ipv4Addr::from(0x0A00_0000 | (x << 8) | (x & 7));
            let net = ipnet::Ipv4Net::new(a, len).expect("len").trunc();
            Cidr::from_str_net(IpNet::V4(net))
        }),
        (0u32..16, 8u8..=16).prop_map(|(x, len)| {
            let a = std::net::Ipv4Addr::from(0x0A00_0000 | (x << 16));
            let net = ipnet::Ipv4Net::new(a, len).expect("len").trunc();
            Cidr::from_str_net(IpNet::V4(net))
        }),
        (0u16..32, 30u8..=128).prop_map(|(x, len)| {
            let a = std::net::Ipv6Addr::new(0x2001, 0xdb8, x, 0, 0, 0, 0, x & 3);
            let net = ipnet::Ipv6Net::new(a, len).expect("len").trunc();
            Cidr::from_str_net(IpNet::V6(net))
        }),
    ]
}

trait FromNet {
    fn from_str_net(net: IpNet) -> Cidr;
}

impl FromNet for Cidr {
    fn from_str_net(net: IpNet) -> Cidr {
        net.to_string().parse().expect("truncated network")
    }
}

const DOMAINS: &[&str] = &[
    "example.net",
    "shop.example.net",
    "a.shop.example.net",
    "example.org",
    "de",
    "evil.fr",
];
const COUNTRIES: &[&str] = &["DE", "FR", "NL"];

fn arb_constituency() -> impl Strategy<Value = Constituency> {
    (
        proptest::collection::vec(arb_cidr(), 0..6),
        proptest::collection::vec(64_500u32..64_506, 0..2),
        proptest::collection::vec(0..DOMAINS.len(), 0..2),
        proptest::option::weighted(0.2, 0..COUNTRIES.len()),
    )
        .prop_map(|(cidrs, asns, domains, country)| Constituency {
            cidrs,
            asns: asns
                .into_iter()
                .map(|a| Asn::new(a).expect("asn"))
                .collect(),
            domains: domains
                .into_iter()
                .map(|i| DomainName::new(DOMAINS[i]).expect("d"))
                .collect(),
            country: country.map(|i| COUNTRIES[i].parse().expect("cc")),
        })
}

fn arb_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        (0u32..0x0040_0000).prop_map(|x| IpAddr::V4(std::net::Ipv4Addr::from(0x0A00_0000 | x))),
        any::<u32>().prop_map(|x| IpAddr::V4(std::net::Ipv4Addr::from(x))),
        (0u16..40, any::<u16>()).prop_map(|(x, y)| IpAddr::V6(std::net::Ipv6Addr::new(
            0x2001, 0xdb8, x, 0, 0, 0, 0, y
        ))),
        (0u32..0x0040_0000)
            .prop_map(|x| IpAddr::V6(std::net::Ipv4Addr::from(0x0A00_0000 | x).to_ipv6_mapped())),
    ]
}

const EVENT_DOMAINS: &[&str] = &[
    "x.a.shop.example.net",
    "shop.example.net",
    "example.net",
    "notexample.net",
    "c2.evil.fr",
    "bad.de",
    "example.org",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn each_member_receives_exactly_what_the_reference_gives(
        constituencies in proptest::collection::vec(arb_constituency(), 0..12),
        events in proptest::collection::vec(
            (proptest::option::of(arb_ip()), proptest::option::of(64_500u32..64_508),
             proptest::option::of(0..COUNTRIES.len()), proptest::option::of(0..EVENT_DOMAINS.len())),
            1..40),
    ) {
        let members: Vec<(MemberId, Constituency)> = constituencies
            .into_iter()
            .enumerate()
            .map(|(i, c)| (member(i as i64 + 1), c))
            .collect();
        let m = Matcher::build(&members);
        let mut out = Vec::new();
        // The batch lookup answers like the single one.
        let ips: Vec<IpAddr> = events.iter().filter_map(|e| e.0).collect();
        let mut batch = Vec::new();
        m.by_ip_batch(&ips, |i, found| batch.push((i, found.to_vec())));
        prop_assert_eq!(batch.len(), ips.len());
        for (i, found) in batch {
            prop_assert_eq!(found.as_slice(), m.by_ip(ips[i]));
        }
        let keys: Vec<MatchKey<'_>> = events
            .iter()
            .map(|(ip, asn, country, domain)| MatchKey {
                ip: *ip,
                asn: asn.map(|a| Asn::new(a).expect("asn")),
                country: country.map(|i| COUNTRIES[i].parse().expect("cc")),
                domain: domain.map(|i| EVENT_DOMAINS[i]),
            })
            .collect();
        for k in &keys {
            m.recipients_into(k, &mut out);
            prop_assert_eq!(&out, &reference(&members, k), "key {:?}", k);
        }
        let mut seen = 0;
        let mut failed = None;
        m.recipients_batch(&keys, |i, found| {
            if i != seen || found != reference(&members, &keys[i]).as_slice() {
                failed.get_or_insert(i);
            }
            seen += 1;
        });
        prop_assert_eq!(failed, None);
        prop_assert_eq!(seen, keys.len());
    }
}
