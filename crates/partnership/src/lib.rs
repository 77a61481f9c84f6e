//! Partnership: what members share with each other inside trust groups.
//!
//! - [`contribution`]: incidents, sightings, indicators, mitigations and
//!   strategic analyses, each with a TLP marking, optionally anonymous to the
//!   group; edits keep every earlier version.
//! - [`discussion`]: threaded comments on a contribution.
//! - [`governance`]: sharing a contribution wider than its group needs the
//!   owning member's approval; [`pii`] finds personal data the contributor
//!   must redact or knowingly keep before anything is posted or shared;
//!   retention periods; reporting duties (mandatory categories).
//! - [`dashboard`]: the situational-awareness view of a group or of the
//!   whole instance.
//!
//! Pure: no I/O and no clock reads (instants are passed in). Who may read
//! a contribution is decided by `isx_policy::decide` with the metadata the
//! server builds; nothing here judges visibility.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod attack;
pub mod contribution;
pub mod dashboard;
pub mod discussion;
pub mod governance;
pub mod pii;

pub use contribution::{
    Attachment, Contribution, ContributionId, ContributionKind, Details, Impact, IncidentStatus,
    IndicatorType, NewContribution, TimelineEntry, Version,
};
pub use dashboard::{Dashboard, DayCount};
pub use discussion::{Comment, NewComment};
pub use governance::{
    check_pii_choices, confirm_pii, findings, findings_in, reporting, GroupRules, PiiChoices,
    ReportingStatus, ShareRequest, ShareStatus, ShareTarget,
};
pub use pii::{Finding, FindingKind};

/// What is wrong with a contribution, a comment or a share request. The
/// messages say how to fix the input.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PartnershipError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("personal data found that is neither redacted nor kept: {}", list(.0))]
    UnconfirmedPii(Vec<Finding>),
}

fn list(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("{} \"{}\"", f.kind.as_str(), f.text))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> PartnershipError {
    PartnershipError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// Checks a free text: at most `max` bytes, no control characters other
/// than newlines and tabs.
pub(crate) fn check_text(
    field: &'static str,
    text: &str,
    max: usize,
    required: bool,
) -> Result<(), PartnershipError> {
    if required && text.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if text.len() > max {
        return Err(invalid(field, format!("must be at most {max} bytes")));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(())
}
