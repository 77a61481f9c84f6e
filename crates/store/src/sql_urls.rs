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

macro_rules! import_urls {
    ($tx:ident, $batch:expr, $now:expr) => {{
        let batch: &$crate::UrlBatch<'_> = $batch;
        let now: isx_domain::Timestamp = $now;
        let mut out = $crate::UrlImportOutcome::default();
        let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM url_batches")
            .fetch_one(&mut *$tx)
            .await
            .map_err($crate::StoreError::Database)?;
        for c in batch.candidates {
            let existing = sqlx::query(concat!("SELECT ", url_cols!(), " FROM url_records WHERE url = $1"))
                .bind(&c.canon.url)
                .fetch_optional(&mut *$tx)
                .await
                .map_err($crate::StoreError::Database)?;
            match existing {
                Some(row) => {
                    let old = url_row!(row)?;
                    let fresh = sqlx::query("INSERT INTO url_sightings (url_id, sighting) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(old.id)
                        .bind(&c.sighting)
                        .execute(&mut *$tx)
                        .await
                        .map_err($crate::StoreError::Database)?
                        .rows_affected();
                    if fresh == 0 {
                        out.unchanged += 1;
                        continue;
                    }
                    let m = isx_urls::merge(Some(&old), c, seq, now);
                    bind_url!(sqlx::query(
                        "UPDATE url_records SET url = $1, host = $2, domain = $3, ip = $4, asn = $5, as_org = $6, country = $7,
                         city = $8, latitude = $9, longitude = $10, threat = $11, tags = $12, source = $13, confidence = $14,
                         tlp = $15, first_seen = $16, last_seen = $17, times_seen = $18, changed_seq = $19, changed_at = $20
                         WHERE id = $21"
                    ), m)
                    .bind(old.id)
                    .execute(&mut *$tx)
                    .await
                    .map_err($crate::StoreError::Database)?;
                    out.updated += 1;
                }
                None => {
                    let m = isx_urls::merge(None, c, seq, now);
                    let id: i64 = bind_url!(sqlx::query_scalar(
                        "INSERT INTO url_records (url, host, domain, ip, asn, as_org, country, city, latitude, longitude, threat,
                         tags, source, confidence, tlp, first_seen, last_seen, times_seen, changed_seq, changed_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
                         RETURNING id"
                    ), m)
                    .fetch_one(&mut *$tx)
                    .await
                    .map_err($crate::StoreError::Database)?;
                    sqlx::query("INSERT INTO url_sightings (url_id, sighting) VALUES ($1, $2)")
                        .bind(id)
                        .bind(&c.sighting)
                        .execute(&mut *$tx)
                        .await
                        .map_err($crate::StoreError::Database)?;
                    out.created += 1;
                }
            }
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
                .await
                .map_err($crate::StoreError::Database)?;
            out.seq = Some(seq);
        }
        $tx.commit().await.map_err($crate::StoreError::Database)?;
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
        .await
        .map_err($crate::StoreError::Database)?;
        $tx.commit().await.map_err($crate::StoreError::Database)?;
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
             AND ($10 IS NULL OR changed_seq > $10) AND ($11 IS NULL OR changed_seq <= $11) AND ($12 IS NULL OR id > $12)
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
            .bind($q.after_id)
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
                .await
                .map_err($crate::StoreError::Database)?;
            rows.into_iter().map(|r| url_row!(r)).collect()
        }

        pub(crate) async fn url_record_sql(&self, id: i64) -> $crate::Result<Option<isx_urls::UrlRecord>> {
            let row = sqlx::query(concat!("SELECT ", url_cols!(), " FROM url_records WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::StoreError::Database)?;
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
            .await
            .map_err($crate::StoreError::Database)?;
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
            .await
            .map_err($crate::StoreError::Database)?;
            for r in asns {
                let asn = u32::try_from(impl_store!(@get r, "asn", i64)).unwrap_or(0);
                stats.top_asns.push((asn, impl_store!(@get r, "as_org", Option<String>), impl_store!(@get r, "n", i64)));
            }
            let countries = bind_url_query!(sqlx::query(&format!(
                "SELECT country, COUNT(*) AS n FROM url_records {w} AND country IS NOT NULL GROUP BY country ORDER BY n DESC, country LIMIT 10"
            )), q)
            .fetch_all(&self.pool)
            .await
            .map_err($crate::StoreError::Database)?;
            for r in countries {
                stats.top_countries.push((impl_store!(@get r, "country", String), impl_store!(@get r, "n", i64)));
            }
            let points = bind_url_query!(sqlx::query(&format!(
                "SELECT ip, latitude, longitude, MAX(country) AS country, COUNT(*) AS n FROM url_records {w}
                 AND ip IS NOT NULL AND latitude IS NOT NULL AND longitude IS NOT NULL
                 GROUP BY ip, latitude, longitude ORDER BY n DESC, ip LIMIT 2000"
            )), q)
            .fetch_all(&self.pool)
            .await
            .map_err($crate::StoreError::Database)?;
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
            .await
            .map_err($crate::StoreError::Database)?;
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
            .await
            .map_err($crate::StoreError::Database)?;
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
            .await
            .map_err($crate::StoreError::Database)?
            .rows_affected();
            Ok(n == 1)
        }

        pub(crate) async fn finish_feed_run_sql(&self, run: &$crate::FeedRun, files: &[$crate::FeedFile]) -> $crate::Result<()> {
            let mut tx = self.pool.begin().await.map_err($crate::StoreError::Database)?;
            for f in files {
                sqlx::query(
                    "INSERT INTO feed_files (name, product, kind, format, slot, period_start, period_end, records, size, sha256, marking, signature, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                     ON CONFLICT (name) DO UPDATE SET records = $8, size = $9, sha256 = $10, marking = $11, signature = $12, created_at = $13",
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
                .execute(&mut *tx)
                .await
                .map_err($crate::StoreError::Database)?;
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
            .await
            .map_err($crate::StoreError::Database)?;
            tx.commit().await.map_err($crate::StoreError::Database)?;
            Ok(())
        }

        pub(crate) async fn feed_files_sql(&self, product: &str, limit: u32) -> $crate::Result<Vec<$crate::FeedFile>> {
            let rows = sqlx::query(
                "SELECT * FROM feed_files WHERE product = $1 ORDER BY slot DESC, kind DESC, format LIMIT $2",
            )
            .bind(product)
            .bind(i64::from(limit.clamp(1, 10_000)))
            .fetch_all(&self.pool)
            .await
            .map_err($crate::StoreError::Database)?;
            rows.into_iter().map(|r| feed_file_row!(r)).collect()
        }

        pub(crate) async fn feed_file_sql(&self, name: &str) -> $crate::Result<Option<$crate::FeedFile>> {
            let row = sqlx::query("SELECT * FROM feed_files WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::StoreError::Database)?;
            row.map(|r| feed_file_row!(r)).transpose()
        }
        }
    };
}
