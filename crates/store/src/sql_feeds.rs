//! The feed-file queries, written once for both engines.

use async_trait::async_trait;

use crate::Result;

use crate::engine::{commit, Engine, Get, Run, SqlStore};

fn feed_file_row<R: Get>(r: &R) -> Result<crate::FeedFile> {
    Ok(crate::FeedFile {
        name: r.col::<String>("name")?,
        product: r.col::<String>("product")?,
        kind: r.col::<String>("kind")?,
        format: r.col::<String>("format")?,
        slot: isx_domain::Timestamp::from_micros(r.col::<i64>("slot")?),
        period_start: isx_domain::Timestamp::from_micros(r.col::<i64>("period_start")?),
        period_end: isx_domain::Timestamp::from_micros(r.col::<i64>("period_end")?),
        records: r.col::<i64>("records")?,
        size: r.col::<i64>("size")?,
        sha256: r.col::<String>("sha256")?,
        marking: crate::rows::parse("feed file marking", &r.col::<String>("marking")?)?,
        signature: r.col::<String>("signature")?,
        created_at: isx_domain::Timestamp::from_micros(r.col::<i64>("created_at")?),
        member: r.col::<Option<i64>>("member_id")?.map(isx_domain::MemberId),
    })
}

fn feed_run_row<R: Get>(r: &R) -> Result<crate::FeedRun> {
    Ok(crate::FeedRun {
        product: r.col::<String>("product")?,
        slot: isx_domain::Timestamp::from_micros(r.col::<i64>("slot")?),
        from_seq: r.col::<Option<i64>>("from_seq")?.unwrap_or(0),
        to_seq: r.col::<Option<i64>>("to_seq")?.unwrap_or(0),
        finished_at: isx_domain::Timestamp::from_micros(
            r.col::<Option<i64>>("finished_at")?.unwrap_or(0),
        ),
    })
}

#[async_trait]
impl<DB: Engine> crate::FeedStore for SqlStore<DB> {
    async fn last_feed_run(&self, product: &str) -> crate::Result<Option<crate::FeedRun>> {
        let row = sqlx::query(
            "SELECT product, slot, from_seq, to_seq, finished_at FROM feed_runs
                 WHERE product = $1 AND state = 'done' ORDER BY slot DESC LIMIT 1",
        )
        .arg(product)
        .maybe_row(&self.pool)
        .await?;
        row.map(|r| feed_run_row(&r)).transpose()
    }

    async fn feed_run_before(
        &self,
        product: &str,
        slot: isx_domain::Timestamp,
    ) -> crate::Result<Option<crate::FeedRun>> {
        let row = sqlx::query(
            "SELECT product, slot, from_seq, to_seq, finished_at FROM feed_runs
                 WHERE product = $1 AND state = 'done' AND slot < $2 ORDER BY slot DESC LIMIT 1",
        )
        .arg(product)
        .arg(slot.as_micros())
        .maybe_row(&self.pool)
        .await?;
        row.map(|r| feed_run_row(&r)).transpose()
    }

    async fn claim_feed_run(
        &self,
        product: &str,
        slot: isx_domain::Timestamp,
        node: &str,
        now: isx_domain::Timestamp,
        lease_until: isx_domain::Timestamp,
    ) -> crate::Result<bool> {
        let n = sqlx::query(
                "INSERT INTO feed_runs (product, slot, state, lease_until, node) VALUES ($1, $2, 'running', $3, $4)
                 ON CONFLICT (product, slot) DO UPDATE SET lease_until = $3, node = $4
                 WHERE feed_runs.state <> 'done' AND feed_runs.lease_until < $5",
            )
            .arg(product)
            .arg(slot.as_micros())
            .arg(lease_until.as_micros())
            .arg(node)
            .arg(now.as_micros())
            .run(&self.pool)
            .await?;
        Ok(n == 1)
    }

    async fn finish_feed_run(
        &self,
        run: &crate::FeedRun,
        files: &[crate::FeedFile],
    ) -> crate::Result<()> {
        let mut tx = self.begin_write().await?;
        for f in files {
            sqlx::query(
                    "INSERT INTO feed_files (name, product, kind, format, slot, period_start, period_end, records, size, sha256, marking, signature, created_at, member_id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                     ON CONFLICT (name) DO UPDATE SET records = $8, size = $9, sha256 = $10, marking = $11, signature = $12, created_at = $13, member_id = $14",
                )
                .arg(&f.name)
                .arg(&f.product)
                .arg(&f.kind)
                .arg(&f.format)
                .arg(f.slot.as_micros())
                .arg(f.period_start.as_micros())
                .arg(f.period_end.as_micros())
                .arg(f.records)
                .arg(f.size)
                .arg(&f.sha256)
                .arg(f.marking.as_str())
                .arg(&f.signature)
                .arg(f.created_at.as_micros())
                .arg(f.member.map(|m| m.0))
                .run(&mut tx)
                .await?;
        }
        sqlx::query(
                "UPDATE feed_runs SET state = 'done', from_seq = $3, to_seq = $4, finished_at = $5 WHERE product = $1 AND slot = $2",
            )
            .arg(&run.product)
            .arg(run.slot.as_micros())
            .arg(run.from_seq)
            .arg(run.to_seq)
            .arg(run.finished_at.as_micros())
            .run(&mut tx)
            .await?;
        commit(tx).await?;
        Ok(())
    }

    async fn feed_files(&self, product: &str, limit: u32) -> crate::Result<Vec<crate::FeedFile>> {
        let rows = sqlx::query(
                "SELECT * FROM feed_files WHERE product = $1 ORDER BY slot DESC, kind DESC, format LIMIT $2",
            )
            .arg(product)
            .arg(i64::from(limit.clamp(1, 10_000)))
            .rows(&self.pool)
            .await?;
        rows.into_iter().map(|r| feed_file_row(&r)).collect()
    }

    async fn feed_file(&self, name: &str) -> crate::Result<Option<crate::FeedFile>> {
        let row = sqlx::query("SELECT * FROM feed_files WHERE name = $1")
            .arg(name)
            .maybe_row(&self.pool)
            .await?;
        row.map(|r| feed_file_row(&r)).transpose()
    }

    async fn member_feed_files(
        &self,
        product: &str,
        member: Option<isx_domain::MemberId>,
        limit: u32,
    ) -> crate::Result<Vec<crate::FeedFile>> {
        let rows = sqlx::query(
                "SELECT * FROM feed_files WHERE product = $1 AND (($2 IS NULL AND member_id IS NULL) OR member_id = $2)
                 ORDER BY slot DESC, kind DESC, format LIMIT $3",
            )
            .arg(product)
            .arg(member.map(|m| m.0))
            .arg(i64::from(limit.clamp(1, 10_000)))
            .rows(&self.pool)
            .await?;
        rows.into_iter().map(|r| feed_file_row(&r)).collect()
    }
}
