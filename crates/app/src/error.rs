use std::path::PathBuf;

use isx_domain::DomainError;
use isx_partnership::PartnershipError;
use isx_store::StoreError;
use thiserror::Error;

/// One problem in an input of several (a row of an import, a field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// JSON pointer into the input, e.g. `/constituency/cidrs/0` or
    /// `/line/12`.
    pub pointer: String,
    pub detail: String,
}

/// Why a use case did not complete. The server maps each kind to an HTTP
/// problem, the CLI to a message and a non-zero exit.
#[derive(Debug, Error)]
pub enum AppError {
    /// No credentials, or ones that name nobody.
    #[error("{0}")]
    Unauthorized(String),
    /// Known caller, not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// Absent — or hidden from this caller, which reads the same.
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The input cannot be read at all.
    #[error("{0}")]
    BadRequest(String),
    /// A value is wrong (where, if known).
    #[error("{detail}")]
    Validation {
        detail: String,
        pointer: Option<String>,
    },
    /// Several parts of one input are wrong, each with its pointer.
    #[error("{detail}")]
    Invalid {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Cannot be done now (busy, or the store cannot write).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Geo(#[from] isx_geo::GeoError),
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("feed signing key: {0}")]
    Signing(String),
    /// A fault of isx, not of the input (logged, never shown in detail).
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

impl AppError {
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }

    pub fn invalid(e: impl std::fmt::Display) -> Self {
        AppError::Validation {
            detail: e.to_string(),
            pointer: None,
        }
    }

    /// An error listing several problems, as (pointer, detail) pairs.
    pub fn with_errors(self, errors: Vec<(String, String)>) -> Self {
        AppError::Invalid {
            detail: self.to_string(),
            errors: errors
                .into_iter()
                .map(|(pointer, detail)| FieldError { pointer, detail })
                .collect(),
        }
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        AppError::invalid(e)
    }
}

impl From<PartnershipError> for AppError {
    fn from(e: PartnershipError) -> Self {
        match e {
            PartnershipError::Invalid { field, .. } => AppError::Validation {
                pointer: Some(format!("/{}", field.replace(' ', "_"))),
                detail: e.to_string(),
            },
            PartnershipError::UnconfirmedPii(ref found) => AppError::Invalid {
                detail: format!(
                    "{e}. Send each finding's text in pii.redact (replaced by a placeholder) or pii.keep (kept knowingly)."
                ),
                errors: found
                    .iter()
                    .map(|f| FieldError {
                        pointer: format!("/pii/{}", f.kind.as_str()),
                        detail: f.text.clone(),
                    })
                    .collect(),
            },
        }
    }
}
