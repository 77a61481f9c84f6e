//! CVE JSON 5.x records (the CVE Program's record format): the CNA
//! container gives title, description, CWE, CVSS, affected products and
//! references. Unknown fields are ignored; missing required ones are
//! reported with their JSON pointer.

use isx_advisories::{
    Advisory, AdvisoryKind, AffectedProduct, CveId, CvssV3, CvssV4, Cwe, ProductStatus, Reference,
    Remediation, RemediationCategory,
};
use serde::Deserialize;

use crate::FormatError;

/// Whether a JSON document is a CVE record.
pub fn is_cve_record(doc: &serde_json::Value) -> bool {
    doc.get("dataType").and_then(serde_json::Value::as_str) == Some("CVE_RECORD")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    cve_metadata: Metadata,
    containers: Containers,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    cve_id: String,
    state: String,
}

#[derive(Deserialize)]
struct Containers {
    cna: Cna,
    /// Authorized data publishers' containers (CISA's "Vulnrichment"
    /// holds SSVC decision points); read leniently, as [`ssvc`] says.
    #[serde(default)]
    adp: Vec<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Cna {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    descriptions: Vec<LangText>,
    #[serde(default)]
    affected: Vec<Affected>,
    #[serde(default)]
    problem_types: Vec<ProblemType>,
    #[serde(default)]
    metrics: Vec<Metric>,
    #[serde(default)]
    solutions: Vec<LangText>,
    #[serde(default)]
    workarounds: Vec<LangText>,
    #[serde(default)]
    references: Vec<Ref>,
}

#[derive(Deserialize)]
struct LangText {
    #[serde(default)]
    lang: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Affected {
    #[serde(default)]
    vendor: Option<String>,
    #[serde(default)]
    product: Option<String>,
    #[serde(default)]
    platforms: Vec<String>,
    #[serde(default)]
    versions: Vec<Version>,
    #[serde(default)]
    cpes: Vec<String>,
    #[serde(default)]
    package_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Version {
    version: String,
    status: String,
    #[serde(default)]
    less_than: Option<String>,
    #[serde(default)]
    less_than_or_equal: Option<String>,
}

#[derive(Deserialize)]
struct ProblemType {
    #[serde(default)]
    descriptions: Vec<ProblemDescription>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProblemDescription {
    #[serde(default)]
    cwe_id: Option<String>,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
struct Metric {
    #[serde(default, rename = "cvssV3_1")]
    v31: Option<Cvss>,
    #[serde(default, rename = "cvssV3_0")]
    v30: Option<Cvss>,
    #[serde(default, rename = "cvssV4_0")]
    v40: Option<Cvss>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cvss {
    vector_string: String,
    #[serde(default)]
    base_score: Option<f64>,
}

#[derive(Deserialize)]
struct Ref {
    url: String,
    #[serde(default)]
    name: Option<String>,
}

pub(crate) fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .map(|seg| match seg {
            Segment::Seq { index } => format!("/{index}"),
            Segment::Map { key } | Segment::Enum { variant: key } => format!("/{key}"),
            Segment::Unknown => "/?".to_owned(),
        })
        .collect()
}

fn english(texts: &[LangText]) -> Option<&str> {
    texts
        .iter()
        .find(|t| t.lang.starts_with("en"))
        .or_else(|| texts.first())
        .map(|t| t.value.as_str())
}

/// CISA's SSVC decision points from the ADP containers: the first
/// `metrics[].other` of type `ssvc` with the three decision points
/// (`Exploitation`: none/poc/active, `Automatable`: yes/no, `Technical
/// Impact`: partial/total). A malformed one is a warning, not a refusal:
/// the record's own (CNA) data stays importable.
fn ssvc(adp: &[serde_json::Value], warnings: &mut Vec<String>) -> Option<isx_advisories::Ssvc> {
    let found = adp.iter().enumerate().find_map(|(ai, c)| {
        c.get("metrics")?
            .as_array()?
            .iter()
            .enumerate()
            .find_map(|(mi, m)| {
                let other = m.get("other")?;
                (other.get("type")?.as_str()? == "ssvc").then(|| {
                    (
                        format!("/containers/adp/{ai}/metrics/{mi}/other/content"),
                        other.get("content"),
                    )
                })
            })
    })?;
    let (pointer, content) = found;
    let read = || -> Result<isx_advisories::Ssvc, String> {
        let content = content.ok_or("no content")?;
        let option = |name: &str| -> Result<String, String> {
            content
                .get("options")
                .and_then(|o| o.as_array())
                .and_then(|o| o.iter().find_map(|x| x.get(name)?.as_str()))
                .map(str::to_owned)
                .ok_or_else(|| format!("no {name:?} decision point"))
        };
        let exploitation = option("Exploitation")?
            .parse()
            .map_err(|e: isx_advisories::AdvisoryError| e.to_string())?;
        let automatable = match option("Automatable")?.to_ascii_lowercase().as_str() {
            "yes" => true,
            "no" => false,
            other => return Err(format!("Automatable {other:?}: expected yes or no")),
        };
        let technical_impact = match option("Technical Impact")?.to_ascii_lowercase().as_str() {
            "partial" => isx_advisories::SsvcTechnicalImpact::Partial,
            "total" => isx_advisories::SsvcTechnicalImpact::Total,
            other => {
                return Err(format!(
                    "Technical Impact {other:?}: expected partial or total"
                ))
            }
        };
        let text = |k: &str| {
            content
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned()
        };
        let timestamp = isx_domain::Timestamp::parse(&text("timestamp"))
            .map_err(|e| format!("timestamp: {e}"))?;
        Ok(isx_advisories::Ssvc {
            exploitation,
            automatable,
            technical_impact,
            role: text("role"),
            version: text("version"),
            timestamp,
        })
    };
    match read() {
        Ok(s) => Some(s),
        Err(e) => {
            warnings.push(format!("{pointer}: SSVC decision points not read: {e}"));
            None
        }
    }
}

/// Parses a CVE JSON 5.x record into an advisory (plus warnings).
pub fn parse(bytes: &[u8]) -> Result<(Advisory, Vec<String>), FormatError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let rec: Record = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let pointer = pointer(e.path());
        FormatError::Schema {
            pointer,
            message: e.into_inner().to_string(),
        }
    })?;
    let cve: CveId = rec
        .cve_metadata
        .cve_id
        .parse()
        .map_err(|e| FormatError::value("/cveMetadata/cveId", e))?;
    if rec.cve_metadata.state != "PUBLISHED" {
        return Err(FormatError::value(
            "/cveMetadata/state",
            format!("{cve} is {}, not PUBLISHED", rec.cve_metadata.state),
        ));
    }
    let cna = &rec.containers.cna;
    let mut warnings = Vec::new();
    let mut cvss_v31 = None;
    let mut cvss_v40 = None;
    for (i, m) in cna.metrics.iter().enumerate() {
        if let Some(c) = m.v31.as_ref().or(m.v30.as_ref()) {
            let key = if m.v31.is_some() {
                "cvssV3_1"
            } else {
                "cvssV3_0"
            };
            let parsed = CvssV3::parse(&c.vector_string).map_err(|e| {
                FormatError::value(format!("/containers/cna/metrics/{i}/{key}/vectorString"), e)
            })?;
            if let Some(b) = c.base_score.filter(|b| !parsed.agrees_with(*b)) {
                warnings.push(format!(
                    "{cve}: states {b} but its vector scores {}; isx uses {}",
                    parsed.score(),
                    parsed.score()
                ));
            }
            cvss_v31.get_or_insert(parsed);
        }
        if let Some(c) = &m.v40 {
            let parsed = CvssV4::parse(&c.vector_string).map_err(|e| {
                FormatError::value(
                    format!("/containers/cna/metrics/{i}/cvssV4_0/vectorString"),
                    e,
                )
            })?;
            if let Some(b) = c.base_score.filter(|b| !parsed.agrees_with(*b)) {
                warnings.push(format!(
                    "{cve}: states {b} but its CVSS v4.0 vector scores {}; isx uses {}",
                    parsed.score(),
                    parsed.score()
                ));
            }
            cvss_v40.get_or_insert(parsed);
        }
    }
    let cwe = cna
        .problem_types
        .iter()
        .flat_map(|p| &p.descriptions)
        .find_map(|d| d.cwe_id.as_deref().map(|id| (id, d.description.as_str())))
        .map(|(id, name)| Cwe::new(id, name.strip_prefix(&format!("{id}: ")).unwrap_or(name)))
        .transpose()
        .map_err(|e| FormatError::value("/containers/cna/problemTypes", e))?;
    let mut affected = Vec::new();
    for (ai, a) in cna.affected.iter().enumerate() {
        let vendor = a.vendor.clone().unwrap_or_default();
        let product = a
            .product
            .clone()
            .or_else(|| a.package_url.clone())
            .unwrap_or_default();
        for (vi, v) in a.versions.iter().enumerate() {
            let version = match (&v.less_than, &v.less_than_or_equal) {
                (Some(lt), _) if v.version == "0" || v.version == "*" => format!("<{lt}"),
                (Some(lt), _) => format!("{} to <{lt}", v.version),
                (None, Some(le)) if v.version == "0" || v.version == "*" => format!("<={le}"),
                (None, Some(le)) => format!("{} to <={le}", v.version),
                _ => v.version.clone(),
            };
            let status = match v.status.as_str() {
                "affected" => ProductStatus::Affected,
                "unaffected" => ProductStatus::NotAffected,
                _ => ProductStatus::UnderInvestigation,
            };
            affected.push(AffectedProduct {
                product_id: format!("{cve}-{ai}-{vi}"),
                vendor: vendor.clone(),
                product: product.clone(),
                version: Some(version),
                platform: (!a.platforms.is_empty()).then(|| a.platforms.join(", ")),
                cpe: a.cpes.first().cloned(),
                purl: a.package_url.clone(),
                status,
                fix: None,
                csaf_status: None,
                justification: None,
                impact_statement: None,
            });
        }
    }
    let mut remediations = Vec::new();
    for (texts, category) in [
        (&cna.solutions, RemediationCategory::VendorFix),
        (&cna.workarounds, RemediationCategory::Workaround),
    ] {
        if let Some(t) = english(texts) {
            remediations.push(Remediation {
                category,
                details: t.to_owned(),
                url: None,
                product_ids: vec![],
            });
        }
    }
    let description = english(&cna.descriptions).unwrap_or("").to_owned();
    let advisory = Advisory {
        title: cna
            .title
            .clone()
            .unwrap_or_else(|| description.chars().take(120).collect()),
        id: cve.into(),
        kind: AdvisoryKind::Vulnerability,
        other_ids: vec![],
        description,
        cwe,
        cvss_v31,
        cvss_v40,
        exploitability: None,
        exploit_statement: None,
        epss: None,
        ssvc: ssvc(&rec.containers.adp, &mut warnings),
        known_exploited: None,
        affected,
        remediations,
        faqs: vec![],
        references: cna
            .references
            .iter()
            .map(|r| Reference {
                url: r.url.clone(),
                summary: r.name.clone().unwrap_or_default(),
            })
            .collect(),
        revisions: vec![],
    };
    advisory
        .validate()
        .map_err(|e| FormatError::value("/containers/cna", e))?;
    Ok((advisory, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"{
      "dataType": "CVE_RECORD", "dataVersion": "5.1",
      "cveMetadata": {"cveId": "CVE-2026-30001", "state": "PUBLISHED", "assignerOrgId": "x"},
      "containers": {"cna": {
        "title": "Example Router command injection",
        "descriptions": [{"lang": "en", "value": "A command injection in the web UI."}],
        "affected": [{"vendor": "Example", "product": "Router", "platforms": ["ARM"],
          "versions": [{"version": "2.0", "lessThan": "2.4.1", "status": "affected", "versionType": "semver"},
                       {"version": "2.4.1", "status": "unaffected"}], "defaultStatus": "unaffected"}],
        "problemTypes": [{"descriptions": [{"type": "CWE", "cweId": "CWE-78", "description": "CWE-78: OS Command Injection", "lang": "en"}]}],
        "metrics": [{"cvssV3_1": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "baseScore": 8.8}},
                    {"cvssV4_0": {"version": "4.0", "vectorString": "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "baseScore": 1.0}}],
        "solutions": [{"lang": "en", "value": "Update to 2.4.1."}],
        "references": [{"url": "https://example.com/sa-1", "name": "SA-1"}]
      }}}"#;

    /// A record with CISA's Vulnrichment ADP container, as cve.org serves it.
    fn with_adp(options: &str) -> String {
        RECORD.replacen(
            "}}}",
            &format!(
                r#"}}, "adp": [{{"title": "CISA ADP Vulnrichment", "providerMetadata": {{"orgId": "134c704f-9b21-4f2e-91b3-4a467353bcc0", "shortName": "CISA-ADP"}},
                  "metrics": [{{"other": {{"type": "ssvc", "content": {{"timestamp": "2026-11-20T14:03:51.774391Z", "id": "CVE-2026-30001",
                    "options": {options}, "role": "CISA Coordinator", "version": "2.0.3"}}}}}}]}}]}}}}"#
            ),
            1,
        )
    }

    #[test]
    fn cisa_ssvc_decision_points_are_read_from_the_adp_container() {
        let rec = with_adp(
            r#"[{"Exploitation": "poc"}, {"Automatable": "yes"}, {"Technical Impact": "total"}]"#,
        );
        let (a, warnings) = parse(rec.as_bytes()).unwrap();
        let s = a.ssvc.expect("SSVC read");
        assert_eq!(s.exploitation, isx_advisories::SsvcExploitation::Poc);
        assert!(s.automatable);
        assert_eq!(
            s.technical_impact,
            isx_advisories::SsvcTechnicalImpact::Total
        );
        assert_eq!(s.role, "CISA Coordinator");
        assert_eq!(s.version, "2.0.3");
        assert_eq!(s.timestamp.to_rfc3339()[..19], *"2026-11-20T14:03:51");
        assert!(warnings.iter().all(|w| !w.contains("SSVC")), "{warnings:?}");
        // A malformed decision is a warning naming where; the rest imports.
        let rec = with_adp(
            r#"[{"Exploitation": "rumoured"}, {"Automatable": "yes"}, {"Technical Impact": "total"}]"#,
        );
        let (a, warnings) = parse(rec.as_bytes()).unwrap();
        assert!(a.ssvc.is_none());
        assert!(
            warnings.iter().any(|w| w
                .starts_with("/containers/adp/0/metrics/0/other/content: SSVC")
                && w.contains("rumoured")),
            "{warnings:?}"
        );
        // No ADP container: no SSVC, no warning.
        let (a, _) = parse(RECORD.as_bytes()).unwrap();
        assert!(a.ssvc.is_none());
    }

    #[test]
    fn a_record_maps_to_an_advisory() {
        let doc: serde_json::Value = serde_json::from_str(RECORD).unwrap();
        assert!(is_cve_record(&doc));
        let (a, warnings) = parse(RECORD.as_bytes()).unwrap();
        assert_eq!(a.id.as_str(), "CVE-2026-30001");
        assert_eq!(a.cwe.as_ref().unwrap().id, "CWE-78");
        assert_eq!(a.cwe.as_ref().unwrap().name, "OS Command Injection");
        assert_eq!(a.cvss_v31.as_ref().unwrap().score(), 8.8);
        assert_eq!(a.affected[0].version.as_deref(), Some("2.0 to <2.4.1"));
        assert_eq!(a.affected[0].status, ProductStatus::Affected);
        assert_eq!(a.affected[1].status, ProductStatus::NotAffected);
        assert_eq!(a.affected[0].platform.as_deref(), Some("ARM"));
        assert_eq!(
            warnings.len(),
            1,
            "the wrong v4.0 score is reported: {warnings:?}"
        );
        assert_eq!(a.remediations[0].category, RemediationCategory::VendorFix);
    }

    #[test]
    fn broken_records_are_located() {
        let e = parse(br#"{"dataType":"CVE_RECORD","cveMetadata":{"state":"PUBLISHED"},"containers":{"cna":{}}}"#).unwrap_err();
        assert!(
            e.pointer().is_some_and(|p| p.starts_with("/cveMetadata")),
            "{e}"
        );
        let rejected = RECORD.replace("\"PUBLISHED\"", "\"REJECTED\"");
        assert_eq!(
            parse(rejected.as_bytes()).unwrap_err().pointer(),
            Some("/cveMetadata/state")
        );
        let bad = RECORD.replace("AV:N/AC:L/PR:L/UI:N/S:U", "AV:Q/AC:L/PR:L/UI:N/S:U");
        assert_eq!(
            parse(bad.as_bytes()).unwrap_err().pointer(),
            Some("/containers/cna/metrics/0/cvssV3_1/vectorString")
        );
    }
}
