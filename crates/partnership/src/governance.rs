//! Governance and privacy: confirming personal data before anything is
//! posted or shared, approvals for sharing wider than the group, retention,
//! and reporting duties.

use isx_domain::{GroupId, MemberId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::pii::{self, Finding};
use crate::{invalid, ContributionId, ContributionKind, NewContribution, PartnershipError};

/// The largest attachment an analysis takes.
pub const MAX_ATTACHMENT: usize = 5 * 1024 * 1024;

/// The contributor's answer to the PII detector: which findings (by their
/// text) to redact and which to keep knowingly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiiChoices {
    #[serde(default)]
    pub redact: Vec<String>,
    #[serde(default)]
    pub keep: Vec<String>,
}

/// Every finding of the PII detector in these texts, once per distinct
/// (kind, text).
pub fn findings_in<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<Finding> {
    let mut all: Vec<Finding> = texts.into_iter().flat_map(pii::find).collect();
    all.sort_by(|a, b| (a.kind, &a.text).cmp(&(b.kind, &b.text)));
    all.dedup_by(|a, b| a.kind == b.kind && a.text == b.text);
    all
}

/// Every finding of the PII detector in a contribution's texts.
pub fn findings(content: &NewContribution) -> Vec<Finding> {
    let texts = content.texts();
    findings_in(texts.iter().map(String::as_str))
}

/// Applies the contributor's choices to `texts`: every finding must be
/// either redacted or kept (otherwise `UnconfirmedPii` lists the open ones,
/// and nothing changes); redacted ones are replaced in every text. Returns
/// the findings that were kept, for the audit log.
pub fn confirm_pii(
    mut texts: Vec<&mut String>,
    choices: &PiiChoices,
) -> Result<Vec<Finding>, PartnershipError> {
    let found = findings_in(texts.iter().map(|t| t.as_str()));
    let open: Vec<Finding> = found
        .iter()
        .filter(|f| !choices.redact.contains(&f.text) && !choices.keep.contains(&f.text))
        .cloned()
        .collect();
    if !open.is_empty() {
        return Err(PartnershipError::UnconfirmedPii(open));
    }
    for t in texts.iter_mut() {
        **t = pii::redact(t, &choices.redact);
    }
    Ok(found
        .into_iter()
        .filter(|f| !choices.redact.contains(&f.text))
        .collect())
}

/// [`confirm_pii`] over every free text of a contribution.
pub fn check_pii_choices(
    content: &mut NewContribution,
    choices: &PiiChoices,
) -> Result<Vec<Finding>, PartnershipError> {
    confirm_pii(content.texts_mut(), choices)
}

/// The texts of an attachment's body the PII detector reads: the whole
/// body when it is UTF-8 or UTF-16 text (with its byte-order mark),
/// otherwise its runs of at least six printable ASCII characters, as bytes
/// and as UTF-16LE (what `strings` shows: the text of an uncompressed PDF,
/// office file or executable; compressed streams are not read).
pub fn attachment_texts(body: &[u8]) -> Vec<String> {
    if let Some(text) = as_text(body) {
        return vec![text.to_owned()];
    }
    // UTF-16 text (what Windows tools write), by its byte-order mark.
    let utf16 = |le: bool| {
        let units: Vec<u16> = body
            .get(2..)
            .unwrap_or_default()
            .chunks_exact(2)
            .map(|c| match c {
                [a, b] if le => u16::from_le_bytes([*a, *b]),
                [a, b] => u16::from_be_bytes([*a, *b]),
                _ => 0,
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    match body {
        [0xFF, 0xFE, ..] => return vec![utf16(true)],
        [0xFE, 0xFF, ..] => return vec![utf16(false)],
        _ => {}
    }
    let mut out = utf16_runs(body);
    let mut run = String::new();
    for &b in body {
        if b.is_ascii_graphic() || b == b' ' {
            run.push(char::from(b));
        } else {
            if run.len() >= 6 {
                out.push(std::mem::take(&mut run));
            }
            run.clear();
        }
    }
    if run.len() >= 6 {
        out.push(run);
    }
    out
}

/// The body as text: UTF-8 without NUL bytes (UTF-16 text is valid UTF-8
/// too when it is ASCII, but is not text to redact in).
fn as_text(body: &[u8]) -> Option<&str> {
    std::str::from_utf8(body).ok().filter(|t| !t.contains('\0'))
}

/// Runs of at least six printable ASCII characters stored as UTF-16LE
/// (each followed by a zero byte), as inside office files and executables.
fn utf16_runs(body: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for start in 0..2 {
        let mut run = String::new();
        for pair in body.get(start..).unwrap_or_default().chunks_exact(2) {
            match pair {
                [c, 0] if c.is_ascii_graphic() || *c == b' ' => run.push(char::from(*c)),
                _ => {
                    if run.len() >= 6 {
                        out.push(std::mem::take(&mut run));
                    }
                    run.clear();
                }
            }
        }
        if run.len() >= 6 {
            out.push(run);
        }
    }
    out
}

/// [`confirm_pii`] over an attachment: its name and its body. Every
/// finding must be redacted or kept; redaction rewrites the name and a
/// text body, but isx does not edit inside a binary file, so a finding to
/// redact there is refused with a message to remove it from the file.
pub fn review_attachment(
    name: &mut String,
    body: &mut Vec<u8>,
    choices: &PiiChoices,
) -> Result<Vec<Finding>, PartnershipError> {
    let text_body = as_text(body).is_some();
    let mut texts = attachment_texts(body);
    let mut all: Vec<&mut String> = vec![name];
    all.extend(texts.iter_mut());
    let kept = confirm_pii(all, choices)?;
    if text_body {
        if let Some(t) = texts.into_iter().next() {
            *body = t.into_bytes();
        }
    } else if attachment_texts(body)
        .iter()
        .flat_map(|t| pii::find(t))
        .any(|f| choices.redact.contains(&f.text))
    {
        return Err(invalid(
            "attachment",
            "isx cannot redact inside a file that is not text: remove the personal data from \
             the file and attach it again, or keep it knowingly",
        ));
    }
    Ok(kept)
}

/// Where a contribution is to be shared beyond its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", deny_unknown_fields)]
pub enum ShareTarget {
    /// Another trust group (a redacted copy is posted there).
    Group { group: GroupId },
    /// The malicious-URL product feed (URL indicators only).
    UrlFeed,
}

/// Where a share request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShareStatus {
    Pending,
    Approved,
    Rejected,
}

impl ShareStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ShareStatus::Pending => "pending",
            ShareStatus::Approved => "approved",
            ShareStatus::Rejected => "rejected",
        }
    }
}

/// A request to share a contribution wider than its group; only the owning
/// member (the contribution's author) can approve it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareRequest {
    pub id: i64,
    pub contribution: ContributionId,
    pub target: ShareTarget,
    pub requested_by: MemberId,
    pub requested_at: Timestamp,
    pub reason: String,
    pub status: ShareStatus,
    pub decided_at: Option<Timestamp>,
    /// The copy made in the target group, once approved.
    pub copy: Option<ContributionId>,
}

impl ShareRequest {
    /// Checks a new request for a contribution of `kind` posted to `from`.
    pub fn check_new(
        kind: ContributionKind,
        from: GroupId,
        target: ShareTarget,
        reason: &str,
    ) -> Result<(), PartnershipError> {
        crate::check_text("reason", reason, 2_000, false)?;
        match target {
            ShareTarget::Group { group } if group == from => Err(invalid(
                "target",
                "the contribution is already in that group",
            )),
            ShareTarget::UrlFeed if kind != ContributionKind::Indicator => Err(invalid(
                "target",
                "only URL indicators can go into the malicious-URL feed",
            )),
            _ => Ok(()),
        }
    }
}

/// A group's rules beyond membership: retention and reporting duties.
/// Unknown fields are refused: a misspelt rule must not reset the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRules {
    /// Contributions older than this many days (by last change) are deleted.
    pub retention_days: Option<u32>,
    /// Categories every member must report in each period.
    #[serde(default)]
    pub mandatory: Vec<ContributionKind>,
    /// The reporting period, in days.
    #[serde(default = "default_period")]
    pub report_period_days: u32,
}

fn default_period() -> u32 {
    30
}

impl GroupRules {
    pub fn checked(mut self) -> Result<GroupRules, PartnershipError> {
        if self.retention_days.is_some_and(|d| d == 0 || d > 36_500) {
            return Err(invalid("retention_days", "must be between 1 and 36500"));
        }
        if self.report_period_days == 0 || self.report_period_days > 3_650 {
            return Err(invalid("report_period_days", "must be between 1 and 3650"));
        }
        self.mandatory.sort();
        self.mandatory.dedup();
        Ok(self)
    }

    /// The instant before which contributions are past retention.
    pub fn retention_cutoff(&self, now: Timestamp) -> Option<Timestamp> {
        self.retention_days
            .map(|d| now.add_secs(-i64::from(d) * 86_400))
    }
}

/// Whether a member has reported in each mandatory category this period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportingStatus {
    pub member: MemberId,
    pub category: ContributionKind,
    /// The newest contribution of that category in the period.
    pub last_reported: Option<Timestamp>,
    pub reported: bool,
}

/// Reporting status of `members` for the group's mandatory categories,
/// from `(author, kind, created_at)` of the group's contributions.
pub fn reporting(
    rules: &GroupRules,
    members: &[MemberId],
    contributions: &[(MemberId, ContributionKind, Timestamp)],
    now: Timestamp,
) -> Vec<ReportingStatus> {
    let since = now.add_secs(-i64::from(rules.report_period_days) * 86_400);
    let mut out = Vec::new();
    for m in members {
        for cat in &rules.mandatory {
            let last = contributions
                .iter()
                .filter(|(a, k, at)| a == m && k == cat && *at >= since && *at <= now)
                .map(|(_, _, at)| *at)
                .max();
            out.push(ReportingStatus {
                member: *m,
                category: *cat,
                last_reported: last,
                reported: last.is_some(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Details, IncidentStatus};
    use isx_domain::Tlp;

    fn content(description: &str) -> NewContribution {
        NewContribution {
            title: "Phishing wave".into(),
            description: description.into(),
            marking: Tlp::Green,
            anonymous: false,
            details: Details::Incident {
                information_lost: String::new(),
                techniques: vec![],
                intent: String::new(),
                impact: crate::contribution::Impact::Low,
                sector: String::new(),
                status: IncidentStatus::Open,
                timeline: vec![],
            },
        }
    }

    #[test]
    fn every_finding_must_be_decided() {
        let mut c = content("Victim bob@corp.example clicked; lure from 203.0.113.9.");
        let err = check_pii_choices(&mut c, &PiiChoices::default()).unwrap_err();
        assert!(matches!(&err, PartnershipError::UnconfirmedPii(f) if f.len() == 2));
        assert_eq!(
            c.description, "Victim bob@corp.example clicked; lure from 203.0.113.9.",
            "nothing changes on refusal"
        );
        let kept = check_pii_choices(
            &mut c,
            &PiiChoices {
                redact: vec!["bob@corp.example".into()],
                keep: vec!["203.0.113.9".into()],
            },
        )
        .unwrap();
        assert_eq!(
            c.description,
            "Victim [redacted e-mail] clicked; lure from 203.0.113.9."
        );
        assert_eq!(kept.len(), 1);
        assert!(check_pii_choices(
            &mut c,
            &PiiChoices {
                keep: vec!["203.0.113.9".into()],
                ..Default::default()
            }
        )
        .is_ok());
    }

    #[test]
    fn share_targets() {
        let g = GroupId(1);
        assert!(ShareRequest::check_new(
            ContributionKind::Incident,
            g,
            ShareTarget::Group { group: g },
            ""
        )
        .is_err());
        assert!(
            ShareRequest::check_new(ContributionKind::Incident, g, ShareTarget::UrlFeed, "")
                .is_err()
        );
        assert!(
            ShareRequest::check_new(ContributionKind::Indicator, g, ShareTarget::UrlFeed, "")
                .is_ok()
        );
        assert!(ShareRequest::check_new(
            ContributionKind::Incident,
            g,
            ShareTarget::Group { group: GroupId(2) },
            ""
        )
        .is_ok());
    }

    #[test]
    fn reporting_period() {
        let rules = GroupRules {
            retention_days: Some(90),
            mandatory: vec![ContributionKind::Incident],
            report_period_days: 30,
        }
        .checked()
        .unwrap();
        let now = Timestamp::from_secs(100 * 86_400);
        let a = MemberId(1);
        let b = MemberId(2);
        let rows = [
            (a, ContributionKind::Incident, now.add_secs(-5 * 86_400)),
            (b, ContributionKind::Incident, now.add_secs(-40 * 86_400)),
            (b, ContributionKind::Sighting, now.add_secs(-1)),
        ];
        let r = reporting(&rules, &[a, b], &rows, now);
        assert_eq!(
            r.iter().map(|s| s.reported).collect::<Vec<_>>(),
            vec![true, false]
        );
        assert_eq!(
            rules.retention_cutoff(now),
            Some(now.add_secs(-90 * 86_400))
        );
        assert!(GroupRules {
            retention_days: Some(0),
            ..Default::default()
        }
        .checked()
        .is_err());
    }

    #[test]
    fn an_incident_sector_is_reviewed() {
        let mut c = content("Nothing personal.");
        if let Details::Incident { sector, .. } = &mut c.details {
            *sector = "energy (ask jan.jansen@example.nl)".into();
        }
        let found = findings(&c);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].text, "jan.jansen@example.nl");
    }

    #[test]
    fn attachment_names_and_bodies_are_reviewed() {
        let choices = |redact: &[&str], keep: &[&str]| PiiChoices {
            redact: redact.iter().map(|s| s.to_string()).collect(),
            keep: keep.iter().map(|s| s.to_string()).collect(),
        };
        // A text body: findings in the name and the body must be answered.
        let mut name = "piet@example.org notes.txt".to_owned();
        let mut body = b"Call back: anna.smit@example.nl, host 198.51.100.9".to_vec();
        let err = review_attachment(&mut name, &mut body, &PiiChoices::default()).unwrap_err();
        assert!(
            matches!(&err, PartnershipError::UnconfirmedPii(f) if f.len() == 3),
            "{err:?}"
        );
        review_attachment(
            &mut name,
            &mut body,
            &choices(
                &["piet@example.org", "anna.smit@example.nl"],
                &["198.51.100.9"],
            ),
        )
        .unwrap();
        assert!(!name.contains("piet@") && !String::from_utf8_lossy(&body).contains("anna.smit"));
        assert!(String::from_utf8_lossy(&body).contains("198.51.100.9"));

        // A binary body: its text runs are read; redacting inside it is refused.
        let mut pdf = b"%PDF-1.4\n\x00\x01(Contact: anna.smit@example.nl)\xff\xfe".to_vec();
        let mut name = "report.pdf".to_owned();
        let err = review_attachment(&mut name, &mut pdf, &PiiChoices::default()).unwrap_err();
        assert!(
            matches!(err, PartnershipError::UnconfirmedPii(_)),
            "{err:?}"
        );
        let err = review_attachment(
            &mut name,
            &mut pdf,
            &choices(&["anna.smit@example.nl"], &[]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("cannot redact inside"), "{err}");
        // UTF-16 text, with or without its byte-order mark.
        let mut u16 = vec![0xFF, 0xFE];
        u16.extend(
            "mail jane.doe@victim.example"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        let err = review_attachment(&mut "a.txt".to_owned(), &mut u16, &PiiChoices::default());
        assert!(
            matches!(err, Err(PartnershipError::UnconfirmedPii(_))),
            "{err:?}"
        );
        let mut bare: Vec<u8> = vec![0, 1, 2];
        bare.extend(
            "mail jane.doe@victim.example"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        let err = review_attachment(&mut "a.bin".to_owned(), &mut bare, &PiiChoices::default());
        assert!(
            matches!(err, Err(PartnershipError::UnconfirmedPii(_))),
            "{err:?}"
        );
        let before = pdf.clone();
        review_attachment(
            &mut name,
            &mut pdf,
            &choices(&[], &["anna.smit@example.nl"]),
        )
        .unwrap();
        assert_eq!(pdf, before, "a kept binary is stored as it is");
    }
}
