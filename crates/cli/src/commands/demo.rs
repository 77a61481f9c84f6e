//! `isx demo`: a generated demo world on the embedded default, served over
//! HTTPS, with credentials printed. The world is made of fictitious
//! organisations on documentation address space (RFC 5737, RFC 3849) and
//! documentation AS numbers (RFC 5398), so nothing points at real victims.

use std::path::Path;

use anyhow::Context;
use isx_app::admin;
use isx_domain::{
    Clearance, Constituency, GroupRole, Login, Member, MemberKind, MemberName, NewMember,
    NewTrustGroup, Tier, TrustGroupKind, UserRole,
};

use super::serve;
use super::Ctx;
use crate::args::ServeArgs;
use crate::config::Settings;

const MARKER: &str = ".isx-demo";

pub async fn run(settings: &Settings, args: &ServeArgs) -> anyhow::Result<()> {
    if settings.database_url().is_some() {
        anyhow::bail!("`isx demo` always uses the embedded store in its own data directory; drop --database-url (or ISX_DATABASE_URL)");
    }
    let data_dir = settings.data_dir_or("isx-demo");
    reset(&data_dir)?;
    let url = settings.store_url(&data_dir)?;
    let store = isx_store::open(&url)
        .await
        .with_context(|| format!("cannot open the demo store {url}"))?;
    let ctx = Ctx {
        store: store.clone(),
        clock: std::sync::Arc::new(isx_domain::SystemClock),
        actor: "demo".into(),
    };
    let instance = settings
        .server_config(args, data_dir.clone())?
        .instance_name;
    let world = seed(&ctx, &instance).await?;
    let app = serve::build(settings, args, data_dir.clone(), store).await?;
    let base = app.base_url();
    let ca = app.ca_path().map(|p| p.display().to_string());
    let mut text = format!("\nisx demo is running at {base}\n\n");
    text.push_str(&format!(
        "  Sign in as the operator administrator:  login {}  password {}\n",
        world.admin_login, world.admin_password
    ));
    text.push_str(&format!(
        "  Sign in as a national CERT analyst:     login {}  password {}\n\n",
        world.cert_login, world.cert_password
    ));
    text.push_str("  Demo API keys (send as Authorization: Bearer <key>):\n");
    for (who, token) in &world.keys {
        text.push_str(&format!("    {who:<32} {token}\n"));
    }
    match &ca {
        Some(ca) => {
            text.push_str(&format!(
                "\n  The certificate is self-signed by a local CA: trust {ca}\n"
            ));
            text.push_str(&format!(
                "  Try:  curl --cacert {ca} -H 'Authorization: Bearer {}' {base}/api/v1/me\n",
                world.keys[0].1
            ));
            text.push_str(&format!(
                "        curl --cacert {ca} -u {} {base}/lookup/sha256/<hash>   (CIRCL hashlookup API)\n",
                basic(&world.keys[1].1)
            ));
        }
        None => text.push_str(&format!(
            "\n  Try:  curl -H 'Authorization: Bearer {}' {base}/api/v1/me\n",
            world.keys[0].1
        )),
    }
    text.push_str(&format!(
        "  OpenAPI: {base}/api/openapi.json   Metrics: {base}/metrics\n\nPress Ctrl-C to stop.\n"
    ));
    crate::output::print(&text)?;
    serve::run(app).await
}

/// Empties the demo data directory (keeping the TLS certificate so that a
/// trusted demo CA stays trusted), refusing to touch a directory that was not
/// made by `isx demo`.
fn reset(dir: &Path) -> anyhow::Result<()> {
    let marker = dir.join(MARKER);
    if dir.exists() && !marker.exists() && std::fs::read_dir(dir)?.next().is_some() {
        anyhow::bail!(
            "{} exists and was not created by `isx demo`; refusing to reset it (choose another --data-dir)",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("isx.sqlite") {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    std::fs::write(
        &marker,
        "created by `isx demo`; the demo resets this directory on every start\n",
    )?;
    Ok(())
}

struct World {
    admin_login: String,
    admin_password: String,
    cert_login: String,
    cert_password: String,
    keys: Vec<(String, String)>,
}

fn member(
    name: &str,
    kind: MemberKind,
    country: &str,
    tier: Tier,
    clearance: Clearance,
    c: Constituency,
) -> anyhow::Result<NewMember> {
    Ok(NewMember {
        name: MemberName::new(name)?,
        kind,
        country: Some(country.parse()?),
        tier,
        clearance,
        constituency: c.normalise(),
    })
}

fn constituency(
    cidrs: &[&str],
    asns: &[&str],
    domains: &[&str],
    country: Option<&str>,
) -> anyhow::Result<Constituency> {
    Ok(Constituency {
        cidrs: cidrs.iter().map(|c| c.parse()).collect::<Result<_, _>>()?,
        asns: asns.iter().map(|a| a.parse()).collect::<Result<_, _>>()?,
        domains: domains
            .iter()
            .map(|d| isx_domain::DomainName::new(d))
            .collect::<Result<_, _>>()?,
        country: country.map(str::parse).transpose()?,
    })
}

async fn seed(ctx: &Ctx, instance_name: &str) -> anyhow::Result<World> {
    let (s, c) = (ctx.store.as_ref(), ctx.clock.as_ref());
    let add = |m: NewMember| async move { admin::create_member(s, c, &m).await };
    let none = Constituency::default;
    let operator = add(member(
        "isx Operations Centre",
        MemberKind::Operator,
        "DE",
        Tier::Advance24h,
        Clearance::Secret,
        none(),
    )?)
    .await?;
    let cert = add(member(
        "National CERT of Examplia",
        MemberKind::NationalCert,
        "NL",
        Tier::Advance24h,
        Clearance::Confidential,
        constituency(&[], &[], &["nl"], Some("NL"))?,
    )?)
    .await?;
    let ministry = add(member(
        "Ministry of Transport",
        MemberKind::Government,
        "NL",
        Tier::Advance5d,
        Clearance::Restricted,
        constituency(
            &["198.51.100.0/25"],
            &["AS64497"],
            &["transport.example"],
            None,
        )?,
    )?)
    .await?;
    let grid = add(member(
        "Northgrid Energy",
        MemberKind::CriticalInfrastructure,
        "NL",
        Tier::Advance24h,
        Clearance::Confidential,
        constituency(
            &["203.0.113.0/24"],
            &["AS64500"],
            &["northgrid.example"],
            None,
        )?,
    )?)
    .await?;
    let isp = add(member(
        "Polder Telecom (ISP)",
        MemberKind::CriticalInfrastructure,
        "NL",
        Tier::Standard,
        Clearance::Restricted,
        constituency(
            &["192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"],
            &["AS64496", "AS64499"],
            &["poldertel.example"],
            None,
        )?,
    )?)
    .await?;
    let bank = add(member(
        "Harbour Bank",
        MemberKind::Enterprise,
        "BE",
        Tier::Standard,
        Clearance::None,
        constituency(&["2001:db8:4000::/36"], &[], &["harbourbank.example"], None)?,
    )?)
    .await?;
    let vendor = add(member(
        "Bluefin Security",
        MemberKind::SecurityCompany,
        "DE",
        Tier::Advance24h,
        Clearance::Restricted,
        none(),
    )?)
    .await?;
    let lab = add(member(
        "Delta University Lab",
        MemberKind::Researcher,
        "NL",
        Tier::Standard,
        Clearance::None,
        none(),
    )?)
    .await?;

    let energy = admin::create_group(
        s,
        c,
        &NewTrustGroup {
            name: "Energy Sector ISAC".into(),
            description: "Formal sharing among grid operators and their regulators.".into(),
            kind: TrustGroupKind::Formal {
                agreement: "ISAC-MoU-2026-014".into(),
                min_clearance: Clearance::Restricted,
            },
            hide_members: false,
        },
        grid.id,
    )
    .await?;
    admin::join_group(s, c, energy.id, cert.id, GroupRole::Contributor, None).await?;
    admin::join_group(s, c, energy.id, ministry.id, GroupRole::Reader, None).await?;
    admin::join_group(s, c, energy.id, isp.id, GroupRole::Contributor, None).await?;
    let ends = c.now().add_secs(30 * 86_400);
    let wave = admin::create_group(
        s,
        c,
        &NewTrustGroup {
            name: "Ransomware wave 2026-11".into(),
            description: "Ad hoc group for the current ransomware campaign; closes in 30 days."
                .into(),
            kind: TrustGroupKind::AdHoc {
                ends_at: Some(ends),
            },
            hide_members: true,
        },
        cert.id,
    )
    .await?;
    for m in [&isp, &bank, &vendor] {
        admin::join_group(s, c, wave.id, m.id, GroupRole::Contributor, None).await?;
    }
    admin::join_group(s, c, wave.id, lab.id, GroupRole::Reader, None).await?;

    let admin_password = isx_app::identity::random_hex32()[..20].to_owned();
    let cert_password = isx_app::identity::random_hex32()[..20].to_owned();
    admin::create_user(
        s,
        c,
        &Login::new("admin")?,
        &admin_password,
        operator.id,
        UserRole::Admin,
    )
    .await?;
    admin::create_user(
        s,
        c,
        &Login::new("cert-analyst")?,
        &cert_password,
        cert.id,
        UserRole::Member,
    )
    .await?;

    let mut keys = Vec::new();
    for (m, name) in [
        (&operator, "operator-automation"),
        (&cert, "cert-siem"),
        (&isp, "isp-abuse-desk"),
        (&grid, "grid-soc"),
    ] {
        let (_, token) =
            admin::create_api_key(s, c, None, &isx_app::admin::KeySpec::cli(m, name)).await?;
        keys.push((label(m), token.expose()));
    }
    super::demo_advisories::seed(ctx).await?;
    super::demo_urls::seed(ctx).await?;
    super::demo_botnet::seed(ctx).await?;
    super::demo_cleanfiles::seed(ctx).await?;
    let identity = isx_formats::stix::instance_identity(instance_name);
    super::demo_partnership::seed(
        ctx,
        identity["id"].as_str().unwrap_or_default(),
        &energy,
        &[grid.id, cert.id, isp.id],
        &wave,
        &[cert.id, isp.id, bank.id, vendor.id],
        cert.id,
    )
    .await?;
    ctx.audit(Some(operator.id), "demo.seed", "demo world")
        .await?;
    Ok(World {
        admin_login: "admin".into(),
        admin_password,
        cert_login: "cert-analyst".into(),
        cert_password,
        keys,
    })
}

/// `key_id:secret` of an API key (HTTP Basic, as hashlookup clients send).
fn basic(token: &str) -> String {
    token
        .split_once('_')
        .and_then(|(_, rest)| rest.split_once('_'))
        .map(|(id, secret)| format!("{id}:{secret}"))
        .unwrap_or_default()
}

fn label(m: &Member) -> String {
    m.name.to_string()
}
