//! PostgreSQL: the engine for several stateless isx nodes on one database.

use std::time::Duration;

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::migrate::{run_migrations, POSTGRES};
use crate::{redact_url, Backend, Result, StoreError};

/// Serialises migrations across nodes that start at the same time.
const MIGRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(7358261001)";

/// Serialises URL imports (and the reading of their batch numbers), so
/// that batches commit in the order of their numbers.
const URL_LOCK: &str = "SELECT pg_advisory_xact_lock(7358261002)";

/// Serialises botnet inserts (and the reading of the last id before a
/// time), so that event ids commit in ascending order.
const BOTNET_LOCK: &str = "SELECT pg_advisory_xact_lock(7358261003)";

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:pass@host/db`, or with
    /// `?host=/path/to/socket/dir` for a Unix socket). Does not migrate.
    pub async fn connect(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Open(format!("{}: {e}", redact_url(url))))?
            // The shared queries filter with `($n IS NULL OR …)`: a plan made
            // once for any parameters (a generic plan, which PostgreSQL
            // switches to after five runs of a prepared statement) cannot
            // use an index for them and, made while a table was small,
            // scans it whole for ever after. Plan each run for its values.
            // No JIT: compiling a plan costs more than these short queries.
            .options([("plan_cache_mode", "force_custom_plan"), ("jit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            // As on SQLite: a connection whose transaction bookkeeping a
            // failed write left open is closed rather than reused.
            .after_release(|conn, _| {
                Box::pin(async move {
                    use sqlx::{Connection, TransactionManager};
                    conn.ping().await?;
                    Ok(sqlx::postgres::PgTransactionManager::get_transaction_depth(conn) == 0)
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Open(format!("{}: {e}", redact_url(url))))?;
        Ok(PostgresStore { pool })
    }

    /// A member's events among the rows a botnet read walks: PostgreSQL
    /// turns an `EXISTS` under `OR` into a hash of *all* the member's
    /// recipient rows per query; bounded by the cursor it hashes only the
    /// rows after it (few, for a stream that is caught up).
    pub(crate) const BOTNET_MEMBER_FILTER: &'static str =
        "id IN (SELECT event_id FROM botnet_recipients WHERE member_id = $7 AND event_id > $1)";

    /// Serialises clean-file writes, so change numbers commit in order.
    pub(crate) const CLEAN_LOCK: Option<&'static str> =
        Some("SELECT pg_advisory_xact_lock(7358261004)");

    /// Serialises additions to TAXII collections, so `added` ascends.
    pub(crate) const EXCHANGE_LOCK: Option<&'static str> =
        Some("SELECT pg_advisory_xact_lock(7358261005)");
    /// A page of clean files as one JSON array of rows (see
    /// `Store::clean_page_json`).
    pub(crate) const CLEAN_PAGE_JSON: &'static str = "SELECT COALESCE(json_agg(json_build_array(added_at,
            encode(sha256, 'hex'), encode(sha1, 'hex'), encode(md5, 'hex'),
            size, file_name, product, version, vendor, source, published) ORDER BY added_at)::text, '[]')
        FROM (SELECT * FROM clean_files WHERE added_at > $1 ORDER BY added_at LIMIT $2) page";

    /// Placeholders `$from, …` for `n` values.
    pub(crate) fn params(from: usize, n: usize) -> String {
        crate::sql_urls::numbered(from, n)
    }

    /// A transaction that writes (the same name as SQLite's, where it
    /// matters; here an ordinary `BEGIN`).
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'_, sqlx::Postgres>> {
        self.pool.begin().await.map_err(StoreError::Database)
    }
}

impl_store!(PostgresStore, {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migrate(&self) -> Result<usize> {
        run_migrations!(&self.pool, POSTGRES, None, Some(MIGRATION_LOCK))
    }

    async fn import_urls(
        &self,
        batch: &crate::UrlBatch<'_>,
        now: isx_domain::Timestamp,
    ) -> Result<crate::UrlImportOutcome> {
        let mut tx = self.begin_write().await?;
        sqlx::query(URL_LOCK).execute(&mut *tx).await?;
        import_urls!(tx, batch, now, crate::sql_urls::numbered)
    }

    async fn url_seq_before(&self, before: isx_domain::Timestamp) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        sqlx::query(URL_LOCK).execute(&mut *tx).await?;
        url_seq_before!(tx, before)
    }

    async fn insert_botnet_events(
        &self,
        events: &[(isx_botnet::BotnetEvent, Vec<isx_domain::MemberId>)],
        now: isx_domain::Timestamp,
    ) -> Result<crate::BotnetInsertOutcome> {
        let mut tx = self.begin_write().await?;
        sqlx::query(BOTNET_LOCK).execute(&mut *tx).await?;
        insert_botnet!(tx, events, now, crate::sql_urls::numbered)
    }

    async fn botnet_id_before(&self, before: isx_domain::Timestamp) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        sqlx::query(BOTNET_LOCK).execute(&mut *tx).await?;
        botnet_id_before!(tx, before)
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
});
