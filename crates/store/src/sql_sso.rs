//! OpenID Connect single sign-on (providers, sign-ins in progress, bound
//! identities), written once for both engines.

use async_trait::async_trait;

use crate::engine::{commit, Engine, Get, Run, SqlStore};
use crate::{SsoIdentity, SsoMapping, SsoPending, SsoProvider, StoreError};
use isx_domain::{Timestamp, UserId};

const PROVIDER_COLS: &str = "name, display_name, issuer, client_id, client_secret, scopes, claim, \
     login_claim, mappings, create_users, ca_pem, created_at";

fn provider_row<R: Get>(r: &R) -> crate::Result<SsoProvider> {
    let mappings: Vec<SsoMapping> = serde_json::from_str(&r.col::<String>("mappings")?)
        .map_err(|e| StoreError::Corrupt(format!("sso_providers.mappings: {e}")))?;
    Ok(SsoProvider {
        name: r.col::<String>("name")?,
        display_name: r.col::<String>("display_name")?,
        issuer: r.col::<String>("issuer")?,
        client_id: r.col::<String>("client_id")?,
        client_secret: r.col::<String>("client_secret")?,
        scopes: r
            .col::<String>("scopes")?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        claim: r.col::<String>("claim")?,
        login_claim: r.col::<String>("login_claim")?,
        mappings,
        create_users: r.col::<i64>("create_users")? != 0,
        ca_pem: r.col::<Option<String>>("ca_pem")?,
        created_at: Timestamp::from_micros(r.col::<i64>("created_at")?),
    })
}

fn pending_row<R: Get>(r: &R) -> crate::Result<SsoPending> {
    Ok(SsoPending {
        token_hash: r.col::<String>("token_hash")?,
        provider: r.col::<String>("provider")?,
        state: r.col::<String>("state")?,
        nonce: r.col::<String>("nonce")?,
        verifier: r.col::<String>("verifier")?,
        redirect_uri: r.col::<String>("redirect_uri")?,
        created_at: Timestamp::from_micros(r.col::<i64>("created_at")?),
        expires_at: Timestamp::from_micros(r.col::<i64>("expires_at")?),
    })
}

fn identity_row<R: Get>(r: &R) -> crate::Result<SsoIdentity> {
    Ok(SsoIdentity {
        issuer: r.col::<String>("issuer")?,
        subject: r.col::<String>("subject")?,
        provider: r.col::<String>("provider")?,
        user: UserId(r.col::<i64>("user_id")?),
        linked_at: Timestamp::from_micros(r.col::<i64>("linked_at")?),
    })
}

#[async_trait]
impl<DB: Engine> crate::SsoStore for SqlStore<DB> {
    async fn put_sso_provider(&self, p: &SsoProvider) -> crate::Result<()> {
        let mappings = serde_json::to_string(&p.mappings)
            .map_err(|e| StoreError::Corrupt(format!("sso mappings: {e}")))?;
        sqlx::query(
            "INSERT INTO sso_providers (name, display_name, issuer, client_id, client_secret,
               scopes, claim, login_claim, mappings, create_users, ca_pem, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name,
               issuer = excluded.issuer, client_id = excluded.client_id,
               client_secret = excluded.client_secret, scopes = excluded.scopes,
               claim = excluded.claim, login_claim = excluded.login_claim,
               mappings = excluded.mappings, create_users = excluded.create_users,
               ca_pem = excluded.ca_pem",
        )
        .arg(&p.name)
        .arg(&p.display_name)
        .arg(&p.issuer)
        .arg(&p.client_id)
        .arg(&p.client_secret)
        .arg(p.scopes.join(" "))
        .arg(&p.claim)
        .arg(&p.login_claim)
        .arg(mappings)
        .arg(i64::from(p.create_users))
        .arg(p.ca_pem.as_deref())
        .arg(p.created_at.as_micros())
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn sso_provider(&self, name: &str) -> crate::Result<Option<SsoProvider>> {
        sqlx::query(&format!(
            "SELECT {PROVIDER_COLS} FROM sso_providers WHERE name = $1"
        ))
        .arg(name)
        .maybe_row(&self.pool)
        .await?
        .map(|r| provider_row(&r))
        .transpose()
    }

    async fn sso_providers(&self) -> crate::Result<Vec<SsoProvider>> {
        sqlx::query(&format!(
            "SELECT {PROVIDER_COLS} FROM sso_providers ORDER BY name"
        ))
        .rows(&self.pool)
        .await?
        .iter()
        .map(provider_row)
        .collect()
    }

    async fn delete_sso_provider(&self, name: &str) -> crate::Result<bool> {
        let mut tx = self.begin_write().await?;
        for table in ["sso_pending", "sso_identities"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE provider = $1"))
                .arg(name)
                .run(&mut tx)
                .await?;
        }
        let n = sqlx::query("DELETE FROM sso_providers WHERE name = $1")
            .arg(name)
            .run(&mut tx)
            .await?;
        commit(tx).await?;
        Ok(n > 0)
    }

    async fn insert_sso_pending(&self, p: &SsoPending) -> crate::Result<()> {
        sqlx::query(
            "INSERT INTO sso_pending (token_hash, provider, state, nonce, verifier,
               redirect_uri, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .arg(&p.token_hash)
        .arg(&p.provider)
        .arg(&p.state)
        .arg(&p.nonce)
        .arg(&p.verifier)
        .arg(&p.redirect_uri)
        .arg(p.created_at.as_micros())
        .arg(p.expires_at.as_micros())
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn take_sso_pending(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> crate::Result<Option<SsoPending>> {
        let row = sqlx::query(
            "DELETE FROM sso_pending WHERE token_hash = $1 RETURNING token_hash, provider,
               state, nonce, verifier, redirect_uri, created_at, expires_at",
        )
        .arg(token_hash)
        .maybe_row(&self.pool)
        .await?;
        Ok(row
            .map(|r| pending_row(&r))
            .transpose()?
            .filter(|p| p.expires_at > now))
    }

    async fn delete_expired_sso_pending(&self, now: Timestamp) -> crate::Result<u64> {
        let n = sqlx::query("DELETE FROM sso_pending WHERE expires_at <= $1")
            .arg(now.as_micros())
            .run(&self.pool)
            .await?;
        Ok(n)
    }

    async fn sso_identity(
        &self,
        issuer: &str,
        subject: &str,
    ) -> crate::Result<Option<SsoIdentity>> {
        sqlx::query(
            "SELECT issuer, subject, provider, user_id, linked_at FROM sso_identities
             WHERE issuer = $1 AND subject = $2",
        )
        .arg(issuer)
        .arg(subject)
        .maybe_row(&self.pool)
        .await?
        .map(|r| identity_row(&r))
        .transpose()
    }

    async fn link_sso_identity(&self, id: &SsoIdentity) -> crate::Result<bool> {
        let n = sqlx::query(
            "INSERT INTO sso_identities (issuer, subject, provider, user_id, linked_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .arg(&id.issuer)
        .arg(&id.subject)
        .arg(&id.provider)
        .arg(id.user.0)
        .arg(id.linked_at.as_micros())
        .run(&self.pool)
        .await?;
        Ok(n > 0)
    }

    async fn unlink_sso_identities(&self, user: UserId) -> crate::Result<u64> {
        let n = sqlx::query("DELETE FROM sso_identities WHERE user_id = $1")
            .arg(user.0)
            .run(&self.pool)
            .await?;
        Ok(n)
    }

    async fn sso_identities_of(&self, user: UserId) -> crate::Result<Vec<SsoIdentity>> {
        sqlx::query(
            "SELECT issuer, subject, provider, user_id, linked_at FROM sso_identities
             WHERE user_id = $1 ORDER BY linked_at",
        )
        .arg(user.0)
        .rows(&self.pool)
        .await?
        .iter()
        .map(identity_row)
        .collect()
    }
}
