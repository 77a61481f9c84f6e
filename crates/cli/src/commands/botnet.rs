use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use isx_domain::BotnetProduct;
use isx_formats::botnet::{BotnetDefaults, BotnetInputFormat, BotnetParser};

use super::Ctx;
use crate::args::BotnetCommand;
use crate::config::Settings;
use crate::output;

pub async fn run(ctx: &Ctx, settings: &Settings, command: BotnetCommand) -> anyhow::Result<()> {
    match command {
        BotnetCommand::Import {
            paths,
            format,
            product,
            source,
            tlp,
            json,
        } => {
            let product = product
                .as_deref()
                .map(BotnetProduct::from_any)
                .transpose()
                .context("--product")?;
            let marking = tlp.parse().context("--tlp")?;
            let now = ctx.clock.now();
            let (mut events, mut errors) = (Vec::new(), Vec::new());
            for path in &paths {
                let bytes = std::fs::read(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let format = match format.as_deref() {
                    Some(f) => BotnetInputFormat::from_name(f)
                        .with_context(|| format!("--format {f:?}: expected ndjson or csv"))?,
                    None => BotnetInputFormat::detect(Some(&name), &bytes),
                };
                let mut parser = BotnetParser::new(
                    format,
                    BotnetDefaults {
                        product,
                        source: source.clone().unwrap_or_else(|| name.clone()),
                        marking,
                        received_at: now,
                    },
                );
                let text = String::from_utf8_lossy(&bytes);
                let lines = text.lines().count() as u64;
                let bar = ProgressBar::new(lines);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} {msg} [{bar:30}] {pos}/{len} lines ({per_sec})",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_message(name.clone());
                for (i, line) in text.lines().enumerate() {
                    match parser.line(line) {
                        Some(Ok(e)) => events.push(e),
                        Some(Err(e)) => errors.push(format!("{}: {e}", path.display())),
                        None => {}
                    }
                    if i % 4096 == 0 {
                        bar.set_position(i as u64);
                    }
                }
                bar.finish_and_clear();
            }
            if !errors.is_empty() {
                let shown: Vec<&String> = errors.iter().take(20).collect();
                anyhow::bail!(
                    "{} invalid row(s); nothing was imported:\n  {}{}",
                    errors.len(),
                    shown
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join("\n  "),
                    if errors.len() > 20 { "\n  …" } else { "" }
                );
            }
            let geo = isx_geo::GeoDb::open(
                settings.geoip_location.as_deref(),
                settings.geoip_asn.as_deref(),
            )?;
            let hub = isx_app::botnet::BotnetHub::default();
            let total = events.len();
            let spinner = ProgressBar::new_spinner();
            spinner.set_message(format!("matching and storing {total} events"));
            spinner.enable_steady_tick(std::time::Duration::from_millis(120));
            // One transaction: the import is all or nothing.
            let out = isx_app::botnet::ingest(&ctx.store, &geo, &hub, events, now).await?;
            spinner.finish_and_clear();
            ctx.audit(
                None,
                "botnet.import",
                &format!(
                    "events/{}-{}",
                    out.first_id.unwrap_or(0),
                    out.last_id.unwrap_or(0)
                ),
            )
            .await?;
            if json.json {
                return output::json(&out);
            }
            output::print(&format!(
                "{total} event(s): {} stored, {} already known{}",
                out.inserted,
                out.duplicates,
                if geo.status().is_configured() {
                    ""
                } else {
                    " (no geo databases configured: only the ASN and country the sources give are used)"
                }
            ))
        }
        BotnetCommand::List {
            products,
            after,
            ip,
            family,
            limit,
            json,
        } => {
            let filter = isx_app::botnet::EventFilter {
                products,
                after,
                ip,
                family,
                limit: Some(limit),
                since: None,
            };
            let q = filter.query()?;
            let list = ctx.store.botnet_events(&q).await?;
            if json.json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|s| {
                    let e = &s.event;
                    vec![
                        s.id.to_string(),
                        e.seen_at.to_rfc3339(),
                        e.product.short().to_owned(),
                        e.family.clone(),
                        e.ip.map(|i| i.to_string()).unwrap_or_default(),
                        e.domain
                            .as_ref()
                            .map(|d| d.as_str().to_owned())
                            .unwrap_or_default(),
                        e.country.map(|c| c.to_string()).unwrap_or_default(),
                        e.marking.as_str().to_owned(),
                        s.recipients
                            .iter()
                            .map(|m| m.0.to_string())
                            .collect::<Vec<_>>()
                            .join(","),
                    ]
                })
                .collect();
            output::table(
                &[
                    "ID", "SEEN", "PRODUCT", "FAMILY", "IP", "DOMAIN", "CC", "TLP", "MEMBERS",
                ],
                &rows,
            )
        }
        BotnetCommand::Feed(json) => {
            let data_dir = settings.data_dir_or("isx-data");
            let app_settings = crate::commands::serve::app_settings(settings, data_dir)?;
            let feeds = isx_app::feeds::FeedContext::new(
                &app_settings,
                ctx.store.clone(),
                Arc::clone(&ctx.clock),
            )?;
            let runs = isx_app::botnet_files::produce_due(&feeds).await?;
            if json.json {
                return output::json(&runs);
            }
            if runs.is_empty() {
                return output::print("no botnet slot is due");
            }
            let text: Vec<String> = runs
                .iter()
                .map(|r| {
                    format!(
                        "{} {}: events {}..{}",
                        r.product, r.slot, r.from_seq, r.to_seq
                    )
                })
                .collect();
            output::print(&text.join("\n"))
        }
    }
}
