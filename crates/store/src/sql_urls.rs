//! The URL and feed-file queries, written once for both engines.
//!
//! `import_urls!` and `url_seq_before!` take a transaction the backend has
//! opened with its write lock held (SQLite: `BEGIN IMMEDIATE`; PostgreSQL:
//! an advisory transaction lock), so that batch numbers are assigned and
//! committed in order. `url_methods!` expands to the rest.

/// Columns of `url_records`, in the order `url_row!` reads them.
macro_rules! url_cols {
    () => {
        "id, url, host, domain, ip, asn, as_org, country, city, latitude, longitude, threat, tags, source, confidence, tlp, first_seen, last_seen, times_seen, changed_seq, changed_at"
    };
}

macro_rules! url_row {
    ($r:ident) => {
        (|| $crate::rows::url_record($crate::rows::UrlColumns {
            id: impl_store!(@get $r, "id", i64),
            url: impl_store!(@get $r, "url", String),
            host: impl_store!(@get $r, "host", String),
            domain: impl_store!(@get $r, "domain", Option<String>),
            ip: impl_store!(@get $r, "ip", Option<String>),
            asn: impl_store!(@get $r, "asn", Option<i64>),
            as_org: impl_store!(@get $r, "as_org", Option<String>),
            country: impl_store!(@get $r, "country", Option<String>),
            city: impl_store!(@get $r, "city", Option<String>),
            latitude: impl_store!(@get $r, "latitude", Option<f64>),
            longitude: impl_store!(@get $r, "longitude", Option<f64>),
            threat: impl_store!(@get $r, "threat", String),
            tags: impl_store!(@get $r, "tags", String),
            source: impl_store!(@get $r, "source", String),
            confidence: impl_store!(@get $r, "confidence", i64),
            tlp: impl_store!(@get $r, "tlp", String),
            first_seen: impl_store!(@get $r, "first_seen", i64),
            last_seen: impl_store!(@get $r, "last_seen", i64),
            times_seen: impl_store!(@get $r, "times_seen", i64),
            changed_seq: impl_store!(@get $r, "changed_seq", i64),
            changed_at: impl_store!(@get $r, "changed_at", i64),
        }))()
    };
}

/// Binds a record's data columns ($1 … $19: url … changed_at, no id).
macro_rules! bind_url {
    ($q:expr, $m:expr) => {
        $q.bind(&$m.url)
            .bind(&$m.host)
            .bind(&$m.domain)
            .bind($m.ip.map(|i| i.to_string()))
            .bind($m.geo.asn.map(|a| i64::from(a.get())))
            .bind(&$m.geo.as_org)
            .bind($m.geo.country.map(|c| c.to_string()))
            .bind(&$m.geo.city)
            .bind($m.geo.latitude)
            .bind($m.geo.longitude)
            .bind($m.threat.as_str())
            .bind($crate::rows::json(&$m.tags))
            .bind(&$m.source)
            .bind(i64::from($m.confidence))
            .bind($m.tlp.as_str())
            .bind($m.first_seen.as_micros())
            .bind($m.last_seen.as_micros())
            .bind($m.times_seen)
            .bind($m.changed_seq)
            .bind($m.changed_at.as_micros())
    };
}

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

/// Rows per round trip of an import: 20 parameters per record stays under
/// SQLite's (32,766) and PostgreSQL's (65,535) limits.
pub(crate) const URL_CHUNK: usize = 500;

/// The merge of one chunk of candidates into their records: which records
/// to write and which sightings are new, counted into `out`. Pure.
pub(crate) fn merge_chunk(
    chunk: &[isx_urls::UrlCandidate],
    existing: Vec<isx_urls::UrlRecord>,
    known: &mut std::collections::HashSet<String>,
    seq: i64,
    now: isx_domain::Timestamp,
    out: &mut crate::UrlImportOutcome,
) -> (Vec<isx_urls::UrlRecord>, Vec<(String, String)>) {
    let mut state: std::collections::HashMap<String, (isx_urls::UrlRecord, bool)> = existing
        .into_iter()
        .map(|r| (r.url.clone(), (r, false)))
        .collect();
    let mut order: Vec<String> = Vec::new();
    let mut sightings = Vec::new();
    for c in chunk {
        if !known.insert(c.sighting.clone()) {
            out.unchanged += 1;
            continue;
        }
        match state.get_mut(&c.canon.url) {
            Some((rec, dirty)) => {
                *rec = isx_urls::merge(Some(rec), c, seq, now);
                if !*dirty {
                    order.push(c.canon.url.clone());
                }
                *dirty = true;
                out.updated += 1;
            }
            None => {
                state.insert(
                    c.canon.url.clone(),
                    (isx_urls::merge(None, c, seq, now), true),
                );
                order.push(c.canon.url.clone());
                out.created += 1;
            }
        }
        sightings.push((c.canon.url.clone(), c.sighting.clone()));
    }
    let records = order
        .into_iter()
        .filter_map(|u| state.remove(&u).map(|(r, _)| r))
        .collect();
    (records, sightings)
}

macro_rules! import_urls {
    ($tx:ident, $batch:expr, $now:expr, $placeholders:path) => {{
        let batch: &$crate::UrlBatch<'_> = $batch;
        let now: isx_domain::Timestamp = $now;
        let mut out = $crate::UrlImportOutcome::default();
        let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM url_batches")
            .fetch_one(&mut *$tx)
            .await?;
        // Each changed record gets its own three microseconds, after every
        // earlier one: distinct and ascending. Its TAXII objects take them
        // as their date_added (indicator, infrastructure, relationship).
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(changed_at), 0) FROM url_records")
            .fetch_one(&mut *$tx)
            .await?;
        let mut stamp = now.as_micros().max(last + 3);
        for chunk in batch.candidates.chunks($crate::sql_urls::URL_CHUNK) {
            // The records of the chunk's URLs and which of its sightings are known.
            let mut urls: Vec<&str> = chunk.iter().map(|c| c.canon.url.as_str()).collect();
            urls.sort_unstable();
            urls.dedup();
            let sql = format!(
                "SELECT {} FROM url_records WHERE url IN ({})",
                url_cols!(),
                $placeholders(1, urls.len())
            );
            let mut q = sqlx::query(&sql);
            for u in &urls {
                q = q.bind(*u);
            }
            let mut existing = Vec::new();
            for r in q.fetch_all(&mut *$tx).await? {
                existing.push(url_row!(r)?);
            }
            let mut keys: Vec<&str> = chunk.iter().map(|c| c.sighting.as_str()).collect();
            keys.sort_unstable();
            keys.dedup();
            let sql = format!(
                "SELECT sighting FROM url_sightings WHERE sighting IN ({})",
                $placeholders(1, keys.len())
            );
            let mut q = sqlx::query_scalar::<_, String>(&sql);
            for k in &keys {
                q = q.bind(*k);
            }
            let mut known: std::collections::HashSet<String> = q
                .fetch_all(&mut *$tx)
                .await?
                .into_iter()
                .collect();
            let (mut records, sightings) =
                $crate::sql_urls::merge_chunk(chunk, existing, &mut known, seq, now, &mut out);
            if records.is_empty() {
                continue;
            }
            for r in &mut records {
                r.changed_at = isx_domain::Timestamp::from_micros(stamp);
                stamp += 3;
            }
            // One upsert for new and changed records; ids come back by URL.
            let values: Vec<String> = (0..records.len())
                .map(|i| format!("({})", $placeholders(i * 20 + 1, 20)))
                .collect();
            let sql = format!(
                "INSERT INTO url_records (url, host, domain, ip, asn, as_org, country, city, latitude, longitude, threat,
                 tags, source, confidence, tlp, first_seen, last_seen, times_seen, changed_seq, changed_at)
                 VALUES {}
                 ON CONFLICT (url) DO UPDATE SET host = excluded.host, domain = excluded.domain, ip = excluded.ip,
                 asn = excluded.asn, as_org = excluded.as_org, country = excluded.country, city = excluded.city,
                 latitude = excluded.latitude, longitude = excluded.longitude, threat = excluded.threat,
                 tags = excluded.tags, source = excluded.source, confidence = excluded.confidence, tlp = excluded.tlp,
                 first_seen = excluded.first_seen, last_seen = excluded.last_seen, times_seen = excluded.times_seen,
                 changed_seq = excluded.changed_seq, changed_at = excluded.changed_at
                 RETURNING id, url",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for m in &records {
                q = bind_url!(q, m);
            }
            let mut ids = std::collections::HashMap::new();
            for r in q.fetch_all(&mut *$tx).await? {
                ids.insert(impl_store!(@get r, "url", String), impl_store!(@get r, "id", i64));
            }
            let values: Vec<String> = (0..sightings.len())
                .map(|i| format!("({})", $placeholders(i * 2 + 1, 2)))
                .collect();
            let sql = format!("INSERT INTO url_sightings (url_id, sighting) VALUES {}", values.join(", "));
            let mut q = sqlx::query(&sql);
            for (url, key) in &sightings {
                let id = ids.get(url).copied().ok_or_else(|| {
                    $crate::StoreError::Corrupt(format!("no id returned for {url}"))
                })?;
                q = q.bind(id).bind(key);
            }
            q.execute(&mut *$tx).await?;
        }
        if out.created + out.updated > 0 {
            sqlx::query("INSERT INTO url_batches (seq, imported_at, source, actor, created, updated, unchanged) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(seq)
                .bind(now.as_micros())
                .bind(batch.source)
                .bind(batch.actor)
                .bind(i64::try_from(out.created).unwrap_or(i64::MAX))
                .bind(i64::try_from(out.updated).unwrap_or(i64::MAX))
                .bind(i64::try_from(out.unchanged).unwrap_or(i64::MAX))
                .execute(&mut *$tx)
                .await?;
            out.seq = Some(seq);
        }
        $tx.commit().await?;
        Ok(out)
    }};
}

macro_rules! url_seq_before {
    ($tx:ident, $before:expr) => {{
        let seq: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) FROM url_batches WHERE imported_at < $1",
        )
        .bind($before.as_micros())
        .fetch_one(&mut *$tx)
        .await?;
        $tx.commit().await?;
        Ok(seq)
    }};
}

/// The WHERE clause of a [`crate::UrlQuery`] ($1 … $12) plus the marking
/// list, which holds only the fixed spellings of `Tlp`.
macro_rules! url_where {
    ($q:expr) => {
        format!(
            "WHERE ($1 IS NULL OR lower(url) LIKE $1 ESCAPE '\\') AND ($2 IS NULL OR host = $2) AND ($3 IS NULL OR domain = $3)
             AND ($4 IS NULL OR ip = $4) AND ($5 IS NULL OR asn = $5) AND ($6 IS NULL OR country = $6)
             AND ($7 IS NULL OR threat = $7) AND ($8 IS NULL OR last_seen >= $8) AND ($9 IS NULL OR last_seen < $9)
             AND ($10 IS NULL OR changed_seq > $10) AND ($11 IS NULL OR changed_seq <= $11) AND id > $12
             AND tlp IN ({})",
            $q.markings.iter().map(|t| format!("'{}'", t.as_str())).collect::<Vec<_>>().join(", ")
        )
    };
}

macro_rules! bind_url_query {
    ($sql:expr, $q:expr) => {
        $sql.bind($q.text.as_ref().map(|t| {
                format!("%{}%", t.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
            }))
            .bind($q.host.as_ref().map(|h| h.to_lowercase()))
            .bind($q.domain.as_ref().map(|h| h.to_lowercase()))
            .bind($q.ip.clone())
            .bind($q.asn.map(i64::from))
            .bind($q.country.as_ref().map(|c| c.to_uppercase()))
            .bind($q.threat.map(|t| t.as_str()))
            .bind($q.since.map(|t| t.as_micros()))
            .bind($q.until.map(|t| t.as_micros()))
            .bind($q.changed_after_seq)
            .bind($q.changed_upto_seq)
            // Not NULL-able, so that SQLite seeks on the rowid.
            .bind($q.after_id.unwrap_or(i64::MIN))
    };
}

macro_rules! feed_file_row {
    ($r:ident) => {
        (|| -> $crate::Result<$crate::FeedFile> {
            Ok($crate::FeedFile {
                name: impl_store!(@get $r, "name", String),
                product: impl_store!(@get $r, "product", String),
                kind: impl_store!(@get $r, "kind", String),
                format: impl_store!(@get $r, "format", String),
                slot: isx_domain::Timestamp::from_micros(impl_store!(@get $r, "slot", i64)),
                period_start: isx_domain::Timestamp::from_micros(impl_store!(@get $r, "period_start", i64)),
                period_end: isx_domain::Timestamp::from_micros(impl_store!(@get $r, "period_end", i64)),
                records: impl_store!(@get $r, "records", i64),
                size: impl_store!(@get $r, "size", i64),
                sha256: impl_store!(@get $r, "sha256", String),
                marking: $crate::rows::parse("feed file marking", &impl_store!(@get $r, "marking", String))?,
                signature: impl_store!(@get $r, "signature", String),
                created_at: isx_domain::Timestamp::from_micros(impl_store!(@get $r, "created_at", i64)),
                member: impl_store!(@get $r, "member_id", Option<i64>).map(isx_domain::MemberId),
            })
        })()
    };
}

macro_rules! feed_run_row {
    ($r:ident) => {
        $crate::FeedRun {
            product: impl_store!(@get $r, "product", String),
            slot: isx_domain::Timestamp::from_micros(impl_store!(@get $r, "slot", i64)),
            from_seq: impl_store!(@get $r, "from_seq", Option<i64>).unwrap_or(0),
            to_seq: impl_store!(@get $r, "to_seq", Option<i64>).unwrap_or(0),
            finished_at: isx_domain::Timestamp::from_micros(impl_store!(@get $r, "finished_at", Option<i64>).unwrap_or(0)),
        }
    };
}

macro_rules! url_methods {
    ($ty:ty) => {
        impl $ty {
        pub(crate) async fn url_records_sql(&self, q: &$crate::UrlQuery) -> $crate::Result<Vec<isx_urls::UrlRecord>> {
            if q.markings.is_empty() {
                return Ok(Vec::new());
            }
            let order = if q.newest_first { "ORDER BY last_seen DESC, id DESC" } else { "ORDER BY id" };
            let sql = format!(
                "SELECT {} FROM url_records {} {order} LIMIT $13 OFFSET $14",
                url_cols!(),
                url_where!(q)
            );
            let rows = bind_url_query!(sqlx::query(&sql), q)
                .bind(i64::from(q.limit.clamp(1, 100_000)))
                .bind(i64::from(q.offset))
                .fetch_all(&self.pool)
                .await?;
            rows.into_iter().map(|r| url_row!(r)).collect()
        }

        pub(crate) async fn for_each_url_sql(
            &self,
            q: &$crate::UrlQuery,
            f: &mut (dyn FnMut(isx_urls::UrlRecord) -> std::io::Result<()> + Send),
        ) -> $crate::Result<u64> {
            use futures_util::TryStreamExt;
            if q.markings.is_empty() {
                return Ok(0);
            }
            let sql = format!("SELECT {} FROM url_records {} ORDER BY id", url_cols!(), url_where!(q));
            let query = bind_url_query!(sqlx::query(&sql), q);
            let mut rows = query.fetch(&self.pool);
            let mut n = 0u64;
            while let Some(r) = rows.try_next().await? {
                f(url_row!(r)?).map_err(|e| $crate::StoreError::Io(e.to_string()))?;
                n += 1;
            }
            Ok(n)
        }

        pub(crate) async fn url_record_sql(&self, id: i64) -> $crate::Result<Option<isx_urls::UrlRecord>> {
            let row = sqlx::query(concat!("SELECT ", url_cols!(), " FROM url_records WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            row.map(|r| url_row!(r)).transpose()
        }

        pub(crate) async fn url_stats_sql(&self, q: &$crate::UrlQuery) -> $crate::Result<$crate::UrlStats> {
            let mut stats = $crate::UrlStats::default();
            if q.markings.is_empty() {
                return Ok(stats);
            }
            let w = url_where!(q);
            let by_threat = bind_url_query!(sqlx::query(&format!(
                "SELECT threat, first_seen / 86400000000 AS day, COUNT(*) AS n FROM url_records {w} GROUP BY threat, day ORDER BY day, threat"
            )), q)
            .fetch_all(&self.pool)
            .await?;
            let mut totals: std::collections::BTreeMap<isx_domain::ThreatType, i64> = Default::default();
            for r in by_threat {
                let threat: isx_domain::ThreatType = $crate::rows::parse("threat", &impl_store!(@get r, "threat", String))?;
                let n = impl_store!(@get r, "n", i64);
                stats.per_day.push((impl_store!(@get r, "day", i64), threat, n));
                *totals.entry(threat).or_default() += n;
                stats.total += n;
            }
            stats.by_threat = totals.into_iter().collect();
            stats.by_threat.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let asns = bind_url_query!(sqlx::query(&format!(
                "SELECT asn, MAX(as_org) AS as_org, COUNT(*) AS n FROM url_records {w} AND asn IS NOT NULL GROUP BY asn ORDER BY n DESC, asn LIMIT 10"
            )), q)
            .fetch_all(&self.pool)
            .await?;
            for r in asns {
                let asn = u32::try_from(impl_store!(@get r, "asn", i64)).unwrap_or(0);
                stats.top_asns.push((asn, impl_store!(@get r, "as_org", Option<String>), impl_store!(@get r, "n", i64)));
            }
            let countries = bind_url_query!(sqlx::query(&format!(
                "SELECT country, COUNT(*) AS n FROM url_records {w} AND country IS NOT NULL GROUP BY country ORDER BY n DESC, country LIMIT 10"
            )), q)
            .fetch_all(&self.pool)
            .await?;
            for r in countries {
                stats.top_countries.push((impl_store!(@get r, "country", String), impl_store!(@get r, "n", i64)));
            }
            let points = bind_url_query!(sqlx::query(&format!(
                "SELECT ip, latitude, longitude, MAX(country) AS country, COUNT(*) AS n FROM url_records {w}
                 AND ip IS NOT NULL AND latitude IS NOT NULL AND longitude IS NOT NULL
                 GROUP BY ip, latitude, longitude ORDER BY n DESC, ip LIMIT 2000"
            )), q)
            .fetch_all(&self.pool)
            .await?;
            for r in points {
                stats.points.push($crate::MapPoint {
                    ip: impl_store!(@get r, "ip", String),
                    latitude: impl_store!(@get r, "latitude", f64),
                    longitude: impl_store!(@get r, "longitude", f64),
                    country: impl_store!(@get r, "country", Option<String>),
                    urls: impl_store!(@get r, "n", i64),
                });
            }
            Ok(stats)
        }

        pub(crate) async fn last_feed_run_sql(&self, product: &str) -> $crate::Result<Option<$crate::FeedRun>> {
            let row = sqlx::query(
                "SELECT product, slot, from_seq, to_seq, finished_at FROM feed_runs
                 WHERE product = $1 AND state = 'done' ORDER BY slot DESC LIMIT 1",
            )
            .bind(product)
            .fetch_optional(&self.pool)
            .await?;
            Ok(match row { Some(r) => Some(feed_run_row!(r)), None => None })
        }

        pub(crate) async fn feed_run_before_sql(&self, product: &str, slot: isx_domain::Timestamp) -> $crate::Result<Option<$crate::FeedRun>> {
            let row = sqlx::query(
                "SELECT product, slot, from_seq, to_seq, finished_at FROM feed_runs
                 WHERE product = $1 AND state = 'done' AND slot < $2 ORDER BY slot DESC LIMIT 1",
            )
            .bind(product)
            .bind(slot.as_micros())
            .fetch_optional(&self.pool)
            .await?;
            Ok(match row { Some(r) => Some(feed_run_row!(r)), None => None })
        }

        pub(crate) async fn claim_feed_run_sql(
            &self,
            product: &str,
            slot: isx_domain::Timestamp,
            node: &str,
            now: isx_domain::Timestamp,
            lease_until: isx_domain::Timestamp,
        ) -> $crate::Result<bool> {
            let n = sqlx::query(
                "INSERT INTO feed_runs (product, slot, state, lease_until, node) VALUES ($1, $2, 'running', $3, $4)
                 ON CONFLICT (product, slot) DO UPDATE SET lease_until = $3, node = $4
                 WHERE feed_runs.state <> 'done' AND feed_runs.lease_until < $5",
            )
            .bind(product)
            .bind(slot.as_micros())
            .bind(lease_until.as_micros())
            .bind(node)
            .bind(now.as_micros())
            .execute(&self.pool)
            .await?
            .rows_affected();
            Ok(n == 1)
        }

        pub(crate) async fn finish_feed_run_sql(&self, run: &$crate::FeedRun, files: &[$crate::FeedFile]) -> $crate::Result<()> {
            let mut tx = self.begin_write().await?;
            for f in files {
                sqlx::query(
                    "INSERT INTO feed_files (name, product, kind, format, slot, period_start, period_end, records, size, sha256, marking, signature, created_at, member_id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                     ON CONFLICT (name) DO UPDATE SET records = $8, size = $9, sha256 = $10, marking = $11, signature = $12, created_at = $13, member_id = $14",
                )
                .bind(&f.name)
                .bind(&f.product)
                .bind(&f.kind)
                .bind(&f.format)
                .bind(f.slot.as_micros())
                .bind(f.period_start.as_micros())
                .bind(f.period_end.as_micros())
                .bind(f.records)
                .bind(f.size)
                .bind(&f.sha256)
                .bind(f.marking.as_str())
                .bind(&f.signature)
                .bind(f.created_at.as_micros())
                .bind(f.member.map(|m| m.0))
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "UPDATE feed_runs SET state = 'done', from_seq = $3, to_seq = $4, finished_at = $5 WHERE product = $1 AND slot = $2",
            )
            .bind(&run.product)
            .bind(run.slot.as_micros())
            .bind(run.from_seq)
            .bind(run.to_seq)
            .bind(run.finished_at.as_micros())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        }

        pub(crate) async fn feed_files_sql(&self, product: &str, limit: u32) -> $crate::Result<Vec<$crate::FeedFile>> {
            let rows = sqlx::query(
                "SELECT * FROM feed_files WHERE product = $1 ORDER BY slot DESC, kind DESC, format LIMIT $2",
            )
            .bind(product)
            .bind(i64::from(limit.clamp(1, 10_000)))
            .fetch_all(&self.pool)
            .await?;
            rows.into_iter().map(|r| feed_file_row!(r)).collect()
        }

        pub(crate) async fn member_feed_files_sql(&self, product: &str, member: Option<isx_domain::MemberId>, limit: u32) -> $crate::Result<Vec<$crate::FeedFile>> {
            let rows = sqlx::query(
                "SELECT * FROM feed_files WHERE product = $1 AND (($2 IS NULL AND member_id IS NULL) OR member_id = $2)
                 ORDER BY slot DESC, kind DESC, format LIMIT $3",
            )
            .bind(product)
            .bind(member.map(|m| m.0))
            .bind(i64::from(limit.clamp(1, 10_000)))
            .fetch_all(&self.pool)
            .await?;
            rows.into_iter().map(|r| feed_file_row!(r)).collect()
        }

        pub(crate) async fn feed_file_sql(&self, name: &str) -> $crate::Result<Option<$crate::FeedFile>> {
            let row = sqlx::query("SELECT * FROM feed_files WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
            row.map(|r| feed_file_row!(r)).transpose()
        }
        }
    };
}
