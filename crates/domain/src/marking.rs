//! TLP 2.0 markings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::DomainError;

/// Traffic Light Protocol 2.0 (FIRST). Ordered from least to most restrictive.
///
/// Parsing also accepts the TLP 1.0 label WHITE (mapped to CLEAR), as found in
/// CSAF 2.0 documents and older STIX content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tlp {
    Clear,
    Green,
    Amber,
    AmberStrict,
    Red,
}

impl Tlp {
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// The label as written in TLP 2.0, e.g. `TLP:AMBER+STRICT`.
    pub fn label(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }

    /// The short name used in the API and the database, e.g. `amber+strict`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }
}

impl FromStr for Tlp {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t
            .strip_prefix("TLP:")
            .or_else(|| t.strip_prefix("tlp:"))
            .unwrap_or(t);
        match t.to_ascii_lowercase().as_str() {
            "clear" | "white" => Ok(Tlp::Clear),
            "green" => Ok(Tlp::Green),
            "amber" => Ok(Tlp::Amber),
            "amber+strict" | "amber-strict" | "amber_strict" => Ok(Tlp::AmberStrict),
            "red" => Ok(Tlp::Red),
            _ => Err(DomainError::InvalidTlp {
                value: s.to_owned(),
            }),
        }
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl Serialize for Tlp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Tlp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tlp2_labels_and_tlp1_white() {
        let cases = [
            ("TLP:CLEAR", Tlp::Clear),
            ("white", Tlp::Clear),
            ("TLP:WHITE", Tlp::Clear),
            ("green", Tlp::Green),
            ("TLP:AMBER", Tlp::Amber),
            ("TLP:AMBER+STRICT", Tlp::AmberStrict),
            ("amber+strict", Tlp::AmberStrict),
            ("RED", Tlp::Red),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<Tlp>().unwrap(), want, "{text}");
        }
        assert!("purple".parse::<Tlp>().is_err());
        assert!("".parse::<Tlp>().is_err());
    }

    #[test]
    fn order_is_least_to_most_restrictive() {
        assert!(Tlp::Clear < Tlp::Green && Tlp::Green < Tlp::Amber);
        assert!(Tlp::Amber < Tlp::AmberStrict && Tlp::AmberStrict < Tlp::Red);
    }

    #[test]
    fn round_trips_through_its_short_name() {
        for t in Tlp::ALL {
            assert_eq!(t.as_str().parse::<Tlp>().unwrap(), t);
            assert_eq!(t.label().parse::<Tlp>().unwrap(), t);
        }
    }
}
