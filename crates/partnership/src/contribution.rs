//! Contributions: what a member posts to a trust group.

use std::net::IpAddr;

use isx_domain::{DomainName, GroupId, MemberId, Timestamp, Tlp};
use serde::{Deserialize, Serialize};

use crate::{attack, check_text, invalid, PartnershipError};

/// The store's id of a contribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContributionId(pub i64);

impl std::fmt::Display for ContributionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

macro_rules! words {
    ($(#[$m:meta])* $name:ident { $($v:ident => $t:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($v),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $t),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = PartnershipError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let t = s.trim();
                $(if t.eq_ignore_ascii_case($t) { return Ok($name::$v); })+
                Err(invalid(stringify!($name), format!(
                    "\"{s}\" is not one of: {}", [$($t),+].join(", "))))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

words!(
    /// The kinds of contribution; also the reporting categories a group can
    /// make mandatory.
    ContributionKind {
        Incident => "incident",
        Sighting => "sighting",
        Indicator => "indicator",
        Mitigation => "mitigation",
        Analysis => "analysis",
    }
);

words!(
    /// Where an incident stands.
    IncidentStatus {
        Open => "open",
        Contained => "contained",
        Resolved => "resolved",
    }
);

words!(
    /// How badly an incident hurt.
    Impact {
        None => "none",
        Low => "low",
        Moderate => "moderate",
        High => "high",
        Severe => "severe",
    }
);

words!(
    /// What an indicator or a sighting is about.
    IndicatorType {
        Ipv4 => "ipv4",
        Ipv6 => "ipv6",
        Domain => "domain",
        Url => "url",
        Email => "email",
        Sha256 => "sha256",
        Sha1 => "sha1",
        Md5 => "md5",
    }
);

impl IndicatorType {
    /// Checks and normalises a value of this type.
    pub fn check(self, value: &str) -> Result<String, PartnershipError> {
        let v = value.trim();
        let bad = |why: &str| invalid("value", format!("\"{value}\" is not {why}"));
        match self {
            IndicatorType::Ipv4 => match v.parse::<IpAddr>() {
                Ok(IpAddr::V4(a)) => Ok(a.to_string()),
                _ => Err(bad("an IPv4 address")),
            },
            IndicatorType::Ipv6 => match v.parse::<IpAddr>() {
                Ok(IpAddr::V6(a)) => Ok(a.to_string()),
                _ => Err(bad("an IPv6 address")),
            },
            IndicatorType::Domain => DomainName::new(v)
                .map(|d| d.to_string())
                .map_err(|_| bad("a domain name")),
            IndicatorType::Url => {
                let lower = v.to_ascii_lowercase();
                let ok = (lower.starts_with("http://") || lower.starts_with("https://"))
                    && v.len() > 8
                    && v.len() <= 4096
                    && !v.chars().any(|c| c.is_whitespace() || c.is_control());
                if ok {
                    Ok(v.to_owned())
                } else {
                    Err(bad("an http(s) URL"))
                }
            }
            IndicatorType::Email => {
                let ok = v.len() <= 254
                    && v.split_once('@').is_some_and(|(l, d)| {
                        !l.is_empty()
                            && !l.chars().any(|c| c.is_whitespace() || c.is_control())
                            && d.contains('.')
                            && DomainName::new(d).is_ok()
                    });
                if ok {
                    Ok(v.to_owned())
                } else {
                    Err(bad("an e-mail address"))
                }
            }
            IndicatorType::Sha256 | IndicatorType::Sha1 | IndicatorType::Md5 => {
                let len = match self {
                    IndicatorType::Sha256 => 64,
                    IndicatorType::Sha1 => 40,
                    _ => 32,
                };
                if v.len() == len && v.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok(v.to_ascii_lowercase())
                } else {
                    Err(bad(&format!("{len} hexadecimal digits")))
                }
            }
        }
    }
}

/// One moment of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineEntry {
    pub at: Timestamp,
    pub text: String,
}

/// What each kind of contribution says beyond its title and description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Details {
    Incident {
        /// What information was lost or exposed.
        #[serde(default)]
        information_lost: String,
        /// MITRE ATT&CK technique ids.
        #[serde(default)]
        techniques: Vec<String>,
        /// What the adversary seems to want.
        #[serde(default)]
        intent: String,
        impact: Impact,
        /// The victim's sector (e.g. energy, finance, health).
        #[serde(default)]
        sector: String,
        status: IncidentStatus,
        #[serde(default)]
        timeline: Vec<TimelineEntry>,
    },
    Sighting {
        indicator_type: IndicatorType,
        value: String,
        count: u32,
        first_seen: Timestamp,
        last_seen: Timestamp,
        /// Where it was seen (network, sector, region).
        #[serde(default)]
        location: String,
    },
    Indicator {
        indicator_type: IndicatorType,
        value: String,
        #[serde(default)]
        valid_until: Option<Timestamp>,
    },
    Mitigation {
        /// The techniques it counters.
        #[serde(default)]
        techniques: Vec<String>,
    },
    /// A strategic analysis: the description is the text; files are attached.
    Analysis {},
}

impl Details {
    pub fn kind(&self) -> ContributionKind {
        match self {
            Details::Incident { .. } => ContributionKind::Incident,
            Details::Sighting { .. } => ContributionKind::Sighting,
            Details::Indicator { .. } => ContributionKind::Indicator,
            Details::Mitigation { .. } => ContributionKind::Mitigation,
            Details::Analysis {} => ContributionKind::Analysis,
        }
    }

    /// ATT&CK techniques the contribution names.
    pub fn techniques(&self) -> &[String] {
        match self {
            Details::Incident { techniques, .. } | Details::Mitigation { techniques } => techniques,
            _ => &[],
        }
    }

    fn check(&mut self) -> Result<(), PartnershipError> {
        match self {
            Details::Incident {
                information_lost,
                techniques,
                intent,
                sector,
                timeline,
                ..
            } => {
                check_text("information_lost", information_lost, 10_000, false)?;
                check_text("intent", intent, 10_000, false)?;
                check_text("sector", sector, 100, false)?;
                *sector = sector.trim().to_lowercase();
                check_techniques(techniques)?;
                if timeline.len() > 500 {
                    return Err(invalid("timeline", "must have at most 500 entries"));
                }
                for e in timeline.iter() {
                    check_text("timeline", &e.text, 10_000, true)?;
                }
                timeline.sort_by_key(|e| e.at);
            }
            Details::Sighting {
                indicator_type,
                value,
                count,
                first_seen,
                last_seen,
                location,
            } => {
                *value = indicator_type.check(value)?;
                if *count == 0 {
                    return Err(invalid("count", "must be at least 1"));
                }
                if first_seen > last_seen {
                    return Err(invalid("first_seen", "must not be after last_seen"));
                }
                check_text("location", location, 1_000, false)?;
            }
            Details::Indicator {
                indicator_type,
                value,
                ..
            } => *value = indicator_type.check(value)?,
            Details::Mitigation { techniques } => check_techniques(techniques)?,
            Details::Analysis {} => {}
        }
        Ok(())
    }

    /// The free texts of the details (what the PII detector reads).
    pub(crate) fn texts_mut(&mut self) -> Vec<&mut String> {
        match self {
            Details::Incident {
                information_lost,
                intent,
                sector,
                timeline,
                ..
            } => {
                let mut v = vec![information_lost, intent, sector];
                v.extend(timeline.iter_mut().map(|e| &mut e.text));
                v
            }
            Details::Sighting { location, .. } => vec![location],
            _ => Vec::new(),
        }
    }
}

fn check_techniques(techniques: &mut Vec<String>) -> Result<(), PartnershipError> {
    if techniques.len() > 100 {
        return Err(invalid("techniques", "must name at most 100 techniques"));
    }
    let mut out = techniques
        .iter()
        .map(|t| attack::technique(t))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort();
    out.dedup();
    *techniques = out;
    Ok(())
}

/// What a member posts (or edits): checked by [`NewContribution::checked`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewContribution {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub marking: Tlp,
    /// Published without the author's name (the operator still knows it).
    #[serde(default)]
    pub anonymous: bool,
    pub details: Details,
}

impl NewContribution {
    /// The contribution with its texts trimmed and ids normalised, or what
    /// is wrong with it.
    pub fn checked(mut self) -> Result<NewContribution, PartnershipError> {
        self.title = self.title.trim().to_owned();
        check_text("title", &self.title, 200, true)?;
        check_text("description", &self.description, 200_000, false)?;
        if self.marking == Tlp::Red {
            return Err(invalid(
                "marking",
                "TLP:RED is for named individuals, not a group: choose TLP:AMBER+STRICT, or share it person to person",
            ));
        }
        self.details.check()?;
        Ok(self)
    }

    pub fn kind(&self) -> ContributionKind {
        self.details.kind()
    }

    /// Every free text of the contribution, for the PII detector and
    /// redaction: title, description and the details' texts.
    pub fn texts_mut(&mut self) -> Vec<&mut String> {
        let mut v = vec![&mut self.title, &mut self.description];
        v.extend(self.details.texts_mut());
        v
    }

    pub fn texts(&self) -> Vec<String> {
        self.clone()
            .texts_mut()
            .into_iter()
            .map(|t| t.clone())
            .collect()
    }
}

/// A file attached to an analysis (the bytes are in the store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: i64,
    pub name: String,
    pub media_type: String,
    pub size: u64,
    pub sha256: String,
}

impl Attachment {
    /// Checks an attachment's name and media type before it is stored.
    pub fn check(name: &str, media_type: &str, size: usize) -> Result<(), PartnershipError> {
        check_text("attachment name", name, 200, true)?;
        if name.contains(['/', '\\']) {
            return Err(invalid("attachment name", "must not contain a path"));
        }
        let mt = media_type.trim();
        if mt.is_empty() || mt.len() > 100 || !mt.contains('/') || mt.contains(char::is_whitespace)
        {
            return Err(invalid(
                "media_type",
                format!("\"{media_type}\" is not a media type"),
            ));
        }
        if size > crate::governance::MAX_ATTACHMENT {
            return Err(invalid(
                "attachment",
                format!(
                    "must be at most {} bytes",
                    crate::governance::MAX_ATTACHMENT
                ),
            ));
        }
        Ok(())
    }
}

/// A contribution as stored: its latest version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    pub id: ContributionId,
    pub group: GroupId,
    pub author: MemberId,
    #[serde(flatten)]
    pub content: NewContribution,
    /// 1 for the first version, one more per edit.
    pub version: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The contribution this one was shared from (another group's).
    pub origin: Option<ContributionId>,
    /// The STIX id of its TAXII object.
    pub stix_id: String,
}

impl Contribution {
    pub fn kind(&self) -> ContributionKind {
        self.content.kind()
    }

    /// Whether it is an incident that is still open.
    pub fn is_open_incident(&self) -> bool {
        matches!(
            self.content.details,
            Details::Incident {
                status: IncidentStatus::Open,
                ..
            }
        )
    }
}

/// An earlier version of a contribution (editing keeps history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub version: u32,
    pub edited_at: Timestamp,
    pub editor: MemberId,
    pub content: NewContribution,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident() -> NewContribution {
        NewContribution {
            title: " Ransomware at a water utility ".into(),
            description: "Encrypted SCADA historians.".into(),
            marking: Tlp::Amber,
            anonymous: false,
            details: Details::Incident {
                information_lost: "none".into(),
                techniques: vec!["t1486".into(), "T1566.001".into(), "T1486".into()],
                intent: "extortion".into(),
                impact: Impact::High,
                sector: "Water".into(),
                status: IncidentStatus::Open,
                timeline: vec![],
            },
        }
    }

    #[test]
    fn checked_normalises() {
        let c = incident().checked().unwrap();
        assert_eq!(c.title, "Ransomware at a water utility");
        assert_eq!(c.details.techniques(), ["T1486", "T1566.001"]);
        assert!(matches!(c.details, Details::Incident { ref sector, .. } if sector == "water"));
    }

    #[test]
    fn refuses_bad_input() {
        let mut c = incident();
        c.marking = Tlp::Red;
        assert!(c.checked().unwrap_err().to_string().contains("TLP:RED"));
        let mut c = incident();
        c.title = "  ".into();
        assert!(c.checked().is_err());
        let mut c = incident();
        if let Details::Incident { techniques, .. } = &mut c.details {
            techniques.push("TA0001".into());
        }
        assert!(c.checked().unwrap_err().to_string().contains("TA0001"));
        let s = NewContribution {
            details: Details::Sighting {
                indicator_type: IndicatorType::Ipv4,
                value: "203.0.113.300".into(),
                count: 1,
                first_seen: Timestamp::from_secs(1),
                last_seen: Timestamp::from_secs(2),
                location: String::new(),
            },
            ..incident()
        };
        assert!(s.checked().unwrap_err().to_string().contains("IPv4"));
    }

    #[test]
    fn indicator_values() {
        assert_eq!(
            IndicatorType::Domain.check("Evil.Example").unwrap(),
            "evil.example"
        );
        assert_eq!(
            IndicatorType::Sha1.check(&"A".repeat(40)).unwrap(),
            "a".repeat(40)
        );
        assert!(IndicatorType::Url.check("ftp://x.example/").is_err());
        assert!(IndicatorType::Email.check("a@b").is_err());
        assert!(IndicatorType::Email.check("ops@evil.example").is_ok());
        assert!(IndicatorType::Md5.check("xyz").is_err());
    }

    #[test]
    fn json_shape() {
        let v: NewContribution = serde_json::from_str(
            r#"{"title":"t","marking":"amber","details":{"kind":"indicator","indicator_type":"domain","value":"evil.example"}}"#,
        )
        .unwrap();
        assert_eq!(v.kind(), ContributionKind::Indicator);
        assert!(serde_json::from_str::<NewContribution>(
            r#"{"title":"t","marking":"amber","details":{"kind":"gossip"}}"#
        )
        .is_err());
    }
}
