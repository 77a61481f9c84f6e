//! Time as isx sees it: microseconds since the Unix epoch, and an injectable clock.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::DomainError;

/// An instant, in microseconds since 1970-01-01T00:00:00Z (UTC).
///
/// Integer time keeps comparisons in the policy function branch-cheap and
/// stores identically in SQLite and PostgreSQL. It serializes as RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const MICROS_PER_SECOND: i64 = 1_000_000;
    /// The earliest instant isx accepts from outside: 1970-01-01T00:00:00Z.
    pub const MIN: Timestamp = Timestamp(0);
    /// The latest: 9999-12-31T23:59:59.999999Z. Every reader (RFC 3339, the
    /// databases, STIX, CSAF) can write every instant in between, so a
    /// value from outside that is not in this range is refused where it is
    /// parsed, never stored.
    pub const MAX: Timestamp = Timestamp(253_402_300_799_999_999);

    /// `micros` if it is within [`MIN`](Self::MIN)..=[`MAX`](Self::MAX).
    pub fn checked_from_micros(micros: i64) -> Result<Self, DomainError> {
        let t = Timestamp(micros);
        if t.in_range() {
            Ok(t)
        } else {
            Err(DomainError::TimestampOutOfRange { micros })
        }
    }

    /// `secs` if the instant is within the accepted range.
    pub fn checked_from_secs(secs: i64) -> Result<Self, DomainError> {
        let micros = secs
            .checked_mul(Self::MICROS_PER_SECOND)
            .ok_or(DomainError::TimestampOutOfRange { micros: i64::MAX })?;
        Self::checked_from_micros(micros)
    }

    /// Within the range every reader can write (years 1970–9999).
    pub const fn in_range(self) -> bool {
        self.0 >= Self::MIN.0 && self.0 <= Self::MAX.0
    }

    pub const fn from_micros(micros: i64) -> Self {
        Timestamp(micros)
    }

    pub const fn from_secs(secs: i64) -> Self {
        Timestamp(secs * Self::MICROS_PER_SECOND)
    }

    pub const fn as_micros(self) -> i64 {
        self.0
    }

    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(Self::MICROS_PER_SECOND)
    }

    /// This instant moved by `secs` seconds (negative moves back).
    pub const fn add_secs(self, secs: i64) -> Self {
        Timestamp(
            self.0
                .saturating_add(secs.saturating_mul(Self::MICROS_PER_SECOND)),
        )
    }

    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let dt = OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|_| {
            DomainError::InvalidTimestamp {
                value: text.to_owned(),
            }
        })?;
        let micros = dt.unix_timestamp_nanos() / 1_000;
        i64::try_from(micros)
            .ok()
            .map(Timestamp)
            .filter(|t| t.in_range())
            .ok_or_else(|| DomainError::InvalidTimestamp {
                value: text.to_owned(),
            })
    }

    pub fn to_rfc3339(self) -> String {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000)
            .ok()
            .and_then(|dt| dt.format(&Rfc3339).ok())
            .unwrap_or_else(|| format!("@{}us", self.0))
    }
}

impl std::str::FromStr for Timestamp {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Where "now" comes from. The server and the policy function never read the
/// system time directly, so a test can stand at T−6d, T−24h or T.
/// How far ahead of the receiving node's clock a sighting's time may be
/// (a source's clock a little fast); later ones are refused, as they would
/// date records and STIX versions ahead of every real one.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Timestamp((nanos / 1_000) as i64)
    }
}

/// A clock that stands still until told to move; for tests and simulations.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(at: Timestamp) -> Self {
        ManualClock(AtomicI64::new(at.as_micros()))
    }

    pub fn set(&self, at: Timestamp) {
        self.0.store(at.as_micros(), Ordering::SeqCst);
    }

    pub fn advance_secs(&self, secs: i64) {
        self.0
            .fetch_add(secs * Timestamp::MICROS_PER_SECOND, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_keeps_microseconds() {
        let t = Timestamp::parse("2026-11-23T10:00:00.123456Z").unwrap();
        assert_eq!(t.as_micros() % 1_000_000, 123_456);
        assert_eq!(Timestamp::parse(&t.to_rfc3339()).unwrap(), t);
    }

    #[test]
    fn offsets_are_normalised_to_utc() {
        let a = Timestamp::parse("2026-11-23T12:00:00+02:00").unwrap();
        let b = Timestamp::parse("2026-11-23T10:00:00Z").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn garbage_is_rejected() {
        assert!(Timestamp::parse("yesterday").is_err());
        // Outside years 1970–9999: refused, whatever the reader could do.
        assert!(Timestamp::parse("1969-12-31T23:59:59Z").is_err());
        assert!(Timestamp::parse("1970-01-01T00:00:00Z").is_ok());
        assert_eq!(
            Timestamp::parse("9999-12-31T23:59:59.999999Z").unwrap(),
            Timestamp::MAX
        );
        assert!(Timestamp::checked_from_micros(i64::MAX).is_err());
        assert!(Timestamp::checked_from_micros(-1).is_err());
        assert!(Timestamp::checked_from_secs(i64::MAX).is_err());
        assert_eq!(
            Timestamp::parse(&Timestamp::MAX.to_rfc3339()).unwrap(),
            Timestamp::MAX
        );
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Timestamp::from_secs(100));
        assert_eq!(c.now(), Timestamp::from_secs(100));
        c.advance_secs(5);
        assert_eq!(c.now(), Timestamp::from_secs(105));
    }
}
