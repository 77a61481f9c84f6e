//! The TAXII collection queries (trust-group collections and the paging of
//! product collections by date added), written once for both engines.
//! Additions run in a transaction holding the backend's exchange write lock
//! (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: an advisory lock), so each
//! version's `added` is distinct and later than every committed one.

use isx_domain::{MemberId, Timestamp, Tlp};

use crate::{ExchangeEntry, Result, StoreError};

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

macro_rules! exchange_entry {
    ($r:ident) => {
        $crate::sql_exchange::entry(
            impl_store!(@at $r, 0, i64),
            impl_store!(@at $r, 1, String),
            impl_store!(@at $r, 2, String),
            impl_store!(@at $r, 3, i64),
            impl_store!(@at $r, 4, String),
            &impl_store!(@at $r, 5, String),
            impl_store!(@at $r, 6, i64),
        )
    };
}

/// Adds object versions to a collection inside the caller's write
/// transaction, under the exchange lock (see `exchange_add`); evaluates to
/// the `Vec<bool>` of which versions were new.
macro_rules! exchange_insert {
    ($ty:ty, $tx:ident, $collection:expr, $author:expr, $objects:expr, $now:expr) => {{
            if let Some(lock) = <$ty>::EXCHANGE_LOCK {
                sqlx::query(lock).execute(&mut *$tx).await?;
            }
            let last: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(added), 0) FROM exchange_objects WHERE collection = $1",
            )
            .bind($collection)
            .fetch_one(&mut *$tx)
            .await?;
            let mut stamp = $now.as_micros().max(last + 1);
            let mut out = Vec::with_capacity($objects.len());
            for o in $objects {
                let done = sqlx::query(
                    "INSERT INTO exchange_objects (collection, added, object_id, version, spec_version, object_type, marking, author, body)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (collection, object_id, version) DO NOTHING",
                )
                .bind($collection)
                .bind(stamp)
                .bind(&o.id)
                .bind(o.version.as_micros())
                .bind(&o.spec_version)
                .bind(&o.object_type)
                .bind(o.marking.as_str())
                .bind($author.0)
                .bind(&o.body)
                .execute(&mut *$tx)
                .await?;
                let added = done.rows_affected() == 1;
                if added {
                    stamp += 1;
                    sqlx::query(
                        "INSERT INTO exchange_owners (collection, object_id, author) VALUES ($1, $2, $3)
                         ON CONFLICT (collection, object_id) DO NOTHING",
                    )
                    .bind($collection)
                    .bind(&o.id)
                    .bind($author.0)
                    .execute(&mut *$tx)
                    .await?;
                }
                out.push(added);
            }
            out
    }};
}

macro_rules! exchange_methods {
    ($ty:ty) => {
        impl $ty {
        pub(crate) async fn exchange_add_sql(
            &self,
            collection: &str,
            author: isx_domain::MemberId,
            objects: &[$crate::NewExchangeObject],
            now: isx_domain::Timestamp,
            any_owner: bool,
        ) -> $crate::Result<Vec<$crate::ExchangeAdded>> {
            let mut tx = self.begin_write().await?;
            // Under the exchange lock, so that two members posting the same
            // new id cannot both become its owner.
            if let Some(lock) = Self::EXCHANGE_LOCK {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            // The owners of the posted ids, a thousand ids a query (not a
            // query per object: envelopes hold thousands).
            let mut owners: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
            if !any_owner {
                let ids: Vec<&str> = objects.iter().map(|o| o.id.as_str()).collect();
                for chunk in ids.chunks(1000) {
                    let sql = format!(
                        "SELECT object_id, author FROM exchange_owners WHERE collection = {} AND object_id IN ({})",
                        Self::params(1, 1),
                        Self::params(2, chunk.len())
                    );
                    let mut q = sqlx::query_as::<_, (String, i64)>(&sql).bind(collection);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    owners.extend(q.fetch_all(&mut *tx).await?);
                }
            }
            let mut mine = Vec::with_capacity(objects.len());
            let mut owned: Vec<bool> = Vec::with_capacity(objects.len());
            for o in objects {
                // (Two versions of one new id in one envelope: neither is
                // stored yet, both are the poster's.)
                let ok = any_owner || owners.get(&o.id).is_none_or(|a| *a == author.0);
                if ok {
                    mine.push(o.clone());
                }
                owned.push(ok);
            }
            let added = exchange_insert!(Self, tx, collection, author, &mine, now);
            tx.commit().await?;
            let mut added = added.into_iter();
            Ok(owned
                .into_iter()
                .map(|ok| match (ok, ok.then(|| added.next()).flatten()) {
                    (false, _) => $crate::ExchangeAdded::NotYours,
                    (true, Some(true)) => $crate::ExchangeAdded::New,
                    (true, _) => $crate::ExchangeAdded::Held,
                })
                .collect())
        }

        pub(crate) async fn exchange_window_sql(
            &self,
            collection: &str,
            after: isx_domain::Timestamp,
            limit: u32,
        ) -> $crate::Result<Vec<$crate::ExchangeEntry>> {
            let rows = sqlx::query(
                "SELECT added, object_id, object_type, version, spec_version, marking, author FROM exchange_objects
                 WHERE collection = $1 AND added > $2 ORDER BY added LIMIT $3",
            )
            .bind(collection)
            .bind(after.as_micros())
            .bind(i64::from(limit.clamp(1, 1_000_000)))
            .fetch_all(&self.pool)
            .await?;
            rows.into_iter().map(|r| exchange_entry!(r)).collect()
        }

        pub(crate) async fn exchange_versions_of_sql(
            &self,
            collection: &str,
            ids: &[String],
        ) -> $crate::Result<Vec<$crate::ExchangeEntry>> {
            let mut out = Vec::new();
            for chunk in ids.chunks(1000) {
                let sql = format!(
                    "SELECT added, object_id, object_type, version, spec_version, marking, author FROM exchange_objects
                     WHERE collection = {} AND object_id IN ({})",
                    Self::params(1, 1),
                    Self::params(2, chunk.len())
                );
                let mut q = sqlx::query(&sql).bind(collection);
                for id in chunk {
                    q = q.bind(id);
                }
                for r in q.fetch_all(&self.pool).await? {
                    out.push(exchange_entry!(r)?);
                }
            }
            out.sort_by_key(|e| e.added);
            Ok(out)
        }

        pub(crate) async fn exchange_window_with_bodies_sql(
            &self,
            collection: &str,
            after: isx_domain::Timestamp,
            limit: u32,
        ) -> $crate::Result<(Vec<($crate::ExchangeEntry, String)>, Option<isx_domain::Timestamp>)> {
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
            .bind(collection)
            .bind(after.as_micros())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            let mut end = None;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                if end.is_none() && impl_store!(@at r, 8, i64) == limit {
                    end = Some(isx_domain::Timestamp::from_micros(impl_store!(@at r, 9, i64)));
                }
                let body = impl_store!(@at r, 7, String);
                out.push((exchange_entry!(r)?, body));
            }
            Ok((out, end))
        }

        pub(crate) async fn exchange_versions_with_bodies_sql(
            &self,
            collection: &str,
            ids: &[String],
        ) -> $crate::Result<Vec<($crate::ExchangeEntry, String)>> {
            let mut out = Vec::new();
            for chunk in ids.chunks(1000) {
                let sql = format!(
                    "SELECT added, object_id, object_type, version, spec_version, marking, author, body FROM exchange_objects
                     WHERE collection = {} AND object_id IN ({})",
                    Self::params(1, 1),
                    Self::params(2, chunk.len())
                );
                let mut q = sqlx::query(&sql).bind(collection);
                for id in chunk {
                    q = q.bind(id);
                }
                for r in q.fetch_all(&self.pool).await? {
                    let body = impl_store!(@at r, 7, String);
                    out.push((exchange_entry!(r)?, body));
                }
            }
            out.sort_by_key(|(e, _)| e.added);
            Ok(out)
        }


        pub(crate) async fn exchange_delete_sql(
            &self,
            collection: &str,
            id: &str,
            versions: &[isx_domain::Timestamp],
        ) -> $crate::Result<u64> {
            let mut tx = self.begin_write().await?;
            if let Some(lock) = Self::EXCHANGE_LOCK {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let mut removed = 0;
            for v in versions {
                removed += sqlx::query(
                    "DELETE FROM exchange_objects WHERE collection = $1 AND object_id = $2 AND version = $3",
                )
                .bind(collection)
                .bind(id)
                .bind(v.as_micros())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            Ok(removed)
        }

        pub(crate) async fn put_exchange_status_sql(
            &self,
            id: &str,
            member: isx_domain::MemberId,
            at: isx_domain::Timestamp,
            body: &str,
        ) -> $crate::Result<()> {
            sqlx::query(
                "INSERT INTO exchange_status (id, member_id, at, body) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            )
            .bind(id)
            .bind(member.0)
            .bind(at.as_micros())
            .bind(body)
            .execute(&self.pool)
            .await?;
            Ok(())
        }

        pub(crate) async fn exchange_status_sql(
            &self,
            id: &str,
        ) -> $crate::Result<Option<(isx_domain::MemberId, String)>> {
            let row = sqlx::query("SELECT member_id, body FROM exchange_status WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            Ok(match row {
                Some(r) => Some((
                    isx_domain::MemberId(impl_store!(@at r, 0, i64)),
                    impl_store!(@at r, 1, String),
                )),
                None => None,
            })
        }

        pub(crate) async fn urls_by_added_sql(
            &self,
            markings: &[isx_domain::Tlp],
            after: isx_domain::Timestamp,
            limit: u32,
        ) -> $crate::Result<Vec<isx_urls::UrlRecord>> {
            if markings.is_empty() {
                return Ok(Vec::new());
            }
            let sql = format!(
                "SELECT {} FROM url_records WHERE changed_at > {} AND tlp IN ({}) ORDER BY changed_at LIMIT {}",
                url_cols!(),
                Self::params(1, 1),
                Self::params(2, markings.len()),
                Self::params(2 + markings.len(), 1)
            );
            let mut q = sqlx::query(&sql).bind(after.as_micros());
            for m in markings {
                q = q.bind(m.as_str());
            }
            let rows = q
                .bind(i64::from(limit.clamp(1, 100_000)))
                .fetch_all(&self.pool)
                .await?;
            rows.into_iter().map(|r| url_row!(r)).collect()
        }

        pub(crate) async fn clean_page_json_sql(
            &self,
            after: isx_domain::Timestamp,
            limit: u32,
        ) -> $crate::Result<String> {
            let text: Option<String> = sqlx::query_scalar(Self::CLEAN_PAGE_JSON)
                .bind(after.as_micros())
                .bind(i64::from(limit.clamp(1, 100_000)))
                .fetch_one(&self.pool)
                .await?;
            Ok(text.unwrap_or_else(|| "[]".to_owned()))
        }

        }
    };
}
