//! The TAXII collection queries of trust groups, written once for both
//! engines (the paging of product collections by date added is
//! `UrlStore::urls_by_added` and `CleanFileStore::clean_page_json`).
//! Additions run in a transaction holding the exchange write lock
//! ([`WriteLock::Exchange`]; SQLite: `BEGIN IMMEDIATE`; PostgreSQL: an
//! advisory lock), so each version's `added` is distinct and later than
//! every committed one.

use isx_domain::{MemberId, Timestamp, Tlp};

use async_trait::async_trait;

use crate::engine::{commit, scalar, take_lock, Engine, Get, Run, SqlStore, WriteLock};
use sqlx::Transaction;

use crate::{ExchangeEntry, NewExchangeObject, Result, StoreError};

pub(crate) fn entry(
    added: i64,
    id: String,
    object_type: String,
    version: i64,
    spec_version: String,
    marking: &str,
    author: i64,
) -> Result<ExchangeEntry> {
    Ok(ExchangeEntry {
        added: Timestamp::from_micros(added),
        id,
        object_type,
        version: Timestamp::from_micros(version),
        spec_version,
        marking: marking
            .parse::<Tlp>()
            .map_err(|e| StoreError::Corrupt(format!("exchange object marking: {e}")))?,
        author: MemberId(author),
    })
}

fn exchange_entry<R: Get>(r: &R) -> Result<ExchangeEntry> {
    entry(
        r.at::<i64>(0)?,
        r.at::<String>(1)?,
        r.at::<String>(2)?,
        r.at::<i64>(3)?,
        r.at::<String>(4)?,
        &r.at::<String>(5)?,
        r.at::<i64>(6)?,
    )
}

/// The rows `select … WHERE collection = $1 AND object_id IN (…) tail`
/// gives for `ids`, a thousand ids a query (not a query per object:
/// envelopes hold thousands).
async fn rows_of_ids<DB: Engine>(
    tx: &mut Transaction<'_, DB>,
    select: &str,
    tail: &str,
    collection: &str,
    ids: &[&str],
) -> Result<Vec<DB::Row>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(1000) {
        let sql = format!(
            "{select} WHERE collection = {} AND object_id IN ({}) {tail}",
            DB::params(1, 1),
            DB::params(2, chunk.len())
        );
        let mut q = sqlx::query(&sql).arg(collection);
        for id in chunk {
            q = q.arg(*id);
        }
        out.extend(q.rows(&mut *tx).await?);
    }
    Ok(out)
}

/// Adds object versions to a collection inside the caller's write
/// transaction, under the exchange lock (see `exchange_add`); which
/// versions were new.
pub(crate) async fn exchange_insert<DB: Engine>(
    tx: &mut Transaction<'_, DB>,
    collection: &str,
    author: MemberId,
    objects: &[NewExchangeObject],
    now: Timestamp,
) -> Result<Vec<bool>> {
    take_lock(tx, WriteLock::Exchange).await?;
    let last: i64 = scalar(
        sqlx::query("SELECT COALESCE(MAX(added), 0) FROM exchange_objects WHERE collection = $1")
            .arg(collection),
        &mut *tx,
    )
    .await?;
    // Distinct and ascending, each post starting in a millisecond of its
    // own (`arrival::own_millisecond`).
    let mut stamp = crate::arrival::own_millisecond(now.as_micros().max(last + 1));
    let mut out = Vec::with_capacity(objects.len());
    for o in objects {
        let done = sqlx::query(
                    "INSERT INTO exchange_objects (collection, added, object_id, version, spec_version, object_type, marking, author, body)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (collection, object_id, version) DO NOTHING",
                )
                .arg(collection)
                .arg(stamp)
                .arg(&o.id)
                .arg(o.version.as_micros())
                .arg(&o.spec_version)
                .arg(&o.object_type)
                .arg(o.marking.as_str())
                .arg(author.0)
                .arg(&o.body)
                .run(&mut *tx)
                .await?;
        let added = done == 1;
        if added {
            stamp += 1;
            sqlx::query(
                "INSERT INTO exchange_owners (collection, object_id, author) VALUES ($1, $2, $3)
                         ON CONFLICT (collection, object_id) DO NOTHING",
            )
            .arg(collection)
            .arg(&o.id)
            .arg(author.0)
            .run(&mut *tx)
            .await?;
        }
        out.push(added);
    }
    Ok(out)
}

#[async_trait]
impl<DB: Engine> crate::ExchangeStore for SqlStore<DB> {
    async fn exchange_add(
        &self,
        collection: &str,
        author: isx_domain::MemberId,
        objects: &[crate::NewExchangeObject],
        now: isx_domain::Timestamp,
        any_owner: bool,
    ) -> crate::Result<Vec<crate::ExchangeAdded>> {
        let mut tx = self.begin_write().await?;
        // Under the exchange lock, so that two members posting the same
        // new id cannot both become its owner.
        take_lock(&mut tx, WriteLock::Exchange).await?;
        let ids: Vec<&str> = objects.iter().map(|o| o.id.as_str()).collect();
        // The owners of the posted ids.
        let mut owners: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
        if !any_owner {
            for r in rows_of_ids::<DB>(
                &mut tx,
                "SELECT object_id, author FROM exchange_owners",
                "",
                collection,
                &ids,
            )
            .await?
            {
                owners.insert(r.at::<String>(0)?, r.at::<i64>(1)?);
            }
        }
        // How many versions each posted id holds already, and — for the
        // ids at the bound — which: posting one of those again changes
        // nothing and is answered as held, as below the bound.
        let mut versions: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
        for r in rows_of_ids::<DB>(
            &mut tx,
            "SELECT object_id, COUNT(*) FROM exchange_objects",
            "GROUP BY object_id",
            collection,
            &ids,
        )
        .await?
        {
            versions.insert(r.at::<String>(0)?, r.at::<i64>(1)?);
        }
        let full: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| {
                versions
                    .get(*id)
                    .is_some_and(|n| *n >= crate::exchange::MAX_VERSIONS)
            })
            .collect();
        let mut held_versions: std::collections::HashSet<(String, i64)> =
            std::collections::HashSet::new();
        if !full.is_empty() {
            for r in rows_of_ids::<DB>(
                &mut tx,
                "SELECT object_id, version FROM exchange_objects",
                "",
                collection,
                &full,
            )
            .await?
            {
                held_versions.insert((r.at::<String>(0)?, r.at::<i64>(1)?));
            }
        }
        let mut mine = Vec::with_capacity(objects.len());
        // Per object: refused, or `None` when it goes to the insert.
        let mut verdicts: Vec<Option<crate::ExchangeAdded>> = Vec::with_capacity(objects.len());
        for o in objects {
            // (Two versions of one new id in one envelope: neither is
            // stored yet, both are the poster's.)
            let ok = any_owner || owners.get(&o.id).is_none_or(|a| *a == author.0);
            let held = versions.entry(o.id.clone()).or_insert(0);
            let already = held_versions.contains(&(o.id.clone(), o.version.as_micros()));
            if !ok {
                verdicts.push(Some(crate::ExchangeAdded::NotYours));
            } else if *held >= crate::exchange::MAX_VERSIONS && !already {
                verdicts.push(Some(crate::ExchangeAdded::TooManyVersions));
            } else {
                if !already {
                    *held += 1;
                }
                mine.push(o.clone());
                verdicts.push(None);
            }
        }
        let added = exchange_insert(&mut tx, collection, author, &mine, now).await?;
        commit(tx).await?;
        let mut added = added.into_iter();
        Ok(verdicts
            .into_iter()
            .map(|v| match v {
                Some(refused) => refused,
                None if added.next() == Some(true) => crate::ExchangeAdded::New,
                None => crate::ExchangeAdded::Held,
            })
            .collect())
    }

    async fn exchange_window(
        &self,
        collection: &str,
        after: isx_domain::Timestamp,
        limit: u32,
    ) -> crate::Result<Vec<crate::ExchangeEntry>> {
        let rows = sqlx::query(
                "SELECT added, object_id, object_type, version, spec_version, marking, author FROM exchange_objects
                 WHERE collection = $1 AND added > $2 ORDER BY added LIMIT $3",
            )
            .arg(collection)
            .arg(after.as_micros())
            .arg(i64::from(limit.clamp(1, 1_000_000)))
            .rows(&self.pool)
            .await?;
        rows.into_iter().map(|r| exchange_entry(&r)).collect()
    }

    async fn exchange_versions_of(
        &self,
        collection: &str,
        ids: &[String],
    ) -> crate::Result<Vec<crate::ExchangeEntry>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(1000) {
            let sql = format!(
                    "SELECT added, object_id, object_type, version, spec_version, marking, author FROM exchange_objects
                     WHERE collection = {} AND object_id IN ({})",
                    DB::params(1, 1),
                    DB::params(2, chunk.len())
                );
            let mut q = sqlx::query(&sql).arg(collection);
            for id in chunk {
                q = q.arg(id);
            }
            for r in q.rows(&self.pool).await? {
                out.push(exchange_entry(&r)?);
            }
        }
        out.sort_by_key(|e| e.added);
        Ok(out)
    }

    async fn exchange_window_with_bodies(
        &self,
        collection: &str,
        after: isx_domain::Timestamp,
        limit: u32,
    ) -> crate::Result<(
        Vec<(crate::ExchangeEntry, String)>,
        Option<isx_domain::Timestamp>,
    )> {
        let limit = i64::from(limit.clamp(1, 1_000_000));
        let rows = sqlx::query(
                // Driven from the window's distinct ids, each looked up by
                // the (collection, object_id, version) index.
                "WITH w AS (SELECT object_id, added FROM exchange_objects
                            WHERE collection = $1 AND added > $2 ORDER BY added LIMIT $3),
                      ids AS (SELECT DISTINCT object_id FROM w)
                 SELECT e.added, e.object_id, e.object_type, e.version, e.spec_version, e.marking, e.author, e.body,
                        (SELECT COUNT(*) FROM w), (SELECT MAX(added) FROM w)
                 FROM ids JOIN exchange_objects e ON e.collection = $1 AND e.object_id = ids.object_id
                 ORDER BY e.added",
            )
            .arg(collection)
            .arg(after.as_micros())
            .arg(limit)
            .rows(&self.pool)
            .await?;
        let mut end = None;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            if end.is_none() && r.at::<i64>(8)? == limit {
                end = Some(isx_domain::Timestamp::from_micros(r.at::<i64>(9)?));
            }
            let body = r.at::<String>(7)?;
            out.push((exchange_entry(&r)?, body));
        }
        Ok((out, end))
    }

    async fn exchange_versions_with_bodies(
        &self,
        collection: &str,
        ids: &[String],
    ) -> crate::Result<Vec<(crate::ExchangeEntry, String)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(1000) {
            let sql = format!(
                    "SELECT added, object_id, object_type, version, spec_version, marking, author, body FROM exchange_objects
                     WHERE collection = {} AND object_id IN ({})",
                    DB::params(1, 1),
                    DB::params(2, chunk.len())
                );
            let mut q = sqlx::query(&sql).arg(collection);
            for id in chunk {
                q = q.arg(id);
            }
            for r in q.rows(&self.pool).await? {
                let body = r.at::<String>(7)?;
                out.push((exchange_entry(&r)?, body));
            }
        }
        out.sort_by_key(|(e, _)| e.added);
        Ok(out)
    }

    async fn exchange_delete(
        &self,
        collection: &str,
        id: &str,
        versions: &[isx_domain::Timestamp],
    ) -> crate::Result<u64> {
        let mut tx = self.begin_write().await?;
        take_lock(&mut tx, WriteLock::Exchange).await?;
        let mut removed = 0;
        for v in versions {
            removed += sqlx::query(
                    "DELETE FROM exchange_objects WHERE collection = $1 AND object_id = $2 AND version = $3",
                )
                .arg(collection)
                .arg(id)
                .arg(v.as_micros())
                .run(&mut tx)
                .await?;
        }
        // An id none of whose versions is left is nobody's any more: keeping
        // its owner would answer a later post of it differently from a new
        // id, and tell the poster someone once held it. The id of a
        // contribution (or comment) stays its author's while REST serves it.
        sqlx::query(
            "DELETE FROM exchange_owners WHERE collection = $1 AND object_id = $2
                 AND NOT EXISTS (SELECT 1 FROM exchange_objects WHERE collection = $1 AND object_id = $2)
                 AND NOT EXISTS (SELECT 1 FROM contributions WHERE stix_id = $2)
                 AND NOT EXISTS (SELECT 1 FROM contribution_comments WHERE stix_id = $2)",
        )
        .arg(collection)
        .arg(id)
        .run(&mut tx)
        .await?;
        commit(tx).await?;
        Ok(removed)
    }

    async fn prune_exchange_status(&self, before: isx_domain::Timestamp) -> crate::Result<u64> {
        let n = sqlx::query("DELETE FROM exchange_status WHERE at < $1")
            .arg(before.as_micros())
            .run(&self.pool)
            .await?;
        Ok(n)
    }

    async fn put_exchange_status(
        &self,
        id: &str,
        member: isx_domain::MemberId,
        at: isx_domain::Timestamp,
        body: &str,
    ) -> crate::Result<()> {
        sqlx::query(
            "INSERT INTO exchange_status (id, member_id, at, body) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET body = excluded.body",
        )
        .arg(id)
        .arg(member.0)
        .arg(at.as_micros())
        .arg(body)
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn exchange_status(
        &self,
        id: &str,
    ) -> crate::Result<Option<(isx_domain::MemberId, String)>> {
        let row = sqlx::query("SELECT member_id, body FROM exchange_status WHERE id = $1")
            .arg(id)
            .maybe_row(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some((isx_domain::MemberId(r.at::<i64>(0)?), r.at::<String>(1)?)),
            None => None,
        })
    }
}
