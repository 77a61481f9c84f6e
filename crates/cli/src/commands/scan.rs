//! `isx scan DIR`: hash every file of a tree in parallel and report which
//! are known-good and which are unknown.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use isx_cleanfiles::bloom::DcsoBloom;
use isx_cleanfiles::CleanFile;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Ctx;
use crate::args::ScanArgs;
use crate::config::Settings;
use crate::output;

/// One scanned file.
#[derive(Debug, Serialize)]
struct Scanned {
    path: String,
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    /// `known-good`, `unknown`, or `error`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<CleanFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Every regular file below `dir` with its size (links not followed).
fn walk(dir: &Path, out: &mut Vec<(PathBuf, u64)>, errors: &mut Vec<(PathBuf, String)>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push((dir.to_owned(), e.to_string()));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => walk(&path, out, errors),
            Ok(m) if m.is_file() => out.push((path, m.len())),
            Ok(_) => {}
            Err(e) => errors.push((path, e.to_string())),
        }
    }
}

fn sha256_of(path: &Path, bar: &ProgressBar) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        bar.inc(n as u64);
    }
    Ok(hex::encode(h.finalize()))
}

/// Hashes `files` on `jobs` threads; one result per file, in order.
fn hash_all(
    files: &[(PathBuf, u64)],
    jobs: usize,
    bar: &ProgressBar,
) -> Vec<Result<String, String>> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<String, String>>>> =
        files.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((path, _)) = files.get(i) else { break };
                let r = sha256_of(path, bar).map_err(|e| e.to_string());
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(r);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| Err("not hashed".into()))
        })
        .collect()
}

/// Known-good answers (and metadata) for SHA-256 values, from where the
/// arguments say.
async fn answers(
    settings: &Settings,
    args: &ScanArgs,
    hashes: &[String],
) -> anyhow::Result<Vec<(bool, Option<CleanFile>)>> {
    if let Some(path) = &args.bloom {
        let mut f =
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let bloom = DcsoBloom::read_from(&mut f)
            .with_context(|| format!("{}: not a DCSO Bloom filter", path.display()))?;
        return Ok(hashes
            .iter()
            .map(|h| (bloom.contains(h.to_uppercase().as_bytes()), None))
            .collect());
    }
    if let Some(server) = &args.server {
        return remote(server, args, hashes).await;
    }
    let ctx = Ctx::open(settings).await?;
    let index = super::cleanfiles::local_index(&ctx, settings).await?;
    Ok(super::cleanfiles::lookup(&ctx, &index, hashes)
        .await?
        .into_iter()
        .map(|a| (a.known, a.file))
        .collect())
}

/// Bulk lookups on a remote isx, 100,000 hashes per request.
async fn remote(
    server: &str,
    args: &ScanArgs,
    hashes: &[String],
) -> anyhow::Result<Vec<(bool, Option<CleanFile>)>> {
    let key = args
        .api_key
        .as_deref()
        .context("--server needs --api-key (or ISX_API_KEY)")?;
    let mut builder = reqwest::Client::builder();
    if let Some(ca) = &args.ca {
        let pem = std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))?;
        builder = builder.add_root_certificate(
            reqwest::Certificate::from_pem(&pem).context("--ca: not a PEM certificate")?,
        );
    }
    let client = builder.build()?;
    let url = format!("{}/api/v1/cleanfiles/lookup", server.trim_end_matches('/'));
    let mut out = Vec::with_capacity(hashes.len());
    for chunk in hashes.chunks(100_000) {
        let res = client
            .post(&url)
            .bearer_auth(key)
            .header("content-type", "text/plain")
            .header("accept", "application/x-ndjson")
            .body(chunk.join("\n"))
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = res.status();
        let text = res.text().await?;
        anyhow::ensure!(status.is_success(), "{url}: {status}: {text}");
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).context("answer line")?;
            let file = v
                .get("file")
                .and_then(|f| serde_json::from_value(f.clone()).ok());
            out.push((v["known"].as_bool().unwrap_or(false), file));
        }
    }
    anyhow::ensure!(
        out.len() == hashes.len(),
        "{url} answered {} of {} hashes",
        out.len(),
        hashes.len()
    );
    Ok(out)
}

pub async fn run(settings: &Settings, args: &ScanArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        matches!(args.output.as_str(), "table" | "json" | "csv"),
        "--output {:?}: expected table, json or csv",
        args.output
    );
    anyhow::ensure!(
        args.dir.is_dir(),
        "{} is not a directory",
        args.dir.display()
    );
    let mut files = Vec::new();
    let mut walk_errors = Vec::new();
    walk(&args.dir, &mut files, &mut walk_errors);
    files.sort();
    let total: u64 = files.iter().map(|(_, s)| *s).sum();
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} hashing {msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(format!("{} files", files.len()));
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let hashed = {
        let files = files.clone();
        let bar = bar.clone();
        tokio::task::spawn_blocking(move || hash_all(&files, jobs, &bar)).await?
    };
    bar.finish_and_clear();
    let ok: Vec<String> = hashed
        .iter()
        .filter_map(|r| r.as_ref().ok().cloned())
        .collect();
    let mut known = answers(settings, args, &ok).await?.into_iter();
    let mut rows = Vec::new();
    for ((path, size), h) in files.iter().zip(hashed) {
        let row = match h {
            Ok(sha) => {
                let (k, file) = known.next().unwrap_or((false, None));
                Scanned {
                    path: path.display().to_string(),
                    size: *size,
                    sha256: Some(sha),
                    status: if k { "known-good" } else { "unknown" },
                    file,
                    error: None,
                }
            }
            Err(e) => Scanned {
                path: path.display().to_string(),
                size: *size,
                sha256: None,
                status: "error",
                file: None,
                error: Some(e),
            },
        };
        rows.push(row);
    }
    rows.extend(walk_errors.into_iter().map(|(p, e)| Scanned {
        path: p.display().to_string(),
        size: 0,
        sha256: None,
        status: "error",
        file: None,
        error: Some(e),
    }));
    let counts = (
        rows.iter().filter(|r| r.status == "known-good").count(),
        rows.iter().filter(|r| r.status == "unknown").count(),
        rows.iter().filter(|r| r.status == "error").count(),
    );
    if args.unknown_only {
        rows.retain(|r| r.status != "known-good");
    }
    eprintln!(
        "{} file(s): {} known-good, {} unknown, {} unreadable",
        files.len(),
        counts.0,
        counts.1,
        counts.2
    );
    match args.output.as_str() {
        "json" => output::json(&rows),
        "csv" => {
            let mut text = String::from(
                "path,size,sha256,status,file_name,product,version,vendor,source,error\n",
            );
            for r in &rows {
                let f = r.file.as_ref();
                text.push_str(&isx_formats::csv_row(&[
                    r.path.clone(),
                    r.size.to_string(),
                    r.sha256.clone().unwrap_or_default(),
                    r.status.to_owned(),
                    f.map(|f| f.file_name.clone()).unwrap_or_default(),
                    f.and_then(|f| f.product.clone()).unwrap_or_default(),
                    f.and_then(|f| f.version.clone()).unwrap_or_default(),
                    f.and_then(|f| f.vendor.clone()).unwrap_or_default(),
                    f.map(|f| f.source.clone()).unwrap_or_default(),
                    r.error.clone().unwrap_or_default(),
                ]));
            }
            output::print(&text)
        }
        _ => {
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.status.to_owned(),
                        r.sha256.clone().unwrap_or_default(),
                        r.path.clone(),
                        r.file
                            .as_ref()
                            .map(CleanFile::product_label)
                            .or_else(|| r.error.clone())
                            .unwrap_or_default(),
                    ]
                })
                .collect();
            output::table(&["STATUS", "SHA256", "PATH", "PRODUCT"], &table)
        }
    }
}
