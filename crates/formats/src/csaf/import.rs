use std::collections::HashMap;

use isx_advisories::{
    Advisory, AdvisoryId, AdvisoryKind, AffectedProduct, CveId, CvssV3, CvssV4, Cwe,
    Exploitability, Faq, KnownExploited, OtherId, ProductStatus, Reference, Remediation,
    RemediationCategory, Revision,
};
use isx_domain::{Timestamp, Tlp};
use serde_json::Value;

use crate::FormatError;

/// What one CSAF document yields.
#[derive(Debug, Clone)]
pub struct CsafDocument {
    pub tracking_id: String,
    pub title: String,
    pub publisher: String,
    pub tlp: Option<Tlp>,
    pub initial_release: Option<Timestamp>,
    /// One advisory per vulnerability (known by its CVE id, else by another
    /// id), or one informational advisory for a document without
    /// vulnerabilities.
    pub advisories: Vec<Advisory>,
    /// Things isx noticed but did not reject, e.g. a supplied score that
    /// disagrees with the one computed from its vector.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct ProductInfo {
    name: String,
    vendor: String,
    product: String,
    version: Option<String>,
    platform: Option<String>,
    cpe: Option<String>,
    purl: Option<String>,
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn arr<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = (usize, &'a Value)> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

fn ts(v: Option<&str>, pointer: &str) -> Result<Option<Timestamp>, FormatError> {
    v.map(|t| Timestamp::parse(t).map_err(|e| FormatError::value(pointer, e)))
        .transpose()
}

fn walk(branch: &Value, ctx: &ProductInfo, out: &mut HashMap<String, ProductInfo>) {
    let mut here = ctx.clone();
    let name = s(branch, "name").unwrap_or("").to_owned();
    match s(branch, "category").unwrap_or("") {
        "vendor" => here.vendor = name,
        "product_name" | "product_family" => here.product = name,
        "product_version" | "product_version_range" => here.version = Some(name),
        "architecture" | "platform" => here.platform = Some(name),
        _ => {}
    }
    if let Some(p) = branch.get("product") {
        add_product(p, &here, out);
    }
    for (_, b) in arr(branch, "branches") {
        walk(b, &here, out);
    }
}

fn add_product(p: &Value, ctx: &ProductInfo, out: &mut HashMap<String, ProductInfo>) {
    let Some(id) = s(p, "product_id") else { return };
    let helper = p.get("product_identification_helper");
    let name = s(p, "name").unwrap_or(id).to_owned();
    let mut info = ProductInfo {
        name: name.clone(),
        cpe: helper.and_then(|h| s(h, "cpe")).map(str::to_owned),
        purl: helper.and_then(|h| s(h, "purl")).map(str::to_owned),
        ..ctx.clone()
    };
    if info.product.is_empty() {
        info.product = name;
    }
    out.insert(id.to_owned(), info);
}

fn products(doc: &Value, publisher: &str) -> HashMap<String, ProductInfo> {
    let mut out = HashMap::new();
    let Some(tree) = doc.get("product_tree") else {
        return out;
    };
    let root = ProductInfo {
        vendor: publisher.to_owned(),
        ..Default::default()
    };
    for (_, b) in arr(tree, "branches") {
        walk(b, &root, &mut out);
    }
    for (_, p) in arr(tree, "full_product_names") {
        add_product(p, &root, &mut out);
    }
    // A relationship names a component on a platform, e.g. a package in a
    // distribution: the component's identity, the platform's name.
    for (_, r) in arr(tree, "relationships") {
        let (Some(fpn), Some(component), Some(platform)) = (
            r.get("full_product_name"),
            s(r, "product_reference"),
            s(r, "relates_to_product_reference"),
        ) else {
            continue;
        };
        let base = out.get(component).cloned().unwrap_or_default();
        let platform_name = out
            .get(platform)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| platform.to_owned());
        let ctx = ProductInfo {
            platform: Some(platform_name),
            ..base
        };
        let mut tmp = HashMap::new();
        add_product(fpn, &ctx, &mut tmp);
        if let Some((id, mut info)) = tmp.into_iter().next() {
            if !ctx.product.is_empty() {
                info.product = ctx.product.clone();
            }
            out.insert(id, info);
        }
    }
    out
}

fn tlp(label: &str) -> Option<Tlp> {
    label.parse().ok()
}

const STATUS_GROUPS: [(&str, ProductStatus); 9] = [
    ("known_affected", ProductStatus::Affected),
    ("first_affected", ProductStatus::Affected),
    ("last_affected", ProductStatus::Affected),
    ("fixed", ProductStatus::Fixed),
    ("first_fixed", ProductStatus::Fixed),
    ("known_not_affected", ProductStatus::NotAffected),
    ("under_investigation", ProductStatus::UnderInvestigation),
    ("recommended", ProductStatus::Fixed),
    ("", ProductStatus::Affected),
];

fn remediation_category(c: &str) -> Option<RemediationCategory> {
    Some(match c {
        "vendor_fix" => RemediationCategory::VendorFix,
        "workaround" => RemediationCategory::Workaround,
        "mitigation" => RemediationCategory::Mitigation,
        "no_fix_planned" => RemediationCategory::NoFixPlanned,
        "none_available" => RemediationCategory::NoneAvailable,
        _ => return None,
    })
}

/// Parses and validates a CSAF 2.0 document.
pub fn parse(bytes: &[u8]) -> Result<CsafDocument, FormatError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| FormatError::Json(e.to_string()))?;
    let expansion = super::mandatory::group_expansion(&doc);
    if expansion > super::mandatory::MAX_GROUP_EXPANSION {
        return Err(FormatError::value(
            "/product_tree/product_groups",
            format!(
                "the document names products through groups {expansion} times; isx reads at most {}",
                super::mandatory::MAX_GROUP_EXPANSION
            ),
        ));
    }
    // A CVSS object that breaks FIRST's schema breaks the CSAF schema too:
    // say so as test 6.1.8 rather than as a schema error.
    let mut cvss = Vec::new();
    super::mandatory::invalid_cvss(&doc, &mut cvss);
    if !cvss.is_empty() {
        return Err(FormatError::Csaf(cvss));
    }
    super::validate(&doc)?;
    let failed = super::mandatory::run_except(&doc, "6.1.8");
    if !failed.is_empty() {
        return Err(FormatError::Csaf(failed));
    }
    let d = doc.get("document").unwrap_or(&Value::Null);
    let tracking = &d["tracking"];
    let publisher = s(&d["publisher"], "name").unwrap_or("").to_owned();
    let title = s(d, "title").unwrap_or("").to_owned();
    let revisions = arr(tracking, "revision_history")
        .map(|(i, r)| {
            let p = format!("/document/tracking/revision_history/{i}");
            let number = s(r, "number").unwrap_or("0");
            let number: u32 = number
                .split('.')
                .next()
                .unwrap_or("0")
                .parse()
                .map_err(|_| {
                    FormatError::value(
                        format!("{p}/number"),
                        "isx reads integer or semantic version numbers",
                    )
                })?;
            let date = ts(s(r, "date"), &format!("{p}/date"))?.unwrap_or_default();
            Ok(Revision {
                number,
                date,
                summary: s(r, "summary").unwrap_or("").to_owned(),
                exploitability_only: false,
                // Kept when isx's number does not say it all.
                label: s(r, "number")
                    .filter(|n| *n != number.to_string())
                    .map(str::to_owned),
            })
        })
        .collect::<Result<Vec<_>, FormatError>>()?;
    let products = products(&doc, &publisher);
    // The optional (§6.2) and informative (§6.3) tests: warnings, never a
    // refusal, each with its test number and pointer.
    let mut warnings: Vec<String> = super::optional::run(&doc)
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut advisories = Vec::new();
    let tracking_id = s(tracking, "id").unwrap_or("");
    // Vulnerabilities with neither a CVE id nor another id take the
    // document's tracking id (numbered when there are several).
    let unnamed = arr(&doc, "vulnerabilities")
        .filter(|(_, v)| s(v, "cve").is_none() && other_ids(v).is_empty())
        .count();
    for (vi, v) in arr(&doc, "vulnerabilities") {
        let vp = format!("/vulnerabilities/{vi}");
        let other_ids = other_ids(v);
        let id: AdvisoryId = match s(v, "cve") {
            Some(cve) => cve
                .parse::<CveId>()
                .map_err(|e| FormatError::value(format!("{vp}/cve"), e))?
                .into(),
            None => {
                let id = match other_ids.first() {
                    Some(o) => id_of(o),
                    None if unnamed == 1 => AdvisoryId::sanitized(tracking_id),
                    None => AdvisoryId::sanitized(&format!("{tracking_id}:{}", vi + 1)),
                }
                .ok_or_else(|| {
                    FormatError::value(format!("{vp}/ids"), "no usable id for this vulnerability")
                })?;
                // Two vulnerabilities of one document known by the same id
                // (or by ids a file name writes alike) stay two advisories:
                // the later one is numbered by its place.
                let taken =
                    |id: &AdvisoryId| advisories.iter().any(|a: &Advisory| a.id.key() == id.key());
                let id = if taken(&id) {
                    let suffix = format!(":{}", vi + 1);
                    let base: String = id
                        .as_str()
                        .chars()
                        .take(AdvisoryId::MAX_LEN.saturating_sub(suffix.len()))
                        .collect();
                    AdvisoryId::sanitized(&format!("{base}{suffix}"))
                        .filter(|n| !taken(n))
                        .ok_or_else(|| {
                            FormatError::value(
                                format!("{vp}/ids"),
                                format!("{id} is the id of another vulnerability of this document"),
                            )
                        })?
                } else {
                    id
                };
                warnings.push(format!("{vp}: no CVE id; stored as {id}"));
                id
            }
        };
        // A CVE id is one vulnerability's (6.1.23 checks the `cve` fields;
        // this, what other ids became).
        if advisories.iter().any(|a: &Advisory| a.id.key() == id.key()) {
            return Err(FormatError::value(
                vp.clone(),
                format!("{id} is the id of another vulnerability of this document"),
            ));
        }
        // The id is among the ids an export writes, so that a re-import
        // finds the same one.
        let mut other_ids = other_ids;
        if !id.is_cve() && !other_ids.iter().any(|o| o.text == id.as_str()) {
            other_ids.insert(
                0,
                OtherId {
                    system_name: publisher.clone(),
                    text: id.to_string(),
                },
            );
        }
        let cve = &id;
        let mut description = String::new();
        let mut faqs = Vec::new();
        let mut cvss_v40 = None;
        let mut known_exploited = None;
        for (ni, n) in arr(v, "notes") {
            let text = s(n, "text").unwrap_or("");
            let note_title = s(n, "title").unwrap_or("");
            match (s(n, "category").unwrap_or(""), note_title) {
                ("description", _) => description = text.to_owned(),
                ("summary" | "general" | "details", _) if description.is_empty() => {
                    description = text.to_owned()
                }
                ("faq", q) => faqs.push(Faq {
                    question: q.to_owned(),
                    answer: text.to_owned(),
                }),
                ("other", "CVSS v4.0") => {
                    cvss_v40 = Some(
                        CvssV4::parse(text)
                            .map_err(|e| FormatError::value(format!("{vp}/notes/{ni}/text"), e))?,
                    )
                }
                ("other", "CISA KEV") => known_exploited = Some(parse_kev_note(text)),
                _ => {}
            }
        }
        let mut cvss_v31 = None;
        for (si, sc) in arr(v, "scores") {
            if let Some(c3) = sc.get("cvss_v3") {
                let vector = s(c3, "vectorString").unwrap_or("");
                let parsed = CvssV3::parse(vector).map_err(|e| {
                    FormatError::value(format!("{vp}/scores/{si}/cvss_v3/vectorString"), e)
                })?;
                if let Some(base) = c3.get("baseScore").and_then(Value::as_f64) {
                    if !parsed.agrees_with(base) {
                        warnings.push(format!(
                            "{vp}/scores/{si}/cvss_v3/baseScore: {cve} states {base} but its vector scores {}; isx uses {}",
                            parsed.score(),
                            parsed.score()
                        ));
                    }
                }
                if cvss_v31.is_none() {
                    cvss_v31 = Some(parsed);
                }
            }
        }
        // Microsoft's convention is read into the index; any other
        // exploit status (valid CSAF: free text) is kept as written.
        let mut exploitability = None;
        let mut statements: Vec<&str> = Vec::new();
        for (_, t) in arr(v, "threats") {
            if s(t, "category") == Some("exploit_status") {
                let details = s(t, "details").unwrap_or("");
                match Exploitability::parse_ms(details) {
                    Ok(e) => exploitability = Some(e),
                    Err(_) => statements.push(details),
                }
            }
        }
        let exploit_statement = (!statements.is_empty()).then(|| statements.join("\n"));
        let mut affected: Vec<AffectedProduct> = Vec::new();
        if let Some(ps) = v.get("product_status") {
            for (group, status) in STATUS_GROUPS.iter().filter(|(g, _)| !g.is_empty()) {
                for (_, id) in arr(ps, group) {
                    let Some(id) = id.as_str() else { continue };
                    if affected.iter().any(|a| a.product_id == id) {
                        continue;
                    }
                    let info = products.get(id).cloned().unwrap_or_else(|| ProductInfo {
                        product: id.to_owned(),
                        ..Default::default()
                    });
                    affected.push(AffectedProduct {
                        product_id: id.to_owned(),
                        vendor: info.vendor,
                        product: info.product,
                        version: info.version,
                        platform: info.platform,
                        cpe: info.cpe,
                        purl: info.purl,
                        status: *status,
                        fix: None,
                        csaf_status: matches!(
                            *group,
                            "first_affected" | "last_affected" | "first_fixed" | "recommended"
                        )
                        .then(|| (*group).to_owned()),
                        justification: None,
                        impact_statement: None,
                    });
                }
            }
        }
        // VEX: why a product is not affected (flags) and what that means
        // (impact threats), kept per product.
        let groups = super::mandatory::groups(&doc);
        for (_, f) in arr(v, "flags") {
            let Some(label) = s(f, "label") else { continue };
            for id in super::mandatory::named_products(f, &groups) {
                if let Some(p) = affected.iter_mut().find(|p| p.product_id == id) {
                    p.justification.get_or_insert_with(|| label.to_owned());
                }
            }
        }
        for (_, t) in arr(v, "threats") {
            if s(t, "category") != Some("impact") {
                continue;
            }
            let details = s(t, "details").unwrap_or("");
            for id in super::mandatory::named_products(t, &groups) {
                if let Some(p) = affected
                    .iter_mut()
                    .find(|p| p.product_id == id && p.status == ProductStatus::NotAffected)
                {
                    p.impact_statement.get_or_insert_with(|| details.to_owned());
                }
            }
        }
        let mut remediations = Vec::new();
        for (ri, r) in arr(v, "remediations") {
            let category = s(r, "category")
                .and_then(remediation_category)
                .ok_or_else(|| {
                    FormatError::value(
                        format!("{vp}/remediations/{ri}/category"),
                        "unknown remediation category",
                    )
                })?;
            let details = s(r, "details").unwrap_or("").to_owned();
            let url = s(r, "url").map(str::to_owned);
            let ids: Vec<String> = arr(r, "product_ids")
                .filter_map(|(_, p)| p.as_str().map(str::to_owned))
                .collect();
            let is_fix = category == RemediationCategory::VendorFix
                && url.is_none()
                && !details.contains('\n')
                && details.len() <= 100
                && !ids.is_empty();
            if is_fix {
                for p in affected.iter_mut().filter(|p| ids.contains(&p.product_id)) {
                    p.fix = Some(details.clone());
                }
            } else {
                let ids = ids
                    .into_iter()
                    .filter(|i| affected.iter().any(|p| &p.product_id == i))
                    .collect();
                remediations.push(Remediation {
                    category,
                    details,
                    url,
                    product_ids: ids,
                });
            }
        }
        let references = arr(v, "references")
            .filter_map(|(_, r)| {
                Some(Reference {
                    url: s(r, "url")?.to_owned(),
                    summary: s(r, "summary").unwrap_or("").to_owned(),
                })
            })
            .collect();
        let cwe = match v.get("cwe") {
            Some(c) => Some(
                Cwe::new(s(c, "id").unwrap_or(""), s(c, "name").unwrap_or(""))
                    .map_err(|e| FormatError::value(format!("{vp}/cwe/id"), e))?,
            ),
            None => None,
        };
        let advisory = Advisory {
            title: s(v, "title")
                .map(str::to_owned)
                .unwrap_or_else(|| title.clone()),
            id,
            kind: AdvisoryKind::Vulnerability,
            other_ids,
            description,
            cwe,
            cvss_v31,
            cvss_v40,
            exploitability,
            exploit_statement,
            known_exploited,
            epss: None,
            ssvc: None,
            affected,
            remediations,
            faqs,
            references,
            revisions: revisions.clone(),
        };
        advisory
            .validate()
            .map_err(|e| FormatError::value(vp.clone(), e))?;
        advisories.push(advisory);
    }
    // A document without vulnerabilities (an informational advisory) is
    // one informational advisory: its notes and references. Never silently:
    // when it cannot be one, the report says so.
    if arr(&doc, "vulnerabilities").next().is_none() {
        let category = s(d, "category").unwrap_or("");
        match informational(d, title.clone(), revisions.clone()) {
            Ok(a) => {
                warnings.push(format!(
                    "{tracking_id}: a {category} document without vulnerabilities; stored as the informational advisory {}",
                    a.id
                ));
                advisories.push(a);
            }
            Err(why) => warnings.push(format!(
                "{tracking_id}: a valid {category} document without vulnerabilities, and {why}; nothing was stored"
            )),
        }
    }
    Ok(CsafDocument {
        tracking_id: tracking_id.to_owned(),
        title,
        publisher,
        tlp: d
            .get("distribution")
            .and_then(|x| x.get("tlp"))
            .and_then(|x| s(x, "label"))
            .and_then(tlp),
        initial_release: ts(
            s(tracking, "initial_release_date"),
            "/document/tracking/initial_release_date",
        )?,
        advisories,
        warnings,
    })
}

/// A vulnerability's `ids` (system name and text).
fn other_ids(v: &Value) -> Vec<OtherId> {
    arr(v, "ids")
        .filter_map(|(_, i)| {
            Some(OtherId {
                system_name: s(i, "system_name")?.to_owned(),
                text: s(i, "text")?.to_owned(),
            })
        })
        .collect()
}

/// The advisory id an `ids` entry gives: its text when that is a usable id
/// with a letter in it (`GHSA-…`, `RHSA-2024:1234`); a bare number (a
/// Bugzilla id) is prefixed with its system's name so it cannot collide.
/// A CVE id in `ids` is not taken for one (the `cve` field says which
/// CVE a vulnerability is): it is prefixed too.
fn id_of(o: &OtherId) -> Option<AdvisoryId> {
    match o.text.parse::<AdvisoryId>() {
        Ok(id) if !id.is_cve() && o.text.chars().any(|c| c.is_ascii_alphabetic()) => Some(id),
        _ => AdvisoryId::sanitized(&format!("{}-{}", o.system_name, o.text))
            .filter(|id| !id.is_cve()),
    }
}

/// The informational advisory of a document without vulnerabilities:
/// titled as the document, described by its notes, with its references.
fn informational(d: &Value, title: String, revisions: Vec<Revision>) -> Result<Advisory, String> {
    let id = AdvisoryId::sanitized(s(&d["tracking"], "id").unwrap_or(""))
        .ok_or("its tracking id gives no usable id")?;
    // An informational advisory is no CVE's: a tracking id that reads as
    // one is prefixed, so it can never stand in for that CVE's advisory.
    let id = if id.is_cve() {
        AdvisoryId::sanitized(&format!("INFO-{id}")).ok_or("its tracking id gives no usable id")?
    } else {
        id
    };
    let description = arr(d, "notes")
        .filter(|(_, n)| {
            matches!(
                s(n, "category"),
                Some("description" | "summary" | "general" | "details")
            )
        })
        .filter_map(|(_, n)| s(n, "text"))
        .collect::<Vec<_>>()
        .join("\n\n");
    let references = arr(d, "references")
        .filter(|(_, r)| s(r, "category") != Some("self"))
        .filter_map(|(_, r)| {
            Some(Reference {
                url: s(r, "url")?.to_owned(),
                summary: s(r, "summary").unwrap_or("").to_owned(),
            })
        })
        .collect();
    let a = Advisory {
        id,
        kind: AdvisoryKind::Informational,
        other_ids: vec![],
        title,
        description,
        cwe: None,
        cvss_v31: None,
        cvss_v40: None,
        exploitability: None,
        exploit_statement: None,
        known_exploited: None,
        epss: None,
        ssvc: None,
        affected: vec![],
        remediations: vec![],
        faqs: vec![],
        references,
        revisions,
    };
    a.validate().map_err(|e| e.to_string())?;
    Ok(a)
}

fn parse_kev_note(text: &str) -> KnownExploited {
    let mut k = KnownExploited {
        date_added: String::new(),
        due_date: None,
        ransomware: false,
    };
    for part in text.split(';').map(str::trim) {
        match part.split_once('=') {
            Some(("dateAdded", v)) => k.date_added = v.trim().to_owned(),
            Some(("dueDate", v)) => k.due_date = Some(v.trim().to_owned()),
            Some(("ransomware", v)) => k.ransomware = v.trim().eq_ignore_ascii_case("known"),
            _ => {}
        }
    }
    k
}

pub(crate) fn kev_note(k: &KnownExploited) -> String {
    let mut out = format!("dateAdded={}", k.date_added);
    if let Some(d) = &k.due_date {
        out.push_str(&format!("; dueDate={d}"));
    }
    out.push_str(&format!(
        "; ransomware={}",
        if k.ransomware { "Known" } else { "Unknown" }
    ));
    out
}
