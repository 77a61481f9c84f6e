//! Botnet files: every hour each member's deduplicated batch of the victim
//! data that concerns it, a shared batch of C2 servers and malicious
//! domains, the firewall lists and the RPZ zone; every day the daily
//! batches. Signed and recorded like the URL feed files; slots are claimed
//! so that one node produces each, and missed slots are produced on start.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::Ordering;

use isx_botnet::Deduplicator;
use isx_domain::{BotnetProduct, Member, MemberId, Timestamp, Tlp};
use isx_formats::botnet::out::{firewall, rpz_zone, BatchWriter, FirewallFormat};
use isx_formats::feed::FeedFormat;
use isx_policy::{decide, Principal};
use isx_store::{BotnetQuery, FeedFile, FeedRun, StoredBotnetEvent};
use isx_urls::{slot_label, FeedSchedule};
use sha2::{Digest, Sha256};

use crate::feeds::FeedContext;
use crate::AppError;

/// The product directory and `feed_files.product` of botnet files.
pub const BOTNET: &str = "botnet";
const HOURLY: &str = "botnet-hourly";
const DAILY: &str = "botnet-daily";
const LEASE_SECS: i64 = 600;

/// The botnet files (member batches, shared batches, firewall lists, the RPZ zone) as the scheduler runs them.
pub struct BotnetFiles;

#[async_trait::async_trait]
impl crate::feeds::FeedProducer for BotnetFiles {
    fn product(&self) -> &'static str {
        BOTNET
    }

    fn stats<'a>(&self, ctx: &'a FeedContext) -> &'a crate::feeds::FeedStats {
        &ctx.botnet_stats
    }

    async fn produce_due(&self, ctx: &FeedContext) -> Result<Vec<FeedRun>, AppError> {
        produce_due(ctx).await
    }
}

/// Produces every due hourly and daily slot (missed ones first).
pub async fn produce_due(ctx: &FeedContext) -> Result<Vec<FeedRun>, AppError> {
    let mut done = Vec::new();
    for (run_product, interval) in [(HOURLY, 3600), (DAILY, 86_400)] {
        let schedule = FeedSchedule {
            interval_secs: interval,
            window_secs: interval,
        };
        while let Some(slot) =
            crate::feeds::claim_next_slot(ctx, run_product, &schedule, 48, LEASE_SECS).await?
        {
            let run = produce_slot(ctx, run_product, slot).await?;
            ctx.botnet_stats
                .slots_produced
                .fetch_add(1, Ordering::Relaxed);
            tracing::info!(slot = %slot, kind = run_product, from_id = run.from_seq, to_id = run.to_seq, "botnet files written");
            done.push(run);
        }
    }
    Ok(done)
}

/// The members with a constituency, each with its policy principal.
async fn recipients(ctx: &FeedContext) -> Result<Vec<(Member, Principal)>, AppError> {
    let mut out = Vec::new();
    for m in ctx.store.members().await? {
        if m.constituency.is_empty() || m.is_operator() {
            continue;
        }
        let p = crate::identity::principal_for(ctx.store.as_ref(), &m, false).await?;
        out.push((m, p));
    }
    Ok(out)
}

async fn produce_slot(
    ctx: &FeedContext,
    run_product: &str,
    slot: Timestamp,
) -> Result<FeedRun, AppError> {
    let kind = if run_product == HOURLY {
        "hourly"
    } else {
        "daily"
    };
    let previous = ctx.store.feed_run_before(run_product, slot).await?;
    let from = previous.as_ref().map_or(0, |r| r.to_seq);
    let to = ctx.store.botnet_id_before(slot).await?.max(from);
    let period_start = previous.map_or(
        slot.add_secs(if kind == "hourly" { -3600 } else { -86_400 }),
        |r| r.slot,
    );
    let members = recipients(ctx).await?;
    let by_id: HashMap<MemberId, &Principal> = members.iter().map(|(m, p)| (m.id, p)).collect();
    let everyone = Principal::any_member();
    let mut per_member: BTreeMap<MemberId, Deduplicator> = members
        .iter()
        .map(|(m, _)| (m.id, Deduplicator::default()))
        .collect();
    let mut shared = Deduplicator::default();
    let query = BotnetQuery {
        after_id: Some(from),
        upto_id: Some(to),
        ..BotnetQuery::default()
    };
    ctx.store
        .for_each_botnet_event(&query, &mut |e| {
            let meta = crate::records::botnet_event(&e);
            if e.event.product.is_victim_data() {
                for r in &e.recipients {
                    if let (Some(p), Some(d)) = (by_id.get(r), per_member.get_mut(r)) {
                        if decide(p, &meta, slot).is_allowed() {
                            d.add(&e.event);
                        }
                    }
                }
            } else if decide(&everyone, &meta, slot).is_allowed() {
                shared.add(&e.event);
            }
            Ok(())
        })
        .await?;
    let label = slot_label(slot);
    let dir = ctx.dir.join(BOTNET);
    let mut files = Vec::new();
    let mut batches: Vec<(Option<MemberId>, String, Deduplicator)> = per_member
        .into_iter()
        .map(|(m, d)| (Some(m), format!("m{}", m.0), d))
        .collect();
    batches.push((None, "shared".to_owned(), shared));
    for (member, who, dedup) in batches {
        let rows = dedup.finish();
        for format in FeedFormat::ALL {
            let name = format!("isx-botnet-{who}-{kind}-{label}.{}", format.extension());
            let mut w = BatchWriter::new(
                Vec::new(),
                format,
                &ctx.instance,
                &format!("{BOTNET}/{name}"),
            )
            .map_err(|source| io_error(&dir, source))?;
            for r in &rows {
                w.write(r).map_err(|source| io_error(&dir, source))?;
            }
            let (bytes, n, strictest) = w.finish().map_err(|source| io_error(&dir, source))?;
            let file = FileSpec {
                name,
                kind,
                format: format.as_str(),
                member,
                records: n,
                marking: strictest.unwrap_or(Tlp::Clear),
            };
            files.push(write(ctx, &dir, file, slot, period_start, &bytes)?);
        }
    }
    if kind == "hourly" {
        files.extend(exports(ctx, &dir, slot, to).await?);
    } else {
        let before = slot.add_secs(-ctx.botnet_retention_secs);
        let pruned = ctx.store.prune_botnet_events(before).await?;
        if pruned > 0 {
            tracing::info!(pruned, "botnet events past retention deleted");
        }
    }
    let run = FeedRun {
        product: run_product.to_owned(),
        slot,
        from_seq: from,
        to_seq: to,
        finished_at: ctx.clock.now(),
    };
    ctx.store.finish_feed_run(&run, &files).await?;
    Ok(run)
}

/// The C2 addresses and malicious domains current at `slot` (last seen in
/// the retention window, not reported offline by their latest event) that
/// every member may see: firewall lists in four formats and the RPZ zone.
async fn exports(
    ctx: &FeedContext,
    dir: &Path,
    slot: Timestamp,
    to: i64,
) -> Result<Vec<FeedFile>, AppError> {
    let everyone = Principal::any_member();
    let query = BotnetQuery {
        upto_id: Some(to),
        products: vec![BotnetProduct::C2, BotnetProduct::Domains],
        since: Some(slot.add_secs(-ctx.botnet_retention_secs)),
        ..BotnetQuery::default()
    };
    // Latest event per indicator decides whether it is still listed.
    let mut ips: HashMap<IpAddr, (Timestamp, bool, Tlp)> = HashMap::new();
    let mut domains: HashMap<String, (Timestamp, bool, Tlp)> = HashMap::new();
    ctx.store
        .for_each_botnet_event(&query, &mut |e: StoredBotnetEvent| {
            let meta = crate::records::botnet_event(&e);
            if !decide(&everyone, &meta, slot).is_allowed() {
                return Ok(());
            }
            let entry = (e.event.last_seen, e.event.is_offline(), e.event.marking);
            let newer = |old: &mut (Timestamp, bool, Tlp)| {
                let marking = old.2.max(entry.2);
                if entry.0 >= old.0 {
                    *old = entry;
                }
                old.2 = marking;
            };
            if let Some(ip) = e.event.ip.filter(|_| e.event.product == BotnetProduct::C2) {
                newer(ips.entry(ip).or_insert(entry));
            }
            if let Some(d) = &e.event.domain {
                newer(domains.entry(d.as_str().to_owned()).or_insert(entry));
            }
            Ok(())
        })
        .await?;
    let strictest = ips
        .values()
        .chain(domains.values())
        .filter(|v| !v.1)
        .map(|v| v.2)
        .max()
        .unwrap_or(Tlp::Clear);
    let ips: Vec<IpAddr> = ips
        .into_iter()
        .filter(|(_, v)| !v.1)
        .map(|(k, _)| k)
        .collect();
    let domains: Vec<String> = domains
        .into_iter()
        .filter(|(_, v)| !v.1)
        .map(|(k, _)| k)
        .collect();
    let label = slot_label(slot);
    let header = vec![
        format!("{} — botnet C2 addresses current at {slot}", ctx.instance),
        format!("{} address(es); marking {}", ips.len(), strictest.label()),
    ];
    let mut files = Vec::new();
    for format in FirewallFormat::ALL {
        let text = firewall(format, &ips, &header);
        let file = FileSpec {
            name: format!("isx-botnet-c2-{label}.{}", format.file_suffix()),
            kind: "firewall",
            format: format.as_str(),
            member: None,
            records: ips.len() as u64,
            marking: strictest,
        };
        files.push(write(
            ctx,
            dir,
            file,
            slot,
            slot.add_secs(-ctx.botnet_retention_secs),
            text.as_bytes(),
        )?);
    }
    // The serial moves only when the listed names and addresses change.
    let body = rpz_zone(&domains, &ips, 0, &[]);
    let serial = ctx
        .store
        .zone_serial(
            "botnet",
            &hex::encode(Sha256::digest(body.as_bytes())),
            slot,
        )
        .await?;
    let zone = rpz_zone(
        &domains,
        &ips,
        u32::try_from(serial).unwrap_or(u32::MAX),
        &[format!(
            "{} — botnet response-policy zone at {slot}; marking {}",
            ctx.instance,
            strictest.label()
        )],
    );
    let file = FileSpec {
        name: format!("isx-botnet-{label}.rpz"),
        kind: "rpz",
        format: "rpz",
        member: None,
        records: (domains.len() + ips.len()) as u64,
        marking: strictest,
    };
    files.push(write(
        ctx,
        dir,
        file,
        slot,
        slot.add_secs(-ctx.botnet_retention_secs),
        zone.as_bytes(),
    )?);
    Ok(files)
}

struct FileSpec {
    name: String,
    kind: &'static str,
    format: &'static str,
    member: Option<MemberId>,
    records: u64,
    marking: Tlp,
}

fn io_error(path: &Path, source: std::io::Error) -> AppError {
    AppError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes a file atomically and returns its signed manifest entry.
fn write(
    ctx: &FeedContext,
    dir: &Path,
    spec: FileSpec,
    slot: Timestamp,
    period_start: Timestamp,
    bytes: &[u8],
) -> Result<FeedFile, AppError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let path = dir.join(&spec.name);
    crate::feeds::write_atomically(&path, bytes).map_err(|e| io_error(&path, e))?;
    let mut file = FeedFile {
        name: spec.name,
        product: BOTNET.to_owned(),
        kind: spec.kind.to_owned(),
        format: spec.format.to_owned(),
        slot,
        period_start,
        period_end: slot,
        records: i64::try_from(spec.records).unwrap_or(i64::MAX),
        size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        sha256: hex::encode(Sha256::digest(bytes)),
        marking: spec.marking,
        signature: String::new(),
        created_at: ctx.clock.now(),
        member: spec.member,
    };
    file.signature = ctx.signer.sign(&file.signed_text());
    ctx.botnet_stats
        .files_written
        .fetch_add(1, Ordering::Relaxed);
    ctx.botnet_stats
        .records_written
        .fetch_add(spec.records, Ordering::Relaxed);
    Ok(file)
}
