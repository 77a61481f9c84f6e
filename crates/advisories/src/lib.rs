//! Advance vulnerability notices.
//!
//! A *release* is a package of *advisories* (one per CVE, or per other
//! vulnerability id, or an informational advisory) published at a
//! public release time T. Before T, members of the right tier see it early
//! (the advance windows of [`isx_policy::Embargo::advance_notice`]); the
//! decision is the policy function's, reached through [`release_record`].
//! Scores are always computed here from the vectors; a supplied score is
//! only compared.

mod advisory;
mod context;
mod cvss_score;
mod exploit;
mod release;

pub use advisory::{
    csaf_file_stem, Advisory, AdvisoryId, AdvisoryKind, AffectedProduct, CveId, Cwe, Faq,
    KevRecord, KnownExploited, OtherId, ProductStatus, Reference, Remediation, RemediationCategory,
    Revision,
};
pub use context::{EpssScore, Ssvc, SsvcExploitation, SsvcTechnicalImpact};
pub use cvss_score::{CvssV3, CvssV4, Severity};
pub use exploit::{ExploitIndex, Exploitability};
pub use release::{
    release_record, NewRelease, Release, ReleaseChange, ReleaseState, ReleaseStatus,
};

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AdvisoryError {
    #[error("invalid CVE id {0:?}: expected CVE-YYYY-NNNN (four or more digits)")]
    InvalidCve(String),
    #[error("invalid advisory id {0:?}: expected a CVE id or 1-128 letters, digits and -_.:+")]
    InvalidId(String),
    #[error("invalid CWE id {0:?}: expected CWE-<number>")]
    InvalidCwe(String),
    #[error("invalid CVSS vector {vector:?}: {reason}")]
    InvalidCvss { vector: String, reason: String },
    #[error("invalid exploitability {0:?}")]
    InvalidExploitability(String),
    #[error("{0}")]
    Invalid(String),
}
