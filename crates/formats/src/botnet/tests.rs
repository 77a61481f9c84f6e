use super::out::{aggregate, firewall, rpz_zone, FirewallFormat};
use super::*;

fn defaults() -> BotnetDefaults {
    BotnetDefaults {
        product: None,
        source: "test".to_owned(),
        marking: Tlp::Amber,
        received_at: Timestamp::from_secs(1_800_000_000),
    }
}

/// A CTIP line as Microsoft's Azure stream writes it (values made up,
/// addresses from the documentation ranges).
pub(crate) const CTIP_LINE: &str = r#"{"DataFeed":"CTIP-Infected","SourcedFrom":"SinkHoleMessage","DateTimeReceivedUtc":134080128000000000,"DateTimeReceivedUtcTxt":"Friday November 20 2026 08:00:00 AM","Malware":"Emotet","ThreatCode":"B67-SS-EMOTET","ThreatConfidence":"High","TotalEncounters":3,"TLP":"Amber","SourceIp":"198.51.100.23","SourcePort":49152,"DestinationIp":"203.0.113.9","DestinationPort":443,"TargetIp":"","TargetPort":0,"SourceIpInfo":{"SourceIpAsnNumber":64501,"SourceIpAsnOrgName":"Example ISP","SourceIpCountryCode":"NL","SourceIpRegion":"NH","SourceIpCity":"Amsterdam","SourceIpPostalCode":"1012","SourceIpLatitude":52.37,"SourceIpLongitude":4.89,"SourceIpMetroCode":0,"SourceIpAreaCode":0,"SourceIpConnectionType":"Cable/DSL"},"HttpInfo":{"HttpHost":"","HttpRequest":"","HttpMethod":"","HttpReferrer":"","HttpUserAgent":"","HttpVersion":""},"CustomInfo":{"CustomField1":""},"Payload":""}"#;

/// The header of Shadowserver's sinkhole-event reports.
pub(crate) const SHADOWSERVER_HEADER: &str = "timestamp,protocol,src_ip,src_port,src_asn,src_geo,src_region,src_city,src_hostname,src_naics,src_sector,device_vendor,device_type,device_model,dst_ip,dst_port,dst_asn,dst_geo,dst_region,dst_city,dst_hostname,dst_naics,dst_sector,public_source,infection,family,tag,application,version,event_id";

#[test]
fn ctip_lines_parse() {
    let rows = parse_events(CTIP_LINE.as_bytes(), BotnetInputFormat::Ndjson, defaults());
    let e = rows[0].clone().expect("parses");
    assert_eq!(e.product, BotnetProduct::Infected);
    assert_eq!(e.ip, Some("198.51.100.23".parse().expect("ip")));
    assert_eq!((e.port, e.dst_port), (Some(49152), Some(443)));
    assert_eq!(e.family, "emotet");
    assert_eq!(e.threat_code.as_deref(), Some("B67-SS-EMOTET"));
    assert_eq!((e.confidence, e.count), (Some(100), 3));
    assert_eq!(e.asn.map(|a| a.get()), Some(64501));
    assert_eq!(e.country.map(|c| c.to_string()).as_deref(), Some("NL"));
    assert_eq!(e.sensor.as_deref(), Some("SinkHoleMessage"));
    // 134080128000000000 ticks since 1601 = Unix 1763539200.
    assert_eq!(e.seen_at.to_rfc3339(), "2025-11-19T08:00:00Z");
    let c2 = CTIP_LINE.replace("CTIP-Infected", "CTIP-C2");
    let rows = parse_events(c2.as_bytes(), BotnetInputFormat::Ndjson, defaults());
    assert_eq!(rows[0].as_ref().expect("c2").product, BotnetProduct::C2);
}

#[test]
fn shadowserver_sinkhole_csv_parses() {
    let text = format!(
        "{SHADOWSERVER_HEADER}\n\
         \"2026-11-20 10:00:01\",tcp,192.0.2.44,51234,64500,DE,Berlin,Berlin,host44.example.de,,,,,,203.0.113.5,80,64499,US,,,sinkhole.example,,,CAISC,andromeda,andromeda,botnet,,,\n\
         \"2026-11-20 10:00:02\",udp,192.0.2.45,1900,64500,DE,,,,,,Hikvision,camera,DS-2CD,203.0.113.6,23,,,,,,,,,mirai,mirai,iot,,,\n\
         \"2026-11-20 10:00:03\",tcp,not-an-ip,1,64500,DE,,,,,,,,,203.0.113.6,23,,,,,,,,,mirai,mirai,,,,\n"
    );
    let rows = parse_events(text.as_bytes(), BotnetInputFormat::Csv, defaults());
    assert_eq!(rows.len(), 3);
    let a = rows[0].clone().expect("row 1");
    assert_eq!(a.product, BotnetProduct::Infected);
    assert_eq!(a.family, "andromeda");
    assert_eq!(
        a.domain.as_ref().map(|d| d.as_str()),
        Some("host44.example.de")
    );
    assert_eq!(a.seen_at.to_rfc3339(), "2026-11-20T10:00:01Z");
    assert_eq!(a.protocol.as_deref(), Some("tcp"));
    let b = rows[1].clone().expect("row 2");
    assert_eq!(b.product, BotnetProduct::Iot);
    assert_eq!(b.device_type.as_deref(), Some("camera"));
    let err = rows[2].clone().expect_err("bad ip");
    assert_eq!(err.line, 4);
    assert!(err.message.contains("not-an-ip"), "{}", err.message);
}

#[test]
fn native_rows_need_a_product_or_a_default() {
    let text = "product,ip,port,family,status,first_seen,last_seen\nbotnet-c2,203.0.113.77,8080,QakBot,online,2026-11-01,2026-11-20\n";
    let rows = parse_events(text.as_bytes(), BotnetInputFormat::Csv, defaults());
    let e = rows[0].clone().expect("c2");
    assert_eq!(
        (e.product, e.status.as_deref()),
        (BotnetProduct::C2, Some("online"))
    );
    assert_eq!(e.first_seen.to_rfc3339(), "2026-11-01T00:00:00Z");
    let bare = "ip\n192.0.2.1\n";
    let rows = parse_events(bare.as_bytes(), BotnetInputFormat::Csv, defaults());
    assert!(rows[0]
        .clone()
        .expect_err("no product")
        .message
        .contains("--product"));
    let mut d = defaults();
    d.product = Some(BotnetProduct::Infected);
    let rows = parse_events(bare.as_bytes(), BotnetInputFormat::Csv, d);
    assert_eq!(rows[0].clone().expect("default").family, "unknown");
    let dom =
        r#"{"product":"domains","domain":"Evil.Example.","purpose":"dga","family":"conficker"}"#;
    let rows = parse_events(dom.as_bytes(), BotnetInputFormat::Ndjson, defaults());
    let e = rows[0].clone().expect("domain");
    assert_eq!(e.domain.as_ref().map(|d| d.as_str()), Some("evil.example"));
}

#[test]
fn firewall_lists_aggregate_and_rpz_lists_domains() {
    let ips: Vec<IpAddr> = [
        "192.0.2.0",
        "192.0.2.1",
        "192.0.2.2",
        "192.0.2.3",
        "198.51.100.7",
        "2001:db8::1",
        "192.0.2.1",
    ]
    .iter()
    .map(|s| s.parse().expect("ip"))
    .collect();
    let agg: Vec<String> = aggregate(&ips).iter().map(|n| n.to_string()).collect();
    assert_eq!(agg, ["192.0.2.0/30", "198.51.100.7/32", "2001:db8::1/128"]);
    let plain = firewall(FirewallFormat::Plain, &ips, &["isx".to_owned()]);
    assert_eq!(plain.lines().filter(|l| !l.starts_with('#')).count(), 6);
    let nft = firewall(FirewallFormat::Nftables, &ips, &[]);
    assert!(
        nft.contains("add element inet isx isx_c2_v4 { 192.0.2.0/30, 198.51.100.7 }"),
        "{nft}"
    );
    let ipset = firewall(FirewallFormat::Ipset, &ips, &[]);
    assert!(
        ipset.contains("add isx-c2-v6 2001:db8::1/128 -exist"),
        "{ipset}"
    );
    let zone = rpz_zone(&["evil.test".to_owned()], &ips[4..5], 7, &[]);
    assert!(zone.contains("(7 3600"));
    assert!(zone.contains("evil.test CNAME .\n*.evil.test CNAME .\n"));
    assert!(zone.contains("32.7.100.51.198.rpz-ip CNAME ."));
}

proptest::proptest! {
    /// What the fuzz target checks, on stable: any input, no panic; errors
    /// name a line of the input; events that read are valid.
    #[test]
    fn any_input_reads_or_names_its_line(
        text in proptest::string::string_regex("[a-z_,\"{}:0-9. \\n-]{0,300}").expect("regex"),
        header in proptest::sample::select(vec!["", "product,ip,port,time\n", "{\"product\":\"c2\",\"ip\":\"192.0.2.1\"}\n"]),
    ) {
        let input = format!("{header}{text}");
        let lines = input.lines().count();
        for format in [BotnetInputFormat::Ndjson, BotnetInputFormat::Csv] {
            let mut d = defaults();
            d.product = Some(BotnetProduct::Infected);
            for row in parse_events(input.as_bytes(), format, d) {
                match row {
                    Ok(e) => {
                        proptest::prop_assert!(e.first_seen <= e.last_seen && e.count >= 1);
                        proptest::prop_assert!(e.clone().validate().is_ok());
                    }
                    Err(e) => proptest::prop_assert!(e.line >= 1 && e.line <= lines),
                }
            }
        }
    }
}

/// Issue 19 part 3: botnet indicators (C2, domains, victims) expire a day
/// after their last sighting and carry the source's confidence.
#[test]
fn botnet_indicators_say_until_when_they_are_valid() {
    let seen = isx_domain::Timestamp::parse("2026-11-22T10:00:00Z").unwrap();
    for product in [BotnetProduct::C2, BotnetProduct::Infected] {
        let e = isx_botnet::BotnetEvent {
            product,
            seen_at: seen,
            ip: Some("203.0.113.66".parse().unwrap()),
            port: Some(443),
            dst_ip: None,
            dst_port: None,
            domain: None,
            family: "emotet".into(),
            threat_code: None,
            confidence: Some(70),
            protocol: None,
            sensor: None,
            device_type: None,
            status: Some("online".into()),
            purpose: None,
            asn: None,
            country: None,
            latitude: None,
            longitude: None,
            count: 1,
            first_seen: seen.add_secs(-3600),
            last_seen: seen,
            source: "test".into(),
            marking: isx_domain::Tlp::Amber,
        };
        let objects = out::stix_event(
            &e,
            &isx_botnet::indicator::IndicatorLink::PerEvent,
            7,
            "identity--x",
        );
        let indicator = objects
            .iter()
            .map(|(_, o)| o)
            .find(|o| o["type"] == "indicator")
            .expect("indicator");
        assert_eq!(
            indicator["valid_until"],
            crate::stix::timestamp(seen.add_secs(86_400)),
            "{product:?}"
        );
        assert_eq!(indicator["confidence"], 70, "{product:?}");
    }
}

#[test]
fn reports_from_the_future_are_refused() {
    let d = defaults();
    let line = |at: Timestamp| {
        format!(
            "{{\"product\":\"c2\",\"time\":\"{}\",\"ip\":\"203.0.113.66\",\"status\":\"online\"}}\n",
            at.to_rfc3339()
        )
    };
    let skew = isx_domain::MAX_CLOCK_SKEW_SECS;
    let now = d.received_at;
    let text = line(now.add_secs(skew)) + &line(now.add_secs(skew + 1));
    let rows = parse_events(text.as_bytes(), BotnetInputFormat::Ndjson, d);
    assert!(rows[0].is_ok(), "{:?}", rows[0]);
    let e = rows[1].clone().expect_err("refused");
    assert!(e.message.contains("future"), "{e:?}");
}
