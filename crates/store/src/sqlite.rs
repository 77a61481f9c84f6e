//! The embedded default: one SQLite file in the data directory.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite, Transaction};

use crate::engine::{Bind, Engine, Exec, Fut, Rows, Sql, SqlStore, WriteLock};
use crate::migrate::{Migration, SQLITE};
use crate::{Backend, Result, StoreError};

/// A store in one SQLite file (WAL mode, foreign keys on, `synchronous=FULL`
/// so that an acknowledged write survives power loss).
pub type SqliteStore = SqlStore<Sqlite>;

impl SqlStore<Sqlite> {
    /// Opens (creating if needed) the database file at `path`. Does not
    /// migrate; [`crate::open`] does, or call [`crate::CoreStore::migrate`].
    pub async fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, 8).await
    }

    /// [`open`](Self::open) with a pool of `max_connections`.
    pub(crate) async fn open_with(path: &Path, max_connections: u32) -> Result<Self> {
        // The file holds webhook secrets and key hashes: only its owner
        // reads it. SQLite gives the -wal and -shm files the same mode.
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            let open = |e: std::io::Error| StoreError::Open(format!("{}: {e}", path.display()));
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(path)
                .map_err(open)?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(open)?;
        }
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(|e| StoreError::Open(format!("{}: {e}", path.display())))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // 64 MiB of page cache per connection (the default is 2 MiB):
            // bulk imports touch many index pages.
            .pragma("cache_size", "-65536")
            // Statement journals and sorts in memory rather than temporary files.
            .pragma("temp_store", "memory")
            .busy_timeout(Duration::from_secs(10));
        // Two processes creating the same new file race for the switch to
        // WAL, which SQLite answers with SQLITE_BUSY outside the busy
        // handler: retry for a while before giving up.
        let mut attempt = 0;
        let pool = loop {
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                // A file on this machine needs no liveness check before each
                // query (sqlx's default pings, a round trip to the
                // connection's thread every time).
                .test_before_acquire(false)
                // A write that failed inside a transaction (SQLITE_FULL when
                // the disk is full, an I/O error) can leave SQLite rolled
                // back while sqlx still counts the transaction open; every
                // later `BEGIN IMMEDIATE` on that connection would then fail
                // ("begin_with at non-zero transaction depth") until a
                // restart. Such a connection is closed when it comes back,
                // so writes recover by themselves once space returns.
                .after_release(|conn, _| {
                    Box::pin(async move {
                        use sqlx::{Connection, TransactionManager};
                        // Flush the rollback a dropped transaction queued.
                        conn.ping().await?;
                        Ok(
                            sqlx::sqlite::SqliteTransactionManager::get_transaction_depth(conn)
                                == 0,
                        )
                    })
                })
                .connect_with(opts.clone())
                .await;
            match pool {
                Ok(p) => break p,
                Err(e) if attempt < 50 && e.to_string().contains("database is locked") => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(StoreError::Open(format!("{}: {e}", path.display()))),
            }
        };
        Ok(SqliteStore { pool })
    }
}

/// SQLite: every write transaction is `BEGIN IMMEDIATE`, which takes the
/// database's one write lock up front, waiting through the busy timeout (a
/// deferred `BEGIN` that reads and then writes fails at once with
/// `SQLITE_BUSY` when another connection committed in between, which no
/// timeout can help). That lock serialises everything the advisory locks
/// serialise on PostgreSQL, so no [`WriteLock`] needs a statement.
impl Engine for Sqlite {
    const BACKEND: Backend = Backend::Sqlite;
    const MIGRATIONS: &'static [Migration] = SQLITE;

    /// A member's events among the rows a botnet read walks: SQLite looks
    /// each row up in the recipients' primary key.
    const BOTNET_MEMBER_FILTER: &'static str =
        "EXISTS (SELECT 1 FROM botnet_recipients r WHERE r.member_id = $7 AND r.event_id = botnet_events.id)";

    /// A page of clean files as one JSON array of rows, built by SQLite
    /// (see `CleanFileStore::clean_page_json`): one value crosses to Rust,
    /// not one row per file.
    const CLEAN_PAGE_JSON: &'static str = "SELECT json_group_array(json_array(added_at,
            lower(hex(sha256)),
            CASE WHEN sha1 IS NULL THEN NULL ELSE lower(hex(sha1)) END,
            CASE WHEN md5 IS NULL THEN NULL ELSE lower(hex(md5)) END,
            size, file_name, product, version, vendor, source, published))
        FROM (SELECT * FROM clean_files WHERE added_at > $1 ORDER BY added_at LIMIT $2)";

    fn lock_statement(_lock: WriteLock) -> Option<&'static str> {
        None
    }

    /// Placeholders for `n` values (anonymous: SQLite binds them fastest).
    fn params(from: usize, n: usize) -> String {
        crate::sql_urls::anonymous(from, n)
    }

    fn begin_write(pool: &Pool<Self>) -> Fut<'_, sqlx::Result<Transaction<'static, Self>>> {
        Box::pin(pool.begin_with("BEGIN IMMEDIATE"))
    }

    // Committing, binding and running are the same code on both engines,
    // written once (a generic version would need sqlx's executor bounds at
    // every use).
    crate::engine::sqlx_runners!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuditStore, CoreStore};

    /// Sets `max_page_count` on the pool's one connection (SQLite keeps it
    /// per connection): a stand-in for a disk with no space left that fails
    /// writes with the same SQLITE_FULL.
    async fn limit_pages(store: &SqliteStore, pages: Option<i64>) {
        let mut c = store.pool.acquire().await.expect("connection");
        let n = pages.unwrap_or(1_073_741_823);
        sqlx::query(&format!("PRAGMA max_page_count = {n}"))
            .execute(&mut *c)
            .await
            .expect("pragma");
    }

    fn event(i: usize) -> isx_domain::NewAuditEvent {
        isx_domain::NewAuditEvent {
            at: isx_domain::Timestamp::from_secs(1_800_000_000),
            actor: "test".into(),
            member: None,
            action: "fill".into(),
            target: format!("{i}:{}", "x".repeat(8_000)),
            source_ip: None,
            outcome: "ok".into(),
        }
    }

    #[tokio::test]
    async fn writes_recover_by_themselves_after_the_disk_was_full() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open_with(&dir.path().join("isx.sqlite"), 1)
            .await
            .expect("open");
        store.migrate().await.expect("migrate");
        store.append_audit(&event(0)).await.expect("a first write");
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&store.pool)
            .await
            .expect("page count");
        // The disk fills: the health check (64 KiB) fails like the writes.
        limit_pages(&store, Some(pages)).await;
        let health = store.check_writable().await;
        assert!(
            health
                .as_ref()
                .is_err_and(|e| e.to_string().contains("full")),
            "the health check fails like the writes: {health:?}"
        );
        for round in 0..5 {
            // No room for a batch (the health check's freed pages hold
            // less than this one needs) ...
            let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
                .fetch_one(&store.pool)
                .await
                .expect("page count");
            limit_pages(&store, Some(pages)).await;
            let batch: Vec<_> = (0..20).map(|j| event(round * 100 + j)).collect();
            let failed = store.append_audit_batch(&batch).await;
            assert!(
                failed
                    .as_ref()
                    .is_err_and(|e| e.to_string().contains("full")),
                "round {round}: {failed:?}"
            );
            // ... space comes back: writes work again, without a restart
            // (before the fix: "begin_with at non-zero transaction depth").
            limit_pages(&store, None).await;
            store
                .append_audit_batch(&[event(10_000 + round)])
                .await
                .expect("writes recover");
            store.check_writable().await.expect("healthy again");
        }
        let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(&store.pool)
            .await
            .expect("count");
        assert_eq!(
            kept,
            1 + 5,
            "acknowledged writes kept, failed batches absent"
        );
    }
}
