//! Every shipped case document (`testdata/csaf-mandatory`, written by
//! `scripts/csaf-mandatory-cases.py`; CI holds the official validator
//! library to the same documents): a `6.1.N-fail-K` document fails test
//! 6.1.N, and is refused on import naming it; a `6.1.N-pass-K` document
//! passes every test and imports.

use std::path::PathBuf;

use serde_json::Value;

use super::*;

fn cases() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/csaf-mandatory");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("case directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            let doc = serde_json::from_slice(&std::fs::read(&p).expect("read")).expect("JSON");
            (name, doc)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The test a case is about and whether it should fail it.
fn about(name: &str) -> Option<(&str, bool)> {
    let (test, rest) = name.split_once('-')?;
    Some((test, rest.starts_with("fail")))
}

#[test]
fn every_failing_case_fails_its_test_and_is_refused_naming_it() {
    let mut tested = BTreeSet::new();
    let mut failing = 0;
    for (name, doc) in cases() {
        let Some((test, true)) = about(&name) else {
            continue;
        };
        failing += 1;
        tested.insert(test.to_owned());
        let found = run(&doc);
        assert!(
            found.iter().any(|f| f.test == test),
            "{name} should fail {test}: {found:?}"
        );
        let bytes = serde_json::to_vec(&doc).expect("bytes");
        match crate::csaf::parse(&bytes) {
            Err(crate::FormatError::Csaf(f)) => {
                assert!(f.iter().any(|f| f.test == test), "{name}: {f:?}");
                let text = crate::FormatError::Csaf(f).to_string();
                assert!(text.contains(&format!("{test} ")), "{name}: {text}");
            }
            other => panic!("{name} should be refused naming {test}: {other:?}"),
        }
    }
    // Every test of the list has a failing case (6.1.27 by its parts).
    for (test, _) in TESTS {
        assert!(
            tested
                .iter()
                .any(|t| t == test || t.starts_with(&format!("{test}."))),
            "no failing case for {test}"
        );
    }
    assert!(failing >= 50, "{failing}");
}

#[test]
fn every_passing_case_passes_every_test_and_imports() {
    let mut passing = 0;
    for (name, doc) in cases() {
        if about(&name).is_some_and(|(_, fail)| fail) {
            continue;
        }
        passing += 1;
        assert_eq!(run(&doc), Vec::new(), "{name}");
        let bytes = serde_json::to_vec(&doc).expect("bytes");
        if let Err(e) = crate::csaf::parse(&bytes) {
            panic!("{name} should import: {e}");
        }
    }
    assert!(passing >= 30, "{passing}");
}

#[test]
fn the_refusal_reads_test_place_and_value() {
    let f = Finding {
        test: "6.1.1",
        pointer: "/vulnerabilities/0/product_status/known_affected/0".into(),
        message: "missing product definition: CSAFPID-9080700".into(),
    };
    assert_eq!(
        f.to_string(),
        "6.1.1 missing product definition at /vulnerabilities/0/product_status/known_affected/0: CSAFPID-9080700"
    );
}

#[test]
fn language_tags_are_checked_against_the_registry() {
    for ok in [
        "en",
        "en-US",
        "de-CH-1996",
        "zh-Hant-TW",
        "sr-Latn-RS",
        "x-private",
        "i-default",
        "es-419",
        "en-u-ca-gregory",
    ] {
        assert!(is_language_tag(ok), "{ok}");
    }
    for bad in [
        "ez",
        "en-UK",
        "en-yue",
        "de-DE-1901-1901",
        "en-a-xx",
        "en--US",
        "",
        "toolongtag9",
    ] {
        assert!(!is_language_tag(bad), "{bad}");
    }
}

#[test]
fn package_urls() {
    for ok in [
        "pkg:generic/widget@1.0",
        "pkg:maven/org.example/widget@1.0?type=jar",
        "pkg:npm/%40scope/name@1.0.0#lib",
    ] {
        assert!(is_purl(ok), "{ok}");
    }
    for bad in [
        "pkg:generic",
        "pkg:1generic/x",
        "pkg:generic/x?1a=b",
        "pkg:generic/x?a=b&a=c",
        "http://x/y",
    ] {
        assert!(!is_purl(bad), "{bad}");
    }
}

#[test]
fn the_cwe_catalogue_is_shipped() {
    assert_eq!(cwe_name("CWE-787"), Some("Out-of-bounds Write"));
    assert!(cwe_names().len() > 900);
}

/// A long chain of relationships is judged in linear time (a search from
/// every relationship took quadratic time), and a cycle at its end is
/// still found.
#[test]
fn a_long_relationship_chain_is_judged_quickly() {
    let n = 20_000;
    let mut rels: Vec<Value> = (1..n)
        .map(|i| {
            serde_json::json!({"category": "installed_on",
                "product_reference": format!("P{}", i - 1), "relates_to_product_reference": "P0",
                "full_product_name": {"name": format!("p{i}"), "product_id": format!("P{i}")}})
        })
        .collect();
    let doc = serde_json::json!({"product_tree": {"relationships": rels.clone()}});
    let mut out = Vec::new();
    circular_product_definition(&doc, &mut out);
    assert!(out.is_empty(), "{:?}", out.first());
    // Close it: P0 is made of the last one.
    rels.push(serde_json::json!({"category": "installed_on",
        "product_reference": format!("P{}", n - 1), "relates_to_product_reference": "P1",
        "full_product_name": {"name": "p0", "product_id": "P0"}}));
    let doc = serde_json::json!({"product_tree": {"relationships": rels}});
    circular_product_definition(&doc, &mut out);
    assert_eq!(out.len(), n, "every id on the circle");
}
