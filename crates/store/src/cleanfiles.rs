//! Storage types of clean file metadata.

use isx_cleanfiles::HashAlgo;
use serde::Serialize;

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CleanImportOutcome {
    /// Files new to the set.
    pub added: u64,
    /// Files already known (their metadata kept as it was).
    pub unchanged: u64,
    /// The change sequence after the import (0 when nothing ever changed).
    pub seq: i64,
}

/// A member's hashlookup session (`/session/create/{name}`): the hashes
/// looked up with its header while it lived, known or not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LookupSession {
    pub created: isx_domain::Timestamp,
    pub expires: isx_domain::Timestamp,
    /// (hash as asked, upper-case hex; known), in hash order.
    pub hashes: Vec<(String, bool)>,
}

/// Hashes one session keeps (more lookups are answered, not noted).
pub const SESSION_MAX_HASHES: i64 = 100_000;
/// Live sessions one member may have.
pub const SESSIONS_PER_MEMBER: i64 = 100;
/// Hashes whose lookups are kept per member and day once pruned (the most
/// looked-up); `/stats/top` shows at most 100, so its counts stay exact
/// for every hash it can show while the table stays bounded.
pub const TOP_KEPT_PER_DAY: i64 = 1_000;

/// A file related to another (a parent or a child), with its record when
/// it is a clean file itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub sha256: isx_cleanfiles::Sha256,
    pub file: Option<isx_cleanfiles::CleanFile>,
}

/// One change to the set: a file added or removed, in sequence order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CleanChange {
    pub seq: i64,
    pub sha256: isx_cleanfiles::Sha256,
    pub sha1: Option<isx_cleanfiles::Sha1>,
    pub md5: Option<isx_cleanfiles::Md5>,
    pub added: bool,
    pub at: isx_domain::Timestamp,
}

impl CleanChange {
    /// The change's key for `algo` (`None` when the record had no such hash).
    pub fn key(&self, algo: HashAlgo) -> Option<&[u8]> {
        match algo {
            HashAlgo::Sha256 => Some(&self.sha256.0),
            HashAlgo::Sha1 => self.sha1.as_ref().map(|h| &h.0[..]),
            HashAlgo::Md5 => self.md5.as_ref().map(|h| &h.0[..]),
        }
    }
}

/// Counts for the statistics page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CleanStats {
    pub files: u64,
    /// (source, files), most first.
    pub sources: Vec<(String, u64)>,
    /// (vendor, files), most first, at most 10.
    pub vendors: Vec<(String, u64)>,
    /// (product, files), most first, at most 10.
    pub products: Vec<(String, u64)>,
    /// Distinct vendors, products and operating systems over every file.
    pub distinct_vendors: u64,
    pub distinct_products: u64,
    pub distinct_os: u64,
    pub seq: i64,
}
