//! Clean-file files: every slot (3 hours by default) a delta of the hashes
//! added and removed since the previous slot (JSON, NDJSON, CSV) and, when
//! the set changed, the full set (NDJSON, CSV) and a DCSO Bloom filter of
//! every SHA-256, SHA-1 and MD5 in it (upper-case hex, as CIRCL's
//! hashlookup filters hold them) for offline checks. Signed and recorded
//! like the URL feed files; slots are claimed so that one node produces
//! each, and missed slots are produced on start.

use std::io::Write;
use std::sync::atomic::Ordering;

use isx_cleanfiles::bloom::DcsoBloom;
use isx_cleanfiles::record::CLEAN_MARKING;
use isx_domain::Timestamp;
use isx_store::{FeedFile, FeedRun};
use isx_urls::slot_label;
use serde::Serialize;

use crate::feeds::{AtomicFile, FeedContext};
use crate::AppError;

/// The product directory and `feed_files.product` of clean-file files.
pub const CLEANFILES: &str = "cleanfiles";
const LEASE_SECS: i64 = 30 * 60;
/// False-positive rate of the published Bloom filter.
pub const BLOOM_FPP: f64 = 0.001;

/// The clean-file files (delta, full set, Bloom filter) as the scheduler runs them.
pub struct CleanFileFiles;

#[async_trait::async_trait]
impl crate::feeds::FeedProducer for CleanFileFiles {
    fn product(&self) -> &'static str {
        CLEANFILES
    }

    fn stats<'a>(&self, ctx: &'a FeedContext) -> &'a crate::feeds::FeedStats {
        &ctx.clean_stats
    }

    async fn produce_due(&self, ctx: &FeedContext) -> Result<Vec<FeedRun>, AppError> {
        produce_due(ctx).await
    }
}

/// Produces every due slot (missed ones first).
pub async fn produce_due(ctx: &FeedContext) -> Result<Vec<FeedRun>, AppError> {
    let mut done = Vec::new();
    while let Some(slot) =
        crate::feeds::claim_next_slot(ctx, CLEANFILES, &ctx.schedule, 40, LEASE_SECS).await?
    {
        let run = produce_slot(ctx, slot).await?;
        ctx.clean_stats
            .slots_produced
            .fetch_add(1, Ordering::Relaxed);
        ctx.clean_stats
            .last_slot
            .store(slot.as_secs(), Ordering::Relaxed);
        tracing::info!(slot = %slot, from_seq = run.from_seq, to_seq = run.to_seq, "clean-file files written");
        done.push(run);
    }
    Ok(done)
}

/// One line of a delta file.
#[derive(Debug, Serialize)]
struct DeltaRow {
    op: &'static str,
    sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    md5: Option<String>,
    seq: i64,
    at: Timestamp,
}

fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> AppError + '_ {
    move |source| AppError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes the slot's files and records them. The caller holds the claim.
pub async fn produce_slot(ctx: &FeedContext, slot: Timestamp) -> Result<FeedRun, AppError> {
    let previous = ctx.store.feed_run_before(CLEANFILES, slot).await?;
    let from_seq = previous.as_ref().map_or(0, |r| r.to_seq);
    let to_seq = ctx.store.clean_seq_before(slot).await?.max(from_seq);
    let label = slot_label(slot);
    let dir = ctx.dir.join(CLEANFILES);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let period_start = previous
        .as_ref()
        .map_or(Timestamp::from_micros(0), |r| r.slot);

    // The delta: changes (from_seq, to_seq], read in pages.
    let mut rows = Vec::new();
    let mut after = from_seq;
    loop {
        let page = ctx.store.clean_changes(after, to_seq, 50_000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        rows.extend(page.into_iter().map(|c| DeltaRow {
            op: if c.added { "added" } else { "removed" },
            sha256: c.sha256.to_string(),
            sha1: c.sha1.map(|h| h.to_string()),
            md5: c.md5.map(|h| h.to_string()),
            seq: c.seq,
            at: c.at,
        }));
    }
    let mut files = Vec::new();
    for format in ["json", "ndjson", "csv"] {
        let name = format!("isx-cleanfiles-delta-{label}.{format}");
        let path = dir.join(&name);
        let mut out = AtomicFile::create(&path).map_err(io(&path))?;
        write_delta(&mut out, format, &rows).map_err(io(&path))?;
        let (size, sha256) = out.finish().map_err(io(&path))?;
        files.push(entry(
            ctx,
            name,
            "delta",
            format,
            slot,
            period_start,
            rows.len() as u64,
            size,
            sha256,
        ));
    }

    // The full set and its Bloom filter, when the set changed (or never
    // had one published).
    let had_full = match &previous {
        Some(_) => ctx
            .store
            .member_feed_files(CLEANFILES, None, 50)
            .await?
            .iter()
            .any(|f| f.kind == "full"),
        None => false,
    };
    if to_seq != from_seq || !had_full {
        files.extend(write_full(ctx, &dir, &label, slot).await?);
    }
    let run = FeedRun {
        product: CLEANFILES.to_owned(),
        slot,
        from_seq,
        to_seq,
        finished_at: ctx.clock.now(),
    };
    ctx.store.finish_feed_run(&run, &files).await?;
    Ok(run)
}

fn write_delta(out: &mut impl Write, format: &str, rows: &[DeltaRow]) -> std::io::Result<()> {
    match format {
        "json" => {
            serde_json::to_writer(&mut *out, rows)?;
            out.write_all(b"\n")
        }
        "ndjson" => {
            for r in rows {
                serde_json::to_writer(&mut *out, r)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        }
        _ => {
            out.write_all(b"op,sha256,sha1,md5,seq,at\n")?;
            for r in rows {
                writeln!(
                    out,
                    "{},{},{},{},{},{}",
                    r.op,
                    r.sha256,
                    r.sha1.as_deref().unwrap_or_default(),
                    r.md5.as_deref().unwrap_or_default(),
                    r.seq,
                    r.at.to_rfc3339()
                )?;
            }
            Ok(())
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn entry(
    ctx: &FeedContext,
    name: String,
    kind: &str,
    format: &str,
    slot: Timestamp,
    period_start: Timestamp,
    records: u64,
    size: u64,
    sha256: String,
) -> FeedFile {
    let mut file = FeedFile {
        name,
        product: CLEANFILES.to_owned(),
        kind: kind.to_owned(),
        format: format.to_owned(),
        slot,
        period_start,
        period_end: slot,
        records: i64::try_from(records).unwrap_or(i64::MAX),
        size: i64::try_from(size).unwrap_or(i64::MAX),
        sha256,
        marking: CLEAN_MARKING,
        signature: String::new(),
        created_at: ctx.clock.now(),
        member: None,
    };
    file.signature = ctx.signer.sign(&file.signed_text());
    ctx.clean_stats
        .files_written
        .fetch_add(1, Ordering::Relaxed);
    ctx.clean_stats
        .records_written
        .fetch_add(records, Ordering::Relaxed);
    file
}

/// The full set (NDJSON, CSV) and the Bloom filter, in one pass over the
/// store in SHA-256 order.
async fn write_full(
    ctx: &FeedContext,
    dir: &std::path::Path,
    label: &str,
    slot: Timestamp,
) -> Result<Vec<FeedFile>, AppError> {
    let stats = ctx.store.clean_stats().await?;
    let names = [
        format!("isx-cleanfiles-full-{label}.ndjson"),
        format!("isx-cleanfiles-full-{label}.csv"),
        format!("isx-cleanfiles-full-{label}.bloom"),
    ];
    let [nd_path, csv_path, bf_path] = names.each_ref().map(|n| dir.join(n));
    let mut ndjson = AtomicFile::create(&nd_path).map_err(io(&nd_path))?;
    let mut csv = AtomicFile::create(&csv_path).map_err(io(&csv_path))?;
    csv.write_all(b"sha256,sha1,md5,size,file_name,product,version,vendor,source\r\n")
        .map_err(io(&csv_path))?;
    let mut bloom = DcsoBloom::with_capacity((stats.files * 3).max(1000), BLOOM_FPP);
    let records = ctx
        .store
        .for_each_clean_file(&mut |f| {
            serde_json::to_writer(&mut ndjson, &f)?;
            ndjson.write_all(b"\n")?;
            let cells = [
                f.sha256.to_string(),
                f.sha1.map(|h| h.to_string()).unwrap_or_default(),
                f.md5.map(|h| h.to_string()).unwrap_or_default(),
                f.size.map(|s| s.to_string()).unwrap_or_default(),
                f.file_name.clone(),
                f.product.clone().unwrap_or_default(),
                f.version.clone().unwrap_or_default(),
                f.vendor.clone().unwrap_or_default(),
                f.source.clone(),
            ];
            csv.write_all(isx_formats::csv_row(&cells).as_bytes())?;
            bloom.insert(f.sha256.to_upper().as_bytes());
            if let Some(h) = f.sha1 {
                bloom.insert(h.to_upper().as_bytes());
            }
            if let Some(h) = f.md5 {
                bloom.insert(h.to_upper().as_bytes());
            }
            Ok(())
        })
        .await?;
    let (nd_size, nd_sha) = ndjson.finish().map_err(io(&nd_path))?;
    let (csv_size, csv_sha) = csv.finish().map_err(io(&csv_path))?;
    let mut bf = AtomicFile::create(&bf_path).map_err(io(&bf_path))?;
    bloom.write_to(&mut bf).map_err(io(&bf_path))?;
    let (bf_size, bf_sha) = bf.finish().map_err(io(&bf_path))?;
    let start = Timestamp::from_micros(0);
    let [n0, n1, n2] = names;
    Ok(vec![
        entry(
            ctx, n0, "full", "ndjson", slot, start, records, nd_size, nd_sha,
        ),
        entry(
            ctx, n1, "full", "csv", slot, start, records, csv_size, csv_sha,
        ),
        entry(
            ctx,
            n2,
            "full",
            "bloom",
            slot,
            start,
            bloom.count(),
            bf_size,
            bf_sha,
        ),
    ])
}
