//! What the shared SQL needs of an engine, and the one store type built on
//! it.
//!
//! [`SqlStore`] implements every product trait once, for any [`Engine`].
//! The engine (sealed: implemented for [`sqlx::Sqlite`] and
//! [`sqlx::Postgres`] only, in `sqlite.rs` and `postgres.rs`) holds the few
//! things that really differ between the two, and it runs the queries:
//! binding a value, executing, fetching rows and streaming them, beginning
//! and ending a write transaction. Its implementations call sqlx on the
//! concrete engine types, so the generic code never names sqlx's
//! higher-ranked `Executor`, `Encode` or `Decode` bounds (which a generic
//! `async_trait` impl cannot prove `Send` for); what a value or a row must
//! support is bundled in [`Value`], [`Bind`] and [`Get`], implemented for
//! every type both engines read and write.

use std::future::Future;
use std::pin::Pin;

use futures_util::Stream;
use sqlx::postgres::PgRow;
use sqlx::query::Query;
use sqlx::sqlite::SqliteRow;
use sqlx::{Database, Decode, Encode, Pool, Postgres, Sqlite, Transaction, Type};

use crate::migrate::Migration;
use crate::{Backend, Result};

/// A boxed `Send` future, as the engines return them.
pub type Fut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A boxed `Send` stream of rows.
pub type Rows<'a, R> = Pin<Box<dyn Stream<Item = sqlx::Result<R>> + Send + 'a>>;

/// A query of engine `DB` with its arguments.
pub type Sql<'q, DB> = Query<'q, DB, <DB as Database>::Arguments<'q>>;

mod sealed {
    pub trait Sealed {}
    impl Sealed for sqlx::Sqlite {}
    impl Sealed for sqlx::Postgres {}
}

/// A value both engines decode from a column.
pub trait Value:
    for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}

impl<T> Value for T where
    T: for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}

/// A value both engines bind as a parameter of a query living for `'q`.
pub trait Bind<'q>:
    'q + Send + Encode<'q, Sqlite> + Type<Sqlite> + Encode<'q, Postgres> + Type<Postgres>
{
}

impl<'q, T> Bind<'q> for T where
    T: 'q + Send + Encode<'q, Sqlite> + Type<Sqlite> + Encode<'q, Postgres> + Type<Postgres>
{
}

/// Reading a column of a row, by name or by position.
pub trait Get {
    /// The column named `name`.
    fn col<T: Value>(&self, name: &str) -> sqlx::Result<T>;
    /// The column at position `i`.
    fn at<T: Value>(&self, i: usize) -> sqlx::Result<T>;
}

impl Get for SqliteRow {
    fn col<T: Value>(&self, name: &str) -> sqlx::Result<T> {
        sqlx::Row::try_get(self, name)
    }
    fn at<T: Value>(&self, i: usize) -> sqlx::Result<T> {
        sqlx::Row::try_get(self, i)
    }
}

impl Get for PgRow {
    fn col<T: Value>(&self, name: &str) -> sqlx::Result<T> {
        sqlx::Row::try_get(self, name)
    }
    fn at<T: Value>(&self, i: usize) -> sqlx::Result<T> {
        sqlx::Row::try_get(self, i)
    }
}

/// The writes that are serialised across nodes beyond what a write
/// transaction gives (PostgreSQL: an advisory transaction lock each;
/// SQLite: `BEGIN IMMEDIATE` already holds the one database write lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteLock {
    /// Schema migrations of nodes that start at the same time.
    Migration,
    /// URL imports and the reading of their batch numbers, so that batches
    /// commit in the order of their numbers.
    Url,
    /// Botnet inserts and the reading of the last id before a time, so that
    /// event ids commit in ascending order.
    Botnet,
    /// Clean-file writes, so change numbers commit in order.
    CleanFiles,
    /// Additions to TAXII collections, so `added` ascends.
    Exchange,
}

/// A fresh id for a row whose id members see (releases, contributions,
/// their comments, attachments and share requests): random in [1, 2^52)
/// from the operating system, so the ids a member sees tell neither how
/// many rows it does not see nor in which order they came. (2^52 keeps
/// them exact numbers in every JSON client; a collision, about one in
/// 10^9 for a million rows, fails the insert as a conflict.)
pub(crate) fn random_row_id() -> Result<i64> {
    let mut b = [0u8; 8];
    getrandom::getrandom(&mut b)
        .map_err(|e| crate::StoreError::Io(format!("no random id: {e}")))?;
    let id = u64::from_le_bytes(b) & ((1 << 52) - 1);
    Ok(i64::try_from(id.max(1)).unwrap_or(1))
}

/// Where a query runs: on the pool (any connection) or in a transaction.
pub enum Exec<'e, DB: Database> {
    Pool(&'e Pool<DB>),
    Conn(&'e mut DB::Connection),
}

impl<'e, DB: Database> From<&'e Pool<DB>> for Exec<'e, DB> {
    fn from(p: &'e Pool<DB>) -> Self {
        Exec::Pool(p)
    }
}

impl<'e, 't, DB: Database> From<&'e mut Transaction<'t, DB>> for Exec<'e, DB> {
    fn from(tx: &'e mut Transaction<'t, DB>) -> Self {
        Exec::Conn(&mut **tx)
    }
}

/// The `Engine` methods that are the same sqlx calls on every engine:
/// committing, rolling back, binding, and running a query on a pool or in
/// a transaction. Each engine's `impl Engine` expands it once.
macro_rules! sqlx_runners {
    () => {
        fn commit(tx: Transaction<'_, Self>) -> Fut<'_, sqlx::Result<()>> {
            Box::pin(tx.commit())
        }

        fn rollback(tx: Transaction<'_, Self>) -> Fut<'_, sqlx::Result<()>> {
            Box::pin(tx.rollback())
        }

        fn bind<'q, T: Bind<'q>>(q: Sql<'q, Self>, value: T) -> Sql<'q, Self> {
            q.bind(value)
        }

        fn execute<'e, 'q: 'e>(on: Exec<'e, Self>, q: Sql<'q, Self>) -> Fut<'e, sqlx::Result<u64>> {
            match on {
                Exec::Pool(p) => Box::pin(async move { Ok(q.execute(p).await?.rows_affected()) }),
                Exec::Conn(c) => Box::pin(async move { Ok(q.execute(c).await?.rows_affected()) }),
            }
        }

        fn fetch_all<'e, 'q: 'e>(
            on: Exec<'e, Self>,
            q: Sql<'q, Self>,
        ) -> Fut<'e, sqlx::Result<Vec<Self::Row>>> {
            match on {
                Exec::Pool(p) => Box::pin(q.fetch_all(p)),
                Exec::Conn(c) => Box::pin(q.fetch_all(c)),
            }
        }

        fn fetch_one<'e, 'q: 'e>(
            on: Exec<'e, Self>,
            q: Sql<'q, Self>,
        ) -> Fut<'e, sqlx::Result<Self::Row>> {
            match on {
                Exec::Pool(p) => Box::pin(q.fetch_one(p)),
                Exec::Conn(c) => Box::pin(q.fetch_one(c)),
            }
        }

        fn fetch_optional<'e, 'q: 'e>(
            on: Exec<'e, Self>,
            q: Sql<'q, Self>,
        ) -> Fut<'e, sqlx::Result<Option<Self::Row>>> {
            match on {
                Exec::Pool(p) => Box::pin(q.fetch_optional(p)),
                Exec::Conn(c) => Box::pin(q.fetch_optional(c)),
            }
        }

        fn fetch<'e, 'q: 'e>(pool: &'e Pool<Self>, q: Sql<'q, Self>) -> Rows<'e, Self::Row> {
            q.fetch(pool)
        }
    };
}
pub(crate) use sqlx_runners;

/// An engine the shared SQL runs on: SQLite or PostgreSQL.
pub trait Engine: Database<Row: Get> + sealed::Sealed {
    const BACKEND: Backend;
    /// The engine's own `migrations/` directory.
    const MIGRATIONS: &'static [Migration];
    /// A member's events among the rows a botnet read walks (each engine
    /// plans one form well and the other badly).
    const BOTNET_MEMBER_FILTER: &'static str;
    /// A page of clean files as one JSON array of rows, built by the
    /// database (see `CleanFileStore::clean_page_json`).
    const CLEAN_PAGE_JSON: &'static str;

    /// The statement that takes `lock` inside a write transaction, if the
    /// engine needs one.
    fn lock_statement(lock: WriteLock) -> Option<&'static str>;

    /// Placeholders for `n` values, numbered from `from`.
    fn params(from: usize, n: usize) -> String;

    /// Begins a transaction that writes.
    fn begin_write(pool: &Pool<Self>) -> Fut<'_, sqlx::Result<Transaction<'static, Self>>>;

    fn commit(tx: Transaction<'_, Self>) -> Fut<'_, sqlx::Result<()>>;

    fn rollback(tx: Transaction<'_, Self>) -> Fut<'_, sqlx::Result<()>>;

    fn bind<'q, T: Bind<'q>>(q: Sql<'q, Self>, value: T) -> Sql<'q, Self>;

    /// Executes; the number of rows affected.
    fn execute<'e, 'q: 'e>(on: Exec<'e, Self>, q: Sql<'q, Self>) -> Fut<'e, sqlx::Result<u64>>;

    fn fetch_all<'e, 'q: 'e>(
        on: Exec<'e, Self>,
        q: Sql<'q, Self>,
    ) -> Fut<'e, sqlx::Result<Vec<Self::Row>>>;

    fn fetch_one<'e, 'q: 'e>(
        on: Exec<'e, Self>,
        q: Sql<'q, Self>,
    ) -> Fut<'e, sqlx::Result<Self::Row>>;

    fn fetch_optional<'e, 'q: 'e>(
        on: Exec<'e, Self>,
        q: Sql<'q, Self>,
    ) -> Fut<'e, sqlx::Result<Option<Self::Row>>>;

    fn fetch<'e, 'q: 'e>(pool: &'e Pool<Self>, q: Sql<'q, Self>) -> Rows<'e, Self::Row>;
}

/// The shared queries' way of running a query: `sqlx::query(…).arg(v)
/// .rows(&pool)` reads like sqlx's own `bind` and `fetch_all`, on any
/// [`Engine`].
pub trait Run<'q, DB: Engine>: Sized {
    /// Binds the next parameter.
    fn arg<T: Bind<'q>>(self, value: T) -> Self;
    /// Executes; the number of rows affected.
    fn run<'e>(self, on: impl Into<Exec<'e, DB>>) -> Fut<'e, sqlx::Result<u64>>
    where
        'q: 'e;
    /// Every row.
    fn rows<'e>(self, on: impl Into<Exec<'e, DB>>) -> Fut<'e, sqlx::Result<Vec<DB::Row>>>
    where
        'q: 'e;
    /// Exactly one row.
    fn row<'e>(self, on: impl Into<Exec<'e, DB>>) -> Fut<'e, sqlx::Result<DB::Row>>
    where
        'q: 'e;
    /// At most one row.
    fn maybe_row<'e>(self, on: impl Into<Exec<'e, DB>>) -> Fut<'e, sqlx::Result<Option<DB::Row>>>
    where
        'q: 'e;
    /// The rows one by one, as the database returns them.
    fn stream<'e>(self, pool: &'e Pool<DB>) -> Rows<'e, DB::Row>
    where
        'q: 'e;
}

impl<'q, DB: Engine> Run<'q, DB> for Sql<'q, DB> {
    fn arg<T: Bind<'q>>(self, value: T) -> Self {
        DB::bind(self, value)
    }
    fn run<'e>(self, on: impl Into<Exec<'e, DB>>) -> Fut<'e, sqlx::Result<u64>>
    where
        'q: 'e,
    {
        DB::execute(on.into(), self)
    }
    fn rows<'e>(self, on: impl Into<Exec<'e, DB>>) -> Fut<'e, sqlx::Result<Vec<DB::Row>>>
    where
        'q: 'e,
    {
        DB::fetch_all(on.into(), self)
    }
    fn row<'e>(self, on: impl Into<Exec<'e, DB>>) -> Fut<'e, sqlx::Result<DB::Row>>
    where
        'q: 'e,
    {
        DB::fetch_one(on.into(), self)
    }
    fn maybe_row<'e>(self, on: impl Into<Exec<'e, DB>>) -> Fut<'e, sqlx::Result<Option<DB::Row>>>
    where
        'q: 'e,
    {
        DB::fetch_optional(on.into(), self)
    }
    fn stream<'e>(self, pool: &'e Pool<DB>) -> Rows<'e, DB::Row>
    where
        'q: 'e,
    {
        DB::fetch(pool, self)
    }
}

/// The first column of exactly one row (what `sqlx::query_scalar` reads).
pub(crate) async fn scalar<'e, 'q: 'e, DB: Engine, T: Value>(
    q: Sql<'q, DB>,
    on: impl Into<Exec<'e, DB>>,
) -> sqlx::Result<T> {
    q.row(on).await?.at(0)
}

/// The first column of at most one row.
pub(crate) async fn maybe_scalar<'e, 'q: 'e, DB: Engine, T: Value>(
    q: Sql<'q, DB>,
    on: impl Into<Exec<'e, DB>>,
) -> sqlx::Result<Option<T>> {
    q.maybe_row(on).await?.map(|r| r.at(0)).transpose()
}

/// The first column of every row.
pub(crate) async fn scalars<'e, 'q: 'e, DB: Engine, T: Value>(
    q: Sql<'q, DB>,
    on: impl Into<Exec<'e, DB>>,
) -> sqlx::Result<Vec<T>> {
    let rows = q.rows(on).await?;
    rows.iter().map(|r| r.at(0)).collect()
}

/// The store: a connection pool of one engine. Every product trait is
/// implemented once for it, for both engines
/// ([`crate::sqlite::SqliteStore`], [`crate::postgres::PostgresStore`]).
pub struct SqlStore<DB: Database> {
    pub(crate) pool: Pool<DB>,
}

impl<DB: Database> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        SqlStore {
            pool: self.pool.clone(),
        }
    }
}

impl<DB: Database> std::fmt::Debug for SqlStore<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("pool", &self.pool)
            .finish()
    }
}

impl<DB: Engine> SqlStore<DB> {
    /// A transaction that writes (SQLite: `BEGIN IMMEDIATE`, which takes
    /// the write lock up front and waits through the busy timeout;
    /// PostgreSQL: an ordinary `BEGIN`).
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, DB>> {
        Ok(DB::begin_write(&self.pool).await?)
    }

    /// [`begin_write`](Self::begin_write), then `lock` taken first inside it.
    pub(crate) async fn begin_locked(&self, lock: WriteLock) -> Result<Transaction<'static, DB>> {
        let mut tx = self.begin_write().await?;
        take_lock(&mut tx, lock).await?;
        Ok(tx)
    }
}

/// Takes `lock` inside a write transaction, where the engine needs it.
pub(crate) async fn take_lock<DB: Engine>(
    tx: &mut Transaction<'_, DB>,
    lock: WriteLock,
) -> Result<()> {
    if let Some(sql) = DB::lock_statement(lock) {
        sqlx::query(sql).run(&mut *tx).await?;
    }
    Ok(())
}

/// Commits a transaction.
pub(crate) async fn commit<DB: Engine>(tx: Transaction<'_, DB>) -> Result<()> {
    Ok(DB::commit(tx).await?)
}

/// Rolls a transaction back now (a dropped one rolls back lazily).
pub(crate) async fn rollback<DB: Engine>(tx: Transaction<'_, DB>) -> Result<()> {
    Ok(DB::rollback(tx).await?)
}
