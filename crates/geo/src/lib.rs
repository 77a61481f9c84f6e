//! Geo enrichment of IP addresses from MaxMind-format (`.mmdb`) databases.
//!
//! The operator configures the files (GeoLite2, GeoIP2, DB-IP Lite or a
//! commercial database in the same format): one City or Country database
//! for country and coordinates, one ASN database for the network. Either
//! may be missing; [`GeoDb::none`] answers nothing, and isx says so in its
//! status instead of failing. Files are memory-mapped, so lookups cost no
//! I/O after the first touches of the pages.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use isx_domain::{Asn, CountryCode, GeoInfo};
use maxminddb::{geoip2, Mmap, Reader};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum GeoError {
    #[error("cannot open geo database {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("geo database {path} is a {found} database; expected {expected}")]
    WrongKind {
        path: PathBuf,
        found: String,
        expected: &'static str,
    },
}

/// Which databases are loaded, for status pages and logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeoStatus {
    /// Database type and build time of the location database, e.g.
    /// `GeoIP2-City (built 2019-…)`.
    pub location: Option<String>,
    pub asn: Option<String>,
}

impl GeoStatus {
    pub fn is_configured(&self) -> bool {
        self.location.is_some() || self.asn.is_some()
    }
}

/// The configured databases.
#[derive(Default)]
pub struct GeoDb {
    location: Option<Reader<Mmap>>,
    asn: Option<Reader<Mmap>>,
    status: GeoStatus,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDb")
            .field("status", &self.status)
            .finish()
    }
}

impl GeoDb {
    /// No databases: every lookup answers an empty [`GeoInfo`].
    pub fn none() -> Self {
        GeoDb::default()
    }

    /// Opens the databases that are given. `location` must be a City or
    /// Country database, `asn` an ASN database (ISP databases also carry
    /// the ASN fields and are accepted there).
    pub fn open(location: Option<&Path>, asn: Option<&Path>) -> Result<Self, GeoError> {
        let mut db = GeoDb::none();
        if let Some(path) = location {
            let reader = open(path)?;
            let kind = reader.metadata().database_type.clone();
            if !(kind.contains("City") || kind.contains("Country")) {
                return Err(GeoError::WrongKind {
                    path: path.to_owned(),
                    found: kind,
                    expected: "City or Country",
                });
            }
            db.status.location = Some(describe(&reader));
            db.location = Some(reader);
        }
        if let Some(path) = asn {
            let reader = open(path)?;
            let kind = reader.metadata().database_type.clone();
            if !(kind.contains("ASN") || kind.contains("ISP") || kind.contains("asn")) {
                return Err(GeoError::WrongKind {
                    path: path.to_owned(),
                    found: kind,
                    expected: "ASN",
                });
            }
            db.status.asn = Some(describe(&reader));
            db.asn = Some(reader);
        }
        Ok(db)
    }

    pub fn status(&self) -> &GeoStatus {
        &self.status
    }

    /// What the databases know about `ip`. A lookup error (a corrupt
    /// record) is treated as "unknown" for that field: enrichment never
    /// fails an import.
    pub fn lookup(&self, ip: IpAddr) -> GeoInfo {
        let mut info = GeoInfo::default();
        if let Some(reader) = &self.location {
            if let Ok(Some(city)) = reader
                .lookup(ip)
                .and_then(|r| r.decode::<geoip2::City<'_>>())
            {
                info.country = city
                    .country
                    .iso_code
                    .or(city.registered_country.iso_code)
                    .and_then(|c| c.parse::<CountryCode>().ok());
                info.city = city.city.names.english.map(str::to_owned);
                info.latitude = city.location.latitude;
                info.longitude = city.location.longitude;
            }
        }
        if let Some(reader) = &self.asn {
            if let Ok(Some(asn)) = reader
                .lookup(ip)
                .and_then(|r| r.decode::<geoip2::Asn<'_>>())
            {
                info.asn = asn.autonomous_system_number.and_then(|n| Asn::new(n).ok());
                info.as_org = asn.autonomous_system_organization.map(str::to_owned);
            }
        }
        info
    }
}

fn open(path: &Path) -> Result<Reader<Mmap>, GeoError> {
    // SAFETY: the map is read-only; the operator replaces databases by
    // renaming a new file into place (as geoipupdate does), which leaves
    // the mapped inode intact. Truncating a mapped file in place would be
    // undefined behaviour, as for every mmap reader of these databases.
    unsafe { Reader::open_mmap(path) }.map_err(|e| GeoError::Open {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

fn describe<S: AsRef<[u8]>>(reader: &Reader<S>) -> String {
    format!(
        "{} (built {})",
        reader.metadata().database_type,
        isx_domain::Timestamp::from_secs(
            i64::try_from(reader.metadata().build_epoch).unwrap_or(i64::MAX / 2_000_000)
        )
        .to_rfc3339()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/geoip")
            .join(name)
    }

    #[test]
    fn city_and_asn_databases_answer_the_documented_examples() {
        let db = GeoDb::open(
            Some(&shared("GeoIP2-City-Test.mmdb")),
            Some(&shared("GeoLite2-ASN-Test.mmdb")),
        )
        .expect("open test databases");
        assert!(db.status().is_configured());
        let london = db.lookup("81.2.69.142".parse().unwrap());
        assert_eq!(london.country.map(|c| c.to_string()).as_deref(), Some("GB"));
        assert_eq!(london.city.as_deref(), Some("London"));
        assert!(london.latitude.is_some_and(|l| (l - 51.5142).abs() < 0.01));
        let google = db.lookup("1.0.0.1".parse().unwrap());
        assert_eq!(google.asn.map(Asn::get), Some(15169));
        assert_eq!(google.as_org.as_deref(), Some("Google Inc."));
        // An address neither database covers.
        assert!(db.lookup("10.1.2.3".parse().unwrap()).is_empty());
    }

    #[test]
    fn wrong_kind_of_database_is_refused_with_its_name() {
        let err = GeoDb::open(Some(&shared("GeoLite2-ASN-Test.mmdb")), None).unwrap_err();
        assert!(err.to_string().contains("GeoLite2-ASN"), "{err}");
        let err = GeoDb::open(None, Some(&PathBuf::from("/nonexistent.mmdb"))).unwrap_err();
        assert!(err.to_string().contains("/nonexistent.mmdb"), "{err}");
    }

    #[test]
    fn without_databases_lookups_answer_nothing() {
        let db = GeoDb::none();
        assert!(!db.status().is_configured());
        assert!(db.lookup("81.2.69.142".parse().unwrap()).is_empty());
    }
}
