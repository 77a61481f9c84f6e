//! One advisory: a CVE, what it affects, how bad it is, what to do.

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
    pub cve: CveId,
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
                self.cve
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
                self.cve
            )));
        }
        for r in &self.remediations {
            if let Some(bad) = r.product_ids.iter().find(|p| !ids.contains(p.as_str())) {
                return Err(AdvisoryError::Invalid(format!(
                    "{}: remediation refers to unknown product {bad:?}",
                    self.cve
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
            cve: "CVE-2026-1234".parse().unwrap(),
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
