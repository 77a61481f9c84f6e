//! The optional (§6.2) and informative (§6.3) tests of CSAF 2.0: what a
//! good document does, reported as warnings on import (never a refusal).
//! Each test is its own function with the specification's requirement;
//! [`TESTS`] lists them. `crates/formats/testdata/csaf-optional` holds a
//! failing and a passing document for each, which CI also has the
//! official validator library judge.
//!
//! Not run here: 6.2.13 (keys sorted: isx reads JSON into sorted maps, so
//! the order a document was written in is gone before any test),
//! 6.2.20 (additional properties: the strict schema's business; isx
//! validates with the official schema), 6.3.6 and 6.3.7 (URLs that do not
//! resolve: no network on import), 6.3.8 (spell check) and 6.3.9 (branch
//! categories).

use std::collections::BTreeSet;

use serde_json::Value;

use super::mandatory::{
    category, finding, groups, items, micros, named_products, product_definitions,
    product_references, revisions, text, tracking, vulnerabilities, Finding,
};
use super::provider::file_name;

type Test = fn(&Value, &mut Vec<Finding>);

/// Every optional and informative test isx runs, in the specification's order.
pub const TESTS: &[(&str, Test)] = &[
    ("6.2.1", unused_product_id),
    ("6.2.2", missing_remediation),
    ("6.2.3", missing_score),
    ("6.2.4", build_metadata_in_revision_history),
    ("6.2.5", older_initial_release_date),
    ("6.2.6", older_current_release_date),
    ("6.2.7", missing_date_in_involvements),
    ("6.2.8", md5_only),
    ("6.2.9", sha1_only),
    ("6.2.10", missing_tlp_label),
    ("6.2.11", missing_canonical_url),
    ("6.2.12", missing_document_language),
    ("6.2.14", private_language),
    ("6.2.15", default_language),
    ("6.2.16", missing_product_identification_helper),
    ("6.2.17", cve_in_field_ids),
    ("6.2.18", version_range_without_vers),
    ("6.2.19", cvss_for_fixed_products),
    ("6.3.1", cvss_v2_only),
    ("6.3.2", cvss_v3_0),
    ("6.3.3", missing_cve),
    ("6.3.4", missing_cwe),
    ("6.3.5", short_hash),
    ("6.3.10", product_version_range_used),
    ("6.3.11", v_as_version_indicator),
];

/// Runs every test; each finding is a warning.
pub fn run(doc: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    for (_, test) in TESTS {
        test(doc, &mut out);
    }
    out
}

const AFFECTED: [&str; 3] = ["first_affected", "known_affected", "last_affected"];

fn status_ids<'a>(v: &'a Value, keys: &[&str]) -> Vec<(String, &'a str)> {
    let mut out = Vec::new();
    if let Some(ps) = v.get("product_status") {
        for key in keys {
            for (i, id) in items(ps, key) {
                if let Some(id) = id.as_str() {
                    out.push((format!("product_status/{key}/{i}"), id));
                }
            }
        }
    }
    out
}

/// 6.2.1 Unused Definition of Product ID: every product id a Full Product
/// Name defines must be referenced somewhere in the document (skipped for
/// informational advisories).
pub fn unused_product_id(doc: &Value, out: &mut Vec<Finding>) {
    if category(doc) == "csaf_informational_advisory" {
        return;
    }
    let used: BTreeSet<&str> = product_references(doc)
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    for (at, p) in product_definitions(doc) {
        if let Some(id) = text(p, "product_id") {
            if !used.contains(id) {
                finding(
                    out,
                    "6.2.1",
                    format!("{at}/product_id"),
                    format!("product id defined but never used: {id}"),
                );
            }
        }
    }
}

/// 6.2.2 Missing Remediation: every product in the Affected or Under
/// investigation groups of a vulnerability needs a remediation.
pub fn missing_remediation(doc: &Value, out: &mut Vec<Finding>) {
    let g = groups(doc);
    for (vi, v) in vulnerabilities(doc) {
        let covered: BTreeSet<&str> = items(v, "remediations")
            .flat_map(|(_, r)| named_products(r, &g))
            .collect();
        let keys = [AFFECTED.as_slice(), &["under_investigation"]].concat();
        for (at, id) in status_ids(v, &keys) {
            if !covered.contains(id) {
                finding(
                    out,
                    "6.2.2",
                    format!("/vulnerabilities/{vi}/{at}"),
                    format!("no remediation for the product: {id}"),
                );
            }
        }
    }
}

/// 6.2.3 Missing Score: every product in the Affected groups of a
/// vulnerability needs a score.
pub fn missing_score(doc: &Value, out: &mut Vec<Finding>) {
    for (vi, v) in vulnerabilities(doc) {
        let scored: BTreeSet<&str> = items(v, "scores")
            .flat_map(|(_, s)| items(s, "products").filter_map(|(_, p)| p.as_str()))
            .collect();
        for (at, id) in status_ids(v, &AFFECTED) {
            if !scored.contains(id) {
                finding(
                    out,
                    "6.2.3",
                    format!("/vulnerabilities/{vi}/{at}"),
                    format!("no score for the affected product: {id}"),
                );
            }
        }
    }
}

/// 6.2.4 Build Metadata in Revision History: revision numbers should not
/// carry semantic-versioning build metadata (`+…`).
pub fn build_metadata_in_revision_history(doc: &Value, out: &mut Vec<Finding>) {
    for (i, number, _, _) in revisions(doc) {
        if number.contains('+') {
            finding(
                out,
                "6.2.4",
                format!("/document/tracking/revision_history/{i}/number"),
                format!("build metadata in a revision number: {number}"),
            );
        }
    }
}

fn revision_dates(doc: &Value) -> Vec<i64> {
    revisions(doc)
        .into_iter()
        .filter_map(|(_, _, _, d)| d.and_then(micros))
        .collect()
}

/// 6.2.5 Older Initial Release Date than Revision History: the initial
/// release date must not be older than the oldest revision's date.
pub fn older_initial_release_date(doc: &Value, out: &mut Vec<Finding>) {
    let (Some(initial), Some(oldest)) = (
        tracking(doc, "initial_release_date").and_then(micros),
        revision_dates(doc).into_iter().min(),
    ) else {
        return;
    };
    if initial < oldest {
        let value = tracking(doc, "initial_release_date").unwrap_or("");
        finding(
            out,
            "6.2.5",
            "/document/tracking/initial_release_date",
            format!("older than the oldest revision: {value}"),
        );
    }
}

/// 6.2.6 Older Current Release Date than Revision History: the current
/// release date must not be older than the newest revision's date.
pub fn older_current_release_date(doc: &Value, out: &mut Vec<Finding>) {
    let (Some(current), Some(newest)) = (
        tracking(doc, "current_release_date").and_then(micros),
        revision_dates(doc).into_iter().max(),
    ) else {
        return;
    };
    if current < newest {
        let value = tracking(doc, "current_release_date").unwrap_or("");
        finding(
            out,
            "6.2.6",
            "/document/tracking/current_release_date",
            format!("older than the newest revision: {value}"),
        );
    }
}

/// 6.2.7 Missing Date in Involvements: every involvement should be dated.
pub fn missing_date_in_involvements(doc: &Value, out: &mut Vec<Finding>) {
    for (vi, v) in vulnerabilities(doc) {
        for (i, inv) in items(v, "involvements") {
            if inv.get("date").is_none() {
                finding(
                    out,
                    "6.2.7",
                    format!("/vulnerabilities/{vi}/involvements/{i}"),
                    "involvement without a date",
                );
            }
        }
    }
}

fn only_hash(doc: &Value, out: &mut Vec<Finding>, test: &'static str, alg: &str) {
    for (at, p) in product_definitions(doc) {
        let Some(h) = p.get("product_identification_helper") else {
            continue;
        };
        for (hi, hash) in items(h, "hashes") {
            let algs: Vec<&str> = items(hash, "file_hashes")
                .filter_map(|(_, f)| text(f, "algorithm"))
                .collect();
            if !algs.is_empty() && algs.iter().all(|a| a.eq_ignore_ascii_case(alg)) {
                finding(
                    out,
                    test,
                    format!("{at}/product_identification_helper/hashes/{hi}/file_hashes"),
                    format!("{alg} is the only hash algorithm: {alg}"),
                );
            }
        }
    }
}

/// 6.2.8 Use of MD5 as the only Hash Algorithm.
pub fn md5_only(doc: &Value, out: &mut Vec<Finding>) {
    only_hash(doc, out, "6.2.8", "md5");
}

/// 6.2.9 Use of SHA-1 as the only Hash Algorithm.
pub fn sha1_only(doc: &Value, out: &mut Vec<Finding>) {
    only_hash(doc, out, "6.2.9", "sha1");
}

/// 6.2.10 Missing TLP label: `/document/distribution/tlp/label` should be given.
pub fn missing_tlp_label(doc: &Value, out: &mut Vec<Finding>) {
    let label = doc.pointer("/document/distribution/tlp/label");
    if label.is_none() {
        finding(out, "6.2.10", "/document/distribution", "no TLP label");
    }
}

/// 6.2.11 Missing Canonical URL: a `self` reference with an `https://` URL
/// ending in the document's file name (§5.1).
pub fn missing_canonical_url(doc: &Value, out: &mut Vec<Finding>) {
    let Some(id) = tracking(doc, "id") else {
        return;
    };
    let name = file_name(id);
    let found = doc
        .pointer("/document/references")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|r| {
            text(r, "category") == Some("self")
                && text(r, "url")
                    .is_some_and(|u| u.starts_with("https://") && u.ends_with(&format!("/{name}")))
        });
    if !found {
        finding(
            out,
            "6.2.11",
            "/document/references",
            format!("no canonical URL ending in the file name: {name}"),
        );
    }
}

/// 6.2.12 Missing Document Language: `/document/lang` should be given.
pub fn missing_document_language(doc: &Value, out: &mut Vec<Finding>) {
    if doc.pointer("/document/lang").is_none() {
        finding(out, "6.2.12", "/document", "no document language");
    }
}

/// Whether a language tag uses subtags the IANA registry reserves for
/// private use: languages qaa–qtz, scripts Qaaa–Qabx, regions AA, QM–QZ,
/// XA–XZ and ZZ. (An `x-` private-use section is not a reserved subtag;
/// the official validator library reads the test the same way.)
fn is_private(tag: &str) -> bool {
    let lower = tag.to_ascii_lowercase();
    let mut parts = lower.split('-');
    let first = parts.next().unwrap_or("");
    let in_range = |s: &str, lo: &str, hi: &str| s.len() == lo.len() && s >= lo && s <= hi;
    if in_range(first, "qaa", "qtz") {
        return true;
    }
    for p in parts {
        if p == "x" {
            // What follows is private-use text, not registry subtags.
            return false;
        }
        let region = p.len() == 2
            && (p == "aa" || p == "zz" || in_range(p, "qm", "qz") || in_range(p, "xa", "xz"));
        if region || in_range(p, "qaaa", "qabx") {
            return true;
        }
    }
    false
}

/// 6.2.14 Use of Private Language: `lang` and `source_lang` should not use
/// private-use subtags.
pub fn private_language(doc: &Value, out: &mut Vec<Finding>) {
    for key in ["lang", "source_lang"] {
        if let Some(tag) = doc.get("document").and_then(|d| text(d, key)) {
            if is_private(tag) {
                finding(
                    out,
                    "6.2.14",
                    format!("/document/{key}"),
                    format!("a private-use language: {tag}"),
                );
            }
        }
    }
}

/// 6.2.15 Use of Default Language: `lang` and `source_lang` should not be
/// `i-default`.
pub fn default_language(doc: &Value, out: &mut Vec<Finding>) {
    for key in ["lang", "source_lang"] {
        if let Some(tag) = doc.get("document").and_then(|d| text(d, key)) {
            if tag.eq_ignore_ascii_case("i-default") {
                finding(
                    out,
                    "6.2.15",
                    format!("/document/{key}"),
                    format!("the default language: {tag}"),
                );
            }
        }
    }
}

/// 6.2.16 Missing Product Identification Helper: every Full Product Name
/// should say how to identify the product (CPE, PURL, hashes, …).
pub fn missing_product_identification_helper(doc: &Value, out: &mut Vec<Finding>) {
    for (at, p) in product_definitions(doc) {
        if p.get("product_identification_helper").is_none() {
            let id = text(p, "product_id").unwrap_or("");
            finding(
                out,
                "6.2.16",
                at,
                format!("no product identification helper: {id}"),
            );
        }
    }
}

fn is_cve(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, num)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && num.len() >= 4
        && num.bytes().all(|b| b.is_ascii_digit())
}

/// 6.2.17 CVE in field IDs: a CVE id belongs in `cve`, not in `ids`.
pub fn cve_in_field_ids(doc: &Value, out: &mut Vec<Finding>) {
    for (vi, v) in vulnerabilities(doc) {
        for (i, id) in items(v, "ids") {
            if let Some(t) = text(id, "text").filter(|t| is_cve(t)) {
                finding(
                    out,
                    "6.2.17",
                    format!("/vulnerabilities/{vi}/ids/{i}/text"),
                    format!("a CVE id in ids: {t}"),
                );
            }
        }
    }
}

fn branches(doc: &Value) -> Vec<(String, &Value)> {
    fn walk<'a>(b: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
        out.push((at.clone(), b));
        for (i, c) in items(b, "branches") {
            walk(c, format!("{at}/branches/{i}"), out);
        }
    }
    let mut out = Vec::new();
    if let Some(tree) = doc.get("product_tree") {
        for (i, b) in items(tree, "branches") {
            walk(b, format!("/product_tree/branches/{i}"), &mut out);
        }
    }
    out
}

/// 6.2.18 Product Version Range without vers: a `product_version_range`
/// should be written in the vers notation (`vers:…`).
pub fn version_range_without_vers(doc: &Value, out: &mut Vec<Finding>) {
    for (at, b) in branches(doc) {
        if text(b, "category") == Some("product_version_range") {
            let name = text(b, "name").unwrap_or("");
            if !name.starts_with("vers:") {
                finding(
                    out,
                    "6.2.18",
                    format!("{at}/name"),
                    format!("a version range not in vers: {name}"),
                );
            }
        }
    }
}

/// 6.2.19 CVSS for Fixed Products: fixed products should carry no score.
pub fn cvss_for_fixed_products(doc: &Value, out: &mut Vec<Finding>) {
    for (vi, v) in vulnerabilities(doc) {
        let fixed: BTreeSet<&str> = status_ids(v, &["fixed", "first_fixed"])
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        for (si, s) in items(v, "scores") {
            for (pi, p) in items(s, "products") {
                if let Some(id) = p.as_str().filter(|id| fixed.contains(id)) {
                    finding(
                        out,
                        "6.2.19",
                        format!("/vulnerabilities/{vi}/scores/{si}/products/{pi}"),
                        format!("a score for a fixed product: {id}"),
                    );
                }
            }
        }
    }
}

/// 6.3.1 Use of CVSS v2 as the only Scoring System.
pub fn cvss_v2_only(doc: &Value, out: &mut Vec<Finding>) {
    for (vi, v) in vulnerabilities(doc) {
        for (si, s) in items(v, "scores") {
            if s.get("cvss_v2").is_some() && s.get("cvss_v3").is_none() {
                finding(
                    out,
                    "6.3.1",
                    format!("/vulnerabilities/{vi}/scores/{si}"),
                    "CVSS v2 is the only score",
                );
            }
        }
    }
}

/// 6.3.2 Use of CVSS v3.0 (rather than 3.1).
pub fn cvss_v3_0(doc: &Value, out: &mut Vec<Finding>) {
    for (vi, v) in vulnerabilities(doc) {
        for (si, s) in items(v, "scores") {
            if s.pointer("/cvss_v3/version").and_then(Value::as_str) == Some("3.0") {
                finding(
                    out,
                    "6.3.2",
                    format!("/vulnerabilities/{vi}/scores/{si}/cvss_v3/version"),
                    "CVSS v3.0 rather than 3.1: 3.0",
                );
            }
        }
    }
}

/// 6.3.3 Missing CVE: a vulnerability without a CVE id.
pub fn missing_cve(doc: &Value, out: &mut Vec<Finding>) {
    for (vi, v) in vulnerabilities(doc) {
        if v.get("cve").is_none() {
            finding(out, "6.3.3", format!("/vulnerabilities/{vi}"), "no CVE id");
        }
    }
}

/// 6.3.4 Missing CWE: a vulnerability without a CWE.
pub fn missing_cwe(doc: &Value, out: &mut Vec<Finding>) {
    for (vi, v) in vulnerabilities(doc) {
        if v.get("cwe").is_none() {
            finding(out, "6.3.4", format!("/vulnerabilities/{vi}"), "no CWE");
        }
    }
}

/// 6.3.5 Use of Short Hash: file hashes shorter than 64 hex digits.
pub fn short_hash(doc: &Value, out: &mut Vec<Finding>) {
    for (at, p) in product_definitions(doc) {
        let Some(h) = p.get("product_identification_helper") else {
            continue;
        };
        for (hi, hash) in items(h, "hashes") {
            for (fi, f) in items(hash, "file_hashes") {
                if let Some(value) = text(f, "value").filter(|v| v.len() < 64) {
                    finding(
                        out,
                        "6.3.5",
                        format!(
                            "{at}/product_identification_helper/hashes/{hi}/file_hashes/{fi}/value"
                        ),
                        format!("a hash shorter than 64 characters: {value}"),
                    );
                }
            }
        }
    }
}

/// 6.3.10 Usage of Product Version Range: exact versions are preferred.
pub fn product_version_range_used(doc: &Value, out: &mut Vec<Finding>) {
    for (at, b) in branches(doc) {
        if text(b, "category") == Some("product_version_range") {
            finding(
                out,
                "6.3.10",
                format!("{at}/category"),
                "a product version range rather than versions",
            );
        }
    }
}

/// 6.3.11 Usage of V as Version Indicator: `v1.2` rather than `1.2`.
pub fn v_as_version_indicator(doc: &Value, out: &mut Vec<Finding>) {
    for (at, b) in branches(doc) {
        if text(b, "category") == Some("product_version") {
            let name = text(b, "name").unwrap_or("");
            let mut c = name.chars();
            if matches!(c.next(), Some('v' | 'V')) && c.next().is_some_and(|d| d.is_ascii_digit()) {
                finding(
                    out,
                    "6.3.11",
                    format!("{at}/name"),
                    format!("a version written with v: {name}"),
                );
            }
        }
    }
}
