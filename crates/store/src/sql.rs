//! The queries that read the same on SQLite and PostgreSQL, written once.
//!
//! `impl_store!` expands to a complete `impl Store` for a backend type that
//! has a `pool` field; the backend passes in the methods it implements
//! itself (backend, migrate, ping). Both engines accept `$N` placeholders,
//! `RETURNING` and `ON CONFLICT … DO UPDATE`.

macro_rules! impl_store {
    ($ty:ty, { $($own:tt)* }) => {
        #[async_trait::async_trait]
        impl $crate::Store for $ty {
            $($own)*

            async fn insert_member(&self, new: &isx_domain::NewMember, now: isx_domain::Timestamp) -> $crate::Result<isx_domain::Member> {
                let row = sqlx::query(
                    "INSERT INTO members (name, kind, country, tier, clearance, constituency, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(new.name.as_str())
                .bind(new.kind.as_str())
                .bind(new.country.map(|c| c.as_str().to_owned()))
                .bind(new.tier.as_str())
                .bind(new.clearance.as_str())
                .bind($crate::rows::constituency_json(&new.constituency))
                .bind(now.as_micros())
                .fetch_one(&self.pool)
                .await
                .map_err(|e| $crate::StoreError::from_sqlx(&format!("member {:?}", new.name.as_str()), e))?;
                let id: i64 = sqlx::Row::try_get(&row, "id")?;
                self.member(isx_domain::MemberId(id))
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("member {id}")))
            }

            async fn update_member(&self, id: isx_domain::MemberId, new: &isx_domain::NewMember) -> $crate::Result<isx_domain::Member> {
                let done = sqlx::query(
                    "UPDATE members SET name = $1, kind = $2, country = $3, tier = $4, clearance = $5, constituency = $6
                     WHERE id = $7",
                )
                .bind(new.name.as_str())
                .bind(new.kind.as_str())
                .bind(new.country.map(|c| c.as_str().to_owned()))
                .bind(new.tier.as_str())
                .bind(new.clearance.as_str())
                .bind($crate::rows::constituency_json(&new.constituency))
                .bind(id.0)
                .execute(&self.pool)
                .await
                .map_err(|e| $crate::StoreError::from_sqlx(&format!("member {:?}", new.name.as_str()), e))?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("member {id}")));
                }
                self.member(id)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("member {id}")))
            }

            async fn member(&self, id: isx_domain::MemberId) -> $crate::Result<Option<isx_domain::Member>> {
                let row = sqlx::query(concat!("SELECT ", impl_store!(@member_cols), " FROM members WHERE id = $1"))
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| impl_store!(@member r)).transpose()
            }

            async fn member_by_name(&self, name: &str) -> $crate::Result<Option<isx_domain::Member>> {
                let row = sqlx::query(concat!("SELECT ", impl_store!(@member_cols), " FROM members WHERE name = $1"))
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| impl_store!(@member r)).transpose()
            }

            async fn members(&self) -> $crate::Result<Vec<isx_domain::Member>> {
                let rows = sqlx::query(concat!("SELECT ", impl_store!(@member_cols), " FROM members ORDER BY id"))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(|r| impl_store!(@member r)).collect()
            }

            async fn insert_user(&self, new: &isx_domain::NewUser, now: isx_domain::Timestamp) -> $crate::Result<isx_domain::User> {
                let row = sqlx::query(
                    "INSERT INTO users (login, member_id, role, password_hash, created_at)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(new.login.as_str())
                .bind(new.member.0)
                .bind(new.role.as_str())
                .bind(&new.password_hash)
                .bind(now.as_micros())
                .fetch_one(&self.pool)
                .await
                .map_err(|e| $crate::StoreError::from_sqlx(&format!("user {:?}", new.login.as_str()), e))?;
                let id: i64 = sqlx::Row::try_get(&row, "id")?;
                self.user(isx_domain::UserId(id))
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("user {id}")))
            }

            async fn user(&self, id: isx_domain::UserId) -> $crate::Result<Option<isx_domain::User>> {
                let row = sqlx::query(concat!("SELECT ", impl_store!(@user_cols), " FROM users WHERE id = $1"))
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| impl_store!(@user r)).transpose()
            }

            async fn user_by_login(&self, login: &isx_domain::Login) -> $crate::Result<Option<isx_domain::User>> {
                let row = sqlx::query(concat!("SELECT ", impl_store!(@user_cols), " FROM users WHERE login = $1"))
                    .bind(login.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| impl_store!(@user r)).transpose()
            }

            async fn users(&self) -> $crate::Result<Vec<isx_domain::User>> {
                let rows = sqlx::query(concat!("SELECT ", impl_store!(@user_cols), " FROM users ORDER BY id"))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(|r| impl_store!(@user r)).collect()
            }

            async fn set_user_disabled(&self, id: isx_domain::UserId, at: Option<isx_domain::Timestamp>) -> $crate::Result<u64> {
                let mut tx = self.begin_write().await?;
                sqlx::query("UPDATE users SET disabled_at = $2 WHERE id = $1")
                    .bind(id.0)
                    .bind(at.map(|t| t.as_micros()))
                    .execute(&mut *tx)
                    .await?;
                let mut ended = 0;
                if at.is_some() {
                    ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                        .bind(id.0)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                tx.commit().await?;
                Ok(ended)
            }

            async fn delete_sessions_of(&self, user: isx_domain::UserId) -> $crate::Result<u64> {
                let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user.0)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn insert_api_key(&self, new: &isx_domain::NewApiKey, now: isx_domain::Timestamp) -> $crate::Result<isx_domain::ApiKey> {
                sqlx::query(
                    "INSERT INTO api_keys (key_id, member_id, name, secret_hash, created_at, expires_at, role, parent_key, creator_user)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(new.key_id.as_str())
                .bind(new.member.0)
                .bind(&new.name)
                .bind(&new.secret_hash)
                .bind(now.as_micros())
                .bind(new.expires_at.map(isx_domain::Timestamp::as_micros))
                .bind(new.role.as_str())
                .bind(new.parent.as_ref().map(isx_domain::KeyId::as_str))
                .bind(new.creator.map(|u| u.0))
                .execute(&self.pool)
                .await
                .map_err(|e| $crate::StoreError::from_sqlx(&format!("API key {}", new.key_id), e))?;
                self.api_key(&new.key_id)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("API key {}", new.key_id)))
            }

            async fn api_key(&self, id: &isx_domain::KeyId) -> $crate::Result<Option<isx_domain::ApiKey>> {
                let row = sqlx::query(concat!("SELECT ", impl_store!(@key_cols), " FROM api_keys WHERE key_id = $1"))
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| impl_store!(@key r)).transpose()
            }

            async fn api_key_caller(&self, id: &isx_domain::KeyId) -> $crate::Result<Option<(isx_domain::ApiKey, isx_domain::Member, Vec<isx_domain::GroupId>)>> {
                // One row per membership (one with a NULL group for none).
                let rows = sqlx::query(
                    "SELECT k.key_id, k.member_id, k.name AS key_name, k.secret_hash, k.created_at AS key_created_at,
                            k.expires_at, k.revoked_at, k.last_used_at, k.role AS key_role, k.parent_key, k.creator_user,
                            m.id, m.name, m.kind, m.country, m.tier, m.clearance, m.constituency, m.created_at,
                            g.group_id
                     FROM api_keys k JOIN members m ON m.id = k.member_id
                     LEFT JOIN group_members g ON g.member_id = m.id
                     WHERE k.key_id = $1",
                )
                .bind(id.as_str())
                .fetch_all(&self.pool)
                .await?;
                let mut groups = Vec::new();
                for row in &rows {
                    let g: Option<i64> = sqlx::Row::try_get(row, "group_id")?;
                    groups.extend(g.map(isx_domain::GroupId));
                }
                let Some(r) = rows.into_iter().next() else { return Ok(None) };
                let key = $crate::rows::api_key($crate::rows::KeyColumns {
                    key_id: impl_store!(@get r, "key_id", String),
                    member_id: impl_store!(@get r, "member_id", i64),
                    name: impl_store!(@get r, "key_name", String),
                    secret_hash: impl_store!(@get r, "secret_hash", String),
                    created_at: impl_store!(@get r, "key_created_at", i64),
                    expires_at: impl_store!(@get r, "expires_at", Option<i64>),
                    revoked_at: impl_store!(@get r, "revoked_at", Option<i64>),
                    last_used_at: impl_store!(@get r, "last_used_at", Option<i64>),
                    role: impl_store!(@get r, "key_role", String),
                    parent_key: impl_store!(@get r, "parent_key", Option<String>),
                    creator_user: impl_store!(@get r, "creator_user", Option<i64>),
                })?;
                let member = impl_store!(@member r)?;
                Ok(Some((key, member, groups)))
            }

            async fn api_keys(&self, member: Option<isx_domain::MemberId>) -> $crate::Result<Vec<isx_domain::ApiKey>> {
                let rows = sqlx::query(concat!(
                    "SELECT ", impl_store!(@key_cols),
                    " FROM api_keys WHERE ($1 IS NULL OR member_id = $1) ORDER BY created_at DESC, key_id"
                ))
                .bind(member.map(|m| m.0))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(|r| impl_store!(@key r)).collect()
            }

            async fn revoke_api_key(&self, id: &isx_domain::KeyId, now: isx_domain::Timestamp) -> $crate::Result<bool> {
                // The keys it minted go with it, and theirs: a key never outlives
                // the authority of the key that made it.
                let done = sqlx::query(
                    "WITH RECURSIVE tree(id) AS (
                         SELECT CAST($2 AS TEXT)
                         UNION SELECT k.key_id FROM api_keys k JOIN tree t ON k.parent_key = t.id
                     )
                     UPDATE api_keys SET revoked_at = $1
                     WHERE key_id IN (SELECT id FROM tree) AND revoked_at IS NULL",
                )
                    .bind(now.as_micros())
                    .bind(id.as_str())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() >= 1)
            }

            async fn touch_api_key(&self, id: &isx_domain::KeyId, now: isx_domain::Timestamp) -> $crate::Result<()> {
                sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE key_id = $2")
                    .bind(now.as_micros())
                    .bind(id.as_str())
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn insert_group(
                &self,
                new: &isx_domain::NewTrustGroup,
                owner: isx_domain::MemberId,
                now: isx_domain::Timestamp,
            ) -> $crate::Result<isx_domain::TrustGroup> {
                let (kind, agreement, min_clearance, ends_at) = $crate::rows::group_kind_columns(&new.kind);
                let what = format!("trust group {:?}", new.name);
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
                    "INSERT INTO trust_groups (name, description, kind, agreement, min_clearance, ends_at, hide_members, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(&new.name)
                .bind(&new.description)
                .bind(kind)
                .bind(agreement)
                .bind(min_clearance)
                .bind(ends_at)
                .bind(new.hide_members)
                .bind(now.as_micros())
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| $crate::StoreError::from_sqlx(&what, e))?;
                let id: i64 = sqlx::Row::try_get(&row, "id")?;
                sqlx::query("INSERT INTO group_members (group_id, member_id, role, joined_at) VALUES ($1, $2, $3, $4)")
                    .bind(id)
                    .bind(owner.0)
                    .bind(isx_domain::GroupRole::Owner.as_str())
                    .bind(now.as_micros())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| $crate::StoreError::from_sqlx(&format!("owner of {what}"), e))?;
                tx.commit().await?;
                self.group(isx_domain::GroupId(id))
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("trust group {id}")))
            }

            async fn group(&self, id: isx_domain::GroupId) -> $crate::Result<Option<isx_domain::TrustGroup>> {
                let row = sqlx::query(concat!("SELECT ", impl_store!(@group_cols), " FROM trust_groups WHERE id = $1"))
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| impl_store!(@group r)).transpose()
            }

            async fn group_by_name(&self, name: &str) -> $crate::Result<Option<isx_domain::TrustGroup>> {
                let row = sqlx::query(concat!("SELECT ", impl_store!(@group_cols), " FROM trust_groups WHERE name = $1"))
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| impl_store!(@group r)).transpose()
            }

            async fn groups(&self) -> $crate::Result<Vec<isx_domain::TrustGroup>> {
                let rows = sqlx::query(concat!("SELECT ", impl_store!(@group_cols), " FROM trust_groups ORDER BY id"))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(|r| impl_store!(@group r)).collect()
            }

            async fn put_group_member(
                &self,
                group: isx_domain::GroupId,
                member: isx_domain::MemberId,
                role: isx_domain::GroupRole,
                now: isx_domain::Timestamp,
            ) -> $crate::Result<isx_domain::GroupMembership> {
                let row = sqlx::query(
                    "INSERT INTO group_members (group_id, member_id, role, joined_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (group_id, member_id) DO UPDATE SET role = excluded.role
                     RETURNING group_id, member_id, role, joined_at",
                )
                .bind(group.0)
                .bind(member.0)
                .bind(role.as_str())
                .bind(now.as_micros())
                .fetch_one(&self.pool)
                .await
                .map_err(|e| $crate::StoreError::from_sqlx(&format!("membership of member {member} in group {group}"), e))?;
                impl_store!(@membership row)
            }

            async fn remove_group_member(
                &self,
                group: isx_domain::GroupId,
                member: isx_domain::MemberId,
            ) -> $crate::Result<bool> {
                // Never the last owner: a group always has someone to run it.
                let done = sqlx::query(
                    "DELETE FROM group_members WHERE group_id = $1 AND member_id = $2
                       AND (role <> 'owner'
                            OR (SELECT COUNT(*) FROM group_members WHERE group_id = $1 AND role = 'owner') > 1)",
                )
                .bind(group.0)
                .bind(member.0)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn group_members(&self, group: isx_domain::GroupId) -> $crate::Result<Vec<isx_domain::GroupMembership>> {
                let rows = sqlx::query("SELECT group_id, member_id, role, joined_at FROM group_members WHERE group_id = $1 ORDER BY member_id")
                    .bind(group.0)
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(|r| impl_store!(@membership r)).collect()
            }

            async fn memberships_of(&self, member: isx_domain::MemberId) -> $crate::Result<Vec<isx_domain::GroupMembership>> {
                let rows = sqlx::query("SELECT group_id, member_id, role, joined_at FROM group_members WHERE member_id = $1 ORDER BY group_id")
                    .bind(member.0)
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(|r| impl_store!(@membership r)).collect()
            }

            async fn insert_session(&self, s: &$crate::Session) -> $crate::Result<()> {
                sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&s.token_hash)
                    .bind(s.user.0)
                    .bind(&s.csrf_token)
                    .bind(s.created_at.as_micros())
                    .bind(s.expires_at.as_micros())
                    .execute(&self.pool)
                    .await
                    .map_err(|e| $crate::StoreError::from_sqlx("session", e))?;
                Ok(())
            }

            async fn session(&self, token_hash: &str) -> $crate::Result<Option<$crate::Session>> {
                let row = sqlx::query("SELECT token_hash, user_id, csrf_token, created_at, expires_at FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| -> $crate::Result<$crate::Session> {
                    Ok($crate::Session {
                        token_hash: impl_store!(@get r, "token_hash", String),
                        user: isx_domain::UserId(impl_store!(@get r, "user_id", i64)),
                        csrf_token: impl_store!(@get r, "csrf_token", String),
                        created_at: isx_domain::Timestamp::from_micros(impl_store!(@get r, "created_at", i64)),
                        expires_at: isx_domain::Timestamp::from_micros(impl_store!(@get r, "expires_at", i64)),
                    })
                })
                .transpose()
            }

            async fn delete_session(&self, token_hash: &str) -> $crate::Result<()> {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_expired_sessions(&self, now: isx_domain::Timestamp) -> $crate::Result<u64> {
                let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                    .bind(now.as_micros())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn insert_release(&self, new: &isx_advisories::NewRelease, now: isx_domain::Timestamp) -> $crate::Result<isx_advisories::Release> {
                let row = sqlx::query(
                    "INSERT INTO releases (title, release_at, notes, status, marking, revisions, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(new.title.trim())
                .bind(new.release_at.as_micros())
                .bind(&new.notes)
                .bind(new.status.as_str())
                .bind(new.marking.as_str())
                .bind("[]")
                .bind(now.as_micros())
                .fetch_one(&self.pool)
                .await
                .map_err(|e| $crate::StoreError::from_sqlx("release", e))?;
                let id: i64 = sqlx::Row::try_get(&row, "id")?;
                self.release(id).await?.ok_or_else(|| $crate::StoreError::NotFound(format!("release {id}")))
            }

            async fn update_release(&self, r: &isx_advisories::Release) -> $crate::Result<isx_advisories::Release> {
                let done = sqlx::query(
                    "UPDATE releases SET title = $1, release_at = $2, notes = $3, status = $4, marking = $5, revisions = $6 WHERE id = $7",
                )
                .bind(&r.title)
                .bind(r.release_at.as_micros())
                .bind(&r.notes)
                .bind(r.status.as_str())
                .bind(r.marking.as_str())
                .bind($crate::rows::json(&r.revisions))
                .bind(r.id)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("release {}", r.id)));
                }
                self.release(r.id).await?.ok_or_else(|| $crate::StoreError::NotFound(format!("release {}", r.id)))
            }

            async fn release(&self, id: i64) -> $crate::Result<Option<isx_advisories::Release>> {
                let row = sqlx::query(concat!("SELECT ", impl_store!(@release_cols), " FROM releases WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| impl_store!(@release r)).transpose()
            }

            async fn releases(&self) -> $crate::Result<Vec<isx_advisories::Release>> {
                let rows = sqlx::query(concat!("SELECT ", impl_store!(@release_cols), " FROM releases ORDER BY release_at DESC, id DESC"))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(|r| impl_store!(@release r)).collect()
            }

            async fn put_advisories(
                &self,
                release: i64,
                advisories: &[isx_advisories::Advisory],
                summary: &str,
                now: isx_domain::Timestamp,
            ) -> $crate::Result<$crate::PutOutcome> {
                let mut out = $crate::PutOutcome::default();
                let mut tx = self.begin_write().await?;
                for a in advisories {
                    let cve = a.cve.as_str();
                    let existing = sqlx::query("SELECT release_id, body FROM advisories WHERE cve = $1")
                        .bind(cve)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let mut stored = a.clone();
                    match existing {
                        None => {
                            if stored.revisions.is_empty() {
                                stored.revisions.push(isx_advisories::Revision { number: 1, date: now, summary: summary.to_owned(), exploitability_only: false });
                            }
                            sqlx::query("INSERT INTO advisories (cve, release_id, body, revision, updated_at) VALUES ($1, $2, $3, $4, $5)")
                                .bind(cve)
                                .bind(release)
                                .bind($crate::rows::json(&stored))
                                .bind(i64::from(stored.revision()))
                                .bind(now.as_micros())
                                .execute(&mut *tx)
                                .await
                                .map_err(|e| $crate::StoreError::from_sqlx(&format!("advisory {cve}"), e))?;
                            out.created += 1;
                        }
                        Some(row) => {
                            let owner: i64 = impl_store!(@get row, "release_id", i64);
                            if owner != release {
                                return Err($crate::StoreError::Conflict(format!("{cve} in release {owner}")));
                            }
                            let old = $crate::rows::advisory(&impl_store!(@get row, "body", String), None)?;
                            let incoming = isx_advisories::Advisory { revisions: old.revisions.clone(), ..stored.clone() };
                            if old.same_content(&incoming) {
                                out.unchanged += 1;
                                continue;
                            }
                            stored.revisions = old.revisions.clone();
                            let next = old.revision() + 1;
                            // A revision that only changes exploitability data
                            // is withheld with that data (see `Advisory::masked`).
                            let exploitability_only = old.differs_only_in_exploitability(&incoming);
                            stored.revisions.push(isx_advisories::Revision { number: next, date: now, summary: summary.to_owned(), exploitability_only });
                            sqlx::query("UPDATE advisories SET body = $1, revision = $2, updated_at = $3 WHERE cve = $4")
                                .bind($crate::rows::json(&stored))
                                .bind(i64::from(next))
                                .bind(now.as_micros())
                                .bind(cve)
                                .execute(&mut *tx)
                                .await?;
                            out.revised += 1;
                        }
                    }
                }
                tx.commit().await?;
                Ok(out)
            }

            async fn advisories(&self, release: Option<i64>) -> $crate::Result<Vec<(i64, isx_advisories::Advisory)>> {
                let rows = sqlx::query(
                    "SELECT a.release_id, a.body, k.body AS kev FROM advisories a LEFT JOIN known_exploited k ON k.cve = a.cve
                     WHERE ($1 IS NULL OR a.release_id = $1) ORDER BY a.cve",
                )
                .bind(release)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|r| -> $crate::Result<(i64, isx_advisories::Advisory)> {
                        let kev = impl_store!(@get r, "kev", Option<String>);
                        Ok((impl_store!(@get r, "release_id", i64), $crate::rows::advisory(&impl_store!(@get r, "body", String), kev.as_deref())?))
                    })
                    .collect()
            }

            async fn advisory_release(&self, cve: &isx_advisories::CveId) -> $crate::Result<Option<i64>> {
                sqlx::query_scalar("SELECT release_id FROM advisories WHERE cve = $1")
                    .bind(cve.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::StoreError::Database)
            }

            async fn advisory(&self, cve: &isx_advisories::CveId) -> $crate::Result<Option<(i64, isx_advisories::Advisory)>> {
                let row = sqlx::query(
                    "SELECT a.release_id, a.body, k.body AS kev FROM advisories a LEFT JOIN known_exploited k ON k.cve = a.cve WHERE a.cve = $1",
                )
                .bind(cve.as_str())
                .fetch_optional(&self.pool)
                .await?;
                row.map(|r| -> $crate::Result<(i64, isx_advisories::Advisory)> {
                    let kev = impl_store!(@get r, "kev", Option<String>);
                    Ok((impl_store!(@get r, "release_id", i64), $crate::rows::advisory(&impl_store!(@get r, "body", String), kev.as_deref())?))
                })
                .transpose()
            }

            async fn put_known_exploited(&self, records: &[isx_advisories::KevRecord]) -> $crate::Result<usize> {
                let mut changed = 0;
                let mut tx = self.begin_write().await?;
                for k in records {
                    let body = $crate::rows::json(&k.known);
                    let done = sqlx::query(
                        "INSERT INTO known_exploited (cve, vendor, product, name, body) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (cve) DO UPDATE SET vendor = excluded.vendor, product = excluded.product, name = excluded.name, body = excluded.body
                         WHERE known_exploited.body <> excluded.body OR known_exploited.name <> excluded.name",
                    )
                    .bind(k.cve.as_str())
                    .bind(&k.vendor)
                    .bind(&k.product)
                    .bind(&k.name)
                    .bind(&body)
                    .execute(&mut *tx)
                    .await?;
                    changed += done.rows_affected() as usize;
                }
                tx.commit().await?;
                Ok(changed)
            }

            async fn notify(&self, n: &$crate::Notification, payload: &str) -> $crate::Result<bool> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
                    "INSERT INTO notifications (member_id, release_id, kind, version, at, message) VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (member_id, release_id, kind, version) DO NOTHING RETURNING id",
                )
                .bind(n.member.0)
                .bind(n.release)
                .bind(&n.kind)
                .bind(n.version)
                .bind(n.at.as_micros())
                .bind(&n.message)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| $crate::StoreError::from_sqlx("notification", e))?;
                let Some(row) = row else {
                    tx.commit().await?;
                    return Ok(false);
                };
                let id: i64 = impl_store!(@get row, "id", i64);
                let hook = sqlx::query("SELECT url FROM webhooks WHERE member_id = $1")
                    .bind(n.member.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(h) = hook {
                    sqlx::query(
                        "INSERT INTO webhook_deliveries (notification_id, member_id, url, payload, attempts, next_attempt_at, status)
                         VALUES ($1, $2, $3, $4, 0, $5, 'pending')",
                    )
                    .bind(id)
                    .bind(n.member.0)
                    .bind(impl_store!(@get h, "url", String))
                    .bind(payload)
                    .bind(n.at.as_micros())
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn notified(&self, release: i64) -> $crate::Result<Vec<(isx_domain::MemberId, String, i64)>> {
                let rows = sqlx::query("SELECT member_id, kind, version FROM notifications WHERE release_id = $1")
                    .bind(release)
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter()
                    .map(|r| -> $crate::Result<_> {
                        Ok((isx_domain::MemberId(impl_store!(@get r, "member_id", i64)), impl_store!(@get r, "kind", String), impl_store!(@get r, "version", i64)))
                    })
                    .collect()
            }

            async fn notifications(&self, member: isx_domain::MemberId, limit: u32) -> $crate::Result<Vec<$crate::Notification>> {
                let rows = sqlx::query(
                    "SELECT id, member_id, release_id, kind, version, at, message FROM notifications WHERE member_id = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(member.0)
                .bind(i64::from(limit.clamp(1, 1000)))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|r| -> $crate::Result<$crate::Notification> {
                        Ok($crate::Notification {
                            id: impl_store!(@get r, "id", i64),
                            member: isx_domain::MemberId(impl_store!(@get r, "member_id", i64)),
                            release: impl_store!(@get r, "release_id", i64),
                            kind: impl_store!(@get r, "kind", String),
                            version: impl_store!(@get r, "version", i64),
                            at: isx_domain::Timestamp::from_micros(impl_store!(@get r, "at", i64)),
                            message: impl_store!(@get r, "message", String),
                        })
                    })
                    .collect()
            }

            async fn put_webhook(&self, hook: &$crate::Webhook, now: isx_domain::Timestamp) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO webhooks (member_id, url, secret, created_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (member_id) DO UPDATE SET url = excluded.url, secret = excluded.secret",
                )
                .bind(hook.member.0)
                .bind(&hook.url)
                .bind(&hook.secret)
                .bind(now.as_micros())
                .execute(&self.pool)
                .await
                .map_err(|e| $crate::StoreError::from_sqlx("webhook", e))?;
                Ok(())
            }

            async fn webhook(&self, member: isx_domain::MemberId) -> $crate::Result<Option<$crate::Webhook>> {
                let row = sqlx::query("SELECT member_id, url, secret FROM webhooks WHERE member_id = $1")
                    .bind(member.0)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| -> $crate::Result<$crate::Webhook> {
                    Ok($crate::Webhook {
                        member: isx_domain::MemberId(impl_store!(@get r, "member_id", i64)),
                        url: impl_store!(@get r, "url", String),
                        secret: impl_store!(@get r, "secret", String),
                    })
                })
                .transpose()
            }

            async fn due_deliveries(&self, now: isx_domain::Timestamp, limit: u32) -> $crate::Result<Vec<$crate::Delivery>> {
                let rows = sqlx::query(concat!("SELECT ", impl_store!(@delivery_cols), " FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2"))
                    .bind(now.as_micros())
                    .bind(i64::from(limit.clamp(1, 1000)))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(|r| impl_store!(@delivery r)).collect()
            }

            async fn claim_delivery(&self, id: i64, now: isx_domain::Timestamp, lease_until: isx_domain::Timestamp) -> $crate::Result<bool> {
                let done = sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = $2 AND status = 'pending' AND next_attempt_at <= $3")
                    .bind(lease_until.as_micros())
                    .bind(id)
                    .bind(now.as_micros())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn finish_delivery(&self, d: &$crate::Delivery) -> $crate::Result<()> {
                sqlx::query("UPDATE webhook_deliveries SET attempts = $1, next_attempt_at = $2, status = $3, last_error = $4, delivered_at = $5 WHERE id = $6")
                    .bind(d.attempts)
                    .bind(d.next_attempt_at.as_micros())
                    .bind(&d.status)
                    .bind(&d.last_error)
                    .bind(d.delivered_at.map(isx_domain::Timestamp::as_micros))
                    .bind(d.id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn deliveries(&self, member: Option<isx_domain::MemberId>, limit: u32) -> $crate::Result<Vec<$crate::Delivery>> {
                let rows = sqlx::query(concat!("SELECT ", impl_store!(@delivery_cols), " FROM webhook_deliveries WHERE ($1 IS NULL OR member_id = $1) ORDER BY id DESC LIMIT $2"))
                    .bind(member.map(|m| m.0))
                    .bind(i64::from(limit.clamp(1, 1000)))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(|r| impl_store!(@delivery r)).collect()
            }

            async fn append_audit(&self, e: &isx_domain::NewAuditEvent) -> $crate::Result<i64> {
                let row = sqlx::query(
                    "INSERT INTO audit_log (at, actor, member_id, action, target, source_ip, outcome)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(e.at.as_micros())
                .bind(&e.actor)
                .bind(e.member.map(|m| m.0))
                .bind(&e.action)
                .bind(&e.target)
                .bind(&e.source_ip)
                .bind(&e.outcome)
                .fetch_one(&self.pool)
                .await?;
                sqlx::Row::try_get(&row, "id").map_err($crate::StoreError::Database)
            }

            async fn check_writable(&self) -> $crate::Result<()> {
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
                    let q = sqlx::query(q).bind(now);
                    let q = if padded { q.bind(vec![0u8; 65_536]) } else { q };
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await.map_err($crate::StoreError::Database)
            }

            async fn append_audit_batch(&self, events: &[isx_domain::NewAuditEvent]) -> $crate::Result<()> {
                let mut tx = self.begin_write().await?;
                for e in events {
                    sqlx::query(
                        "INSERT INTO audit_log (at, actor, member_id, action, target, source_ip, outcome)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(e.at.as_micros())
                    .bind(&e.actor)
                    .bind(e.member.map(|m| m.0))
                    .bind(&e.action)
                    .bind(&e.target)
                    .bind(&e.source_ip)
                    .bind(&e.outcome)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await.map_err($crate::StoreError::Database)
            }

            async fn audit_events(&self, q: &$crate::AuditQuery) -> $crate::Result<Vec<isx_domain::AuditEvent>> {
                let limit = i64::from(q.limit.clamp(1, 10_000));
                let rows = sqlx::query(
                    "SELECT id, at, actor, member_id, action, target, source_ip, outcome FROM audit_log
                     WHERE ($1 IS NULL OR member_id = $1) AND ($2 IS NULL OR id < $2)
                     ORDER BY id DESC LIMIT $3",
                )
                .bind(q.member.map(|m| m.0))
                .bind(q.before_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|r| -> $crate::Result<isx_domain::AuditEvent> {
                        Ok(isx_domain::AuditEvent {
                            id: impl_store!(@get r, "id", i64),
                            event: isx_domain::NewAuditEvent {
                                at: isx_domain::Timestamp::from_micros(impl_store!(@get r, "at", i64)),
                                actor: impl_store!(@get r, "actor", String),
                                member: impl_store!(@get r, "member_id", Option<i64>).map(isx_domain::MemberId),
                                action: impl_store!(@get r, "action", String),
                                target: impl_store!(@get r, "target", String),
                                source_ip: impl_store!(@get r, "source_ip", Option<String>),
                                outcome: impl_store!(@get r, "outcome", String),
                            },
                        })
                    })
                    .collect()
            }

            async fn url_records(&self, q: &$crate::UrlQuery) -> $crate::Result<Vec<isx_urls::UrlRecord>> {
                self.url_records_sql(q).await
            }
            async fn for_each_url(&self, q: &$crate::UrlQuery, f: &mut (dyn FnMut(isx_urls::UrlRecord) -> std::io::Result<()> + Send)) -> $crate::Result<u64> {
                self.for_each_url_sql(q, f).await
            }
            async fn url_record(&self, id: i64) -> $crate::Result<Option<isx_urls::UrlRecord>> {
                self.url_record_sql(id).await
            }
            async fn url_stats(&self, q: &$crate::UrlQuery) -> $crate::Result<$crate::UrlStats> {
                self.url_stats_sql(q).await
            }
            async fn last_feed_run(&self, product: &str) -> $crate::Result<Option<$crate::FeedRun>> {
                self.last_feed_run_sql(product).await
            }
            async fn feed_run_before(&self, product: &str, slot: isx_domain::Timestamp) -> $crate::Result<Option<$crate::FeedRun>> {
                self.feed_run_before_sql(product, slot).await
            }
            async fn claim_feed_run(&self, product: &str, slot: isx_domain::Timestamp, node: &str, now: isx_domain::Timestamp, lease_until: isx_domain::Timestamp) -> $crate::Result<bool> {
                self.claim_feed_run_sql(product, slot, node, now, lease_until).await
            }
            async fn finish_feed_run(&self, run: &$crate::FeedRun, files: &[$crate::FeedFile]) -> $crate::Result<()> {
                self.finish_feed_run_sql(run, files).await
            }
            async fn feed_files(&self, product: &str, limit: u32) -> $crate::Result<Vec<$crate::FeedFile>> {
                self.feed_files_sql(product, limit).await
            }
            async fn feed_file(&self, name: &str) -> $crate::Result<Option<$crate::FeedFile>> {
                self.feed_file_sql(name).await
            }
            async fn member_feed_files(&self, product: &str, member: Option<isx_domain::MemberId>, limit: u32) -> $crate::Result<Vec<$crate::FeedFile>> {
                self.member_feed_files_sql(product, member, limit).await
            }
            async fn botnet_events(&self, q: &$crate::BotnetQuery) -> $crate::Result<Vec<$crate::StoredBotnetEvent>> {
                self.botnet_events_sql(q).await
            }
            async fn for_each_botnet_event(
                &self,
                q: &$crate::BotnetQuery,
                f: &mut (dyn FnMut($crate::StoredBotnetEvent) -> std::io::Result<()> + Send),
            ) -> $crate::Result<u64> {
                self.for_each_botnet_event_sql(q, f).await
            }
            async fn zone_serial(&self, name: &str, sha256: &str, now: isx_domain::Timestamp) -> $crate::Result<i64> {
                self.zone_serial_sql(name, sha256, now).await
            }
            async fn prune_botnet_events(&self, before: isx_domain::Timestamp) -> $crate::Result<u64> {
                self.prune_botnet_events_sql(before).await
            }
            async fn import_clean_files(&self, files: &[isx_cleanfiles::CleanFile], now: isx_domain::Timestamp) -> $crate::Result<$crate::CleanImportOutcome> {
                self.import_clean_files_sql(files, now).await
            }
            async fn remove_clean_files(&self, sha256: &[isx_cleanfiles::Sha256], now: isx_domain::Timestamp) -> $crate::Result<u64> {
                self.remove_clean_files_sql(sha256, now).await
            }
            async fn clean_files_by(&self, algo: isx_cleanfiles::HashAlgo, keys: &[Vec<u8>]) -> $crate::Result<Vec<isx_cleanfiles::CleanFile>> {
                self.clean_files_by_sql(algo, keys).await
            }
            async fn clean_changes(&self, after: i64, upto: i64, limit: u32) -> $crate::Result<Vec<$crate::CleanChange>> {
                self.clean_changes_sql(after, upto, limit).await
            }
            async fn clean_seq_before(&self, before: isx_domain::Timestamp) -> $crate::Result<i64> {
                self.clean_seq_before_sql(before).await
            }
            async fn for_each_clean_file(
                &self,
                f: &mut (dyn FnMut(isx_cleanfiles::CleanFile) -> std::io::Result<()> + Send),
            ) -> $crate::Result<u64> {
                self.for_each_clean_file_sql(f).await
            }
            async fn clean_stats(&self) -> $crate::Result<$crate::CleanStats> {
                self.clean_stats_sql().await
            }
            async fn clean_page_json(&self, after: isx_domain::Timestamp, limit: u32) -> $crate::Result<String> {
                self.clean_page_json_sql(after, limit).await
            }
            async fn urls_by_added(
                &self,
                markings: &[isx_domain::Tlp],
                after: isx_domain::Timestamp,
                limit: u32,
            ) -> $crate::Result<Vec<isx_urls::UrlRecord>> {
                self.urls_by_added_sql(markings, after, limit).await
            }
            async fn exchange_add(
                &self,
                collection: &str,
                author: isx_domain::MemberId,
                objects: &[$crate::NewExchangeObject],
                now: isx_domain::Timestamp,
                any_owner: bool,
            ) -> $crate::Result<Vec<$crate::ExchangeAdded>> {
                self.exchange_add_sql(collection, author, objects, now, any_owner).await
            }
            async fn exchange_window_with_bodies(
                &self,
                collection: &str,
                after: isx_domain::Timestamp,
                limit: u32,
            ) -> $crate::Result<(Vec<($crate::ExchangeEntry, String)>, Option<isx_domain::Timestamp>)> {
                self.exchange_window_with_bodies_sql(collection, after, limit).await
            }
            async fn exchange_versions_with_bodies(
                &self,
                collection: &str,
                ids: &[String],
            ) -> $crate::Result<Vec<($crate::ExchangeEntry, String)>> {
                self.exchange_versions_with_bodies_sql(collection, ids).await
            }
            async fn exchange_window(
                &self,
                collection: &str,
                after: isx_domain::Timestamp,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::ExchangeEntry>> {
                self.exchange_window_sql(collection, after, limit).await
            }
            async fn exchange_versions_of(
                &self,
                collection: &str,
                ids: &[String],
            ) -> $crate::Result<Vec<$crate::ExchangeEntry>> {
                self.exchange_versions_of_sql(collection, ids).await
            }
            async fn exchange_delete(
                &self,
                collection: &str,
                id: &str,
                versions: &[isx_domain::Timestamp],
            ) -> $crate::Result<u64> {
                self.exchange_delete_sql(collection, id, versions).await
            }
            async fn put_exchange_status(
                &self,
                id: &str,
                member: isx_domain::MemberId,
                at: isx_domain::Timestamp,
                body: &str,
            ) -> $crate::Result<()> {
                self.put_exchange_status_sql(id, member, at, body).await
            }
            async fn exchange_status(
                &self,
                id: &str,
            ) -> $crate::Result<Option<(isx_domain::MemberId, String)>> {
                self.exchange_status_sql(id).await
            }
            async fn insert_contribution(
                &self,
                row: &$crate::NewContributionRow<'_>,
                stix: &[$crate::NewExchangeObject],
                now: isx_domain::Timestamp,
            ) -> $crate::Result<isx_partnership::Contribution> {
                self.insert_contribution_sql(row, stix, now).await
            }
            async fn update_contribution(
                &self,
                id: isx_partnership::ContributionId,
                editor: isx_domain::MemberId,
                expected_version: u32,
                content: &isx_partnership::NewContribution,
                stix: &[$crate::NewExchangeObject],
                now: isx_domain::Timestamp,
            ) -> $crate::Result<isx_partnership::Contribution> {
                self.update_contribution_sql(id, editor, expected_version, content, stix, now).await
            }
            async fn contribution(&self, id: isx_partnership::ContributionId) -> $crate::Result<Option<isx_partnership::Contribution>> {
                self.contribution_sql(id).await
            }
            async fn contributions(&self, group: Option<isx_domain::GroupId>) -> $crate::Result<Vec<isx_partnership::Contribution>> {
                self.contributions_sql(group).await
            }
            async fn contribution_versions(&self, id: isx_partnership::ContributionId) -> $crate::Result<Vec<isx_partnership::Version>> {
                self.contribution_versions_sql(id).await
            }
            async fn insert_comment(
                &self,
                contribution: &isx_partnership::Contribution,
                author: isx_domain::MemberId,
                new: &isx_partnership::NewComment,
                stix_id: &str,
                stix: &[$crate::NewExchangeObject],
                now: isx_domain::Timestamp,
            ) -> $crate::Result<isx_partnership::Comment> {
                self.insert_comment_sql(contribution, author, new, stix_id, stix, now).await
            }
            async fn comments(&self, contribution: isx_partnership::ContributionId) -> $crate::Result<Vec<isx_partnership::Comment>> {
                self.comments_sql(contribution).await
            }
            async fn insert_attachment(
                &self,
                contribution: isx_partnership::ContributionId,
                name: &str,
                media_type: &str,
                content: &[u8],
                sha256: &str,
                now: isx_domain::Timestamp,
            ) -> $crate::Result<isx_partnership::Attachment> {
                self.insert_attachment_sql(contribution, name, media_type, content, sha256, now).await
            }
            async fn attachments(&self, contribution: isx_partnership::ContributionId) -> $crate::Result<Vec<isx_partnership::Attachment>> {
                self.attachments_sql(contribution).await
            }
            async fn attachment(&self, id: i64) -> $crate::Result<Option<(isx_partnership::ContributionId, isx_partnership::Attachment, Vec<u8>)>> {
                self.attachment_sql(id).await
            }
            async fn insert_share(
                &self,
                contribution: isx_partnership::ContributionId,
                target: isx_partnership::ShareTarget,
                by: isx_domain::MemberId,
                reason: &str,
                now: isx_domain::Timestamp,
            ) -> $crate::Result<isx_partnership::ShareRequest> {
                self.insert_share_sql(contribution, target, by, reason, now).await
            }
            async fn share(&self, id: i64) -> $crate::Result<Option<isx_partnership::ShareRequest>> {
                self.share_sql(id).await
            }
            async fn shares(&self) -> $crate::Result<Vec<isx_partnership::ShareRequest>> {
                self.shares_sql().await
            }
            async fn decide_share(
                &self,
                id: i64,
                approve: bool,
                copy: Option<(&$crate::NewContributionRow<'_>, &[$crate::NewExchangeObject])>,
                now: isx_domain::Timestamp,
            ) -> $crate::Result<isx_partnership::ShareRequest> {
                self.decide_share_sql(id, approve, copy, now).await
            }
            async fn group_rules(&self, group: isx_domain::GroupId) -> $crate::Result<isx_partnership::GroupRules> {
                self.group_rules_sql(group).await
            }
            async fn put_group_rules(&self, group: isx_domain::GroupId, rules: &isx_partnership::GroupRules) -> $crate::Result<()> {
                self.put_group_rules_sql(group, rules).await
            }
            async fn prune_contributions(&self, group: isx_domain::GroupId, before: isx_domain::Timestamp) -> $crate::Result<u64> {
                self.prune_contributions_sql(group, before).await
            }
        }

        url_methods!($ty);
        botnet_methods!($ty);
        cleanfile_methods!($ty);
        exchange_methods!($ty);
        partnership_methods!($ty);
    };

    (@get $r:ident, $col:literal, $t:ty) => {
        sqlx::Row::try_get::<$t, _>(&$r, $col)?
    };
    (@at $r:ident, $i:literal, $t:ty) => {
        sqlx::Row::try_get::<$t, usize>(&$r, $i)?
    };
    (@member_cols) => { "id, name, kind, country, tier, clearance, constituency, created_at" };
    (@member $r:ident) => {
        (|| $crate::rows::member($crate::rows::MemberColumns {
            id: impl_store!(@get $r, "id", i64),
            name: impl_store!(@get $r, "name", String),
            kind: impl_store!(@get $r, "kind", String),
            country: impl_store!(@get $r, "country", Option<String>),
            tier: impl_store!(@get $r, "tier", String),
            clearance: impl_store!(@get $r, "clearance", String),
            constituency: impl_store!(@get $r, "constituency", String),
            created_at: impl_store!(@get $r, "created_at", i64),
        }))()
    };
    (@release_cols) => { "id, title, release_at, notes, status, marking, revisions, created_at" };
    (@release $r:ident) => {
        (|| $crate::rows::release($crate::rows::ReleaseColumns {
            id: impl_store!(@get $r, "id", i64),
            title: impl_store!(@get $r, "title", String),
            release_at: impl_store!(@get $r, "release_at", i64),
            notes: impl_store!(@get $r, "notes", String),
            status: impl_store!(@get $r, "status", String),
            marking: impl_store!(@get $r, "marking", String),
            revisions: impl_store!(@get $r, "revisions", String),
            created_at: impl_store!(@get $r, "created_at", i64),
        }))()
    };
    (@delivery_cols) => { "id, notification_id, member_id, url, payload, attempts, next_attempt_at, status, last_error, delivered_at" };
    (@delivery $r:ident) => {
        (|| -> $crate::Result<$crate::Delivery> {
            Ok($crate::Delivery {
                id: impl_store!(@get $r, "id", i64),
                notification: impl_store!(@get $r, "notification_id", i64),
                member: isx_domain::MemberId(impl_store!(@get $r, "member_id", i64)),
                url: impl_store!(@get $r, "url", String),
                payload: impl_store!(@get $r, "payload", String),
                attempts: impl_store!(@get $r, "attempts", i64),
                next_attempt_at: isx_domain::Timestamp::from_micros(impl_store!(@get $r, "next_attempt_at", i64)),
                status: impl_store!(@get $r, "status", String),
                last_error: impl_store!(@get $r, "last_error", Option<String>),
                delivered_at: impl_store!(@get $r, "delivered_at", Option<i64>).map(isx_domain::Timestamp::from_micros),
            })
        })()
    };
    (@user_cols) => { "id, login, member_id, role, password_hash, created_at, disabled_at" };
    (@user $r:ident) => {
        (|| $crate::rows::user($crate::rows::UserColumns {
            id: impl_store!(@get $r, "id", i64),
            login: impl_store!(@get $r, "login", String),
            member_id: impl_store!(@get $r, "member_id", i64),
            role: impl_store!(@get $r, "role", String),
            password_hash: impl_store!(@get $r, "password_hash", String),
            created_at: impl_store!(@get $r, "created_at", i64),
            disabled_at: impl_store!(@get $r, "disabled_at", Option<i64>),
        }))()
    };
    (@key_cols) => { "key_id, member_id, name, secret_hash, created_at, expires_at, revoked_at, last_used_at, role, parent_key, creator_user" };
    (@key $r:ident) => {
        (|| $crate::rows::api_key($crate::rows::KeyColumns {
            key_id: impl_store!(@get $r, "key_id", String),
            member_id: impl_store!(@get $r, "member_id", i64),
            name: impl_store!(@get $r, "name", String),
            secret_hash: impl_store!(@get $r, "secret_hash", String),
            created_at: impl_store!(@get $r, "created_at", i64),
            expires_at: impl_store!(@get $r, "expires_at", Option<i64>),
            revoked_at: impl_store!(@get $r, "revoked_at", Option<i64>),
            last_used_at: impl_store!(@get $r, "last_used_at", Option<i64>),
            role: impl_store!(@get $r, "role", String),
            parent_key: impl_store!(@get $r, "parent_key", Option<String>),
            creator_user: impl_store!(@get $r, "creator_user", Option<i64>),
        }))()
    };
    (@group_cols) => { "id, name, description, kind, agreement, min_clearance, ends_at, hide_members, created_at" };
    (@group $r:ident) => {
        (|| $crate::rows::group($crate::rows::GroupColumns {
            id: impl_store!(@get $r, "id", i64),
            name: impl_store!(@get $r, "name", String),
            description: impl_store!(@get $r, "description", String),
            kind: impl_store!(@get $r, "kind", String),
            agreement: impl_store!(@get $r, "agreement", Option<String>),
            min_clearance: impl_store!(@get $r, "min_clearance", String),
            ends_at: impl_store!(@get $r, "ends_at", Option<i64>),
            hide_members: impl_store!(@get $r, "hide_members", bool),
            created_at: impl_store!(@get $r, "created_at", i64),
        }))()
    };
    (@membership $r:ident) => {
        (|| $crate::rows::membership(
            impl_store!(@get $r, "group_id", i64),
            impl_store!(@get $r, "member_id", i64),
            &impl_store!(@get $r, "role", String),
            impl_store!(@get $r, "joined_at", i64),
        ))()
    };
}
