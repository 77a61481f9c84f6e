//! Partnership queries (contributions, their versions, comments,
//! attachments, share requests, group rules), written once for both
//! engines. A contribution's TAXII objects are added to its group's
//! collection in the same transaction that stores it (`exchange_insert!`),
//! so the collection and the contributions never disagree.

use isx_domain::{GroupId, MemberId, Timestamp};
use isx_partnership::{
    Contribution, ContributionId, NewContribution, ShareRequest, ShareStatus, ShareTarget,
};

use crate::{Result, StoreError};

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

macro_rules! contribution_row {
    ($r:ident) => {
        $crate::sql_partnership::contribution(
            impl_store!(@at $r, 0, i64),
            impl_store!(@at $r, 1, i64),
            impl_store!(@at $r, 2, i64),
            impl_store!(@at $r, 3, i64),
            impl_store!(@at $r, 4, i64),
            impl_store!(@at $r, 5, i64),
            impl_store!(@at $r, 6, Option<i64>),
            impl_store!(@at $r, 7, String),
            &impl_store!(@at $r, 8, String),
        )
    };
}

macro_rules! share_row {
    ($r:ident) => {
        $crate::sql_partnership::share(
            impl_store!(@at $r, 0, i64),
            impl_store!(@at $r, 1, i64),
            &impl_store!(@at $r, 2, String),
            impl_store!(@at $r, 3, i64),
            impl_store!(@at $r, 4, i64),
            impl_store!(@at $r, 5, String),
            &impl_store!(@at $r, 6, String),
            impl_store!(@at $r, 7, Option<i64>),
            impl_store!(@at $r, 8, Option<i64>),
        )
    };
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
/// caller's transaction; evaluates to the new id.
macro_rules! contribution_insert {
    ($ty:ty, $tx:ident, $row:expr, $stix:expr, $now:expr) => {{
        let row: &$crate::NewContributionRow<'_> = $row;
        let body = $crate::sql_partnership::body(row.content)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO contributions (group_id, author, kind, version, created_at, updated_at, origin, stix_id, body)
             VALUES ($1, $2, $3, 1, $4, $4, $5, $6, $7) RETURNING id",
        )
        .bind(row.group.0)
        .bind(row.author.0)
        .bind(row.content.kind().as_str())
        .bind($now.as_micros())
        .bind(row.origin.map(|o| o.0))
        .bind(row.stix_id)
        .bind(&body)
        .fetch_one(&mut *$tx)
        .await
        .map_err(|e| $crate::StoreError::from_sqlx(&format!("contribution {}", row.stix_id), e))?;
        sqlx::query("INSERT INTO contribution_versions (contribution_id, version, edited_at, editor, body) VALUES ($1, 1, $2, $3, $4)")
            .bind(id)
            .bind($now.as_micros())
            .bind(row.author.0)
            .bind(&body)
            .execute(&mut *$tx)
            .await?;
        let collection = $crate::sql_partnership::group_collection(row.group);
        let _ = exchange_insert!($ty, $tx, &collection, row.author, $stix, $now);
        id
    }};
}

macro_rules! partnership_methods {
    ($ty:ty) => {
        impl $ty {
        pub(crate) async fn insert_contribution_sql(
            &self,
            row: &$crate::NewContributionRow<'_>,
            stix: &[$crate::NewExchangeObject],
            now: isx_domain::Timestamp,
        ) -> $crate::Result<isx_partnership::Contribution> {
            let mut tx = self.begin_write().await?;
            let id = contribution_insert!(Self, tx, row, stix, now);
            tx.commit().await?;
            self.contribution_sql(isx_partnership::ContributionId(id))
                .await?
                .ok_or_else(|| $crate::StoreError::NotFound(format!("contribution {id}")))
        }

        pub(crate) async fn update_contribution_sql(
            &self,
            id: isx_partnership::ContributionId,
            editor: isx_domain::MemberId,
            expected_version: u32,
            content: &isx_partnership::NewContribution,
            stix: &[$crate::NewExchangeObject],
            now: isx_domain::Timestamp,
        ) -> $crate::Result<isx_partnership::Contribution> {
            let body = $crate::sql_partnership::body(content)?;
            let mut tx = self.begin_write().await?;
            let row = sqlx::query(
                "UPDATE contributions SET version = version + 1, updated_at = $1, body = $2
                 WHERE id = $3 AND version = $4 RETURNING group_id, author, version",
            )
            .bind(now.as_micros())
            .bind(&body)
            .bind(id.0)
            .bind(i64::from(expected_version))
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| $crate::StoreError::Conflict(format!(
                "version {} of contribution {id} (reload it and edit again)", expected_version + 1
            )))?;
            let group = impl_store!(@at row, 0, i64);
            let version = impl_store!(@at row, 2, i64);
            sqlx::query("INSERT INTO contribution_versions (contribution_id, version, edited_at, editor, body) VALUES ($1, $2, $3, $4, $5)")
                .bind(id.0)
                .bind(version)
                .bind(now.as_micros())
                .bind(editor.0)
                .bind(&body)
                .execute(&mut *tx)
                .await?;
            let collection = $crate::sql_partnership::group_collection(isx_domain::GroupId(group));
            let _ = exchange_insert!(Self, tx, &collection, editor, stix, now);
            tx.commit().await?;
            self.contribution_sql(id)
                .await?
                .ok_or_else(|| $crate::StoreError::NotFound(format!("contribution {id}")))
        }

        pub(crate) async fn contribution_sql(
            &self,
            id: isx_partnership::ContributionId,
        ) -> $crate::Result<Option<isx_partnership::Contribution>> {
            let row = sqlx::query(&$crate::sql_partnership::contribution_select("WHERE id = $1"))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
            row.map(|r| contribution_row!(r)).transpose()
        }

        pub(crate) async fn contributions_sql(
            &self,
            group: Option<isx_domain::GroupId>,
        ) -> $crate::Result<Vec<isx_partnership::Contribution>> {
            let rows = match group {
                Some(g) => sqlx::query(&$crate::sql_partnership::contribution_select("WHERE group_id = $1 ORDER BY id DESC"))
                    .bind(g.0)
                    .fetch_all(&self.pool)
                    .await,
                None => sqlx::query(&$crate::sql_partnership::contribution_select("ORDER BY id DESC"))
                    .fetch_all(&self.pool)
                    .await,
            }?;
            rows.into_iter().map(|r| contribution_row!(r)).collect()
        }

        pub(crate) async fn contribution_versions_sql(
            &self,
            id: isx_partnership::ContributionId,
        ) -> $crate::Result<Vec<isx_partnership::Version>> {
            let rows = sqlx::query("SELECT version, edited_at, editor, body FROM contribution_versions WHERE contribution_id = $1 ORDER BY version")
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
            rows.into_iter()
                .map(|r| {
                    Ok(isx_partnership::Version {
                        version: u32::try_from(impl_store!(@at r, 0, i64)).unwrap_or(0),
                        edited_at: isx_domain::Timestamp::from_micros(impl_store!(@at r, 1, i64)),
                        editor: isx_domain::MemberId(impl_store!(@at r, 2, i64)),
                        content: serde_json::from_str(&impl_store!(@at r, 3, String))
                            .map_err(|e| $crate::StoreError::Corrupt(format!("contribution version: {e}")))?,
                    })
                })
                .collect()
        }

        pub(crate) async fn insert_comment_sql(
            &self,
            contribution: &isx_partnership::Contribution,
            author: isx_domain::MemberId,
            new: &isx_partnership::NewComment,
            stix_id: &str,
            stix: &[$crate::NewExchangeObject],
            now: isx_domain::Timestamp,
        ) -> $crate::Result<isx_partnership::Comment> {
            let mut tx = self.begin_write().await?;
            if let Some(parent) = new.parent {
                let found: Option<i64> = sqlx::query_scalar("SELECT id FROM contribution_comments WHERE id = $1 AND contribution_id = $2")
                    .bind(parent)
                    .bind(contribution.id.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                if found.is_none() {
                    return Err($crate::StoreError::Reference(format!("comment {parent} is not on contribution {}", contribution.id)));
                }
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO contribution_comments (contribution_id, parent_id, author, anonymous, text, created_at, stix_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(contribution.id.0)
            .bind(new.parent)
            .bind(author.0)
            .bind(new.anonymous)
            .bind(&new.text)
            .bind(now.as_micros())
            .bind(stix_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| $crate::StoreError::from_sqlx("comment", e))?;
            let collection = $crate::sql_partnership::group_collection(contribution.group);
            let _ = exchange_insert!(Self, tx, &collection, author, stix, now);
            tx.commit().await?;
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

        pub(crate) async fn comments_sql(
            &self,
            contribution: isx_partnership::ContributionId,
        ) -> $crate::Result<Vec<isx_partnership::Comment>> {
            let rows = sqlx::query(
                "SELECT id, parent_id, author, anonymous, text, created_at, stix_id FROM contribution_comments
                 WHERE contribution_id = $1 ORDER BY id",
            )
            .bind(contribution.0)
            .fetch_all(&self.pool)
            .await?;
            rows.into_iter()
                .map(|r| {
                    Ok(isx_partnership::Comment {
                        id: impl_store!(@at r, 0, i64),
                        contribution,
                        parent: impl_store!(@at r, 1, Option<i64>),
                        author: isx_domain::MemberId(impl_store!(@at r, 2, i64)),
                        anonymous: impl_store!(@at r, 3, bool),
                        text: impl_store!(@at r, 4, String),
                        created_at: isx_domain::Timestamp::from_micros(impl_store!(@at r, 5, i64)),
                        stix_id: impl_store!(@at r, 6, String),
                    })
                })
                .collect()
        }

        pub(crate) async fn insert_attachment_sql(
            &self,
            contribution: isx_partnership::ContributionId,
            name: &str,
            media_type: &str,
            content: &[u8],
            sha256: &str,
            now: isx_domain::Timestamp,
        ) -> $crate::Result<isx_partnership::Attachment> {
            let mut tx = self.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO contribution_attachments (contribution_id, name, media_type, size, sha256, content, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(contribution.0)
            .bind(name)
            .bind(media_type)
            .bind(content.len() as i64)
            .bind(sha256)
            .bind(content)
            .bind(now.as_micros())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| $crate::StoreError::from_sqlx(&format!("attachment of contribution {contribution}"), e))?;
            tx.commit().await?;
            Ok(isx_partnership::Attachment {
                id,
                name: name.to_owned(),
                media_type: media_type.to_owned(),
                size: content.len() as u64,
                sha256: sha256.to_owned(),
            })
        }

        pub(crate) async fn attachments_sql(
            &self,
            contribution: isx_partnership::ContributionId,
        ) -> $crate::Result<Vec<isx_partnership::Attachment>> {
            let rows = sqlx::query(
                "SELECT id, name, media_type, size, sha256 FROM contribution_attachments WHERE contribution_id = $1 ORDER BY id",
            )
            .bind(contribution.0)
            .fetch_all(&self.pool)
            .await?;
            rows.into_iter()
                .map(|r| {
                    Ok(isx_partnership::Attachment {
                        id: impl_store!(@at r, 0, i64),
                        name: impl_store!(@at r, 1, String),
                        media_type: impl_store!(@at r, 2, String),
                        size: u64::try_from(impl_store!(@at r, 3, i64)).unwrap_or(0),
                        sha256: impl_store!(@at r, 4, String),
                    })
                })
                .collect()
        }

        pub(crate) async fn attachment_sql(
            &self,
            id: i64,
        ) -> $crate::Result<Option<(isx_partnership::ContributionId, isx_partnership::Attachment, Vec<u8>)>> {
            let row = sqlx::query(
                "SELECT contribution_id, name, media_type, size, sha256, content FROM contribution_attachments WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
            Ok(match row {
                None => None,
                Some(r) => Some((
                    isx_partnership::ContributionId(impl_store!(@at r, 0, i64)),
                    isx_partnership::Attachment {
                        id,
                        name: impl_store!(@at r, 1, String),
                        media_type: impl_store!(@at r, 2, String),
                        size: u64::try_from(impl_store!(@at r, 3, i64)).unwrap_or(0),
                        sha256: impl_store!(@at r, 4, String),
                    },
                    impl_store!(@at r, 5, Vec<u8>),
                )),
            })
        }

        pub(crate) async fn insert_share_sql(
            &self,
            contribution: isx_partnership::ContributionId,
            target: isx_partnership::ShareTarget,
            by: isx_domain::MemberId,
            reason: &str,
            now: isx_domain::Timestamp,
        ) -> $crate::Result<isx_partnership::ShareRequest> {
            let target_json = serde_json::to_string(&target)
                .map_err(|e| $crate::StoreError::Corrupt(format!("share target: {e}")))?;
            let mut tx = self.begin_write().await?;
            let pending: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM share_requests WHERE contribution_id = $1 AND target = $2 AND status <> 'rejected'",
            )
            .bind(contribution.0)
            .bind(&target_json)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(existing) = pending {
                return Err($crate::StoreError::Conflict(format!(
                    "share request {existing} for this contribution and target"
                )));
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO share_requests (contribution_id, target, requested_by, requested_at, reason, status)
                 VALUES ($1, $2, $3, $4, $5, 'pending') RETURNING id",
            )
            .bind(contribution.0)
            .bind(&target_json)
            .bind(by.0)
            .bind(now.as_micros())
            .bind(reason)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| $crate::StoreError::from_sqlx("share request", e))?;
            tx.commit().await?;
            self.share_sql(id)
                .await?
                .ok_or_else(|| $crate::StoreError::NotFound(format!("share request {id}")))
        }

        pub(crate) async fn share_sql(&self, id: i64) -> $crate::Result<Option<isx_partnership::ShareRequest>> {
            let row = sqlx::query(&$crate::sql_partnership::share_select("WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            row.map(|r| share_row!(r)).transpose()
        }

        pub(crate) async fn shares_sql(&self) -> $crate::Result<Vec<isx_partnership::ShareRequest>> {
            let rows = sqlx::query(&$crate::sql_partnership::share_select("ORDER BY id DESC"))
                .fetch_all(&self.pool)
                .await?;
            rows.into_iter().map(|r| share_row!(r)).collect()
        }

        pub(crate) async fn decide_share_sql(
            &self,
            id: i64,
            approve: bool,
            copy: Option<(&$crate::NewContributionRow<'_>, &[$crate::NewExchangeObject])>,
            now: isx_domain::Timestamp,
        ) -> $crate::Result<isx_partnership::ShareRequest> {
            let mut tx = self.begin_write().await?;
            let copy_id = match copy {
                Some((row, stix)) if approve => Some(contribution_insert!(Self, tx, row, stix, now)),
                _ => None,
            };
            let done = sqlx::query(
                "UPDATE share_requests SET status = $1, decided_at = $2, copy_id = $3 WHERE id = $4 AND status = 'pending'",
            )
            .bind(if approve { "approved" } else { "rejected" })
            .bind(now.as_micros())
            .bind(copy_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err($crate::StoreError::Conflict(format!(
                    "a decision on share request {id}"
                )));
            }
            tx.commit().await?;
            self.share_sql(id)
                .await?
                .ok_or_else(|| $crate::StoreError::NotFound(format!("share request {id}")))
        }

        pub(crate) async fn group_rules_sql(
            &self,
            group: isx_domain::GroupId,
        ) -> $crate::Result<isx_partnership::GroupRules> {
            let body: Option<String> = sqlx::query_scalar("SELECT body FROM group_rules WHERE group_id = $1")
                .bind(group.0)
                .fetch_optional(&self.pool)
                .await?;
            match body {
                None => Ok(isx_partnership::GroupRules { report_period_days: 30, ..Default::default() }),
                Some(b) => serde_json::from_str(&b)
                    .map_err(|e| $crate::StoreError::Corrupt(format!("group rules: {e}"))),
            }
        }

        pub(crate) async fn put_group_rules_sql(
            &self,
            group: isx_domain::GroupId,
            rules: &isx_partnership::GroupRules,
        ) -> $crate::Result<()> {
            let body = serde_json::to_string(rules)
                .map_err(|e| $crate::StoreError::Corrupt(format!("group rules: {e}")))?;
            let mut tx = self.begin_write().await?;
            sqlx::query(
                "INSERT INTO group_rules (group_id, body) VALUES ($1, $2)
                 ON CONFLICT (group_id) DO UPDATE SET body = excluded.body",
            )
            .bind(group.0)
            .bind(&body)
            .execute(&mut *tx)
            .await
            .map_err(|e| $crate::StoreError::from_sqlx(&format!("rules of trust group {group}"), e))?;
            tx.commit().await?;
            Ok(())
        }

        pub(crate) async fn prune_contributions_sql(
            &self,
            group: isx_domain::GroupId,
            before: isx_domain::Timestamp,
        ) -> $crate::Result<u64> {
            let mut tx = self.begin_write().await?;
            let ids: Vec<(i64, String)> = sqlx::query_as(
                "SELECT id, stix_id FROM contributions WHERE group_id = $1 AND updated_at < $2",
            )
            .bind(group.0)
            .bind(before.as_micros())
            .fetch_all(&mut *tx)
            .await?;
            let collection = $crate::sql_partnership::group_collection(group);
            if let Some(lock) = <$ty>::EXCHANGE_LOCK {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            for (id, stix_id) in &ids {
                let notes: Vec<String> = sqlx::query_scalar("SELECT stix_id FROM contribution_comments WHERE contribution_id = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
                for object in notes.iter().chain(std::iter::once(stix_id)) {
                    sqlx::query("DELETE FROM exchange_objects WHERE collection = $1 AND object_id = $2")
                        .bind(&collection)
                        .bind(object)
                        .execute(&mut *tx)
                        .await?;
                }
                for table in ["share_requests", "contribution_attachments", "contribution_comments", "contribution_versions"] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE contribution_id = $1"))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("DELETE FROM contributions WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(ids.len() as u64)
        }
        }
    };
}
