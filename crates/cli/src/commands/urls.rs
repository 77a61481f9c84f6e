use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use isx_app::urls::{ImportOptions, ImportReport};
use isx_formats::feed::FeedFormat;
use isx_formats::urls::{UrlFeedWriter, UrlInputFormat};
use isx_store::UrlQuery;

use super::Ctx;
use crate::args::{UrlFilterArgs, UrlsCommand};
use crate::config::Settings;
use crate::output;

/// The filter flags, read and checked by the same code as the API's.
fn query(f: &UrlFilterArgs) -> anyhow::Result<UrlQuery> {
    let filter = isx_app::urls::UrlFilter {
        q: f.q.clone(),
        host: f.host.clone(),
        domain: f.domain.clone(),
        ip: f.ip.clone(),
        asn: f.asn.clone(),
        country: f.country.clone(),
        threat: f.threat.clone(),
        since: f.since.clone(),
        until: f.until.clone(),
        ..Default::default()
    };
    let mut q = filter.query()?;
    q.limit = f.limit.clamp(1, 100_000);
    Ok(q)
}

fn geo(settings: &Settings) -> anyhow::Result<isx_geo::GeoDb> {
    Ok(isx_geo::GeoDb::open(
        settings.geoip_location.as_deref(),
        settings.geoip_asn.as_deref(),
    )?)
}

pub async fn run(ctx: &Ctx, settings: &Settings, command: UrlsCommand) -> anyhow::Result<()> {
    match command {
        UrlsCommand::Import {
            paths,
            format,
            source,
            tlp,
            confidence,
            threat,
            skip_invalid,
            json,
        } => {
            let format = match format.as_deref() {
                None => None,
                Some(f) => Some(
                    UrlInputFormat::from_name(f)
                        .with_context(|| format!("--format {f:?}: expected json, ndjson or csv"))?,
                ),
            };
            anyhow::ensure!(confidence <= 100, "--confidence must be 0 to 100");
            let geo = geo(settings)?;
            let now = ctx.clock.now();
            let (mut good, mut bad) = (Vec::new(), Vec::new());
            let mut opts = ImportOptions::default();
            for path in &paths {
                let bytes = std::fs::read(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                opts = ImportOptions {
                    format,
                    name: Some(name.clone()),
                    source: source.clone().unwrap_or_else(|| name.clone()),
                    tlp: tlp.parse()?,
                    confidence,
                    threat: threat.parse()?,
                    skip_invalid,
                };
                let bar = ProgressBar::new(0);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} {msg} [{bar:30}] {pos}/{len} rows ({per_sec})",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_message(name.clone());
                let (g, b) = isx_app::urls::check(&bytes, &opts, &geo, now, |done, total| {
                    if done == 1 {
                        bar.set_length(total as u64);
                    }
                    if done % 1024 == 0 || done == total {
                        bar.set_position(done as u64);
                    }
                })
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                bar.finish_and_clear();
                good.extend(g);
                bad.extend(b.into_iter().map(|e| format!("{}: {e}", path.display())));
            }
            if paths.len() > 1 {
                opts.name = Some(format!("{} files", paths.len()));
            }
            let spinner = ProgressBar::new_spinner();
            spinner.set_message(format!("storing {} rows", good.len()));
            spinner.enable_steady_tick(std::time::Duration::from_millis(120));
            let result = isx_app::urls::store_checked(
                ctx.store.as_ref(),
                &geo,
                good,
                bad,
                &opts,
                &ctx.actor,
                now,
            )
            .await;
            spinner.finish_and_clear();
            let report: ImportReport = match result {
                Ok(r) => r,
                Err(isx_app::urls::ImportError::Rows { errors, total }) => anyhow::bail!(
                    "{total} invalid row(s); nothing was imported (use --skip-invalid to import the rest):\n  {}",
                    errors.join("\n  ")
                ),
                Err(e) => return Err(e.into()),
            };
            ctx.audit(
                None,
                "urls.import",
                &format!(
                    "batch/{}",
                    report.batch.map_or("none".into(), |b| b.to_string())
                ),
            )
            .await?;
            if json.json {
                return output::json(&report);
            }
            let mut text = format!(
                "{} row(s): {} new URLs, {} updated, {} already known, {} skipped{}",
                report.rows,
                report.created,
                report.updated,
                report.unchanged,
                report.skipped_total,
                if report.geo_enrichment {
                    ""
                } else {
                    " (no geo databases configured: only the geo fields of the sources are kept)"
                }
            );
            for s in &report.skipped {
                text.push_str(&format!("\nskipped {s}"));
            }
            output::print(&text)
        }
        UrlsCommand::List { filter, json } => {
            let q = isx_app::urls::for_operator(query(&filter)?, ctx.clock.now());
            let list = ctx.store.url_records(&q).await?;
            if json.json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|r| {
                    vec![
                        r.last_seen.to_rfc3339(),
                        r.threat.to_string(),
                        r.ip.map(|i| i.to_string()).unwrap_or_default(),
                        r.geo.country.map(|c| c.to_string()).unwrap_or_default(),
                        r.geo.asn.map(|a| a.to_string()).unwrap_or_default(),
                        r.tlp.as_str().to_owned(),
                        r.times_seen.to_string(),
                        r.url.clone(),
                    ]
                })
                .collect();
            output::table(
                &[
                    "LAST SEEN",
                    "THREAT",
                    "IP",
                    "CC",
                    "ASN",
                    "TLP",
                    "SEEN",
                    "URL",
                ],
                &rows,
            )
        }
        UrlsCommand::Export {
            filter,
            format,
            output: out_path,
        } => {
            let format = FeedFormat::parse(&format).with_context(|| {
                format!("--format {format:?}: expected json, ndjson, csv or stix")
            })?;
            let q = isx_app::urls::for_operator(query(&filter)?, ctx.clock.now());
            let sink: Box<dyn Write + Send> = match &out_path {
                Some(p) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("cannot create {}", p.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout())),
            };
            let mut w = UrlFeedWriter::new(sink, format, "isx", "cli-export")?;
            // Every matching record (--limit does not apply), one streaming read.
            ctx.store.for_each_url(&q, &mut |r| w.write(&r)).await?;
            let (mut sink, n, _) = w.finish()?;
            sink.flush()?;
            if let Some(p) = out_path {
                eprintln!("{n} record(s) written to {}", p.display());
            }
            Ok(())
        }
        UrlsCommand::Feed(json) => {
            let data_dir = settings.data_dir_or("isx-data");
            let app_settings = crate::commands::serve::app_settings(settings, data_dir)?;
            let feeds = isx_app::feeds::FeedContext::new(
                &app_settings,
                ctx.store.clone(),
                Arc::clone(&ctx.clock),
            )?;
            let runs = isx_app::url_files::produce_due(&feeds).await?;
            if json.json {
                return output::json(&runs);
            }
            if runs.is_empty() {
                return output::print("no feed slot is due (the latest one is already produced)");
            }
            let mut text = String::new();
            for r in &runs {
                text.push_str(&format!(
                    "slot {}: batches {}..{} written to {}\n",
                    r.slot,
                    r.from_seq,
                    r.to_seq,
                    feeds.dir.join(isx_app::url_files::URLS).display()
                ));
            }
            output::print(&text)
        }
    }
}
