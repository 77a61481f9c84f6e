//! End-to-end import throughput: CSAF 2.0 documents parsed, validated against
//! the schema, mapped, and stored (SQLite, one transaction per batch of 500),
//! as `isx advisories import` does. Prints documents per second.
//!
//! Run: `cargo bench -p isx-store --bench import`

use std::time::Instant;

use isx_advisories::{
    Advisory, AffectedProduct, CvssV3, ExploitIndex, Exploitability, NewRelease, ProductStatus,
    ReleaseStatus,
};
use isx_domain::{Timestamp, Tlp};

const DOCS: usize = 5_000;
const BATCH: usize = 500;

fn advisory(i: usize) -> Advisory {
    Advisory {
        id: format!("CVE-2026-{:05}", 10_000 + i).parse().expect("cve"),
        kind: isx_advisories::AdvisoryKind::Vulnerability,
        other_ids: vec![],
        title: format!("Generated advisory {i}"),
        description: "A generated advisory for the import benchmark.".into(),
        cwe: None,
        cvss_v31: Some(
            CvssV3::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H").expect("vector"),
        ),
        cvss_v40: None,
        exploitability: Some(Exploitability {
            latest: ExploitIndex::LessLikely,
            older: ExploitIndex::Unlikely,
            publicly_disclosed: false,
            exploited: false,
        }),
        exploit_statement: None,
        epss: None,
        ssvc: None,
        known_exploited: None,
        affected: (0..4)
            .map(|p| AffectedProduct {
                product_id: format!("P{p}"),
                vendor: "Contoso".into(),
                product: format!("Product {}", i % 17),
                version: Some(format!("{p}.0")),
                platform: None,
                cpe: None,
                purl: None,
                status: ProductStatus::Affected,
                fix: Some(format!("{p}.1")),
                csaf_status: None,
                justification: None,
                impact_statement: None,
            })
            .collect(),
        remediations: vec![],
        faqs: vec![],
        references: vec![],
        revisions: vec![],
    }
}

fn main() {
    let ctx = isx_formats::csaf::ExportContext {
        publisher_name: "bench".into(),
        publisher_namespace: "https://bench.example".into(),
        tracking_id: "BENCH".into(),
        title: "bench".into(),
        tlp: Tlp::Green,
        is_final: true,
        initial_release: Timestamp::from_secs(1_800_000_000),
        current_release: Timestamp::from_secs(1_800_000_000),
    };
    let docs: Vec<Vec<u8>> = (0..DOCS)
        .map(|i| serde_json::to_vec(&isx_formats::csaf::to_csaf(&advisory(i), &ctx)).expect("json"))
        .collect();
    let avg = docs.iter().map(Vec::len).sum::<usize>() / DOCS;

    let started = Instant::now();
    let parsed: Vec<Advisory> = docs
        .iter()
        .flat_map(|d| isx_formats::csaf::parse(d).expect("valid").advisories)
        .collect();
    let parse_secs = started.elapsed().as_secs_f64();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = rt
        .block_on(isx_store::open(
            &dir.path().join("isx.sqlite").display().to_string(),
        ))
        .expect("store");
    let now = Timestamp::from_secs(1_800_000_000);
    let release = rt
        .block_on(store.insert_release(
            &NewRelease {
                title: "bench".into(),
                release_at: now,
                notes: String::new(),
                status: ReleaseStatus::Scheduled,
                marking: Tlp::Green,
            },
            now,
        ))
        .expect("release");
    let started = Instant::now();
    for chunk in parsed.chunks(BATCH) {
        rt.block_on(store.put_advisories(release.id, chunk, "bench", now))
            .expect("put");
    }
    let store_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for chunk in parsed.chunks(BATCH) {
        let out = rt
            .block_on(store.put_advisories(release.id, chunk, "bench", now))
            .expect("put again");
        assert_eq!(out.unchanged, chunk.len());
    }
    let again_secs = started.elapsed().as_secs_f64();

    println!("{DOCS} CSAF documents (~{avg} bytes each), SQLite, batches of {BATCH}:");
    println!(
        "  parse + schema-validate + map: {:>10.0} documents/s",
        DOCS as f64 / parse_secs
    );
    println!(
        "  store (new advisories):        {:>10.0} advisories/s",
        DOCS as f64 / store_secs
    );
    println!(
        "  re-import (all unchanged):     {:>10.0} advisories/s",
        DOCS as f64 / again_secs
    );
    println!(
        "  end to end (parse + store):    {:>10.0} documents/s",
        DOCS as f64 / (parse_secs + store_secs)
    );
}
