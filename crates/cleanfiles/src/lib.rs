//! Clean file metadata: the hashes and records of known-good vendor files.
//!
//! * [`hash`] — MD5, SHA-1 and SHA-256 values with a fast hex decoder
//!   (parsing costs more than looking up).
//! * [`record`] — a known-good file and its metadata; the policy record of
//!   the product.
//! * [`set`] — the purpose-built hash set: sorted fixed-width keys behind a
//!   bucket index, read from a memory map; built in one pass from sorted
//!   keys and merged with a sorted delta into a new file.
//! * [`generation`] — the on-disk life of the set files: generations named
//!   by the store sequence they reflect, an atomically replaced `CURRENT`
//!   pointer, validation on open (a crash in the middle of a merge leaves
//!   the previous generation in use).
//! * [`bloom`] — the DCSO Bloom filter file format that CIRCL distributes
//!   for offline checks (read by `poppy`, `flor` and the Go `bloom` tool).
//!
//! Everything here except [`generation`] and [`set::SetFile`] is pure.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod bloom;
pub mod generation;
pub mod hash;
pub mod record;
pub mod set;

pub use hash::{HashAlgo, HashError, HashValue, Md5, Sha1, Sha256};
pub use record::{cleanfile_record, CleanFile, Evidence, RecordError};

use thiserror::Error;

/// Errors of the set files and their generations.
#[derive(Debug, Error)]
pub enum SetError {
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a valid hash set file: {reason}")]
    Invalid {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("keys must be given in ascending order without repeats")]
    Unsorted,
}
