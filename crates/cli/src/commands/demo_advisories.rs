//! Demo releases of advance vulnerability notices: one released, one in
//! the 5-day window, one in the 24-hour window, one draft. Vendors and CVE
//! numbers are fictitious.

use isx_advisories::{
    Advisory, AffectedProduct, CvssV3, CvssV4, Cwe, ExploitIndex, Exploitability, Faq, KevRecord,
    KnownExploited, NewRelease, ProductStatus, Reference, ReleaseStatus, Remediation,
    RemediationCategory,
};
use isx_domain::{Timestamp, Tlp};

use super::Ctx;

const DAY: i64 = 86_400;

struct Spec {
    cve: &'static str,
    vendor: &'static str,
    product: &'static str,
    versions: &'static [&'static str],
    fix: &'static str,
    title: &'static str,
    cwe: (&'static str, &'static str),
    v31: &'static str,
    v40: Option<&'static str>,
    latest: ExploitIndex,
    exploited: bool,
}

const SPECS: &[Spec] = &[
    Spec {
        cve: "CVE-2026-41001",
        vendor: "Contoso",
        product: "Gateway",
        versions: &["4.1", "4.2"],
        fix: "4.2.7",
        title: "Contoso Gateway remote code execution in the admin API",
        cwe: ("CWE-787", "Out-of-bounds Write"),
        v31: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        v40: Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
        latest: ExploitIndex::Detected,
        exploited: true,
    },
    Spec {
        cve: "CVE-2026-41002",
        vendor: "Contoso",
        product: "Gateway",
        versions: &["4.2"],
        fix: "4.2.7",
        title: "Contoso Gateway session fixation",
        cwe: ("CWE-384", "Session Fixation"),
        v31: "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:L/A:N",
        v40: None,
        latest: ExploitIndex::LessLikely,
        exploited: false,
    },
    Spec {
        cve: "CVE-2026-41003",
        vendor: "Fabrikam",
        product: "Historian",
        versions: &["9.0", "9.1"],
        fix: "KB-F-2026-117",
        title: "Fabrikam Historian SQL injection in report export",
        cwe: ("CWE-89", "SQL Injection"),
        v31: "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N",
        v40: None,
        latest: ExploitIndex::MoreLikely,
        exploited: false,
    },
    Spec {
        cve: "CVE-2026-41104",
        vendor: "Northwind",
        product: "Mail Server",
        versions: &["12.0", "12.1", "12.2"],
        fix: "12.2.4",
        title: "Northwind Mail Server authentication bypass",
        cwe: ("CWE-287", "Improper Authentication"),
        v31: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N",
        v40: Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N"),
        latest: ExploitIndex::MoreLikely,
        exploited: false,
    },
    Spec {
        cve: "CVE-2026-41105",
        vendor: "Northwind",
        product: "Mail Server",
        versions: &["12.2"],
        fix: "12.2.4",
        title: "Northwind Mail Server stored cross-site scripting",
        cwe: ("CWE-79", "Cross-site Scripting"),
        v31: "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N",
        v40: None,
        latest: ExploitIndex::Unlikely,
        exploited: false,
    },
    Spec {
        cve: "CVE-2026-41106",
        vendor: "Fabrikam",
        product: "PLC Engineering Suite",
        versions: &["3.4"],
        fix: "3.4.2",
        title: "Fabrikam PLC Engineering Suite project file deserialisation",
        cwe: ("CWE-502", "Deserialization of Untrusted Data"),
        v31: "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
        v40: None,
        latest: ExploitIndex::LessLikely,
        exploited: false,
    },
    Spec {
        cve: "CVE-2026-41201",
        vendor: "Contoso",
        product: "VPN Client",
        versions: &["7.3", "7.4"],
        fix: "7.4.1",
        title: "Contoso VPN Client local privilege escalation",
        cwe: ("CWE-269", "Improper Privilege Management"),
        v31: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
        v40: None,
        latest: ExploitIndex::MoreLikely,
        exploited: false,
    },
];

fn build(s: &Spec) -> anyhow::Result<Advisory> {
    let affected = s
        .versions
        .iter()
        .enumerate()
        .map(|(i, v)| AffectedProduct {
            product_id: format!("{}-{}", s.cve, i + 1),
            vendor: s.vendor.into(),
            product: s.product.into(),
            version: Some((*v).into()),
            platform: None,
            cpe: Some(format!(
                "cpe:2.3:a:{}:{}:{v}:*:*:*:*:*:*:*",
                s.vendor.to_lowercase(),
                s.product.to_lowercase().replace(' ', "_")
            )),
            purl: None,
            status: ProductStatus::Affected,
            fix: Some(s.fix.into()),
            csaf_status: None,
            justification: None,
            impact_statement: None,
        })
        .collect();
    Ok(Advisory {
        id: s.cve.parse()?,
        kind: isx_advisories::AdvisoryKind::Vulnerability,
        other_ids: vec![],
        title: s.title.into(),
        description: format!("{}. An attacker who exploits this vulnerability can compromise the affected {} installation.", s.title, s.product),
        cwe: Some(Cwe::new(s.cwe.0, s.cwe.1)?),
        cvss_v31: Some(CvssV3::parse(s.v31)?),
        cvss_v40: s.v40.map(CvssV4::parse).transpose()?,
        exploitability: Some(Exploitability { latest: s.latest, older: ExploitIndex::LessLikely, publicly_disclosed: s.exploited, exploited: s.exploited }),
        exploit_statement: None,
        epss: None,
        ssvc: None,
        known_exploited: None,
        affected,
        remediations: vec![Remediation {
            category: RemediationCategory::Workaround,
            details: format!("Until the update is applied, restrict network access to {}.", s.product),
            url: None,
            product_ids: vec![],
        }],
        faqs: vec![Faq { question: "Is an update available?".into(), answer: format!("Yes: {}.", s.fix) }],
        references: vec![Reference { url: format!("https://{}.example/security/{}", s.vendor.to_lowercase(), s.cve), summary: "Vendor advisory".into() }],
        revisions: vec![],
    })
}

/// A release to seed: its title, when it is due relative to the demo's
/// start, and which of `SPECS` it carries.
struct ReleaseSpec {
    title: &'static str,
    offset_secs: i64,
    status: ReleaseStatus,
    marking: Tlp,
    advisories: &'static [usize],
}

/// One released a fortnight ago (public: TLP:CLEAR, so the CSAF
/// provider's `white` folder has it for anyone), one in the 5-day window,
/// one in the 24-hour window, one draft.
const RELEASES: &[ReleaseSpec] = &[
    ReleaseSpec {
        title: "2026-11 security release",
        offset_secs: -14 * DAY,
        status: ReleaseStatus::Scheduled,
        marking: Tlp::Clear,
        advisories: &[0, 1, 2],
    },
    ReleaseSpec {
        title: "2026-12 security release",
        offset_secs: 3 * DAY,
        status: ReleaseStatus::Scheduled,
        marking: Tlp::Green,
        advisories: &[3, 4, 5],
    },
    ReleaseSpec {
        title: "Out-of-band: Contoso VPN Client",
        offset_secs: 20 * 3600,
        status: ReleaseStatus::Scheduled,
        marking: Tlp::Green,
        advisories: &[6],
    },
    ReleaseSpec {
        title: "2027-01 security release (draft)",
        offset_secs: 45 * DAY,
        status: ReleaseStatus::Draft,
        marking: Tlp::Green,
        advisories: &[],
    },
];

pub async fn seed(ctx: &Ctx) -> anyhow::Result<()> {
    let now = ctx.clock.now();
    for spec in RELEASES {
        add_release(ctx, spec, now).await?;
    }
    ctx.store
        .put_known_exploited(&[known_exploited(now)?])
        .await?;
    seed_context(ctx, now).await
}

/// A fortnight of EPSS scores for every demo CVE (rising for the exploited
/// ones) and CISA SSVC decisions for the released ones, as the daily EPSS
/// file and CVE JSON 5 records would bring them.
async fn seed_context(ctx: &Ctx, now: Timestamp) -> anyhow::Result<()> {
    let mut scores = Vec::new();
    for (i, spec) in SPECS.iter().enumerate() {
        let cve: isx_advisories::CveId = spec.cve.parse()?;
        for d in 0..14i64 {
            let day = now.add_secs((d - 14) * DAY).to_rfc3339();
            let base = 0.002 + 0.013 * i as f64;
            let trend = if spec.exploited {
                0.06 * d as f64
            } else {
                0.001 * d as f64
            };
            let epss = ((base + trend) * 100_000.0).round() / 100_000.0;
            let percentile = (0.5 + epss / 2.0).min(0.99999);
            scores.push((
                cve.clone(),
                isx_advisories::EpssScore::new(
                    day.get(..10).unwrap_or_default(),
                    epss.min(1.0),
                    (percentile * 100_000.0).round() / 100_000.0,
                    "v2025.03.14",
                )?,
            ));
        }
    }
    ctx.store.put_epss(&scores).await?;
    let decisions: Vec<_> = SPECS
        .iter()
        .take(3)
        .map(|spec| -> anyhow::Result<_> {
            Ok((
                spec.cve.parse()?,
                isx_advisories::Ssvc {
                    exploitation: if spec.exploited {
                        isx_advisories::SsvcExploitation::Active
                    } else {
                        isx_advisories::SsvcExploitation::None
                    },
                    automatable: spec.exploited,
                    technical_impact: isx_advisories::SsvcTechnicalImpact::Total,
                    role: "CISA Coordinator".into(),
                    version: "2.0.3".into(),
                    timestamp: now.add_secs(-3 * DAY),
                },
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    ctx.store.put_ssvc(&decisions).await?;
    Ok(())
}

async fn add_release(ctx: &Ctx, spec: &ReleaseSpec, now: Timestamp) -> anyhow::Result<()> {
    // On the hour, as vendors schedule them.
    let release_at = Timestamp::from_secs((now.as_secs() + spec.offset_secs) / 3600 * 3600);
    let new = NewRelease {
        title: spec.title.into(),
        release_at,
        notes: format!("{} advisories.", spec.advisories.len()),
        status: spec.status,
        marking: spec.marking,
    };
    let r = ctx.store.insert_release(&new, now).await?;
    let advisories = spec
        .advisories
        .iter()
        .map(|i| build(&SPECS[*i]))
        .collect::<anyhow::Result<Vec<_>>>()?;
    ctx.store
        .put_advisories(r.id, &advisories, "Initial release", now)
        .await?;
    Ok(())
}

/// The first advisory is on the known-exploited list, used by ransomware.
fn known_exploited(now: Timestamp) -> anyhow::Result<KevRecord> {
    Ok(KevRecord {
        cve: SPECS[0].cve.parse()?,
        vendor: "Contoso".into(),
        product: "Gateway".into(),
        name: "Contoso Gateway Remote Code Execution".into(),
        known: KnownExploited {
            date_added: Timestamp::from_secs(now.as_secs() - 10 * DAY).to_rfc3339()[..10]
                .to_owned(),
            due_date: None,
            ransomware: true,
        },
    })
}
