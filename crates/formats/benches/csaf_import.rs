//! CSAF import throughput: parse, validate against the CSAF 2.0 schema and
//! map to advisories, on the OASIS sample documents.
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
