//! Exploitation context from outside the advisory: FIRST's EPSS scores and
//! CISA's SSVC decision points. Both say how likely or how real
//! exploitation is, so they are exploitability data: withheld with the
//! exploitability index until the 24-hour window ([`crate::Advisory::masked`]).

use isx_domain::Timestamp;
use serde::{Deserialize, Serialize};

use crate::AdvisoryError;

/// One day's EPSS score of a CVE (FIRST, Exploit Prediction Scoring
/// System): the probability of exploitation activity in the next 30 days
/// and its percentile among all scored CVEs, from the model named.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpssScore {
    /// The score date, `YYYY-MM-DD` (the file's `score_date`).
    pub date: String,
    /// 0–1.
    pub epss: f64,
    /// 0–1.
    pub percentile: f64,
    /// e.g. `v2025.03.14`.
    pub model_version: String,
}

impl EpssScore {
    /// Checks the ranges and the date's shape.
    pub fn new(
        date: &str,
        epss: f64,
        percentile: f64,
        model_version: &str,
    ) -> Result<Self, AdvisoryError> {
        let bad = |why: String| Err(AdvisoryError::Invalid(why));
        if !is_date(date) {
            return bad(format!("EPSS score date {date:?}: expected YYYY-MM-DD"));
        }
        for (name, v) in [("epss", epss), ("percentile", percentile)] {
            if !(0.0..=1.0).contains(&v) {
                return bad(format!("EPSS {name} {v}: must be between 0 and 1"));
            }
        }
        if model_version.trim().is_empty() || model_version.len() > 64 {
            return bad(format!("EPSS model version {model_version:?}"));
        }
        Ok(EpssScore {
            date: date.to_owned(),
            epss,
            percentile,
            model_version: model_version.to_owned(),
        })
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
        && s.get(5..7)
            .and_then(|m| m.parse::<u8>().ok())
            .is_some_and(|m| (1..=12).contains(&m))
        && s.get(8..10)
            .and_then(|d| d.parse::<u8>().ok())
            .is_some_and(|d| (1..=31).contains(&d))
}

/// SSVC "Exploitation" (CISA coordinator decision points).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SsvcExploitation {
    None,
    Poc,
    Active,
}

/// SSVC "Technical Impact".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SsvcTechnicalImpact {
    Partial,
    Total,
}

impl std::str::FromStr for SsvcExploitation {
    type Err = AdvisoryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(SsvcExploitation::None),
            "poc" | "public poc" => Ok(SsvcExploitation::Poc),
            "active" => Ok(SsvcExploitation::Active),
            _ => Err(AdvisoryError::Invalid(format!(
                "SSVC Exploitation {s:?}: expected none, poc or active"
            ))),
        }
    }
}

impl SsvcExploitation {
    pub fn as_str(self) -> &'static str {
        match self {
            SsvcExploitation::None => "none",
            SsvcExploitation::Poc => "poc",
            SsvcExploitation::Active => "active",
        }
    }
}

impl SsvcTechnicalImpact {
    pub fn as_str(self) -> &'static str {
        match self {
            SsvcTechnicalImpact::Partial => "partial",
            SsvcTechnicalImpact::Total => "total",
        }
    }
}

/// CISA's SSVC decision points for a CVE (the "CISA ADP Vulnrichment"
/// container of a CVE JSON 5 record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ssvc {
    pub exploitation: SsvcExploitation,
    pub automatable: bool,
    pub technical_impact: SsvcTechnicalImpact,
    /// The SSVC role, e.g. `CISA Coordinator`.
    pub role: String,
    /// The SSVC version, e.g. `2.0.3`.
    pub version: String,
    /// When CISA made the decision.
    pub timestamp: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epss_scores_refuse_what_cannot_be_a_probability_or_a_date() {
        assert!(EpssScore::new("2026-12-01", 0.00043, 0.0912, "v2025.03.14").is_ok());
        assert!(EpssScore::new("2026-12-01", 1.5, 0.5, "v1").is_err());
        assert!(EpssScore::new("2026-12-01", 0.5, -0.1, "v1").is_err());
        assert!(EpssScore::new("2026-12-01", f64::NAN, 0.5, "v1").is_err());
        assert!(EpssScore::new("2026-13-01", 0.5, 0.5, "v1").is_err());
        assert!(EpssScore::new("2026-12-1", 0.5, 0.5, "v1").is_err());
        assert!(EpssScore::new("2026-12-01", 0.5, 0.5, " ").is_err());
    }

    #[test]
    fn ssvc_exploitation_reads_cisas_spellings() {
        assert_eq!(
            "PoC".parse::<SsvcExploitation>().ok(),
            Some(SsvcExploitation::Poc)
        );
        assert_eq!(
            "public PoC".parse::<SsvcExploitation>().ok(),
            Some(SsvcExploitation::Poc)
        );
        assert_eq!(
            "active".parse::<SsvcExploitation>().ok(),
            Some(SsvcExploitation::Active)
        );
        assert!("maybe".parse::<SsvcExploitation>().is_err());
    }
}
