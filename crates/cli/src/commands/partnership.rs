//! `isx partnership`: content of trust groups from files.

use std::sync::Arc;

use anyhow::Context;

use super::Ctx;
use crate::args::PartnershipCommand;
use crate::config::Settings;
use crate::output;

pub async fn run(
    ctx: &Ctx,
    settings: &Settings,
    command: PartnershipCommand,
) -> anyhow::Result<()> {
    match command {
        PartnershipCommand::Import {
            group,
            member,
            pii,
            keep,
            anonymous,
            file,
            json,
        } => {
            let g = ctx.group(&group).await?;
            let m = ctx.member(&member).await?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let mut answer = isx_app::misp_import::PiiAnswer::default();
            match pii.as_deref() {
                None => {}
                Some("redact-all") => answer.redact_all = true,
                Some(other) => anyhow::bail!("--pii {other:?}: the one answer is redact-all"),
            }
            answer.choices.keep = keep;
            let data_dir = settings.data_dir_or("isx-data");
            let app_settings = crate::commands::serve::app_settings(settings, data_dir)?;
            let app = isx_app::App::new(app_settings, ctx.store.clone(), Arc::clone(&ctx.clock))?;
            let member_id = m.id;
            let caller = isx_app::identity::member_caller(ctx.store.as_ref(), m).await?;
            let outcome =
                isx_app::misp_import::import(&app, &caller, g.id, &bytes, anonymous, &answer)
                    .await
                    .with_context(|| format!("{}: nothing was imported", file.display()))?;
            ctx.audit(
                Some(member_id),
                "contribution.import",
                &format!(
                    "group/{}/misp/{}-events/{}-added",
                    g.id, outcome.events, outcome.added
                ),
            )
            .await?;
            if json.json {
                return output::json(&outcome);
            }
            let mut text = format!(
                "{}: {} events, {} contributions added to {}, {} already there",
                file.display(),
                outcome.events,
                outcome.added,
                g.name,
                outcome.unchanged
            );
            if outcome.redacted + outcome.kept > 0 {
                text.push_str(&format!(
                    "; personal data: {} redacted, {} kept",
                    outcome.redacted, outcome.kept
                ));
            }
            if !outcome.skipped.is_empty() {
                let list: Vec<String> = outcome
                    .skipped
                    .iter()
                    .map(|(why, n)| format!("{n} × {why}"))
                    .collect();
                text.push_str(&format!("\nnot imported: {}", list.join(", ")));
            }
            output::print(&text)
        }
    }
}
