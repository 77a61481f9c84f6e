//! Partnership queries (contributions, their versions, comments,
//! attachments, share requests, group rules), written once for both
//! engines. A contribution's TAXII objects are added to its group's
//! collection in the same transaction that stores it (`exchange_insert`),
//! so the collection and the contributions never disagree.

use isx_domain::{GroupId, MemberId, Timestamp};
use isx_partnership::{
    Contribution, ContributionId, NewContribution, ShareRequest, ShareStatus, ShareTarget,
};

use async_trait::async_trait;

use crate::engine::{
    commit, maybe_scalar, scalar, scalars, take_lock, Engine, Get, Run, SqlStore, WriteLock,
};
use sqlx::Transaction;

use crate::sql_exchange::exchange_insert;
use crate::{Result, StoreError};

/// What approving or rejecting a share request does, written in one
/// transaction with the decision.
#[derive(Debug, Clone, Copy)]
pub enum ShareDecision<'a> {
    Reject,
    /// Approve and store this copy (and its TAXII objects) for the target
    /// group.
    ApproveCopy(&'a NewContributionRow<'a>, &'a [crate::NewExchangeObject]),
    /// Approve and merge these URLs into the malicious-URL feed, as an
    /// import batch of their own.
    ApproveUrls(&'a crate::UrlBatch<'a>),
}

impl ShareDecision<'_> {
    pub fn approves(&self) -> bool {
        !matches!(self, ShareDecision::Reject)
    }
}

/// A contribution to store (new, or a copy shared from another group).
#[derive(Debug, Clone)]
pub struct NewContributionRow<'a> {
    pub group: GroupId,
    pub author: MemberId,
    pub content: &'a NewContribution,
    pub stix_id: &'a str,
    pub origin: Option<ContributionId>,
}

/// The TAXII collection of a trust group.
pub fn group_collection(group: GroupId) -> String {
    format!("group-{}", group.0)
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn contribution(
    id: i64,
    group: i64,
    author: i64,
    version: i64,
    created_at: i64,
    updated_at: i64,
    origin: Option<i64>,
    stix_id: String,
    body: &str,
) -> Result<Contribution> {
    Ok(Contribution {
        id: ContributionId(id),
        group: GroupId(group),
        author: MemberId(author),
        content: serde_json::from_str(body).map_err(|e| corrupt("contribution body", e))?,
        version: u32::try_from(version).map_err(|e| corrupt("contribution version", e))?,
        created_at: Timestamp::from_micros(created_at),
        updated_at: Timestamp::from_micros(updated_at),
        origin: origin.map(ContributionId),
        stix_id,
    })
}

pub(crate) fn body(content: &NewContribution) -> Result<String> {
    serde_json::to_string(content).map_err(|e| corrupt("contribution body", e))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn share(
    id: i64,
    contribution: i64,
    target: &str,
    requested_by: i64,
    requested_at: i64,
    reason: String,
    status: &str,
    decided_at: Option<i64>,
    copy: Option<i64>,
) -> Result<ShareRequest> {
    Ok(ShareRequest {
        id,
        contribution: ContributionId(contribution),
        target: serde_json::from_str::<ShareTarget>(target)
            .map_err(|e| corrupt("share target", e))?,
        requested_by: MemberId(requested_by),
        requested_at: Timestamp::from_micros(requested_at),
        reason,
        status: match status {
            "pending" => ShareStatus::Pending,
            "approved" => ShareStatus::Approved,
            "rejected" => ShareStatus::Rejected,
            other => return Err(corrupt("share status", other)),
        },
        decided_at: decided_at.map(Timestamp::from_micros),
        copy: copy.map(ContributionId),
    })
}

fn contribution_row<R: Get>(r: &R) -> Result<Contribution> {
    contribution(
        r.at::<i64>(0)?,
        r.at::<i64>(1)?,
        r.at::<i64>(2)?,
        r.at::<i64>(3)?,
        r.at::<i64>(4)?,
        r.at::<i64>(5)?,
        r.at::<Option<i64>>(6)?,
        r.at::<String>(7)?,
        &r.at::<String>(8)?,
    )
}

fn share_row<R: Get>(r: &R) -> Result<ShareRequest> {
    share(
        r.at::<i64>(0)?,
        r.at::<i64>(1)?,
        &r.at::<String>(2)?,
        r.at::<i64>(3)?,
        r.at::<i64>(4)?,
        r.at::<String>(5)?,
        &r.at::<String>(6)?,
        r.at::<Option<i64>>(7)?,
        r.at::<Option<i64>>(8)?,
    )
}

const CONTRIBUTION_COLS: &str =
    "id, group_id, author, version, created_at, updated_at, origin, stix_id, body";
const SHARE_COLS: &str =
    "id, contribution_id, target, requested_by, requested_at, reason, status, decided_at, copy_id";

pub(crate) fn contribution_select(filter: &str) -> String {
    format!("SELECT {CONTRIBUTION_COLS} FROM contributions {filter}")
}

pub(crate) fn share_select(filter: &str) -> String {
    format!("SELECT {SHARE_COLS} FROM share_requests {filter}")
}

/// Inserts a contribution, its first version and its TAXII objects in the
/// caller's transaction; the new id.
async fn contribution_insert<DB: Engine>(
    tx: &mut Transaction<'_, DB>,
    row: &NewContributionRow<'_>,
    stix: &[crate::NewExchangeObject],
    now: Timestamp,
) -> Result<i64> {
    let body = crate::sql_partnership::body(row.content)?;
    let id: i64 = scalar(sqlx::query(
            "INSERT INTO contributions (group_id, author, kind, version, created_at, updated_at, origin, stix_id, body, id)
             VALUES ($1, $2, $3, 1, $4, $4, $5, $6, $7, $8) RETURNING id",
        )
        .arg(row.group.0)
        .arg(row.author.0)
        .arg(row.content.kind().as_str())
        .arg(now.as_micros())
        .arg(row.origin.map(|o| o.0))
        .arg(row.stix_id)
        .arg(&body)
        .arg(crate::engine::random_row_id()?)
        , &mut *tx)
        .await
        .map_err(|e| crate::StoreError::from_sqlx(&format!("contribution {}", row.stix_id), e))?;
    sqlx::query("INSERT INTO contribution_versions (contribution_id, version, edited_at, editor, body) VALUES ($1, 1, $2, $3, $4)")
            .arg(id)
            .arg(now.as_micros())
            .arg(row.author.0)
            .arg(&body)
            .run(&mut *tx)
            .await?;
    let collection = crate::sql_partnership::group_collection(row.group);
    let _ = exchange_insert(tx, &collection, row.author, stix, now).await?;
    Ok(id)
}

#[async_trait]
impl<DB: Engine> crate::PartnershipStore for SqlStore<DB> {
    async fn insert_contribution(
        &self,
        row: &crate::NewContributionRow<'_>,
        stix: &[crate::NewExchangeObject],
        now: isx_domain::Timestamp,
    ) -> crate::Result<isx_partnership::Contribution> {
        let mut tx = self.begin_write().await?;
        let id = contribution_insert(&mut tx, row, stix, now).await?;
        commit(tx).await?;
        self.contribution(isx_partnership::ContributionId(id))
            .await?
            .ok_or_else(|| crate::StoreError::NotFound(format!("contribution {id}")))
    }

    async fn insert_contributions(
        &self,
        rows: &[(crate::NewContributionRow<'_>, Vec<crate::NewExchangeObject>)],
        now: isx_domain::Timestamp,
    ) -> crate::Result<Vec<isx_partnership::ContributionId>> {
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::with_capacity(rows.len());
        for (row, stix) in rows {
            ids.push(isx_partnership::ContributionId(
                contribution_insert(&mut tx, row, stix, now).await?,
            ));
        }
        commit(tx).await?;
        Ok(ids)
    }

    async fn contribution_by_stix_id(
        &self,
        stix_id: &str,
    ) -> crate::Result<Option<isx_partnership::Contribution>> {
        let row = sqlx::query(&crate::sql_partnership::contribution_select(
            "WHERE stix_id = $1",
        ))
        .arg(stix_id)
        .maybe_row(&self.pool)
        .await?;
        row.map(|r| contribution_row(&r)).transpose()
    }

    async fn update_contribution(
        &self,
        id: isx_partnership::ContributionId,
        editor: isx_domain::MemberId,
        expected_version: u32,
        content: &isx_partnership::NewContribution,
        stix: &[crate::NewExchangeObject],
        now: isx_domain::Timestamp,
    ) -> crate::Result<isx_partnership::Contribution> {
        let body = crate::sql_partnership::body(content)?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE contributions SET version = version + 1, updated_at = $1, body = $2
                 WHERE id = $3 AND version = $4 RETURNING group_id, author, version",
        )
        .arg(now.as_micros())
        .arg(&body)
        .arg(id.0)
        .arg(i64::from(expected_version))
        .maybe_row(&mut tx)
        .await?
        .ok_or_else(|| {
            crate::StoreError::Conflict(format!(
                "version {} of contribution {id} (reload it and edit again)",
                expected_version + 1
            ))
        })?;
        let group = row.at::<i64>(0)?;
        let version = row.at::<i64>(2)?;
        sqlx::query("INSERT INTO contribution_versions (contribution_id, version, edited_at, editor, body) VALUES ($1, $2, $3, $4, $5)")
                .arg(id.0)
                .arg(version)
                .arg(now.as_micros())
                .arg(editor.0)
                .arg(&body)
                .run(&mut tx)
                .await?;
        let collection = crate::sql_partnership::group_collection(isx_domain::GroupId(group));
        let _ = exchange_insert(&mut tx, &collection, editor, stix, now).await?;
        commit(tx).await?;
        self.contribution(id)
            .await?
            .ok_or_else(|| crate::StoreError::NotFound(format!("contribution {id}")))
    }

    async fn contribution(
        &self,
        id: isx_partnership::ContributionId,
    ) -> crate::Result<Option<isx_partnership::Contribution>> {
        let row = sqlx::query(&crate::sql_partnership::contribution_select(
            "WHERE id = $1",
        ))
        .arg(id.0)
        .maybe_row(&self.pool)
        .await?;
        row.map(|r| contribution_row(&r)).transpose()
    }

    async fn contributions(
        &self,
        group: Option<isx_domain::GroupId>,
    ) -> crate::Result<Vec<isx_partnership::Contribution>> {
        let rows = match group {
            Some(g) => {
                sqlx::query(&crate::sql_partnership::contribution_select(
                    "WHERE group_id = $1 ORDER BY created_at DESC, id DESC",
                ))
                .arg(g.0)
                .rows(&self.pool)
                .await
            }
            None => {
                sqlx::query(&crate::sql_partnership::contribution_select(
                    "ORDER BY created_at DESC, id DESC",
                ))
                .rows(&self.pool)
                .await
            }
        }?;
        rows.into_iter().map(|r| contribution_row(&r)).collect()
    }

    async fn contribution_versions(
        &self,
        id: isx_partnership::ContributionId,
    ) -> crate::Result<Vec<isx_partnership::Version>> {
        let rows = sqlx::query("SELECT version, edited_at, editor, body FROM contribution_versions WHERE contribution_id = $1 ORDER BY version")
                .arg(id.0)
                .rows(&self.pool)
                .await?;
        rows.into_iter()
            .map(|r| {
                Ok(isx_partnership::Version {
                    version: u32::try_from(r.at::<i64>(0)?).unwrap_or(0),
                    edited_at: isx_domain::Timestamp::from_micros(r.at::<i64>(1)?),
                    editor: isx_domain::MemberId(r.at::<i64>(2)?),
                    content: serde_json::from_str(&r.at::<String>(3)?).map_err(|e| {
                        crate::StoreError::Corrupt(format!("contribution version: {e}"))
                    })?,
                })
            })
            .collect()
    }

    async fn insert_comment(
        &self,
        contribution: &isx_partnership::Contribution,
        author: isx_domain::MemberId,
        new: &isx_partnership::NewComment,
        stix_id: &str,
        stix: &[crate::NewExchangeObject],
        now: isx_domain::Timestamp,
    ) -> crate::Result<isx_partnership::Comment> {
        let mut tx = self.begin_write().await?;
        if let Some(parent) = new.parent {
            let found: Option<i64> = maybe_scalar(
                sqlx::query(
                    "SELECT id FROM contribution_comments WHERE id = $1 AND contribution_id = $2",
                )
                .arg(parent)
                .arg(contribution.id.0),
                &mut tx,
            )
            .await?;
            if found.is_none() {
                return Err(crate::StoreError::Reference(format!(
                    "comment {parent} is not on contribution {}",
                    contribution.id
                )));
            }
        }
        let id: i64 = scalar(sqlx::query(
                "INSERT INTO contribution_comments (contribution_id, parent_id, author, anonymous, text, created_at, stix_id, id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .arg(contribution.id.0)
            .arg(new.parent)
            .arg(author.0)
            .arg(new.anonymous)
            .arg(&new.text)
            .arg(now.as_micros())
            .arg(stix_id)
            .arg(crate::engine::random_row_id()?)
            , &mut tx)
            .await
            .map_err(|e| crate::StoreError::from_sqlx("comment", e))?;
        let collection = crate::sql_partnership::group_collection(contribution.group);
        let _ = exchange_insert(&mut tx, &collection, author, stix, now).await?;
        commit(tx).await?;
        Ok(isx_partnership::Comment {
            id,
            contribution: contribution.id,
            parent: new.parent,
            author,
            anonymous: new.anonymous,
            text: new.text.clone(),
            created_at: now,
            stix_id: stix_id.to_owned(),
        })
    }

    async fn comments(
        &self,
        contribution: isx_partnership::ContributionId,
    ) -> crate::Result<Vec<isx_partnership::Comment>> {
        let rows = sqlx::query(
                "SELECT id, parent_id, author, anonymous, text, created_at, stix_id FROM contribution_comments
                 WHERE contribution_id = $1 ORDER BY created_at, id",
            )
            .arg(contribution.0)
            .rows(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(isx_partnership::Comment {
                    id: r.at::<i64>(0)?,
                    contribution,
                    parent: r.at::<Option<i64>>(1)?,
                    author: isx_domain::MemberId(r.at::<i64>(2)?),
                    anonymous: r.at::<bool>(3)?,
                    text: r.at::<String>(4)?,
                    created_at: isx_domain::Timestamp::from_micros(r.at::<i64>(5)?),
                    stix_id: r.at::<String>(6)?,
                })
            })
            .collect()
    }

    async fn insert_attachment(
        &self,
        contribution: isx_partnership::ContributionId,
        name: &str,
        media_type: &str,
        content: &[u8],
        sha256: &str,
        now: isx_domain::Timestamp,
    ) -> crate::Result<isx_partnership::Attachment> {
        let mut tx = self.begin_write().await?;
        let id: i64 = scalar(sqlx::query(
                "INSERT INTO contribution_attachments (contribution_id, name, media_type, size, sha256, content, created_at, id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .arg(contribution.0)
            .arg(name)
            .arg(media_type)
            .arg(content.len() as i64)
            .arg(sha256)
            .arg(content)
            .arg(now.as_micros())
            .arg(crate::engine::random_row_id()?)
            , &mut tx)
            .await
            .map_err(|e| crate::StoreError::from_sqlx(&format!("attachment of contribution {contribution}"), e))?;
        commit(tx).await?;
        Ok(isx_partnership::Attachment {
            id,
            name: name.to_owned(),
            media_type: media_type.to_owned(),
            size: content.len() as u64,
            sha256: sha256.to_owned(),
        })
    }

    async fn attachments(
        &self,
        contribution: isx_partnership::ContributionId,
    ) -> crate::Result<Vec<isx_partnership::Attachment>> {
        let rows = sqlx::query(
                "SELECT id, name, media_type, size, sha256 FROM contribution_attachments WHERE contribution_id = $1 ORDER BY created_at, id",
            )
            .arg(contribution.0)
            .rows(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(isx_partnership::Attachment {
                    id: r.at::<i64>(0)?,
                    name: r.at::<String>(1)?,
                    media_type: r.at::<String>(2)?,
                    size: u64::try_from(r.at::<i64>(3)?).unwrap_or(0),
                    sha256: r.at::<String>(4)?,
                })
            })
            .collect()
    }

    async fn attachment(
        &self,
        id: i64,
    ) -> crate::Result<
        Option<(
            isx_partnership::ContributionId,
            isx_partnership::Attachment,
            Vec<u8>,
        )>,
    > {
        let row = sqlx::query(
                "SELECT contribution_id, name, media_type, size, sha256, content FROM contribution_attachments WHERE id = $1",
            )
            .arg(id)
            .maybe_row(&self.pool)
            .await?;
        Ok(match row {
            None => None,
            Some(r) => Some((
                isx_partnership::ContributionId(r.at::<i64>(0)?),
                isx_partnership::Attachment {
                    id,
                    name: r.at::<String>(1)?,
                    media_type: r.at::<String>(2)?,
                    size: u64::try_from(r.at::<i64>(3)?).unwrap_or(0),
                    sha256: r.at::<String>(4)?,
                },
                r.at::<Vec<u8>>(5)?,
            )),
        })
    }

    async fn insert_share(
        &self,
        contribution: isx_partnership::ContributionId,
        target: isx_partnership::ShareTarget,
        by: isx_domain::MemberId,
        reason: &str,
        now: isx_domain::Timestamp,
    ) -> crate::Result<isx_partnership::ShareRequest> {
        let target_json = serde_json::to_string(&target)
            .map_err(|e| crate::StoreError::Corrupt(format!("share target: {e}")))?;
        let mut tx = self.begin_write().await?;
        let pending: Option<i64> = maybe_scalar(sqlx::query(
                "SELECT id FROM share_requests WHERE contribution_id = $1 AND target = $2 AND status <> 'rejected'",
            )
            .arg(contribution.0)
            .arg(&target_json)
            , &mut tx)
            .await?;
        if let Some(existing) = pending {
            return Err(crate::StoreError::Conflict(format!(
                "share request {existing} for this contribution and target"
            )));
        }
        let id: i64 = scalar(sqlx::query(
                "INSERT INTO share_requests (contribution_id, target, requested_by, requested_at, reason, status, id)
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id",
            )
            .arg(contribution.0)
            .arg(&target_json)
            .arg(by.0)
            .arg(now.as_micros())
            .arg(reason)
            .arg(crate::engine::random_row_id()?)
            , &mut tx)
            .await
            .map_err(|e| crate::StoreError::from_sqlx("share request", e))?;
        commit(tx).await?;
        self.share(id)
            .await?
            .ok_or_else(|| crate::StoreError::NotFound(format!("share request {id}")))
    }

    async fn share(&self, id: i64) -> crate::Result<Option<isx_partnership::ShareRequest>> {
        let row = sqlx::query(&crate::sql_partnership::share_select("WHERE id = $1"))
            .arg(id)
            .maybe_row(&self.pool)
            .await?;
        row.map(|r| share_row(&r)).transpose()
    }

    async fn shares(&self) -> crate::Result<Vec<isx_partnership::ShareRequest>> {
        let rows = sqlx::query(&crate::sql_partnership::share_select(
            "ORDER BY requested_at DESC, id DESC",
        ))
        .rows(&self.pool)
        .await?;
        rows.into_iter().map(|r| share_row(&r)).collect()
    }

    async fn decide_share(
        &self,
        id: i64,
        decision: crate::ShareDecision<'_>,
        now: isx_domain::Timestamp,
    ) -> crate::Result<isx_partnership::ShareRequest> {
        let approve = decision.approves();
        let mut tx = match decision {
            ShareDecision::ApproveUrls(_) => self.begin_locked(WriteLock::Url).await?,
            _ => self.begin_write().await?,
        };
        let copy_id = match decision {
            ShareDecision::ApproveCopy(row, stix) => {
                Some(contribution_insert(&mut tx, row, stix, now).await?)
            }
            ShareDecision::ApproveUrls(batch) => {
                crate::sql_urls::import_urls_in(&mut tx, batch, now).await?;
                None
            }
            ShareDecision::Reject => None,
        };
        let done = sqlx::query(
                "UPDATE share_requests SET status = $1, decided_at = $2, copy_id = $3 WHERE id = $4 AND status = 'pending'",
            )
            .arg(if approve { "approved" } else { "rejected" })
            .arg(now.as_micros())
            .arg(copy_id)
            .arg(id)
            .run(&mut tx)
            .await?;
        if done != 1 {
            return Err(crate::StoreError::Conflict(format!(
                "a decision on share request {id}"
            )));
        }
        commit(tx).await?;
        self.share(id)
            .await?
            .ok_or_else(|| crate::StoreError::NotFound(format!("share request {id}")))
    }

    async fn group_rules(
        &self,
        group: isx_domain::GroupId,
    ) -> crate::Result<isx_partnership::GroupRules> {
        let body: Option<String> = maybe_scalar(
            sqlx::query("SELECT body FROM group_rules WHERE group_id = $1").arg(group.0),
            &self.pool,
        )
        .await?;
        match body {
            None => Ok(isx_partnership::GroupRules {
                report_period_days: 30,
                ..Default::default()
            }),
            Some(b) => serde_json::from_str(&b)
                .map_err(|e| crate::StoreError::Corrupt(format!("group rules: {e}"))),
        }
    }

    async fn put_group_rules(
        &self,
        group: isx_domain::GroupId,
        rules: &isx_partnership::GroupRules,
    ) -> crate::Result<()> {
        let body = serde_json::to_string(rules)
            .map_err(|e| crate::StoreError::Corrupt(format!("group rules: {e}")))?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO group_rules (group_id, body) VALUES ($1, $2)
                 ON CONFLICT (group_id) DO UPDATE SET body = excluded.body",
        )
        .arg(group.0)
        .arg(&body)
        .run(&mut tx)
        .await
        .map_err(|e| crate::StoreError::from_sqlx(&format!("rules of trust group {group}"), e))?;
        commit(tx).await?;
        Ok(())
    }

    async fn prune_contributions(
        &self,
        group: isx_domain::GroupId,
        before: isx_domain::Timestamp,
    ) -> crate::Result<u64> {
        let mut tx = self.begin_write().await?;
        let ids: Vec<(i64, String)> = sqlx::query(
            "SELECT id, stix_id FROM contributions WHERE group_id = $1 AND updated_at < $2",
        )
        .arg(group.0)
        .arg(before.as_micros())
        .rows(&mut tx)
        .await?
        .iter()
        .map(|r| Ok((r.at::<i64>(0)?, r.at::<String>(1)?)))
        .collect::<Result<_>>()?;
        let collection = crate::sql_partnership::group_collection(group);
        take_lock(&mut tx, WriteLock::Exchange).await?;
        for (id, stix_id) in &ids {
            let notes: Vec<String> = scalars(
                sqlx::query("SELECT stix_id FROM contribution_comments WHERE contribution_id = $1")
                    .arg(id),
                &mut tx,
            )
            .await?;
            for object in notes.iter().chain(std::iter::once(stix_id)) {
                sqlx::query(
                    "DELETE FROM exchange_objects WHERE collection = $1 AND object_id = $2",
                )
                .arg(&collection)
                .arg(object)
                .run(&mut tx)
                .await?;
            }
            for table in [
                "share_requests",
                "contribution_attachments",
                "contribution_comments",
                "contribution_versions",
            ] {
                sqlx::query(&format!("DELETE FROM {table} WHERE contribution_id = $1"))
                    .arg(id)
                    .run(&mut tx)
                    .await?;
            }
            sqlx::query("DELETE FROM contributions WHERE id = $1")
                .arg(id)
                .run(&mut tx)
                .await?;
        }
        commit(tx).await?;
        Ok(ids.len() as u64)
    }
}
