//! The situational-awareness view: activity over time, top techniques and
//! sectors, open incidents — of one group or of every group (operator).

use std::collections::BTreeMap;

use isx_domain::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{Contribution, ContributionKind, Details};

/// Contributions of one kind made on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub kind: ContributionKind,
    pub count: u64,
}

/// The executive view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub days: u32,
    pub total: u64,
    pub activity: Vec<DayCount>,
    pub by_kind: Vec<(ContributionKind, u64)>,
    pub top_techniques: Vec<(String, u64)>,
    pub top_sectors: Vec<(String, u64)>,
    pub open_incidents: u64,
}

fn top(counts: BTreeMap<String, u64>, n: usize) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

/// The dashboard over `contributions` (those the viewer may see) for the
/// `days` days up to `now`. Open incidents are counted whenever created.
pub fn dashboard(contributions: &[&Contribution], days: u32, now: Timestamp) -> Dashboard {
    let since = now.add_secs(-i64::from(days) * 86_400);
    let mut activity: BTreeMap<(String, ContributionKind), u64> = BTreeMap::new();
    let mut kinds: BTreeMap<ContributionKind, u64> = BTreeMap::new();
    let mut techniques = BTreeMap::new();
    let mut sectors = BTreeMap::new();
    let mut d = Dashboard {
        days,
        ..Dashboard::default()
    };
    for c in contributions {
        if c.is_open_incident() {
            d.open_incidents += 1;
        }
        if c.created_at < since || c.created_at > now {
            continue;
        }
        d.total += 1;
        let day = c.created_at.to_rfc3339()[..10].to_owned();
        *activity.entry((day, c.kind())).or_default() += 1;
        *kinds.entry(c.kind()).or_default() += 1;
        for t in c.content.details.techniques() {
            *techniques.entry(t.clone()).or_default() += 1;
        }
        if let Details::Incident { sector, .. } = &c.content.details {
            if !sector.is_empty() {
                *sectors.entry(sector.clone()).or_default() += 1;
            }
        }
    }
    d.activity = activity
        .into_iter()
        .map(|((day, kind), count)| DayCount { day, kind, count })
        .collect();
    d.by_kind = kinds.into_iter().collect();
    d.top_techniques = top(techniques, 10);
    d.top_sectors = top(sectors, 10);
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contribution::Impact;
    use crate::{ContributionId, IncidentStatus, NewContribution};
    use isx_domain::{GroupId, MemberId, Tlp};

    fn incident(
        id: i64,
        at: Timestamp,
        status: IncidentStatus,
        sector: &str,
        techniques: &[&str],
    ) -> Contribution {
        Contribution {
            id: ContributionId(id),
            group: GroupId(1),
            author: MemberId(1),
            content: NewContribution {
                title: "t".into(),
                description: String::new(),
                marking: Tlp::Green,
                anonymous: false,
                details: Details::Incident {
                    information_lost: String::new(),
                    techniques: techniques.iter().map(|t| t.to_string()).collect(),
                    intent: String::new(),
                    impact: Impact::Low,
                    sector: sector.into(),
                    status,
                    timeline: vec![],
                },
            },
            version: 1,
            created_at: at,
            updated_at: at,
            origin: None,
            stix_id: String::new(),
        }
    }

    #[test]
    fn counts_the_window() {
        let now = Timestamp::parse("2026-11-29T12:00:00Z").unwrap();
        let all = [
            incident(
                1,
                now.add_secs(-3600),
                IncidentStatus::Open,
                "energy",
                &["T1486", "T1566"],
            ),
            incident(
                2,
                now.add_secs(-86_400),
                IncidentStatus::Resolved,
                "energy",
                &["T1486"],
            ),
            incident(
                3,
                now.add_secs(-40 * 86_400),
                IncidentStatus::Open,
                "health",
                &["T1190"],
            ),
        ];
        let refs: Vec<&Contribution> = all.iter().collect();
        let d = dashboard(&refs, 30, now);
        assert_eq!(d.total, 2);
        assert_eq!(d.open_incidents, 2);
        assert_eq!(
            d.top_techniques,
            vec![("T1486".into(), 2), ("T1566".into(), 1)]
        );
        assert_eq!(d.top_sectors, vec![("energy".into(), 2)]);
        assert_eq!(d.activity.len(), 2);
        assert_eq!(d.activity[1].day, "2026-11-29");
    }
}
