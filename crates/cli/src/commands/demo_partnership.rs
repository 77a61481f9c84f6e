//! Demo partnership: thirty days of what members share in the two demo
//! trust groups — incidents (sectors, ATT&CK techniques, timelines),
//! sightings, indicators, mitigations and an analysis with an attached
//! report — some anonymous, some discussed, one edited; reporting duties
//! and retention on the ISAC; a share request waiting for the CERT's
//! approval. Fixed seed: every demo looks the same.

use isx_app::partnership::{store_comment, store_edit, store_new};
use isx_domain::{MemberId, Timestamp, Tlp, TrustGroup};
use isx_partnership::{
    Contribution, ContributionKind, Details, GroupRules, Impact, IncidentStatus, IndicatorType,
    NewComment, NewContribution, ShareTarget, TimelineEntry,
};

use super::demo_urls::Rng;
use super::Ctx;

/// A trust group and the members who post in it.
pub(super) struct Forum {
    pub(super) group: TrustGroup,
    /// Drawn from in this order, so the order is part of the fixed seed.
    pub(super) authors: Vec<MemberId>,
}

/// How much a group posts and which sectors its incidents are in.
struct Plan {
    posts: u64,
    sectors: &'static [&'static str],
}

/// The ISAC's members run grids, water and transport.
const ISAC_PLAN: Plan = Plan {
    posts: 40,
    sectors: &["energy", "water", "transport"],
};
/// The ransomware wave reaches every sector.
const WAVE_PLAN: Plan = Plan {
    posts: 18,
    sectors: &[
        "energy",
        "water",
        "transport",
        "finance",
        "health",
        "telecom",
    ],
};

const SEED: u64 = 0x15a_c0de;

/// Amber twice: most of what members share is for their organisations.
const MARKINGS: &[Tlp] = &[Tlp::Green, Tlp::Amber, Tlp::Amber, Tlp::AmberStrict];
const TECHNIQUES: &[&str] = &[
    "T1566.001",
    "T1566.002",
    "T1486",
    "T1190",
    "T1078",
    "T1133",
    "T1059.001",
    "T1021.001",
    "T1490",
    "T1041",
    "T1105",
    "T1595.002",
];
const STATUSES: &[IncidentStatus] = &[
    IncidentStatus::Open,
    IncidentStatus::Contained,
    IncidentStatus::Resolved,
];
const IMPACTS: &[Impact] = &[Impact::Low, Impact::Moderate, Impact::High, Impact::Severe];
const LOCATIONS: &[&str] = &["OT network", "office network", "DMZ"];

struct IncidentSpec {
    title: &'static str,
    description: &'static str,
    intent: &'static str,
    information_lost: &'static str,
}

const INCIDENTS: &[IncidentSpec] = &[
    IncidentSpec {
        title: "Ransomware on SCADA historian servers",
        description: "Historians encrypted overnight; operations continued on manual control.",
        intent: "extortion",
        information_lost: "",
    },
    IncidentSpec {
        title: "Credential phishing against control-room staff",
        description:
            "Lure imitating the grid operator's HR portal; three accounts entered credentials.",
        intent: "access for later intrusion",
        information_lost: "",
    },
    IncidentSpec {
        title: "VPN appliance exploited before patch",
        description: "Exploitation of the remote-access gateway two days after the advisory.",
        intent: "initial access",
        information_lost: "",
    },
    IncidentSpec {
        title: "Data theft from an engineering file share",
        description: "About 4 GB of network diagrams left over HTTPS to a cloud storage host.",
        intent: "espionage",
        information_lost: "network diagrams",
    },
    IncidentSpec {
        title: "Wiper on billing servers",
        description: "Billing database and backups destroyed; restore from offline copies.",
        intent: "disruption",
        information_lost: "",
    },
    IncidentSpec {
        title: "Business e-mail compromise at a supplier",
        description: "Invoice redirection attempt through a compromised supplier mailbox.",
        intent: "fraud",
        information_lost: "",
    },
];

/// Seconds before the report to the group, and what happened then.
const TIMELINE: &[(i64, &str)] = &[
    (-7_200, "first alert in the SOC"),
    (0, "reported to the group"),
];

struct MitigationSpec {
    title: &'static str,
    description: &'static str,
    technique: &'static str,
}

const MITIGATIONS: &[MitigationSpec] = &[
    MitigationSpec {
        title: "Block macro execution from internet mail",
        description: "Group policy that blocks Office macros in files from the internet zone.",
        technique: "T1566.001",
    },
    MitigationSpec {
        title: "Offline, tested backups of historians",
        description: "Weekly offline copies with a restore test each month.",
        technique: "T1490",
    },
    MitigationSpec {
        title: "Patch and monitor remote-access gateways",
        description: "Emergency patching window of 48 hours and log forwarding of VPN events.",
        technique: "T1190",
    },
];

const ANALYSIS_TITLE: &str = "Quarterly threat picture for the sector";
const ANALYSIS_TEXT: &str = "Ransomware remains the main disruptive threat; initial access moves from phishing to edge devices.";
const REPORT: &[u8] = b"Quarterly threat picture (demo)\n\n1. Ransomware\n2. Edge-device exploitation\n3. Supplier compromise\n";

/// The two comments on each of the first incidents: someone else saw it,
/// the author asks back (as anonymously as they posted).
const FIRST_COMMENT: &str = "Seen the same pattern at two other operators this week.";
const REPLY: &str = "Thanks — do you have the sender domains?";
/// How many incidents, the first ones posted, get such a thread.
const DISCUSSED: usize = 6;
const EDIT_NOTE: &str = "\n\nUpdate: contained by isolating the affected segment.";
const SHARE_REASON: &str = "Same campaign: the ransomware group should see it.";

/// The ISAC's reporting duty and retention.
fn isac_rules() -> GroupRules {
    GroupRules {
        retention_days: Some(365),
        mandatory: vec![ContributionKind::Incident],
        report_period_days: 30,
    }
}

type Posted = Vec<(TrustGroup, Contribution)>;

/// What one contribution says before its marking and author are attached.
struct Draft {
    title: String,
    description: String,
    details: Details,
}

fn at(now: Timestamp, days_ago: u64, rng: &mut Rng) -> Timestamp {
    now.add_secs(-(days_ago as i64) * 86_400 - rng.below(80_000) as i64)
}

/// Seeds the contributions; `isac` is the formal ISAC, `wave` the ad hoc
/// ransomware group (hidden member list); `cert` the national CERT, who
/// comments and decides on the share request; `instance` the instance's
/// STIX identity id.
pub async fn seed(
    ctx: &Ctx,
    instance: &str,
    isac: &Forum,
    wave: &Forum,
    cert: MemberId,
) -> anyhow::Result<()> {
    let s = ctx.store.as_ref();
    let now = ctx.clock.now();
    let posted = post(s, instance, [(isac, &ISAC_PLAN), (wave, &WAVE_PLAN)], now).await?;
    discuss(s, &posted, cert).await?;
    edit_an_open_incident(s, instance, &posted).await?;
    attach_report(s, &posted).await?;
    s.put_group_rules(isac.group.id, &isac_rules().checked()?)
        .await?;
    request_share(s, &posted, isac, wave, cert, now).await
}

/// Posts every group's plan in turn, all drawn from one generator.
async fn post(
    s: &dyn isx_store::Store,
    instance: &str,
    plans: [(&Forum, &Plan); 2],
    now: Timestamp,
) -> anyhow::Result<Posted> {
    let mut rng = Rng(SEED);
    let mut posted = Vec::new();
    for (forum, plan) in plans {
        for i in 0..plan.posts {
            let when = at(now, rng.below(30), &mut rng);
            let author = *rng.pick(&forum.authors);
            let anonymous = rng.below(5) == 0;
            let marking = *rng.pick(MARKINGS);
            let draft = draw(i, plan, when, now, &mut rng);
            let content = NewContribution {
                title: draft.title,
                description: draft.description,
                marking,
                anonymous,
                details: draft.details,
            }
            .checked()?;
            let c = store_new(s, instance, &forum.group, author, content, None, when).await?;
            posted.push((forum.group.clone(), c));
        }
    }
    Ok(posted)
}

/// Of every five posts two are incidents, one a sighting, one an
/// indicator, and the fifth alternates between a mitigation and an analysis.
fn draw(i: u64, plan: &Plan, when: Timestamp, now: Timestamp, rng: &mut Rng) -> Draft {
    match i % 5 {
        0 | 1 => incident(plan.sectors, when, rng),
        2 => sighting(when, rng),
        3 => indicator(now, rng),
        _ if i % 10 == 4 => mitigation(rng),
        _ => Draft {
            title: ANALYSIS_TITLE.to_owned(),
            description: ANALYSIS_TEXT.to_owned(),
            details: Details::Analysis {},
        },
    }
}

fn incident(sectors: &[&str], when: Timestamp, rng: &mut Rng) -> Draft {
    let spec = rng.pick(INCIDENTS);
    let techniques = (0..1 + rng.below(3))
        .map(|_| rng.pick(TECHNIQUES).to_string())
        .collect();
    let status = *rng.pick(STATUSES);
    let sector = *rng.pick(sectors);
    let impact = *rng.pick(IMPACTS);
    let timeline = TIMELINE
        .iter()
        .map(|(offset, text)| TimelineEntry {
            at: when.add_secs(*offset),
            text: (*text).into(),
        })
        .collect();
    Draft {
        title: spec.title.to_owned(),
        description: spec.description.to_owned(),
        details: Details::Incident {
            information_lost: spec.information_lost.into(),
            techniques,
            intent: spec.intent.into(),
            impact,
            sector: sector.into(),
            status,
            timeline,
        },
    }
}

fn sighting(when: Timestamp, rng: &mut Rng) -> Draft {
    let value = format!("198.18.{}.{}", rng.below(4), 1 + rng.below(250));
    let count = 1 + rng.below(40) as u32;
    Draft {
        title: "Beaconing to a known C2 address".to_owned(),
        description: "Seen from workstations in the office network.".to_owned(),
        details: Details::Sighting {
            indicator_type: IndicatorType::Ipv4,
            value,
            count,
            first_seen: when.add_secs(-86_400),
            last_seen: when,
            location: rng.pick(LOCATIONS).to_string(),
        },
    }
}

fn indicator(now: Timestamp, rng: &mut Rng) -> Draft {
    let (t, v) = match rng.below(3) {
        0 => (
            IndicatorType::Domain,
            format!("update-{}.grid-portal.test", rng.below(90)),
        ),
        1 => (
            IndicatorType::Url,
            format!("https://hr-portal-{}.example/login.php", rng.below(90)),
        ),
        _ => (
            IndicatorType::Sha256,
            format!(
                "{:016x}{:016x}{:016x}{:016x}",
                rng.next(),
                rng.next(),
                rng.next(),
                rng.next()
            ),
        ),
    };
    Draft {
        title: format!("Indicator from incident handling ({})", t.as_str()),
        description: "Seen in this campaign; block and hunt.".to_owned(),
        details: Details::Indicator {
            indicator_type: t,
            value: v,
            valid_until: Some(now.add_secs(60 * 86_400)),
        },
    }
}

fn mitigation(rng: &mut Rng) -> Draft {
    let spec = rng.pick(MITIGATIONS);
    Draft {
        title: spec.title.to_owned(),
        description: spec.description.to_owned(),
        details: Details::Mitigation {
            techniques: vec![spec.technique.into()],
        },
    }
}

/// A short thread on each of the first incidents.
async fn discuss(s: &dyn isx_store::Store, posted: &Posted, cert: MemberId) -> anyhow::Result<()> {
    let incidents = posted
        .iter()
        .filter(|(_, c)| c.kind() == ContributionKind::Incident)
        .take(DISCUSSED);
    for (g, c) in incidents {
        let first = NewComment {
            text: FIRST_COMMENT.into(),
            parent: None,
            anonymous: false,
        };
        let first = store_comment(s, g, c, cert, &first, c.created_at.add_secs(3_600)).await?;
        let reply = NewComment {
            text: REPLY.into(),
            parent: Some(first.id),
            anonymous: c.content.anonymous,
        };
        store_comment(s, g, c, c.author, &reply, c.created_at.add_secs(7_200)).await?;
    }
    Ok(())
}

/// One edit, so that a contribution has a history.
async fn edit_an_open_incident(
    s: &dyn isx_store::Store,
    instance: &str,
    posted: &Posted,
) -> anyhow::Result<()> {
    let Some((g, c)) = posted.iter().find(|(_, c)| c.is_open_incident()) else {
        return Ok(());
    };
    let mut content = c.content.clone();
    if let Details::Incident { status, .. } = &mut content.details {
        *status = IncidentStatus::Contained;
    }
    content.description.push_str(EDIT_NOTE);
    let when = c.created_at.add_secs(20_000);
    store_edit(s, instance, g, c, c.version, content, when).await?;
    Ok(())
}

/// The analysis comes with its report as an attachment.
async fn attach_report(s: &dyn isx_store::Store, posted: &Posted) -> anyhow::Result<()> {
    let Some((_, c)) = posted
        .iter()
        .find(|(_, c)| c.kind() == ContributionKind::Analysis)
    else {
        return Ok(());
    };
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(REPORT));
    s.insert_attachment(
        c.id,
        "threat-picture.txt",
        "text/plain",
        REPORT,
        &sha,
        c.created_at,
    )
    .await?;
    Ok(())
}

/// A share request waiting for the CERT's approval: one of its ISAC
/// incidents, asked for the ransomware group by a member of both.
async fn request_share(
    s: &dyn isx_store::Store,
    posted: &Posted,
    isac: &Forum,
    wave: &Forum,
    cert: MemberId,
    now: Timestamp,
) -> anyhow::Result<()> {
    let Some((_, c)) = posted.iter().find(|(g, c)| {
        g.id == isac.group.id && c.author == cert && c.kind() == ContributionKind::Incident
    }) else {
        return Ok(());
    };
    let by = *wave
        .authors
        .iter()
        .find(|m| isac.authors.contains(m) && **m != cert)
        .unwrap_or(&cert);
    let target = ShareTarget::Group {
        group: wave.group.id,
    };
    s.insert_share(c.id, target, by, SHARE_REASON, now.add_secs(-3_600))
        .await?;
    Ok(())
}
