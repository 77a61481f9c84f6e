//! Botnet feeds.
//!
//! Sinkholes and sensors report [`BotnetEvent`]s of four products
//! ([`isx_domain::BotnetProduct`]). The [`Matcher`] finds, for each event,
//! every member whose constituency covers it — all covering prefixes, the
//! ASN, the country of a national CERT, domain suffixes and ccTLDs — with
//! one lookup per key in tables built once per change of constituencies.
//! The members it finds are the event's *recipients*; whether a member may
//! see an event is still decided by [`isx_policy::decide`] on the metadata
//! [`botnet_record`] gives: victim data (infected, IoT) is meant for its
//! recipients only, C2 servers and malicious domains for every member per
//! TLP.
//!
//! Batches are [`Deduplicator`]s over a period: one row per (product, IP,
//! port, family, destination, domain) with a count and first/last seen.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

mod dedup;
mod event;
pub mod indicator;
mod matcher;

pub use dedup::{DedupKey, DedupRow, Deduplicator};
pub use event::{BotnetEvent, MAX_TEXT_LEN, OFFLINE_STATUSES};
pub use matcher::{MatchKey, Matcher, MatcherStats};

use isx_domain::{BotnetProduct, MemberId, Tlp};
use isx_policy::{Audience, RecordMeta};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BotnetError {
    #[error("{product} events need {field}")]
    Missing {
        product: BotnetProduct,
        field: &'static str,
    },
    #[error("{field} is {len} characters long: at most {max}")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("first seen ({first}) is after last seen ({last})")]
    SeenOrder { first: String, last: String },
    #[error("confidence {0} is out of range 0–100")]
    Confidence(u32),
    #[error("{0}")]
    Invalid(String),
}

/// The policy metadata of a botnet event (or of a row or file built from
/// events): victim data is meant for the members it concerns, the rest for
/// every member, per TLP.
pub fn botnet_record(product: BotnetProduct, marking: Tlp, recipients: &[MemberId]) -> RecordMeta {
    if product.is_victim_data() {
        RecordMeta {
            audience: Audience::Recipients(recipients.to_vec()),
            ..RecordMeta::everyone(marking)
        }
    } else {
        RecordMeta::everyone(marking)
    }
}
