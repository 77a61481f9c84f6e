//! CVSS scoring throughput: parse a vector and compute its base score.
//!
//! Run: `cargo bench -p isx-advisories --bench cvss`

use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use isx_advisories::{CvssV3, CvssV4};

fn main() {
    divan::main();
}

fn v3_vectors() -> Vec<String> {
    let av = ["N", "A", "L", "P"];
    let ac = ["L", "H"];
    let pr = ["N", "L", "H"];
    let cia = ["N", "L", "H"];
    let mut out = Vec::new();
    for (i, a) in av.iter().enumerate() {
        for c in ac {
            for p in pr {
                for s in ["U", "C"] {
                    let x = cia[i % 3];
                    out.push(format!(
                        "CVSS:3.1/AV:{a}/AC:{c}/PR:{p}/UI:N/S:{s}/C:{x}/I:H/A:{}",
                        cia[(i + 1) % 3]
                    ));
                }
            }
        }
    }
    out
}

#[divan::bench]
fn v31_parse_and_score(b: Bencher) {
    let vs = v3_vectors();
    b.counter(ItemsCount::new(vs.len())).bench_local(|| {
        vs.iter()
            .map(|v| {
                CvssV3::parse(black_box(v))
                    .map(|c| c.score())
                    .unwrap_or(0.0)
            })
            .sum::<f64>()
    });
}

#[divan::bench]
fn v40_parse_and_score(b: Bencher) {
    let vs: Vec<String> = ["N", "A", "L", "P"]
        .iter()
        .flat_map(|av| {
            ["N", "L", "H"].iter().map(move |vc| {
                format!("CVSS:4.0/AV:{av}/AC:L/AT:N/PR:N/UI:N/VC:{vc}/VI:H/VA:H/SC:N/SI:N/SA:N")
            })
        })
        .collect();
    b.counter(ItemsCount::new(vs.len())).bench_local(|| {
        vs.iter()
            .map(|v| {
                CvssV4::parse(black_box(v))
                    .map(|c| c.score())
                    .unwrap_or(0.0)
            })
            .sum::<f64>()
    });
}
