//! Malicious URLs.
//!
//! A source (a crawler, URLhaus, a partner) reports *observations*; isx
//! [`canonicalize`]s each URL so that the same URL is one *record*, maps
//! the source's threat vocabulary onto the fixed taxonomy
//! ([`isx_domain::ThreatType`]), and [`merge`]s *sightings* into the record
//! (first/last seen, times seen). A sighting is identified by what the
//! source said, so importing the same file twice changes nothing.
//!
//! Records are shared with every member per their TLP marking: the policy
//! metadata is [`url_record`], decided by [`isx_policy::decide`] like
//! everything else. Feed files follow [`FeedSchedule`].

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

mod canon;
mod record;
mod schedule;

pub use canon::{canonicalize, CanonicalUrl, MAX_URL_LEN};
pub use record::{
    date_superseded, merge, merge_levels, prepare, sighting_key, ImportDefaults, UrlCandidate,
    UrlObservation, UrlRecord, MAX_TAGS, MAX_TAG_LEN,
};
pub use schedule::{slot_label, FeedSchedule};

use isx_domain::Tlp;
use isx_policy::RecordMeta;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UrlError {
    #[error("empty URL")]
    Empty,
    #[error("URL of {len} bytes: at most {MAX_URL_LEN}")]
    TooLong { len: usize },
    #[error("cannot parse URL {url:?}: {reason}")]
    Unparsable { url: String, reason: String },
    #[error("unsupported scheme {scheme:?}: expected http, https or ftp")]
    UnsupportedScheme { scheme: String },
    #[error("URL {url:?} has no host")]
    NoHost { url: String },
    #[error("{0}")]
    Invalid(String),
}

/// The policy metadata of a URL record (and of a feed file whose most
/// restrictive record has `marking`): every member, per TLP.
pub fn url_record(marking: Tlp) -> RecordMeta {
    RecordMeta::everyone(marking)
}
