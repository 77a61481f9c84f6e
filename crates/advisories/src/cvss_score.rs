//! CVSS vectors and the scores isx computes from them (RustSec's `cvss`).

use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::AdvisoryError;

/// Qualitative severity (CVSS v3.1 / v4.0 rating scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// From a base score, per the rating scale shared by v3.1 and v4.0.
    pub fn from_score(score: f64) -> Self {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::None,
        }
    }
}

impl FromStr for Severity {
    type Err = AdvisoryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Severity::None),
            "low" => Ok(Severity::Low),
            "medium" | "moderate" => Ok(Severity::Medium),
            "high" | "important" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(AdvisoryError::Invalid(format!(
                "unknown severity {s:?}: expected none, low, medium, high or critical"
            ))),
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every base metric must be present exactly once: the scoring library
/// would otherwise treat a missing metric as "not defined".
fn require_base_metrics(vector: &str, required: &[&str]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for part in vector.split('/').skip(1) {
        let (k, _) = part
            .split_once(':')
            .ok_or_else(|| format!("component {part:?} is not METRIC:VALUE"))?;
        if !seen.insert(k) {
            return Err(format!("metric {k} appears twice"));
        }
    }
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|m| !seen.contains(m))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("missing base metric(s) {}", missing.join(", ")))
    }
}

macro_rules! cvss_type {
    ($(#[$meta:meta])* $name:ident, $prefix:literal, $required:expr, $parse:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            vector: String,
            score: f64,
        }

        impl $name {
            pub fn parse(vector: &str) -> Result<Self, AdvisoryError> {
                let v = vector.trim();
                let err = |reason: String| AdvisoryError::InvalidCvss { vector: vector.to_owned(), reason };
                if !v.starts_with($prefix) {
                    return Err(err(format!("must start with {}", $prefix)));
                }
                require_base_metrics(v, $required).map_err(err)?;
                let score: f64 = ($parse)(v).map_err(|e: String| err(e))?;
                Ok($name { vector: v.to_owned(), score })
            }

            /// The vector as given (normalised to no surrounding blanks).
            pub fn vector(&self) -> &str {
                &self.vector
            }

            /// The base score computed from the vector.
            pub fn score(&self) -> f64 {
                self.score
            }

            pub fn severity(&self) -> Severity {
                Severity::from_score(self.score)
            }

            /// The vector without its exploit-maturity metric (`E:`), scored
            /// again: whether and how a vulnerability is exploited is
            /// exploitability data, withheld before the 24-hour window.
            /// `None` only if the shorter vector would not parse (then the
            /// vector is withheld as a whole).
            pub fn without_exploit_maturity(&self) -> Option<Self> {
                if !self.vector.split('/').skip(1).any(|m| m.starts_with("E:")) {
                    return Some(self.clone());
                }
                let kept: Vec<&str> = self
                    .vector
                    .split('/')
                    .enumerate()
                    .filter(|(i, m)| *i == 0 || !m.starts_with("E:"))
                    .map(|(_, m)| m)
                    .collect();
                $name::parse(&kept.join("/")).ok()
            }

            /// Whether a supplied score agrees with the computed one.
            pub fn agrees_with(&self, supplied: f64) -> bool {
                (self.score - supplied).abs() < 0.05
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.vector)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

cvss_type!(
    /// A CVSS v3.0 or v3.1 vector (base metrics, optionally temporal and
    /// environmental); the score is the base score.
    CvssV3,
    "CVSS:3.",
    &["AV", "AC", "PR", "UI", "S", "C", "I", "A"],
    |v: &str| cvss::v3::Vector::from_str(v).map(|x| x.base_score().value()).map_err(|e| e.to_string())
);

cvss_type!(
    /// A CVSS v4.0 vector; the score is CVSS-B/BT/BE/BTE as the vector's
    /// metric groups say.
    CvssV4,
    "CVSS:4.0/",
    &["AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"],
    |v: &str| cvss::v4::Vector::from_str(v).map(|x| x.score().value()).map_err(|e| e.to_string())
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exploit_maturity_is_removed_and_the_score_recomputed() {
        let v3 = CvssV3::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:H/RL:O").unwrap();
        let bare = v3.without_exploit_maturity().unwrap();
        assert_eq!(
            bare.vector(),
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/RL:O"
        );
        assert_eq!(bare.score(), v3.score());
        let v4 =
            CvssV4::parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U")
                .unwrap();
        let bare = v4.without_exploit_maturity().unwrap();
        assert!(!bare.vector().contains("E:"), "{}", bare.vector());
        // E:U lowers a v4 score: the bare vector must not carry that trace.
        assert!(
            bare.score() > v4.score(),
            "{} vs {}",
            bare.score(),
            v4.score()
        );
        let plain =
            CvssV4::parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
                .unwrap();
        assert_eq!(plain.without_exploit_maturity().unwrap(), plain);
    }

    #[test]
    fn v31_scores_from_the_specification_examples() {
        // Examples from the CVSS v3.1 specification's user guide.
        let cases = [
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                9.8,
                Severity::Critical,
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                6.1,
                Severity::Medium,
            ),
            (
                "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
                7.8,
                Severity::High,
            ),
            (
                "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N",
                0.0,
                Severity::None,
            ),
        ];
        for (v, score, sev) in cases {
            let c = CvssV3::parse(v).unwrap();
            assert_eq!(c.score(), score, "{v}");
            assert_eq!(c.severity(), sev, "{v}");
        }
    }

    #[test]
    fn v40_scores() {
        let c = CvssV4::parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
            .unwrap();
        assert_eq!(c.score(), 9.3);
        assert_eq!(c.severity(), Severity::Critical);
    }

    #[test]
    fn bad_vectors_say_why() {
        for bad in [
            "",
            "CVSS:3.1/AV:N",
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "AV:N/AC:L/Au:N/C:C/I:C/A:C",
        ] {
            assert!(CvssV3::parse(bad).is_err(), "{bad}");
        }
        assert!(CvssV4::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").is_err());
    }

    #[test]
    fn disagreeing_scores_are_detected() {
        let c = CvssV3::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
        assert!(c.agrees_with(9.8));
        assert!(!c.agrees_with(10.0));
    }
}
