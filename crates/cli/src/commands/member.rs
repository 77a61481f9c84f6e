use anyhow::Context;
use isx_domain::{Constituency, DomainName, Member, MemberName, NewMember};

use super::Ctx;
use crate::args::{MemberAdd, MemberCommand};
use crate::output;

pub async fn run(ctx: &Ctx, command: MemberCommand) -> anyhow::Result<()> {
    match command {
        MemberCommand::Add(a) => add(ctx, a).await,
        MemberCommand::List(j) => {
            let members = ctx.store.members().await?;
            if j.json {
                return output::json(&members);
            }
            let rows: Vec<Vec<String>> = members.iter().map(row).collect();
            output::table(
                &[
                    "ID",
                    "NAME",
                    "KIND",
                    "COUNTRY",
                    "TIER",
                    "CLEARANCE",
                    "CONSTITUENCY",
                ],
                &rows,
            )
        }
        MemberCommand::Recipients {
            member,
            recipients,
            clear,
        } => {
            let m = ctx.member(&member).await?;
            if recipients.is_empty() && !clear {
                let now = ctx.store.recipients(m.id).await?;
                if now.is_empty() {
                    return output::print(&format!(
                        "{}: no recipients (its files are plain)",
                        m.name
                    ));
                }
                return output::print(&now.join("\n"));
            }
            let stored = isx_app::sealing::set_recipients(
                ctx.store.as_ref(),
                ctx.clock.as_ref(),
                None,
                m.id,
                &recipients,
            )
            .await?;
            ctx.audit(
                Some(m.id),
                "recipients.put",
                &format!("member/{} [{}]", m.id, stored.join(" ")),
            )
            .await?;
            output::print(&format!(
                "{}: its own files are delivered {}",
                m.name,
                if stored.is_empty() {
                    "plain".to_owned()
                } else {
                    format!("encrypted to {} recipient(s)", stored.len())
                }
            ))
        }
        MemberCommand::SecondFactor {
            member, require, ..
        } => {
            let m = ctx.member(&member).await?;
            ctx.store.set_second_factor_required(m.id, require).await?;
            // Sessions begun without a factor end: their users sign in
            // again, setting one up.
            let mut ended = 0;
            if require {
                for u in ctx.store.users().await?.iter().filter(|u| u.member == m.id) {
                    if !isx_app::second_factor::status(ctx.store.as_ref(), u)
                        .await?
                        .0
                    {
                        ended += ctx.store.delete_sessions_of(u.id).await?;
                        ctx.store.delete_challenges_of(u.id).await?;
                    }
                }
            }
            let word = if require { "required" } else { "optional" };
            ctx.audit(
                Some(m.id),
                "member.second-factor",
                &format!("member/{} {word} ({ended} sessions ended)", m.id),
            )
            .await?;
            output::print(&format!(
                "second factor {word} for the users of {}; {ended} session(s) without one ended",
                m.name
            ))
        }
        MemberCommand::Show { member, json } => {
            let m = ctx.member(&member).await?;
            ctx.audit(Some(m.id), "member.read", &format!("member/{}", m.id))
                .await?;
            if json.json {
                output::json(&m)
            } else {
                output::print(&serde_json::to_string_pretty(&m)?)
            }
        }
    }
}

fn row(m: &Member) -> Vec<String> {
    let c = &m.constituency;
    let mut parts: Vec<String> = c.cidrs.iter().map(ToString::to_string).collect();
    parts.extend(c.asns.iter().map(ToString::to_string));
    parts.extend(c.domains.iter().map(ToString::to_string));
    if let Some(cc) = c.country {
        parts.push(format!("country:{cc}"));
    }
    vec![
        m.id.to_string(),
        m.name.to_string(),
        m.kind.to_string(),
        m.country.map(|c| c.to_string()).unwrap_or_default(),
        m.tier.to_string(),
        m.clearance.to_string(),
        parts.join(" "),
    ]
}

fn parse_all<T: std::str::FromStr>(what: &str, items: &[String]) -> anyhow::Result<Vec<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    items
        .iter()
        .map(|s| s.parse::<T>().with_context(|| format!("--{what} {s}")))
        .collect()
}

async fn add(ctx: &Ctx, a: MemberAdd) -> anyhow::Result<()> {
    let new = NewMember {
        name: MemberName::new(&a.name)?,
        kind: a.kind.parse()?,
        country: a.country.as_deref().map(str::parse).transpose()?,
        tier: a.tier.parse()?,
        clearance: a.clearance.parse()?,
        constituency: Constituency {
            cidrs: parse_all("cidr", &a.cidrs)?,
            asns: parse_all("asn", &a.asns)?,
            domains: a
                .domains
                .iter()
                .map(|d| DomainName::new(d))
                .collect::<Result<_, _>>()?,
            country: a
                .constituency_country
                .as_deref()
                .map(str::parse)
                .transpose()?,
        }
        .normalise(),
    };
    let m = isx_app::admin::create_member(ctx.store.as_ref(), ctx.clock.as_ref(), &new).await?;
    ctx.audit(Some(m.id), "member.create", &format!("member/{}", m.id))
        .await?;
    if a.json.json {
        output::json(&m)
    } else {
        output::print(&format!("added member {} ({})", m.id, m.name))
    }
}
