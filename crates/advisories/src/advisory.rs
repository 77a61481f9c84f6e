//! One advisory: a vulnerability (a CVE, or one known by another id) or,
//! for an informational advisory, a piece of guidance; what it affects, how
//! bad it is, what to do.

use std::fmt;
use std::str::FromStr;

use isx_domain::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{AdvisoryError, CvssV3, CvssV4, Exploitability, Severity};

/// `CVE-YYYY-NNNN…`
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CveId(String);

impl CveId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for CveId {
    type Err = AdvisoryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_uppercase();
        let ok = t
            .strip_prefix("CVE-")
            .and_then(|r| r.split_once('-'))
            .is_some_and(|(y, n)| {
                y.len() == 4
                    && y.bytes().all(|b| b.is_ascii_digit())
                    && n.len() >= 4
                    && n.bytes().all(|b| b.is_ascii_digit())
            });
        if ok {
            Ok(CveId(t))
        } else {
            Err(AdvisoryError::InvalidCve(s.to_owned()))
        }
    }
}

impl fmt::Display for CveId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an advisory is known by: a CVE id (`CVE-2026-41001`, upper case)
/// or, for a vulnerability without one, another identifier (a GHSA id, a
/// vendor's id, the CSAF document's tracking id), kept as written.
///
/// Any other id is 1–128 characters of letters, digits and `-_.:+`,
/// beginning with a letter or digit, so it is safe in a URL path, a file
/// name and a log line. Something that starts with `CVE-` must be a valid
/// CVE id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AdvisoryId(String);

impl AdvisoryId {
    /// The longest id that is not a CVE id.
    pub const MAX_LEN: usize = 128;

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The CVE id, when the advisory is known by one.
    pub fn cve(&self) -> Option<CveId> {
        self.0.parse().ok()
    }

    pub fn is_cve(&self) -> bool {
        self.cve().is_some()
    }

    /// What two ids must not share: the id as a CSAF file name writes it
    /// (§5.1: lower case, every run of characters other than `+`, `-`,
    /// `a-z` and `0-9` one `_`), so `GHSA-Abc` and `ghsa-abc`, or `A.1` and
    /// `A:1`, are one id to the store and never two documents at one URL.
    pub fn key(&self) -> String {
        csaf_file_stem(&self.0)
    }

    /// An id made from `text`: the characters an id may not hold become
    /// `-` (a tracking id such as `ACME SA 2026/01` becomes `ACME-SA-2026-01`),
    /// cut to [`MAX_LEN`](Self::MAX_LEN). `None` when nothing usable is left.
    pub fn sanitized(text: &str) -> Option<Self> {
        let mut out = String::new();
        for c in text.trim().chars() {
            if out.len() >= Self::MAX_LEN {
                break;
            }
            out.push(if allowed(c) { c } else { '-' });
        }
        let out = out.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        out.parse().ok()
    }
}

/// `text` as a CSAF file name writes it, without `.json` (§5.1): in lower
/// case, every run of characters other than `+`, `-`, `a-z` and `0-9`
/// replaced by one `_`. The provider's file names and [`AdvisoryId::key`]
/// are both this.
pub fn csaf_file_stem(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_run = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c == '+' || c == '-' || c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    out
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '+')
}

impl From<CveId> for AdvisoryId {
    fn from(c: CveId) -> Self {
        AdvisoryId(c.0)
    }
}

impl FromStr for AdvisoryId {
    type Err = AdvisoryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.len() >= 4 && t.as_bytes()[..4].eq_ignore_ascii_case(b"CVE-") {
            return t.parse::<CveId>().map(AdvisoryId::from);
        }
        let ok = !t.is_empty()
            && t.len() <= Self::MAX_LEN
            && t.starts_with(|c: char| c.is_ascii_alphanumeric())
            && t.chars().all(allowed);
        if ok {
            Ok(AdvisoryId(t.to_owned()))
        } else {
            Err(AdvisoryError::InvalidId(s.chars().take(200).collect()))
        }
    }
}

impl fmt::Display for AdvisoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Another identifier of the same vulnerability (a CSAF `ids` entry), e.g.
/// `GHSA` → `GHSA-jfh8-c2jp-5v3q`, or Red Hat's Bugzilla id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherId {
    pub system_name: String,
    pub text: String,
}

/// What an advisory is about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdvisoryKind {
    /// A vulnerability (a CSAF security advisory or VEX).
    #[default]
    Vulnerability,
    /// Guidance without a vulnerability (a CSAF informational advisory):
    /// a description and references, no affected products or scores.
    Informational,
}

impl AdvisoryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AdvisoryKind::Vulnerability => "vulnerability",
            AdvisoryKind::Informational => "informational",
        }
    }

    fn is_default(&self) -> bool {
        *self == AdvisoryKind::Vulnerability
    }
}

macro_rules! serde_str {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?
                    .parse()
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_str!(CveId);
serde_str!(AdvisoryId);

/// A CWE weakness, e.g. `CWE-79` with its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cwe {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

impl Cwe {
    pub fn new(id: &str, name: &str) -> Result<Self, AdvisoryError> {
        let t = id.trim().to_ascii_uppercase();
        if t.strip_prefix("CWE-")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        {
            Ok(Cwe {
                id: t,
                name: name.trim().to_owned(),
            })
        } else {
            Err(AdvisoryError::InvalidCwe(id.to_owned()))
        }
    }
}

/// Whether a product is affected (CSAF product status groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProductStatus {
    Affected,
    Fixed,
    NotAffected,
    UnderInvestigation,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Affected => "affected",
            ProductStatus::Fixed => "fixed",
            ProductStatus::NotAffected => "not-affected",
            ProductStatus::UnderInvestigation => "under-investigation",
        }
    }
}

/// One row of the affected-software table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffectedProduct {
    /// Stable identifier within the advisory (the CSAF product id).
    pub product_id: String,
    pub vendor: String,
    pub product: String,
    /// A version or a range, e.g. `1.0.0-rc1` or `<2.4.1`.
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub cpe: Option<String>,
    #[serde(default)]
    pub purl: Option<String>,
    pub status: ProductStatus,
    /// The fix: a fixed version or an update id (KB…, RHSA…).
    #[serde(default)]
    pub fix: Option<String>,
    /// The CSAF product status group when it says more than `status`:
    /// `first_affected`, `last_affected`, `first_fixed` or `recommended`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csaf_status: Option<String>,
    /// Why a product is not affected (VEX): the CSAF flag label, e.g.
    /// `vulnerable_code_not_present`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// The VEX impact statement of a product not affected (a CSAF
    /// `impact` threat), e.g. "The vulnerable function is never called."
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact_statement: Option<String>,
}

impl AffectedProduct {
    /// `vendor product version (platform)` for tables.
    pub fn full_name(&self) -> String {
        let mut s = format!("{} {}", self.vendor, self.product);
        if let Some(v) = &self.version {
            s.push(' ');
            s.push_str(v);
        }
        if let Some(p) = &self.platform {
            s.push_str(&format!(" ({p})"));
        }
        s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemediationCategory {
    VendorFix,
    Workaround,
    Mitigation,
    NoFixPlanned,
    NoneAvailable,
}

impl RemediationCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            RemediationCategory::VendorFix => "vendor-fix",
            RemediationCategory::Workaround => "workaround",
            RemediationCategory::Mitigation => "mitigation",
            RemediationCategory::NoFixPlanned => "no-fix-planned",
            RemediationCategory::NoneAvailable => "none-available",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remediation {
    pub category: RemediationCategory,
    pub details: String,
    #[serde(default)]
    pub url: Option<String>,
    /// The products it applies to (all affected products when empty).
    #[serde(default)]
    pub product_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faq {
    pub question: String,
    pub answer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub url: String,
    #[serde(default)]
    pub summary: String,
}

/// Listed in CISA's Known Exploited Vulnerabilities catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownExploited {
    pub date_added: String,
    #[serde(default)]
    pub due_date: Option<String>,
    #[serde(default)]
    pub ransomware: bool,
}

/// An entry of the KEV catalogue as isx keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevRecord {
    pub cve: CveId,
    pub vendor: String,
    pub product: String,
    pub name: String,
    pub known: KnownExploited,
}

/// One entry of a revision history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revision {
    pub number: u32,
    pub date: Timestamp,
    pub summary: String,
    /// The revision changed exploitability data only: it is withheld from
    /// whoever the exploitability data is withheld from (a revision nobody
    /// can see the reason of would tell them the data changed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exploitability_only: bool,
    /// The number as the document it came from wrote it (a CSAF semantic
    /// version such as `1.1.0`), kept so exports repeat it; `None` for the
    /// revisions isx makes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// An advisory as isx models it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advisory {
    /// The CVE id, or another id when the vulnerability has no CVE id
    /// (and, for an informational advisory, its document's tracking id).
    #[serde(alias = "cve")]
    pub id: AdvisoryId,
    #[serde(default, skip_serializing_if = "AdvisoryKind::is_default")]
    pub kind: AdvisoryKind,
    /// The vulnerability's other ids (CSAF `ids`), exported again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_ids: Vec<OtherId>,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub cwe: Option<Cwe>,
    #[serde(default)]
    pub cvss_v31: Option<CvssV3>,
    #[serde(default)]
    pub cvss_v40: Option<CvssV4>,
    /// `None` when withheld by the policy (before the 24-hour window).
    #[serde(default)]
    pub exploitability: Option<Exploitability>,
    /// An exploit status in words, as a CSAF `exploit_status` threat may
    /// give it (e.g. "Reliable exploits integrated in Metasploit."), when
    /// it is not Microsoft's convention that `exploitability` reads.
    /// Exploitability data: withheld with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exploit_statement: Option<String>,
    #[serde(default)]
    pub known_exploited: Option<KnownExploited>,
    /// The latest EPSS score (FIRST), attached from the store on read.
    /// Exploitability data: withheld with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss: Option<crate::EpssScore>,
    /// CISA's SSVC decision points, attached from the store on read.
    /// Exploitability data: withheld with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssvc: Option<crate::Ssvc>,
    #[serde(default)]
    pub affected: Vec<AffectedProduct>,
    #[serde(default)]
    pub remediations: Vec<Remediation>,
    #[serde(default)]
    pub faqs: Vec<Faq>,
    #[serde(default)]
    pub references: Vec<Reference>,
    #[serde(default)]
    pub revisions: Vec<Revision>,
}

impl Advisory {
    /// The highest base score among its vectors.
    pub fn score(&self) -> Option<f64> {
        let a = self.cvss_v31.as_ref().map(CvssV3::score);
        let b = self.cvss_v40.as_ref().map(CvssV4::score);
        match (a, b) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        }
    }

    pub fn severity(&self) -> Option<Severity> {
        self.score().map(Severity::from_score)
    }

    pub fn revision(&self) -> u32 {
        self.revisions.last().map_or(0, |r| r.number)
    }

    /// Checks what types cannot: text lengths, product references.
    pub fn validate(&self) -> Result<(), AdvisoryError> {
        if self.title.trim().is_empty() {
            return Err(AdvisoryError::Invalid(format!(
                "{}: title must not be empty",
                self.id
            )));
        }
        let ids: std::collections::HashSet<&str> = self
            .affected
            .iter()
            .map(|p| p.product_id.as_str())
            .collect();
        if ids.len() != self.affected.len() {
            return Err(AdvisoryError::Invalid(format!(
                "{}: product ids must be unique",
                self.id
            )));
        }
        if self.kind == AdvisoryKind::Informational {
            let has = [
                !self.affected.is_empty(),
                !self.remediations.is_empty(),
                self.cvss_v31.is_some() || self.cvss_v40.is_some(),
                self.exploitability.is_some() || self.exploit_statement.is_some(),
            ];
            if has.contains(&true) {
                return Err(AdvisoryError::Invalid(format!(
                    "{}: an informational advisory has no affected products, remediations, scores or exploitability",
                    self.id
                )));
            }
            if self.description.trim().is_empty() || self.references.is_empty() {
                return Err(AdvisoryError::Invalid(format!(
                    "{}: an informational advisory needs a description and at least one reference",
                    self.id
                )));
            }
        }
        for r in &self.remediations {
            if let Some(bad) = r.product_ids.iter().find(|p| !ids.contains(p.as_str())) {
                return Err(AdvisoryError::Invalid(format!(
                    "{}: remediation refers to unknown product {bad:?}",
                    self.id
                )));
            }
        }
        Ok(())
    }

    /// The same advisory without the fields `mask` withholds.
    pub fn masked(mut self, mask: isx_policy::FieldMask) -> Self {
        if mask.hides(isx_policy::FieldMask::EXPLOITABILITY) {
            // Everything that says whether or how it is exploited: the
            // index and flags, the KEV listing (and ransomware use), EPSS
            // and SSVC, and the
            // exploit-maturity metric of the CVSS vectors.
            self.exploitability = None;
            self.exploit_statement = None;
            self.known_exploited = None;
            self.epss = None;
            self.ssvc = None;
            self.cvss_v31 = self.cvss_v31.and_then(|v| v.without_exploit_maturity());
            self.cvss_v40 = self.cvss_v40.and_then(|v| v.without_exploit_maturity());
            // Revisions of exploitability data alone go with it; the rest are
            // numbered again so that no gap shows where one was.
            self.revisions.retain(|r| !r.exploitability_only);
            for (n, r) in (1..).zip(self.revisions.iter_mut()) {
                r.number = n;
            }
        }
        self
    }

    /// The revision number the view `mask` shows (that of
    /// [`masked`](Self::masked), without building the masked advisory).
    pub fn revision_seen(&self, mask: isx_policy::FieldMask) -> u32 {
        if mask.hides(isx_policy::FieldMask::EXPLOITABILITY) {
            let n = self
                .revisions
                .iter()
                .filter(|r| !r.exploitability_only)
                .count();
            u32::try_from(n).unwrap_or(u32::MAX)
        } else {
            self.revision()
        }
    }

    /// Whether `other` differs from this advisory in exploitability data
    /// only (and the revision history).
    pub fn differs_only_in_exploitability(&self, other: &Advisory) -> bool {
        let hidden = |a: &Advisory| a.clone().masked(isx_policy::FieldMask::EXPLOITABILITY);
        !self.same_content(other) && hidden(self).same_content(&hidden(other))
    }

    /// Equal in content, ignoring the revision history (to decide whether a
    /// re-import is a revision or a no-op).
    pub fn same_content(&self, other: &Advisory) -> bool {
        let strip = |a: &Advisory| Advisory {
            revisions: Vec::new(),
            ..a.clone()
        };
        strip(self) == strip(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_ids() {
        assert_eq!(
            "cve-2024-12345".parse::<CveId>().unwrap().as_str(),
            "CVE-2024-12345"
        );
        for bad in [
            "CVE-24-1234",
            "CVE-2024-123",
            "2024-1234",
            "CVE-2024-12a4",
            "",
        ] {
            assert!(bad.parse::<CveId>().is_err(), "{bad}");
        }
        assert!(Cwe::new("cwe-79", "XSS").is_ok());
    }

    #[test]
    fn advisory_ids() {
        let id = |s: &str| s.parse::<AdvisoryId>();
        assert_eq!(id("cve-2024-12345").unwrap().as_str(), "CVE-2024-12345");
        assert!(id("cve-2024-12345").unwrap().is_cve());
        assert_eq!(
            id("GHSA-jfh8-c2jp-5v3q").unwrap().as_str(),
            "GHSA-jfh8-c2jp-5v3q"
        );
        assert!(!id("RHSA-2024:1234").unwrap().is_cve());
        // Something calling itself a CVE must be one.
        assert!(id("CVE-24-1").is_err());
        for bad in [
            "",
            "-x",
            "a/b",
            "a b",
            "../etc",
            "x\ny",
            "é",
            &"a".repeat(129),
        ] {
            assert!(id(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            AdvisoryId::sanitized(" ACME SA 2026/01 ").unwrap().as_str(),
            "ACME-SA-2026-01"
        );
        assert_eq!(AdvisoryId::sanitized("../..").map(|i| i.0), None);
        let key = |s: &str| id(s).unwrap().key();
        assert_eq!(key("GHSA-Abc"), key("ghsa-abc"));
        assert_eq!(key("A.1"), key("A:1"));
        assert_eq!(key("A.:1"), key("A_1"));
        assert_ne!(key("A+1"), key("A-1"));
        assert_eq!(key("CVE-2026-1234"), "cve-2026-1234");
        assert!(
            AdvisoryId::sanitized(&"b".repeat(500))
                .unwrap()
                .as_str()
                .len()
                <= 128
        );
        assert!(Cwe::new("79", "").is_err());
    }

    #[test]
    fn the_revision_seen_is_that_of_the_masked_view() {
        let rev = |number, exploitability_only| Revision {
            number,
            date: Timestamp::from_secs(1_800_000_000),
            summary: String::new(),
            exploitability_only,
            label: None,
        };
        let a = Advisory {
            id: "CVE-2026-1234".parse().unwrap(),
            kind: AdvisoryKind::Vulnerability,
            other_ids: vec![],
            title: "t".into(),
            description: String::new(),
            cwe: None,
            cvss_v31: None,
            cvss_v40: None,
            exploitability: None,
            exploit_statement: None,
            epss: None,
            ssvc: None,
            known_exploited: None,
            affected: vec![],
            remediations: vec![],
            faqs: vec![],
            references: vec![],
            revisions: vec![rev(1, false), rev(2, true), rev(3, false)],
        };
        for mask in [
            isx_policy::FieldMask::NONE,
            isx_policy::FieldMask::EXPLOITABILITY,
        ] {
            assert_eq!(
                a.revision_seen(mask),
                a.clone().masked(mask).revision(),
                "{mask:?}"
            );
        }
        assert_eq!(a.revision_seen(isx_policy::FieldMask::EXPLOITABILITY), 2);
    }
}
