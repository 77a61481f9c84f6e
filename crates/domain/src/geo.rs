//! What a geo database says about an IP address.

use serde::{Deserialize, Serialize};

use crate::{Asn, CountryCode};

/// Network and location of an IP address, as far as the configured
/// databases know them. Every field is optional: a database may cover the
/// address only partly, and isx runs without any database at all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeoInfo {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub asn: Option<Asn>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub as_org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub country: Option<CountryCode>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub latitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub longitude: Option<f64>,
}

impl GeoInfo {
    pub fn is_empty(&self) -> bool {
        *self == GeoInfo::default()
    }

    /// Fills the fields this one lacks from `other`.
    pub fn or(self, other: GeoInfo) -> GeoInfo {
        GeoInfo {
            asn: self.asn.or(other.asn),
            as_org: self.as_org.or(other.as_org),
            country: self.country.or(other.country),
            city: self.city.or(other.city),
            latitude: self.latitude.or(other.latitude),
            longitude: self.longitude.or(other.longitude),
        }
    }
}
