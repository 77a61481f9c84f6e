//! Machine-to-machine exchange: the TAXII 2.1 side of isx that does not
//! need HTTP — media types and `Accept` negotiation ([`media`]), the
//! resources' wire shapes ([`resources`]), filters and pagination over a
//! collection's entries ([`page`]). The HTTP handlers live in
//! `isx-server`; what each caller may see is decided there by the one
//! policy function before entries reach [`page::select`].

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod ingest;
pub mod media;
pub mod page;
pub mod resources;

use thiserror::Error;

/// What is wrong with a TAXII request, before any data is read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExchangeError {
    /// 400: a filter, `limit` or `next` that cannot be used.
    #[error("{parameter}: {message}")]
    BadParameter { parameter: String, message: String },
    /// 406: nothing in `Accept` is a TAXII 2.1 media type.
    #[error("not acceptable: {0}")]
    NotAcceptable(String),
}

impl ExchangeError {
    pub(crate) fn bad(parameter: &str, message: impl std::fmt::Display) -> Self {
        ExchangeError::BadParameter {
            parameter: parameter.to_owned(),
            message: message.to_string(),
        }
    }
}

/// A TAXII timestamp: UTC with exactly six fractional digits and `Z`
/// (`2017-01-27T13:49:59.997000Z`), the precision clients page with.
pub fn taxii_timestamp(t: isx_domain::Timestamp) -> String {
    let micros = t.as_micros();
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(dt) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{frac:06}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        ),
        Err(_) => t.to_rfc3339(),
    }
}

/// Parses a TAXII/STIX timestamp with any number of fractional digits
/// (clients send 0 to 9).
pub fn parse_timestamp(text: &str) -> Option<isx_domain::Timestamp> {
    isx_domain::Timestamp::parse(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use isx_domain::Timestamp;

    #[test]
    fn timestamps_have_six_fractional_digits() {
        let t = Timestamp::from_micros(1_485_524_999_997_000);
        assert_eq!(taxii_timestamp(t), "2017-01-27T13:49:59.997000Z");
        assert_eq!(
            taxii_timestamp(Timestamp::from_secs(1_485_524_999)),
            "2017-01-27T13:49:59.000000Z"
        );
        for text in [
            "2017-01-27T13:49:59Z",
            "2017-01-27T13:49:59.9Z",
            "2017-01-27T13:49:59.997000Z",
            "2017-01-27T13:49:59.997000123Z",
        ] {
            let t = parse_timestamp(text).expect(text);
            assert!(
                taxii_timestamp(t).starts_with("2017-01-27T13:49:59."),
                "{text}"
            );
        }
        assert!(parse_timestamp("yesterday").is_none());
    }
}
