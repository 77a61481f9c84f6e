//! Reads the NIST NSRL RDS v3 SQLite layout: `FILE` (sha256, sha1, md5,
//! file_name, file_size, package_id), `PKG` (package_id, name, version,
//! …, manufacturer_id), `MFG` (manufacturer_id, name), `OS`, and
//! optionally `VERSION` (the release, which names the records' source).
//! The database is opened read-only; nothing is written to it.

use std::path::Path;
use std::str::FromStr;

use isx_cleanfiles::{CleanFile, Md5, Sha1, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::Row;

use crate::{Result, StoreError};

/// Whether `bytes` begin like an SQLite database file.
pub fn looks_like_sqlite(bytes: &[u8]) -> bool {
    bytes.starts_with(b"SQLite format 3\0")
}

/// An open RDS database.
#[derive(Debug)]
pub struct NsrlReader {
    pool: SqlitePool,
    source: String,
    /// Whether the database has an `OS` table and a `FILE.crc32` column.
    has_os: bool,
    has_crc32: bool,
}

impl NsrlReader {
    /// Opens `path` read-only and checks that it has the RDS tables.
    pub async fn open(path: &Path) -> Result<Self> {
        let bad = |m: String| StoreError::Open(format!("{}: {m}", path.display()));
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(|e| bad(e.to_string()))?
            .read_only(true)
            .immutable(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .map_err(|e| bad(e.to_string()))?;
        let tables: Vec<String> =
            sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&pool)
                .await
                .map_err(|e| bad(e.to_string()))?
                .iter()
                .filter_map(|r| r.try_get::<String, _>(0).ok())
                .map(|t| t.to_ascii_uppercase())
                .collect();
        for needed in ["FILE", "PKG", "MFG"] {
            if !tables.iter().any(|t| t == needed) {
                return Err(bad(format!(
                    "not an NSRL RDS v3 database: no {needed} table"
                )));
            }
        }
        let mut source = "NSRL RDS".to_owned();
        if tables.iter().any(|t| t == "VERSION") {
            if let Ok(Some(row)) = sqlx::query("SELECT version FROM VERSION LIMIT 1")
                .fetch_optional(&pool)
                .await
            {
                if let Ok(v) = row.try_get::<String, _>(0) {
                    source = format!("NSRL RDS {}", v.trim());
                }
            }
        }
        let has_os = tables.iter().any(|t| t == "OS");
        let has_crc32 = sqlx::query("SELECT name FROM pragma_table_info('FILE')")
            .fetch_all(&pool)
            .await
            .map_err(|e| bad(e.to_string()))?
            .iter()
            .filter_map(|r| r.try_get::<String, _>(0).ok())
            .any(|c| c.eq_ignore_ascii_case("crc32"));
        Ok(NsrlReader {
            pool,
            source,
            has_os,
            has_crc32,
        })
    }

    /// The source name records get (`NSRL RDS <version>`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Rows of the `FILE` table.
    pub async fn count(&self) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) FROM FILE")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0))
    }

    /// Up to `limit` `FILE` rows after row id `after`, in row id order:
    /// (row id, the record or what is wrong with it), each with its
    /// package's product, version and manufacturer. Paging keeps memory
    /// bounded for databases of hundreds of millions of rows.
    pub async fn page(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, std::result::Result<CleanFile, String>)>> {
        let crc = if self.has_crc32 { "f.crc32" } else { "NULL" };
        let (os_cols, os_join) = if self.has_os {
            (
                "o.name, o.version",
                "LEFT JOIN OS o ON o.operating_system_id = p.operating_system_id",
            )
        } else {
            ("NULL, NULL", "")
        };
        let sql = format!(
            "SELECT f.sha256, f.sha1, f.md5, f.file_name, f.file_size, p.name, p.version, m.name, f.rowid, {crc}, {os_cols}
             FROM FILE f
             LEFT JOIN PKG p ON p.package_id = f.package_id
             LEFT JOIN MFG m ON m.manufacturer_id = p.manufacturer_id
             {os_join}
             WHERE f.rowid > $1 ORDER BY f.rowid LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.try_get::<i64, _>(8).unwrap_or(after), self.record(r)))
            .collect())
    }

    fn record(&self, r: &sqlx::sqlite::SqliteRow) -> std::result::Result<CleanFile, String> {
        let text = |i: usize| r.try_get::<Option<String>, _>(i).ok().flatten();
        let sha256 = text(0).ok_or("sha256 is empty")?;
        let mut f = CleanFile::bare(
            Sha256::parse(&sha256).map_err(|e| format!("sha256: {e}"))?,
            &self.source,
        );
        f.sha1 = text(1)
            .filter(|s| !s.is_empty())
            .map(|s| Sha1::parse(&s).map_err(|e| format!("sha1: {e}")))
            .transpose()?;
        f.md5 = text(2)
            .filter(|s| !s.is_empty())
            .map(|s| Md5::parse(&s).map_err(|e| format!("md5: {e}")))
            .transpose()?;
        f.file_name = text(3).unwrap_or_default();
        f.size = r
            .try_get::<Option<i64>, _>(4)
            .ok()
            .flatten()
            .and_then(|s| u64::try_from(s).ok());
        f.product = text(5);
        f.version = text(6);
        f.vendor = text(7);
        f.crc32 = text(9)
            .filter(|c| !c.trim().is_empty())
            .map(|c| {
                u32::from_str_radix(c.trim(), 16).map_err(|_| format!("crc32: {c:?} is not hex"))
            })
            .transpose()?;
        f.os_name = text(10);
        f.os_version = text(11);
        f.normalise().map_err(|e| e.to_string())
    }
}
