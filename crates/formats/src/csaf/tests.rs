use isx_advisories::{
    Advisory, AffectedProduct, CvssV3, CvssV4, Cwe, ExploitIndex, Exploitability, Faq,
    KnownExploited, ProductStatus, Reference, Remediation, RemediationCategory, Revision,
};
use isx_domain::{Timestamp, Tlp};
use serde_json::{json, Value};

use super::*;
use crate::FormatError;

fn sample(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../../shared/data/csaf/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_oasis_samples_import() {
    let bsi = parse(&sample("bsi-2022-0001.json")).unwrap();
    assert_eq!(bsi.tracking_id, "BSI-2022-0001");
    assert_eq!(bsi.tlp, Some(Tlp::Clear), "TLP 1.0 WHITE is TLP 2.0 CLEAR");
    let a = &bsi.advisories[0];
    assert_eq!(a.id.as_str(), "CVE-2022-27193");
    assert_eq!(a.cwe.as_ref().unwrap().id, "CWE-611");
    assert!(a.description.contains("XML External Entities"));
    let p = a
        .affected
        .iter()
        .find(|p| p.version.as_deref() == Some("1.0.0-rc1"))
        .expect("rc1 listed");
    assert_eq!(
        (p.vendor.as_str(), p.product.as_str()),
        ("CSAF Tools", "CVRF-CSAF-Converter")
    );
    assert_eq!(
        p.cpe.as_deref(),
        Some("cpe:/a:csaf-tools:cvrf-csaf-converter:1.0.0-rc1")
    );
    assert!(a.cvss_v31.is_some());

    for name in ["rhsa-2021_5217.json", "rhsa-2022_0011.json"] {
        let doc = parse(&sample(name)).unwrap();
        assert!(!doc.advisories.is_empty(), "{name}");
        for a in &doc.advisories {
            assert!(
                a.affected.iter().all(|p| !p.product.is_empty()),
                "{name}: every product is named"
            );
            if name == "rhsa-2022_0011.json" {
                assert!(
                    a.affected.iter().any(|p| p
                        .platform
                        .as_deref()
                        .is_some_and(|x| x.contains("Red Hat Enterprise Linux"))),
                    "{name}: relationships give the platform"
                );
            }
        }
    }
    let vex = parse(&sample("2022-evd-uc-01-a-001.json"));
    assert!(vex.is_ok(), "the VEX sample is schema-valid: {vex:?}");
}

#[test]
fn bad_documents_name_the_json_path() {
    let mut doc: Value = serde_json::from_slice(&sample("bsi-2022-0001.json")).unwrap();
    doc["document"]["tracking"]["status"] = "almost".into();
    let e = parse(&serde_json::to_vec(&doc).unwrap()).unwrap_err();
    assert_eq!(e.pointer(), Some("/document/tracking/status"), "{e}");

    let mut doc: Value = serde_json::from_slice(&sample("bsi-2022-0001.json")).unwrap();
    doc["vulnerabilities"][0]["cve"] = "CVE-22-1".into();
    let e = parse(&serde_json::to_vec(&doc).unwrap()).unwrap_err();
    assert_eq!(e.pointer(), Some("/vulnerabilities/0/cve"), "{e}");

    let mut doc: Value = serde_json::from_slice(&sample("bsi-2022-0001.json")).unwrap();
    doc["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseScore"] = 1.0.into();
    // A stated score its vector does not compute fails CSAF 2.0 test 6.1.9.
    let e = parse(&serde_json::to_vec(&doc).unwrap()).unwrap_err();
    assert!(
        e.to_string().contains("6.1.9 baseScore 1 is not the 6.1"),
        "{e}"
    );
    assert_eq!(
        e.pointer(),
        Some("/vulnerabilities/0/scores/0/cvss_v3/baseScore"),
        "{e}"
    );

    assert!(matches!(parse(b"{not json"), Err(FormatError::Json(_))));
    assert!(matches!(parse(b"{}"), Err(FormatError::Schema { .. })));
}

fn ctx(is_final: bool) -> ExportContext {
    ExportContext {
        publisher_name: "isx test".into(),
        publisher_namespace: "https://isx.example".into(),
        tracking_id: "ISX-CVE-2026-10001".into(),
        title: "Test advisory".into(),
        tlp: Tlp::Amber,
        is_final,
        initial_release: Timestamp::from_secs(1_800_000_000),
        current_release: Timestamp::from_secs(1_800_086_400),
    }
}

pub(crate) fn rich_advisory() -> Advisory {
    let product =
        |id: &str, version: Option<&str>, platform: Option<&str>, status, fix: Option<&str>| {
            AffectedProduct {
                product_id: id.into(),
                vendor: "Contoso".into(),
                product: "Gateway".into(),
                version: version.map(Into::into),
                platform: platform.map(Into::into),
                cpe: Some(format!(
                    "cpe:2.3:a:contoso:gateway:{}:*:*:*:*:*:*:*",
                    version.unwrap_or("*")
                )),
                purl: None,
                status,
                fix: fix.map(Into::into),
                csaf_status: None,
                justification: None,
                impact_statement: None,
            }
        };
    Advisory {
        id: "CVE-2026-10001".parse().unwrap(),
        kind: isx_advisories::AdvisoryKind::Vulnerability,
        other_ids: vec![],
        title: "Contoso Gateway remote code execution".into(),
        description: "A crafted request lets an unauthenticated attacker run code.".into(),
        cwe: Some(Cwe::new("CWE-787", "Out-of-bounds Write").unwrap()),
        cvss_v31: Some(CvssV3::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap()),
        cvss_v40: Some(
            CvssV4::parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
                .unwrap(),
        ),
        exploitability: Some(Exploitability {
            latest: ExploitIndex::MoreLikely,
            older: ExploitIndex::LessLikely,
            publicly_disclosed: false,
            exploited: false,
        }),
        exploit_statement: None,
        epss: None,
        ssvc: None,
        known_exploited: Some(KnownExploited {
            date_added: "2026-11-20".into(),
            due_date: Some("2026-12-11".into()),
            ransomware: true,
        }),
        affected: vec![
            product(
                "CGW-1",
                Some("4.2"),
                Some("x64"),
                ProductStatus::Affected,
                Some("4.2.7"),
            ),
            product(
                "CGW-2",
                Some("4.2"),
                Some("arm64"),
                ProductStatus::Affected,
                Some("4.2.7"),
            ),
            product("CGW-3", Some("5.0"), None, ProductStatus::Fixed, None),
            product("CGW-4", None, None, ProductStatus::UnderInvestigation, None),
        ],
        remediations: vec![Remediation {
            category: RemediationCategory::Workaround,
            details: "Block TCP 8443 at the perimeter.".into(),
            url: None,
            product_ids: vec!["CGW-1".into(), "CGW-2".into()],
        }],
        faqs: vec![Faq {
            question: "Is the cloud service affected?".into(),
            answer: "No.".into(),
        }],
        references: vec![Reference {
            url: "https://contoso.example/security/CVE-2026-10001".into(),
            summary: "Vendor advisory".into(),
        }],
        revisions: vec![
            Revision {
                number: 1,
                date: Timestamp::from_secs(1_800_000_000),
                summary: "Initial release".into(),
                exploitability_only: false,
                label: None,
            },
            Revision {
                number: 2,
                date: Timestamp::from_secs(1_800_086_400),
                summary: "Fix version corrected".into(),
                exploitability_only: false,
                label: None,
            },
        ],
    }
}

#[test]
fn exports_validate_and_round_trip_losslessly() {
    let a = rich_advisory();
    for is_final in [false, true] {
        let doc = to_csaf(&a, &ctx(is_final));
        validate(&doc).unwrap_or_else(|e| panic!("export is schema-valid: {e}\n{doc:#}"));
        assert_eq!(super::mandatory::run(&doc), Vec::new(), "{doc:#}");
        assert_eq!(
            doc["document"]["tracking"]["status"],
            if is_final { "final" } else { "interim" }
        );
        assert_eq!(doc["document"]["distribution"]["tlp"]["label"], "AMBER");
        let back = parse(&serde_json::to_vec(&doc).unwrap()).unwrap();
        // Left: the under-investigation product has no remediation (isx
        // invents none), and a bare export has no canonical URL (the
        // application adds the provider's).
        let left: Vec<&String> = back
            .warnings
            .iter()
            .filter(|w| !w.starts_with("6.2.2 ") && !w.starts_with("6.2.11 "))
            .collect();
        assert!(left.is_empty(), "{:?}", back.warnings);
        assert_eq!(back.advisories.len(), 1);
        assert_eq!(
            back.advisories[0], a,
            "import → export → import keeps every modelled field"
        );
    }
}

#[test]
fn samples_survive_export_and_reimport() {
    for name in [
        "bsi-2022-0001.json",
        "rhsa-2021_5217.json",
        "rhsa-2022_0011.json",
    ] {
        for a in parse(&sample(name)).unwrap().advisories {
            let doc = to_csaf(&a, &ctx(true));
            validate(&doc).unwrap_or_else(|e| panic!("{name} {}: {e}", a.id));
            let back = parse(&serde_json::to_vec(&doc).unwrap()).unwrap();
            assert_eq!(back.advisories[0], a, "{name} {}", a.id);
        }
    }
}

#[test]
fn kev_catalogue_parses() {
    let path = format!(
        "{}/../../../shared/data/kev/known_exploited_vulnerabilities.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(path).unwrap();
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(crate::kev::is_kev(&doc));
    let entries = crate::kev::parse(&bytes).unwrap();
    assert!(entries.len() > 1000, "{}", entries.len());
    assert!(entries.iter().any(|e| e.known.ransomware));
    assert!(entries.iter().all(|e| !e.known.date_added.is_empty()));
}

/// Issue 18's export defects: a CWE name that is not the catalogue's
/// (6.1.11), semantic revision numbers cut to their major (6.1.22), a
/// version range written as `product_version` (6.1.31).
#[test]
fn exports_keep_semantic_versions_ranges_and_catalogue_cwe_names() {
    let mut a = rich_advisory();
    a.cwe = Some(isx_advisories::Cwe::new("CWE-787", "Buffer overflow").unwrap());
    a.affected[2].version = Some("<=1.14.0".into());
    a.revisions[0].label = Some("1.0.0".into());
    a.revisions[1].label = Some("1.1.0".into());
    a.revisions[1].number = 1;
    // A revision isx made after the import.
    a.revisions.push(Revision {
        number: 2,
        date: Timestamp::from_secs(1_800_172_800),
        summary: "Exploitability updated".into(),
        exploitability_only: false,
        label: None,
    });
    let doc = to_csaf(&a, &ctx(true));
    validate(&doc).unwrap();
    assert_eq!(super::mandatory::run(&doc), Vec::new(), "{doc:#}");
    let numbers: Vec<&str> = doc["document"]["tracking"]["revision_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["1.0.0", "1.1.0", "2.0.0"]);
    assert_eq!(doc["document"]["tracking"]["version"], "2.0.0");
    assert_eq!(
        doc["vulnerabilities"][0]["cwe"]["name"],
        "Out-of-bounds Write"
    );
    let text = doc["product_tree"].to_string();
    assert!(
        text.contains(r#""category":"product_version_range","name":"<=1.14.0""#),
        "{text}"
    );
    // And back: the numbers as written.
    let back = parse(&serde_json::to_vec(&doc).unwrap()).unwrap();
    let labels: Vec<String> = back.advisories[0]
        .revisions
        .iter()
        .map(|r| r.label.clone().unwrap_or_else(|| r.number.to_string()))
        .collect();
    assert_eq!(labels, ["1.0.0", "1.1.0", "2.0.0"]);
}

/// Issue 18: an informational advisory is stored as one, said so, and
/// exported again as a valid `csaf_informational_advisory`.
#[test]
fn an_informational_advisory_is_stored_and_exported() {
    let base = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/csaf-mandatory/6.1.27.3-pass-01.json"
    ))
    .unwrap();
    let doc = parse(&base).unwrap();
    let [a] = doc.advisories.as_slice() else {
        panic!("one advisory: {:?}", doc.advisories)
    };
    assert_eq!(a.kind, isx_advisories::AdvisoryKind::Informational);
    assert_eq!(a.id.as_str(), "ISX-TEST-6.1.27.3-pass-01");
    assert!(!a.id.is_cve());
    assert_eq!(
        a.description,
        "A cross-site scripting flaw in Example Widget 1.0."
    );
    assert_eq!(a.references.len(), 1);
    assert!(
        doc.warnings
            .iter()
            .any(|w| w.contains("stored as the informational advisory ISX-TEST-6.1.27.3-pass-01")),
        "{:?}",
        doc.warnings
    );
    // (Exported under its own title and id, so that the round trip can
    // compare; isx publishes it as `ISX-<id>`.)
    let mut c = ctx(true);
    c.title = a.title.clone();
    c.tracking_id = a.id.to_string();
    let out = to_csaf(a, &c);
    assert_eq!(out["document"]["category"], "csaf_informational_advisory");
    assert!(out.get("vulnerabilities").is_none());
    validate(&out).unwrap();
    let failed = super::mandatory::run(&out);
    assert!(failed.is_empty(), "{failed:?}");
    let back = parse(&serde_json::to_vec(&out).unwrap()).unwrap();
    assert_eq!(&back.advisories[0], a, "the round trip keeps it");
}

/// An informational document whose tracking id reads as a CVE id never
/// becomes that CVE's advisory.
#[test]
fn an_informational_advisory_is_no_cves() {
    let mut doc: Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/csaf-mandatory/6.1.27.3-pass-01.json"
        ))
        .unwrap(),
    )
    .unwrap();
    doc["document"]["tracking"]["id"] = json!("CVE-2099-7001");
    let parsed = parse(&serde_json::to_vec(&doc).unwrap()).unwrap();
    assert_eq!(parsed.advisories[0].id.as_str(), "INFO-CVE-2099-7001");
    assert!(!parsed.advisories[0].id.is_cve());
}

/// The store's id key is the provider's file name: two ids with one key
/// are one document URL, two keys are two.
#[test]
fn the_id_key_is_the_file_name() {
    for id in [
        "CVE-2026-41001",
        "GHSA-jfh8-c2jp-5v3q",
        "RHSA-2024:1234",
        "A.:1",
        "pkg+1.0:a",
        "x__y",
    ] {
        let id: isx_advisories::AdvisoryId = id.parse().unwrap();
        assert_eq!(
            super::provider::file_name(&format!("ISX-{id}")),
            format!("isx-{}.json", id.key()),
            "{id}"
        );
    }
}

/// An informational advisory that cannot be one (no reference to point
/// to) is reported, never dropped silently.
#[test]
fn a_document_that_yields_nothing_says_so() {
    let mut doc: Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/csaf-mandatory/6.1.27.3-pass-01.json"
        ))
        .unwrap(),
    )
    .unwrap();
    doc["document"]["category"] = json!("generic_csaf");
    doc["document"]
        .as_object_mut()
        .unwrap()
        .remove("references");
    let parsed = parse(&serde_json::to_vec(&doc).unwrap()).unwrap();
    assert!(parsed.advisories.is_empty());
    assert!(
        parsed
            .warnings
            .iter()
            .any(|w| w.contains("generic_csaf") && w.contains("nothing was stored")),
        "{:?}",
        parsed.warnings
    );
}

/// Issue 18: vulnerabilities without a CVE id are stored under their
/// other id (a GHSA id), a Bugzilla number under its system's name, and
/// one with no id at all under the document's tracking id; each is said,
/// and exports and re-imports to the same advisory.
#[test]
fn vulnerabilities_without_cve_ids_are_stored_under_other_ids() {
    let mut doc: Value = serde_json::from_slice(&sample("bsi-2022-0001.json")).unwrap();
    let template = doc["vulnerabilities"][0].clone();
    let mut ghsa = template.clone();
    ghsa.as_object_mut().unwrap().remove("cve");
    ghsa["ids"] =
        json!([{"system_name": "GitHub Security Advisory", "text": "GHSA-jfh8-c2jp-5v3q"}]);
    let mut bugzilla = template.clone();
    bugzilla.as_object_mut().unwrap().remove("cve");
    bugzilla["ids"] = json!([{"system_name": "Red Hat Bugzilla ID", "text": "2035769"}]);
    let mut bare = template.clone();
    bare.as_object_mut().unwrap().remove("cve");
    bare.as_object_mut().unwrap().remove("ids");
    doc["vulnerabilities"] = json!([ghsa, bugzilla, bare]);
    let parsed = parse(&serde_json::to_vec(&doc).unwrap()).unwrap();
    let ids: Vec<&str> = parsed.advisories.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "GHSA-jfh8-c2jp-5v3q",
            "Red-Hat-Bugzilla-ID-2035769",
            "BSI-2022-0001"
        ]
    );
    for id in &ids {
        assert!(
            parsed
                .warnings
                .iter()
                .any(|w| w.contains(&format!("no CVE id; stored as {id}"))),
            "{id}: {:?}",
            parsed.warnings
        );
    }
    for a in &parsed.advisories {
        assert!(!a.id.is_cve());
        let out = to_csaf(a, &ctx(true));
        let v = &out["vulnerabilities"][0];
        assert!(v.get("cve").is_none(), "{v}");
        assert!(
            v["ids"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["text"] == a.id.as_str()),
            "{v}"
        );
        validate(&out).unwrap();
        let failed = super::mandatory::run(&out);
        assert!(failed.is_empty(), "{failed:?}");
        let back = parse(&serde_json::to_vec(&out).unwrap()).unwrap();
        assert_eq!(&back.advisories[0], a);
    }
    // Ids that a file name writes alike, a CVE id in `ids`, a numbered
    // id that collides again: never two advisories under one id.
    let with_ids = |ids: &[&str]| {
        let mut d = doc.clone();
        d["vulnerabilities"] = Value::Array(
            ids.iter()
                .map(|t| {
                    let mut v = template.clone();
                    v.as_object_mut().unwrap().remove("cve");
                    v["ids"] = json!([{"system_name": "X", "text": t}]);
                    v
                })
                .collect(),
        );
        parse(&serde_json::to_vec(&d).unwrap())
    };
    let got = |r: Result<CsafDocument, FormatError>| -> Vec<String> {
        r.unwrap()
            .advisories
            .iter()
            .map(|a| a.id.to_string())
            .collect()
    };
    assert_eq!(
        got(with_ids(&["GHSA-Case", "ghsa-case"])),
        ["GHSA-Case", "ghsa-case:2"]
    );
    assert_eq!(got(with_ids(&["A.1", "A:1"])), ["A.1", "A:1:2"]);
    assert_eq!(got(with_ids(&["CVE-2099-7001"])), ["X-CVE-2099-7001"]);
    let long = format!("L{}", "a".repeat(127));
    let two = got(with_ids(&[&long, &long]));
    assert_eq!(two[1], format!("{}:2", &long[..126]));
    // `DUPA:3` taken by the first, `DUPA` twice: the third cannot be `DUPA:3`.
    let err = with_ids(&["DUPA:3", "DUPA", "DUPA"])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("/vulnerabilities/2") && err.contains("another vulnerability"),
        "{err}"
    );
    // A CVE id that is not one is still refused.
    let mut bad = doc.clone();
    bad["vulnerabilities"][0]["cve"] = json!("CVE-22-1");
    assert!(parse(&serde_json::to_vec(&bad).unwrap()).is_err());
}

/// A revision number at the top of u64 exports without overflowing.
#[test]
fn the_largest_semantic_version_exports() {
    let mut a = rich_advisory();
    a.revisions[1].label = Some("18446744073709551615.0.0".into());
    a.revisions.push(Revision {
        number: 3,
        date: Timestamp::from_secs(1_800_172_800),
        summary: "After".into(),
        exploitability_only: false,
        label: None,
    });
    let doc = to_csaf(&a, &ctx(true));
    assert_eq!(
        doc["document"]["tracking"]["revision_history"][2]["number"],
        "18446744073709551615.0.0"
    );
}

/// Every optional-test case isx ships: a `6.2.N-fail-K` document triggers
/// its test, a `pass` document does not, the base triggers none; all of
/// them pass the schema and every mandatory test (they are valid CSAF).
#[test]
fn optional_test_cases_are_judged_as_named() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/csaf-optional");
    let mut n = 0;
    let mut report = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        validate(&doc).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(super::mandatory::run(&doc), Vec::new(), "{name}");
        let found: Vec<&str> = super::optional::run(&doc).iter().map(|f| f.test).collect();
        for t in &found {
            report.push_str(&format!("{name}.json {t}\n"));
        }
        if name == "base" {
            assert_eq!(found, Vec::<&str>::new(), "the base passes every test");
        } else {
            let (test, rest) = name.split_once('-').unwrap();
            let fails = rest.starts_with("fail");
            assert_eq!(found.contains(&test), fails, "{name}: {found:?}");
        }
        n += 1;
    }
    assert!(n >= 50, "{n} cases");
    if let Ok(out) = std::env::var("ISX_OPTIONAL_REPORT") {
        std::fs::write(out, report).unwrap();
    }
}

/// A VEX document's product status is kept: the finer status groups
/// (`last_affected`, `first_fixed`), each not-affected product's
/// justification (flag) and impact statement — and exported back.
#[test]
fn vex_product_status_is_kept_and_exported() {
    use serde_json::json;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/csaf-mandatory/base.json"
    );
    let mut doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    doc["document"]["category"] = json!("csaf_vex");
    doc["product_tree"]["full_product_names"] = json!([
        {"name": "Example Widget 0.9", "product_id": "CSAFPID-0003"},
        {"name": "Example Widget Lite 1.0", "product_id": "CSAFPID-0004"}
    ]);
    let v = &mut doc["vulnerabilities"][0];
    v["product_status"] = json!({
        "last_affected": ["CSAFPID-0001"],
        "first_fixed": ["CSAFPID-0002"],
        "known_not_affected": ["CSAFPID-0003", "CSAFPID-0004"]
    });
    v["flags"] = json!([{"label": "vulnerable_code_not_present", "product_ids": ["CSAFPID-0003"]}]);
    v["threats"] = json!([
        {"category": "impact", "details": "The widget's renderer escapes all input in Lite.", "product_ids": ["CSAFPID-0004"]}
    ]);
    v["scores"][0]["products"] = json!(["CSAFPID-0001"]);
    assert_eq!(
        super::mandatory::run(&doc),
        Vec::new(),
        "the test document is valid VEX"
    );
    let parsed = parse(&serde_json::to_vec(&doc).unwrap()).unwrap();
    let a = &parsed.advisories[0];
    let p = |id: &str| a.affected.iter().find(|p| p.product_id == id).unwrap();
    assert_eq!(
        p("CSAFPID-0001").csaf_status.as_deref(),
        Some("last_affected")
    );
    assert_eq!(
        p("CSAFPID-0002").csaf_status.as_deref(),
        Some("first_fixed")
    );
    assert_eq!(
        p("CSAFPID-0003").justification.as_deref(),
        Some("vulnerable_code_not_present")
    );
    assert_eq!(
        p("CSAFPID-0004").impact_statement.as_deref(),
        Some("The widget's renderer escapes all input in Lite.")
    );
    let out = to_csaf(a, &ctx(true));
    validate(&out).unwrap();
    assert_eq!(super::mandatory::run(&out), Vec::new(), "{out:#}");
    let ps = &out["vulnerabilities"][0]["product_status"];
    assert_eq!(ps["last_affected"], json!(["CSAFPID-0001"]));
    assert_eq!(ps["first_fixed"], json!(["CSAFPID-0002"]));
    assert_eq!(
        out["vulnerabilities"][0]["flags"],
        json!([{"label": "vulnerable_code_not_present", "product_ids": ["CSAFPID-0003"]}])
    );
    let back = parse(&serde_json::to_vec(&out).unwrap()).unwrap();
    assert_eq!(
        &back.advisories[0], a,
        "import → export → import keeps the VEX status"
    );
}

/// A small document that names one large product group from many flags
/// would make the group tests and the import expand it billions of
/// times: refused at once, saying why.
#[test]
fn group_expansion_is_bounded() {
    let mut doc: Value = serde_json::from_slice(&sample("bsi-2022-0001.json")).unwrap();
    let ids: Vec<String> = (0..5_000).map(|i| format!("P{i}")).collect();
    doc["product_tree"]["product_groups"] = json!([{"group_id": "G", "product_ids": ids}]);
    let flags: Vec<Value> = (0..500)
        .map(|_| json!({"label": "component_not_present", "group_ids": ["G", "G", "G"]}))
        .collect();
    doc["vulnerabilities"][0]["flags"] = Value::Array(flags);
    assert_eq!(super::mandatory::group_expansion(&doc), 2_500_000);
    let err = parse(&serde_json::to_vec(&doc).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("2500000 times") && err.contains("product_groups"),
        "{err}"
    );
}
