//! Wire formats: the only crate that knows CSAF's, KEV's and the CSV
//! tables' shapes. Parsers report the JSON pointer (or line) of a problem.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod botnet;
pub mod cleanfiles;
pub mod csaf;
pub mod cve5;
pub mod epss;
pub mod feed;
pub mod kev;
pub mod misp;
pub mod misp_read;
pub mod oidc;
pub mod openpgp;
pub mod partnership;
pub mod rows;
pub mod stix;
pub mod table;
pub mod urls;
pub mod vulnerability;

use thiserror::Error;

/// One CSV line (RFC 4180 quoting, CRLF), as every CSV isx writes.
pub fn csv_row<S: AsRef<str>>(cells: &[S]) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = feed::write_csv_row(&mut out, cells.iter().map(AsRef::as_ref));
    String::from_utf8(out).unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FormatError {
    #[error("not JSON: {0}")]
    Json(String),
    /// The document breaks its JSON schema; `pointer` says where.
    #[error("{pointer}: {message}")]
    Schema { pointer: String, message: String },
    /// The document is schema-valid but isx cannot use a value in it.
    #[error("{pointer}: {message}")]
    Value { pointer: String, message: String },
    /// The document fails mandatory tests of CSAF 2.0 (§6.1): every
    /// finding, each with its test number and pointer.
    #[error("not a valid CSAF 2.0 document: {}", findings(.0))]
    Csaf(Vec<csaf::Finding>),
}

fn findings(f: &[csaf::Finding]) -> String {
    f.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl FormatError {
    pub fn pointer(&self) -> Option<&str> {
        match self {
            FormatError::Json(_) => None,
            FormatError::Schema { pointer, .. } | FormatError::Value { pointer, .. } => {
                Some(pointer)
            }
            FormatError::Csaf(f) => f.first().map(|f| f.pointer.as_str()),
        }
    }

    pub(crate) fn value(pointer: impl Into<String>, message: impl std::fmt::Display) -> Self {
        FormatError::Value {
            pointer: pointer.into(),
            message: message.to_string(),
        }
    }
}
