//! The demo world's organisations, people, keys and trust groups, written
//! down as tables that a few builders walk. Tables of typed specs rather
//! than a data file: a misspelt kind, tier or role fails to compile instead
//! of failing at demo start, and the references between tables (who owns a
//! group, whose key it is) are checked names, not strings. The world is
//! fictitious: documentation address space (RFC 5737, RFC 3849),
//! documentation AS numbers (RFC 5398) and `.example` domains.

use anyhow::Context;
use isx_app::admin;
use isx_domain::{
    Clearance, Constituency, DomainName, GroupRole, Login, Member, MemberKind, MemberName,
    NewMember, NewTrustGroup, Tier, TrustGroupKind, UserRole,
};

use super::demo_partnership::Forum;
use super::Ctx;

/// The demo organisations, so that the tables below refer to each other by
/// a name the compiler knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Org {
    Operator,
    Cert,
    Ministry,
    Grid,
    Isp,
    Bank,
    Vendor,
    Lab,
}

/// What a demo organisation is responsible for, as written before parsing.
struct ConstituencySpec {
    cidrs: &'static [&'static str],
    asns: &'static [&'static str],
    domains: &'static [&'static str],
    /// The country a national CERT covers (its ccTLD among them).
    country: Option<&'static str>,
}

/// Organisations without a constituency: the operator, a vendor, a lab.
const NO_CONSTITUENCY: ConstituencySpec = ConstituencySpec {
    cidrs: &[],
    asns: &[],
    domains: &[],
    country: None,
};

struct MemberSpec {
    org: Org,
    name: &'static str,
    kind: MemberKind,
    country: &'static str,
    tier: Tier,
    clearance: Clearance,
    constituency: ConstituencySpec,
}

/// The members, in the order they are created (which fixes their ids).
const MEMBERS: &[MemberSpec] = &[
    MemberSpec {
        org: Org::Operator,
        name: "isx Operations Centre",
        kind: MemberKind::Operator,
        country: "DE",
        tier: Tier::Advance24h,
        clearance: Clearance::Secret,
        constituency: NO_CONSTITUENCY,
    },
    MemberSpec {
        org: Org::Cert,
        name: "National CERT of Examplia",
        kind: MemberKind::NationalCert,
        country: "NL",
        tier: Tier::Advance24h,
        clearance: Clearance::Confidential,
        constituency: ConstituencySpec {
            cidrs: &[],
            asns: &[],
            domains: &["nl"],
            country: Some("NL"),
        },
    },
    MemberSpec {
        org: Org::Ministry,
        name: "Ministry of Transport",
        kind: MemberKind::Government,
        country: "NL",
        tier: Tier::Advance5d,
        clearance: Clearance::Restricted,
        constituency: ConstituencySpec {
            cidrs: &["198.51.100.0/25"],
            asns: &["AS64497"],
            domains: &["transport.example"],
            country: None,
        },
    },
    MemberSpec {
        org: Org::Grid,
        name: "Northgrid Energy",
        kind: MemberKind::CriticalInfrastructure,
        country: "NL",
        tier: Tier::Advance24h,
        clearance: Clearance::Confidential,
        constituency: ConstituencySpec {
            cidrs: &["203.0.113.0/24"],
            asns: &["AS64500"],
            domains: &["northgrid.example"],
            country: None,
        },
    },
    MemberSpec {
        org: Org::Isp,
        name: "Polder Telecom (ISP)",
        kind: MemberKind::CriticalInfrastructure,
        country: "NL",
        tier: Tier::Standard,
        clearance: Clearance::Restricted,
        constituency: ConstituencySpec {
            cidrs: &["192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"],
            asns: &["AS64496", "AS64499"],
            domains: &["poldertel.example"],
            country: None,
        },
    },
    MemberSpec {
        org: Org::Bank,
        name: "Harbour Bank",
        kind: MemberKind::Enterprise,
        country: "BE",
        tier: Tier::Standard,
        clearance: Clearance::None,
        constituency: ConstituencySpec {
            cidrs: &["2001:db8:4000::/36"],
            asns: &[],
            domains: &["harbourbank.example"],
            country: None,
        },
    },
    MemberSpec {
        org: Org::Vendor,
        name: "Bluefin Security",
        kind: MemberKind::SecurityCompany,
        country: "DE",
        tier: Tier::Advance24h,
        clearance: Clearance::Restricted,
        constituency: NO_CONSTITUENCY,
    },
    MemberSpec {
        org: Org::Lab,
        name: "Delta University Lab",
        kind: MemberKind::Researcher,
        country: "NL",
        tier: Tier::Standard,
        clearance: Clearance::None,
        constituency: NO_CONSTITUENCY,
    },
];

enum GroupKindSpec {
    Formal {
        agreement: &'static str,
        min_clearance: Clearance,
    },
    /// Closes this many days after the demo starts.
    AdHoc { open_days: i64 },
}

struct GroupSpec {
    name: &'static str,
    description: &'static str,
    kind: GroupKindSpec,
    hide_members: bool,
    owner: Org,
    /// Joined in this order after the owner.
    members: &'static [(Org, GroupRole)],
}

/// The formal ISAC: grid operators, their CERT, their ISP and a regulator.
const ISAC: GroupSpec = GroupSpec {
    name: "Energy Sector ISAC",
    description: "Formal sharing among grid operators and their regulators.",
    kind: GroupKindSpec::Formal {
        agreement: "ISAC-MoU-2026-014",
        min_clearance: Clearance::Restricted,
    },
    hide_members: false,
    owner: Org::Grid,
    members: &[
        (Org::Cert, GroupRole::Contributor),
        (Org::Ministry, GroupRole::Reader),
        (Org::Isp, GroupRole::Contributor),
    ],
};

/// The ad hoc group for one campaign, with a hidden member list.
const WAVE: GroupSpec = GroupSpec {
    name: "Ransomware wave 2026-11",
    description: "Ad hoc group for the current ransomware campaign; closes in 30 days.",
    kind: GroupKindSpec::AdHoc { open_days: 30 },
    hide_members: true,
    owner: Org::Cert,
    members: &[
        (Org::Isp, GroupRole::Contributor),
        (Org::Bank, GroupRole::Contributor),
        (Org::Vendor, GroupRole::Contributor),
        (Org::Lab, GroupRole::Reader),
    ],
};

struct UserSpec {
    login: &'static str,
    org: Org,
    role: UserRole,
    /// Who signs in with it, as the banner says.
    who: &'static str,
}

/// The people who sign in to the web interface; passwords are drawn fresh
/// on every start.
const USERS: &[UserSpec] = &[
    UserSpec {
        login: "admin",
        org: Org::Operator,
        role: UserRole::Admin,
        who: "the operator administrator",
    },
    UserSpec {
        login: "cert-analyst",
        org: Org::Cert,
        role: UserRole::Member,
        who: "a national CERT analyst",
    },
];

/// API keys by owner and name. The banner's examples use the first (any
/// API call) and the second (the CERT, for hashlookup over HTTP Basic).
const KEYS: &[(Org, &str)] = &[
    (Org::Operator, "operator-automation"),
    (Org::Cert, "cert-siem"),
    (Org::Isp, "isp-abuse-desk"),
    (Org::Grid, "grid-soc"),
];

/// A user the demo created, for the banner.
pub(super) struct SignIn {
    pub(super) who: &'static str,
    pub(super) login: &'static str,
    pub(super) password: String,
}

/// What the banner prints: how to sign in and which keys to send.
pub(super) struct World {
    pub(super) sign_ins: Vec<SignIn>,
    /// (member name, API token)
    pub(super) keys: Vec<(String, String)>,
}

/// The created members by organisation.
struct Roster(Vec<(Org, Member)>);

impl Roster {
    fn get(&self, org: Org) -> anyhow::Result<&Member> {
        self.0
            .iter()
            .find(|(o, _)| *o == org)
            .map(|(_, m)| m)
            .with_context(|| format!("the demo member table has no {org:?}"))
    }
}

/// Seeds the whole demo world; `instance_name` names the STIX identity the
/// partnership contributions are created by.
pub(super) async fn seed(ctx: &Ctx, instance_name: &str) -> anyhow::Result<World> {
    let roster = add_members(ctx).await?;
    let isac = add_group(ctx, &roster, &ISAC).await?;
    let wave = add_group(ctx, &roster, &WAVE).await?;
    let sign_ins = add_users(ctx, &roster).await?;
    let keys = add_keys(ctx, &roster).await?;
    super::demo_advisories::seed(ctx).await?;
    super::demo_urls::seed(ctx).await?;
    super::demo_botnet::seed(ctx).await?;
    super::demo_cleanfiles::seed(ctx).await?;
    let identity = isx_formats::stix::instance_identity(instance_name);
    let cert = roster.get(Org::Cert)?.id;
    super::demo_partnership::seed(
        ctx,
        identity["id"].as_str().unwrap_or_default(),
        &isac,
        &wave,
        cert,
    )
    .await?;
    let operator = roster.get(Org::Operator)?.id;
    ctx.audit(Some(operator), "demo.seed", "demo world").await?;
    Ok(World { sign_ins, keys })
}

async fn add_members(ctx: &Ctx) -> anyhow::Result<Roster> {
    let mut roster = Vec::with_capacity(MEMBERS.len());
    for spec in MEMBERS {
        let new = new_member(spec).with_context(|| format!("demo member {}", spec.name))?;
        let m = admin::create_member(ctx.store.as_ref(), ctx.clock.as_ref(), &new).await?;
        roster.push((spec.org, m));
    }
    Ok(Roster(roster))
}

fn new_member(spec: &MemberSpec) -> anyhow::Result<NewMember> {
    Ok(NewMember {
        name: MemberName::new(spec.name)?,
        kind: spec.kind,
        country: Some(spec.country.parse()?),
        tier: spec.tier,
        clearance: spec.clearance,
        constituency: constituency(&spec.constituency)?.normalise(),
    })
}

fn constituency(spec: &ConstituencySpec) -> anyhow::Result<Constituency> {
    Ok(Constituency {
        cidrs: spec
            .cidrs
            .iter()
            .map(|c| c.parse())
            .collect::<Result<_, _>>()?,
        asns: spec
            .asns
            .iter()
            .map(|a| a.parse())
            .collect::<Result<_, _>>()?,
        domains: spec
            .domains
            .iter()
            .map(|d| DomainName::new(d))
            .collect::<Result<_, _>>()?,
        country: spec.country.map(str::parse).transpose()?,
    })
}

/// Creates the group and its memberships; those who may contribute (the
/// owner first, then contributors in table order) are its authors.
async fn add_group(ctx: &Ctx, roster: &Roster, spec: &GroupSpec) -> anyhow::Result<Forum> {
    let (s, c) = (ctx.store.as_ref(), ctx.clock.as_ref());
    let kind = match spec.kind {
        GroupKindSpec::Formal {
            agreement,
            min_clearance,
        } => TrustGroupKind::Formal {
            agreement: agreement.into(),
            min_clearance,
        },
        GroupKindSpec::AdHoc { open_days } => TrustGroupKind::AdHoc {
            ends_at: Some(c.now().add_secs(open_days * 86_400)),
        },
    };
    let new = NewTrustGroup {
        name: spec.name.into(),
        description: spec.description.into(),
        kind,
        hide_members: spec.hide_members,
    };
    let owner = roster.get(spec.owner)?.id;
    let group = admin::create_group(s, c, &new, owner).await?;
    let mut authors = vec![owner];
    for (org, role) in spec.members {
        let member = roster.get(*org)?.id;
        admin::join_group(s, c, group.id, member, *role, None).await?;
        if *role == GroupRole::Contributor {
            authors.push(member);
        }
    }
    Ok(Forum { group, authors })
}

async fn add_users(ctx: &Ctx, roster: &Roster) -> anyhow::Result<Vec<SignIn>> {
    let mut sign_ins = Vec::with_capacity(USERS.len());
    for spec in USERS {
        let password = isx_app::identity::random_hex32()[..20].to_owned();
        let member = roster.get(spec.org)?.id;
        admin::create_user(
            ctx.store.as_ref(),
            ctx.clock.as_ref(),
            &Login::new(spec.login)?,
            &password,
            member,
            spec.role,
        )
        .await?;
        sign_ins.push(SignIn {
            who: spec.who,
            login: spec.login,
            password,
        });
    }
    Ok(sign_ins)
}

async fn add_keys(ctx: &Ctx, roster: &Roster) -> anyhow::Result<Vec<(String, String)>> {
    let mut keys = Vec::with_capacity(KEYS.len());
    for (org, name) in KEYS {
        let m = roster.get(*org)?;
        let spec = admin::KeySpec::cli(m, name);
        let (_, token) =
            admin::create_api_key(ctx.store.as_ref(), ctx.clock.as_ref(), None, &spec).await?;
        keys.push((m.name.to_string(), token.expose()));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_member_parses_and_appears_once() {
        for spec in MEMBERS {
            assert!(new_member(spec).is_ok(), "{}", spec.name);
            assert_eq!(
                MEMBERS.iter().filter(|m| m.org == spec.org).count(),
                1,
                "{:?}",
                spec.org
            );
        }
    }
}
