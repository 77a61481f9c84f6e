use isx_domain::{NewTrustGroup, Timestamp, TrustGroupKind};

use super::Ctx;
use crate::args::GroupCommand;
use crate::output;

pub async fn run(ctx: &Ctx, command: GroupCommand) -> anyhow::Result<()> {
    match command {
        GroupCommand::Add {
            name,
            owner,
            description,
            agreement,
            min_clearance,
            ends_at,
            hide_members,
            json,
        } => {
            let owner = ctx.member(&owner).await?;
            let kind = match agreement {
                Some(agreement) => TrustGroupKind::Formal {
                    agreement,
                    min_clearance: min_clearance.parse()?,
                },
                None => TrustGroupKind::AdHoc {
                    ends_at: ends_at.as_deref().map(Timestamp::parse).transpose()?,
                },
            };
            let new = NewTrustGroup {
                name,
                description,
                kind,
                hide_members,
            };
            let g = isx_app::admin::create_group(
                ctx.store.as_ref(),
                ctx.clock.as_ref(),
                &new,
                owner.id,
            )
            .await?;
            ctx.audit(Some(owner.id), "group.create", &format!("group/{}", g.id))
                .await?;
            if json.json {
                output::json(&g)
            } else {
                output::print(&format!(
                    "created trust group {} ({}), owned by {}",
                    g.id, g.name, owner.name
                ))
            }
        }
        GroupCommand::Join {
            group,
            member,
            role,
            json,
        } => {
            let g = ctx.group(&group).await?;
            let m = ctx.member(&member).await?;
            let ms = isx_app::admin::join_group(
                ctx.store.as_ref(),
                ctx.clock.as_ref(),
                g.id,
                m.id,
                role.parse()?,
                None,
            )
            .await?;
            ctx.audit(
                Some(m.id),
                "group.join",
                &format!("group/{}/member/{}", g.id, m.id),
            )
            .await?;
            if json.json {
                output::json(&ms)
            } else {
                output::print(&format!("{} is now {} of {}", m.name, ms.role, g.name))
            }
        }
        GroupCommand::Remove { group, member } => {
            let g = ctx.group(&group).await?;
            let m = ctx.member(&member).await?;
            isx_app::admin::remove_group_member(ctx.store.as_ref(), g.id, m.id, None).await?;
            ctx.audit(
                Some(m.id),
                "group.remove",
                &format!("group/{}/member/{}", g.id, m.id),
            )
            .await?;
            output::print(&format!("{} is no longer in {}", m.name, g.name))
        }
        GroupCommand::List(j) => {
            let groups = ctx.store.groups().await?;
            let mut out = Vec::new();
            for g in groups {
                let members = ctx.store.group_members(g.id).await?;
                out.push((g, members));
            }
            if j.json {
                let v: Vec<_> = out
                    .iter()
                    .map(|(g, m)| serde_json::json!({ "group": g, "members": m }))
                    .collect();
                return output::json(&v);
            }
            let rows: Vec<Vec<String>> = out
                .iter()
                .map(|(g, m)| {
                    let kind = match &g.kind {
                        TrustGroupKind::Formal {
                            agreement,
                            min_clearance,
                        } => format!("formal ({agreement}, {min_clearance})"),
                        TrustGroupKind::AdHoc { ends_at } => format!(
                            "ad hoc{}",
                            ends_at.map(|t| format!(" until {t}")).unwrap_or_default()
                        ),
                    };
                    let roster = m
                        .iter()
                        .map(|x| format!("{}:{}", x.member, x.role))
                        .collect::<Vec<_>>()
                        .join(" ");
                    vec![g.id.to_string(), g.name.clone(), kind, roster]
                })
                .collect();
            output::table(&["ID", "NAME", "KIND", "MEMBERS"], &rows)
        }
    }
}
