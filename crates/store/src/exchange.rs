//! Storage types of the TAXII collections of trust groups.

use isx_domain::{MemberId, Timestamp, Tlp};

/// A STIX object version a member posts to a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewExchangeObject {
    pub id: String,
    pub object_type: String,
    /// `modified`, else `created`.
    pub version: Timestamp,
    pub spec_version: String,
    /// The strictest TLP marking the object carries.
    pub marking: Tlp,
    /// The object as posted (JSON text).
    pub body: String,
}

/// What became of one object version posted with `exchange_add`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeAdded {
    /// Kept: a version the collection did not hold.
    New,
    /// The collection already holds this version (nothing changed).
    Held,
    /// The object id belongs to another member (the one that first posted
    /// it in this collection): only it, or the operator, adds versions.
    NotYours,
    /// The object already has [`MAX_VERSIONS`] versions in the collection.
    TooManyVersions,
}

/// The most versions one object keeps in a collection: a read chooses an
/// object's first or last version among all of them, so without a bound
/// one member posting ten thousand versions of one id made every other
/// member's reads of the collection a hundred times slower (red-team pass
/// 2026-12-07).
pub const MAX_VERSIONS: i64 = 1_000;

/// A version in a collection, without its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeEntry {
    /// When it entered the collection: distinct and ascending.
    pub added: Timestamp,
    pub id: String,
    pub object_type: String,
    pub version: Timestamp,
    pub spec_version: String,
    pub marking: Tlp,
    pub author: MemberId,
}
