//! PostgreSQL: the engine for several stateless isx nodes on one database.

use std::time::Duration;

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Pool, Postgres, Transaction};

use crate::engine::{Bind, Engine, Exec, Fut, Rows, Sql, SqlStore, WriteLock};
use crate::migrate::{Migration, POSTGRES};
use crate::{redact_url, Backend, Result, StoreError};

/// Serialises migrations across nodes that start at the same time.
const MIGRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(7358261001)";

/// Serialises URL imports (and the reading of their batch numbers), so
/// that batches commit in the order of their numbers.
const URL_LOCK: &str = "SELECT pg_advisory_xact_lock(7358261002)";

/// Serialises botnet inserts (and the reading of the last id before a
/// time), so that event ids commit in ascending order.
const BOTNET_LOCK: &str = "SELECT pg_advisory_xact_lock(7358261003)";

/// Serialises clean-file writes, so change numbers commit in order.
const CLEAN_LOCK: &str = "SELECT pg_advisory_xact_lock(7358261004)";

/// Serialises additions to TAXII collections, so `added` ascends.
const EXCHANGE_LOCK: &str = "SELECT pg_advisory_xact_lock(7358261005)";

/// A store in a PostgreSQL database.
pub type PostgresStore = SqlStore<Postgres>;

impl SqlStore<Postgres> {
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
}

/// PostgreSQL: a write transaction is an ordinary `BEGIN`; what must
/// commit in order is serialised by an advisory transaction lock per
/// [`WriteLock`].
impl Engine for Postgres {
    const BACKEND: Backend = Backend::Postgres;
    const MIGRATIONS: &'static [Migration] = POSTGRES;

    /// A member's events among the rows a botnet read walks: PostgreSQL
    /// turns an `EXISTS` under `OR` into a hash of *all* the member's
    /// recipient rows per query; bounded by the cursor it hashes only the
    /// rows after it (few, for a stream that is caught up).
    const BOTNET_MEMBER_FILTER: &'static str =
        "id IN (SELECT event_id FROM botnet_recipients WHERE member_id = $7 AND event_id > $1)";

    /// A page of clean files as one JSON array of rows (see
    /// `CleanFileStore::clean_page_json`).
    const CLEAN_PAGE_JSON: &'static str = "SELECT COALESCE(json_agg(json_build_array(added_at,
            encode(sha256, 'hex'), encode(sha1, 'hex'), encode(md5, 'hex'),
            size, file_name, product, version, vendor, source, published) ORDER BY added_at)::text, '[]')
        FROM (SELECT * FROM clean_files WHERE added_at > $1 ORDER BY added_at LIMIT $2) page";

    fn lock_statement(lock: WriteLock) -> Option<&'static str> {
        Some(match lock {
            WriteLock::Migration => MIGRATION_LOCK,
            WriteLock::Url => URL_LOCK,
            WriteLock::Botnet => BOTNET_LOCK,
            WriteLock::CleanFiles => CLEAN_LOCK,
            WriteLock::Exchange => EXCHANGE_LOCK,
        })
    }

    /// Placeholders `$from, …` for `n` values.
    fn params(from: usize, n: usize) -> String {
        crate::sql_urls::numbered(from, n)
    }

    fn begin_write(pool: &Pool<Self>) -> Fut<'_, sqlx::Result<Transaction<'static, Self>>> {
        Box::pin(pool.begin())
    }

    // Committing, binding and running are the same code on both engines,
    // written once (a generic version would need sqlx's executor bounds at
    // every use).
    crate::engine::sqlx_runners!();
}
