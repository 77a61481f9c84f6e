//! Demo partnership: thirty days of what members share in the two demo
//! trust groups — incidents (sectors, ATT&CK techniques, timelines),
//! sightings, indicators, mitigations and an analysis with an attached
//! report — some anonymous, some discussed, one edited; reporting duties
//! and retention on the ISAC; a share request waiting for the CERT's
//! approval. Fixed seed: every demo looks the same.

use isx_app::partnership::{store_comment, store_edit, store_new};
use isx_domain::{MemberId, Timestamp, Tlp, TrustGroup};
use isx_partnership::{
    Details, GroupRules, Impact, IncidentStatus, IndicatorType, NewComment, NewContribution,
    ShareTarget, TimelineEntry,
};

use super::demo_urls::Rng;
use super::Ctx;

const SECTORS: &[&str] = &[
    "energy",
    "water",
    "transport",
    "finance",
    "health",
    "telecom",
];
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
const INCIDENTS: &[(&str, &str, &str)] = &[
    (
        "Ransomware on SCADA historian servers",
        "Historians encrypted overnight; operations continued on manual control.",
        "extortion",
    ),
    (
        "Credential phishing against control-room staff",
        "Lure imitating the grid operator's HR portal; three accounts entered credentials.",
        "access for later intrusion",
    ),
    (
        "VPN appliance exploited before patch",
        "Exploitation of the remote-access gateway two days after the advisory.",
        "initial access",
    ),
    (
        "Data theft from an engineering file share",
        "About 4 GB of network diagrams left over HTTPS to a cloud storage host.",
        "espionage",
    ),
    (
        "Wiper on billing servers",
        "Billing database and backups destroyed; restore from offline copies.",
        "disruption",
    ),
    (
        "Business e-mail compromise at a supplier",
        "Invoice redirection attempt through a compromised supplier mailbox.",
        "fraud",
    ),
];
const MITIGATIONS: &[(&str, &str, &str)] = &[
    (
        "Block macro execution from internet mail",
        "Group policy that blocks Office macros in files from the internet zone.",
        "T1566.001",
    ),
    (
        "Offline, tested backups of historians",
        "Weekly offline copies with a restore test each month.",
        "T1490",
    ),
    (
        "Patch and monitor remote-access gateways",
        "Emergency patching window of 48 hours and log forwarding of VPN events.",
        "T1190",
    ),
];

fn at(now: Timestamp, days_ago: u64, rng: &mut Rng) -> Timestamp {
    now.add_secs(-(days_ago as i64) * 86_400 - rng.below(80_000) as i64)
}

/// Seeds the contributions; `energy` is the formal ISAC, `wave` the ad hoc
/// ransomware group (hidden member list); `authors` the members who post in
/// each; `instance` the instance's STIX identity id.
pub async fn seed(
    ctx: &Ctx,
    instance: &str,
    energy: &TrustGroup,
    energy_authors: &[MemberId],
    wave: &TrustGroup,
    wave_authors: &[MemberId],
    cert: MemberId,
) -> anyhow::Result<()> {
    let s = ctx.store.as_ref();
    let now = ctx.clock.now();
    let mut rng = Rng(0x15a_c0de);
    let mut posted = Vec::new();
    for (g, authors, n) in [(energy, energy_authors, 40u64), (wave, wave_authors, 18)] {
        for i in 0..n {
            let when = at(now, rng.below(30), &mut rng);
            let author = *rng.pick(authors);
            let anonymous = rng.below(5) == 0;
            let marking = *rng.pick(&[Tlp::Green, Tlp::Amber, Tlp::Amber, Tlp::AmberStrict]);
            let (title, description, details) = match i % 5 {
                0 | 1 => {
                    let (t, d, intent) = *rng.pick(INCIDENTS);
                    let techniques = (0..1 + rng.below(3))
                        .map(|_| rng.pick(TECHNIQUES).to_string())
                        .collect();
                    let status = *rng.pick(&[
                        IncidentStatus::Open,
                        IncidentStatus::Contained,
                        IncidentStatus::Resolved,
                    ]);
                    let sector = if g.id == energy.id {
                        *rng.pick(&SECTORS[..3])
                    } else {
                        *rng.pick(SECTORS)
                    };
                    let timeline = vec![
                        TimelineEntry {
                            at: when.add_secs(-7_200),
                            text: "first alert in the SOC".into(),
                        },
                        TimelineEntry {
                            at: when,
                            text: "reported to the group".into(),
                        },
                    ];
                    (
                        t.to_owned(),
                        d.to_owned(),
                        Details::Incident {
                            information_lost: if intent == "espionage" {
                                "network diagrams".into()
                            } else {
                                String::new()
                            },
                            techniques,
                            intent: intent.into(),
                            impact: *rng.pick(&[
                                Impact::Low,
                                Impact::Moderate,
                                Impact::High,
                                Impact::Severe,
                            ]),
                            sector: sector.into(),
                            status,
                            timeline,
                        },
                    )
                }
                2 => {
                    let value = format!("198.18.{}.{}", rng.below(4), 1 + rng.below(250));
                    let count = 1 + rng.below(40) as u32;
                    (
                        "Beaconing to a known C2 address".to_owned(),
                        "Seen from workstations in the office network.".to_owned(),
                        Details::Sighting {
                            indicator_type: IndicatorType::Ipv4,
                            value,
                            count,
                            first_seen: when.add_secs(-86_400),
                            last_seen: when,
                            location: rng
                                .pick(&["OT network", "office network", "DMZ"])
                                .to_string(),
                        },
                    )
                }
                3 => {
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
                    (
                        format!("Indicator from incident handling ({})", t.as_str()),
                        "Seen in this campaign; block and hunt.".to_owned(),
                        Details::Indicator {
                            indicator_type: t,
                            value: v,
                            valid_until: Some(now.add_secs(60 * 86_400)),
                        },
                    )
                }
                _ => {
                    if i % 10 == 4 {
                        let (t, d, tech) = *rng.pick(MITIGATIONS);
                        (
                            t.to_owned(),
                            d.to_owned(),
                            Details::Mitigation {
                                techniques: vec![tech.into()],
                            },
                        )
                    } else {
                        ("Quarterly threat picture for the sector".to_owned(),
                         "Ransomware remains the main disruptive threat; initial access moves from phishing to edge devices.".to_owned(),
                         Details::Analysis {})
                    }
                }
            };
            let content = NewContribution {
                title,
                description,
                marking,
                anonymous,
                details,
            }
            .checked()?;
            let c = store_new(s, instance, g, author, content, None, when).await?;
            posted.push((g.clone(), c));
        }
    }
    // Discussion on a few, one edit (history), an attachment.
    for (g, c) in posted
        .iter()
        .filter(|(_, c)| c.kind() == isx_partnership::ContributionKind::Incident)
        .take(6)
    {
        let first = store_comment(
            s,
            g,
            c,
            cert,
            &NewComment {
                text: "Seen the same pattern at two other operators this week.".into(),
                parent: None,
                anonymous: false,
            },
            c.created_at.add_secs(3_600),
        )
        .await?;
        store_comment(
            s,
            g,
            c,
            c.author,
            &NewComment {
                text: "Thanks — do you have the sender domains?".into(),
                parent: Some(first.id),
                anonymous: c.content.anonymous,
            },
            c.created_at.add_secs(7_200),
        )
        .await?;
    }
    if let Some((g, c)) = posted.iter().find(|(_, c)| c.is_open_incident()) {
        let mut content = c.content.clone();
        if let Details::Incident { status, .. } = &mut content.details {
            *status = IncidentStatus::Contained;
        }
        content
            .description
            .push_str("\n\nUpdate: contained by isolating the affected segment.");
        store_edit(
            s,
            instance,
            g,
            c,
            c.version,
            content,
            c.created_at.add_secs(20_000),
        )
        .await?;
    }
    if let Some((_, c)) = posted
        .iter()
        .find(|(_, c)| c.kind() == isx_partnership::ContributionKind::Analysis)
    {
        let report = b"Quarterly threat picture (demo)\n\n1. Ransomware\n2. Edge-device exploitation\n3. Supplier compromise\n";
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(report));
        s.insert_attachment(
            c.id,
            "threat-picture.txt",
            "text/plain",
            report,
            &sha,
            c.created_at,
        )
        .await?;
    }
    // Reporting duties and retention on the ISAC.
    s.put_group_rules(
        energy.id,
        &GroupRules {
            retention_days: Some(365),
            mandatory: vec![isx_partnership::ContributionKind::Incident],
            report_period_days: 30,
        }
        .checked()?,
    )
    .await?;
    // A share request waiting for the CERT's approval: one of its ISAC
    // incidents, asked for the ransomware group.
    if let Some((_, c)) = posted.iter().find(|(g, c)| {
        g.id == energy.id
            && c.author == cert
            && c.kind() == isx_partnership::ContributionKind::Incident
    }) {
        let by = *wave_authors
            .iter()
            .find(|m| energy_authors.contains(m) && **m != cert)
            .unwrap_or(&cert);
        s.insert_share(
            c.id,
            ShareTarget::Group { group: wave.id },
            by,
            "Same campaign: the ransomware group should see it.",
            now.add_secs(-3_600),
        )
        .await?;
    }
    Ok(())
}
