//! The embedded default: one SQLite file in the data directory.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::migrate::{run_migrations, SQLITE};
use crate::{Backend, Result, StoreError};

/// A store in one SQLite file (WAL mode, foreign keys on, `synchronous=FULL`
/// so that an acknowledged write survives power loss).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`. Does not
    /// migrate; [`crate::open`] does, or call [`crate::Store::migrate`].
    pub async fn open(path: &Path) -> Result<Self> {
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
                .max_connections(8)
                // A file on this machine needs no liveness check before each
                // query (sqlx's default pings, a round trip to the
                // connection's thread every time).
                .test_before_acquire(false)
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

    /// A member's events among the rows a botnet read walks: SQLite looks
    /// each row up in the recipients' primary key.
    pub(crate) const BOTNET_MEMBER_FILTER: &'static str =
        "EXISTS (SELECT 1 FROM botnet_recipients r WHERE r.member_id = $7 AND r.event_id = botnet_events.id)";

    /// A transaction that writes: `BEGIN IMMEDIATE` takes the write lock
    /// up front, waiting through the busy timeout. A deferred `BEGIN` that
    /// reads and then writes fails at once with `SQLITE_BUSY` when another
    /// connection committed in between, which no timeout can help.
    /// Clean-file writes need no lock beyond `BEGIN IMMEDIATE`.
    pub(crate) const CLEAN_LOCK: Option<&'static str> = None;
    /// Exchange writes need no lock beyond `BEGIN IMMEDIATE` either.
    pub(crate) const EXCHANGE_LOCK: Option<&'static str> = None;
    /// A page of clean files as one JSON array of rows, built by SQLite
    /// (see `Store::clean_page_json`): one value crosses to Rust, not one
    /// row per file.
    pub(crate) const CLEAN_PAGE_JSON: &'static str = "SELECT json_group_array(json_array(added_at,
            lower(hex(sha256)),
            CASE WHEN sha1 IS NULL THEN NULL ELSE lower(hex(sha1)) END,
            CASE WHEN md5 IS NULL THEN NULL ELSE lower(hex(md5)) END,
            size, file_name, product, version, vendor, source, published))
        FROM (SELECT * FROM clean_files WHERE added_at > $1 ORDER BY added_at LIMIT $2)";

    /// Placeholders for `n` values (anonymous: SQLite binds them fastest).
    pub(crate) fn params(from: usize, n: usize) -> String {
        crate::sql_urls::anonymous(from, n)
    }

    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'_, sqlx::Sqlite>> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::Database)
    }
}

impl_store!(SqliteStore, {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> Result<usize> {
        run_migrations!(&self.pool, SQLITE, Some("BEGIN IMMEDIATE"), None)
    }

    async fn import_urls(
        &self,
        batch: &crate::UrlBatch<'_>,
        now: isx_domain::Timestamp,
    ) -> Result<crate::UrlImportOutcome> {
        let mut tx = self.begin_write().await?;
        import_urls!(tx, batch, now, crate::sql_urls::anonymous)
    }

    async fn url_seq_before(&self, before: isx_domain::Timestamp) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        url_seq_before!(tx, before)
    }

    async fn insert_botnet_events(
        &self,
        events: &[(isx_botnet::BotnetEvent, Vec<isx_domain::MemberId>)],
        now: isx_domain::Timestamp,
    ) -> Result<crate::BotnetInsertOutcome> {
        let mut tx = self.begin_write().await?;
        insert_botnet!(tx, events, now, crate::sql_urls::anonymous)
    }

    async fn botnet_id_before(&self, before: isx_domain::Timestamp) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        botnet_id_before!(tx, before)
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(StoreError::Database)?;
        Ok(())
    }
});
