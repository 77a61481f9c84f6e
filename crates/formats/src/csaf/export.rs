use std::collections::BTreeMap;

use super::version::Version;
use isx_advisories::{
    Advisory, AdvisoryKind, AffectedProduct, ProductStatus, RemediationCategory, Severity,
};
use isx_domain::{Timestamp, Tlp};
use serde_json::{json, Map, Value};

/// Document-level facts an export needs besides the advisory.
#[derive(Debug, Clone)]
pub struct ExportContext {
    pub publisher_name: String,
    /// The publisher's namespace, an https URL.
    pub publisher_namespace: String,
    pub tracking_id: String,
    pub title: String,
    pub tlp: Tlp,
    /// `final` after public release, `interim` before.
    pub is_final: bool,
    pub initial_release: Timestamp,
    pub current_release: Timestamp,
}

/// The CSAF 2.0 flag labels (VEX justifications).
const VEX_JUSTIFICATIONS: [&str; 5] = [
    "component_not_present",
    "inline_mitigations_already_exist",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_not_present",
];

fn tlp1(t: Tlp) -> &'static str {
    match t {
        Tlp::Clear => "WHITE",
        Tlp::Green => "GREEN",
        Tlp::Amber | Tlp::AmberStrict => "AMBER",
        Tlp::Red => "RED",
    }
}

fn csaf_time(t: Timestamp) -> String {
    t.to_rfc3339()
}

fn remediation_category(c: RemediationCategory) -> &'static str {
    match c {
        RemediationCategory::VendorFix => "vendor_fix",
        RemediationCategory::Workaround => "workaround",
        RemediationCategory::Mitigation => "mitigation",
        RemediationCategory::NoFixPlanned => "no_fix_planned",
        RemediationCategory::NoneAvailable => "none_available",
    }
}

fn product_json(p: &AffectedProduct) -> Value {
    let mut prod = Map::new();
    prod.insert("name".into(), json!(p.full_name()));
    prod.insert("product_id".into(), json!(p.product_id));
    let mut helper = Map::new();
    if let Some(c) = &p.cpe {
        helper.insert("cpe".into(), json!(c));
    }
    if let Some(u) = &p.purl {
        helper.insert("purl".into(), json!(u));
    }
    if !helper.is_empty() {
        prod.insert(
            "product_identification_helper".into(),
            Value::Object(helper),
        );
    }
    Value::Object(prod)
}

/// A version that names a range (`<=1.14.0`, `vers:…`) is a
/// `product_version_range`, never a `product_version` (6.1.31).
fn version_category(v: &str) -> &'static str {
    if v.starts_with("vers:") || super::mandatory::is_version_range(v) {
        "product_version_range"
    } else {
        "product_version"
    }
}

/// vendor → product_name → product_version → architecture → product.
fn product_tree(affected: &[AffectedProduct]) -> Value {
    type Versions<'a> =
        BTreeMap<Option<&'a str>, BTreeMap<Option<&'a str>, Vec<&'a AffectedProduct>>>;
    let mut tree: BTreeMap<&str, BTreeMap<&str, Versions>> = BTreeMap::new();
    for p in affected {
        tree.entry(p.vendor.as_str())
            .or_default()
            .entry(p.product.as_str())
            .or_default()
            .entry(p.version.as_deref())
            .or_default()
            .entry(p.platform.as_deref())
            .or_default()
            .push(p);
    }
    let leaf = |cat: &str, name: &str, inner: Vec<Value>| -> Value {
        json!({"category": cat, "name": name, "branches": inner})
    };
    let mut vendors = Vec::new();
    for (vendor, prods) in tree {
        let mut pnames = Vec::new();
        for (product, versions) in prods {
            let mut vbranches = Vec::new();
            let mut direct = Vec::new();
            for (version, platforms) in versions {
                let mut inner = Vec::new();
                for (platform, ps) in platforms {
                    for p in ps {
                        match platform {
                            Some(pl) => inner.push(json!({"category": "architecture", "name": pl, "product": product_json(p)})),
                            None => inner.push(json!({"product": product_json(p)})),
                        }
                    }
                }
                match version {
                    Some(v) => {
                        // A branch holds either branches or one product.
                        let branches: Vec<Value> = inner
                            .into_iter()
                            .map(|b| match b.get("category") {
                                Some(_) => b,
                                None => json!({"category": version_category(v), "name": v, "product": b.get("product")}),
                            })
                            .collect();
                        let (versioned, plain): (Vec<Value>, Vec<Value>) = branches.into_iter().partition(|b| b["category"] == version_category(v));
                        vbranches.extend(versioned);
                        if !plain.is_empty() {
                            vbranches.push(leaf(version_category(v), v, plain));
                        }
                    }
                    None => direct.extend(inner.into_iter().map(|b| match b.get("category") {
                        Some(_) => b,
                        None => json!({"category": "product_name", "name": product, "product": b.get("product")}),
                    })),
                }
            }
            let (named, arch): (Vec<Value>, Vec<Value>) = direct
                .into_iter()
                .partition(|b| b["category"] == "product_name");
            pnames.extend(named);
            vbranches.extend(arch);
            if !vbranches.is_empty() {
                pnames.push(leaf("product_name", product, vbranches));
            }
        }
        vendors.push(leaf("vendor", vendor, pnames));
    }
    json!({ "branches": vendors })
}

/// The number each revision is exported with: the one its source document
/// wrote when there is one, else isx's own. Where any is a semantic
/// version, isx's own numbers are written as `N.0.0`, so one scheme runs
/// through the history (6.1.30).
fn revision_labels(revisions: &[isx_advisories::Revision]) -> Vec<String> {
    let semantic = revisions
        .iter()
        .filter_map(|r| r.label.as_deref())
        .any(|l| Version::parse(l).is_some_and(|v| v.is_semantic()));
    // An isx revision after semantic ones takes the next major version,
    // so no gap shows (6.1.21) even where a masked view left one out.
    let mut major: u64 = 0;
    revisions
        .iter()
        .map(|r| {
            let label = match (&r.label, semantic) {
                (Some(l), _) if Version::parse(l).is_some_and(|v| v.is_semantic() == semantic) => {
                    l.clone()
                }
                (_, true) => format!("{}.0.0", major.saturating_add(1)),
                (_, false) => r.number.to_string(),
            };
            major = Version::parse(&label).map_or(major, |v| v.major().max(major));
            label
        })
        .collect()
}

/// One advisory as a CSAF 2.0 `csaf_security_advisory` document, or, for
/// an informational advisory, a `csaf_informational_advisory`.
pub fn to_csaf(a: &Advisory, ctx: &ExportContext) -> Value {
    if a.kind == AdvisoryKind::Informational {
        return informational(a, ctx);
    }
    let mut notes = vec![
        json!({"category": "description", "title": "Description", "text": if a.description.is_empty() { a.title.clone() } else { a.description.clone() }}),
    ];
    for f in &a.faqs {
        notes.push(json!({"category": "faq", "title": f.question, "text": f.answer}));
    }
    if let Some(v4) = &a.cvss_v40 {
        notes.push(json!({"category": "other", "title": "CVSS v4.0", "text": v4.vector()}));
    }
    if let Some(k) = &a.known_exploited {
        notes.push(
            json!({"category": "other", "title": "CISA KEV", "text": super::import::kev_note(k)}),
        );
    }
    // CSAF 2.0 has no field for EPSS or SSVC (2.1 has): `other` notes.
    if let Some(e) = &a.epss {
        notes.push(json!({"category": "other", "title": "EPSS (FIRST)", "text": format!(
            "EPSS {} (percentile {}) on {}, model {}: the probability of exploitation activity in the next 30 days.",
            e.epss, e.percentile, e.date, e.model_version
        )}));
    }
    if let Some(d) = &a.ssvc {
        notes.push(json!({"category": "other", "title": "SSVC (CISA)", "text": format!(
            "Exploitation: {}; Automatable: {}; Technical Impact: {} ({} decision, SSVC {}, {}).",
            d.exploitation.as_str(),
            if d.automatable { "yes" } else { "no" },
            d.technical_impact.as_str(),
            d.role,
            d.version,
            csaf_time(d.timestamp)
        )}));
    }
    let mut vuln = Map::new();
    // A CVE id goes in `cve`; any other id in `ids`, with the other ids
    // the vulnerability is known by.
    let mut ids: Vec<Value> = a
        .other_ids
        .iter()
        .map(|o| json!({"system_name": o.system_name, "text": o.text}))
        .collect();
    match a.id.cve() {
        Some(cve) => {
            vuln.insert("cve".into(), json!(cve.as_str()));
        }
        None if !a.other_ids.iter().any(|o| o.text == a.id.as_str()) => {
            ids.insert(
                0,
                json!({"system_name": ctx.publisher_name, "text": a.id.as_str()}),
            );
        }
        None => {}
    }
    if !ids.is_empty() {
        vuln.insert("ids".into(), Value::Array(ids));
    }
    vuln.insert("title".into(), json!(a.title));
    // The CWE's name as the catalogue has it (6.1.11); an id the
    // catalogue does not know is left out rather than exported invalid.
    if let Some(c) = &a.cwe {
        if let Some(name) = super::mandatory::cwe_name(&c.id) {
            vuln.insert("cwe".into(), json!({"id": c.id, "name": name}));
        }
    }
    vuln.insert("notes".into(), Value::Array(notes));
    let mut status: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in &a.affected {
        let canonical = match p.status {
            ProductStatus::Affected => "known_affected",
            ProductStatus::Fixed => "fixed",
            ProductStatus::NotAffected => "known_not_affected",
            ProductStatus::UnderInvestigation => "under_investigation",
        };
        // The finer CSAF group an import kept, when it agrees with the status.
        let group = match (p.csaf_status.as_deref(), p.status) {
            (Some(g @ ("first_affected" | "last_affected")), ProductStatus::Affected) => g,
            (Some(g @ ("first_fixed" | "recommended")), ProductStatus::Fixed) => g,
            _ => canonical,
        };
        status.entry(group).or_default().push(&p.product_id);
    }
    if !status.is_empty() {
        vuln.insert("product_status".into(), json!(status));
    }
    // VEX: the justification of each product not affected, as flags.
    let mut flags: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in &a.affected {
        if let (Some(label), ProductStatus::NotAffected) = (p.justification.as_deref(), p.status) {
            if VEX_JUSTIFICATIONS.contains(&label) {
                flags.entry(label).or_default().push(&p.product_id);
            }
        }
    }
    if !flags.is_empty() {
        let list: Vec<Value> = flags
            .into_iter()
            .map(|(label, ids)| json!({"label": label, "product_ids": ids}))
            .collect();
        vuln.insert("flags".into(), Value::Array(list));
    }
    let all_ids: Vec<&str> = a.affected.iter().map(|p| p.product_id.as_str()).collect();
    let mut remediations = Vec::new();
    let mut fixes: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in &a.affected {
        if let Some(f) = &p.fix {
            fixes.entry(f.as_str()).or_default().push(&p.product_id);
        }
    }
    for (fix, ids) in fixes {
        remediations.push(json!({"category": "vendor_fix", "details": fix, "product_ids": ids}));
    }
    for r in &a.remediations {
        let ids: Vec<&str> = if r.product_ids.is_empty() {
            all_ids.clone()
        } else {
            r.product_ids.iter().map(String::as_str).collect()
        };
        if ids.is_empty() {
            continue; // CSAF requires a remediation to name products
        }
        let mut m = Map::new();
        m.insert("category".into(), json!(remediation_category(r.category)));
        m.insert("details".into(), json!(r.details));
        m.insert("product_ids".into(), json!(ids));
        if let Some(u) = &r.url {
            m.insert("url".into(), json!(u));
        }
        remediations.push(Value::Object(m));
    }
    if !remediations.is_empty() {
        vuln.insert("remediations".into(), Value::Array(remediations));
    }
    if !a.references.is_empty() {
        vuln.insert(
            "references".into(),
            Value::Array(external_references(&a.references)),
        );
    }
    // Scores cover the products that are (or may be) affected, not the
    // fixed or unaffected ones (optional test 6.2.19); only when there is
    // none do they name every product, so the score is not lost.
    let scored: Vec<&str> = a
        .affected
        .iter()
        .filter(|p| {
            matches!(
                p.status,
                ProductStatus::Affected | ProductStatus::UnderInvestigation
            )
        })
        .map(|p| p.product_id.as_str())
        .collect();
    let scored = if scored.is_empty() {
        all_ids.clone()
    } else {
        scored
    };
    if let (Some(v3), false) = (&a.cvss_v31, scored.is_empty()) {
        let version = if v3.vector().starts_with("CVSS:3.0") {
            "3.0"
        } else {
            "3.1"
        };
        let sev = match v3.severity() {
            Severity::None => "NONE",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        };
        vuln.insert(
            "scores".into(),
            json!([{"products": scored, "cvss_v3": {"version": version, "vectorString": v3.vector(), "baseScore": v3.score(), "baseSeverity": sev}}]),
        );
    }
    let mut threats = Vec::new();
    if let Some(e) = &a.exploitability {
        threats.push(json!({"category": "exploit_status", "details": e.to_ms()}));
    }
    if let Some(text) = &a.exploit_statement {
        threats.push(json!({"category": "exploit_status", "details": text}));
    }
    // VEX impact statements of products not affected, one per statement.
    let mut impacts: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in &a.affected {
        if let (Some(text), ProductStatus::NotAffected) = (p.impact_statement.as_deref(), p.status)
        {
            impacts.entry(text).or_default().push(&p.product_id);
        }
    }
    for (text, ids) in impacts {
        threats.push(json!({"category": "impact", "details": text, "product_ids": ids}));
    }
    if !threats.is_empty() {
        vuln.insert("threats".into(), Value::Array(threats));
    }
    json!({
        "document": document(a, ctx, "csaf_security_advisory", ("summary", "Summary")),
        "product_tree": product_tree(&a.affected),
        "vulnerabilities": [Value::Object(vuln)],
    })
}

/// The `document` element both kinds share: its category, one note with
/// the advisory's description (`note` is its category and title), the
/// publisher, the distribution and the tracking.
fn document(a: &Advisory, ctx: &ExportContext, category: &str, note: (&str, &str)) -> Value {
    let (revisions, version) = history(a, ctx);
    json!({
        "category": category,
        "csaf_version": "2.0",
        "distribution": distribution(ctx),
        "lang": "en-US",
        "notes": [{"category": note.0, "title": note.1, "text": if a.description.is_empty() { a.title.clone() } else { a.description.clone() }}],
        "publisher": {"category": "coordinator", "name": ctx.publisher_name, "namespace": ctx.publisher_namespace},
        "title": ctx.title,
        "tracking": {
            "current_release_date": csaf_time(ctx.current_release),
            "generator": {"engine": {"name": "isx", "version": env!("CARGO_PKG_VERSION")}},
            "id": ctx.tracking_id,
            "initial_release_date": csaf_time(ctx.initial_release),
            "revision_history": revisions,
            "status": if ctx.is_final { "final" } else { "interim" },
            "version": version,
        }
    })
}

/// References as CSAF writes them: external, summarised by their URL
/// when they have no summary.
fn external_references(refs: &[isx_advisories::Reference]) -> Vec<Value> {
    refs.iter()
        .map(|r| json!({"category": "external", "summary": if r.summary.is_empty() { r.url.clone() } else { r.summary.clone() }, "url": r.url}))
        .collect()
}

/// The revision history and version an export writes (the version is the
/// newest revision's number, 6.1.16).
fn history(a: &Advisory, ctx: &ExportContext) -> (Vec<Value>, String) {
    let labels = revision_labels(&a.revisions);
    let mut revisions: Vec<Value> = a
        .revisions
        .iter()
        .zip(&labels)
        .map(|(r, label)| json!({"number": label, "date": csaf_time(r.date), "summary": if r.summary.is_empty() { "Revision".to_owned() } else { r.summary.clone() }}))
        .collect();
    if revisions.is_empty() {
        revisions.push(json!({"number": "1", "date": csaf_time(ctx.initial_release), "summary": "Initial version"}));
    }
    let version = labels
        .iter()
        .filter_map(|l| Version::parse(l).map(|v| (v, l)))
        .max_by(|a, b| a.0.precedence(&b.0))
        .map_or_else(|| "1".to_owned(), |(_, l)| l.clone());
    (revisions, version)
}

/// `distribution`: the TLP label and, before release, the embargo.
fn distribution(ctx: &ExportContext) -> Value {
    let mut distribution = Map::new();
    distribution.insert(
        "tlp".into(),
        json!({"label": tlp1(ctx.tlp), "url": "https://www.first.org/tlp/"}),
    );
    if !ctx.is_final {
        distribution.insert(
            "text".into(),
            json!(format!(
                "Advance notice, embargoed until {}: share it only within your organisation until then.",
                csaf_time(ctx.initial_release)
            )),
        );
    }
    Value::Object(distribution)
}

/// An informational advisory: its description as the document's notes,
/// its references as the document's (external) references, no
/// vulnerabilities (6.1.27.1–3).
fn informational(a: &Advisory, ctx: &ExportContext) -> Value {
    let mut document = document(
        a,
        ctx,
        "csaf_informational_advisory",
        ("description", "Description"),
    );
    if let Some(d) = document.as_object_mut() {
        d.insert(
            "references".into(),
            Value::Array(external_references(&a.references)),
        );
    }
    json!({ "document": document })
}

/// Adds the document's canonical URL as its `self` reference (optional
/// test 6.2.11: where the document is published, ending in its §5.1 file
/// name).
pub fn add_canonical_url(doc: &mut Value, url: &str) {
    let Some(document) = doc.get_mut("document").and_then(Value::as_object_mut) else {
        return;
    };
    let refs = document
        .entry("references")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Some(list) = refs.as_array_mut() {
        list.retain(|r| r.get("category").and_then(Value::as_str) != Some("self"));
        list.insert(
            0,
            json!({"category": "self", "summary": "Canonical URL", "url": url}),
        );
    }
}
