//! The clean file queries, written once for both engines. Writes run in a
//! transaction holding the backend's clean-file write lock (SQLite:
//! `BEGIN IMMEDIATE`; PostgreSQL: an advisory lock), so change sequence
//! numbers commit in ascending order: a follower that has read up to N
//! never later finds a smaller one.

use isx_cleanfiles::{CleanFile, Md5, Sha1, Sha256};
use isx_domain::Timestamp;

use async_trait::async_trait;

use crate::engine::{commit, scalar, take_lock, Engine, Get, Run, SqlStore, WriteLock};
use sqlx::Transaction;

use crate::{Result, StoreError};

/// Files per round trip: 15 parameters each stays under both engines' limits.
pub(crate) const CLEAN_CHUNK: usize = 500;

/// The columns `clean_row` reads, in order.
pub(crate) const CLEAN_COLS: &str =
    "sha256, sha1, md5, size, file_name, product, version, vendor, source, published, crc32, os_name, os_version, special_code";

/// A record with the stored hashes (raw bytes) and nothing else.
pub(crate) fn clean_file(
    sha256: Vec<u8>,
    sha1: Option<Vec<u8>>,
    md5: Option<Vec<u8>>,
) -> Result<CleanFile> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("clean file: {what}"));
    let mut f = CleanFile::bare(
        Sha256::from_slice(&sha256).ok_or_else(|| corrupt("SHA-256 length"))?,
        "",
    );
    f.sha1 = sha1
        .map(|b| Sha1::from_slice(&b).ok_or_else(|| corrupt("SHA-1 length")))
        .transpose()?;
    f.md5 = md5
        .map(|b| Md5::from_slice(&b).ok_or_else(|| corrupt("MD5 length")))
        .transpose()?;
    Ok(f)
}

fn clean_row<R: Get>(r: &R) -> Result<CleanFile> {
    let mut f = clean_file(
        r.at::<Vec<u8>>(0)?,
        r.at::<Option<Vec<u8>>>(1)?,
        r.at::<Option<Vec<u8>>>(2)?,
    )?;
    f.size = r.at::<Option<i64>>(3)?.and_then(|s| u64::try_from(s).ok());
    f.file_name = r.at::<String>(4)?;
    f.product = r.at::<Option<String>>(5)?;
    f.version = r.at::<Option<String>>(6)?;
    f.vendor = r.at::<Option<String>>(7)?;
    f.source = r.at::<String>(8)?;
    f.published = r.at::<Option<i64>>(9)?.map(Timestamp::from_micros);
    f.crc32 = r.at::<Option<i64>>(10)?.and_then(|c| u32::try_from(c).ok());
    f.os_name = r.at::<Option<String>>(11)?;
    f.os_version = r.at::<Option<String>>(12)?;
    f.special_code = r.at::<Option<String>>(13)?;
    Ok(f)
}

/// A file's hashes as stored: SHA-256, SHA-1 and MD5 (raw bytes).
type Hashes = (Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);

/// Appends change rows (sha256, sha1, md5, added) in one statement per chunk.
async fn log_clean_changes<DB: Engine>(
    tx: &mut Transaction<'_, DB>,
    rows: &[Hashes],
    added: bool,
    now: Timestamp,
) -> Result<()> {
    for part in rows.chunks(2000) {
        let values: Vec<String> = (0..part.len())
            .map(|i| format!("({})", DB::params(i * 5 + 1, 5)))
            .collect();
        let sql = format!(
            "INSERT INTO clean_file_changes (sha256, sha1, md5, added, at) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for (a, b, c) in part {
            q = q
                .arg(a.clone())
                .arg(b.clone())
                .arg(c.clone())
                .arg(i64::from(added))
                .arg(now.as_micros());
        }
        q.run(&mut *tx).await?;
    }
    Ok(())
}

/// Records every row's source, and the parents it names, whether or not
/// the file was new (a second source naming a known file is evidence too);
/// idempotent.
async fn note_evidence<DB: Engine>(
    tx: &mut Transaction<'_, DB>,
    chunk: &[CleanFile],
) -> Result<()> {
    let values: Vec<String> = (0..chunk.len())
        .map(|i| format!("({})", DB::params(i * 2 + 1, 2)))
        .collect();
    let sql = format!(
        "INSERT INTO clean_file_sources (sha256, source) VALUES {} ON CONFLICT DO NOTHING",
        values.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for f in chunk {
        q = q.arg(f.sha256.0.to_vec()).arg(&f.source);
    }
    q.run(&mut *tx).await?;
    let pairs: Vec<(&Sha256, &Sha256)> = chunk
        .iter()
        .flat_map(|f| f.parents.iter().map(move |p| (&f.sha256, p)))
        .collect();
    for part in pairs.chunks(1000) {
        let values: Vec<String> = (0..part.len())
            .map(|i| format!("({})", DB::params(i * 2 + 1, 2)))
            .collect();
        let sql = format!(
            "INSERT INTO clean_file_parents (child, parent) VALUES {} ON CONFLICT DO NOTHING",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for (child, parent) in part {
            q = q.arg(child.0.to_vec()).arg(parent.0.to_vec());
        }
        q.run(&mut *tx).await?;
    }
    Ok(())
}

/// A row read from its second column on (the first is a join key).
struct Shifted<'a, R>(&'a R);

impl<R: Get> Get for Shifted<'_, R> {
    fn col<T: crate::engine::Value>(&self, name: &str) -> sqlx::Result<T> {
        self.0.col(name)
    }
    fn at<T: crate::engine::Value>(&self, i: usize) -> sqlx::Result<T> {
        self.0.at(i + 1)
    }
}

/// UTC days since the epoch.
fn day_of(t: Timestamp) -> i64 {
    t.as_micros().div_euclid(86_400_000_000)
}

#[async_trait]
impl<DB: Engine> crate::CleanFileStore for SqlStore<DB> {
    async fn import_clean_files(
        &self,
        files: &[isx_cleanfiles::CleanFile],
        now: isx_domain::Timestamp,
    ) -> crate::Result<crate::CleanImportOutcome> {
        let mut tx = self.begin_write().await?;
        take_lock(&mut tx, WriteLock::CleanFiles).await?;
        let mut out = crate::CleanImportOutcome::default();
        // Each file gets its own microsecond (its TAXII date_added),
        // after every earlier one: distinct and ascending, the import
        // starting in a millisecond of its own.
        let last: i64 = scalar(
            sqlx::query("SELECT COALESCE(MAX(added_at), 0) FROM clean_files"),
            &mut tx,
        )
        .await?;
        let mut stamp = crate::arrival::own_millisecond(now.as_micros().max(last + 1));
        for chunk in files.chunks(crate::sql_cleanfiles::CLEAN_CHUNK) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", DB::params(i * 15 + 1, 15)))
                .collect();
            let sql = format!(
                    "INSERT INTO clean_files (sha256, sha1, md5, size, file_name, product, version, vendor, source, published, crc32, os_name, os_version, special_code, added_at)
                     VALUES {} ON CONFLICT (sha256) DO NOTHING RETURNING sha256, sha1, md5",
                    values.join(", ")
                );
            let mut q = sqlx::query(&sql);
            for f in chunk {
                q = q
                    .arg(f.sha256.0.to_vec())
                    .arg(f.sha1.map(|h| h.0.to_vec()))
                    .arg(f.md5.map(|h| h.0.to_vec()))
                    .arg(f.size.and_then(|s| i64::try_from(s).ok()))
                    .arg(&f.file_name)
                    .arg(&f.product)
                    .arg(&f.version)
                    .arg(&f.vendor)
                    .arg(&f.source)
                    .arg(f.published.map(|p| p.as_micros()))
                    .arg(f.crc32.map(i64::from))
                    .arg(&f.os_name)
                    .arg(&f.os_version)
                    .arg(&f.special_code)
                    .arg(stamp);
                stamp += 1;
            }
            let rows = q.rows(&mut tx).await?;
            let mut added = Vec::with_capacity(rows.len());
            for r in rows {
                added.push((
                    r.at::<Vec<u8>>(0)?,
                    r.at::<Option<Vec<u8>>>(1)?,
                    r.at::<Option<Vec<u8>>>(2)?,
                ));
            }
            out.added += added.len() as u64;
            out.unchanged += (chunk.len() - added.len()) as u64;
            log_clean_changes(&mut tx, &added, true, now).await?;
            note_evidence(&mut tx, chunk).await?;
        }
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM clean_file_changes")
            .row(&mut tx)
            .await?;
        out.seq = row.at::<i64>(0)?;
        commit(tx).await?;
        Ok(out)
    }

    async fn remove_clean_files(
        &self,
        sha256: &[isx_cleanfiles::Sha256],
        now: isx_domain::Timestamp,
    ) -> crate::Result<u64> {
        let mut tx = self.begin_write().await?;
        take_lock(&mut tx, WriteLock::CleanFiles).await?;
        let mut removed = 0u64;
        for chunk in sha256.chunks(1000) {
            let sql = format!(
                "DELETE FROM clean_files WHERE sha256 IN ({}) RETURNING sha256, sha1, md5",
                DB::params(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for h in chunk {
                q = q.arg(h.0.to_vec());
            }
            let rows = q.rows(&mut tx).await?;
            let mut gone = Vec::with_capacity(rows.len());
            for r in rows {
                gone.push((
                    r.at::<Vec<u8>>(0)?,
                    r.at::<Option<Vec<u8>>>(1)?,
                    r.at::<Option<Vec<u8>>>(2)?,
                ));
            }
            removed += gone.len() as u64;
            log_clean_changes(&mut tx, &gone, false, now).await?;
            for (table, column) in [
                ("clean_file_sources", "sha256"),
                ("clean_file_parents", "child"),
                ("clean_file_parents", "parent"),
            ] {
                let sql = format!(
                    "DELETE FROM {table} WHERE {column} IN ({})",
                    DB::params(1, chunk.len())
                );
                let mut q = sqlx::query(&sql);
                for h in chunk {
                    q = q.arg(h.0.to_vec());
                }
                q.run(&mut tx).await?;
            }
        }
        commit(tx).await?;
        Ok(removed)
    }

    async fn clean_files_by(
        &self,
        algo: isx_cleanfiles::HashAlgo,
        keys: &[Vec<u8>],
    ) -> crate::Result<Vec<isx_cleanfiles::CleanFile>> {
        let column = algo.as_str();
        let mut out = Vec::new();
        for chunk in keys.chunks(1000) {
            let sql = format!(
                "SELECT {} FROM clean_files WHERE {column} IN ({})",
                crate::sql_cleanfiles::CLEAN_COLS,
                DB::params(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for k in chunk {
                q = q.arg(k.clone());
            }
            for r in q.rows(&self.pool).await? {
                out.push(clean_row(&r)?);
            }
        }
        Ok(out)
    }

    async fn clean_changes(
        &self,
        after: i64,
        upto: i64,
        limit: u32,
    ) -> crate::Result<Vec<crate::CleanChange>> {
        let rows = sqlx::query(
            "SELECT seq, sha256, sha1, md5, added, at FROM clean_file_changes
                 WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
        )
        .arg(after)
        .arg(upto)
        .arg(i64::from(limit))
        .rows(&self.pool)
        .await?;
        let corrupt = |w: &str| crate::StoreError::Corrupt(format!("clean file change: {w}"));
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let f = crate::sql_cleanfiles::clean_file(
                r.at::<Vec<u8>>(1)?,
                r.at::<Option<Vec<u8>>>(2)?,
                r.at::<Option<Vec<u8>>>(3)?,
            )
            .map_err(|_| corrupt("hash length"))?;
            out.push(crate::CleanChange {
                seq: r.at::<i64>(0)?,
                sha256: f.sha256,
                sha1: f.sha1,
                md5: f.md5,
                added: r.at::<i64>(4)? != 0,
                at: isx_domain::Timestamp::from_micros(r.at::<i64>(5)?),
            });
        }
        Ok(out)
    }

    async fn clean_seq_before(&self, before: isx_domain::Timestamp) -> crate::Result<i64> {
        let mut tx = self.begin_write().await?;
        take_lock(&mut tx, WriteLock::CleanFiles).await?;
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM clean_file_changes WHERE at < $1")
            .arg(before.as_micros())
            .row(&mut tx)
            .await?;
        let seq = row.at::<i64>(0)?;
        commit(tx).await?;
        Ok(seq)
    }

    async fn for_each_clean_file(
        &self,
        f: &mut (dyn FnMut(isx_cleanfiles::CleanFile) -> std::io::Result<()> + Send),
    ) -> crate::Result<u64> {
        use futures_util::TryStreamExt;
        let sql = format!(
            "SELECT {} FROM clean_files ORDER BY sha256",
            crate::sql_cleanfiles::CLEAN_COLS
        );
        let mut rows = sqlx::query(&sql).stream(&self.pool);
        let mut n = 0u64;
        while let Some(r) = rows.try_next().await? {
            f(clean_row(&r)?).map_err(|e| crate::StoreError::Io(e.to_string()))?;
            n += 1;
        }
        Ok(n)
    }

    async fn clean_stats(&self) -> crate::Result<crate::CleanStats> {
        let mut stats = crate::CleanStats::default();
        let row = sqlx::query("SELECT COUNT(*) FROM clean_files")
            .row(&self.pool)
            .await?;
        stats.files = u64::try_from(row.at::<i64>(0)?).unwrap_or(0);
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM clean_file_changes")
            .row(&self.pool)
            .await?;
        stats.seq = row.at::<i64>(0)?;
        for (column, slot) in [
            ("vendor", &mut stats.distinct_vendors),
            ("product", &mut stats.distinct_products),
            ("os_name", &mut stats.distinct_os),
        ] {
            let sql = format!("SELECT COUNT(DISTINCT {column}) FROM clean_files");
            *slot =
                u64::try_from(sqlx::query(&sql).row(&self.pool).await?.at::<i64>(0)?).unwrap_or(0);
        }
        for (column, limit) in [("source", 100), ("vendor", 10), ("product", 10)] {
            let sql = format!(
                "SELECT {column}, COUNT(*) AS n FROM clean_files WHERE {column} IS NOT NULL
                     GROUP BY {column} ORDER BY n DESC, {column} LIMIT {limit}"
            );
            let rows = sqlx::query(&sql).rows(&self.pool).await?;
            let mut list = Vec::with_capacity(rows.len());
            for r in rows {
                list.push((
                    r.at::<String>(0)?,
                    u64::try_from(r.at::<i64>(1)?).unwrap_or(0),
                ));
            }
            match column {
                "source" => stats.sources = list,
                "vendor" => stats.vendors = list,
                _ => stats.products = list,
            }
        }
        Ok(stats)
    }

    async fn clean_page_json(
        &self,
        after: isx_domain::Timestamp,
        limit: u32,
    ) -> crate::Result<String> {
        let text: Option<String> = scalar(
            sqlx::query(DB::CLEAN_PAGE_JSON)
                .arg(after.as_micros())
                .arg(i64::from(limit.clamp(1, 100_000))),
            &self.pool,
        )
        .await?;
        Ok(text.unwrap_or_else(|| "[]".to_owned()))
    }

    async fn clean_evidence(
        &self,
        sha256: &[Sha256],
    ) -> crate::Result<std::collections::HashMap<Sha256, isx_cleanfiles::Evidence>> {
        let mut out: std::collections::HashMap<Sha256, isx_cleanfiles::Evidence> =
            std::collections::HashMap::new();
        // Each key once: a key in two chunks would count its sources twice.
        let mut keys = sha256.to_vec();
        keys.sort_unstable();
        keys.dedup();
        for chunk in keys.chunks(1000) {
            let list = DB::params(1, chunk.len());
            for (sql, what) in [
                (format!("SELECT sha256, source FROM clean_file_sources WHERE sha256 IN ({list}) ORDER BY sha256, source"), 0),
                (format!("SELECT child, COUNT(*) FROM clean_file_parents WHERE child IN ({list}) GROUP BY child"), 1),
                (format!("SELECT parent, COUNT(*) FROM clean_file_parents WHERE parent IN ({list}) GROUP BY parent"), 2),
            ] {
                let mut q = sqlx::query(&sql);
                for h in chunk {
                    q = q.arg(h.0.to_vec());
                }
                for r in q.rows(&self.pool).await? {
                    let Some(key) = Sha256::from_slice(&r.at::<Vec<u8>>(0)?) else {
                        continue;
                    };
                    let e = out.entry(key).or_default();
                    match what {
                        0 => e.sources.push(r.at::<String>(1)?),
                        1 => e.parents = u64::try_from(r.at::<i64>(1)?).unwrap_or(0),
                        _ => e.children = u64::try_from(r.at::<i64>(1)?).unwrap_or(0),
                    }
                }
            }
        }
        Ok(out)
    }

    async fn clean_related(
        &self,
        sha256: &Sha256,
        parents: bool,
        offset: u64,
        limit: u32,
    ) -> crate::Result<(Vec<crate::Related>, u64)> {
        let (mine, other) = if parents {
            ("child", "parent")
        } else {
            ("parent", "child")
        };
        let total: i64 = scalar(
            sqlx::query(&format!(
                "SELECT COUNT(*) FROM clean_file_parents WHERE {mine} = $1"
            ))
            .arg(sha256.0.to_vec()),
            &self.pool,
        )
        .await?;
        let cols = CLEAN_COLS
            .split(", ")
            .map(|c| format!("f.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT r.{other}, {cols} FROM clean_file_parents r
             LEFT JOIN clean_files f ON f.sha256 = r.{other}
             WHERE r.{mine} = $1 ORDER BY r.{other} LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(&sql)
            .arg(sha256.0.to_vec())
            .arg(i64::from(limit))
            .arg(i64::try_from(offset).unwrap_or(i64::MAX))
            .rows(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let key = Sha256::from_slice(&r.at::<Vec<u8>>(0)?)
                .ok_or_else(|| StoreError::Corrupt("clean file relation: SHA-256 length".into()))?;
            let file = match r.at::<Option<Vec<u8>>>(1)? {
                Some(_) => Some(clean_row(&Shifted(&r))?),
                None => None,
            };
            out.push(crate::Related { sha256: key, file });
        }
        Ok((out, u64::try_from(total).unwrap_or(0)))
    }

    async fn lookup_session_create(
        &self,
        member: i64,
        name: &str,
        now: Timestamp,
        ttl_secs: i64,
    ) -> crate::Result<()> {
        let mut tx = self.begin_write().await?;
        let t = now.as_micros();
        sqlx::query(
            "DELETE FROM hashlookup_session_hashes WHERE (member_id, name) IN
               (SELECT member_id, name FROM hashlookup_sessions WHERE expires_at <= $1 OR (member_id = $2 AND name = $3))",
        )
        .arg(t)
        .arg(member)
        .arg(name)
        .run(&mut tx)
        .await?;
        sqlx::query("DELETE FROM hashlookup_sessions WHERE expires_at <= $1 OR (member_id = $2 AND name = $3)")
            .arg(t)
            .arg(member)
            .arg(name)
            .run(&mut tx)
            .await?;
        let live: i64 = scalar(
            sqlx::query("SELECT COUNT(*) FROM hashlookup_sessions WHERE member_id = $1")
                .arg(member),
            &mut tx,
        )
        .await?;
        if live >= crate::SESSIONS_PER_MEMBER {
            return Err(StoreError::Conflict(format!(
                "{live} live hashlookup sessions: at most {} per member (they expire after a day)",
                crate::SESSIONS_PER_MEMBER
            )));
        }
        sqlx::query(
            "INSERT INTO hashlookup_sessions (member_id, name, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .arg(member)
        .arg(name)
        .arg(t)
        .arg(now.add_secs(ttl_secs).as_micros())
        .run(&mut tx)
        .await?;
        commit(tx).await?;
        Ok(())
    }

    async fn lookup_session_note(
        &self,
        member: i64,
        name: &str,
        hash: &str,
        known: bool,
        now: Timestamp,
    ) -> crate::Result<bool> {
        // One statement: noted only while the session lives and has room.
        let n = sqlx::query(
            "INSERT INTO hashlookup_session_hashes (member_id, name, hash, known)
             SELECT $1, $2, $3, $4 FROM hashlookup_sessions s
             WHERE s.member_id = $1 AND s.name = $2 AND s.expires_at > $5
               AND (SELECT COUNT(*) FROM hashlookup_session_hashes h
                    WHERE h.member_id = $1 AND h.name = $2) < $6
             ON CONFLICT DO NOTHING",
        )
        .arg(member)
        .arg(name)
        .arg(hash)
        .arg(i64::from(known))
        .arg(now.as_micros())
        .arg(crate::SESSION_MAX_HASHES)
        .run(&self.pool)
        .await?;
        if n > 0 {
            return Ok(true);
        }
        // Not noted (already there, or the session is full or gone): say
        // whether the session lives, without reading its hashes.
        let live: i64 = scalar(
            sqlx::query(
                "SELECT COUNT(*) FROM hashlookup_sessions WHERE member_id = $1 AND name = $2 AND expires_at > $3",
            )
            .arg(member)
            .arg(name)
            .arg(now.as_micros()),
            &self.pool,
        )
        .await?;
        Ok(live > 0)
    }

    async fn lookup_session(
        &self,
        member: i64,
        name: &str,
        now: Timestamp,
    ) -> crate::Result<Option<crate::LookupSession>> {
        let Some(row) = sqlx::query(
            "SELECT created_at, expires_at FROM hashlookup_sessions
             WHERE member_id = $1 AND name = $2 AND expires_at > $3",
        )
        .arg(member)
        .arg(name)
        .arg(now.as_micros())
        .maybe_row(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let mut s = crate::LookupSession {
            created: Timestamp::from_micros(row.at::<i64>(0)?),
            expires: Timestamp::from_micros(row.at::<i64>(1)?),
            hashes: Vec::new(),
        };
        for r in sqlx::query(
            "SELECT hash, known FROM hashlookup_session_hashes
             WHERE member_id = $1 AND name = $2 ORDER BY hash",
        )
        .arg(member)
        .arg(name)
        .rows(&self.pool)
        .await?
        {
            s.hashes.push((r.at::<String>(0)?, r.at::<i64>(1)? != 0));
        }
        Ok(Some(s))
    }

    async fn count_lookup(
        &self,
        member: i64,
        hash: &str,
        known: bool,
        now: Timestamp,
    ) -> crate::Result<()> {
        sqlx::query(
            "INSERT INTO clean_lookup_counts (member_id, day, hash, known, hits) VALUES ($1, $2, $3, $4, 1)
             ON CONFLICT (member_id, day, hash) DO UPDATE SET hits = clean_lookup_counts.hits + 1, known = excluded.known",
        )
        .arg(member)
        .arg(day_of(now))
        .arg(hash)
        .arg(i64::from(known))
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn prune_lookups(&self, since: Timestamp, now: Timestamp) -> crate::Result<u64> {
        let mut gone = 0u64;
        let mut tx = self.begin_write().await?;
        gone += sqlx::query("DELETE FROM clean_lookup_counts WHERE day < $1")
            .arg(day_of(since))
            .run(&mut tx)
            .await?;
        gone += sqlx::query(
            "DELETE FROM clean_lookup_counts WHERE (member_id, day, hash) IN (
               SELECT member_id, day, hash FROM (
                 SELECT member_id, day, hash, ROW_NUMBER() OVER (
                   PARTITION BY member_id, day ORDER BY hits DESC, hash) AS rank
                 FROM clean_lookup_counts) ranked
               WHERE ranked.rank > $1)",
        )
        .arg(crate::TOP_KEPT_PER_DAY)
        .run(&mut tx)
        .await?;
        gone += sqlx::query(
            "DELETE FROM hashlookup_session_hashes WHERE (member_id, name) IN
               (SELECT member_id, name FROM hashlookup_sessions WHERE expires_at <= $1)",
        )
        .arg(now.as_micros())
        .run(&mut tx)
        .await?;
        gone += sqlx::query("DELETE FROM hashlookup_sessions WHERE expires_at <= $1")
            .arg(now.as_micros())
            .run(&mut tx)
            .await?;
        commit(tx).await?;
        Ok(gone)
    }

    async fn top_lookups(
        &self,
        member: i64,
        since: Timestamp,
        limit: u32,
    ) -> crate::Result<Vec<(String, bool, u64)>> {
        let first = day_of(since);
        let rows = sqlx::query(
            "SELECT hash, MAX(known), CAST(SUM(hits) AS BIGINT) AS n FROM clean_lookup_counts
             WHERE member_id = $1 AND day >= $2
             GROUP BY hash ORDER BY n DESC, hash LIMIT $3",
        )
        .arg(member)
        .arg(first)
        .arg(i64::from(limit))
        .rows(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push((
                r.at::<String>(0)?,
                r.at::<i64>(1)? != 0,
                u64::try_from(r.at::<i64>(2)?).unwrap_or(0),
            ));
        }
        Ok(out)
    }
}
