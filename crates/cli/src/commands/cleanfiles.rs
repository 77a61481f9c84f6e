//! `isx cleanfiles`: import known-good hash sets, look up, remove, stats,
//! produce the files.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use isx_app::cleanfiles::CleanIndex;
use isx_cleanfiles::{CleanFile, HashAlgo, HashValue, Sha256};
use isx_formats::cleanfiles::{CleanListFormat, CleanListParser};
use isx_store::nsrl::{looks_like_sqlite, NsrlReader};

use super::Ctx;
use crate::args::CleanfilesCommand;
use crate::config::Settings;
use crate::output;

/// Records per transaction of an import.
const CHUNK: usize = 50_000;

fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(what.to_owned());
    bar
}

/// The local index over the data directory, opened (or rebuilt) and
/// brought up to date with the store.
pub async fn local_index(ctx: &Ctx, settings: &Settings) -> anyhow::Result<CleanIndex> {
    let dir = settings.data_dir_or("isx-data").join("cleanfiles");
    let index = CleanIndex::new(&dir);
    index
        .sync(ctx.store.as_ref())
        .await
        .context("cannot open the clean-file hash set")?;
    Ok(index)
}

/// Reads hashes from arguments and an optional file (one per line).
fn hash_args(hashes: Vec<String>, file: Option<&Path>) -> anyhow::Result<Vec<String>> {
    let mut all = hashes;
    if let Some(f) = file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        all.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned),
        );
    }
    anyhow::ensure!(!all.is_empty(), "no hashes given (arguments or --file)");
    Ok(all)
}

pub async fn run(ctx: &Ctx, settings: &Settings, command: CleanfilesCommand) -> anyhow::Result<()> {
    match command {
        CleanfilesCommand::Import {
            paths,
            format,
            source,
            json,
        } => {
            import(
                ctx,
                settings,
                &paths,
                format.as_deref(),
                source.as_deref(),
                json.json,
            )
            .await
        }
        CleanfilesCommand::Lookup {
            hashes,
            file,
            output,
        } => {
            let hashes = hash_args(hashes, file.as_deref())?;
            let index = local_index(ctx, settings).await?;
            let answers = lookup(ctx, &index, &hashes).await?;
            print_answers(&answers, &output)
        }
        CleanfilesCommand::Remove { hashes, file, json } => {
            let list: Vec<Sha256> = hash_args(hashes, file.as_deref())?
                .iter()
                .map(|h| Sha256::parse(h).with_context(|| format!("{h:?}")))
                .collect::<anyhow::Result<_>>()?;
            let n = ctx.store.remove_clean_files(&list, ctx.clock.now()).await?;
            ctx.audit(None, "cleanfiles.remove", &format!("files/{n}"))
                .await?;
            local_index(ctx, settings).await?;
            if json.json {
                return output::json(&serde_json::json!({ "removed": n }));
            }
            output::print(&format!("{n} of {} file(s) removed", list.len()))
        }
        CleanfilesCommand::Stats(json) => {
            let index = local_index(ctx, settings).await?;
            let s = ctx.store.clean_stats().await?;
            let view = index.view();
            let keys = view.file_keys(HashAlgo::Sha256).max(1);
            let per_entry = view.file_bytes(HashAlgo::Sha256) as f64 / keys as f64;
            if json.json {
                return output::json(&serde_json::json!({
                    "files": s.files, "sources": s.sources, "vendors": s.vendors,
                    "products": s.products, "seq": s.seq, "index_seq": view.seq(),
                    "bytes_per_sha256": per_entry,
                }));
            }
            let mut text = format!(
                "{} known-good file(s); hash set at change {} ({per_entry:.1} bytes per SHA-256)\n",
                s.files,
                view.seq()
            );
            for (title, list) in [
                ("sources", &s.sources),
                ("vendors", &s.vendors),
                ("products", &s.products),
            ] {
                text.push_str(&format!("\n{title}:\n"));
                for (name, n) in list.iter() {
                    text.push_str(&format!("  {n:>10}  {name}\n"));
                }
            }
            output::print(&text)
        }
        CleanfilesCommand::Feed(json) => {
            let data_dir = settings.data_dir_or("isx-data");
            let app_settings = crate::commands::serve::app_settings(settings, data_dir)?;
            let feeds = isx_app::feeds::FeedContext::new(
                &app_settings,
                ctx.store.clone(),
                Arc::clone(&ctx.clock),
            )?;
            let runs = isx_app::cleanfile_files::produce_due(&feeds).await?;
            if json.json {
                return output::json(&runs);
            }
            if runs.is_empty() {
                return output::print("no clean-file slot is due");
            }
            let text: Vec<String> = runs
                .iter()
                .map(|r| format!("{}: changes {}..{}", r.slot, r.from_seq, r.to_seq))
                .collect();
            output::print(&text.join("\n"))
        }
    }
}

/// An input of an import: a list file read whole, or an RDS database.
enum Input {
    List(Vec<CleanFile>),
    Nsrl(NsrlReader, u64),
}

async fn import(
    ctx: &Ctx,
    settings: &Settings,
    paths: &[std::path::PathBuf],
    format: Option<&str>,
    source: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    // First every input is read and checked; nothing is written before.
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let head = {
            use std::io::Read;
            let mut b = vec![0u8; 4096];
            let n = std::fs::File::open(path)
                .and_then(|mut f| f.read(&mut b))
                .with_context(|| format!("cannot read {}", path.display()))?;
            b.truncate(n);
            b
        };
        if format == Some("nsrl") || (format.is_none() && looks_like_sqlite(&head)) {
            let reader = NsrlReader::open(path).await?;
            let rows = reader.count().await?;
            let b = bar(rows, &format!("checking {name}"));
            let mut after = 0i64;
            loop {
                let page = reader.page(after, CHUNK as u32).await?;
                let Some((last, _)) = page.last() else { break };
                after = *last;
                b.inc(page.len() as u64);
                for (row, r) in page {
                    if let Err(e) = r {
                        errors.push(format!("{}: FILE row {row}: {e}", path.display()));
                    }
                }
            }
            b.finish_and_clear();
            inputs.push((name, Input::Nsrl(reader, rows)));
            continue;
        }
        let list_format = match format {
            Some(f) => CleanListFormat::from_name(f)
                .with_context(|| format!("--format {f:?}: expected nsrl, csv, ndjson or hashes"))?,
            None => CleanListFormat::detect(Some(&name), &head),
        };
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        let mut parser = CleanListParser::new(list_format, source.unwrap_or(&name));
        let b = bar(text.lines().count() as u64, &format!("reading {name}"));
        let mut files = Vec::new();
        for (i, line) in text.lines().enumerate() {
            match parser.line(line) {
                Some(Ok(f)) => files.push(f),
                Some(Err(e)) => errors.push(format!("{}: {e}", path.display())),
                None => {}
            }
            if i % 8192 == 0 {
                b.set_position(i as u64);
            }
        }
        b.finish_and_clear();
        inputs.push((name, Input::List(files)));
    }
    if !errors.is_empty() {
        let shown: Vec<&str> = errors.iter().take(20).map(String::as_str).collect();
        anyhow::bail!(
            "{} invalid row(s); nothing was imported:\n  {}{}",
            errors.len(),
            shown.join("\n  "),
            if errors.len() > 20 { "\n  …" } else { "" }
        );
    }
    let (mut added, mut unchanged, mut seq) = (0u64, 0u64, 0i64);
    for (name, input) in inputs {
        let store_chunk = |chunk: Vec<CleanFile>| {
            let store = ctx.store.clone();
            let now = ctx.clock.now();
            async move { store.import_clean_files(&chunk, now).await }
        };
        match input {
            Input::List(files) => {
                let b = bar(files.len() as u64, &format!("importing {name}"));
                for chunk in files.chunks(CHUNK) {
                    let out = store_chunk(chunk.to_vec()).await?;
                    (added, unchanged, seq) =
                        (added + out.added, unchanged + out.unchanged, out.seq);
                    b.inc(chunk.len() as u64);
                }
                b.finish_and_clear();
            }
            Input::Nsrl(reader, rows) => {
                let b = bar(rows, &format!("importing {name}"));
                let mut after = 0i64;
                loop {
                    let page = reader.page(after, CHUNK as u32).await?;
                    let Some((last, _)) = page.last() else { break };
                    after = *last;
                    let len = page.len() as u64;
                    let files: Vec<CleanFile> =
                        page.into_iter().filter_map(|(_, r)| r.ok()).collect();
                    let out = store_chunk(files).await?;
                    (added, unchanged, seq) =
                        (added + out.added, unchanged + out.unchanged, out.seq);
                    b.inc(len);
                }
                b.finish_and_clear();
            }
        }
    }
    ctx.audit(None, "cleanfiles.import", &format!("seq/{seq}"))
        .await?;
    // Bring this data directory's hash set up to date (a running server
    // follows the store by itself).
    local_index(ctx, settings).await?;
    if json {
        return output::json(&serde_json::json!({
            "added": added, "unchanged": unchanged, "seq": seq
        }));
    }
    output::print(&format!(
        "{} file(s): {added} added, {unchanged} already known",
        added + unchanged
    ))
}

/// One looked-up hash.
#[derive(Debug, serde::Serialize)]
pub struct Answer {
    pub hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<&'static str>,
    pub known: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<CleanFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Looks hashes up in the local index, metadata from the store.
pub async fn lookup(
    ctx: &Ctx,
    index: &CleanIndex,
    hashes: &[String],
) -> anyhow::Result<Vec<Answer>> {
    let view = index.view();
    let mut out = Vec::with_capacity(hashes.len());
    for chunk in hashes.chunks(10_000) {
        let parsed: Vec<Result<HashValue, String>> = chunk
            .iter()
            .map(|h| HashValue::parse(h).map_err(|e| e.to_string()))
            .collect();
        let answers =
            isx_app::cleanfiles::look_up(ctx.store.as_ref(), &view, &parsed, true).await?;
        for ((raw, p), a) in chunk.iter().zip(parsed).zip(answers) {
            out.push(match p {
                Ok(v) => {
                    let file = a.and_then(|k| k.files.into_iter().next());
                    Answer {
                        hash: v.to_string(),
                        algorithm: Some(v.algo().as_str()),
                        known: file.is_some(),
                        file,
                        error: None,
                    }
                }
                Err(e) => Answer {
                    hash: raw.clone(),
                    algorithm: None,
                    known: false,
                    file: None,
                    error: Some(e),
                },
            });
        }
    }
    Ok(out)
}

fn print_answers(answers: &[Answer], format: &str) -> anyhow::Result<()> {
    match format {
        "json" => output::json(&answers),
        "csv" => {
            let mut text = String::from(
                "hash,algorithm,known,file_name,product,version,vendor,source,error\n",
            );
            for a in answers {
                let f = a.file.as_ref();
                let cells = [
                    a.hash.clone(),
                    a.algorithm.unwrap_or_default().to_owned(),
                    a.known.to_string(),
                    f.map(|f| f.file_name.clone()).unwrap_or_default(),
                    f.and_then(|f| f.product.clone()).unwrap_or_default(),
                    f.and_then(|f| f.version.clone()).unwrap_or_default(),
                    f.and_then(|f| f.vendor.clone()).unwrap_or_default(),
                    f.map(|f| f.source.clone()).unwrap_or_default(),
                    a.error.clone().unwrap_or_default(),
                ];
                text.push_str(&isx_formats::csv_row(&cells));
            }
            output::print(&text)
        }
        "table" => {
            let rows: Vec<Vec<String>> = answers
                .iter()
                .map(|a| {
                    let f = a.file.as_ref();
                    vec![
                        a.hash.clone(),
                        match (&a.error, a.known) {
                            (Some(_), _) => "invalid".into(),
                            (None, true) => "known-good".into(),
                            (None, false) => "unknown".into(),
                        },
                        f.map(|f| f.file_name.clone())
                            .or_else(|| a.error.clone())
                            .unwrap_or_default(),
                        f.map(CleanFile::product_label).unwrap_or_default(),
                    ]
                })
                .collect();
            output::table(&["HASH", "STATUS", "FILE", "PRODUCT"], &rows)
        }
        other => anyhow::bail!("--output {other:?}: expected table, json or csv"),
    }
}
