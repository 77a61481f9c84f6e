//! Malicious-URL feed files: per slot, the increment since the previous
//! slot and the rolling full set, in every format, signed.

use std::path::Path;
use std::sync::atomic::Ordering;

use isx_domain::{Timestamp, Tlp};
use isx_formats::feed::FeedFormat;
use isx_formats::urls::UrlFeedWriter;
use isx_store::{FeedFile, FeedRun, UrlQuery};
use isx_urls::slot_label;

use crate::feeds::{claim_next_slot, AtomicFile, FeedContext, FeedProducer, FeedStats, LEASE_SECS};
use crate::AppError;

/// The product name of malicious-URL feed files.
pub const URLS: &str = "urls";

/// The URL feed as the scheduler runs it.
pub struct UrlFeed;

#[async_trait::async_trait]
impl FeedProducer for UrlFeed {
    fn product(&self) -> &'static str {
        URLS
    }

    fn stats<'a>(&self, ctx: &'a FeedContext) -> &'a FeedStats {
        &ctx.stats
    }

    async fn produce_due(&self, ctx: &FeedContext) -> Result<Vec<FeedRun>, AppError> {
        produce_due(ctx).await
    }
}

/// Produces every due slot (missed ones first). Returns the runs this node
/// produced; slots another node holds are left to it.
pub async fn produce_due(ctx: &FeedContext) -> Result<Vec<FeedRun>, AppError> {
    let mut produced = Vec::new();
    while let Some(slot) = claim_next_slot(ctx, URLS, &ctx.schedule, 40, LEASE_SECS).await? {
        let started = std::time::Instant::now();
        let run = produce_slot(ctx, slot).await?;
        ctx.stats.slots_produced.fetch_add(1, Ordering::Relaxed);
        ctx.stats.last_slot.store(slot.as_secs(), Ordering::Relaxed);
        ctx.stats.last_run_millis.store(
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        tracing::info!(slot = %slot, from_seq = run.from_seq, to_seq = run.to_seq, "URL feed files written");
        produced.push(run);
    }
    Ok(produced)
}

/// Writes the increment and the full set of one slot in every format and
/// records them. The caller holds the slot's claim.
pub async fn produce_slot(ctx: &FeedContext, slot: Timestamp) -> Result<FeedRun, AppError> {
    let previous = ctx.store.feed_run_before(URLS, slot).await?;
    let from_seq = previous.as_ref().map_or(0, |r| r.to_seq);
    let to_seq = ctx.store.url_seq_before(slot).await?.max(from_seq);
    let label = slot_label(slot);
    let dir = ctx.dir.join(URLS);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|source| AppError::Io {
            path: dir.clone(),
            source,
        })?;
    let increment = UrlQuery {
        changed_after_seq: Some(from_seq),
        changed_upto_seq: Some(to_seq),
        markings: ctx.markings.clone(),
        ..UrlQuery::default()
    };
    let window_start = ctx.schedule.window_start(slot);
    let full = UrlQuery {
        since: Some(window_start),
        markings: ctx.markings.clone(),
        ..UrlQuery::default()
    };
    let increment_start = previous.map_or(Timestamp::from_micros(0), |r| r.slot);
    let mut files = Vec::new();
    for (kind, query, start) in [
        ("increment", &increment, increment_start),
        ("full", &full, window_start),
    ] {
        for format in FeedFormat::ALL {
            let name = format!("isx-urls-{kind}-{label}.{}", format.extension());
            let path = dir.join(&name);
            let (records, size, sha256, strictest) =
                write_file(ctx, &path, format, query, &format!("{URLS}/{name}")).await?;
            let mut file = FeedFile {
                name,
                product: URLS.to_owned(),
                kind: kind.to_owned(),
                format: format.as_str().to_owned(),
                slot,
                period_start: start,
                period_end: slot,
                records: i64::try_from(records).unwrap_or(i64::MAX),
                size: i64::try_from(size).unwrap_or(i64::MAX),
                sha256,
                marking: strictest.unwrap_or(Tlp::Clear),
                signature: String::new(),
                created_at: ctx.clock.now(),
                member: None,
            };
            file.signature = ctx.signer.sign(&file.signed_text());
            ctx.stats.files_written.fetch_add(1, Ordering::Relaxed);
            ctx.stats
                .records_written
                .fetch_add(records, Ordering::Relaxed);
            files.push(file);
        }
    }
    let run = FeedRun {
        product: URLS.to_owned(),
        slot,
        from_seq,
        to_seq,
        finished_at: ctx.clock.now(),
    };
    ctx.store.finish_feed_run(&run, &files).await?;
    Ok(run)
}

/// Writes one file atomically; returns (records, bytes, SHA-256 hex,
/// strictest marking).
async fn write_file(
    ctx: &FeedContext,
    path: &Path,
    format: FeedFormat,
    query: &UrlQuery,
    bundle_key: &str,
) -> Result<(u64, u64, String, Option<Tlp>), AppError> {
    let io = |source| AppError::Io {
        path: path.to_owned(),
        source,
    };
    let out = AtomicFile::create(path).map_err(io)?;
    let mut writer = UrlFeedWriter::new(out, format, &ctx.instance, bundle_key).map_err(io)?;
    // One streaming read in id order: no paging queries, no records held.
    ctx.store
        .for_each_url(query, &mut |r| writer.write(&r))
        .await?;
    let (out, records, strictest) = writer.finish().map_err(io)?;
    let (size, sha256) = out.finish().map_err(io)?;
    Ok((records, size, sha256, strictest))
}
