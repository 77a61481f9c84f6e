use anyhow::Context;
use isx_advisories::{NewRelease, Release, ReleaseChange, ReleaseStatus};
use isx_domain::Timestamp;

use super::Ctx;
use crate::args::ReleaseCommand;
use crate::output;

async fn get(ctx: &Ctx, id: i64) -> anyhow::Result<Release> {
    ctx.store
        .release(id)
        .await?
        .with_context(|| format!("no release {id} (see `isx release list`)"))
}

pub async fn run(ctx: &Ctx, command: ReleaseCommand) -> anyhow::Result<()> {
    let now = ctx.clock.now();
    match command {
        ReleaseCommand::Create {
            title,
            release_at,
            notes,
            marking,
            status,
            json,
        } => {
            let new = NewRelease {
                title,
                release_at: Timestamp::parse(&release_at)?,
                notes,
                status: ReleaseStatus::parse(&status)?,
                marking: marking.parse()?,
            };
            new.validate()?;
            let r = ctx.store.insert_release(&new, now).await?;
            ctx.audit(None, "release.create", &format!("release/{}", r.id))
                .await?;
            if json.json {
                output::json(&r)
            } else {
                output::print(&format!(
                    "created release {} ({}), {} until {}",
                    r.id,
                    r.title,
                    r.state(now).as_str(),
                    r.release_at
                ))
            }
        }
        ReleaseCommand::List(j) => {
            let releases = ctx.store.releases().await?;
            if j.json {
                return output::json(&releases);
            }
            let mut rows = Vec::new();
            for r in &releases {
                let n = ctx.store.advisories(Some(r.id)).await?.len();
                rows.push(vec![
                    r.id.to_string(),
                    r.title.clone(),
                    r.release_at.to_rfc3339(),
                    r.state(now).as_str().into(),
                    r.marking.to_string(),
                    n.to_string(),
                ]);
            }
            output::table(
                &[
                    "ID",
                    "TITLE",
                    "RELEASE AT",
                    "STATE",
                    "MARKING",
                    "ADVISORIES",
                ],
                &rows,
            )
        }
        ReleaseCommand::Schedule { id, release_at } => {
            let mut r = get(ctx, id).await?;
            let mut what = vec!["scheduled".to_owned()];
            let release_at = release_at.as_deref().map(Timestamp::parse).transpose()?;
            if let Some(t) = release_at {
                what.push(format!("release time moved from {} to {t}", r.release_at));
            }
            let change = ReleaseChange {
                status: Some(ReleaseStatus::Scheduled),
                release_at,
                ..Default::default()
            };
            r.revise(change, &what.join("; "), now)?;
            let r = ctx.store.update_release(&r).await?;
            ctx.audit(None, "release.schedule", &format!("release/{id}"))
                .await?;
            output::print(&format!(
                "release {id} is {} (public at {})",
                r.state(now).as_str(),
                r.release_at
            ))
        }
        ReleaseCommand::Withdraw { id } => {
            let mut r = get(ctx, id).await?;
            let change = ReleaseChange {
                status: Some(ReleaseStatus::Withdrawn),
                ..Default::default()
            };
            r.revise(change, "withdrawn", now)?;
            ctx.store.update_release(&r).await?;
            ctx.audit(None, "release.withdraw", &format!("release/{id}"))
                .await?;
            output::print(&format!("release {id} withdrawn"))
        }
    }
}
