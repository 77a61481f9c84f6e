//! Second factors of web sign-in (TOTP secrets, recovery codes, members
//! that require a factor, sign-in challenges), written once for both
//! engines.

use async_trait::async_trait;

use crate::engine::{commit, maybe_scalar, scalar, Engine, Get, Run, SqlStore};
use crate::{ClientCa, ClientCert, SignInChallenge, StoredPasskey, TotpFactor, WebauthnCeremony};
use isx_domain::{MemberId, Timestamp, UserId};

/// Writes a set of recovery code hashes for `user` inside `tx`, ending the
/// earlier set.
async fn write_codes<DB: Engine>(
    tx: &mut sqlx::Transaction<'static, DB>,
    user: UserId,
    hashes: &[String],
    now: Timestamp,
) -> crate::Result<()> {
    sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1")
        .arg(user.0)
        .run(&mut *tx)
        .await?;
    for h in hashes {
        sqlx::query(
            "INSERT INTO user_recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, code_hash) DO NOTHING",
        )
        .arg(user.0)
        .arg(h)
        .arg(now.as_micros())
        .run(&mut *tx)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl<DB: Engine> crate::FactorStore for SqlStore<DB> {
    async fn totp(&self, user: UserId) -> crate::Result<Option<TotpFactor>> {
        let row = sqlx::query(
            "SELECT secret, last_step, created_at, failures FROM user_totp WHERE user_id = $1",
        )
        .arg(user.0)
        .maybe_row(&self.pool)
        .await?;
        row.map(|r| -> crate::Result<TotpFactor> {
            Ok(TotpFactor {
                secret: r.col::<String>("secret")?,
                last_step: r.col::<i64>("last_step")?,
                created_at: Timestamp::from_micros(r.col::<i64>("created_at")?),
                failures: r.col::<i64>("failures")?,
            })
        })
        .transpose()
    }

    async fn put_totp(
        &self,
        user: UserId,
        secret: &str,
        step: i64,
        recovery_hashes: &[String],
        replace: bool,
        now: Timestamp,
    ) -> crate::Result<bool> {
        let mut tx = self.begin_write().await?;
        let sql = if replace {
            "INSERT INTO user_totp (user_id, secret, last_step, created_at, failures)
             VALUES ($1, $2, $3, $4, 0)
             ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret,
             last_step = excluded.last_step, created_at = excluded.created_at, failures = 0"
        } else {
            "INSERT INTO user_totp (user_id, secret, last_step, created_at, failures)
             VALUES ($1, $2, $3, $4, 0) ON CONFLICT (user_id) DO NOTHING"
        };
        let n = sqlx::query(sql)
            .arg(user.0)
            .arg(secret)
            .arg(step)
            .arg(now.as_micros())
            .run(&mut tx)
            .await?;
        if n == 0 {
            crate::engine::rollback(tx).await?;
            return Ok(false);
        }
        write_codes(&mut tx, user, recovery_hashes, now).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn note_factor_failure(&self, user: UserId) -> crate::Result<i64> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE user_totp SET failures = failures + 1 WHERE user_id = $1")
            .arg(user.0)
            .run(&mut tx)
            .await?;
        let n: Option<i64> = maybe_scalar(
            sqlx::query("SELECT failures FROM user_totp WHERE user_id = $1").arg(user.0),
            &mut tx,
        )
        .await?;
        commit(tx).await?;
        Ok(n.unwrap_or(0))
    }

    async fn clear_factor_failures(&self, user: UserId) -> crate::Result<()> {
        sqlx::query("UPDATE user_totp SET failures = 0 WHERE user_id = $1 AND failures <> 0")
            .arg(user.0)
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_challenges_of(&self, user: UserId) -> crate::Result<u64> {
        let n = sqlx::query("DELETE FROM sign_in_challenges WHERE user_id = $1")
            .arg(user.0)
            .run(&self.pool)
            .await?;
        Ok(n)
    }

    async fn use_totp_step(&self, user: UserId, step: i64) -> crate::Result<bool> {
        let n = sqlx::query(
            "UPDATE user_totp SET last_step = $2 WHERE user_id = $1 AND last_step < $2",
        )
        .arg(user.0)
        .arg(step)
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn delete_totp(&self, user: UserId) -> crate::Result<bool> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1")
            .arg(user.0)
            .run(&mut tx)
            .await?;
        let n = sqlx::query("DELETE FROM user_totp WHERE user_id = $1")
            .arg(user.0)
            .run(&mut tx)
            .await?;
        commit(tx).await?;
        Ok(n == 1)
    }

    async fn use_recovery_code(
        &self,
        user: UserId,
        hash: &str,
        now: Timestamp,
    ) -> crate::Result<bool> {
        let n = sqlx::query(
            "UPDATE user_recovery_codes SET used_at = $3
             WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
        )
        .arg(user.0)
        .arg(hash)
        .arg(now.as_micros())
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        hashes: &[String],
        now: Timestamp,
    ) -> crate::Result<()> {
        let mut tx = self.begin_write().await?;
        write_codes(&mut tx, user, hashes, now).await?;
        commit(tx).await
    }

    async fn recovery_codes_left(&self, user: UserId) -> crate::Result<u64> {
        let n: i64 = scalar(
            sqlx::query(
                "SELECT COUNT(*) FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
            )
            .arg(user.0),
            &self.pool,
        )
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn second_factor_required(&self, member: MemberId) -> crate::Result<bool> {
        let v: Option<i64> = maybe_scalar(
            sqlx::query("SELECT required FROM member_second_factor WHERE member_id = $1")
                .arg(member.0),
            &self.pool,
        )
        .await?;
        Ok(v.unwrap_or(0) != 0)
    }

    async fn set_second_factor_required(
        &self,
        member: MemberId,
        required: bool,
    ) -> crate::Result<()> {
        sqlx::query(
            "INSERT INTO member_second_factor (member_id, required) VALUES ($1, $2)
             ON CONFLICT (member_id) DO UPDATE SET required = excluded.required",
        )
        .arg(member.0)
        .arg(i64::from(required))
        .run(&self.pool)
        .await
        .map_err(|e| crate::StoreError::from_sqlx("member second factor", e))?;
        Ok(())
    }

    async fn insert_challenge(&self, c: &SignInChallenge) -> crate::Result<()> {
        let link = c
            .pending_link
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| crate::StoreError::Corrupt(format!("pending link: {e}")))?;
        sqlx::query(
            "INSERT INTO sign_in_challenges (token_hash, user_id, pending_secret, attempts, created_at, expires_at, pending_link)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .arg(&c.token_hash)
        .arg(c.user.0)
        .arg(c.pending_secret.clone())
        .arg(c.attempts)
        .arg(c.created_at.as_micros())
        .arg(c.expires_at.as_micros())
        .arg(link)
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn challenge(&self, token_hash: &str) -> crate::Result<Option<SignInChallenge>> {
        let row = sqlx::query(
            "SELECT token_hash, user_id, pending_secret, attempts, created_at, expires_at, pending_link
             FROM sign_in_challenges WHERE token_hash = $1",
        )
        .arg(token_hash)
        .maybe_row(&self.pool)
        .await?;
        row.map(|r| -> crate::Result<SignInChallenge> {
            Ok(SignInChallenge {
                token_hash: r.col::<String>("token_hash")?,
                user: UserId(r.col::<i64>("user_id")?),
                pending_secret: r.col::<Option<String>>("pending_secret")?,
                pending_link: r
                    .col::<Option<String>>("pending_link")?
                    .map(|t| serde_json::from_str(&t))
                    .transpose()
                    .map_err(|e| crate::StoreError::Corrupt(format!("pending link: {e}")))?,
                attempts: r.col::<i64>("attempts")?,
                created_at: Timestamp::from_micros(r.col::<i64>("created_at")?),
                expires_at: Timestamp::from_micros(r.col::<i64>("expires_at")?),
            })
        })
        .transpose()
    }

    async fn challenge_attempt(&self, token_hash: &str) -> crate::Result<i64> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE sign_in_challenges SET attempts = attempts + 1 WHERE token_hash = $1")
            .arg(token_hash)
            .run(&mut tx)
            .await?;
        let n: Option<i64> = maybe_scalar(
            sqlx::query("SELECT attempts FROM sign_in_challenges WHERE token_hash = $1")
                .arg(token_hash),
            &mut tx,
        )
        .await?;
        commit(tx).await?;
        Ok(n.unwrap_or(i64::MAX))
    }

    async fn delete_challenge(&self, token_hash: &str) -> crate::Result<()> {
        sqlx::query("DELETE FROM sign_in_challenges WHERE token_hash = $1")
            .arg(token_hash)
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn insert_passkey(&self, p: &StoredPasskey) -> crate::Result<bool> {
        let n = sqlx::query(
            "INSERT INTO user_passkeys (credential_id, user_id, name, passkey, created_at, last_used_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (credential_id) DO NOTHING",
        )
        .arg(&p.credential_id)
        .arg(p.user.0)
        .arg(&p.name)
        .arg(&p.passkey)
        .arg(p.created_at.as_micros())
        .arg(p.last_used_at.map(Timestamp::as_micros))
        .run(&self.pool)
        .await?;
        Ok(n > 0)
    }

    async fn passkeys(&self, user: UserId) -> crate::Result<Vec<StoredPasskey>> {
        sqlx::query(
            "SELECT credential_id, user_id, name, passkey, created_at, last_used_at
             FROM user_passkeys WHERE user_id = $1 ORDER BY created_at, credential_id",
        )
        .arg(user.0)
        .rows(&self.pool)
        .await?
        .iter()
        .map(|r| -> crate::Result<StoredPasskey> {
            Ok(StoredPasskey {
                credential_id: r.col::<String>("credential_id")?,
                user: UserId(r.col::<i64>("user_id")?),
                name: r.col::<String>("name")?,
                passkey: r.col::<String>("passkey")?,
                created_at: Timestamp::from_micros(r.col::<i64>("created_at")?),
                last_used_at: r
                    .col::<Option<i64>>("last_used_at")?
                    .map(Timestamp::from_micros),
            })
        })
        .collect()
    }

    async fn update_passkey(
        &self,
        user: UserId,
        credential_id: &str,
        passkey: &str,
        used_at: Timestamp,
    ) -> crate::Result<()> {
        sqlx::query(
            "UPDATE user_passkeys SET passkey = $1, last_used_at = $2
             WHERE user_id = $3 AND credential_id = $4",
        )
        .arg(passkey)
        .arg(used_at.as_micros())
        .arg(user.0)
        .arg(credential_id)
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_passkey(&self, user: UserId, credential_id: &str) -> crate::Result<bool> {
        let n = sqlx::query("DELETE FROM user_passkeys WHERE user_id = $1 AND credential_id = $2")
            .arg(user.0)
            .arg(credential_id)
            .run(&self.pool)
            .await?;
        Ok(n > 0)
    }

    async fn delete_passkeys_of(&self, user: UserId) -> crate::Result<u64> {
        let n = sqlx::query("DELETE FROM user_passkeys WHERE user_id = $1")
            .arg(user.0)
            .run(&self.pool)
            .await?;
        Ok(n)
    }

    async fn insert_ceremony(&self, c: &WebauthnCeremony) -> crate::Result<()> {
        // Expired ones go on the way (a ceremony lasts minutes).
        sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at <= $1")
            .arg(c.created_at.as_micros())
            .run(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO webauthn_ceremonies (token_hash, user_id, kind, state, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .arg(&c.token_hash)
        .arg(c.user.0)
        .arg(&c.kind)
        .arg(&c.state)
        .arg(c.created_at.as_micros())
        .arg(c.expires_at.as_micros())
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn take_ceremony(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> crate::Result<Option<WebauthnCeremony>> {
        let row = sqlx::query(
            "DELETE FROM webauthn_ceremonies WHERE token_hash = $1
             RETURNING token_hash, user_id, kind, state, created_at, expires_at",
        )
        .arg(token_hash)
        .maybe_row(&self.pool)
        .await?;
        let c = row
            .map(|r| -> crate::Result<WebauthnCeremony> {
                Ok(WebauthnCeremony {
                    token_hash: r.col::<String>("token_hash")?,
                    user: UserId(r.col::<i64>("user_id")?),
                    kind: r.col::<String>("kind")?,
                    state: r.col::<String>("state")?,
                    created_at: Timestamp::from_micros(r.col::<i64>("created_at")?),
                    expires_at: Timestamp::from_micros(r.col::<i64>("expires_at")?),
                })
            })
            .transpose()?;
        Ok(c.filter(|c| c.expires_at > now))
    }

    async fn recipients(&self, member: MemberId) -> crate::Result<Vec<String>> {
        sqlx::query(
            "SELECT recipient FROM member_recipients WHERE member_id = $1
             ORDER BY created_at, recipient",
        )
        .arg(member.0)
        .rows(&self.pool)
        .await?
        .iter()
        .map(|r| Ok(r.col::<String>("recipient")?))
        .collect()
    }

    async fn set_recipients(
        &self,
        member: MemberId,
        recipients: &[String],
        now: Timestamp,
    ) -> crate::Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM member_recipients WHERE member_id = $1")
            .arg(member.0)
            .run(&mut tx)
            .await?;
        for r in recipients {
            sqlx::query(
                "INSERT INTO member_recipients (member_id, recipient, created_at)
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .arg(member.0)
            .arg(r)
            .arg(now.as_micros())
            .run(&mut tx)
            .await?;
        }
        commit(tx).await?;
        Ok(())
    }

    async fn client_cas(&self) -> crate::Result<Vec<ClientCa>> {
        sqlx::query(
            "SELECT fingerprint, origin, subject, cert_pem, key_pem, created_at FROM client_cas
             ORDER BY CASE WHEN origin = 'isx' THEN 0 ELSE 1 END, created_at, fingerprint",
        )
        .rows(&self.pool)
        .await?
        .iter()
        .map(|r| -> crate::Result<ClientCa> {
            Ok(ClientCa {
                fingerprint: r.col::<String>("fingerprint")?,
                origin: r.col::<String>("origin")?,
                subject: r.col::<String>("subject")?,
                cert_pem: r.col::<String>("cert_pem")?,
                key_pem: r.col::<Option<String>>("key_pem")?,
                created_at: Timestamp::from_micros(r.col::<i64>("created_at")?),
            })
        })
        .collect()
    }

    async fn insert_client_ca(&self, ca: &ClientCa) -> crate::Result<bool> {
        let n = sqlx::query(
            "INSERT INTO client_cas (fingerprint, origin, subject, cert_pem, key_pem, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .arg(&ca.fingerprint)
        .arg(&ca.origin)
        .arg(&ca.subject)
        .arg(&ca.cert_pem)
        .arg(ca.key_pem.as_deref())
        .arg(ca.created_at.as_micros())
        .run(&self.pool)
        .await?;
        Ok(n > 0)
    }

    async fn delete_client_ca(&self, fingerprint: &str) -> crate::Result<bool> {
        let n = sqlx::query("DELETE FROM client_cas WHERE fingerprint = $1 AND origin <> 'isx'")
            .arg(fingerprint)
            .run(&self.pool)
            .await?;
        Ok(n > 0)
    }

    async fn insert_client_cert(&self, c: &ClientCert) -> crate::Result<()> {
        sqlx::query(
            "INSERT INTO client_certs (fingerprint, member_id, subject, serial, not_after, created_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .arg(&c.fingerprint)
        .arg(c.member.0)
        .arg(&c.subject)
        .arg(&c.serial)
        .arg(c.not_after.as_micros())
        .arg(c.created_at.as_micros())
        .arg(c.revoked_at.map(Timestamp::as_micros))
        .run(&self.pool)
        .await
        .map_err(|e| crate::StoreError::from_sqlx("client certificate", e))?;
        Ok(())
    }

    async fn client_cert(&self, fingerprint: &str) -> crate::Result<Option<ClientCert>> {
        let row = sqlx::query(&format!(
            "SELECT {CERT_COLS} FROM client_certs WHERE fingerprint = $1"
        ))
        .arg(fingerprint)
        .maybe_row(&self.pool)
        .await?;
        row.map(|r| cert_row(&r)).transpose()
    }

    async fn client_certs(&self, member: Option<MemberId>) -> crate::Result<Vec<ClientCert>> {
        let rows = sqlx::query(&format!(
            "SELECT {CERT_COLS} FROM client_certs WHERE ($1 IS NULL OR member_id = $1)
             ORDER BY created_at DESC, fingerprint"
        ))
        .arg(member.map(|m| m.0))
        .rows(&self.pool)
        .await?;
        rows.iter().map(cert_row).collect()
    }

    async fn revoke_client_cert(&self, fingerprint: &str, now: Timestamp) -> crate::Result<bool> {
        let n = sqlx::query(
            "UPDATE client_certs SET revoked_at = $2 WHERE fingerprint = $1 AND revoked_at IS NULL",
        )
        .arg(fingerprint)
        .arg(now.as_micros())
        .run(&self.pool)
        .await?;
        Ok(n == 1)
    }

    async fn delete_expired_challenges(&self, now: Timestamp) -> crate::Result<u64> {
        let n = sqlx::query("DELETE FROM sign_in_challenges WHERE expires_at <= $1")
            .arg(now.as_micros())
            .run(&self.pool)
            .await?;
        Ok(n)
    }
}

const CERT_COLS: &str =
    "fingerprint, member_id, subject, serial, not_after, created_at, revoked_at";

fn cert_row<R: Get>(r: &R) -> crate::Result<ClientCert> {
    Ok(ClientCert {
        fingerprint: r.col::<String>("fingerprint")?,
        member: MemberId(r.col::<i64>("member_id")?),
        subject: r.col::<String>("subject")?,
        serial: r.col::<String>("serial")?,
        not_after: Timestamp::from_micros(r.col::<i64>("not_after")?),
        created_at: Timestamp::from_micros(r.col::<i64>("created_at")?),
        revoked_at: r
            .col::<Option<i64>>("revoked_at")?
            .map(Timestamp::from_micros),
    })
}
