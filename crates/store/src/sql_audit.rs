//! The audit log, written once for both engines.

use async_trait::async_trait;

use crate::engine::{commit, Engine, Get, Run, SqlStore};

#[async_trait]
impl<DB: Engine> crate::AuditStore for SqlStore<DB> {
    async fn append_audit(&self, e: &isx_domain::NewAuditEvent) -> crate::Result<i64> {
        let row = sqlx::query(
            "INSERT INTO audit_log (at, actor, member_id, action, target, source_ip, outcome)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .arg(e.at.as_micros())
        .arg(&e.actor)
        .arg(e.member.map(|m| m.0))
        .arg(&e.action)
        .arg(&e.target)
        .arg(&e.source_ip)
        .arg(&e.outcome)
        .row(&self.pool)
        .await?;
        row.col("id").map_err(crate::StoreError::Database)
    }

    async fn append_audit_batch(&self, events: &[isx_domain::NewAuditEvent]) -> crate::Result<()> {
        let mut tx = self.begin_write().await?;
        for e in events {
            sqlx::query(
                "INSERT INTO audit_log (at, actor, member_id, action, target, source_ip, outcome)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .arg(e.at.as_micros())
            .arg(&e.actor)
            .arg(e.member.map(|m| m.0))
            .arg(&e.action)
            .arg(&e.target)
            .arg(&e.source_ip)
            .arg(&e.outcome)
            .run(&mut tx)
            .await?;
        }
        commit(tx).await
    }

    async fn audit_events(
        &self,
        q: &crate::AuditQuery,
    ) -> crate::Result<Vec<isx_domain::AuditEvent>> {
        let limit = i64::from(q.limit.clamp(1, 10_000));
        let rows = sqlx::query(
            "SELECT id, at, actor, member_id, action, target, source_ip, outcome FROM audit_log
                     WHERE ($1 IS NULL OR member_id = $1) AND ($2 IS NULL OR id < $2)
                     ORDER BY id DESC LIMIT $3",
        )
        .arg(q.member.map(|m| m.0))
        .arg(q.before_id)
        .arg(limit)
        .rows(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| -> crate::Result<isx_domain::AuditEvent> {
                Ok(isx_domain::AuditEvent {
                    id: r.col::<i64>("id")?,
                    event: isx_domain::NewAuditEvent {
                        at: isx_domain::Timestamp::from_micros(r.col::<i64>("at")?),
                        actor: r.col::<String>("actor")?,
                        member: r.col::<Option<i64>>("member_id")?.map(isx_domain::MemberId),
                        action: r.col::<String>("action")?,
                        target: r.col::<String>("target")?,
                        source_ip: r.col::<Option<String>>("source_ip")?,
                        outcome: r.col::<String>("outcome")?,
                    },
                })
            })
            .collect()
    }
}
