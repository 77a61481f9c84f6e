use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use isx_advisories::{Advisory, KevRecord};
use serde::Serialize;

use super::Ctx;
use crate::args::AdvisoriesCommand;
use crate::output;

/// Every file named, and every *.json under the directories named, sorted.
fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(dir) = stack.pop() {
                for e in std::fs::read_dir(&dir)
                    .with_context(|| format!("cannot read {}", dir.display()))?
                {
                    let path = e?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|x| x == "json") {
                        out.push(path);
                    }
                }
            }
        } else if p.exists() {
            out.push(p.clone());
        } else {
            anyhow::bail!("{} does not exist", p.display());
        }
    }
    out.sort();
    Ok(out)
}

enum Parsed {
    /// Advisories, warnings, and the document's own marking.
    Csaf(Vec<Advisory>, Vec<String>, Option<isx_domain::Tlp>),
    Kev(Vec<KevRecord>),
    Epss(isx_formats::epss::EpssFile),
}

fn parse_file(path: &Path) -> Result<Parsed, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    if !bytes.trim_ascii_start().starts_with(b"{") {
        // FIRST's daily EPSS file, gzipped as published or plain CSV.
        let name = path.file_name().and_then(|n| n.to_str());
        return isx_app::advisories::read_epss(&bytes, name)
            .map(Parsed::Epss)
            .map_err(|e| e.to_string());
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
    if isx_formats::kev::is_kev(&doc) {
        return isx_formats::kev::parse(&bytes)
            .map(Parsed::Kev)
            .map_err(|e| e.to_string());
    }
    if isx_formats::cve5::is_cve_record(&doc) {
        let (a, w) = isx_formats::cve5::parse(&bytes).map_err(|e| e.to_string())?;
        return Ok(Parsed::Csaf(vec![a], w, None));
    }
    if doc
        .get("document")
        .and_then(|d| d.get("csaf_version"))
        .is_some()
    {
        let d = isx_formats::csaf::parse(&bytes).map_err(|e| e.to_string())?;
        return Ok(Parsed::Csaf(d.advisories, d.warnings, d.tlp));
    }
    Err(
        "neither a CSAF 2.0 document, a CVE JSON 5 record, the CISA KEV catalogue nor an EPSS file"
            .into(),
    )
}

#[derive(Serialize)]
struct Report {
    files: usize,
    advisories: isx_store::PutOutcome,
    /// The ids of the advisories the documents gave.
    stored: Vec<String>,
    known_exploited_changed: usize,
    epss: isx_app::advisories::EpssOutcome,
    skipped: Vec<String>,
    warnings: Vec<String>,
}

pub async fn run(ctx: &Ctx, command: AdvisoriesCommand) -> anyhow::Result<()> {
    match command {
        AdvisoriesCommand::Import {
            release,
            paths,
            skip_invalid,
            summary,
            json,
        } => {
            let files = collect(&paths)?;
            let bar = ProgressBar::new(files.len() as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} importing [{bar:30}] {pos}/{len} {wide_msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let (mut advisories, mut kev, mut skipped, mut warnings, mut errors) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut epss_files = Vec::new();
            let mut markings = Vec::new();
            for f in &files {
                bar.set_message(f.display().to_string());
                match parse_file(f) {
                    Ok(Parsed::Csaf(a, w, tlp)) => {
                        if let Some(t) = tlp {
                            markings.push((f.display().to_string(), t));
                        }
                        advisories.extend(a);
                        warnings.extend(w.into_iter().map(|w| format!("{}: {w}", f.display())));
                    }
                    Ok(Parsed::Kev(k)) => kev.extend(k),
                    Ok(Parsed::Epss(e)) => epss_files.push(e),
                    Err(e) if skip_invalid => skipped.push(format!("{}: {e}", f.display())),
                    Err(e) => errors.push(format!("{}: {e}", f.display())),
                }
                bar.inc(1);
            }
            bar.finish_and_clear();
            if !errors.is_empty() {
                anyhow::bail!("{} invalid document(s); nothing was imported (use --skip-invalid to import the rest):\n  {}", errors.len(), errors.join("\n  "));
            }
            let now = ctx.clock.now();
            let mut outcome = isx_store::PutOutcome::default();
            if !advisories.is_empty() {
                let id =
                    release.context("CSAF documents need --release ID (see `isx release list`)")?;
                let r = ctx
                    .store
                    .release(id)
                    .await?
                    .with_context(|| format!("no release {id}"))?;
                let refused: Vec<String> = markings
                    .iter()
                    .filter_map(|(f, t)| r.admits(Some(*t)).err().map(|e| format!("{f}: {e}")))
                    .collect();
                if !refused.is_empty() {
                    anyhow::bail!(
                        "{} document(s) marked stricter than the release; nothing was imported:\n  {}",
                        refused.len(),
                        refused.join("\n  ")
                    );
                }
                outcome = ctx
                    .store
                    .put_advisories(id, &advisories, &summary, now)
                    .await?;
                ctx.audit(None, "advisories.import", &format!("release/{id}"))
                    .await?;
            }
            let kev_changed = if kev.is_empty() {
                0
            } else {
                ctx.store.put_known_exploited(&kev).await?
            };
            // After the advisories, so that scores of the CVEs just
            // imported are kept.
            let mut epss = isx_app::advisories::EpssOutcome::default();
            for f in &epss_files {
                let o = isx_app::advisories::import_epss(ctx.store.as_ref(), f).await?;
                epss.scores += o.scores;
                epss.stored += o.stored;
                epss.other_cves += o.other_cves;
            }
            let report = Report {
                files: files.len(),
                advisories: outcome,
                stored: advisories.iter().map(|a| a.id.to_string()).collect(),
                known_exploited_changed: kev_changed,
                epss,
                skipped,
                warnings,
            };
            if json.json {
                return output::json(&report);
            }
            let mut text = format!(
                "{} file(s): {} advisories created, {} revised, {} unchanged; {} KEV entries changed",
                report.files, outcome.created, outcome.revised, outcome.unchanged, kev_changed
            );
            if !epss_files.is_empty() {
                text.push_str(&format!(
                    "; EPSS: {} scores read, {} stored or changed, {} of CVEs without an advisory here not kept",
                    epss.scores, epss.stored, epss.other_cves
                ));
            }
            if !report.stored.is_empty() {
                text.push_str(&format!("\nadvisories: {}", report.stored.join(", ")));
            }
            for s in &report.skipped {
                text.push_str(&format!("\nskipped {s}"));
            }
            for w in &report.warnings {
                text.push_str(&format!("\nwarning: {w}"));
            }
            output::print(&text)
        }
        AdvisoriesCommand::List { release, json } => {
            let list = ctx.store.advisories(release).await?;
            if json.json {
                let v: Vec<_> = list
                    .iter()
                    .map(|(r, a)| serde_json::json!({"release": r, "advisory": a}))
                    .collect();
                return output::json(&v);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|(r, a)| {
                    vec![
                        a.id.to_string(),
                        r.to_string(),
                        a.severity()
                            .map(|s| s.as_str().to_owned())
                            .unwrap_or_default(),
                        a.score().map(|s| s.to_string()).unwrap_or_default(),
                        if a.known_exploited.is_some() {
                            "yes".into()
                        } else {
                            String::new()
                        },
                        a.revision().to_string(),
                        a.title.clone(),
                    ]
                })
                .collect();
            output::table(
                &["ID", "RELEASE", "SEVERITY", "SCORE", "KEV", "REV", "TITLE"],
                &rows,
            )
        }
    }
}
