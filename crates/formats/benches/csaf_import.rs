//! CSAF import throughput on the public sample documents, in documents
//! per second: the whole import (JSON, the CSAF 2.0 schema, the §6.1
//! mandatory tests, the mapping to advisories) next to the schema alone
//! and the mandatory tests alone, so the cost of the tests shows.
//!
//! Run: `cargo bench -p isx-formats --bench csaf_import`

use divan::counter::ItemsCount;
use divan::{black_box, Bencher};

fn main() {
    divan::main();
}

fn samples() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/csaf");
    [
        "bsi-2022-0001.json",
        "rhsa-2021_5217.json",
        "rhsa-2022_0011.json",
    ]
    .iter()
    .filter_map(|f| std::fs::read(format!("{dir}/{f}")).ok())
    .collect()
}

#[divan::bench]
fn parse_validate_map(b: Bencher) {
    let docs = samples();
    assert!(
        !docs.is_empty(),
        "the sample documents are in ../shared/data/csaf"
    );
    b.counter(ItemsCount::new(docs.len())).bench_local(|| {
        docs.iter()
            .map(|d| {
                isx_formats::csaf::parse(black_box(d))
                    .map(|x| x.advisories.len())
                    .unwrap_or(0)
            })
            .sum::<usize>()
    });
}

/// JSON and the CSAF 2.0 schema only: what import did before the §6.1 tests.
#[divan::bench]
fn schema_only(b: Bencher) {
    let docs = samples();
    b.counter(ItemsCount::new(docs.len())).bench_local(|| {
        docs.iter()
            .filter(|d| {
                serde_json::from_slice::<serde_json::Value>(black_box(d))
                    .ok()
                    .is_some_and(|v| isx_formats::csaf::validate(&v).is_ok())
            })
            .count()
    });
}

/// The §6.1 mandatory tests alone, on parsed documents.
#[divan::bench]
fn mandatory_tests_only(b: Bencher) {
    let docs: Vec<serde_json::Value> = samples()
        .iter()
        .filter_map(|d| serde_json::from_slice(d).ok())
        .collect();
    b.counter(ItemsCount::new(docs.len())).bench_local(|| {
        docs.iter()
            .map(|d| isx_formats::csaf::mandatory::run(black_box(d)).len())
            .sum::<usize>()
    });
}
