//! Storage types of the malicious-URL product and of feed files.

use isx_domain::{ThreatType, Timestamp, Tlp};
use isx_urls::UrlCandidate;
use serde::Serialize;

/// One import: checked rows and who sent them.
#[derive(Debug, Clone)]
pub struct UrlBatch<'a> {
    pub candidates: &'a [UrlCandidate],
    /// Where the rows came from (file name, `api`, …), for the batch log.
    pub source: &'a str,
    /// Who imported them (`cli`, a key id, a login).
    pub actor: &'a str,
}

/// What an import did. `seq` is the batch number that now orders these
/// changes for incremental feed files; `None` when nothing changed (a
/// re-import of the same rows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UrlImportOutcome {
    pub seq: Option<i64>,
    /// New URLs.
    pub created: usize,
    /// Known URLs with a new sighting.
    pub updated: usize,
    /// Sightings already known: nothing to do.
    pub unchanged: usize,
}

/// Which URL records to read. Every filter is optional; `markings` is the
/// set the policy function allows the reader (empty: nothing).
#[derive(Debug, Clone, Default)]
pub struct UrlQuery {
    /// Substring of the URL (case-insensitive).
    pub text: Option<String>,
    pub host: Option<String>,
    /// Registrable domain.
    pub domain: Option<String>,
    pub ip: Option<String>,
    pub asn: Option<u32>,
    pub country: Option<String>,
    pub threat: Option<ThreatType>,
    /// Last seen at or after.
    pub since: Option<Timestamp>,
    /// Last seen before.
    pub until: Option<Timestamp>,
    /// Changed by a batch after this one …
    pub changed_after_seq: Option<i64>,
    /// … and up to this one.
    pub changed_upto_seq: Option<i64>,
    pub markings: Vec<Tlp>,
    /// Keyset paging in id order (feed files, exports).
    pub after_id: Option<i64>,
    /// A sorted list with `offset` paging (search pages); `None`: id order.
    pub sort: Option<UrlOrder>,
    pub offset: u32,
    pub limit: u32,
}

/// What a sorted list of URL records is sorted by (ties: the record id,
/// in the same direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UrlSort {
    #[default]
    LastSeen,
    FirstSeen,
    Url,
    Host,
    Threat,
    Country,
    Asn,
    TimesSeen,
}

impl UrlSort {
    pub const ALL: [UrlSort; 8] = [
        UrlSort::LastSeen,
        UrlSort::FirstSeen,
        UrlSort::Url,
        UrlSort::Host,
        UrlSort::Threat,
        UrlSort::Country,
        UrlSort::Asn,
        UrlSort::TimesSeen,
    ];

    /// Its name in query strings (`sort=first_seen`).
    pub fn as_str(self) -> &'static str {
        match self {
            UrlSort::LastSeen => "last_seen",
            UrlSort::FirstSeen => "first_seen",
            UrlSort::Url => "url",
            UrlSort::Host => "host",
            UrlSort::Threat => "threat",
            UrlSort::Country => "country",
            UrlSort::Asn => "asn",
            UrlSort::TimesSeen => "times_seen",
        }
    }

    pub fn parse(text: &str) -> Option<UrlSort> {
        UrlSort::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The column (a fixed name, never caller text).
    pub(crate) fn column(self) -> &'static str {
        self.as_str()
    }
}

/// A sort key and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UrlOrder {
    pub key: UrlSort,
    pub descending: bool,
}

impl UrlOrder {
    /// Newest (by last seen) first: the search pages' default.
    pub const NEWEST: UrlOrder = UrlOrder {
        key: UrlSort::LastSeen,
        descending: true,
    };
}

/// A point of the map: an address with a location and its URL count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapPoint {
    pub ip: String,
    pub latitude: f64,
    pub longitude: f64,
    pub country: Option<String>,
    pub urls: i64,
}

/// Aggregates for the charts, over the records a [`UrlQuery`] selects.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UrlStats {
    pub total: i64,
    pub by_threat: Vec<(ThreatType, i64)>,
    /// New URLs per UTC day (by first seen; day = days since the epoch).
    pub per_day: Vec<(i64, ThreatType, i64)>,
    pub top_asns: Vec<(u32, Option<String>, i64)>,
    pub top_countries: Vec<(String, i64)>,
    /// The busiest located addresses (at most 2,000).
    pub points: Vec<MapPoint>,
}

/// A produced feed slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedRun {
    pub product: String,
    pub slot: Timestamp,
    pub from_seq: i64,
    pub to_seq: i64,
    pub finished_at: Timestamp,
}

/// A feed file's manifest entry. The file itself lives in the feed
/// directory; `signature` is the instance's Ed25519 signature of
/// [`FeedFile::signed_text`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedFile {
    pub name: String,
    pub product: String,
    /// `increment` or `full`.
    pub kind: String,
    pub format: String,
    pub slot: Timestamp,
    pub period_start: Timestamp,
    pub period_end: Timestamp,
    pub records: i64,
    pub size: i64,
    pub sha256: String,
    /// The most restrictive marking of the records in the file.
    pub marking: Tlp,
    pub signature: String,
    pub created_at: Timestamp,
    /// The member a file is for (botnet batches); `None`: every member
    /// its marking admits.
    pub member: Option<isx_domain::MemberId>,
}

impl FeedFile {
    /// The exact text the signature covers, one field per line, so that any
    /// tool can rebuild it from the manifest entry and check the file.
    pub fn signed_text(&self) -> String {
        format!(
            "isx-feed-file-v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
            self.name,
            self.product,
            self.kind,
            self.sha256,
            self.size,
            self.records,
            self.period_start.to_rfc3339(),
            self.period_end.to_rfc3339()
        )
    }
}
