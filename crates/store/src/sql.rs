//! The store itself, written once for both engines: its engine, its
//! schema, whether it answers and whether it can write.
//!
//! The queries of each product are in their own module (`sql_members.rs`,
//! `sql_advisories.rs`, `sql_audit.rs`, `sql_urls.rs`, `sql_feeds.rs`,
//! `sql_botnet.rs`, `sql_cleanfiles.rs`, `sql_exchange.rs`,
//! `sql_partnership.rs`): each implements its product trait for
//! [`SqlStore`], on any [`Engine`]. Both engines accept `$N` placeholders,
//! `RETURNING` and `ON CONFLICT … DO UPDATE`; what differs is the
//! engine's (see `engine.rs`).

use async_trait::async_trait;

use crate::engine::{commit, Engine, Get, Run, SqlStore};
use crate::{Backend, Result};

#[async_trait]
impl<DB: Engine> crate::CoreStore for SqlStore<DB> {
    fn backend(&self) -> Backend {
        DB::BACKEND
    }

    async fn migrate(&self) -> Result<usize> {
        crate::migrate::run(&self.pool).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").run(&self.pool).await?;
        Ok(())
    }

    async fn check_writable(&self) -> crate::Result<()> {
        // As much as a small import writes (16 pages): a store that
        // cannot grow fails here as the next real write would.
        let now = isx_domain::Clock::now(&isx_domain::SystemClock).as_micros();
        let mut tx = self.begin_write().await?;
        for q in [
                    "INSERT INTO isx_health (id, checked_at, pad) VALUES (2, $1, $2)
                     ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at, pad = excluded.pad",
                    "DELETE FROM isx_health WHERE id = 2 AND checked_at = $1 AND pad = $2",
                    "INSERT INTO isx_health (id, checked_at, pad) VALUES (1, $1, NULL)
                     ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                ] {
                    let padded = q.contains("$2");
                    let q = sqlx::query(q).arg(now);
                    let q = if padded { q.arg(vec![0u8; 65_536]) } else { q };
                    q.run(&mut tx).await?;
                }
        commit(tx).await
    }

    async fn instance_secret(&self, name: &str, candidate: &str) -> crate::Result<String> {
        sqlx::query(
            "INSERT INTO instance_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .arg(name)
        .arg(candidate)
        .run(&self.pool)
        .await?;
        let row = sqlx::query("SELECT secret FROM instance_secrets WHERE name = $1")
            .arg(name)
            .row(&self.pool)
            .await?;
        Ok(row.at::<String>(0)?)
    }
}
