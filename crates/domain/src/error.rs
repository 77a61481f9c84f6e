use thiserror::Error;

/// A value that does not satisfy the rules of its domain type.
///
/// Every variant says what was wrong in words an operator can act on; the
/// server turns these into 422 problem bodies and the CLI prints them.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("invalid CIDR {value:?}: {reason}")]
    InvalidCidr { value: String, reason: String },
    #[error("invalid ASN {value:?}: expected a number from 1 to 4294967294, optionally prefixed with \"AS\"")]
    InvalidAsn { value: String },
    #[error("invalid country code {value:?}: expected two ASCII letters (ISO 3166-1 alpha-2), e.g. \"DE\"")]
    InvalidCountry { value: String },
    #[error("invalid domain name {value:?}: {reason}")]
    InvalidDomain { value: String, reason: String },
    #[error(
        "invalid TLP marking {value:?}: expected one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED"
    )]
    InvalidTlp { value: String },
    #[error("invalid {what} {value:?}: expected one of {expected}")]
    InvalidChoice {
        what: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("invalid {what}: {reason}")]
    InvalidText { what: &'static str, reason: String },
    #[error("invalid timestamp {value:?}: expected RFC 3339 between the years 1970 and 9999, e.g. 2026-11-23T10:00:00Z")]
    InvalidTimestamp { value: String },
    #[error("time {micros} µs after 1970 is out of range: isx accepts the years 1970 to 9999")]
    TimestampOutOfRange { micros: i64 },
    #[error("malformed API key: expected isx_<key id>_<secret>")]
    MalformedApiToken,
}
