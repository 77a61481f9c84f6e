//! Members: the organisations that subscribe to an isx instance, and what
//! they are responsible for (their constituency).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::choice::check_display_name;
use crate::{DomainError, Timestamp};

id_newtype!(
    /// The store's id of a member.
    MemberId
);

choice_enum!(
    /// The six kinds of participant in a sharing exchange, plus the operator
    /// that runs the instance.
    MemberKind, "member kind" {
        Operator => "operator",
        Government => "government",
        NationalCert => "national-cert",
        CriticalInfrastructure => "critical-infrastructure",
        Enterprise => "enterprise",
        SecurityCompany => "security-company",
        Researcher => "researcher",
    }
);

choice_enum!(
    /// Which advance notices a member receives before public release.
    Tier, "tier" {
        /// No advance notice: sees advisories at public release.
        Standard => "standard",
        /// Sees release packages 5 days ahead, without exploitability data.
        Advance5d => "advance-5d",
        /// Sees release packages 24 hours ahead, with exploitability data.
        Advance24h => "advance-24h",
    }
);

choice_enum!(
    /// Security clearance of a member, compared against the minimum that a
    /// formal trust group (or a record) requires. Ordered low to high.
    Clearance, "clearance" {
        None => "none",
        Restricted => "restricted",
        Confidential => "confidential",
        Secret => "secret",
    }
);

text_newtype!(
    /// An organisation's display name (1–200 printable characters).
    MemberName,
    check_member_name
);

fn check_member_name(text: &str) -> Result<String, DomainError> {
    check_display_name("member name", text)
}

/// An IPv4 or IPv6 network in CIDR notation, with no host bits set.
///
/// `192.0.2.0/24` is accepted; `192.0.2.1/24` is rejected (it names a host,
/// not a network, and is almost always a typo); a bare address is a /32 or
/// /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr(IpNet);

impl Cidr {
    pub fn net(&self) -> IpNet {
        self.0
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip)
    }
}

impl FromStr for Cidr {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let err = |reason: &str| DomainError::InvalidCidr {
            value: s.to_owned(),
            reason: reason.to_owned(),
        };
        let net = if t.contains('/') {
            t.parse::<IpNet>().map_err(|_| {
                err("expected an address and a prefix length, e.g. 192.0.2.0/24 or 2001:db8::/32")
            })?
        } else {
            let ip: IpAddr = t
                .parse()
                .map_err(|_| err("expected an IPv4 or IPv6 network, e.g. 192.0.2.0/24"))?;
            IpNet::from(ip)
        };
        if net.trunc() != net {
            return Err(err(&format!(
                "host bits are set; the network is {}",
                net.trunc()
            )));
        }
        Ok(Cidr(net))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An autonomous system number (1 to 4294967294; 0 and 4294967295 are reserved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Asn(u32);

impl Asn {
    pub fn new(n: u32) -> Result<Self, DomainError> {
        if n == 0 || n == u32::MAX {
            return Err(DomainError::InvalidAsn {
                value: n.to_string(),
            });
        }
        Ok(Asn(n))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl FromStr for Asn {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t
            .strip_prefix("AS")
            .or_else(|| t.strip_prefix("as"))
            .unwrap_or(t);
        let n: u32 = digits.parse().map_err(|_| DomainError::InvalidAsn {
            value: s.to_owned(),
        })?;
        Asn::new(n).map_err(|_| DomainError::InvalidAsn {
            value: s.to_owned(),
        })
    }
}

impl fmt::Display for Asn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AS{}", self.0)
    }
}

/// An ISO 3166-1 alpha-2 country code, stored upper case (`DE`, `JP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// The country-code top-level domain, e.g. `de` for DE (`uk` for GB).
    pub fn cctld(&self) -> String {
        match self.as_str() {
            "GB" => "uk".to_owned(),
            other => other.to_ascii_lowercase(),
        }
    }
}

impl FromStr for CountryCode {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.trim().as_bytes();
        if b.len() != 2 || !b.iter().all(u8::is_ascii_alphabetic) {
            return Err(DomainError::InvalidCountry {
                value: s.to_owned(),
            });
        }
        Ok(CountryCode([
            b[0].to_ascii_uppercase(),
            b[1].to_ascii_uppercase(),
        ]))
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

text_newtype!(
    /// A DNS name (or suffix) a member is responsible for, stored lower case
    /// without a trailing dot, in its ASCII (punycode) form.
    DomainName,
    check_domain
);

fn check_domain(text: &str) -> Result<String, DomainError> {
    let t = text.trim().trim_end_matches('.').to_ascii_lowercase();
    let err = |reason: &str| DomainError::InvalidDomain {
        value: text.to_owned(),
        reason: reason.to_owned(),
    };
    if t.is_empty() || t.len() > 253 {
        return Err(err("must be 1 to 253 characters"));
    }
    for label in t.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(err("each label must be 1 to 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(err(
                "labels may hold only letters, digits, '-' and '_' (use the punycode form for IDNs)",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(err("labels must not start or end with '-'"));
        }
    }
    Ok(t)
}

macro_rules! serde_via_display {
    ($($t:ty),+) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )+};
}
serde_via_display!(Cidr, CountryCode);

impl Serialize for Asn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for Asn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => u32::try_from(n)
                .map_err(|_| DomainError::InvalidAsn {
                    value: n.to_string(),
                })
                .and_then(Asn::new)
                .map_err(serde::de::Error::custom),
            Raw::S(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// What a member is responsible for: its networks, its AS numbers, its DNS
/// names and, for a national CERT, its country. Victim data about these goes
/// to this member (and never to anyone else).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constituency {
    #[serde(default)]
    pub cidrs: Vec<Cidr>,
    #[serde(default)]
    pub asns: Vec<Asn>,
    #[serde(default)]
    pub domains: Vec<DomainName>,
    /// The country a national CERT covers (all IPs geolocated there, and its ccTLD).
    #[serde(default)]
    pub country: Option<CountryCode>,
}

impl Constituency {
    pub fn is_empty(&self) -> bool {
        self.cidrs.is_empty()
            && self.asns.is_empty()
            && self.domains.is_empty()
            && self.country.is_none()
    }

    /// Sorts and removes repeated entries so equal constituencies compare equal.
    pub fn normalise(mut self) -> Self {
        self.cidrs.sort();
        self.cidrs.dedup();
        self.asns.sort();
        self.asns.dedup();
        self.domains.sort();
        self.domains.dedup();
        self
    }
}

/// A member as the operator registered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: MemberId,
    pub name: MemberName,
    pub kind: MemberKind,
    pub country: Option<CountryCode>,
    pub tier: Tier,
    pub clearance: Clearance,
    pub constituency: Constituency,
    pub created_at: Timestamp,
}

impl Member {
    /// The operator is the organisation that runs the instance.
    pub fn is_operator(&self) -> bool {
        self.kind == MemberKind::Operator
    }
}

/// What it takes to register a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMember {
    pub name: MemberName,
    pub kind: MemberKind,
    pub country: Option<CountryCode>,
    pub tier: Tier,
    pub clearance: Clearance,
    pub constituency: Constituency,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_accepts_networks_and_rejects_host_bits() {
        assert_eq!(
            "192.0.2.0/24".parse::<Cidr>().unwrap().to_string(),
            "192.0.2.0/24"
        );
        assert_eq!(
            "2001:db8::/32".parse::<Cidr>().unwrap().to_string(),
            "2001:db8::/32"
        );
        assert_eq!(
            "198.51.100.7".parse::<Cidr>().unwrap().to_string(),
            "198.51.100.7/32"
        );
        let e = "192.0.2.1/24".parse::<Cidr>().unwrap_err().to_string();
        assert!(e.contains("192.0.2.0/24"), "{e}");
        for bad in ["", "10.0.0.0/33", "300.1.1.0/24", "example.org", "::/129"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn cidr_containment() {
        let c: Cidr = "10.20.0.0/16".parse().unwrap();
        assert!(c.contains("10.20.3.4".parse().unwrap()));
        assert!(!c.contains("10.21.0.1".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
    }

    #[test]
    fn asn_forms() {
        assert_eq!("AS64500".parse::<Asn>().unwrap().get(), 64500);
        assert_eq!("64500".parse::<Asn>().unwrap().get(), 64500);
        for bad in ["0", "AS0", "4294967295", "-1", "ASX", "4294967296"] {
            assert!(bad.parse::<Asn>().is_err(), "{bad}");
        }
        let from_json: Asn = serde_json::from_str("64501").unwrap();
        assert_eq!(from_json.get(), 64501);
        assert!(serde_json::from_str::<Asn>("0").is_err());
    }

    #[test]
    fn country_codes() {
        assert_eq!("de".parse::<CountryCode>().unwrap().as_str(), "DE");
        assert_eq!("GB".parse::<CountryCode>().unwrap().cctld(), "uk");
        for bad in ["D", "DEU", "1A", "", "é1"] {
            assert!(bad.parse::<CountryCode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn domains_are_lower_cased_and_checked() {
        assert_eq!(
            DomainName::new("Example.ORG.").unwrap().as_str(),
            "example.org"
        );
        for bad in ["", "-bad.org", "a..b", "spa ce.org", "bücher.de"] {
            assert!(DomainName::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn constituency_rejects_unknown_fields_and_bad_values() {
        let ok: Constituency =
            serde_json::from_str(r#"{"cidrs":["192.0.2.0/24"],"asns":[64500],"country":"jp"}"#)
                .unwrap();
        assert_eq!(ok.country.unwrap().as_str(), "JP");
        assert!(serde_json::from_str::<Constituency>(r#"{"cidr":["192.0.2.0/24"]}"#).is_err());
        assert!(serde_json::from_str::<Constituency>(r#"{"cidrs":["192.0.2.0/33"]}"#).is_err());
    }

    #[test]
    fn choices_parse_case_insensitively_and_list_valid_values() {
        assert_eq!("Advance-24h".parse::<Tier>().unwrap(), Tier::Advance24h);
        let e = "gold".parse::<Tier>().unwrap_err().to_string();
        assert!(e.contains("advance-5d"), "{e}");
        assert!(Clearance::Secret > Clearance::Restricted);
    }
}
