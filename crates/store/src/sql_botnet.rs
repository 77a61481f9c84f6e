//! The botnet queries, written once for both engines.
//!
//! `insert_botnet_events` and `botnet_id_before` run in a write transaction
//! holding the botnet write lock ([`WriteLock::Botnet`]; SQLite: `BEGIN
//! IMMEDIATE`; PostgreSQL: an advisory transaction lock), so that ids
//! commit in ascending order.

use isx_botnet::indicator::IndicatorLink;
use isx_botnet::BotnetEvent;
use isx_domain::{MemberId, Timestamp};
use sha2::{Digest, Sha256};

use async_trait::async_trait;

use crate::engine::{commit, maybe_scalar, scalar, Engine, Get, Run, Sql, SqlStore, WriteLock};
use crate::rows::parse;

use crate::{BotnetQuery, Result, StoreError, StoredBotnetEvent};

/// Events per round trip: 9 parameters each stays under both engines' limits.
pub(crate) const BOTNET_CHUNK: usize = 1000;

/// The columns `botnet_row` reads, in order.
const BOTNET_COLS: &str = "id, received_at, body, recipients, indicator";

/// Reads by position (the order of `BOTNET_COLS`).
fn botnet_row<R: Get>(r: &R) -> Result<StoredBotnetEvent> {
    stored_event(
        r.at::<i64>(0)?,
        r.at::<i64>(1)?,
        &r.at::<String>(2)?,
        &r.at::<String>(3)?,
        r.at::<Option<String>>(4)?.as_deref(),
    )
}

/// An event's indicator link as stored (`NULL`, `-` or the version).
fn link_text(link: &IndicatorLink) -> Option<String> {
    match link {
        IndicatorLink::PerEvent => None,
        IndicatorLink::Silent => Some("-".to_owned()),
        IndicatorLink::Version(v) => serde_json::to_string(v).ok(),
    }
}

fn link_of(id: i64, text: Option<&str>) -> Result<IndicatorLink> {
    Ok(match text {
        None => IndicatorLink::PerEvent,
        Some("-") => IndicatorLink::Silent,
        Some(v) => IndicatorLink::Version(
            serde_json::from_str(v)
                .map_err(|e| StoreError::Corrupt(format!("botnet event {id} indicator: {e}")))?,
        ),
    })
}

pub(crate) fn stored_event(
    id: i64,
    received_at: i64,
    body: &str,
    recipients: &str,
    indicator: Option<&str>,
) -> Result<StoredBotnetEvent> {
    let event: BotnetEvent = serde_json::from_str(body)
        .map_err(|e| StoreError::Corrupt(format!("botnet event {id}: {e}")))?;
    let recipients = recipients
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| parse::<i64>("botnet recipient", s).map(MemberId))
        .collect::<Result<Vec<_>>>()?;
    Ok(StoredBotnetEvent {
        id,
        event,
        recipients,
        received_at: Timestamp::from_micros(received_at),
        indicator: link_of(id, indicator)?,
    })
}

/// A decoded row, or `None` (logged) for one that cannot be read back.
pub(crate) fn readable(row: Result<StoredBotnetEvent>) -> Option<StoredBotnetEvent> {
    match row {
        Ok(e) => Some(e),
        Err(e) => {
            tracing::warn!(error = %e, "botnet event passed over: its stored row cannot be read");
            None
        }
    }
}

/// An event's stored body and its fingerprint (64 bits of the body's
/// SHA-256; with its time, what makes an event the same event).
pub(crate) fn body_and_fingerprint(e: &BotnetEvent) -> (String, i64) {
    let text = serde_json::to_string(e).unwrap_or_default();
    let d = Sha256::digest(text.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    (text, i64::from_be_bytes(b))
}

pub(crate) fn recipients_text(r: &[MemberId]) -> String {
    r.iter()
        .map(|m| m.0.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The WHERE clause of a [`crate::BotnetQuery`] ($1 … $7); the product
/// list holds only the fixed spellings of `BotnetProduct`. `product || ''`
/// keeps any index on the product from being used: every read walks the
/// primary key from `after_id`, which is what streams and batches need. How
/// a member's recipient rows are consulted is the engine's own
/// (`BOTNET_MEMBER_FILTER`): each plans one form well and the other badly.
fn botnet_where<DB: Engine>(q: &BotnetQuery) -> String {
    let products: Vec<isx_domain::BotnetProduct> = if q.products.is_empty() {
        isx_domain::BotnetProduct::ALL.to_vec()
    } else {
        q.products.clone()
    };
    format!(
            "WHERE id > $1 AND ($2 IS NULL OR id <= $2) AND ($3 IS NULL OR last_seen >= $3) AND ($4 IS NULL OR seen_at < $4)
             AND ($5 IS NULL OR ip = $5) AND ($6 IS NULL OR family = $6)
             AND ($7 IS NULL OR product IN ('botnet-c2', 'botnet-domains') OR {})
             AND (product || '') IN ({})",
            DB::BOTNET_MEMBER_FILTER,
            products.iter().map(|p| format!("'{}'", p.as_str())).collect::<Vec<_>>().join(", ")
        )
}

fn bind_botnet_query<'q, DB: Engine>(sql: Sql<'q, DB>, q: &'q BotnetQuery) -> Sql<'q, DB> {
    sql.arg(q.after_id.unwrap_or(i64::MIN))
        .arg(q.upto_id)
        .arg(q.since.map(|t| t.as_micros()))
        .arg(q.until.map(|t| t.as_micros()))
        .arg(q.ip.clone())
        .arg(q.family.as_ref().map(|f| f.to_lowercase()))
        .arg(q.member.map(|m| m.0))
}

/// Links each stored C2 and malicious-domain event of an import to its
/// key's indicator (`isx_botnet::indicator`), in the order of the import,
/// inside its transaction (which holds the botnet write lock, so keys
/// advance one import at a time). Duplicates (not stored) change nothing.
async fn follow_indicators<DB: Engine>(
    tx: &mut sqlx::Transaction<'static, DB>,
    events: &[(isx_botnet::BotnetEvent, Vec<isx_domain::MemberId>)],
    ids: &[Option<i64>],
) -> Result<()> {
    use isx_botnet::indicator;
    let followed: Vec<(i64, &isx_botnet::BotnetEvent, String)> = events
        .iter()
        .zip(ids)
        .filter_map(|((e, _), id)| {
            id.filter(|_| indicator::is_followed(e.product))
                .map(|id| (id, e, indicator::key(e)))
        })
        .collect();
    if followed.is_empty() {
        return Ok(());
    }
    let mut keys: Vec<&str> = followed.iter().map(|(_, _, k)| k.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut states: std::collections::HashMap<String, indicator::IndicatorState> =
        std::collections::HashMap::new();
    for part in keys.chunks(500) {
        let sql = format!(
            "SELECT key, state FROM botnet_indicators WHERE key IN ({})",
            DB::params(1, part.len())
        );
        let mut q = sqlx::query(&sql);
        for k in part {
            q = q.arg(*k);
        }
        for row in q.rows(&mut *tx).await? {
            let key = row.col::<String>("key")?;
            let state = serde_json::from_str(&row.col::<String>("state")?)
                .map_err(|e| StoreError::Corrupt(format!("botnet indicator {key}: {e}")))?;
            states.insert(key, state);
        }
    }
    let mut changed = std::collections::BTreeSet::new();
    for (id, e, key) in &followed {
        let (link, after) = indicator::next(states.get(key).copied(), e);
        if let Some(s) = after {
            if states.get(key) != Some(&s) {
                changed.insert(key.clone());
            }
            states.insert(key.clone(), s);
        }
        sqlx::query("UPDATE botnet_events SET indicator = $1 WHERE id = $2")
            .arg(link_text(&link))
            .arg(*id)
            .run(&mut *tx)
            .await?;
    }
    for key in changed {
        let Some(state) = states.get(&key) else {
            continue;
        };
        let text = serde_json::to_string(state)
            .map_err(|e| StoreError::Corrupt(format!("botnet indicator {key}: {e}")))?;
        sqlx::query(
            "INSERT INTO botnet_indicators (key, state) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET state = excluded.state",
        )
        .arg(&key)
        .arg(text)
        .run(&mut *tx)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl<DB: Engine> crate::BotnetStore for SqlStore<DB> {
    async fn insert_botnet_events(
        &self,
        events: &[(isx_botnet::BotnetEvent, Vec<isx_domain::MemberId>)],
        now: isx_domain::Timestamp,
    ) -> Result<crate::BotnetInsertOutcome> {
        let mut tx = self.begin_locked(WriteLock::Botnet).await?;
        let mut out = crate::BotnetInsertOutcome {
            ids: vec![None; events.len()],
            ..Default::default()
        };
        // Every event of this import shares one arrival instant, leaving
        // room after the previous import's for its readers to spread the
        // events they may see (two TAXII objects each): an instant counts
        // nothing a member cannot see (`crate::arrival`).
        let last: Option<i64> = maybe_scalar(
            sqlx::query("SELECT received_at FROM botnet_events ORDER BY id DESC LIMIT 1"),
            &mut tx,
        )
        .await?;
        let stamp = match last {
            Some(last) => {
                let n: i64 = scalar(
                    sqlx::query("SELECT COUNT(*) FROM botnet_events WHERE received_at = $1")
                        .arg(last),
                    &mut tx,
                )
                .await?;
                crate::arrival::next_instant(now.as_micros(), last, n.saturating_mul(2))
            }
            None => crate::arrival::own_millisecond(now.as_micros()),
        };
        for (c, chunk) in events.chunks(crate::sql_botnet::BOTNET_CHUNK).enumerate() {
            let base = c * crate::sql_botnet::BOTNET_CHUNK;
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", DB::params(i * 9 + 1, 9)))
                .collect();
            let sql = format!(
                "INSERT INTO botnet_events (product, seen_at, last_seen, received_at, ip, family, body, recipients, fp)
                 VALUES {} ON CONFLICT (seen_at, fp) DO NOTHING RETURNING id, seen_at, fp",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            let mut by_print = std::collections::HashMap::new();
            for (k, (e, r)) in chunk.iter().enumerate() {
                let (body, print) = crate::sql_botnet::body_and_fingerprint(e);
                q = q
                    .arg(e.product.as_str())
                    .arg(e.seen_at.as_micros())
                    .arg(e.last_seen.as_micros())
                    .arg(stamp)
                    .arg(e.ip.map(|v| v.to_string()))
                    .arg(&e.family)
                    .arg(body)
                    .arg(crate::sql_botnet::recipients_text(r))
                    .arg(print);
                by_print.insert((e.seen_at.as_micros(), print), (base + k, r));
            }
            let rows = q.rows(&mut tx).await?;
            out.duplicates += (chunk.len() - rows.len()) as u64;
            let mut pairs: Vec<(i64, i64)> = Vec::new();
            for row in rows {
                let id = row.col::<i64>("id")?;
                let print = (row.col::<i64>("seen_at")?, row.col::<i64>("fp")?);
                out.inserted += 1;
                out.first_id = Some(out.first_id.map_or(id, |f: i64| f.min(id)));
                out.last_id = Some(out.last_id.map_or(id, |l: i64| l.max(id)));
                if let Some((at, r)) = by_print.get(&print) {
                    out.ids[*at] = Some(id);
                    pairs.extend(r.iter().map(|m| (m.0, id)));
                }
            }
            for part in pairs.chunks(5000) {
                let values: Vec<String> = (0..part.len())
                    .map(|i| format!("({})", DB::params(i * 2 + 1, 2)))
                    .collect();
                let sql = format!(
                    "INSERT INTO botnet_recipients (member_id, event_id) VALUES {} ON CONFLICT DO NOTHING",
                    values.join(", ")
                );
                let mut q = sqlx::query(&sql);
                for (m, id) in part {
                    q = q.arg(*m).arg(*id);
                }
                q.run(&mut tx).await?;
            }
        }
        follow_indicators(&mut tx, events, &out.ids).await?;
        commit(tx).await?;
        Ok(out)
    }

    async fn botnet_id_before(&self, before: isx_domain::Timestamp) -> Result<i64> {
        let mut tx = self.begin_locked(WriteLock::Botnet).await?;
        let id: i64 = scalar(sqlx::query(
            // By the arrival index (arrival ascends with the id; one
            // import's events share theirs), so an instant far back costs
            // what a recent one does.
            "SELECT COALESCE((SELECT id FROM botnet_events WHERE received_at < $1 ORDER BY received_at DESC, id DESC LIMIT 1), 0)",
        )
        .arg(before.as_micros())
        , &mut tx)
        .await?;
        commit(tx).await?;
        Ok(id)
    }

    async fn botnet_import_start(&self, at: isx_domain::Timestamp) -> Result<i64> {
        let id: i64 = scalar(
            sqlx::query(
                "SELECT COALESCE((SELECT id FROM botnet_events
                   WHERE received_at < (SELECT MAX(received_at) FROM botnet_events WHERE received_at <= $1)
                   ORDER BY received_at DESC, id DESC LIMIT 1), 0)",
            )
            .arg(at.as_micros()),
            &self.pool,
        )
        .await?;
        Ok(id)
    }

    async fn botnet_events(
        &self,
        q: &crate::BotnetQuery,
    ) -> crate::Result<Vec<crate::StoredBotnetEvent>> {
        let sql = format!(
            "SELECT {} FROM botnet_events {} ORDER BY id LIMIT $8",
            BOTNET_COLS,
            botnet_where::<DB>(q)
        );
        let limit = if q.limit == 0 {
            i64::MAX
        } else {
            i64::from(q.limit)
        };
        let rows = bind_botnet_query(sqlx::query(&sql), q)
            .arg(limit)
            .rows(&self.pool)
            .await?;
        // One undecodable stored row (written by an older isx, or by
        // hand) must not take every member's channel down: it is logged
        // and passed over.
        Ok(rows
            .into_iter()
            .filter_map(|r| crate::sql_botnet::readable(botnet_row(&r)))
            .collect())
    }

    async fn for_each_botnet_event(
        &self,
        q: &crate::BotnetQuery,
        f: &mut (dyn FnMut(crate::StoredBotnetEvent) -> std::io::Result<()> + Send),
    ) -> crate::Result<u64> {
        use futures_util::TryStreamExt;
        let sql = format!(
            "SELECT {} FROM botnet_events {} ORDER BY id",
            BOTNET_COLS,
            botnet_where::<DB>(q)
        );
        let query = bind_botnet_query(sqlx::query(&sql), q);
        let mut rows = query.stream(&self.pool);
        let mut n = 0u64;
        while let Some(r) = rows.try_next().await? {
            let Some(event) = crate::sql_botnet::readable(botnet_row(&r)) else {
                continue;
            };
            f(event).map_err(|e| crate::StoreError::Io(e.to_string()))?;
            n += 1;
        }
        Ok(n)
    }

    async fn zone_serial(
        &self,
        name: &str,
        sha256: &str,
        slot: isx_domain::Timestamp,
    ) -> crate::Result<i64> {
        let mut tx = self.begin_write().await?;
        let row =
            sqlx::query("SELECT serial, sha256, slot FROM botnet_zone_serials WHERE name = $1")
                .arg(name)
                .maybe_row(&mut tx)
                .await?;
        let serial = match row {
            Some(r) => {
                let serial = r.col::<i64>("serial")?;
                let same = r.col::<String>("sha256")? == sha256;
                // A slot older than the one that set the serial (produced
                // late, or by another node) is not the newest zone: it
                // leaves the serial alone.
                if same || slot.as_micros() < r.col::<i64>("slot")? {
                    commit(tx).await?;
                    return Ok(serial);
                }
                // Unix seconds while they lead; one more than before otherwise.
                (serial + 1).max(slot.as_secs())
            }
            None => slot.as_secs().max(1),
        };
        sqlx::query(
            "INSERT INTO botnet_zone_serials (name, serial, sha256, slot) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (name) DO UPDATE SET serial = $2, sha256 = $3, slot = $4",
        )
        .arg(name)
        .arg(serial)
        .arg(sha256)
        .arg(slot.as_micros())
        .run(&mut tx)
        .await?;
        commit(tx).await?;
        Ok(serial)
    }

    async fn prune_botnet_events(&self, before: isx_domain::Timestamp) -> crate::Result<u64> {
        let mut tx = self.begin_write().await?;
        // Whole imports only: the imports (arrival instants) all of whose
        // events are stale.
        // The newest import stays: the next one's instant is counted from it.
        const STALE: &str = "SELECT received_at FROM botnet_events GROUP BY received_at
             HAVING MAX(last_seen) < $1 AND received_at < (SELECT MAX(received_at) FROM botnet_events)";
        sqlx::query(&format!("DELETE FROM botnet_recipients WHERE event_id IN (SELECT id FROM botnet_events WHERE received_at IN ({STALE}))"))
                .arg(before.as_micros())
                .run(&mut tx)
                .await?;
        let n = sqlx::query(&format!(
            "DELETE FROM botnet_events WHERE received_at IN ({STALE})"
        ))
        .arg(before.as_micros())
        .run(&mut tx)
        .await?;
        commit(tx).await?;
        Ok(n)
    }
}
