//! The clean file queries, written once for both engines. Writes run in a
//! transaction holding the backend's clean-file write lock (SQLite:
//! `BEGIN IMMEDIATE`; PostgreSQL: an advisory lock), so change sequence
//! numbers commit in ascending order: a follower that has read up to N
//! never later finds a smaller one.

use isx_cleanfiles::{CleanFile, Md5, Sha1, Sha256};
use isx_domain::Timestamp;

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

macro_rules! clean_row {
    ($r:ident) => {
        $crate::sql_cleanfiles::clean_file(
            impl_store!(@at $r, 0, Vec<u8>),
            impl_store!(@at $r, 1, Option<Vec<u8>>),
            impl_store!(@at $r, 2, Option<Vec<u8>>),
            impl_store!(@at $r, 3, Option<i64>),
            impl_store!(@at $r, 4, String),
            impl_store!(@at $r, 5, Option<String>),
            impl_store!(@at $r, 6, Option<String>),
            impl_store!(@at $r, 7, Option<String>),
            impl_store!(@at $r, 8, String),
            impl_store!(@at $r, 9, Option<i64>),
        )
    };
}

/// Appends change rows (sha256, sha1, md5, added) in one statement per chunk.
macro_rules! log_clean_changes {
    ($tx:ident, $rows:expr, $added:expr, $now:expr, $params:path) => {{
        let rows: &[(Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>)] = $rows;
        for part in rows.chunks(2000) {
            let values: Vec<String> = (0..part.len())
                .map(|i| format!("({})", $params(i * 5 + 1, 5)))
                .collect();
            let sql = format!(
                "INSERT INTO clean_file_changes (sha256, sha1, md5, added, at) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (a, b, c) in part {
                q = q
                    .bind(a.clone())
                    .bind(b.clone())
                    .bind(c.clone())
                    .bind(i64::from($added))
                    .bind($now.as_micros());
            }
            q.execute(&mut *$tx).await?;
        }
    }};
}

macro_rules! cleanfile_methods {
    ($ty:ty) => {
        impl $ty {
        pub(crate) async fn import_clean_files_sql(
            &self,
            files: &[isx_cleanfiles::CleanFile],
            now: isx_domain::Timestamp,
        ) -> $crate::Result<$crate::CleanImportOutcome> {
            let mut tx = self.begin_write().await?;
            if let Some(lock) = Self::CLEAN_LOCK {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let mut out = $crate::CleanImportOutcome::default();
            // Each file gets its own microsecond (its TAXII date_added),
            // after every earlier one: distinct and ascending.
            let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(added_at), 0) FROM clean_files")
                .fetch_one(&mut *tx)
                .await?;
            let mut stamp = now.as_micros().max(last + 1);
            for chunk in files.chunks($crate::sql_cleanfiles::CLEAN_CHUNK) {
                let values: Vec<String> = (0..chunk.len())
                    .map(|i| format!("({})", Self::params(i * 11 + 1, 11)))
                    .collect();
                let sql = format!(
                    "INSERT INTO clean_files (sha256, sha1, md5, size, file_name, product, version, vendor, source, published, added_at)
                     VALUES {} ON CONFLICT (sha256) DO NOTHING RETURNING sha256, sha1, md5",
                    values.join(", ")
                );
                let mut q = sqlx::query(&sql);
                for f in chunk {
                    q = q
                        .bind(f.sha256.0.to_vec())
                        .bind(f.sha1.map(|h| h.0.to_vec()))
                        .bind(f.md5.map(|h| h.0.to_vec()))
                        .bind(f.size.and_then(|s| i64::try_from(s).ok()))
                        .bind(&f.file_name)
                        .bind(&f.product)
                        .bind(&f.version)
                        .bind(&f.vendor)
                        .bind(&f.source)
                        .bind(f.published.map(|p| p.as_micros()))
                        .bind(stamp);
                    stamp += 1;
                }
                let rows = q.fetch_all(&mut *tx).await?;
                let mut added = Vec::with_capacity(rows.len());
                for r in rows {
                    added.push((
                        impl_store!(@at r, 0, Vec<u8>),
                        impl_store!(@at r, 1, Option<Vec<u8>>),
                        impl_store!(@at r, 2, Option<Vec<u8>>),
                    ));
                }
                out.added += added.len() as u64;
                out.unchanged += (chunk.len() - added.len()) as u64;
                log_clean_changes!(tx, &added, true, now, Self::params);
            }
            let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM clean_file_changes")
                .fetch_one(&mut *tx)
                .await?;
            out.seq = impl_store!(@at row, 0, i64);
            tx.commit().await?;
            Ok(out)
        }

        pub(crate) async fn remove_clean_files_sql(
            &self,
            sha256: &[isx_cleanfiles::Sha256],
            now: isx_domain::Timestamp,
        ) -> $crate::Result<u64> {
            let mut tx = self.begin_write().await?;
            if let Some(lock) = Self::CLEAN_LOCK {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let mut removed = 0u64;
            for chunk in sha256.chunks(1000) {
                let sql = format!(
                    "DELETE FROM clean_files WHERE sha256 IN ({}) RETURNING sha256, sha1, md5",
                    Self::params(1, chunk.len())
                );
                let mut q = sqlx::query(&sql);
                for h in chunk {
                    q = q.bind(h.0.to_vec());
                }
                let rows = q.fetch_all(&mut *tx).await?;
                let mut gone = Vec::with_capacity(rows.len());
                for r in rows {
                    gone.push((
                        impl_store!(@at r, 0, Vec<u8>),
                        impl_store!(@at r, 1, Option<Vec<u8>>),
                        impl_store!(@at r, 2, Option<Vec<u8>>),
                    ));
                }
                removed += gone.len() as u64;
                log_clean_changes!(tx, &gone, false, now, Self::params);
            }
            tx.commit().await?;
            Ok(removed)
        }

        pub(crate) async fn clean_files_by_sql(
            &self,
            algo: isx_cleanfiles::HashAlgo,
            keys: &[Vec<u8>],
        ) -> $crate::Result<Vec<isx_cleanfiles::CleanFile>> {
            let column = algo.as_str();
            let mut out = Vec::new();
            for chunk in keys.chunks(1000) {
                let sql = format!(
                    "SELECT {} FROM clean_files WHERE {column} IN ({})",
                    $crate::sql_cleanfiles::CLEAN_COLS,
                    Self::params(1, chunk.len())
                );
                let mut q = sqlx::query(&sql);
                for k in chunk {
                    q = q.bind(k.clone());
                }
                for r in q.fetch_all(&self.pool).await? {
                    out.push(clean_row!(r)?);
                }
            }
            Ok(out)
        }

        pub(crate) async fn clean_changes_sql(
            &self,
            after: i64,
            upto: i64,
            limit: u32,
        ) -> $crate::Result<Vec<$crate::CleanChange>> {
            let rows = sqlx::query(
                "SELECT seq, sha256, sha1, md5, added, at FROM clean_file_changes
                 WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
            )
            .bind(after)
            .bind(upto)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
            let corrupt = |w: &str| $crate::StoreError::Corrupt(format!("clean file change: {w}"));
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let f = $crate::sql_cleanfiles::clean_file(
                    impl_store!(@at r, 1, Vec<u8>),
                    impl_store!(@at r, 2, Option<Vec<u8>>),
                    impl_store!(@at r, 3, Option<Vec<u8>>),
                    None, String::new(), None, None, None, String::new(), None,
                ).map_err(|_| corrupt("hash length"))?;
                out.push($crate::CleanChange {
                    seq: impl_store!(@at r, 0, i64),
                    sha256: f.sha256,
                    sha1: f.sha1,
                    md5: f.md5,
                    added: impl_store!(@at r, 4, i64) != 0,
                    at: isx_domain::Timestamp::from_micros(impl_store!(@at r, 5, i64)),
                });
            }
            Ok(out)
        }

        pub(crate) async fn clean_seq_before_sql(&self, before: isx_domain::Timestamp) -> $crate::Result<i64> {
            let mut tx = self.begin_write().await?;
            if let Some(lock) = Self::CLEAN_LOCK {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM clean_file_changes WHERE at < $1")
                .bind(before.as_micros())
                .fetch_one(&mut *tx)
                .await?;
            let seq = impl_store!(@at row, 0, i64);
            tx.commit().await?;
            Ok(seq)
        }

        pub(crate) async fn for_each_clean_file_sql(
            &self,
            f: &mut (dyn FnMut(isx_cleanfiles::CleanFile) -> std::io::Result<()> + Send),
        ) -> $crate::Result<u64> {
            use futures_util::TryStreamExt;
            let sql = format!("SELECT {} FROM clean_files ORDER BY sha256", $crate::sql_cleanfiles::CLEAN_COLS);
            let mut rows = sqlx::query(&sql).fetch(&self.pool);
            let mut n = 0u64;
            while let Some(r) = rows.try_next().await? {
                f(clean_row!(r)?).map_err(|e| $crate::StoreError::Io(e.to_string()))?;
                n += 1;
            }
            Ok(n)
        }

        pub(crate) async fn clean_stats_sql(&self) -> $crate::Result<$crate::CleanStats> {
            let mut stats = $crate::CleanStats::default();
            let row = sqlx::query("SELECT COUNT(*) FROM clean_files")
                .fetch_one(&self.pool)
                .await?;
            stats.files = u64::try_from(impl_store!(@at row, 0, i64)).unwrap_or(0);
            let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM clean_file_changes")
                .fetch_one(&self.pool)
                .await?;
            stats.seq = impl_store!(@at row, 0, i64);
            for (column, limit) in [("source", 100), ("vendor", 10), ("product", 10)] {
                let sql = format!(
                    "SELECT {column}, COUNT(*) AS n FROM clean_files WHERE {column} IS NOT NULL
                     GROUP BY {column} ORDER BY n DESC, {column} LIMIT {limit}"
                );
                let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
                let mut list = Vec::with_capacity(rows.len());
                for r in rows {
                    list.push((impl_store!(@at r, 0, String), u64::try_from(impl_store!(@at r, 1, i64)).unwrap_or(0)));
                }
                match column {
                    "source" => stats.sources = list,
                    "vendor" => stats.vendors = list,
                    _ => stats.products = list,
                }
            }
            Ok(stats)
        }
        }
    };
}
