//! Storage types of the botnet products.

use isx_botnet::BotnetEvent;
use isx_domain::{BotnetProduct, MemberId, Timestamp};
use serde::Serialize;

/// An event as stored: its id (the order of arrival, and the stream's
/// event id), the members it concerns, and when isx received it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredBotnetEvent {
    pub id: i64,
    #[serde(flatten)]
    pub event: BotnetEvent,
    pub recipients: Vec<MemberId>,
    pub received_at: Timestamp,
    /// What the event is in TAXII (C2 servers and malicious domains).
    #[serde(skip)]
    pub indicator: isx_botnet::indicator::IndicatorLink,
}

/// Which events to read. Every filter is optional; `member` narrows to the
/// events that may concern that member (victim data it is a recipient of,
/// and all C2 and domain events) — a pre-selection for speed: what a caller
/// may see is still decided per event by the policy function.
#[derive(Debug, Clone, Default)]
pub struct BotnetQuery {
    pub member: Option<MemberId>,
    /// Events with an id above this one.
    pub after_id: Option<i64>,
    /// Events with an id up to this one.
    pub upto_id: Option<i64>,
    /// Products; empty means all.
    pub products: Vec<BotnetProduct>,
    /// Last seen at or after.
    pub since: Option<Timestamp>,
    /// Seen before.
    pub until: Option<Timestamp>,
    pub ip: Option<String>,
    pub family: Option<String>,
    /// At most this many (0: no limit).
    pub limit: u32,
}

/// What an insert did. Events already stored (same content) are skipped,
/// so re-sending a batch is harmless.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BotnetInsertOutcome {
    pub inserted: u64,
    pub duplicates: u64,
    pub first_id: Option<i64>,
    pub last_id: Option<i64>,
    /// The id of each input event, in input order; `None` where it was
    /// already stored.
    #[serde(skip)]
    pub ids: Vec<Option<i64>>,
}
