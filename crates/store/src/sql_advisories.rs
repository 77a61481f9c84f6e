//! Releases, advisories, the KEV catalogue, notifications, webhooks and
//! deliveries, written once for both engines.

use async_trait::async_trait;

use crate::engine::{commit, maybe_scalar, Engine, Get, Run, SqlStore};

#[async_trait]
impl<DB: Engine> crate::AdvisoryStore for SqlStore<DB> {
    async fn insert_release(
        &self,
        new: &isx_advisories::NewRelease,
        now: isx_domain::Timestamp,
    ) -> crate::Result<isx_advisories::Release> {
        let row = sqlx::query(
                    "INSERT INTO releases (title, release_at, notes, status, marking, revisions, created_at, id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .arg(new.title.trim())
                .arg(new.release_at.as_micros())
                .arg(&new.notes)
                .arg(new.status.as_str())
                .arg(new.marking.as_str())
                .arg("[]")
                .arg(now.as_micros())
                .arg(crate::engine::random_row_id()?)
                .row(&self.pool)
                .await
                .map_err(|e| crate::StoreError::from_sqlx("release", e))?;
        let id: i64 = row.col("id")?;
        self.release(id)
            .await?
            .ok_or_else(|| crate::StoreError::NotFound(format!("release {id}")))
    }

    async fn update_release(
        &self,
        r: &isx_advisories::Release,
    ) -> crate::Result<isx_advisories::Release> {
        let done = sqlx::query(
                    "UPDATE releases SET title = $1, release_at = $2, notes = $3, status = $4, marking = $5, revisions = $6 WHERE id = $7",
                )
                .arg(&r.title)
                .arg(r.release_at.as_micros())
                .arg(&r.notes)
                .arg(r.status.as_str())
                .arg(r.marking.as_str())
                .arg(crate::rows::json(&r.revisions))
                .arg(r.id)
                .run(&self.pool)
                .await?;
        if done == 0 {
            return Err(crate::StoreError::NotFound(format!("release {}", r.id)));
        }
        self.release(r.id)
            .await?
            .ok_or_else(|| crate::StoreError::NotFound(format!("release {}", r.id)))
    }

    async fn release(&self, id: i64) -> crate::Result<Option<isx_advisories::Release>> {
        let row = sqlx::query("SELECT id, title, release_at, notes, status, marking, revisions, created_at FROM releases WHERE id = $1")
                    .arg(id)
                    .maybe_row(&self.pool)
                    .await?;
        row.map(|r| crate::rows::release_row(&r)).transpose()
    }

    async fn releases(&self) -> crate::Result<Vec<isx_advisories::Release>> {
        let rows = sqlx::query("SELECT id, title, release_at, notes, status, marking, revisions, created_at FROM releases ORDER BY release_at DESC, id DESC")
                    .rows(&self.pool)
                    .await?;
        rows.into_iter()
            .map(|r| crate::rows::release_row(&r))
            .collect()
    }

    async fn put_advisories(
        &self,
        release: i64,
        advisories: &[isx_advisories::Advisory],
        summary: &str,
        now: isx_domain::Timestamp,
    ) -> crate::Result<crate::PutOutcome> {
        let mut out = crate::PutOutcome::default();
        // One batch names each advisory once (two ids a file name writes
        // alike are one id).
        let mut keys = std::collections::HashSet::new();
        for a in advisories {
            if !keys.insert(a.id.key()) {
                return Err(crate::StoreError::Conflict(format!(
                    "{} is given twice (ids that differ only in case or punctuation are one id)",
                    a.id
                )));
            }
        }
        let mut tx = self.begin_write().await?;
        for a in advisories {
            let cve = a.id.as_str();
            let key = a.id.key();
            let existing = sqlx::query(
                "SELECT advisory_id, release_id, body FROM advisories WHERE advisory_key = $1",
            )
            .arg(key.as_str())
            .maybe_row(&mut tx)
            .await?;
            let mut stored = a.clone();
            // EPSS and SSVC live in their own tables (attached on read); an
            // imported SSVC decision is stored in the same transaction.
            stored.epss = None;
            if let Some(d) = stored.ssvc.take() {
                sqlx::query(
                    "INSERT INTO ssvc_decisions (cve, body) VALUES ($1, $2)
                     ON CONFLICT (cve) DO UPDATE SET body = excluded.body WHERE ssvc_decisions.body <> excluded.body",
                )
                .arg(cve)
                .arg(crate::rows::json(&d))
                .run(&mut tx)
                .await?;
            }
            match existing {
                None => {
                    if stored.revisions.is_empty() {
                        stored.revisions.push(isx_advisories::Revision {
                            number: 1,
                            date: now,
                            summary: summary.to_owned(),
                            exploitability_only: false,
                            label: None,
                        });
                    }
                    sqlx::query("INSERT INTO advisories (advisory_id, advisory_key, release_id, body, revision, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
                                .arg(cve)
                                .arg(key.as_str())
                                .arg(release)
                                .arg(crate::rows::json(&stored))
                                .arg(i64::from(stored.revision()))
                                .arg(now.as_micros())
                                .run(&mut tx)
                                .await
                                .map_err(|e| crate::StoreError::from_sqlx(&format!("advisory {cve}"), e))?;
                    out.created += 1;
                }
                Some(row) => {
                    let owner: i64 = row.col::<i64>("release_id")?;
                    let held: String = row.col::<String>("advisory_id")?;
                    if held != cve {
                        return Err(crate::StoreError::Conflict(format!(
                            "{cve}: the advisory {held} has that id (ids that differ only in case or punctuation are one id)"
                        )));
                    }
                    if owner != release {
                        return Err(crate::StoreError::Conflict(format!(
                            "{cve} in release {owner}"
                        )));
                    }
                    let old = crate::rows::advisory(&row.col::<String>("body")?, None)?;
                    if old.kind != stored.kind {
                        return Err(crate::StoreError::Conflict(format!(
                            "{cve} is an advisory of kind {}; one of kind {} cannot replace it",
                            old.kind.as_str(),
                            stored.kind.as_str(),
                        )));
                    }
                    let incoming = isx_advisories::Advisory {
                        revisions: old.revisions.clone(),
                        ..stored.clone()
                    };
                    if old.same_content(&incoming) {
                        out.unchanged += 1;
                        continue;
                    }
                    stored.revisions = old.revisions.clone();
                    let next = old.revision() + 1;
                    // A revision that only changes exploitability data
                    // is withheld with that data (see `Advisory::masked`).
                    let exploitability_only = old.differs_only_in_exploitability(&incoming);
                    stored.revisions.push(isx_advisories::Revision {
                        number: next,
                        date: now,
                        summary: summary.to_owned(),
                        exploitability_only,
                        label: None,
                    });
                    sqlx::query("UPDATE advisories SET body = $1, revision = $2, updated_at = $3 WHERE advisory_id = $4")
                                .arg(crate::rows::json(&stored))
                                .arg(i64::from(next))
                                .arg(now.as_micros())
                                .arg(cve)
                                .run(&mut tx)
                                .await?;
                    out.revised += 1;
                }
            }
        }
        commit(tx).await?;
        Ok(out)
    }

    async fn advisories(
        &self,
        release: Option<i64>,
    ) -> crate::Result<Vec<(i64, isx_advisories::Advisory)>> {
        let rows = sqlx::query(
                    "SELECT a.release_id, a.body, k.body AS kev, s.body AS ssvc, e.scored_on, e.epss, e.percentile, e.model_version
                     FROM advisories a LEFT JOIN known_exploited k ON k.cve = a.advisory_id
                     LEFT JOIN ssvc_decisions s ON s.cve = a.advisory_id
                     LEFT JOIN epss_scores e ON e.cve = a.advisory_id AND e.scored_on = (SELECT MAX(x.scored_on) FROM epss_scores x WHERE x.cve = a.advisory_id)
                     WHERE ($1 IS NULL OR a.release_id = $1) ORDER BY a.advisory_id",
                )
                .arg(release)
                .rows(&self.pool)
                .await?;
        rows.into_iter()
            .map(|r| -> crate::Result<(i64, isx_advisories::Advisory)> {
                Ok((r.col::<i64>("release_id")?, advisory_row(&r)?))
            })
            .collect()
    }

    async fn advisory(
        &self,
        id: &isx_advisories::AdvisoryId,
    ) -> crate::Result<Option<(i64, isx_advisories::Advisory)>> {
        let row = sqlx::query(
                    "SELECT a.release_id, a.body, k.body AS kev, s.body AS ssvc, e.scored_on, e.epss, e.percentile, e.model_version
                     FROM advisories a LEFT JOIN known_exploited k ON k.cve = a.advisory_id
                     LEFT JOIN ssvc_decisions s ON s.cve = a.advisory_id
                     LEFT JOIN epss_scores e ON e.cve = a.advisory_id AND e.scored_on = (SELECT MAX(x.scored_on) FROM epss_scores x WHERE x.cve = a.advisory_id) WHERE a.advisory_id = $1",
                )
                .arg(id.as_str())
                .maybe_row(&self.pool)
                .await?;
        row.map(|r| -> crate::Result<(i64, isx_advisories::Advisory)> {
            Ok((r.col::<i64>("release_id")?, advisory_row(&r)?))
        })
        .transpose()
    }

    async fn advisory_release(
        &self,
        id: &isx_advisories::AdvisoryId,
    ) -> crate::Result<Option<i64>> {
        maybe_scalar(
            sqlx::query("SELECT release_id FROM advisories WHERE advisory_id = $1")
                .arg(id.as_str()),
            &self.pool,
        )
        .await
        .map_err(crate::StoreError::Database)
    }

    async fn put_known_exploited(
        &self,
        records: &[isx_advisories::KevRecord],
    ) -> crate::Result<usize> {
        let mut changed = 0;
        let mut tx = self.begin_write().await?;
        for k in records {
            let body = crate::rows::json(&k.known);
            let done = sqlx::query(
                        "INSERT INTO known_exploited (cve, vendor, product, name, body) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (cve) DO UPDATE SET vendor = excluded.vendor, product = excluded.product, name = excluded.name, body = excluded.body
                         WHERE known_exploited.body <> excluded.body OR known_exploited.name <> excluded.name",
                    )
                    .arg(k.cve.as_str())
                    .arg(&k.vendor)
                    .arg(&k.product)
                    .arg(&k.name)
                    .arg(&body)
                    .run(&mut tx)
                    .await?;
            changed += done as usize;
        }
        commit(tx).await?;
        Ok(changed)
    }

    async fn put_epss(
        &self,
        scores: &[(isx_advisories::CveId, isx_advisories::EpssScore)],
    ) -> crate::Result<(usize, usize)> {
        let mut tx = self.begin_write().await?;
        let known: std::collections::HashSet<String> =
            sqlx::query("SELECT advisory_id FROM advisories")
                .rows(&mut tx)
                .await?
                .iter()
                .map(|r| r.col::<String>("advisory_id"))
                .collect::<Result<_, sqlx::Error>>()?;
        let (mut changed, mut skipped) = (0, 0);
        for (cve, e) in scores {
            if !known.contains(cve.as_str()) {
                skipped += 1;
                continue;
            }
            let done = sqlx::query(
                "INSERT INTO epss_scores (cve, scored_on, epss, percentile, model_version) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (cve, scored_on) DO UPDATE SET epss = excluded.epss, percentile = excluded.percentile, model_version = excluded.model_version
                 WHERE epss_scores.epss <> excluded.epss OR epss_scores.percentile <> excluded.percentile OR epss_scores.model_version <> excluded.model_version",
            )
            .arg(cve.as_str())
            .arg(&e.date)
            .arg(e.epss.to_string())
            .arg(e.percentile.to_string())
            .arg(&e.model_version)
            .run(&mut tx)
            .await?;
            changed += done as usize;
        }
        commit(tx).await?;
        Ok((changed, skipped))
    }

    async fn epss_history(
        &self,
        cve: &isx_advisories::CveId,
    ) -> crate::Result<Vec<isx_advisories::EpssScore>> {
        let rows = sqlx::query(
            "SELECT scored_on, epss, percentile, model_version FROM epss_scores WHERE cve = $1 ORDER BY scored_on",
        )
        .arg(cve.as_str())
        .rows(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                epss_score(
                    &r.col::<String>("scored_on")?,
                    &r.col::<String>("epss")?,
                    &r.col::<String>("percentile")?,
                    &r.col::<String>("model_version")?,
                )
            })
            .collect()
    }

    async fn put_ssvc(
        &self,
        decisions: &[(isx_advisories::CveId, isx_advisories::Ssvc)],
    ) -> crate::Result<usize> {
        let mut changed = 0;
        let mut tx = self.begin_write().await?;
        for (cve, d) in decisions {
            let done = sqlx::query(
                "INSERT INTO ssvc_decisions (cve, body) VALUES ($1, $2)
                 ON CONFLICT (cve) DO UPDATE SET body = excluded.body WHERE ssvc_decisions.body <> excluded.body",
            )
            .arg(cve.as_str())
            .arg(crate::rows::json(d))
            .run(&mut tx)
            .await?;
            changed += done as usize;
        }
        commit(tx).await?;
        Ok(changed)
    }

    async fn notify(&self, n: &crate::Notification, payload: &str) -> crate::Result<bool> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
                    "INSERT INTO notifications (member_id, release_id, kind, version, at, message) VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (member_id, release_id, kind, version) DO NOTHING RETURNING id",
                )
                .arg(n.member.0)
                .arg(n.release)
                .arg(&n.kind)
                .arg(n.version)
                .arg(n.at.as_micros())
                .arg(&n.message)
                .maybe_row(&mut tx)
                .await
                .map_err(|e| crate::StoreError::from_sqlx("notification", e))?;
        let Some(row) = row else {
            commit(tx).await?;
            return Ok(false);
        };
        let id: i64 = row.col::<i64>("id")?;
        let hook = sqlx::query("SELECT url FROM webhooks WHERE member_id = $1")
            .arg(n.member.0)
            .maybe_row(&mut tx)
            .await?;
        if let Some(h) = hook {
            sqlx::query(
                        "INSERT INTO webhook_deliveries (notification_id, member_id, url, payload, attempts, next_attempt_at, status)
                         VALUES ($1, $2, $3, $4, 0, $5, 'pending')",
                    )
                    .arg(id)
                    .arg(n.member.0)
                    .arg(h.col::<String>("url")?)
                    .arg(payload)
                    .arg(n.at.as_micros())
                    .run(&mut tx)
                    .await?;
        }
        commit(tx).await?;
        Ok(true)
    }

    async fn notified(
        &self,
        release: i64,
    ) -> crate::Result<Vec<(isx_domain::MemberId, String, i64)>> {
        let rows =
            sqlx::query("SELECT member_id, kind, version FROM notifications WHERE release_id = $1")
                .arg(release)
                .rows(&self.pool)
                .await?;
        rows.into_iter()
            .map(|r| -> crate::Result<_> {
                Ok((
                    isx_domain::MemberId(r.col::<i64>("member_id")?),
                    r.col::<String>("kind")?,
                    r.col::<i64>("version")?,
                ))
            })
            .collect()
    }

    async fn notifications(
        &self,
        member: isx_domain::MemberId,
        limit: u32,
    ) -> crate::Result<Vec<crate::Notification>> {
        let rows = sqlx::query(
                    "SELECT id, member_id, release_id, kind, version, at, message FROM notifications WHERE member_id = $1 ORDER BY id DESC LIMIT $2",
                )
                .arg(member.0)
                .arg(i64::from(limit.clamp(1, 1000)))
                .rows(&self.pool)
                .await?;
        rows.into_iter()
            .map(|r| -> crate::Result<crate::Notification> {
                Ok(crate::Notification {
                    id: r.col::<i64>("id")?,
                    member: isx_domain::MemberId(r.col::<i64>("member_id")?),
                    release: r.col::<i64>("release_id")?,
                    kind: r.col::<String>("kind")?,
                    version: r.col::<i64>("version")?,
                    at: isx_domain::Timestamp::from_micros(r.col::<i64>("at")?),
                    message: r.col::<String>("message")?,
                })
            })
            .collect()
    }

    async fn put_webhook(
        &self,
        hook: &crate::Webhook,
        now: isx_domain::Timestamp,
    ) -> crate::Result<()> {
        sqlx::query(
                    "INSERT INTO webhooks (member_id, url, secret, created_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (member_id) DO UPDATE SET url = excluded.url, secret = excluded.secret",
                )
                .arg(hook.member.0)
                .arg(&hook.url)
                .arg(&hook.secret)
                .arg(now.as_micros())
                .run(&self.pool)
                .await
                .map_err(|e| crate::StoreError::from_sqlx("webhook", e))?;
        Ok(())
    }

    async fn webhook(&self, member: isx_domain::MemberId) -> crate::Result<Option<crate::Webhook>> {
        let row = sqlx::query("SELECT member_id, url, secret FROM webhooks WHERE member_id = $1")
            .arg(member.0)
            .maybe_row(&self.pool)
            .await?;
        row.map(|r| -> crate::Result<crate::Webhook> {
            Ok(crate::Webhook {
                member: isx_domain::MemberId(r.col::<i64>("member_id")?),
                url: r.col::<String>("url")?,
                secret: r.col::<String>("secret")?,
            })
        })
        .transpose()
    }

    async fn due_deliveries(
        &self,
        now: isx_domain::Timestamp,
        limit: u32,
    ) -> crate::Result<Vec<crate::Delivery>> {
        let rows = sqlx::query("SELECT id, notification_id, member_id, url, payload, attempts, next_attempt_at, status, last_error, delivered_at FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2")
                    .arg(now.as_micros())
                    .arg(i64::from(limit.clamp(1, 1000)))
                    .rows(&self.pool)
                    .await?;
        rows.into_iter()
            .map(|r| crate::rows::delivery_row(&r))
            .collect()
    }

    async fn claim_delivery(
        &self,
        id: i64,
        now: isx_domain::Timestamp,
        lease_until: isx_domain::Timestamp,
    ) -> crate::Result<bool> {
        let done = sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = $2 AND status = 'pending' AND next_attempt_at <= $3")
                    .arg(lease_until.as_micros())
                    .arg(id)
                    .arg(now.as_micros())
                    .run(&self.pool)
                    .await?;
        Ok(done == 1)
    }

    async fn finish_delivery(&self, d: &crate::Delivery) -> crate::Result<()> {
        sqlx::query("UPDATE webhook_deliveries SET attempts = $1, next_attempt_at = $2, status = $3, last_error = $4, delivered_at = $5 WHERE id = $6")
                    .arg(d.attempts)
                    .arg(d.next_attempt_at.as_micros())
                    .arg(&d.status)
                    .arg(&d.last_error)
                    .arg(d.delivered_at.map(isx_domain::Timestamp::as_micros))
                    .arg(d.id)
                    .run(&self.pool)
                    .await?;
        Ok(())
    }

    async fn deliveries(
        &self,
        member: Option<isx_domain::MemberId>,
        limit: u32,
    ) -> crate::Result<Vec<crate::Delivery>> {
        let rows = sqlx::query("SELECT id, notification_id, member_id, url, payload, attempts, next_attempt_at, status, last_error, delivered_at FROM webhook_deliveries WHERE ($1 IS NULL OR member_id = $1) ORDER BY id DESC LIMIT $2")
                    .arg(member.map(|m| m.0))
                    .arg(i64::from(limit.clamp(1, 1000)))
                    .rows(&self.pool)
                    .await?;
        rows.into_iter()
            .map(|r| crate::rows::delivery_row(&r))
            .collect()
    }
}

fn epss_score(
    date: &str,
    epss: &str,
    percentile: &str,
    model: &str,
) -> crate::Result<isx_advisories::EpssScore> {
    let num = |v: &str| {
        v.parse::<f64>()
            .map_err(|e| crate::StoreError::Corrupt(format!("EPSS value {v:?}: {e}")))
    };
    isx_advisories::EpssScore::new(date, num(epss)?, num(percentile)?, model)
        .map_err(|e| crate::StoreError::Corrupt(format!("EPSS score: {e}")))
}

/// An advisory row with its KEV entry, SSVC decision and latest EPSS score.
fn advisory_row<R: Get>(r: &R) -> crate::Result<isx_advisories::Advisory> {
    let kev = r.col::<Option<String>>("kev")?;
    let mut a = crate::rows::advisory(&r.col::<String>("body")?, kev.as_deref())?;
    a.ssvc = r
        .col::<Option<String>>("ssvc")?
        .map(|b| {
            serde_json::from_str(&b)
                .map_err(|e| crate::StoreError::Corrupt(format!("SSVC decision: {e}")))
        })
        .transpose()?;
    a.epss = match r.col::<Option<String>>("scored_on")? {
        Some(date) => Some(epss_score(
            &date,
            &r.col::<String>("epss")?,
            &r.col::<String>("percentile")?,
            &r.col::<String>("model_version")?,
        )?),
        None => None,
    };
    Ok(a)
}
