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

/// Files per round trip: 11 parameters each stays under both engines' limits.
pub(crate) const CLEAN_CHUNK: usize = 500;

/// The columns `clean_row` reads, in order.
pub(crate) const CLEAN_COLS: &str =
    "sha256, sha1, md5, size, file_name, product, version, vendor, source, published";

#[allow(clippy::too_many_arguments)]
pub(crate) fn clean_file(
    sha256: Vec<u8>,
    sha1: Option<Vec<u8>>,
    md5: Option<Vec<u8>>,
    size: Option<i64>,
    file_name: String,
    product: Option<String>,
    version: Option<String>,
    vendor: Option<String>,
    source: String,
    published: Option<i64>,
) -> Result<CleanFile> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("clean file: {what}"));
    Ok(CleanFile {
        sha256: Sha256::from_slice(&sha256).ok_or_else(|| corrupt("SHA-256 length"))?,
        sha1: sha1
            .map(|b| Sha1::from_slice(&b).ok_or_else(|| corrupt("SHA-1 length")))
            .transpose()?,
        md5: md5
            .map(|b| Md5::from_slice(&b).ok_or_else(|| corrupt("MD5 length")))
            .transpose()?,
        size: size.and_then(|s| u64::try_from(s).ok()),
        file_name,
        product,
        version,
        vendor,
        source,
        published: published.map(Timestamp::from_micros),
    })
}

fn clean_row<R: Get>(r: &R) -> Result<CleanFile> {
    clean_file(
        r.at::<Vec<u8>>(0)?,
        r.at::<Option<Vec<u8>>>(1)?,
        r.at::<Option<Vec<u8>>>(2)?,
        r.at::<Option<i64>>(3)?,
        r.at::<String>(4)?,
        r.at::<Option<String>>(5)?,
        r.at::<Option<String>>(6)?,
        r.at::<Option<String>>(7)?,
        r.at::<String>(8)?,
        r.at::<Option<i64>>(9)?,
    )
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
        // after every earlier one: distinct and ascending.
        let last: i64 = scalar(
            sqlx::query("SELECT COALESCE(MAX(added_at), 0) FROM clean_files"),
            &mut tx,
        )
        .await?;
        let mut stamp = now.as_micros().max(last + 1);
        for chunk in files.chunks(crate::sql_cleanfiles::CLEAN_CHUNK) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", DB::params(i * 11 + 1, 11)))
                .collect();
            let sql = format!(
                    "INSERT INTO clean_files (sha256, sha1, md5, size, file_name, product, version, vendor, source, published, added_at)
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
                None,
                String::new(),
                None,
                None,
                None,
                String::new(),
                None,
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
}
