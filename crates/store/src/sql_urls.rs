//! The URL queries, written once for both engines.
//!
//! `import_urls` and `url_seq_before` run in a write transaction holding
//! the URL write lock ([`WriteLock::Url`]; SQLite: `BEGIN IMMEDIATE`;
//! PostgreSQL: an advisory transaction lock), so that batch numbers are
//! assigned and committed in order.

use isx_urls::UrlRecord;

use async_trait::async_trait;

use crate::engine::{commit, scalar, Engine, Get, Run, Sql, SqlStore, WriteLock};
use crate::{Result, UrlQuery};

/// Columns of `url_records`, as `url_row` reads them.
pub(crate) const URL_COLS: &str = "id, url, host, domain, ip, asn, as_org, country, city, latitude, longitude, threat, tags, source, confidence, tlp, first_seen, last_seen, times_seen, changed_seq, changed_at, generation, live, revoked_at, live_since, ended, above, legacy_ids, superseded";

pub(crate) fn url_row<R: Get>(r: &R) -> Result<UrlRecord> {
    crate::rows::url_record(crate::rows::UrlColumns {
        id: r.col::<i64>("id")?,
        url: r.col::<String>("url")?,
        host: r.col::<String>("host")?,
        domain: r.col::<Option<String>>("domain")?,
        ip: r.col::<Option<String>>("ip")?,
        asn: r.col::<Option<i64>>("asn")?,
        as_org: r.col::<Option<String>>("as_org")?,
        country: r.col::<Option<String>>("country")?,
        city: r.col::<Option<String>>("city")?,
        latitude: r.col::<Option<f64>>("latitude")?,
        longitude: r.col::<Option<f64>>("longitude")?,
        threat: r.col::<String>("threat")?,
        tags: r.col::<String>("tags")?,
        source: r.col::<String>("source")?,
        confidence: r.col::<i64>("confidence")?,
        tlp: r.col::<String>("tlp")?,
        first_seen: r.col::<i64>("first_seen")?,
        last_seen: r.col::<i64>("last_seen")?,
        times_seen: r.col::<i64>("times_seen")?,
        changed_seq: r.col::<i64>("changed_seq")?,
        changed_at: r.col::<i64>("changed_at")?,
        generation: r.col::<i64>("generation")?,
        live: r.col::<i64>("live")?,
        revoked_at: r.col::<Option<i64>>("revoked_at")?,
        live_since: r.col::<Option<i64>>("live_since")?,
        ended: r.col::<Option<String>>("ended")?,
        above: r.col::<Option<String>>("above")?,
        legacy_ids: r.col::<i64>("legacy_ids")?,
        superseded: r.col::<Option<String>>("superseded")?,
    })
}

/// Binds a record's data columns ($1 … $28: url … changed_at, generation
/// … superseded; no id).
fn bind_url<'q, DB: Engine>(q: Sql<'q, DB>, m: &'q UrlRecord) -> Sql<'q, DB> {
    q.arg(&m.url)
        .arg(&m.host)
        .arg(&m.domain)
        .arg(m.ip.map(|i| i.to_string()))
        .arg(m.geo.asn.map(|a| i64::from(a.get())))
        .arg(&m.geo.as_org)
        .arg(m.geo.country.map(|c| c.to_string()))
        .arg(&m.geo.city)
        .arg(m.geo.latitude)
        .arg(m.geo.longitude)
        .arg(m.threat.as_str())
        .arg(crate::rows::json(&m.tags))
        .arg(&m.source)
        .arg(i64::from(m.confidence))
        .arg(m.tlp.as_str())
        .arg(m.first_seen.as_micros())
        .arg(m.last_seen.as_micros())
        .arg(m.times_seen)
        .arg(m.changed_seq)
        .arg(m.changed_at.as_micros())
        .arg(m.generation)
        .arg(i64::from(m.live))
        .arg(m.revoked_at.map(isx_domain::Timestamp::as_micros))
        .arg(m.live_since.map(isx_domain::Timestamp::as_micros))
        .arg(m.ended.as_ref().and_then(|e| serde_json::to_string(e).ok()))
        .arg(m.above.map(isx_domain::Tlp::as_str))
        .arg(i64::from(m.legacy_ids))
        .arg(
            (!m.superseded.is_empty())
                .then(|| serde_json::to_string(&m.superseded).ok())
                .flatten(),
        )
}

/// Columns a record's upsert binds: [`bind_url`]'s and its place.
const URL_UPSERT_COLS: usize = 30;

/// `$from, $from+1, …` for `n` values (PostgreSQL).
pub(crate) fn numbered(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `?, ?, …` for `n` values (SQLite): anonymous parameters bind by
/// position, while SQLite looks up each numbered one by a linear scan of
/// the statement's parameters, which costs n² for the wide statements of
/// an import.
pub(crate) fn anonymous(_from: usize, n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// URLs per chunk of an import (each a round trip for its records), and
/// rows per statement: 28 parameters per record stays under SQLite's
/// (32,766) and PostgreSQL's (65,535) limits.
pub(crate) const URL_CHUNK: usize = 500;

/// What one chunk of an import writes.
#[derive(Debug, Default)]
pub(crate) struct ChunkMerge {
    /// The records that changed (new ones with id 0).
    pub records: Vec<UrlRecord>,
    /// Records that did not change but whose URL gained a stricter
    /// record: their new [`UrlRecord::above`] only (by id), leaving what
    /// their readers see, and when they saw it, as it was.
    pub above_only: Vec<(i64, Option<isx_domain::Tlp>)>,
    /// The new sightings, one per key: URL, the marking of the record
    /// they are filed under, key, and the loosest marking they were seen
    /// with.
    pub sightings: Vec<(String, isx_domain::Tlp, String, isx_domain::Tlp)>,
}

/// The merge of one chunk of candidates (every candidate of each of its
/// URLs, in the import's order) into the records of their URLs (every
/// marking's): which records to write and which sightings are new,
/// counted into `out`. `known` holds the sightings already stored, each
/// with the loosest marking it was seen with: a sighting seen again with
/// that marking or a stricter one changes nothing; seen with a looser one
/// it reaches the records a looser reader reads. Pure.
pub(crate) fn merge_chunk(
    chunk: &[&isx_urls::UrlCandidate],
    existing: Vec<UrlRecord>,
    known: &mut std::collections::HashMap<String, isx_domain::Tlp>,
    seq: i64,
    now: isx_domain::Timestamp,
    out: &mut crate::UrlImportOutcome,
) -> ChunkMerge {
    use std::collections::{HashMap, HashSet};
    let stored_above: HashMap<i64, Option<isx_domain::Tlp>> =
        existing.iter().map(|r| (r.id, r.above)).collect();
    let mut state: HashMap<String, Vec<UrlRecord>> = HashMap::new();
    for r in existing {
        state.entry(r.url.clone()).or_default().push(r);
    }
    let mut order: Vec<String> = Vec::new();
    let mut listed: HashSet<String> = HashSet::new();
    let mut dirty: HashSet<(String, isx_domain::Tlp)> = HashSet::new();
    let mut merged = ChunkMerge::default();
    let mut sighting_at: HashMap<String, usize> = HashMap::new();
    for c in chunk {
        let held_from = known.get(&c.sighting).copied();
        if held_from.is_some_and(|h| h <= c.tlp) {
            out.unchanged += 1;
            continue;
        }
        let rows = state.entry(c.canon.url.clone()).or_default();
        if rows.is_empty() {
            out.created += 1;
        } else {
            out.updated += 1;
        }
        if listed.insert(c.canon.url.clone()) {
            order.push(c.canon.url.clone());
        }
        for t in isx_urls::merge_levels(rows, c, held_from, seq, now) {
            dirty.insert((c.canon.url.clone(), t));
        }
        // A sighting is filed under the record of its marking, or (old
        // news that started none) the URL's next looser one, with its own
        // marking.
        let level = rows
            .iter()
            .rev()
            .find(|r| r.tlp <= c.tlp)
            .or(rows.first())
            .map_or(c.tlp, |r| r.tlp);
        known.insert(c.sighting.clone(), c.tlp);
        let entry = (c.canon.url.clone(), level, c.sighting.clone(), c.tlp);
        match sighting_at.get(&c.sighting) {
            Some(&i) => merged.sightings[i] = entry,
            None => {
                sighting_at.insert(c.sighting.clone(), merged.sightings.len());
                merged.sightings.push(entry);
            }
        }
    }
    for url in order {
        for r in state.remove(&url).unwrap_or_default() {
            if dirty.contains(&(url.clone(), r.tlp)) {
                merged.records.push(r);
            } else if stored_above.get(&r.id).is_some_and(|a| *a != r.above) {
                merged.above_only.push((r.id, r.above));
            }
        }
    }
    merged
}

/// The records a reader who may see `markings` reads, as SQL: of a URL's
/// records, the strictest one it may see (see [`isx_urls::merge_levels`]).
/// The list holds only the fixed spellings of `Tlp`.
fn readable(markings: &[isx_domain::Tlp]) -> String {
    let list = markings
        .iter()
        .map(|t| format!("'{}'", t.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    format!("tlp IN ({list}) AND (above IS NULL OR above NOT IN ({list}))")
}

/// The WHERE clause of a [`crate::UrlQuery`] ($1 … $12) plus the records
/// its markings read ([`readable`]).
pub(crate) fn url_where(q: &UrlQuery) -> String {
    format!(
            "WHERE ($1 IS NULL OR lower(url) LIKE $1 ESCAPE '\\') AND ($2 IS NULL OR host = $2) AND ($3 IS NULL OR domain = $3)
             AND ($4 IS NULL OR ip = $4) AND ($5 IS NULL OR asn = $5) AND ($6 IS NULL OR country = $6)
             AND ($7 IS NULL OR threat = $7) AND ($8 IS NULL OR last_seen >= $8) AND ($9 IS NULL OR last_seen < $9)
             AND ($10 IS NULL OR changed_seq > $10) AND ($11 IS NULL OR changed_seq <= $11) AND id > $12
             AND {}",
            readable(&q.markings)
        )
}

fn bind_url_query<'q, DB: Engine>(sql: Sql<'q, DB>, q: &'q UrlQuery) -> Sql<'q, DB> {
    sql.arg(q.text.as_ref().map(|t| {
        format!(
            "%{}%",
            t.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    }))
    .arg(q.host.as_ref().map(|h| h.to_lowercase()))
    .arg(q.domain.as_ref().map(|h| h.to_lowercase()))
    .arg(q.ip.clone())
    .arg(q.asn.map(i64::from))
    .arg(q.country.as_ref().map(|c| c.to_uppercase()))
    .arg(q.threat.map(|t| t.as_str()))
    .arg(q.since.map(|t| t.as_micros()))
    .arg(q.until.map(|t| t.as_micros()))
    .arg(q.changed_after_seq)
    .arg(q.changed_upto_seq)
    // Not NULL-able, so that SQLite seeks on the rowid.
    .arg(q.after_id.unwrap_or(i64::MIN))
}

/// When an upsert keeps a record's arrival (instant and place): it was
/// revoked by an earlier change and stays revoked, so its final STIX
/// version stays where readers got it, and nothing follows it.
const KEEPS_FINAL: &str =
    "url_records.live = 0 AND excluded.live = 0 AND url_records.changed_at < excluded.changed_at";

/// Records one revocation run revokes at most, in one arrival.
const REVOCATION_RUN: u64 = 200_000;

/// The TAXII objects one URL record can be at most (three for each looser
/// record it superseded — at most four —, three for its ended generation,
/// three for its current one): the room each takes after its arrival.
pub const URL_OBJECTS_PER_RECORD: i64 = 18;

/// The arrival instant of the next change to the URL collection (an
/// import, a revocation), inside `tx`, which must hold the URL write lock.
/// Every record one change touches shares it, with room left after the
/// previous change's for its readers to spread the records they may see
/// (three TAXII objects each): an instant counts nothing a member cannot
/// see (`crate::arrival`).
async fn next_url_arrival<DB: Engine>(
    tx: &mut sqlx::Transaction<'static, DB>,
    now: isx_domain::Timestamp,
) -> Result<i64> {
    let last: Option<i64> = scalar(
        sqlx::query("SELECT MAX(changed_at) FROM url_records"),
        &mut *tx,
    )
    .await?;
    Ok(match last {
        Some(last) => {
            let places: i64 = scalar(
                sqlx::query(
                    "SELECT COALESCE(MAX(added_pos), 0) + 1 FROM url_records WHERE changed_at = $1",
                )
                .arg(last),
                &mut *tx,
            )
            .await?;
            crate::arrival::next_instant(
                now.as_micros(),
                last,
                places.saturating_mul(URL_OBJECTS_PER_RECORD),
            )
        }
        None => crate::arrival::own_millisecond(now.as_micros()),
    })
}

/// The id of a URL's record of `marking`, inside `tx`.
async fn url_id<DB: Engine>(
    tx: &mut sqlx::Transaction<'static, DB>,
    url: &str,
    marking: isx_domain::Tlp,
) -> Result<i64> {
    crate::engine::maybe_scalar(
        sqlx::query("SELECT id FROM url_records WHERE url = $1 AND tlp = $2")
            .arg(url)
            .arg(marking.as_str()),
        &mut *tx,
    )
    .await?
    .ok_or_else(|| crate::StoreError::Corrupt(format!("no {} record of {url}", marking.as_str())))
}

/// Merges a batch of URLs into the records inside `tx`, which must hold
/// the URL write lock (batch numbers and change stamps are allocated from
/// the newest ones).
pub(crate) async fn import_urls_in<DB: Engine>(
    tx: &mut sqlx::Transaction<'static, DB>,
    batch: &crate::UrlBatch<'_>,
    now: isx_domain::Timestamp,
) -> Result<crate::UrlImportOutcome> {
    let mut out = crate::UrlImportOutcome::default();
    let seq: i64 = scalar(
        sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 FROM url_batches"),
        &mut *tx,
    )
    .await?;
    let stamp = next_url_arrival(tx, now).await?;
    let mut placer = crate::arrival::Placer::default();
    // Every candidate of a URL goes into one chunk, in the import's order:
    // the records of a URL are merged and placed once per import (placed
    // twice, a record's first place would stay counted in the records
    // between, a hole in a reader's spread).
    let mut groups: Vec<Vec<&isx_urls::UrlCandidate>> = Vec::new();
    let mut group_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for c in batch.candidates {
        let g = *group_of.entry(c.canon.url.as_str()).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(c);
    }
    drop(group_of);
    for urls_chunk in groups.chunks(URL_CHUNK) {
        let chunk: Vec<&isx_urls::UrlCandidate> = urls_chunk.iter().flatten().copied().collect();
        // The records of the chunk's URLs (every marking's) and which of
        // its sightings are known.
        let urls: Vec<&str> = urls_chunk
            .iter()
            .filter_map(|g| g.first().map(|c| c.canon.url.as_str()))
            .collect();
        let sql = format!(
            "SELECT {} FROM url_records WHERE url IN ({})",
            URL_COLS,
            DB::params(1, urls.len())
        );
        let mut q = sqlx::query(&sql);
        for u in &urls {
            q = q.arg(*u);
        }
        let mut existing = Vec::new();
        for r in q.rows(&mut *tx).await? {
            existing.push(url_row(&r)?);
        }
        let mut keys: Vec<&str> = chunk.iter().map(|c| c.sighting.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        // Which sightings are stored, each with the loosest marking it was
        // seen with.
        let mut known: std::collections::HashMap<String, isx_domain::Tlp> =
            std::collections::HashMap::new();
        for part in keys.chunks(URL_CHUNK) {
            let sql = format!(
                "SELECT s.sighting, COALESCE(s.marking, r.tlp) AS tlp
                 FROM url_sightings s JOIN url_records r ON r.id = s.url_id
                 WHERE s.sighting IN ({})",
                DB::params(1, part.len())
            );
            let mut q = sqlx::query(&sql);
            for k in part {
                q = q.arg(*k);
            }
            for r in q.rows(&mut *tx).await? {
                let level = crate::rows::parse("url sighting marking", &r.col::<String>("tlp")?)?;
                known.insert(r.col::<String>("sighting")?, level);
            }
        }
        // The ids of the records as stored, for sightings of records this
        // chunk leaves as they were.
        let mut ids: std::collections::HashMap<(String, String), i64> = existing
            .iter()
            .map(|r| ((r.url.clone(), r.tlp.as_str().to_owned()), r.id))
            .collect();
        // A revoked record that stays revoked keeps its arrival (its
        // revoked version is final: STIX allows no version after it).
        let revoked_before: std::collections::HashSet<i64> =
            existing.iter().filter(|r| !r.live).map(|r| r.id).collect();
        let merged = crate::sql_urls::merge_chunk(&chunk, existing, &mut known, seq, now, &mut out);
        for (id, above) in &merged.above_only {
            sqlx::query("UPDATE url_records SET above = $1 WHERE id = $2")
                .arg(above.map(isx_domain::Tlp::as_str))
                .arg(*id)
                .run(&mut *tx)
                .await?;
        }
        let mut records = merged.records;
        let mut places = Vec::with_capacity(records.len());
        for r in &mut records {
            r.changed_at = isx_domain::Timestamp::from_micros(stamp);
            isx_urls::date_superseded(r, now, r.changed_at);
            // Kept as it was by the upsert (a final revoked version).
            let stays_revoked = !r.live && r.id != 0 && revoked_before.contains(&r.id);
            if !r.live && !stays_revoked {
                // Entering revoked: its final version is dated by this arrival.
                r.revoked_at = Some(r.changed_at);
            }
            places.push(if stays_revoked {
                crate::UrlArrival::default()
            } else {
                placer.place(r.tlp, r.above)
            });
        }
        // Upserts for new and changed records; ids come back by URL and
        // marking.
        for (part, part_places) in records.chunks(URL_CHUNK).zip(places.chunks(URL_CHUNK)) {
            let values: Vec<String> = (0..part.len())
                .map(|i| format!("({})", DB::params(i * URL_UPSERT_COLS + 1, URL_UPSERT_COLS)))
                .collect();
            let sql = format!(
                "INSERT INTO url_records (url, host, domain, ip, asn, as_org, country, city, latitude, longitude, threat,
                 tags, source, confidence, tlp, first_seen, last_seen, times_seen, changed_seq, changed_at,
                 generation, live, revoked_at, live_since, ended, above, legacy_ids, superseded, added_pos, added_ranks)
                 VALUES {}
                 ON CONFLICT (url, tlp) DO UPDATE SET host = excluded.host, domain = excluded.domain, ip = excluded.ip,
                 asn = excluded.asn, as_org = excluded.as_org, country = excluded.country, city = excluded.city,
                 latitude = excluded.latitude, longitude = excluded.longitude, threat = excluded.threat,
                 tags = excluded.tags, source = excluded.source, confidence = excluded.confidence,
                 first_seen = excluded.first_seen, last_seen = excluded.last_seen, times_seen = excluded.times_seen,
                 changed_seq = excluded.changed_seq, generation = excluded.generation, live = excluded.live,
                 revoked_at = excluded.revoked_at, live_since = excluded.live_since, ended = excluded.ended,
                 above = excluded.above, legacy_ids = excluded.legacy_ids, superseded = excluded.superseded,
                 changed_at = CASE WHEN {KEEPS_FINAL} THEN url_records.changed_at ELSE excluded.changed_at END,
                 added_pos = CASE WHEN {KEEPS_FINAL} THEN url_records.added_pos ELSE excluded.added_pos END,
                 added_ranks = CASE WHEN {KEEPS_FINAL} THEN url_records.added_ranks ELSE excluded.added_ranks END
                 RETURNING id, url, tlp",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (m, place) in part.iter().zip(part_places) {
                q = bind_url(q, m).arg(place.pos).arg(place.text());
            }
            for r in q.rows(&mut *tx).await? {
                ids.insert(
                    (r.col::<String>("url")?, r.col::<String>("tlp")?),
                    r.col::<i64>("id")?,
                );
            }
        }
        for part in merged.sightings.chunks(URL_CHUNK) {
            let values: Vec<String> = (0..part.len())
                .map(|i| format!("({})", DB::params(i * 3 + 1, 3)))
                .collect();
            // A sighting seen again with a looser marking moves to the
            // looser record (the stricter ones hold it too).
            let sql = format!(
                "INSERT INTO url_sightings (url_id, sighting, marking) VALUES {}
                 ON CONFLICT (sighting) DO UPDATE SET url_id = excluded.url_id,
                 marking = excluded.marking",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (url, level, key, marking) in part {
                // Written now, or (old news) a record left as it was.
                let id = match ids.get(&(url.clone(), level.as_str().to_owned())) {
                    Some(id) => *id,
                    None => url_id(&mut *tx, url, *level).await?,
                };
                q = q.arg(id).arg(key).arg(marking.as_str());
            }
            q.run(&mut *tx).await?;
        }
    }
    if out.created + out.updated > 0 {
        sqlx::query("INSERT INTO url_batches (seq, imported_at, source, actor, created, updated, unchanged) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .arg(seq)
            .arg(now.as_micros())
            .arg(batch.source)
            .arg(batch.actor)
            .arg(i64::try_from(out.created).unwrap_or(i64::MAX))
            .arg(i64::try_from(out.updated).unwrap_or(i64::MAX))
            .arg(i64::try_from(out.unchanged).unwrap_or(i64::MAX))
            .run(&mut *tx)
            .await?;
        out.seq = Some(seq);
    }
    Ok(out)
}

#[async_trait]
impl<DB: Engine> crate::UrlStore for SqlStore<DB> {
    async fn import_urls(
        &self,
        batch: &crate::UrlBatch<'_>,
        now: isx_domain::Timestamp,
    ) -> Result<crate::UrlImportOutcome> {
        let mut tx = self.begin_locked(WriteLock::Url).await?;
        let out = import_urls_in(&mut tx, batch, now).await?;
        commit(tx).await?;
        Ok(out)
    }

    async fn revoke_urls(
        &self,
        stale_before: isx_domain::Timestamp,
        now: isx_domain::Timestamp,
        round: u32,
    ) -> Result<u64> {
        let mut tx = self.begin_locked(WriteLock::Url).await?;
        let cut = stale_before.as_micros();
        let sql = format!(
            "SELECT {URL_COLS} FROM url_records WHERE live = 1 AND last_seen < $1 AND first_seen < $2
             ORDER BY last_seen, id LIMIT $3"
        );
        // Every stale record in one arrival, placed by one placer: rounds
        // of their own would tell a reader, by where its records split,
        // how many it cannot see were revoked in the first. At most
        // REVOCATION_RUN per run (the write lock is held throughout; a
        // larger backlog, after a long stop, goes on at the next tick).
        let mut stamp = None;
        let mut placer = crate::arrival::Placer::default();
        let mut n = 0u64;
        while n < REVOCATION_RUN {
            let rows = sqlx::query(&sql)
                .arg(cut)
                .arg(cut)
                .arg(i64::from(round.clamp(1, 100_000)))
                .rows(&mut tx)
                .await?;
            if rows.is_empty() {
                break;
            }
            let at = match stamp {
                Some(at) => at,
                None => {
                    let at = next_url_arrival(&mut tx, now).await?;
                    stamp = Some(at);
                    at
                }
            };
            for row in &rows {
                let r = url_row(row)?;
                let place = placer.place(r.tlp, r.above);
                sqlx::query(
                    "UPDATE url_records SET live = 0, revoked_at = $1, changed_at = $2, added_pos = $3,
                     added_ranks = $4 WHERE id = $5",
                )
                .arg(at)
                .arg(at)
                .arg(place.pos)
                .arg(place.text())
                .arg(r.id)
                .run(&mut tx)
                .await?;
                n += 1;
            }
        }
        commit(tx).await?;
        Ok(n)
    }

    async fn url_seq_before(&self, before: isx_domain::Timestamp) -> Result<i64> {
        let mut tx = self.begin_locked(WriteLock::Url).await?;
        let seq: i64 = scalar(
            sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM url_batches WHERE imported_at < $1")
                .arg(before.as_micros()),
            &mut tx,
        )
        .await?;
        commit(tx).await?;
        Ok(seq)
    }

    async fn url_records(&self, q: &crate::UrlQuery) -> crate::Result<Vec<isx_urls::UrlRecord>> {
        if q.markings.is_empty() {
            return Ok(Vec::new());
        }
        let order = match q.sort {
            Some(o) => {
                let dir = if o.descending { "DESC" } else { "ASC" };
                // NULLs (no country, no ASN) last in either direction.
                let nulls = format!("CASE WHEN {} IS NULL THEN 1 ELSE 0 END", o.key.column());
                format!("ORDER BY {nulls}, {} {dir}, id {dir}", o.key.column())
            }
            None => "ORDER BY id".to_owned(),
        };
        let sql = format!(
            "SELECT {} FROM url_records {} {order} LIMIT $13 OFFSET $14",
            URL_COLS,
            url_where(q)
        );
        let rows = bind_url_query(sqlx::query(&sql), q)
            .arg(i64::from(q.limit.clamp(1, 100_000)))
            .arg(i64::from(q.offset))
            .rows(&self.pool)
            .await?;
        rows.into_iter().map(|r| url_row(&r)).collect()
    }

    async fn for_each_url(
        &self,
        q: &crate::UrlQuery,
        f: &mut (dyn FnMut(isx_urls::UrlRecord) -> std::io::Result<()> + Send),
    ) -> crate::Result<u64> {
        use futures_util::TryStreamExt;
        if q.markings.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "SELECT {} FROM url_records {} ORDER BY id",
            URL_COLS,
            url_where(q)
        );
        let query = bind_url_query(sqlx::query(&sql), q);
        let mut rows = query.stream(&self.pool);
        let mut n = 0u64;
        while let Some(r) = rows.try_next().await? {
            f(url_row(&r)?).map_err(|e| crate::StoreError::Io(e.to_string()))?;
            n += 1;
        }
        Ok(n)
    }

    async fn url_record(&self, id: i64) -> crate::Result<Option<isx_urls::UrlRecord>> {
        let sql = format!("SELECT {URL_COLS} FROM url_records WHERE id = $1");
        let row = sqlx::query(&sql).arg(id).maybe_row(&self.pool).await?;
        row.map(|r| url_row(&r)).transpose()
    }

    async fn url_stats(&self, q: &crate::UrlQuery) -> crate::Result<crate::UrlStats> {
        let mut stats = crate::UrlStats::default();
        if q.markings.is_empty() {
            return Ok(stats);
        }
        let w = url_where(q);
        let by_threat = bind_url_query(sqlx::query(&format!(
                "SELECT threat, first_seen / 86400000000 AS day, COUNT(*) AS n FROM url_records {w} GROUP BY threat, day ORDER BY day, threat"
            )), q)
            .rows(&self.pool)
            .await?;
        let mut totals: std::collections::BTreeMap<isx_domain::ThreatType, i64> =
            Default::default();
        for r in by_threat {
            let threat: isx_domain::ThreatType =
                crate::rows::parse("threat", &r.col::<String>("threat")?)?;
            let n = r.col::<i64>("n")?;
            stats.per_day.push((r.col::<i64>("day")?, threat, n));
            *totals.entry(threat).or_default() += n;
            stats.total += n;
        }
        stats.by_threat = totals.into_iter().collect();
        stats
            .by_threat
            .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let asns = bind_url_query(sqlx::query(&format!(
                "SELECT asn, MAX(as_org) AS as_org, COUNT(*) AS n FROM url_records {w} AND asn IS NOT NULL GROUP BY asn ORDER BY n DESC, asn LIMIT 10"
            )), q)
            .rows(&self.pool)
            .await?;
        for r in asns {
            let asn = u32::try_from(r.col::<i64>("asn")?).unwrap_or(0);
            stats
                .top_asns
                .push((asn, r.col::<Option<String>>("as_org")?, r.col::<i64>("n")?));
        }
        let countries = bind_url_query(sqlx::query(&format!(
                "SELECT country, COUNT(*) AS n FROM url_records {w} AND country IS NOT NULL GROUP BY country ORDER BY n DESC, country LIMIT 10"
            )), q)
            .rows(&self.pool)
            .await?;
        for r in countries {
            stats
                .top_countries
                .push((r.col::<String>("country")?, r.col::<i64>("n")?));
        }
        let points = bind_url_query(sqlx::query(&format!(
                "SELECT ip, latitude, longitude, MAX(country) AS country, COUNT(*) AS n FROM url_records {w}
                 AND ip IS NOT NULL AND latitude IS NOT NULL AND longitude IS NOT NULL
                 GROUP BY ip, latitude, longitude ORDER BY n DESC, ip LIMIT 2000"
            )), q)
            .rows(&self.pool)
            .await?;
        for r in points {
            stats.points.push(crate::MapPoint {
                ip: r.col::<String>("ip")?,
                latitude: r.col::<f64>("latitude")?,
                longitude: r.col::<f64>("longitude")?,
                country: r.col::<Option<String>>("country")?,
                urls: r.col::<i64>("n")?,
            });
        }
        Ok(stats)
    }

    async fn url_arrival_at_or_before(
        &self,
        at: isx_domain::Timestamp,
    ) -> crate::Result<Option<isx_domain::Timestamp>> {
        let t: Option<i64> = scalar(
            sqlx::query("SELECT MAX(changed_at) FROM url_records WHERE changed_at <= $1")
                .arg(at.as_micros()),
            &self.pool,
        )
        .await?;
        Ok(t.map(isx_domain::Timestamp::from_micros))
    }

    async fn urls_by_added(
        &self,
        markings: &[isx_domain::Tlp],
        after: (isx_domain::Timestamp, i64),
        limit: u32,
    ) -> crate::Result<Vec<(isx_urls::UrlRecord, crate::UrlArrival)>> {
        if markings.is_empty() {
            return Ok(Vec::new());
        }
        // The range on changed_at walks the (changed_at, added_pos) index.
        let sql = format!(
            "SELECT {}, added_pos, added_ranks FROM url_records
                 WHERE changed_at >= {} AND (changed_at > {} OR added_pos > {})
                 AND {}
                 ORDER BY changed_at, added_pos LIMIT {}",
            URL_COLS,
            DB::params(1, 1),
            DB::params(2, 1),
            DB::params(3, 1),
            readable(markings),
            DB::params(4, 1),
        );
        let rows = sqlx::query(&sql)
            .arg(after.0.as_micros())
            .arg(after.0.as_micros())
            .arg(after.1)
            .arg(i64::from(limit.clamp(1, 100_000)))
            .rows(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| {
                let place = crate::UrlArrival::parse(
                    r.col::<i64>("added_pos")?,
                    &r.col::<String>("added_ranks")?,
                )?;
                Ok((url_row(&r)?, place))
            })
            .collect()
    }
}
