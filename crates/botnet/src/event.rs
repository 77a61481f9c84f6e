//! One observation by a sinkhole or sensor.

use std::net::IpAddr;

use isx_domain::{Asn, BotnetProduct, CountryCode, DomainName, Timestamp, Tlp};
use serde::{Deserialize, Serialize};

use crate::BotnetError;

/// The longest free-text field (family, threat code, sensor, …) kept.
pub const MAX_TEXT_LEN: usize = 200;

/// A botnet event. The *subject* is `ip`/`port` (the infected machine or
/// device for victim data, the server for C2) or `domain` (a C2 hostname or
/// a malicious domain); `dst_ip`/`dst_port` is where an infected machine
/// connected (the sinkhole, or the C2 it tried to reach).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BotnetEvent {
    pub product: BotnetProduct,
    /// When the source observed it.
    pub seen_at: Timestamp,
    pub ip: Option<IpAddr>,
    pub port: Option<u16>,
    pub dst_ip: Option<IpAddr>,
    pub dst_port: Option<u16>,
    pub domain: Option<DomainName>,
    /// The malware family, lower case (`unknown` when the source has none).
    pub family: String,
    pub threat_code: Option<String>,
    /// 0–100.
    pub confidence: Option<u8>,
    pub protocol: Option<String>,
    /// The sinkhole or sensor that saw it.
    pub sensor: Option<String>,
    /// IoT device type, where known.
    pub device_type: Option<String>,
    /// C2 status (`online`, `offline`, `unknown`).
    pub status: Option<String>,
    /// What a malicious domain is for (`c2`, `dga`, `phishing`, `payload`, …).
    pub purpose: Option<String>,
    pub asn: Option<Asn>,
    pub country: Option<CountryCode>,
    /// Where the subject IP is (from the source or the geo databases).
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// How many times the source saw it (CTIP `TotalEncounters`); at least 1.
    pub count: u32,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub source: String,
    pub marking: Tlp,
}

impl BotnetEvent {
    /// What the constituency matcher looks the event up by. Victim data
    /// (infected machines, IoT devices) concerns the owners of the victim's
    /// address, ASN or country only: the C2 domain an infected machine
    /// calls is C2 data, and matching it would hand one member's victims to
    /// whoever owns that domain.
    pub fn match_key(&self) -> crate::MatchKey<'_> {
        crate::MatchKey {
            ip: self.ip,
            asn: self.asn,
            country: self.country,
            domain: if self.product.is_victim_data() {
                None
            } else {
                self.domain.as_ref().map(|d| d.as_str())
            },
        }
    }

    /// A bare event of `product` seen at `at`, with every optional field empty.
    pub fn new(product: BotnetProduct, at: Timestamp, source: &str) -> Self {
        BotnetEvent {
            product,
            seen_at: at,
            ip: None,
            port: None,
            dst_ip: None,
            dst_port: None,
            domain: None,
            family: "unknown".to_owned(),
            threat_code: None,
            confidence: None,
            protocol: None,
            sensor: None,
            device_type: None,
            status: None,
            purpose: None,
            asn: None,
            country: None,
            latitude: None,
            longitude: None,
            count: 1,
            first_seen: at,
            last_seen: at,
            source: source.to_owned(),
            marking: Tlp::Amber,
        }
    }

    /// Normalises the free-text fields (trimmed; family and status lower
    /// case) and checks what the product needs: an IP for victim data, an
    /// IP or hostname for C2, a domain for malicious domains.
    pub fn validate(mut self) -> Result<Self, BotnetError> {
        let missing = |field| BotnetError::Missing {
            product: self.product,
            field,
        };
        match self.product {
            BotnetProduct::Infected | BotnetProduct::Iot if self.ip.is_none() => {
                return Err(missing("a source IP"))
            }
            BotnetProduct::C2 if self.ip.is_none() && self.domain.is_none() => {
                return Err(missing("an IP or a hostname"))
            }
            BotnetProduct::Domains if self.domain.is_none() => return Err(missing("a domain")),
            _ => {}
        }
        self.family = text("family", &self.family)?
            .map(|f| f.to_ascii_lowercase())
            .unwrap_or_else(|| "unknown".to_owned());
        for (field, value) in [
            ("threat code", &mut self.threat_code),
            ("protocol", &mut self.protocol),
            ("sensor", &mut self.sensor),
            ("device type", &mut self.device_type),
            ("purpose", &mut self.purpose),
        ] {
            *value = match value.take() {
                Some(v) => text(field, &v)?,
                None => None,
            };
        }
        self.status = match self.status.take() {
            Some(s) => text("status", &s)?.map(|s| s.to_ascii_lowercase()),
            None => None,
        };
        self.source = text("source", &self.source)?.unwrap_or_else(|| "unknown".to_owned());
        if let Some(c) = self.confidence {
            if c > 100 {
                return Err(BotnetError::Confidence(u32::from(c)));
            }
        }
        self.count = self.count.max(1);
        match (self.latitude, self.longitude) {
            (Some(lat), Some(lon))
                if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) => {}
            // A source's 0/0 or half a pair means "unknown".
            _ => {
                self.latitude = None;
                self.longitude = None;
            }
        }
        if self.latitude == Some(0.0) && self.longitude == Some(0.0) {
            self.latitude = None;
            self.longitude = None;
        }
        for (field, t) in [
            ("seen at", self.seen_at),
            ("first seen", self.first_seen),
            ("last seen", self.last_seen),
        ] {
            if !t.in_range() {
                return Err(BotnetError::Invalid(format!(
                    "{field} is outside the years 1970 to 9999"
                )));
            }
        }
        if self.first_seen > self.last_seen {
            return Err(BotnetError::SeenOrder {
                first: self.first_seen.to_rfc3339(),
                last: self.last_seen.to_rfc3339(),
            });
        }
        Ok(self)
    }

    /// Whether the C2 server is known to be down.
    pub fn is_offline(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| OFFLINE_STATUSES.contains(&s))
    }
}

/// The statuses (as `validate` leaves them: trimmed, lower case) that
/// say a C2 server is down: the firewall lists, the MISP feed and the
/// TAXII indicators all go by them.
pub const OFFLINE_STATUSES: [&str; 3] = ["offline", "down", "sinkholed"];

fn text(field: &'static str, value: &str) -> Result<Option<String>, BotnetError> {
    let t = value.trim();
    if t.chars().count() > MAX_TEXT_LEN {
        return Err(BotnetError::TooLong {
            field,
            len: t.chars().count(),
            max: MAX_TEXT_LEN,
        });
    }
    if t.chars().any(char::is_control) {
        return Err(BotnetError::Invalid(format!(
            "{field} holds control characters"
        )));
    }
    Ok((!t.is_empty()).then(|| t.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_follows_the_product() {
        let at = Timestamp::from_secs(1_700_000_000);
        let e = BotnetEvent::new(BotnetProduct::Infected, at, "sinkhole");
        assert!(matches!(
            e.clone().validate(),
            Err(BotnetError::Missing {
                field: "a source IP",
                ..
            })
        ));
        let mut ok = e;
        ok.ip = Some("192.0.2.7".parse().expect("ip"));
        ok.family = "  Emotet ".to_owned();
        ok.status = Some("ONLINE".to_owned());
        let ok = ok.validate().expect("valid");
        assert_eq!(ok.family, "emotet");
        assert_eq!(ok.status.as_deref(), Some("online"));

        let mut c2 = BotnetEvent::new(BotnetProduct::C2, at, "s");
        assert!(c2.clone().validate().is_err());
        c2.domain = Some(DomainName::new("c2.example").expect("domain"));
        assert!(c2.clone().validate().is_ok());
        c2.confidence = Some(101);
        assert_eq!(c2.clone().validate(), Err(BotnetError::Confidence(101)));
        c2.confidence = None;
        c2.first_seen = at.add_secs(10);
        assert!(matches!(c2.validate(), Err(BotnetError::SeenOrder { .. })));
    }
}
