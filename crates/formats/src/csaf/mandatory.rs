//! The mandatory tests of CSAF 2.0 (§6.1): what a schema cannot say but a
//! valid document must satisfy. A document that fails any is not a valid
//! CSAF document, and isx refuses it naming the test, the JSON pointer
//! and the value (`6.1.1 missing product definition at
//! /vulnerabilities/0/product_status/known_affected/0: CSAFPID-9080700`).
//!
//! Each test is its own function, documented with what the specification
//! requires; [`TESTS`] lists them in the specification's order. The
//! documents under `crates/formats/testdata/csaf-mandatory` hold a failing
//! and a passing example for each, and CI runs the official validator
//! library (`@secvisogram/csaf-validator-lib`) on the same documents, so
//! the two implementations are held to one another.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use serde_json::Value;

use super::version::Version;

/// One failed requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The section of the test, e.g. `6.1.1` or `6.1.27.3`.
    pub test: &'static str,
    /// JSON pointer of the offending value.
    pub pointer: String,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // "6.1.1 missing product definition at /vulnerabilities/0/…: ID":
        // what is wrong, where, then the value in question.
        match self.message.split_once(": ") {
            Some((what, value)) => write!(f, "{} {what} at {}: {value}", self.test, self.pointer),
            None => write!(f, "{} {} at {}", self.test, self.message, self.pointer),
        }
    }
}

type Test = fn(&Value, &mut Vec<Finding>);

/// Every mandatory test, in the specification's order.
pub const TESTS: &[(&str, Test)] = &[
    ("6.1.1", missing_product_definition),
    ("6.1.2", multiple_product_definition),
    ("6.1.3", circular_product_definition),
    ("6.1.4", missing_group_definition),
    ("6.1.5", multiple_group_definition),
    ("6.1.6", contradicting_product_status),
    ("6.1.7", multiple_scores_per_product),
    ("6.1.8", invalid_cvss),
    ("6.1.9", invalid_cvss_computation),
    ("6.1.10", inconsistent_cvss),
    ("6.1.11", cwe),
    ("6.1.12", language),
    ("6.1.13", purl),
    ("6.1.14", sorted_revision_history),
    ("6.1.15", translator),
    ("6.1.16", latest_document_version),
    ("6.1.17", document_status_draft),
    ("6.1.18", released_revision_history),
    ("6.1.19", pre_release_revisions),
    ("6.1.20", non_draft_document_version),
    ("6.1.21", missing_revision),
    ("6.1.22", multiple_revision_definition),
    ("6.1.23", multiple_use_of_cve),
    ("6.1.24", multiple_involvements),
    ("6.1.25", multiple_hash_algorithms),
    ("6.1.26", prohibited_category_name),
    ("6.1.27", profile_tests),
    ("6.1.28", translation),
    ("6.1.29", remediation_without_product),
    ("6.1.30", mixed_versioning),
    ("6.1.31", version_range_in_product_version),
    ("6.1.32", flag_without_product),
    ("6.1.33", multiple_vex_justifications),
];

/// Runs every mandatory test; an empty list means the document passes.
pub fn run(doc: &Value) -> Vec<Finding> {
    run_except(doc, "")
}

/// Every mandatory test but `skip` (import has run 6.1.8 already, before
/// the schema, to name it).
pub(crate) fn run_except(doc: &Value, skip: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, test) in TESTS {
        if *name != skip {
            test(doc, &mut out);
        }
    }
    out
}

pub(super) fn finding(
    out: &mut Vec<Finding>,
    test: &'static str,
    pointer: impl Into<String>,
    message: impl Into<String>,
) {
    out.push(Finding {
        test,
        pointer: pointer.into(),
        message: message.into(),
    });
}

pub(super) fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = (usize, &'a Value)> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

pub(super) fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

pub(super) fn vulnerabilities(doc: &Value) -> impl Iterator<Item = (usize, &Value)> {
    items(doc, "vulnerabilities")
}

/// Every full product name the document defines: (pointer, object).
pub(super) fn product_definitions(doc: &Value) -> Vec<(String, &Value)> {
    fn walk<'a>(branch: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
        if let Some(p) = branch.get("product") {
            out.push((format!("{at}/product"), p));
        }
        for (i, b) in items(branch, "branches") {
            walk(b, format!("{at}/branches/{i}"), out);
        }
    }
    let mut out = Vec::new();
    let Some(tree) = doc.get("product_tree") else {
        return out;
    };
    for (i, b) in items(tree, "branches") {
        walk(b, format!("/product_tree/branches/{i}"), &mut out);
    }
    for (i, p) in items(tree, "full_product_names") {
        out.push((format!("/product_tree/full_product_names/{i}"), p));
    }
    for (i, r) in items(tree, "relationships") {
        if let Some(p) = r.get("full_product_name") {
            out.push((
                format!("/product_tree/relationships/{i}/full_product_name"),
                p,
            ));
        }
    }
    out
}

pub(super) const STATUS_KEYS: [&str; 8] = [
    "first_affected",
    "first_fixed",
    "fixed",
    "known_affected",
    "known_not_affected",
    "last_affected",
    "recommended",
    "under_investigation",
];

/// Every place a product id is referenced: (pointer, id).
pub(super) fn product_references(doc: &Value) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    fn ids<'a>(v: &'a Value, key: &str, at: &str, out: &mut Vec<(String, &'a str)>) {
        for (i, id) in items(v, key) {
            if let Some(id) = id.as_str() {
                out.push((format!("{at}/{key}/{i}"), id));
            }
        }
    }
    if let Some(tree) = doc.get("product_tree") {
        for (i, g) in items(tree, "product_groups") {
            ids(
                g,
                "product_ids",
                &format!("/product_tree/product_groups/{i}"),
                &mut out,
            );
        }
        for (i, r) in items(tree, "relationships") {
            for key in ["product_reference", "relates_to_product_reference"] {
                if let Some(id) = text(r, key) {
                    out.push((format!("/product_tree/relationships/{i}/{key}"), id));
                }
            }
        }
    }
    for (vi, v) in vulnerabilities(doc) {
        let at = format!("/vulnerabilities/{vi}");
        for (i, f) in items(v, "flags") {
            ids(f, "product_ids", &format!("{at}/flags/{i}"), &mut out);
        }
        if let Some(ps) = v.get("product_status") {
            for key in STATUS_KEYS {
                ids(ps, key, &format!("{at}/product_status"), &mut out);
            }
        }
        for (i, r) in items(v, "remediations") {
            ids(
                r,
                "product_ids",
                &format!("{at}/remediations/{i}"),
                &mut out,
            );
        }
        for (i, s) in items(v, "scores") {
            ids(s, "products", &format!("{at}/scores/{i}"), &mut out);
        }
        for (i, t) in items(v, "threats") {
            ids(t, "product_ids", &format!("{at}/threats/{i}"), &mut out);
        }
    }
    out
}

/// Every place a product group id is referenced: (pointer, id).
fn group_references(doc: &Value) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    for (vi, v) in vulnerabilities(doc) {
        for key in ["flags", "remediations", "threats"] {
            for (i, x) in items(v, key) {
                for (j, id) in items(x, "group_ids") {
                    if let Some(id) = id.as_str() {
                        out.push((format!("/vulnerabilities/{vi}/{key}/{i}/group_ids/{j}"), id));
                    }
                }
            }
        }
    }
    out
}

/// The product ids of each product group.
pub(super) fn groups(doc: &Value) -> HashMap<&str, Vec<&str>> {
    let mut out: HashMap<&str, Vec<&str>> = HashMap::new();
    if let Some(tree) = doc.get("product_tree") {
        for (_, g) in items(tree, "product_groups") {
            if let Some(id) = text(g, "group_id") {
                out.entry(id)
                    .or_default()
                    .extend(items(g, "product_ids").filter_map(|(_, p)| p.as_str()));
            }
        }
    }
    out
}

/// The products an element (flag, remediation, threat) names, directly
/// or through its groups (each group once, however often it is named).
pub(super) fn named_products<'a>(
    x: &'a Value,
    groups: &HashMap<&'a str, Vec<&'a str>>,
) -> BTreeSet<&'a str> {
    let mut out: BTreeSet<&str> = items(x, "product_ids")
        .filter_map(|(_, p)| p.as_str())
        .collect();
    let named: BTreeSet<&str> = items(x, "group_ids")
        .filter_map(|(_, g)| g.as_str())
        .collect();
    for g in named {
        if let Some(ids) = groups.get(g) {
            out.extend(ids.iter().copied());
        }
    }
    out
}

/// The most product references the group expansions of one document may
/// add up to (see [`group_expansion`]).
pub const MAX_GROUP_EXPANSION: usize = 2_000_000;

/// How many product references the tests and the import make by
/// expanding the product groups that flags, remediations and threats
/// name: for each such element, the sizes of the distinct groups it
/// names. A small document can name one large group from many elements
/// (a megabyte gives billions of references); past
/// [`MAX_GROUP_EXPANSION`] isx refuses the document before any test runs.
pub fn group_expansion(doc: &Value) -> usize {
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    if let Some(tree) = doc.get("product_tree") {
        for (_, g) in items(tree, "product_groups") {
            if let Some(id) = text(g, "group_id") {
                let n = g
                    .get("product_ids")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                let e = sizes.entry(id).or_default();
                *e = e.saturating_add(n);
            }
        }
    }
    let mut total: usize = 0;
    for (_, v) in vulnerabilities(doc) {
        for key in ["flags", "remediations", "threats"] {
            for (_, x) in items(v, key) {
                let named: BTreeSet<&str> = items(x, "group_ids")
                    .filter_map(|(_, g)| g.as_str())
                    .collect();
                for g in named {
                    total = total.saturating_add(sizes.get(g).copied().unwrap_or(0));
                }
            }
        }
    }
    total
}

/// 6.1.1 Missing Definition of Product ID: for each element of type
/// `/$defs/product_id_t` which is not inside a Full Product Name (and so
/// references a product), it must be tested that the Full Product Name
/// element with the matching `product_id` exists.
pub fn missing_product_definition(doc: &Value, out: &mut Vec<Finding>) {
    let defined: BTreeSet<&str> = product_definitions(doc)
        .into_iter()
        .filter_map(|(_, p)| text(p, "product_id"))
        .collect();
    for (at, id) in product_references(doc) {
        if !defined.contains(id) {
            finding(
                out,
                "6.1.1",
                at,
                format!("missing product definition: {id}"),
            );
        }
    }
}

/// 6.1.2 Multiple Definition of Product ID: a `product_id` must not be
/// defined by more than one Full Product Name.
pub fn multiple_product_definition(doc: &Value, out: &mut Vec<Finding>) {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (at, p) in product_definitions(doc) {
        if let Some(id) = text(p, "product_id") {
            if !seen.insert(id) {
                finding(
                    out,
                    "6.1.2",
                    format!("{at}/product_id"),
                    format!("product id defined again: {id}"),
                );
            }
        }
    }
}

/// 6.1.3 Circular Definition of Product ID: a product id a relationship
/// defines must not be used, directly or through other relationships, to
/// define itself (its `product_reference` or
/// `relates_to_product_reference`).
pub fn circular_product_definition(doc: &Value, out: &mut Vec<Finding>) {
    let Some(tree) = doc.get("product_tree") else {
        return;
    };
    // Defined id -> the ids its relationships are made of.
    let mut parts: HashMap<&str, Vec<&str>> = HashMap::new();
    for (_, r) in items(tree, "relationships") {
        if let Some(id) = r
            .get("full_product_name")
            .and_then(|p| text(p, "product_id"))
        {
            let e = parts.entry(id).or_default();
            e.extend(
                ["product_reference", "relates_to_product_reference"]
                    .iter()
                    .filter_map(|k| text(r, k)),
            );
        }
    }
    let circular = on_cycles(&parts);
    for (i, r) in items(tree, "relationships") {
        let Some(id) = r
            .get("full_product_name")
            .and_then(|p| text(p, "product_id"))
        else {
            continue;
        };
        if circular.contains(id) {
            finding(
                out,
                "6.1.3",
                format!("/product_tree/relationships/{i}/full_product_name/product_id"),
                format!("product id defined in terms of itself: {id}"),
            );
        }
    }
}

/// The ids on a cycle of `edges` (Tarjan's strongly connected components,
/// iterative): linear in the graph however a document shapes it, where a
/// search from every relationship would be quadratic in a long chain.
fn on_cycles<'a>(edges: &HashMap<&'a str, Vec<&'a str>>) -> BTreeSet<&'a str> {
    let mut index: HashMap<&'a str, usize> = HashMap::new();
    let mut low: HashMap<&'a str, usize> = HashMap::new();
    let mut on_stack: BTreeSet<&'a str> = BTreeSet::new();
    let mut stack: Vec<&'a str> = Vec::new();
    let mut out = BTreeSet::new();
    let mut next = 0usize;
    let at = |m: &HashMap<&'a str, usize>, k: &str| m.get(k).copied().unwrap_or(usize::MAX);
    for &root in edges.keys() {
        if index.contains_key(root) {
            continue;
        }
        index.insert(root, next);
        low.insert(root, next);
        next += 1;
        stack.push(root);
        on_stack.insert(root);
        // (node, the next of its edges to follow)
        let mut work: Vec<(&'a str, usize)> = vec![(root, 0)];
        while let Some(top) = work.last_mut() {
            let (v, i) = *top;
            top.1 += 1;
            match edges.get(v).and_then(|e| e.get(i)).copied() {
                Some(w) if !index.contains_key(w) => {
                    index.insert(w, next);
                    low.insert(w, next);
                    next += 1;
                    stack.push(w);
                    on_stack.insert(w);
                    work.push((w, 0));
                }
                Some(w) => {
                    if on_stack.contains(w) {
                        let l = at(&low, v).min(at(&index, w));
                        low.insert(v, l);
                    }
                }
                None => {
                    work.pop();
                    let lv = at(&low, v);
                    if let Some(&(u, _)) = work.last() {
                        let l = at(&low, u).min(lv);
                        low.insert(u, l);
                    }
                    if lv == at(&index, v) {
                        let mut component = Vec::new();
                        while let Some(w) = stack.pop() {
                            on_stack.remove(w);
                            component.push(w);
                            if w == v {
                                break;
                            }
                        }
                        let self_loop = edges.get(v).is_some_and(|e| e.contains(&v));
                        if component.len() > 1 || self_loop {
                            out.extend(component);
                        }
                    }
                }
            }
        }
    }
    out
}

/// 6.1.4 Missing Definition of Product Group ID: every referenced group
/// id must be defined in `/product_tree/product_groups`.
pub fn missing_group_definition(doc: &Value, out: &mut Vec<Finding>) {
    let defined = groups(doc);
    for (at, id) in group_references(doc) {
        if !defined.contains_key(id) {
            finding(
                out,
                "6.1.4",
                at,
                format!("missing product group definition: {id}"),
            );
        }
    }
}

/// 6.1.5 Multiple Definition of Product Group ID: a group id must not be
/// defined more than once.
pub fn multiple_group_definition(doc: &Value, out: &mut Vec<Finding>) {
    let Some(tree) = doc.get("product_tree") else {
        return;
    };
    let mut seen = BTreeSet::new();
    for (i, g) in items(tree, "product_groups") {
        if let Some(id) = text(g, "group_id") {
            if !seen.insert(id) {
                finding(
                    out,
                    "6.1.5",
                    format!("/product_tree/product_groups/{i}/group_id"),
                    format!("product group id defined again: {id}"),
                );
            }
        }
    }
}

/// 6.1.6 Contradicting Product Status: within one vulnerability a
/// product must not be in more than one of the groups Affected
/// (`first_affected`, `known_affected`, `last_affected`), Not affected
/// (`known_not_affected`), Fixed (`first_fixed`, `fixed`) and Under
/// investigation (`under_investigation`).
pub fn contradicting_product_status(doc: &Value, out: &mut Vec<Finding>) {
    const GROUPS: [(&str, &[&str]); 4] = [
        (
            "affected",
            &["first_affected", "known_affected", "last_affected"],
        ),
        ("not affected", &["known_not_affected"]),
        ("fixed", &["first_fixed", "fixed"]),
        ("under investigation", &["under_investigation"]),
    ];
    for (vi, v) in vulnerabilities(doc) {
        let Some(ps) = v.get("product_status") else {
            continue;
        };
        let mut first: HashMap<&str, &str> = HashMap::new();
        for (group, keys) in GROUPS {
            let mut here = BTreeSet::new();
            for key in keys {
                for (i, id) in items(ps, key) {
                    let Some(id) = id.as_str() else { continue };
                    if !here.insert(id) {
                        continue;
                    }
                    match first.get(id) {
                        Some(other) if *other != group => finding(
                            out,
                            "6.1.6",
                            format!("/vulnerabilities/{vi}/product_status/{key}/{i}"),
                            format!(
                                "contradicting product status: {id} is both {other} and {group}"
                            ),
                        ),
                        Some(_) => {}
                        None => {
                            first.insert(id, group);
                        }
                    }
                }
            }
        }
    }
}

/// 6.1.7 Multiple Scores with same Version per Product: within one
/// vulnerability, a product must not have more than one CVSS object of
/// the same version.
pub fn multiple_scores_per_product(doc: &Value, out: &mut Vec<Finding>) {
    for (vi, v) in vulnerabilities(doc) {
        let mut seen: BTreeSet<(&str, String)> = BTreeSet::new();
        for (si, s) in items(v, "scores") {
            for key in ["cvss_v2", "cvss_v3"] {
                let Some(c) = s.get(key) else { continue };
                let version = text(c, "version").unwrap_or(key).to_owned();
                for (pi, p) in items(s, "products") {
                    let Some(p) = p.as_str() else { continue };
                    if !seen.insert((p, version.clone())) {
                        finding(
                            out,
                            "6.1.7",
                            format!("/vulnerabilities/{vi}/scores/{si}/products/{pi}"),
                            format!("a second CVSS {version} score for {p}"),
                        );
                    }
                }
            }
        }
    }
}

/// Every CVSS object: (pointer, key (`cvss_v2`/`cvss_v3`), object).
fn cvss_objects(doc: &Value) -> Vec<(String, &'static str, &Value)> {
    let mut out = Vec::new();
    for (vi, v) in vulnerabilities(doc) {
        for (si, s) in items(v, "scores") {
            for key in ["cvss_v2", "cvss_v3"] {
                if let Some(c) = s.get(key) {
                    out.push((format!("/vulnerabilities/{vi}/scores/{si}/{key}"), key, c));
                }
            }
        }
    }
    out
}

/// 6.1.8 Invalid CVSS: every CVSS object must be valid against the
/// FIRST schema of its version (CVSS v2.0, v3.0 or v3.1).
pub fn invalid_cvss(doc: &Value, out: &mut Vec<Finding>) {
    for (at, key, c) in cvss_objects(doc) {
        if let Err(problem) = super::schema::validate_cvss(key, c) {
            finding(out, "6.1.8", at, format!("invalid CVSS object: {problem}"));
        }
    }
}

/// 6.1.9 Invalid CVSS computation: the scores and severities a CVSS v2 or
/// v3 object states (base, temporal, environmental) must be those its
/// vector computes (`cvss2`, `cvss3`, FIRST's formulas).
pub fn invalid_cvss_computation(doc: &Value, out: &mut Vec<Finding>) {
    for (at, key, c) in cvss_objects(doc) {
        if key == "cvss_v2" {
            let Some(computed) = text(c, "vectorString").and_then(super::cvss2::scores) else {
                continue;
            };
            for (score, value) in [
                ("baseScore", computed.base),
                ("temporalScore", computed.temporal),
                ("environmentalScore", computed.environmental),
            ] {
                if let Some(stated) = c.get(score).and_then(Value::as_f64) {
                    if (stated - value).abs() > 0.000_1 {
                        finding(
                            out,
                            "6.1.9",
                            format!("{at}/{score}"),
                            format!("{score} {stated} is not the {value} the vector computes"),
                        );
                    }
                }
            }
            continue;
        }
        if key != "cvss_v3" {
            continue;
        }
        let Some(vector) = text(c, "vectorString") else {
            continue;
        };
        // 6.1.8 reports a vector that does not parse.
        let Some(computed) = super::cvss3::scores(vector) else {
            continue;
        };
        for (score, sev, value) in [
            ("baseScore", "baseSeverity", computed.base),
            ("temporalScore", "temporalSeverity", computed.temporal),
            (
                "environmentalScore",
                "environmentalSeverity",
                computed.environmental,
            ),
        ] {
            if let Some(stated) = c.get(score).and_then(Value::as_f64) {
                if (stated - value).abs() > 0.000_1 {
                    finding(
                        out,
                        "6.1.9",
                        format!("{at}/{score}"),
                        format!("{score} {stated} is not the {value} the vector computes"),
                    );
                }
            }
            if let Some(stated) = text(c, sev) {
                let expected = super::cvss3::severity(value);
                if stated != expected {
                    finding(
                        out,
                        "6.1.9",
                        format!("{at}/{sev}"),
                        format!("{sev} {stated} is not the {expected} the vector computes"),
                    );
                }
            }
        }
    }
}

/// A CVSS property name, its vector abbreviation and the value each
/// letter stands for.
type Metric = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const CVSS_V3_METRICS: &[Metric] = &[
    (
        "attackVector",
        "AV",
        &[
            ("N", "NETWORK"),
            ("A", "ADJACENT_NETWORK"),
            ("L", "LOCAL"),
            ("P", "PHYSICAL"),
        ],
    ),
    ("attackComplexity", "AC", &[("L", "LOW"), ("H", "HIGH")]),
    (
        "privilegesRequired",
        "PR",
        &[("N", "NONE"), ("L", "LOW"), ("H", "HIGH")],
    ),
    ("userInteraction", "UI", &[("N", "NONE"), ("R", "REQUIRED")]),
    ("scope", "S", &[("U", "UNCHANGED"), ("C", "CHANGED")]),
    (
        "confidentialityImpact",
        "C",
        &[("N", "NONE"), ("L", "LOW"), ("H", "HIGH")],
    ),
    (
        "integrityImpact",
        "I",
        &[("N", "NONE"), ("L", "LOW"), ("H", "HIGH")],
    ),
    (
        "availabilityImpact",
        "A",
        &[("N", "NONE"), ("L", "LOW"), ("H", "HIGH")],
    ),
    (
        "exploitCodeMaturity",
        "E",
        &[
            ("X", "NOT_DEFINED"),
            ("U", "UNPROVEN"),
            ("P", "PROOF_OF_CONCEPT"),
            ("F", "FUNCTIONAL"),
            ("H", "HIGH"),
        ],
    ),
    (
        "remediationLevel",
        "RL",
        &[
            ("X", "NOT_DEFINED"),
            ("O", "OFFICIAL_FIX"),
            ("T", "TEMPORARY_FIX"),
            ("W", "WORKAROUND"),
            ("U", "UNAVAILABLE"),
        ],
    ),
    (
        "reportConfidence",
        "RC",
        &[
            ("X", "NOT_DEFINED"),
            ("U", "UNKNOWN"),
            ("R", "REASONABLE"),
            ("C", "CONFIRMED"),
        ],
    ),
    (
        "confidentialityRequirement",
        "CR",
        &[
            ("X", "NOT_DEFINED"),
            ("L", "LOW"),
            ("M", "MEDIUM"),
            ("H", "HIGH"),
        ],
    ),
    (
        "integrityRequirement",
        "IR",
        &[
            ("X", "NOT_DEFINED"),
            ("L", "LOW"),
            ("M", "MEDIUM"),
            ("H", "HIGH"),
        ],
    ),
    (
        "availabilityRequirement",
        "AR",
        &[
            ("X", "NOT_DEFINED"),
            ("L", "LOW"),
            ("M", "MEDIUM"),
            ("H", "HIGH"),
        ],
    ),
    (
        "modifiedAttackVector",
        "MAV",
        &[
            ("X", "NOT_DEFINED"),
            ("N", "NETWORK"),
            ("A", "ADJACENT_NETWORK"),
            ("L", "LOCAL"),
            ("P", "PHYSICAL"),
        ],
    ),
    (
        "modifiedAttackComplexity",
        "MAC",
        &[("X", "NOT_DEFINED"), ("L", "LOW"), ("H", "HIGH")],
    ),
    (
        "modifiedPrivilegesRequired",
        "MPR",
        &[
            ("X", "NOT_DEFINED"),
            ("N", "NONE"),
            ("L", "LOW"),
            ("H", "HIGH"),
        ],
    ),
    (
        "modifiedUserInteraction",
        "MUI",
        &[("X", "NOT_DEFINED"), ("N", "NONE"), ("R", "REQUIRED")],
    ),
    (
        "modifiedScope",
        "MS",
        &[("X", "NOT_DEFINED"), ("U", "UNCHANGED"), ("C", "CHANGED")],
    ),
    (
        "modifiedConfidentialityImpact",
        "MC",
        &[
            ("X", "NOT_DEFINED"),
            ("N", "NONE"),
            ("L", "LOW"),
            ("H", "HIGH"),
        ],
    ),
    (
        "modifiedIntegrityImpact",
        "MI",
        &[
            ("X", "NOT_DEFINED"),
            ("N", "NONE"),
            ("L", "LOW"),
            ("H", "HIGH"),
        ],
    ),
    (
        "modifiedAvailabilityImpact",
        "MA",
        &[
            ("X", "NOT_DEFINED"),
            ("N", "NONE"),
            ("L", "LOW"),
            ("H", "HIGH"),
        ],
    ),
];

const CVSS_V2_METRICS: &[Metric] = &[
    (
        "accessVector",
        "AV",
        &[("L", "LOCAL"), ("A", "ADJACENT_NETWORK"), ("N", "NETWORK")],
    ),
    (
        "accessComplexity",
        "AC",
        &[("H", "HIGH"), ("M", "MEDIUM"), ("L", "LOW")],
    ),
    (
        "authentication",
        "Au",
        &[("M", "MULTIPLE"), ("S", "SINGLE"), ("N", "NONE")],
    ),
    (
        "confidentialityImpact",
        "C",
        &[("N", "NONE"), ("P", "PARTIAL"), ("C", "COMPLETE")],
    ),
    (
        "integrityImpact",
        "I",
        &[("N", "NONE"), ("P", "PARTIAL"), ("C", "COMPLETE")],
    ),
    (
        "availabilityImpact",
        "A",
        &[("N", "NONE"), ("P", "PARTIAL"), ("C", "COMPLETE")],
    ),
    (
        "exploitability",
        "E",
        &[
            ("U", "UNPROVEN"),
            ("POC", "PROOF_OF_CONCEPT"),
            ("F", "FUNCTIONAL"),
            ("H", "HIGH"),
            ("ND", "NOT_DEFINED"),
        ],
    ),
    (
        "remediationLevel",
        "RL",
        &[
            ("OF", "OFFICIAL_FIX"),
            ("TF", "TEMPORARY_FIX"),
            ("W", "WORKAROUND"),
            ("U", "UNAVAILABLE"),
            ("ND", "NOT_DEFINED"),
        ],
    ),
    (
        "reportConfidence",
        "RC",
        &[
            ("UC", "UNCONFIRMED"),
            ("UR", "UNCORROBORATED"),
            ("C", "CONFIRMED"),
            ("ND", "NOT_DEFINED"),
        ],
    ),
    (
        "collateralDamagePotential",
        "CDP",
        &[
            ("N", "NONE"),
            ("L", "LOW"),
            ("LM", "LOW_MEDIUM"),
            ("MH", "MEDIUM_HIGH"),
            ("H", "HIGH"),
            ("ND", "NOT_DEFINED"),
        ],
    ),
    (
        "targetDistribution",
        "TD",
        &[
            ("N", "NONE"),
            ("L", "LOW"),
            ("M", "MEDIUM"),
            ("H", "HIGH"),
            ("ND", "NOT_DEFINED"),
        ],
    ),
    (
        "confidentialityRequirement",
        "CR",
        &[
            ("L", "LOW"),
            ("M", "MEDIUM"),
            ("H", "HIGH"),
            ("ND", "NOT_DEFINED"),
        ],
    ),
    (
        "integrityRequirement",
        "IR",
        &[
            ("L", "LOW"),
            ("M", "MEDIUM"),
            ("H", "HIGH"),
            ("ND", "NOT_DEFINED"),
        ],
    ),
    (
        "availabilityRequirement",
        "AR",
        &[
            ("L", "LOW"),
            ("M", "MEDIUM"),
            ("H", "HIGH"),
            ("ND", "NOT_DEFINED"),
        ],
    ),
];

/// 6.1.10 Inconsistent CVSS: every metric property a CVSS object states
/// must have the value its `vectorString` gives that metric, and a v3
/// object's `version` must be the vector's.
pub fn inconsistent_cvss(doc: &Value, out: &mut Vec<Finding>) {
    for (at, key, c) in cvss_objects(doc) {
        let Some(vector) = text(c, "vectorString") else {
            continue;
        };
        let mut parts: HashMap<&str, &str> = HashMap::new();
        let mut metrics = vector.split('/');
        let table = if key == "cvss_v3" {
            let prefix = metrics.next().unwrap_or("");
            if let (Some(v), Some(stated)) = (prefix.strip_prefix("CVSS:"), text(c, "version")) {
                if v != stated {
                    finding(
                        out,
                        "6.1.10",
                        format!("{at}/version"),
                        format!("version {stated} but the vector is CVSS {v}"),
                    );
                }
            }
            CVSS_V3_METRICS
        } else {
            CVSS_V2_METRICS
        };
        for m in metrics {
            if let Some((k, v)) = m.split_once(':') {
                parts.insert(k, v);
            }
        }
        for (property, abbreviation, values) in table {
            let Some(stated) = text(c, property) else {
                continue;
            };
            // As the official validator reads the test: a metric the
            // vector leaves out is not compared.
            let Some(letter) = parts.get(abbreviation).copied() else {
                continue;
            };
            let expected = values.iter().find(|(l, _)| *l == letter).map(|(_, v)| *v);
            if expected.is_some_and(|e| e != stated) {
                finding(
                    out,
                    "6.1.10",
                    format!("{at}/{property}"),
                    format!("{property} is {stated} but the vector says {abbreviation}:{letter}"),
                );
            }
        }
    }
}

/// The CWE catalogue (id → name), shipped in the binary.
fn cwe_names() -> &'static HashMap<&'static str, &'static str> {
    static NAMES: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        include_str!("../../data/cwe.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .collect()
    })
}

/// The name the CWE catalogue gives a weakness id, if it knows it.
pub fn cwe_name(id: &str) -> Option<&'static str> {
    cwe_names().get(id).copied()
}

/// 6.1.11 CWE: a vulnerability's `cwe/id` must be a weakness of the CWE
/// catalogue and `cwe/name` its name there.
pub fn cwe(doc: &Value, out: &mut Vec<Finding>) {
    for (vi, v) in vulnerabilities(doc) {
        let Some(c) = v.get("cwe") else { continue };
        let (Some(id), Some(name)) = (text(c, "id"), text(c, "name")) else {
            continue;
        };
        match cwe_name(id) {
            None => finding(
                out,
                "6.1.11",
                format!("/vulnerabilities/{vi}/cwe/id"),
                format!("no CWE weakness {id}"),
            ),
            Some(known) if known != name => finding(
                out,
                "6.1.11",
                format!("/vulnerabilities/{vi}/cwe/name"),
                format!("{id} is named {known:?}, not {name:?}"),
            ),
            Some(_) => {}
        }
    }
}

/// The IANA language subtag registry, as test 6.1.12 needs it.
struct Subtags {
    /// (type, subtag or `a..b` range).
    known: BTreeSet<(&'static str, &'static str)>,
    ranges: Vec<(&'static str, &'static str, &'static str)>,
    /// extlang -> its prefixes.
    extlang_prefixes: HashMap<&'static str, Vec<&'static str>>,
}

fn subtags() -> &'static Subtags {
    static S: OnceLock<Subtags> = OnceLock::new();
    S.get_or_init(|| {
        let mut s = Subtags {
            known: BTreeSet::new(),
            ranges: Vec::new(),
            extlang_prefixes: HashMap::new(),
        };
        for line in include_str!("../../data/language-subtags.tsv").lines() {
            if line.starts_with('#') {
                continue;
            }
            let mut f = line.split('\t');
            let (Some(kind), Some(tag)) = (f.next(), f.next()) else {
                continue;
            };
            if let Some((lo, hi)) = tag.split_once("..") {
                s.ranges.push((kind, lo, hi));
            } else {
                s.known.insert((kind, tag));
            }
            if kind == "extlang" {
                s.extlang_prefixes
                    .insert(tag, f.next().unwrap_or("").split(' ').collect());
            }
        }
        s
    })
}

fn registered(kind: &str, tag: &str) -> bool {
    let s = subtags();
    s.known.contains(&(kind, tag))
        || s.ranges
            .iter()
            .any(|(k, lo, hi)| *k == kind && tag.len() == lo.len() && *lo <= tag && tag <= *hi)
}

/// Whether `tag` is a valid BCP 47 language tag (RFC 5646): well formed
/// (language with at most one extended language, script, region,
/// variants, extensions, private use; or a private use or grandfathered
/// tag), and every subtag registered in the IANA registry for its place
/// (an extended language after one of its prefixes), no variant or
/// extension singleton twice, extensions only those registered (`t`, `u`).
pub(crate) fn is_language_tag(tag: &str) -> bool {
    const GRANDFATHERED: &[&str] = &[
        "en-gb-oed",
        "i-ami",
        "i-bnn",
        "i-default",
        "i-enochian",
        "i-hak",
        "i-klingon",
        "i-lux",
        "i-mingo",
        "i-navajo",
        "i-pwn",
        "i-tao",
        "i-tay",
        "i-tsu",
        "sgn-be-fr",
        "sgn-be-nl",
        "sgn-ch-de",
        "art-lojban",
        "cel-gaulish",
        "no-bok",
        "no-nyn",
        "zh-guoyu",
        "zh-hakka",
        "zh-min",
        "zh-min-nan",
        "zh-xiang",
    ];
    let lower = tag.to_ascii_lowercase();
    if GRANDFATHERED.contains(&lower.as_str()) {
        return true;
    }
    let parts: Vec<&str> = lower.split('-').collect();
    let alpha = |s: &str| s.bytes().all(|b| b.is_ascii_lowercase());
    let digit = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let alnum = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric());
    let private = |rest: &[&str]| {
        !rest.is_empty() && rest.iter().all(|p| (1..=8).contains(&p.len()) && alnum(p))
    };
    let mut rest: &[&str] = &parts;
    // Takes the next subtag when `accept` says it belongs here.
    let mut take = |accept: &dyn Fn(&str) -> bool| -> Option<&str> {
        let (first, tail) = rest.split_first()?;
        if accept(first) {
            rest = tail;
            Some(*first)
        } else {
            None
        }
    };
    if take(&|p| p == "x").is_some() {
        return private(rest);
    }
    let Some(lang) = take(&|p| alpha(p) && (2..=8).contains(&p.len()) && p.len() != 4) else {
        return false;
    };
    if !registered("language", lang) {
        return false;
    }
    if lang.len() <= 3 {
        if let Some(ext) = take(&|p| p.len() == 3 && alpha(p)) {
            let prefixed = subtags()
                .extlang_prefixes
                .get(ext)
                .is_some_and(|ps| ps.contains(&lang));
            if !prefixed {
                return false;
            }
        }
    }
    if let Some(script) = take(&|p| p.len() == 4 && alpha(p)) {
        if !registered("script", script) {
            return false;
        }
    }
    if let Some(region) = take(&|p| (p.len() == 2 && alpha(p)) || (p.len() == 3 && digit(p))) {
        if !registered("region", region) {
            return false;
        }
    }
    let mut variants = BTreeSet::new();
    while let Some(v) = take(&|p| {
        ((5..=8).contains(&p.len()) && alnum(p))
            || (p.len() == 4 && p.starts_with(|c: char| c.is_ascii_digit()) && alnum(p))
    }) {
        if !variants.insert(v) || !registered("variant", v) {
            return false;
        }
    }
    let mut singletons = BTreeSet::new();
    while let Some(single) = take(&|p| p.len() == 1 && alnum(p)) {
        if single == "x" {
            return private(rest);
        }
        if !singletons.insert(single) || !registered("extension", single) {
            return false;
        }
        let mut n = 0;
        while take(&|p| (2..=8).contains(&p.len()) && alnum(p)).is_some() {
            n += 1;
        }
        if n == 0 {
            return false;
        }
    }
    rest.is_empty()
}

/// 6.1.12 Language: `/document/lang` and `/document/source_lang` must be
/// valid language tags.
pub fn language(doc: &Value, out: &mut Vec<Finding>) {
    for key in ["lang", "source_lang"] {
        if let Some(tag) = doc.get("document").and_then(|d| text(d, key)) {
            if !is_language_tag(tag) {
                finding(
                    out,
                    "6.1.12",
                    format!("/document/{key}"),
                    format!("not a language tag: {tag}"),
                );
            }
        }
    }
}

/// Whether `purl` is a package URL as its specification defines it:
/// `pkg:type/namespace/name@version?qualifiers#subpath`, a type of
/// letters, digits, `.`, `+`, `-` not starting with a digit, a name, and
/// qualifier keys of letters, digits, `.`, `-`, `_`.
pub(crate) fn is_purl(purl: &str) -> bool {
    let Some(rest) = purl.strip_prefix("pkg:") else {
        return false;
    };
    let rest = rest.trim_start_matches('/');
    let (rest, _subpath) = rest.split_once('#').unwrap_or((rest, ""));
    let (rest, qualifiers) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    if let Some(q) = qualifiers {
        let mut keys = BTreeSet::new();
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let Some((k, v)) = pair.split_once('=') else {
                return false;
            };
            let k = k.to_ascii_lowercase();
            if k.is_empty()
                || v.is_empty()
                || !k
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                || k.starts_with(|c: char| c.is_ascii_digit())
                || !keys.insert(k)
            {
                return false;
            }
        }
    }
    let (path, _version) = match rest.rsplit_once('@') {
        Some((p, v)) if !p.is_empty() && !v.is_empty() => (p, Some(v)),
        Some(_) => return false,
        None => (rest, None),
    };
    let mut segments = path.split('/');
    let Some(kind) = segments.next() else {
        return false;
    };
    if kind.is_empty()
        || kind.starts_with(|c: char| c.is_ascii_digit())
        || !kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".+-".contains(&b))
    {
        return false;
    }
    let rest: Vec<&str> = segments.collect();
    matches!(rest.last(), Some(name) if !name.is_empty())
        && rest
            .iter()
            .all(|s| !s.contains("%2F") && !s.contains("%2f"))
}

/// 6.1.13 PURL: every `purl` of a product identification helper must be
/// a valid package URL.
pub fn purl(doc: &Value, out: &mut Vec<Finding>) {
    for (at, p) in product_definitions(doc) {
        if let Some(purl) = p
            .get("product_identification_helper")
            .and_then(|h| text(h, "purl"))
        {
            if !is_purl(purl) {
                finding(
                    out,
                    "6.1.13",
                    format!("{at}/product_identification_helper/purl"),
                    format!("not a package URL: {purl}"),
                );
            }
        }
    }
}

/// The revision history: (index, number as given, parsed number, date).
pub(super) fn revisions(doc: &Value) -> Vec<(usize, &str, Option<Version>, Option<&str>)> {
    let Some(t) = doc.get("document").and_then(|d| d.get("tracking")) else {
        return Vec::new();
    };
    items(t, "revision_history")
        .map(|(i, r)| {
            let n = text(r, "number").unwrap_or("");
            (i, n, Version::parse(n), text(r, "date"))
        })
        .collect()
}

pub(super) fn tracking<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    doc.get("document")?
        .get("tracking")
        .and_then(|t| text(t, key))
}

pub(super) fn micros(date: &str) -> Option<i64> {
    isx_domain::Timestamp::parse(date)
        .ok()
        .map(isx_domain::Timestamp::as_micros)
}

/// 6.1.14 Sorted Revision History: sorted ascending by `number`, the
/// revision history must also be sorted ascending by `date`.
pub fn sorted_revision_history(doc: &Value, out: &mut Vec<Finding>) {
    let mut revs: Vec<(usize, Version, i64)> = revisions(doc)
        .into_iter()
        .filter_map(|(i, _, v, d)| Some((i, v?, micros(d?)?)))
        .collect();
    revs.sort_by(|a, b| a.1.precedence(&b.1));
    for (before, after) in revs.iter().zip(revs.iter().skip(1)) {
        if after.2 < before.2 {
            finding(
                out,
                "6.1.14",
                format!("/document/tracking/revision_history/{}/date", after.0),
                "the revision history, sorted by number, is not sorted by date",
            );
            return;
        }
    }
}

/// 6.1.15 Translator: when the publisher's category is `translator`,
/// `/document/source_lang` must be present.
pub fn translator(doc: &Value, out: &mut Vec<Finding>) {
    let Some(d) = doc.get("document") else { return };
    if d.get("publisher").and_then(|p| text(p, "category")) == Some("translator")
        && d.get("source_lang").is_none()
    {
        finding(
            out,
            "6.1.15",
            "/document/source_lang",
            "a translator's document names its source language",
        );
    }
}

fn status(doc: &Value) -> Option<&str> {
    tracking(doc, "status")
}

/// 6.1.16 Latest Document Version: `/document/tracking/version` must be
/// the number of the newest item of the revision history (build metadata
/// ignored; for a draft, also its pre-release part).
pub fn latest_document_version(doc: &Value, out: &mut Vec<Finding>) {
    let Some(version) = tracking(doc, "version").and_then(Version::parse) else {
        return;
    };
    let Some(latest) = revisions(doc)
        .into_iter()
        .filter_map(|(_, _, v, _)| v)
        .max_by(|a, b| a.precedence(b))
    else {
        return;
    };
    let draft = status(doc) == Some("draft");
    if version.stripped(draft) != latest.stripped(draft) {
        finding(
            out,
            "6.1.16",
            "/document/tracking/version",
            "the document version is not the newest revision's number",
        );
    }
}

/// 6.1.17 Document Status Draft: a version of `0`, `0.y.z` or with a
/// pre-release part must have the status `draft`.
pub fn document_status_draft(doc: &Value, out: &mut Vec<Finding>) {
    let Some(version) = tracking(doc, "version").and_then(Version::parse) else {
        return;
    };
    if (version.is_zero() || version.pre_release().is_some()) && status(doc) != Some("draft") {
        finding(
            out,
            "6.1.17",
            "/document/tracking/status",
            "a document of version 0 or a pre-release is a draft",
        );
    }
}

/// 6.1.18 Released Revision History: a document of status `final` or
/// `interim` must have no revision numbered `0` or `0.y.z`.
pub fn released_revision_history(doc: &Value, out: &mut Vec<Finding>) {
    if !matches!(status(doc), Some("final" | "interim")) {
        return;
    }
    for (i, n, v, _) in revisions(doc) {
        if v.is_some_and(|v| v.is_zero()) {
            finding(
                out,
                "6.1.18",
                format!("/document/tracking/revision_history/{i}/number"),
                format!("a released document has no revision {n}"),
            );
        }
    }
}

/// 6.1.19 Revision History Entries for Pre-release Versions: no revision
/// history item may carry a pre-release part.
pub fn pre_release_revisions(doc: &Value, out: &mut Vec<Finding>) {
    for (i, n, v, _) in revisions(doc) {
        if v.is_some_and(|v| v.pre_release().is_some()) {
            finding(
                out,
                "6.1.19",
                format!("/document/tracking/revision_history/{i}/number"),
                format!("a revision with a pre-release part: {n}"),
            );
        }
    }
}

/// 6.1.20 Non-draft Document Version: a document of status `final` or
/// `interim` must not have a pre-release part in its version.
pub fn non_draft_document_version(doc: &Value, out: &mut Vec<Finding>) {
    if !matches!(status(doc), Some("final" | "interim")) {
        return;
    }
    if tracking(doc, "version")
        .and_then(Version::parse)
        .is_some_and(|v| v.pre_release().is_some())
    {
        finding(
            out,
            "6.1.20",
            "/document/tracking/version",
            "a released document's version has no pre-release part",
        );
    }
}

/// 6.1.21 Missing Item in Revision History: sorted ascending, the
/// revision numbers (integer versions, or the major version of semantic
/// ones) start at 0 or 1 and go up by one without a gap.
pub fn missing_revision(doc: &Value, out: &mut Vec<Finding>) {
    let mut revs: Vec<(usize, Version)> = revisions(doc)
        .into_iter()
        .filter_map(|(i, _, v, _)| Some((i, v?)))
        .collect();
    revs.sort_by(|a, b| a.1.precedence(&b.1));
    let Some((first_at, first)) = revs.first() else {
        return;
    };
    if first.major() > 1 {
        finding(
            out,
            "6.1.21",
            format!("/document/tracking/revision_history/{first_at}/number"),
            "the revision history starts after version 1",
        );
    }
    for (before, after) in revs.iter().zip(revs.iter().skip(1)) {
        if after.1.major() > before.1.major().saturating_add(1) {
            finding(
                out,
                "6.1.21",
                format!("/document/tracking/revision_history/{}/number", after.0),
                format!("a revision is missing before {}", after.1.major()),
            );
        }
    }
}

/// 6.1.22 Multiple Definition in Revision History: no two items of the
/// revision history may have the same number.
pub fn multiple_revision_definition(doc: &Value, out: &mut Vec<Finding>) {
    let mut seen = BTreeSet::new();
    for (i, n, _, _) in revisions(doc) {
        if !seen.insert(n) {
            finding(
                out,
                "6.1.22",
                format!("/document/tracking/revision_history/{i}/number"),
                format!("revision {n} twice"),
            );
        }
    }
}

/// 6.1.23 Multiple Use of Same CVE: a CVE id must not be used by more
/// than one vulnerability.
pub fn multiple_use_of_cve(doc: &Value, out: &mut Vec<Finding>) {
    let mut seen = BTreeSet::new();
    for (vi, v) in vulnerabilities(doc) {
        if let Some(cve) = text(v, "cve") {
            if !seen.insert(cve) {
                finding(
                    out,
                    "6.1.23",
                    format!("/vulnerabilities/{vi}/cve"),
                    format!("{cve} in a second vulnerability"),
                );
            }
        }
    }
}

/// 6.1.24 Multiple Definition in Involvements: within a vulnerability, no
/// two involvements may have the same party and date.
pub fn multiple_involvements(doc: &Value, out: &mut Vec<Finding>) {
    for (vi, v) in vulnerabilities(doc) {
        let mut seen = BTreeSet::new();
        for (i, inv) in items(v, "involvements") {
            let party = text(inv, "party").unwrap_or("");
            let date = text(inv, "date").map(|d| micros(d).map_or(d.to_owned(), |m| m.to_string()));
            if !seen.insert((party, date)) {
                finding(
                    out,
                    "6.1.24",
                    format!("/vulnerabilities/{vi}/involvements/{i}"),
                    format!("a second involvement of {party} at the same date"),
                );
            }
        }
    }
}

/// 6.1.25 Multiple Use of Same Hash Algorithm: the hashes of one file
/// must not use one algorithm twice.
pub fn multiple_hash_algorithms(doc: &Value, out: &mut Vec<Finding>) {
    for (at, p) in product_definitions(doc) {
        let Some(h) = p.get("product_identification_helper") else {
            continue;
        };
        for (hi, hash) in items(h, "hashes") {
            let mut seen = BTreeSet::new();
            for (fi, fh) in items(hash, "file_hashes") {
                if let Some(alg) = text(fh, "algorithm") {
                    if !seen.insert(alg) {
                        finding(
                            out,
                            "6.1.25",
                            format!("{at}/product_identification_helper/hashes/{hi}/file_hashes/{fi}/algorithm"),
                            format!("{alg} twice for one file"),
                        );
                    }
                }
            }
        }
    }
}

/// 6.1.26 Prohibited Document Category Name: a category that is not one
/// of the profiles' values must not start with `csaf_` and must not,
/// without `-`, `_` and blanks and in lower case, be a profile's name
/// (`securityincidentresponse`, `informationaladvisory`,
/// `securityadvisory`, `vex`).
pub fn prohibited_category_name(doc: &Value, out: &mut Vec<Finding>) {
    const PROFILES: [&str; 5] = [
        "csaf_base",
        "csaf_security_incident_response",
        "csaf_informational_advisory",
        "csaf_security_advisory",
        "csaf_vex",
    ];
    const NAMES: [&str; 4] = [
        "securityincidentresponse",
        "informationaladvisory",
        "securityadvisory",
        "vex",
    ];
    let Some(category) = doc.get("document").and_then(|d| text(d, "category")) else {
        return;
    };
    if PROFILES.contains(&category) {
        return;
    }
    let lower = category.to_lowercase();
    let squeezed: String = lower
        .chars()
        .filter(|c| !matches!(c, '-' | '_') && !c.is_whitespace())
        .collect();
    if lower.starts_with("csaf_") {
        finding(
            out,
            "6.1.26",
            "/document/category",
            format!("the prefix csaf_ is reserved: {category}"),
        );
    } else if NAMES.contains(&squeezed.as_str()) {
        finding(
            out,
            "6.1.26",
            "/document/category",
            format!("a profile's name used as a category: {category}"),
        );
    }
}

pub(super) fn category(doc: &Value) -> &str {
    doc.get("document")
        .and_then(|d| text(d, "category"))
        .unwrap_or("")
}

/// 6.1.27 Profile Tests: what each profile (§4) requires.
pub fn profile_tests(doc: &Value, out: &mut Vec<Finding>) {
    let c = category(doc);
    let informational = matches!(
        c,
        "csaf_informational_advisory" | "csaf_security_incident_response"
    );
    let advisory_or_vex = matches!(c, "csaf_security_advisory" | "csaf_vex");
    let d = doc.get("document").unwrap_or(&Value::Null);
    // 6.1.27.1 Document Notes: at least one note of category
    // description, details, general or summary.
    if informational
        && !items(d, "notes").any(|(_, n)| {
            matches!(
                text(n, "category"),
                Some("description" | "details" | "general" | "summary")
            )
        })
    {
        finding(
            out,
            "6.1.27.1",
            "/document/notes",
            "a note of category description, details, general or summary is needed",
        );
    }
    // 6.1.27.2 Document References: at least one external reference.
    if informational
        && !items(d, "references").any(|(_, r)| text(r, "category") == Some("external"))
    {
        finding(
            out,
            "6.1.27.2",
            "/document/references",
            "an external reference is needed",
        );
    }
    // 6.1.27.3 Vulnerabilities: an informational advisory has none.
    if c == "csaf_informational_advisory" && doc.get("vulnerabilities").is_some() {
        finding(
            out,
            "6.1.27.3",
            "/vulnerabilities",
            "an informational advisory has no vulnerabilities",
        );
    }
    // 6.1.27.4 Product Tree: needed by security advisories and VEX.
    if advisory_or_vex && doc.get("product_tree").is_none() {
        finding(out, "6.1.27.4", "/product_tree", "a product tree is needed");
    }
    // 6.1.27.11 Vulnerabilities: needed by security advisories and VEX.
    if advisory_or_vex && doc.get("vulnerabilities").is_none() {
        finding(
            out,
            "6.1.27.11",
            "/vulnerabilities",
            "vulnerabilities are needed",
        );
    }
    let groups = groups(doc);
    for (vi, v) in vulnerabilities(doc) {
        let at = format!("/vulnerabilities/{vi}");
        // 6.1.27.5 Vulnerability Notes.
        if advisory_or_vex && v.get("notes").is_none() {
            finding(
                out,
                "6.1.27.5",
                format!("{at}/notes"),
                "each vulnerability needs notes",
            );
        }
        // 6.1.27.6 Product Status (security advisories).
        if c == "csaf_security_advisory" && v.get("product_status").is_none() {
            finding(
                out,
                "6.1.27.6",
                format!("{at}/product_status"),
                "each vulnerability needs a product status",
            );
        }
        if c != "csaf_vex" {
            continue;
        }
        let ps = v.get("product_status").unwrap_or(&Value::Null);
        // 6.1.27.7 VEX Product Status.
        if ![
            "fixed",
            "known_affected",
            "known_not_affected",
            "under_investigation",
        ]
        .iter()
        .any(|k| ps.get(k).is_some())
        {
            finding(
                out,
                "6.1.27.7",
                format!("{at}/product_status"),
                "fixed, known_affected, known_not_affected or under_investigation is needed",
            );
        }
        // 6.1.27.8 Vulnerability ID.
        if v.get("cve").is_none() && v.get("ids").is_none() {
            finding(out, "6.1.27.8", at.clone(), "a cve or ids is needed");
        }
        // 6.1.27.9 Impact Statement: each known_not_affected product has
        // a flag or an impact threat.
        let mut stated: BTreeSet<&str> = BTreeSet::new();
        for (_, f) in items(v, "flags") {
            stated.extend(named_products(f, &groups));
        }
        for (_, t) in items(v, "threats").filter(|(_, t)| text(t, "category") == Some("impact")) {
            stated.extend(named_products(t, &groups));
        }
        for (i, p) in items(ps, "known_not_affected") {
            if p.as_str().is_some_and(|p| !stated.contains(p)) {
                finding(
                    out,
                    "6.1.27.9",
                    format!("{at}/product_status/known_not_affected/{i}"),
                    format!("no impact statement for {}", p.as_str().unwrap_or("")),
                );
            }
        }
        // 6.1.27.10 Action Statement: each known_affected product has a
        // remediation.
        let mut remedied: BTreeSet<&str> = BTreeSet::new();
        for (_, r) in items(v, "remediations") {
            remedied.extend(named_products(r, &groups));
        }
        for (i, p) in items(ps, "known_affected") {
            if p.as_str().is_some_and(|p| !remedied.contains(p)) {
                finding(
                    out,
                    "6.1.27.10",
                    format!("{at}/product_status/known_affected/{i}"),
                    format!(
                        "no action statement (remediation) for {}",
                        p.as_str().unwrap_or("")
                    ),
                );
            }
        }
    }
}

/// 6.1.28 Translation: `/document/lang` and `/document/source_lang` must
/// differ.
pub fn translation(doc: &Value, out: &mut Vec<Finding>) {
    let Some(d) = doc.get("document") else { return };
    if let (Some(lang), Some(source)) = (text(d, "lang"), text(d, "source_lang")) {
        if lang.eq_ignore_ascii_case(source) {
            finding(
                out,
                "6.1.28",
                "/document/lang",
                format!("a translation into its own language: {lang}"),
            );
        }
    }
}

/// 6.1.29 Remediation without Product Reference: every remediation names
/// products (`product_ids`) or product groups (`group_ids`).
pub fn remediation_without_product(doc: &Value, out: &mut Vec<Finding>) {
    for (vi, v) in vulnerabilities(doc) {
        for (i, r) in items(v, "remediations") {
            if r.get("product_ids").is_none() && r.get("group_ids").is_none() {
                finding(
                    out,
                    "6.1.29",
                    format!("/vulnerabilities/{vi}/remediations/{i}"),
                    "a remediation names no product",
                );
            }
        }
    }
}

/// 6.1.30 Mixed Integer and Semantic Versioning: the document version and
/// every revision number use one versioning scheme.
pub fn mixed_versioning(doc: &Value, out: &mut Vec<Finding>) {
    let Some(version) = tracking(doc, "version").and_then(Version::parse) else {
        return;
    };
    for (i, n, v, _) in revisions(doc) {
        if v.is_some_and(|v| v.is_semantic() != version.is_semantic()) {
            finding(
                out,
                "6.1.30",
                format!("/document/tracking/revision_history/{i}/number"),
                format!("{n} mixes integer and semantic versioning"),
            );
        }
    }
}

/// 6.1.31 Version Range in Product Version: a `product_version` branch
/// names one version; a range (`<`, `<=`, `>`, `>=`, or the words after,
/// all, before, earlier, later, prior, versions) belongs in
/// `product_version_range`.
pub fn version_range_in_product_version(doc: &Value, out: &mut Vec<Finding>) {
    fn walk(b: &Value, at: String, out: &mut Vec<Finding>) {
        if text(b, "category") == Some("product_version") {
            let name = text(b, "name").unwrap_or("");
            if is_version_range(name) {
                finding(
                    out,
                    "6.1.31",
                    format!("{at}/name"),
                    format!("a version range in product_version: {name}"),
                );
            }
        }
        for (i, c) in items(b, "branches") {
            walk(c, format!("{at}/branches/{i}"), out);
        }
    }
    if let Some(tree) = doc.get("product_tree") {
        for (i, b) in items(tree, "branches") {
            walk(b, format!("/product_tree/branches/{i}"), out);
        }
    }
}

/// Whether a version name reads as a range: `<`, `<=`, `>`, `>=`, or one
/// of the words after, all, before, earlier, later, prior, versions.
pub(crate) fn is_version_range(name: &str) -> bool {
    let words = [
        "after", "all", "before", "earlier", "later", "prior", "versions",
    ];
    name.contains('<')
        || name.contains('>')
        || name
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| words.contains(&w))
}

/// 6.1.32 Flag without Product Reference: every flag names products or
/// product groups.
pub fn flag_without_product(doc: &Value, out: &mut Vec<Finding>) {
    for (vi, v) in vulnerabilities(doc) {
        for (i, f) in items(v, "flags") {
            if f.get("product_ids").is_none() && f.get("group_ids").is_none() {
                finding(
                    out,
                    "6.1.32",
                    format!("/vulnerabilities/{vi}/flags/{i}"),
                    "a flag names no product",
                );
            }
        }
    }
}

/// 6.1.33 Multiple Flags with VEX Justification Codes per Product: within
/// a vulnerability, a product has at most one flag (a VEX justification),
/// named directly or through a product group.
pub fn multiple_vex_justifications(doc: &Value, out: &mut Vec<Finding>) {
    const CODES: [&str; 5] = [
        "component_not_present",
        "inline_mitigations_already_exist",
        "vulnerable_code_cannot_be_controlled_by_adversary",
        "vulnerable_code_not_in_execute_path",
        "vulnerable_code_not_present",
    ];
    let groups = groups(doc);
    for (vi, v) in vulnerabilities(doc) {
        let mut flagged: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, f) in items(v, "flags") {
            if !text(f, "label").is_some_and(|l| CODES.contains(&l)) {
                continue;
            }
            for p in named_products(f, &groups) {
                if let Some(first) = flagged.insert(p, i) {
                    if first != i {
                        finding(
                            out,
                            "6.1.33",
                            format!("/vulnerabilities/{vi}/flags/{i}"),
                            format!("{p} has a second VEX justification (first in flag {first})"),
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
