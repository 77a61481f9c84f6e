use super::*;
use isx_domain::ThreatType;

const URLHAUS: &str = "################################################################
# abuse.ch URLhaus Database Dump (CSV - recent URLs)           #
# Last updated: 2026-11-23 09:05:12 (UTC)                      #
################################################################
#
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
\"3301001\",\"2026-11-23 08:55:04\",\"http://198.51.100.23:47123/i\",\"online\",\"2026-11-23 08:55:04\",\"malware_download\",\"32-bit,elf,mips,Mozi\",\"https://urlhaus.abuse.ch/url/3301001/\",\"geenensp\"
\"3301000\",\"2026-11-23 08:51:10\",\"https://evil.example.com/dl/Invoice.zip\",\"offline\",\"\",\"malware_download\",\"zip\",\"https://urlhaus.abuse.ch/url/3301000/\",\"abuse_ch\"
";

#[test]
fn urlhaus_csv_dump_parses_with_its_commented_header() {
    let rows = parse_urls(URLHAUS.as_bytes(), UrlInputFormat::Csv).unwrap();
    assert_eq!(rows.len(), 2);
    let (line, first) = &rows[0];
    assert_eq!(*line, 7);
    let o = first.as_ref().unwrap();
    assert_eq!(o.url, "http://198.51.100.23:47123/i");
    assert_eq!(o.threat.as_deref(), Some("malware_download"));
    assert_eq!(o.tags, vec!["32-bit", "elf", "mips", "Mozi"]);
    assert_eq!(o.source.as_deref(), Some("geenensp"));
    assert_eq!(
        o.first_seen,
        Some(Timestamp::parse("2026-11-23T08:55:04Z").unwrap())
    );
    let o2 = rows[1].1.as_ref().unwrap();
    assert_eq!(o2.last_seen, None, "empty last_online is absent");
    assert_eq!(rows[1].0, 8);
    assert_eq!(
        UrlInputFormat::detect(Some("csv.txt"), URLHAUS.as_bytes()),
        UrlInputFormat::Csv
    );
    assert_eq!(
        UrlInputFormat::detect(None, URLHAUS.as_bytes()),
        UrlInputFormat::Csv
    );
}

#[test]
fn bad_rows_are_reported_by_line_and_good_ones_still_read() {
    let csv = "url,threat,first_seen,confidence\nhttp://a.example/,phishing,2026-11-01,90\nhttp://b.example/,phishing,yesterday,90\nhttp://c.example/,spam,2026-11-02,\n";
    let rows = parse_urls(csv.as_bytes(), UrlInputFormat::Csv).unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows[0].1.is_ok());
    let err = rows[1].1.as_ref().unwrap_err();
    assert_eq!(err.line, 3);
    assert!(
        err.to_string().contains("line 3") && err.message.contains("yesterday"),
        "{err}"
    );
    assert!(rows[2].1.is_ok());
    let no_url = parse_urls(b"link_text,threat\nx,y\n", UrlInputFormat::Csv).unwrap_err();
    assert!(no_url.to_string().contains("no url column"), "{no_url}");
}

#[test]
fn ndjson_and_json_shapes_read_the_same_fields() {
    let nd = "{\"url\":\"http://a.example/x\",\"threat\":\"phish\",\"tags\":[\"bank\"],\"ip\":\"192.0.2.7\",\"asn\":\"AS64500\",\"country\":\"de\",\"latitude\":52.5,\"longitude\":13.4,\"tlp\":\"amber\"}\n\n{broken\n";
    let rows = parse_urls(nd.as_bytes(), UrlInputFormat::Ndjson).unwrap();
    assert_eq!(rows.len(), 2);
    let o = rows[0].1.as_ref().unwrap();
    assert_eq!(o.ip, Some("192.0.2.7".parse().unwrap()));
    assert_eq!(o.geo.asn.map(|a| a.get()), Some(64500));
    assert_eq!(o.geo.country.map(|c| c.to_string()).as_deref(), Some("DE"));
    assert_eq!(o.tlp, Some(Tlp::Amber));
    assert_eq!(rows[1].1.as_ref().unwrap_err().line, 3);

    let json = "[\n {\"url\": \"http://a.example/x\"},\n {\"url\": \"http://b.example/\",\n  \"confidence\": 300}\n]";
    let rows = parse_urls(json.as_bytes(), UrlInputFormat::Json).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].0, 3, "line of the second record");
    // The range is checked when the row is prepared, not here.
    assert_eq!(rows[1].1.as_ref().unwrap().confidence, Some(300));
    let dump = r#"{"3301001": [{"dateadded": "2026-11-23 08:55:04 UTC", "url": "http://c.example/", "threat": "malware_download", "tags": ["elf"], "reporter": "x"}]}"#;
    let rows = parse_urls(dump.as_bytes(), UrlInputFormat::Json).unwrap();
    assert_eq!(
        rows[0].1.as_ref().unwrap().first_seen,
        parse_time("2026-11-23T08:55:04Z")
    );
    assert!(parse_urls(b"not json", UrlInputFormat::Json).is_err());
}

fn record(url: &str, tlp: Tlp) -> UrlRecord {
    let c = isx_urls::canonicalize(url).unwrap();
    UrlRecord {
        id: 1,
        url: c.url,
        host: c.host,
        domain: c.domain,
        ip: Some("192.0.2.9".parse().unwrap()),
        geo: GeoInfo {
            country: "GB".parse().ok(),
            latitude: Some(51.5),
            longitude: Some(-0.1),
            ..GeoInfo::default()
        },
        threat: ThreatType::Phishing,
        tags: vec!["kit, with comma".into()],
        source: "crawler".into(),
        confidence: 80,
        tlp,
        first_seen: Timestamp::parse("2026-11-20T10:00:00Z").unwrap(),
        last_seen: Timestamp::parse("2026-11-22T10:00:00Z").unwrap(),
        times_seen: 3,
        changed_seq: 1,
        changed_at: Timestamp::parse("2026-11-22T10:00:01Z").unwrap(),
        generation: 0,
        live: true,
        revoked_at: None,
        live_since: None,
        ended: None,
        above: None,
        legacy_ids: false,
        superseded: Vec::new(),
    }
}

fn write_all(format: FeedFormat, records: &[UrlRecord]) -> (String, u64, Option<Tlp>) {
    let mut w = UrlFeedWriter::new(Vec::new(), format, "isx test", "k").unwrap();
    for r in records {
        w.write(r).unwrap();
    }
    let (bytes, n, strictest) = w.finish().unwrap();
    (String::from_utf8(bytes).unwrap(), n, strictest)
}

#[test]
fn every_output_format_reads_back_into_the_same_urls() {
    let records = vec![
        record("http://a.example/'quote\\", Tlp::Clear),
        record("https://b.example/x?y=1", Tlp::Amber),
    ];
    for format in [FeedFormat::Json, FeedFormat::Ndjson, FeedFormat::Csv] {
        let (text, n, strictest) = write_all(format, &records);
        assert_eq!((n, strictest), (2, Some(Tlp::Amber)));
        let input = match format {
            FeedFormat::Json => UrlInputFormat::Json,
            FeedFormat::Ndjson => UrlInputFormat::Ndjson,
            _ => UrlInputFormat::Csv,
        };
        let back = parse_urls(text.as_bytes(), input).unwrap();
        let urls: Vec<_> = back
            .iter()
            .map(|(_, r)| r.as_ref().unwrap().url.clone())
            .collect();
        assert_eq!(
            urls,
            vec![records[0].url.clone(), records[1].url.clone()],
            "{format:?}"
        );
        let o = back[1].1.as_ref().unwrap();
        assert_eq!(
            o.tags,
            if format == FeedFormat::Csv {
                vec!["kit".to_owned(), "with comma".to_owned()]
            } else {
                vec!["kit, with comma".to_owned()]
            }
        );
        assert_eq!(o.tlp, Some(Tlp::Amber));
        assert_eq!(o.first_seen, Some(records[1].first_seen));
        assert_eq!(o.geo.latitude, Some(51.5));
    }
    // An empty JSON file is still an array.
    let (empty, n, _) = write_all(FeedFormat::Json, &[]);
    assert_eq!(n, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&empty).unwrap(),
        serde_json::json!([])
    );
}

#[test]
fn stix_bundle_holds_indicators_with_escaped_url_patterns() {
    let records = vec![record("http://a.example/'quote\\", Tlp::Green)];
    let (text, _, _) = write_all(FeedFormat::Stix, &records);
    let bundle: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(bundle["type"], "bundle");
    let objects = bundle["objects"].as_array().unwrap();
    let ind = objects.iter().find(|o| o["type"] == "indicator").unwrap();
    assert_eq!(
        ind["pattern"], "[url:value = 'http://a.example/\\'quote/']",
        "WHATWG reads a backslash as a slash; the quote is escaped"
    );
    assert_eq!(
        ind["object_marking_refs"][0],
        stix::tlp_marking_id(Tlp::Green)
    );
    assert_eq!(ind["created"], "2026-11-20T10:00:00.000Z");
    assert!(objects.iter().any(|o| o["id"] == ind["created_by_ref"]));
}

proptest::proptest! {
    /// Whatever the bytes, reading never panics and every row error names
    /// the line it is on (the fuzz target `urls_input` does the same at scale).
    #[test]
    fn any_input_reads_or_names_its_lines(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400), text in "[a-z0-9,\"#:/.\\n {}\\[\\]]{0,200}") {
        for input in [data.as_slice(), text.as_bytes()] {
            for format in [UrlInputFormat::Json, UrlInputFormat::Ndjson, UrlInputFormat::Csv] {
                if let Ok(rows) = parse_urls(input, format) {
                    for (line, row) in rows {
                        proptest::prop_assert!(line >= 1);
                        if let Err(e) = row {
                            proptest::prop_assert_eq!(e.line, line);
                        }
                    }
                }
            }
        }
    }
}

/// Issue 19 part 3: a SIEM expires a URL indicator when the URL leaves
/// the rolling feed (a window after its last sighting) and reads the
/// record's confidence.
#[test]
fn url_indicators_say_until_when_they_are_valid() {
    let r = record("http://phish.example/login", Tlp::Green);
    let o = stix_indicator(&r, "identity--x");
    let until = Timestamp::parse(o["valid_until"].as_str().unwrap()).unwrap();
    assert_eq!(until, r.last_seen.add_secs(5 * 86_400));
    assert!(until > Timestamp::parse(o["valid_from"].as_str().unwrap()).unwrap());
    assert_eq!(o["confidence"], 80);
}

/// A URL's records of different markings are lineages of their own: no
/// id of one is an id of another (a reader reads one of them, and two
/// contents under one id and version would contradict each other);
/// records stored before keep the ids they had.
#[test]
fn each_marking_of_a_url_has_its_own_indicator_ids() {
    let ids = |r: &UrlRecord| -> Vec<String> {
        stix_objects(r, "identity--x")
            .into_iter()
            .filter_map(|(_, o)| o["id"].as_str().map(str::to_owned))
            .collect()
    };
    let mut green = record("http://c2.example/gate", Tlp::Green);
    green.threat = ThreatType::CommandAndControl;
    let red = UrlRecord {
        tlp: Tlp::Red,
        ..green.clone()
    };
    let (g, r) = (ids(&green), ids(&red));
    assert_eq!(g.len(), 3, "indicator, infrastructure, relationship");
    assert!(g.iter().all(|id| !r.contains(id)), "{g:?} {r:?}");
    let legacy = UrlRecord {
        legacy_ids: true,
        ..green.clone()
    };
    assert_eq!(
        ids(&legacy)[0],
        stix::object_id("indicator", "url:http://c2.example/gate")
    );
    assert_eq!(
        g[0],
        stix::object_id("indicator", "url@green:http://c2.example/gate")
    );
    let back = UrlRecord {
        generation: 2,
        ..green
    };
    assert_eq!(
        ids(&back)[0],
        stix::object_id("indicator", "url@green:http://c2.example/gate#2")
    );
    // A stored record of a URL whose path holds what a new record's key
    // adds: still two ids.
    let mut odd = record("http://c2.example/gate@red", Tlp::Red);
    odd.legacy_ids = true;
    let mut new = record("http://c2.example/gate", Tlp::Red);
    new.legacy_ids = false;
    assert_ne!(ids(&odd)[0], ids(&new)[0]);
}

#[test]
fn unix_times_are_seconds_up_to_the_year_9999_then_milliseconds() {
    let at = |s: &str| parse_time(s).map(Timestamp::to_rfc3339);
    assert_eq!(at("253402300799").as_deref(), Some("9999-12-31T23:59:59Z"));
    assert_eq!(at("20000000000").as_deref(), Some("2603-10-11T11:33:20Z"));
    assert_eq!(
        at("1764000000000").as_deref(),
        parse_time("1764000000")
            .map(Timestamp::to_rfc3339)
            .as_deref(),
        "milliseconds"
    );
    // Past the last millisecond isx holds: no time.
    assert_eq!(at("253402300800000"), None);
}
