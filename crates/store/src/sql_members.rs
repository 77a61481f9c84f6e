//! Members, users, API keys, trust groups and web sessions, written once
//! for both engines.

use async_trait::async_trait;

use crate::engine::{commit, Engine, Get, Run, SqlStore};

#[async_trait]
impl<DB: Engine> crate::MemberStore for SqlStore<DB> {
    async fn insert_member(
        &self,
        new: &isx_domain::NewMember,
        now: isx_domain::Timestamp,
    ) -> crate::Result<isx_domain::Member> {
        let row = sqlx::query(
            "INSERT INTO members (name, kind, country, tier, clearance, constituency, created_at, id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .arg(new.name.as_str())
        .arg(new.kind.as_str())
        .arg(new.country.map(|c| c.as_str().to_owned()))
        .arg(new.tier.as_str())
        .arg(new.clearance.as_str())
        .arg(crate::rows::constituency_json(&new.constituency))
        .arg(now.as_micros())
        .arg(crate::engine::random_row_id()?)
        .row(&self.pool)
        .await
        .map_err(|e| crate::StoreError::from_sqlx(&format!("member {:?}", new.name.as_str()), e))?;
        let id: i64 = row.col("id")?;
        self.member(isx_domain::MemberId(id))
            .await?
            .ok_or_else(|| crate::StoreError::NotFound(format!("member {id}")))
    }

    async fn update_member(
        &self,
        id: isx_domain::MemberId,
        new: &isx_domain::NewMember,
    ) -> crate::Result<isx_domain::Member> {
        let done = sqlx::query(
                    "UPDATE members SET name = $1, kind = $2, country = $3, tier = $4, clearance = $5, constituency = $6
                     WHERE id = $7",
                )
                .arg(new.name.as_str())
                .arg(new.kind.as_str())
                .arg(new.country.map(|c| c.as_str().to_owned()))
                .arg(new.tier.as_str())
                .arg(new.clearance.as_str())
                .arg(crate::rows::constituency_json(&new.constituency))
                .arg(id.0)
                .run(&self.pool)
                .await
                .map_err(|e| crate::StoreError::from_sqlx(&format!("member {:?}", new.name.as_str()), e))?;
        if done == 0 {
            return Err(crate::StoreError::NotFound(format!("member {id}")));
        }
        self.member(id)
            .await?
            .ok_or_else(|| crate::StoreError::NotFound(format!("member {id}")))
    }

    async fn member(&self, id: isx_domain::MemberId) -> crate::Result<Option<isx_domain::Member>> {
        let row = sqlx::query("SELECT id, name, kind, country, tier, clearance, constituency, created_at FROM members WHERE id = $1")
                    .arg(id.0)
                    .maybe_row(&self.pool)
                    .await?;
        row.map(|r| crate::rows::member_row(&r)).transpose()
    }

    async fn member_by_name(&self, name: &str) -> crate::Result<Option<isx_domain::Member>> {
        let row = sqlx::query("SELECT id, name, kind, country, tier, clearance, constituency, created_at FROM members WHERE name = $1")
                    .arg(name)
                    .maybe_row(&self.pool)
                    .await?;
        row.map(|r| crate::rows::member_row(&r)).transpose()
    }

    async fn members(&self) -> crate::Result<Vec<isx_domain::Member>> {
        let rows = sqlx::query("SELECT id, name, kind, country, tier, clearance, constituency, created_at FROM members ORDER BY created_at, id")
                    .rows(&self.pool)
                    .await?;
        rows.into_iter()
            .map(|r| crate::rows::member_row(&r))
            .collect()
    }

    async fn insert_user(
        &self,
        new: &isx_domain::NewUser,
        now: isx_domain::Timestamp,
    ) -> crate::Result<isx_domain::User> {
        let row = sqlx::query(
            "INSERT INTO users (login, member_id, role, password_hash, created_at, id)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .arg(new.login.as_str())
        .arg(new.member.0)
        .arg(new.role.as_str())
        .arg(&new.password_hash)
        .arg(now.as_micros())
        .arg(crate::engine::random_row_id()?)
        .row(&self.pool)
        .await
        .map_err(|e| crate::StoreError::from_sqlx(&format!("user {:?}", new.login.as_str()), e))?;
        let id: i64 = row.col("id")?;
        self.user(isx_domain::UserId(id))
            .await?
            .ok_or_else(|| crate::StoreError::NotFound(format!("user {id}")))
    }

    async fn user(&self, id: isx_domain::UserId) -> crate::Result<Option<isx_domain::User>> {
        let row = sqlx::query("SELECT id, login, member_id, role, password_hash, created_at, disabled_at FROM users WHERE id = $1")
                    .arg(id.0)
                    .maybe_row(&self.pool)
                    .await?;
        row.map(|r| crate::rows::user_row(&r)).transpose()
    }

    async fn user_by_login(
        &self,
        login: &isx_domain::Login,
    ) -> crate::Result<Option<isx_domain::User>> {
        let row = sqlx::query("SELECT id, login, member_id, role, password_hash, created_at, disabled_at FROM users WHERE login = $1")
                    .arg(login.as_str())
                    .maybe_row(&self.pool)
                    .await?;
        row.map(|r| crate::rows::user_row(&r)).transpose()
    }

    async fn users(&self) -> crate::Result<Vec<isx_domain::User>> {
        let rows = sqlx::query("SELECT id, login, member_id, role, password_hash, created_at, disabled_at FROM users ORDER BY created_at, id")
                    .rows(&self.pool)
                    .await?;
        rows.into_iter()
            .map(|r| crate::rows::user_row(&r))
            .collect()
    }

    async fn set_user_disabled(
        &self,
        id: isx_domain::UserId,
        at: Option<isx_domain::Timestamp>,
    ) -> crate::Result<u64> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET disabled_at = $2, disabled_by_operator = CASE WHEN $2 IS NULL THEN 0 ELSE disabled_by_operator END WHERE id = $1")
            .arg(id.0)
            .arg(at.map(|t| t.as_micros()))
            .run(&mut tx)
            .await?;
        let mut ended = 0;
        if at.is_some() {
            ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .arg(id.0)
                .run(&mut tx)
                .await?;
            // A sign-in half done before must not finish after an enable.
            sqlx::query("DELETE FROM sign_in_challenges WHERE user_id = $1")
                .arg(id.0)
                .run(&mut tx)
                .await?;
        }
        commit(tx).await?;
        Ok(ended)
    }

    async fn set_disabled_by_operator(
        &self,
        id: isx_domain::UserId,
        by_operator: bool,
    ) -> crate::Result<()> {
        sqlx::query("UPDATE users SET disabled_by_operator = $2 WHERE id = $1")
            .arg(id.0)
            .arg(i64::from(by_operator))
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn disabled_by_operator(&self, id: isx_domain::UserId) -> crate::Result<bool> {
        let v: Option<i64> = crate::engine::maybe_scalar(
            sqlx::query("SELECT disabled_by_operator FROM users WHERE id = $1").arg(id.0),
            &self.pool,
        )
        .await?;
        Ok(v.unwrap_or(0) != 0)
    }

    async fn delete_sessions_of(&self, user: isx_domain::UserId) -> crate::Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .arg(user.0)
            .run(&self.pool)
            .await?;
        Ok(done)
    }

    async fn insert_api_key(
        &self,
        new: &isx_domain::NewApiKey,
        now: isx_domain::Timestamp,
    ) -> crate::Result<isx_domain::ApiKey> {
        sqlx::query(
                    "INSERT INTO api_keys (key_id, member_id, name, secret_hash, created_at, expires_at, role, parent_key, creator_user)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .arg(new.key_id.as_str())
                .arg(new.member.0)
                .arg(&new.name)
                .arg(&new.secret_hash)
                .arg(now.as_micros())
                .arg(new.expires_at.map(isx_domain::Timestamp::as_micros))
                .arg(new.role.as_str())
                .arg(new.parent.as_ref().map(isx_domain::KeyId::as_str))
                .arg(new.creator.map(|u| u.0))
                .run(&self.pool)
                .await
                .map_err(|e| crate::StoreError::from_sqlx(&format!("API key {}", new.key_id), e))?;
        self.api_key(&new.key_id)
            .await?
            .ok_or_else(|| crate::StoreError::NotFound(format!("API key {}", new.key_id)))
    }

    async fn api_key(&self, id: &isx_domain::KeyId) -> crate::Result<Option<isx_domain::ApiKey>> {
        let row = sqlx::query("SELECT key_id, member_id, name, secret_hash, created_at, expires_at, revoked_at, last_used_at, role, parent_key, creator_user FROM api_keys WHERE key_id = $1")
                    .arg(id.as_str())
                    .maybe_row(&self.pool)
                    .await?;
        row.map(|r| crate::rows::key_row(&r)).transpose()
    }

    async fn api_key_caller(
        &self,
        id: &isx_domain::KeyId,
    ) -> crate::Result<
        Option<(
            isx_domain::ApiKey,
            isx_domain::Member,
            Vec<isx_domain::GroupId>,
        )>,
    > {
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
                .arg(id.as_str())
                .rows(&self.pool)
                .await?;
        let mut groups = Vec::new();
        for row in &rows {
            let g: Option<i64> = row.col("group_id")?;
            groups.extend(g.map(isx_domain::GroupId));
        }
        let Some(r) = rows.into_iter().next() else {
            return Ok(None);
        };
        let key = crate::rows::api_key(crate::rows::KeyColumns {
            key_id: r.col::<String>("key_id")?,
            member_id: r.col::<i64>("member_id")?,
            name: r.col::<String>("key_name")?,
            secret_hash: r.col::<String>("secret_hash")?,
            created_at: r.col::<i64>("key_created_at")?,
            expires_at: r.col::<Option<i64>>("expires_at")?,
            revoked_at: r.col::<Option<i64>>("revoked_at")?,
            last_used_at: r.col::<Option<i64>>("last_used_at")?,
            role: r.col::<String>("key_role")?,
            parent_key: r.col::<Option<String>>("parent_key")?,
            creator_user: r.col::<Option<i64>>("creator_user")?,
        })?;
        let member = crate::rows::member_row(&r)?;
        Ok(Some((key, member, groups)))
    }

    async fn api_keys(
        &self,
        member: Option<isx_domain::MemberId>,
    ) -> crate::Result<Vec<isx_domain::ApiKey>> {
        let rows = sqlx::query("SELECT key_id, member_id, name, secret_hash, created_at, expires_at, revoked_at, last_used_at, role, parent_key, creator_user FROM api_keys WHERE ($1 IS NULL OR member_id = $1) ORDER BY created_at DESC, key_id")
                .arg(member.map(|m| m.0))
                .rows(&self.pool)
                .await?;
        rows.into_iter().map(|r| crate::rows::key_row(&r)).collect()
    }

    async fn revoke_api_key(
        &self,
        id: &isx_domain::KeyId,
        now: isx_domain::Timestamp,
    ) -> crate::Result<bool> {
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
        .arg(now.as_micros())
        .arg(id.as_str())
        .run(&self.pool)
        .await?;
        Ok(done >= 1)
    }

    async fn touch_api_key(
        &self,
        id: &isx_domain::KeyId,
        now: isx_domain::Timestamp,
    ) -> crate::Result<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE key_id = $2")
            .arg(now.as_micros())
            .arg(id.as_str())
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn insert_group(
        &self,
        new: &isx_domain::NewTrustGroup,
        owner: isx_domain::MemberId,
        now: isx_domain::Timestamp,
    ) -> crate::Result<isx_domain::TrustGroup> {
        let (kind, agreement, min_clearance, ends_at) = crate::rows::group_kind_columns(&new.kind);
        let what = format!("trust group {:?}", new.name);
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
                    "INSERT INTO trust_groups (name, description, kind, agreement, min_clearance, ends_at, hide_members, created_at, id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                )
                .arg(&new.name)
                .arg(&new.description)
                .arg(kind)
                .arg(agreement)
                .arg(min_clearance)
                .arg(ends_at)
                .arg(new.hide_members)
                .arg(now.as_micros())
                .arg(crate::engine::random_row_id()?)
                .row(&mut tx)
                .await
                .map_err(|e| crate::StoreError::from_sqlx(&what, e))?;
        let id: i64 = row.col("id")?;
        sqlx::query("INSERT INTO group_members (group_id, member_id, role, joined_at) VALUES ($1, $2, $3, $4)")
                    .arg(id)
                    .arg(owner.0)
                    .arg(isx_domain::GroupRole::Owner.as_str())
                    .arg(now.as_micros())
                    .run(&mut tx)
                    .await
                    .map_err(|e| crate::StoreError::from_sqlx(&format!("owner of {what}"), e))?;
        commit(tx).await?;
        self.group(isx_domain::GroupId(id))
            .await?
            .ok_or_else(|| crate::StoreError::NotFound(format!("trust group {id}")))
    }

    async fn group(
        &self,
        id: isx_domain::GroupId,
    ) -> crate::Result<Option<isx_domain::TrustGroup>> {
        let row = sqlx::query("SELECT id, name, description, kind, agreement, min_clearance, ends_at, hide_members, created_at FROM trust_groups WHERE id = $1")
                    .arg(id.0)
                    .maybe_row(&self.pool)
                    .await?;
        row.map(|r| crate::rows::group_row(&r)).transpose()
    }

    async fn group_by_name(&self, name: &str) -> crate::Result<Option<isx_domain::TrustGroup>> {
        let row = sqlx::query("SELECT id, name, description, kind, agreement, min_clearance, ends_at, hide_members, created_at FROM trust_groups WHERE name = $1")
                    .arg(name)
                    .maybe_row(&self.pool)
                    .await?;
        row.map(|r| crate::rows::group_row(&r)).transpose()
    }

    async fn groups(&self) -> crate::Result<Vec<isx_domain::TrustGroup>> {
        let rows = sqlx::query("SELECT id, name, description, kind, agreement, min_clearance, ends_at, hide_members, created_at FROM trust_groups ORDER BY created_at, id")
                    .rows(&self.pool)
                    .await?;
        rows.into_iter()
            .map(|r| crate::rows::group_row(&r))
            .collect()
    }

    async fn put_group_member(
        &self,
        group: isx_domain::GroupId,
        member: isx_domain::MemberId,
        role: isx_domain::GroupRole,
        now: isx_domain::Timestamp,
    ) -> crate::Result<isx_domain::GroupMembership> {
        let row = sqlx::query(
                    "INSERT INTO group_members (group_id, member_id, role, joined_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (group_id, member_id) DO UPDATE SET role = excluded.role
                     RETURNING group_id, member_id, role, joined_at",
                )
                .arg(group.0)
                .arg(member.0)
                .arg(role.as_str())
                .arg(now.as_micros())
                .row(&self.pool)
                .await
                .map_err(|e| crate::StoreError::from_sqlx(&format!("membership of member {member} in group {group}"), e))?;
        crate::rows::membership_row(&row)
    }

    async fn remove_group_member(
        &self,
        group: isx_domain::GroupId,
        member: isx_domain::MemberId,
    ) -> crate::Result<bool> {
        // Never the last owner: a group always has someone to run it.
        let done = sqlx::query(
                    "DELETE FROM group_members WHERE group_id = $1 AND member_id = $2
                       AND (role <> 'owner'
                            OR (SELECT COUNT(*) FROM group_members WHERE group_id = $1 AND role = 'owner') > 1)",
                )
                .arg(group.0)
                .arg(member.0)
                .run(&self.pool)
                .await?;
        Ok(done == 1)
    }

    async fn group_members(
        &self,
        group: isx_domain::GroupId,
    ) -> crate::Result<Vec<isx_domain::GroupMembership>> {
        let rows = sqlx::query("SELECT group_id, member_id, role, joined_at FROM group_members WHERE group_id = $1 ORDER BY joined_at, member_id")
                    .arg(group.0)
                    .rows(&self.pool)
                    .await?;
        rows.into_iter()
            .map(|r| crate::rows::membership_row(&r))
            .collect()
    }

    async fn memberships_of(
        &self,
        member: isx_domain::MemberId,
    ) -> crate::Result<Vec<isx_domain::GroupMembership>> {
        let rows = sqlx::query("SELECT group_id, member_id, role, joined_at FROM group_members WHERE member_id = $1 ORDER BY joined_at, group_id")
                    .arg(member.0)
                    .rows(&self.pool)
                    .await?;
        rows.into_iter()
            .map(|r| crate::rows::membership_row(&r))
            .collect()
    }

    async fn insert_session(&self, s: &crate::Session) -> crate::Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, source_ip, user_agent)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .arg(&s.token_hash)
        .arg(s.user.0)
        .arg(&s.csrf_token)
        .arg(s.created_at.as_micros())
        .arg(s.expires_at.as_micros())
        .arg(s.source_ip.clone())
        .arg(s.user_agent.clone())
        .run(&self.pool)
        .await
        .map_err(|e| crate::StoreError::from_sqlx("session", e))?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> crate::Result<Option<crate::Session>> {
        let row = sqlx::query(
            "SELECT token_hash, user_id, csrf_token, created_at, expires_at, source_ip, user_agent
             FROM sessions WHERE token_hash = $1",
        )
        .arg(token_hash)
        .maybe_row(&self.pool)
        .await?;
        row.map(|r| session_row(&r)).transpose()
    }

    async fn sessions_of(&self, user: isx_domain::UserId) -> crate::Result<Vec<crate::Session>> {
        let rows = sqlx::query(
            "SELECT token_hash, user_id, csrf_token, created_at, expires_at, source_ip, user_agent
             FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, token_hash",
        )
        .arg(user.0)
        .rows(&self.pool)
        .await?;
        rows.iter().map(session_row).collect()
    }

    async fn delete_session(&self, token_hash: &str) -> crate::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .arg(token_hash)
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: isx_domain::Timestamp) -> crate::Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .arg(now.as_micros())
            .run(&self.pool)
            .await?;
        Ok(done)
    }
}

fn session_row<R: Get>(r: &R) -> crate::Result<crate::Session> {
    Ok(crate::Session {
        token_hash: r.col::<String>("token_hash")?,
        user: isx_domain::UserId(r.col::<i64>("user_id")?),
        csrf_token: r.col::<String>("csrf_token")?,
        created_at: isx_domain::Timestamp::from_micros(r.col::<i64>("created_at")?),
        expires_at: isx_domain::Timestamp::from_micros(r.col::<i64>("expires_at")?),
        source_ip: r.col::<Option<String>>("source_ip")?,
        user_agent: r.col::<Option<String>>("user_agent")?,
    })
}
