//! Release packages and their embargo.

use isx_domain::{Timestamp, Tlp};
use isx_policy::{Embargo, RecordMeta};
use serde::{Deserialize, Serialize};

use crate::{AdvisoryError, Revision};

/// What the operator has decided about a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseStatus {
    /// Being prepared: only the operator sees it.
    Draft,
    /// Will be public at `release_at`; advance windows open before.
    Scheduled,
    /// Pulled: only the operator sees it.
    Withdrawn,
}

impl ReleaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseStatus::Draft => "draft",
            ReleaseStatus::Scheduled => "scheduled",
            ReleaseStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Result<Self, AdvisoryError> {
        match s.trim() {
            "draft" => Ok(ReleaseStatus::Draft),
            "scheduled" => Ok(ReleaseStatus::Scheduled),
            "withdrawn" => Ok(ReleaseStatus::Withdrawn),
            other => Err(AdvisoryError::Invalid(format!(
                "unknown release status {other:?}: expected draft, scheduled or withdrawn"
            ))),
        }
    }
}

/// Where a release stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseState {
    Draft,
    Scheduled,
    Released,
    Withdrawn,
}

impl ReleaseState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseState::Draft => "draft",
            ReleaseState::Scheduled => "scheduled",
            ReleaseState::Released => "released",
            ReleaseState::Withdrawn => "withdrawn",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub id: i64,
    pub title: String,
    pub release_at: Timestamp,
    pub notes: String,
    pub status: ReleaseStatus,
    pub marking: Tlp,
    pub revisions: Vec<Revision>,
    pub created_at: Timestamp,
}

/// A change to a release: each field given replaces the release's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseChange {
    pub status: Option<ReleaseStatus>,
    pub release_at: Option<Timestamp>,
    pub title: Option<String>,
    pub notes: Option<String>,
}

impl Release {
    /// Whether its advisories go out on the distribution channels (the CSAF
    /// provider, TAXII, notifications): a scheduled release only. A draft
    /// or a withdrawn one stays in the operator's own views (API, web).
    pub fn is_published(&self) -> bool {
        self.status == ReleaseStatus::Scheduled
    }

    /// The TLP label its documents carry at `now`: before the release
    /// time at least TLP:AMBER (an advance notice may not go beyond the
    /// recipient's organisation, whatever the release's own marking is),
    /// after it the release's marking.
    pub fn label_at(&self, now: Timestamp) -> Tlp {
        if now < self.release_at {
            self.marking.max(Tlp::Amber)
        } else {
            self.marking
        }
    }

    /// Applies `change` and records it as the next revision, dated `now`,
    /// with `summary` saying what changed (which it must). The one rule of
    /// release revisions, for every channel (API, web, CLI).
    pub fn revise(
        &mut self,
        change: ReleaseChange,
        summary: &str,
        now: Timestamp,
    ) -> Result<(), AdvisoryError> {
        let summary = summary.trim();
        if summary.is_empty() {
            return Err(AdvisoryError::Invalid(
                "say what changed: the summary must not be empty".into(),
            ));
        }
        if let Some(s) = change.status {
            self.status = s;
        }
        if let Some(t) = change.release_at {
            self.release_at = t;
        }
        if let Some(t) = change.title {
            self.title = t;
        }
        if let Some(n) = change.notes {
            self.notes = n;
        }
        let number = self.revisions.last().map_or(1, |x| x.number + 1);
        self.revisions.push(Revision {
            number,
            date: now,
            summary: summary.to_owned(),
            exploitability_only: false,
            label: None,
        });
        Ok(())
    }

    /// Refuses a document whose own marking is stricter than the release's:
    /// its advisories would be served under the release's weaker marking.
    /// The strictest marking wins, so the operator either raises the
    /// release's marking or imports into a release marked at least as
    /// strictly. A document without a marking adopts the release's.
    pub fn admits(&self, document: Option<Tlp>) -> Result<(), AdvisoryError> {
        match document {
            Some(tlp) if tlp > self.marking => Err(AdvisoryError::Invalid(format!(
                "the document is marked {}, stricter than release {} ({}): raise the release's \
                 marking or import it into a release marked {} or stricter",
                tlp.label(),
                self.id,
                self.marking.label(),
                tlp.label()
            ))),
            _ => Ok(()),
        }
    }

    pub fn state(&self, now: Timestamp) -> ReleaseState {
        match self.status {
            ReleaseStatus::Draft => ReleaseState::Draft,
            ReleaseStatus::Withdrawn => ReleaseState::Withdrawn,
            ReleaseStatus::Scheduled if now >= self.release_at => ReleaseState::Released,
            ReleaseStatus::Scheduled => ReleaseState::Scheduled,
        }
    }
}

/// What it takes to create a release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRelease {
    pub title: String,
    pub release_at: Timestamp,
    #[serde(default)]
    pub notes: String,
    #[serde(default = "draft")]
    pub status: ReleaseStatus,
    #[serde(default = "green")]
    pub marking: Tlp,
}

fn draft() -> ReleaseStatus {
    ReleaseStatus::Draft
}

fn green() -> Tlp {
    Tlp::Green
}

impl NewRelease {
    pub fn validate(&self) -> Result<(), AdvisoryError> {
        let t = self.title.trim();
        if t.is_empty() || t.chars().count() > 200 {
            return Err(AdvisoryError::Invalid(
                "release title must be 1 to 200 characters".into(),
            ));
        }
        Ok(())
    }
}

/// The policy metadata of a release and everything in it (its advisories,
/// tables, exports and notifications): drafts and withdrawn releases are the
/// operator's; a scheduled release is for every member, under the advance-
/// notice embargo until its release time.
pub fn release_record(r: &Release) -> RecordMeta {
    match r.status {
        ReleaseStatus::Draft | ReleaseStatus::Withdrawn => RecordMeta::operator_only(),
        ReleaseStatus::Scheduled => RecordMeta {
            embargo: Some(Embargo::advance_notice(r.release_at)),
            ..RecordMeta::everyone(r.marking)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use isx_domain::{Clearance, MemberId, Tier};
    use isx_policy::{decide, FieldMask, Principal};

    #[test]
    fn advance_notices_are_labelled_amber_at_least_until_release() {
        let t = Timestamp::from_secs(1_900_000_000);
        let mut r = Release {
            id: 1,
            title: "November".into(),
            release_at: t,
            notes: String::new(),
            status: ReleaseStatus::Scheduled,
            marking: Tlp::Clear,
            revisions: vec![],
            created_at: t.add_secs(-30 * 86_400),
        };
        assert_eq!(r.label_at(t.add_secs(-1)), Tlp::Amber);
        assert_eq!(r.label_at(t), Tlp::Clear);
        r.marking = Tlp::Red;
        assert_eq!(r.label_at(t.add_secs(-1)), Tlp::Red);
        assert_eq!(r.label_at(t), Tlp::Red);
    }

    #[test]
    fn drafts_are_the_operators_and_scheduled_releases_follow_the_windows() {
        let t = Timestamp::from_secs(1_900_000_000);
        let mut r = Release {
            id: 1,
            title: "November".into(),
            release_at: t,
            notes: String::new(),
            status: ReleaseStatus::Draft,
            marking: Tlp::Green,
            revisions: vec![],
            created_at: t.add_secs(-30 * 86_400),
        };
        let m5 = Principal::member(MemberId(1), false, Tier::Advance5d, Clearance::None, vec![]);
        let m24 = Principal::member(
            MemberId(2),
            false,
            Tier::Advance24h,
            Clearance::None,
            vec![],
        );
        assert!(
            !decide(&m24, &release_record(&r), t.add_secs(10)).is_allowed(),
            "a draft stays hidden even after T"
        );
        r.status = ReleaseStatus::Scheduled;
        let at = |s| t.add_secs(s);
        assert_eq!(
            decide(&m5, &release_record(&r), at(-5 * 86_400)).mask(),
            Some(FieldMask::EXPLOITABILITY)
        );
        assert_eq!(
            decide(&m24, &release_record(&r), at(-86_400)).mask(),
            Some(FieldMask::NONE)
        );
        assert_eq!(r.state(at(-1)), ReleaseState::Scheduled);
        assert_eq!(r.state(t), ReleaseState::Released);
        r.status = ReleaseStatus::Withdrawn;
        assert!(!decide(&m5, &release_record(&r), at(86_400)).is_allowed());
    }

    #[test]
    fn a_revision_applies_the_change_and_says_what_changed() {
        let t = Timestamp::from_secs(1_900_000_000);
        let mut r = Release {
            id: 1,
            title: "November".into(),
            release_at: t,
            notes: String::new(),
            status: ReleaseStatus::Draft,
            marking: Tlp::Green,
            revisions: vec![],
            created_at: t,
        };
        let change = ReleaseChange {
            status: Some(ReleaseStatus::Scheduled),
            release_at: Some(t.add_secs(86_400)),
            ..Default::default()
        };
        assert!(
            r.revise(change.clone(), "  ", t).is_err(),
            "a summary is needed"
        );
        assert_eq!(
            (r.status, r.revisions.len()),
            (ReleaseStatus::Draft, 0),
            "and nothing changed"
        );
        r.revise(change, "scheduled a day later", t).unwrap();
        r.revise(ReleaseChange::default(), "notes", t.add_secs(5))
            .unwrap();
        assert_eq!(r.status, ReleaseStatus::Scheduled);
        assert_eq!(r.release_at, t.add_secs(86_400));
        let numbers: Vec<u32> = r.revisions.iter().map(|v| v.number).collect();
        assert_eq!(numbers, [1, 2]);
    }
}
