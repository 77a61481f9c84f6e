//! Malicious-URL throughput, each figure next to a peer measured in the
//! same run (run with `cargo bench -p isx --bench urls`):
//!
//! 1. canonicalise (+ enrich) records per second on one core, next to
//!    Python's `w3lib.url.canonicalize_url` on the same URLs;
//! 2. writing a 5-day full set of N records (default 5,000,000) as a JSON
//!    array file, next to Python's `json.dump` of the same records;
//! 3. producing a whole feed slot (increment and full set, four formats
//!    each) from the SQLite store holding M records (default 1,000,000).
//!
//! The Python peer runs from `.venv` (made by `scripts/test`) or
//! `ISX_TEST_PYTHON`; without it the peer lines say so. Sizes:
//! `ISX_BENCH_URLS`, `ISX_BENCH_RECORDS`, `ISX_BENCH_STORE_RECORDS`.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use isx_domain::{GeoInfo, ThreatType, Timestamp, Tlp};
use isx_formats::feed::FeedFormat;
use isx_formats::urls::UrlFeedWriter;
use isx_urls::{canonicalize, prepare, ImportDefaults, UrlObservation, UrlRecord};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn python() -> Option<PathBuf> {
    let p = std::env::var_os("ISX_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../.venv/bin/python"
            ))
        });
    p.exists().then_some(p)
}

/// Runs a Python script that prints one number (seconds).
fn python_seconds(script: &str, args: &[&str]) -> Option<f64> {
    let py = python()?;
    let out = Command::new(py)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "python peer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn corpus(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i % 6 {
            0 => format!("http://Host{i}.Example.com:80/path/./to/../file{i}.exe"),
            1 => format!("https://login-{i}.evil-bank.co.uk/signin?acct=%7e{i}&next=%2F"),
            2 => format!("http://198.51.{}.{}:8080/bins/mips", i % 250, i % 200),
            3 => format!("http://bücher{i}.example.de/a b#frag"),
            4 => format!("https://cdn{i}.example.net/wp-content/uploads/2026/11/invoice_{i}.zip"),
            _ => format!("http://evil{i}.example.org/dl/payload.bin?x=1&y=%41"),
        })
        .collect()
}

fn rate(n: usize, secs: f64) -> String {
    format!("{:>12.0}/s", n as f64 / secs)
}

fn record(i: usize, now: Timestamp) -> UrlRecord {
    let host = format!("login-{i}.evil{}.example.com", i % 1000);
    UrlRecord {
        id: i as i64 + 1,
        url: format!("https://{host}/signin/verify?session={i}"),
        domain: Some(format!("evil{}.example.com", i % 1000)),
        host,
        ip: Some(std::net::IpAddr::from([
            198,
            51,
            (i / 250 % 250) as u8,
            (i % 250) as u8,
        ])),
        geo: GeoInfo {
            asn: isx_domain::Asn::new(64496 + (i % 16) as u32).ok(),
            as_org: Some("Example Hosting".into()),
            country: "DE".parse().ok(),
            city: Some("Frankfurt".into()),
            latitude: Some(50.11),
            longitude: Some(8.68),
        },
        threat: ThreatType::ALL[i % ThreatType::ALL.len()],
        tags: vec!["kit".into()],
        source: "crawler".into(),
        confidence: 80,
        tlp: Tlp::Green,
        first_seen: now.add_secs(-((i % 400_000) as i64)),
        last_seen: now,
        times_seen: 1 + (i % 5) as i64,
        changed_seq: 1,
        changed_at: now,
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

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs a smoke size.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let urls_n = if smoke {
        2_000
    } else {
        env_usize("ISX_BENCH_URLS", 200_000)
    };
    let records_n = if smoke {
        10_000
    } else {
        env_usize("ISX_BENCH_RECORDS", 5_000_000)
    };
    let store_n = if smoke {
        2_000
    } else {
        env_usize("ISX_BENCH_STORE_RECORDS", 1_000_000)
    };
    let now = Timestamp::from_secs(1_795_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    // ISX_BENCH_PARTS=3 runs only part 3, and so on.
    let parts = std::env::var("ISX_BENCH_PARTS").unwrap_or_else(|_| "123".into());
    if parts.contains('1') {
        canonicalisation(urls_n, now, &dir);
    }
    if parts.contains('2') {
        full_set_file(records_n, now, &dir);
    }
    if parts.contains('3') {
        from_store(store_n, now, &dir);
    }
}

fn defaults(now: Timestamp) -> ImportDefaults {
    ImportDefaults {
        source: "bench".into(),
        tlp: Tlp::Green,
        confidence: 50,
        threat: ThreatType::Other,
        now,
    }
}

fn canonicalisation(urls_n: usize, now: Timestamp, dir: &tempfile::TempDir) {
    // 1. Canonicalisation and enrichment.
    let urls = corpus(urls_n);
    let t = Instant::now();
    let ok = urls.iter().filter(|u| canonicalize(u).is_ok()).count();
    let canon_secs = t.elapsed().as_secs_f64();
    assert_eq!(ok, urls.len());
    let shared = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/geoip"
    ));
    let geo = isx_geo::GeoDb::open(
        Some(&shared.join("GeoIP2-City-Test.mmdb")),
        Some(&shared.join("GeoLite2-ASN-Test.mmdb")),
    )
    .unwrap_or_else(|_| isx_geo::GeoDb::none());
    let defaults = defaults(now);
    let observations: Vec<UrlObservation> = urls
        .iter()
        .enumerate()
        .map(|(i, u)| UrlObservation {
            url: u.clone(),
            threat: Some("malware_download".into()),
            ip: Some(std::net::IpAddr::from([81, 2, 69, (i % 256) as u8])),
            ..UrlObservation::default()
        })
        .collect();
    let t = Instant::now();
    let mut located = 0usize;
    for o in &observations {
        let mut c = prepare(o, &defaults).expect("valid");
        if let Some(ip) = c.ip {
            c.geo = geo.lookup(ip);
            located += usize::from(c.geo.country.is_some());
        }
    }
    let enrich_secs = t.elapsed().as_secs_f64();
    let urls_file = dir.path().join("urls.txt");
    std::fs::write(&urls_file, urls.join("\n")).expect("write urls");
    let w3lib = python_seconds(
        "import sys, time\nfrom w3lib.url import canonicalize_url\nurls = open(sys.argv[1], encoding='utf-8').read().split('\\n')\nt = time.perf_counter()\nfor u in urls: canonicalize_url(u)\nprint(time.perf_counter() - t)",
        &[urls_file.to_str().expect("path")],
    );
    println!("URL canonicalisation, {urls_n} URLs, one core");
    println!(
        "  isx canonicalize                 {}",
        rate(urls_n, canon_secs)
    );
    println!(
        "  isx prepare + geo enrich         {}   ({located} located; geo: {})",
        rate(urls_n, enrich_secs),
        if geo.status().is_configured() {
            "MaxMind test databases"
        } else {
            "none"
        }
    );
    match w3lib {
        Some(s) => println!(
            "  w3lib canonicalize_url (Python) {}   isx/w3lib = {:.1}x (canonicalize), {:.1}x (with enrichment)",
            rate(urls_n, s),
            s / canon_secs,
            s / enrich_secs
        ),
        None => println!("  w3lib peer: not available (run scripts/test to prepare .venv)"),
    }
}

fn full_set_file(records_n: usize, now: Timestamp, dir: &tempfile::TempDir) {
    let records: Vec<UrlRecord> = (0..records_n).map(|i| record(i, now)).collect();
    let path = dir.path().join("full.json");
    let t = Instant::now();
    let file =
        std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).expect("create"));
    let mut w = UrlFeedWriter::new(file, FeedFormat::Json, "bench", "bench").expect("writer");
    for r in &records {
        w.write(r).expect("write");
    }
    let (mut file, n, _) = w.finish().expect("finish");
    file.flush().expect("flush");
    file.into_inner().expect("buf").sync_all().expect("sync");
    let isx_write = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    drop(records);
    std::fs::remove_file(&path).ok();
    let py_out = dir.path().join("full-py.json");
    let peer = python_seconds(
        "import json, os, sys, time\nn = int(sys.argv[1])\nrows = [{'url': f'https://login-{i}.evil{i%1000}.example.com/signin/verify?session={i}', 'host': f'login-{i}.evil{i%1000}.example.com', 'domain': f'evil{i%1000}.example.com', 'ip': f'198.51.{i//250%250}.{i%250}', 'asn': 64496 + i % 16, 'as_org': 'Example Hosting', 'country': 'DE', 'city': 'Frankfurt', 'latitude': 50.11, 'longitude': 8.68, 'threat': 'phishing', 'tags': ['kit'], 'source': 'crawler', 'confidence': 80, 'tlp': 'green', 'first_seen': '2026-11-20T10:00:00Z', 'last_seen': '2026-11-23T10:00:00Z', 'times_seen': 1 + i % 5} for i in range(n)]\nt = time.perf_counter()\nwith open(sys.argv[2], 'w') as f:\n    json.dump(rows, f)\n    f.flush(); os.fsync(f.fileno())\nprint(time.perf_counter() - t)",
        &[&records_n.to_string(), py_out.to_str().expect("path")],
    );
    std::fs::remove_file(&py_out).ok();
    println!(
        "\nFull set as a JSON array file, {n} records ({:.2} GB), one core",
        size as f64 / 1e9
    );
    println!(
        "  isx UrlFeedWriter                {:>9.2} s  {}",
        isx_write,
        rate(records_n, isx_write)
    );
    match peer {
        Some(s) => println!(
            "  Python json.dump                 {:>9.2} s  {}   isx/Python = {:.1}x",
            s,
            rate(records_n, s),
            s / isx_write
        ),
        None => println!("  Python peer: not available"),
    }
}

fn from_store(store_n: usize, now: Timestamp, dir: &tempfile::TempDir) {
    let defaults = defaults(now);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = isx_store::open(&dir.path().join("isx.sqlite").display().to_string()).await.expect("store");
        let candidates: Vec<isx_urls::UrlCandidate> = (0..store_n)
            .map(|i| {
                let o = UrlObservation {
                    url: format!("https://login-{i}.evil{}.example.com/signin?session={i}", i % 1000),
                    threat: Some("phishing".into()),
                    first_seen: Some(now.add_secs(-3600)),
                    ip: Some(std::net::IpAddr::from([198, 51, (i / 250 % 250) as u8, (i % 250) as u8])),
                    ..UrlObservation::default()
                };
                prepare(&o, &defaults).expect("valid")
            })
            .collect();
        let t = Instant::now();
        for chunk in candidates.chunks(100_000) {
            store
                .import_urls(&isx_store::UrlBatch { candidates: chunk, source: "bench", actor: "bench" }, now.add_secs(-3600))
                .await
                .expect("import");
        }
        let import_secs = t.elapsed().as_secs_f64();
        let clock = Arc::new(isx_domain::ManualClock::new(now.add_secs(60)));
        let mut config = isx_server::ServerConfig::new("127.0.0.1:0".parse().expect("addr"), dir.path().to_owned());
        config.instance_name = "bench".into();
        let ctx = isx_app::feeds::FeedContext::new(&config.settings(), store.clone(), clock).expect("ctx");
        let slot = ctx.schedule.slot_at_or_before(now.add_secs(60));
        let t = Instant::now();
        isx_app::url_files::produce_slot(&ctx, slot).await.expect("slot");
        let slot_secs = t.elapsed().as_secs_f64();
        println!("\nFrom the SQLite store, {store_n} records");
        println!("  import (canonical rows, 100k per batch)  {:>8.2} s  {}", import_secs, rate(store_n, import_secs));
        println!(
            "  one slot: increment + full set, JSON/NDJSON/CSV/STIX (8 files, {} record writes)  {:>8.2} s  {}",
            8 * store_n,
            slot_secs,
            rate(8 * store_n, slot_secs)
        );
    });
}
