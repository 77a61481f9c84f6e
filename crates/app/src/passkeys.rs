//! WebAuthn passkeys as a second factor (W3C Web Authentication, checked
//! by kanidm's `webauthn-rs`): a user registers authenticators on its
//! account page and uses one instead of a TOTP code at sign-in. The
//! relying party is the host of the instance's public URL (a domain name:
//! browsers refuse WebAuthn on an IP address). User verification (PIN,
//! biometrics) is required. Each ceremony's state is kept in the store
//! under the hash of a token the page holds, for one user, and taken once
//! — never in a cookie, where it could be replayed.

use isx_domain::{Timestamp, User};
use isx_store::{Store, StoredPasskey, WebauthnCeremony};
use serde_json::Value;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder, WebauthnError,
};

/// What a passkey's answer at sign-in proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Proven,
    Refused,
    /// The signature verified but the authenticator's counter went back:
    /// the key may have been cloned. Refused, and worth an alarm.
    PossibleClone,
}

impl Verdict {
    /// The audit log's outcome word for a refusal.
    pub fn outcome(self) -> &'static str {
        match self {
            Verdict::Proven => "passkey",
            Verdict::Refused => "401",
            Verdict::PossibleClone => "passkey-clone-suspected",
        }
    }
}

use crate::identity::{hash_secret, random_hex32};
use crate::{AppError, Result};

/// How long a ceremony may take (the browser's own time-out is 5 minutes).
pub const CEREMONY_SECS: i64 = 360;
/// Passkeys a user may hold.
pub const MAX_PASSKEYS: usize = 20;

/// This instance as a WebAuthn relying party, or why it cannot be one.
pub struct RelyingParty(Webauthn);

impl RelyingParty {
    /// The relying party of `public_url` (`https://isx.example.org`): its
    /// host is the RP id, the URL the one origin accepted.
    pub fn new(public_url: &str) -> std::result::Result<RelyingParty, String> {
        let origin = Url::parse(public_url).map_err(|e| format!("the public URL: {e}"))?;
        let Some(host) = origin.domain().map(str::to_owned) else {
            return Err(
                "passkeys need the instance to be reached by a domain name (set public_url to https://<name>): browsers refuse them on an IP address"
                    .into(),
            );
        };
        WebauthnBuilder::new(&host, &origin)
            .and_then(|b| b.rp_name("isx").build())
            .map(RelyingParty)
            .map_err(|e| format!("passkeys: {e}"))
    }
}

/// The WebAuthn user handle of `user`: stable, and not its row id.
fn user_handle(user: &User) -> Uuid {
    use sha2::Digest;
    let d = sha2::Sha256::digest(format!("isx-webauthn-user:{}", user.id.0).as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(d.get(..16).unwrap_or(&[0u8; 16]));
    Uuid::from_bytes(b)
}

fn bad(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::invalid(format!("{what}: {e}"))
}

fn id_text(p: &Passkey) -> String {
    serde_json::to_value(p.cred_id())
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn parse_keys(stored: &[StoredPasskey]) -> Vec<Passkey> {
    stored
        .iter()
        .filter_map(|s| serde_json::from_str::<Passkey>(&s.passkey).ok())
        .collect()
}

async fn begin_ceremony(
    store: &dyn Store,
    user: &User,
    kind: &str,
    state: String,
    now: Timestamp,
) -> Result<String> {
    let token = random_hex32();
    store
        .insert_ceremony(&WebauthnCeremony {
            token_hash: hash_secret(&token),
            user: user.id,
            kind: kind.into(),
            state,
            created_at: now,
            expires_at: now.add_secs(CEREMONY_SECS),
        })
        .await?;
    Ok(token)
}

/// Takes `user`'s ceremony of `kind` named by `token`; another user's, or
/// one of another kind, is none.
async fn take_ceremony(
    store: &dyn Store,
    user: &User,
    kind: &str,
    token: &str,
    now: Timestamp,
) -> Result<Option<String>> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    Ok(store
        .take_ceremony(&hash_secret(token), now)
        .await?
        .filter(|c| c.user == user.id && c.kind == kind)
        .map(|c| c.state))
}

/// Starts registering a new passkey: the options for
/// `navigator.credentials.create` and the ceremony's token.
pub async fn start_registration(
    store: &dyn Store,
    rp: &RelyingParty,
    user: &User,
    now: Timestamp,
) -> Result<(Value, String)> {
    let have = store.passkeys(user.id).await?;
    if have.len() >= MAX_PASSKEYS {
        return Err(AppError::Conflict(format!(
            "at most {MAX_PASSKEYS} passkeys; remove one first"
        )));
    }
    let exclude: Vec<_> = parse_keys(&have)
        .iter()
        .map(|p| p.cred_id().clone())
        .collect();
    let (options, state) =
        rp.0.start_passkey_registration(
            user_handle(user),
            user.login.as_str(),
            user.login.as_str(),
            Some(exclude),
        )
        .map_err(|e| AppError::Internal(format!("webauthn: {e}")))?;
    let state = serde_json::to_string(&state).map_err(|e| AppError::Internal(e.to_string()))?;
    let token = begin_ceremony(store, user, "register", state, now).await?;
    let options = serde_json::to_value(options).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((options, token))
}

/// Finishes a registration with what the browser's authenticator made.
pub async fn finish_registration(
    store: &dyn Store,
    rp: &RelyingParty,
    user: &User,
    token: &str,
    credential: &Value,
    name: &str,
    now: Timestamp,
) -> Result<StoredPasskey> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || isx_domain::label_problem(name).is_some() {
        return Err(AppError::invalid(
            "a passkey's name is 1 to 64 printable characters",
        ));
    }
    let Some(state) = take_ceremony(store, user, "register", token, now).await? else {
        return Err(AppError::invalid(
            "this passkey set-up expired or was already used; start again",
        ));
    };
    // Checked again here: registrations started side by side.
    if store.passkeys(user.id).await?.len() >= MAX_PASSKEYS {
        return Err(AppError::Conflict(format!(
            "at most {MAX_PASSKEYS} passkeys; remove one first"
        )));
    }
    let state: PasskeyRegistration =
        serde_json::from_str(&state).map_err(|e| AppError::Internal(e.to_string()))?;
    let reg: RegisterPublicKeyCredential =
        serde_json::from_value(credential.clone()).map_err(|e| bad("the credential", e))?;
    let key =
        rp.0.finish_passkey_registration(&reg, &state)
            .map_err(|e| bad("the authenticator's answer was refused", e))?;
    let stored = StoredPasskey {
        credential_id: id_text(&key),
        user: user.id,
        name: name.to_owned(),
        passkey: serde_json::to_string(&key).map_err(|e| AppError::Internal(e.to_string()))?,
        created_at: now,
        last_used_at: None,
    };
    if !store.insert_passkey(&stored).await? {
        return Err(AppError::Conflict(
            "this authenticator's credential is registered already".into(),
        ));
    }
    Ok(stored)
}

/// Starts a sign-in's passkey step: the options for
/// `navigator.credentials.get` and the ceremony's token; `None` if the
/// user has no passkey.
pub async fn start_authentication(
    store: &dyn Store,
    rp: &RelyingParty,
    user: &User,
    now: Timestamp,
) -> Result<Option<(Value, String)>> {
    let keys = parse_keys(&store.passkeys(user.id).await?);
    if keys.is_empty() {
        return Ok(None);
    }
    let (options, state) =
        rp.0.start_passkey_authentication(&keys)
            .map_err(|e| AppError::Internal(format!("webauthn: {e}")))?;
    let state = serde_json::to_string(&state).map_err(|e| AppError::Internal(e.to_string()))?;
    let token = begin_ceremony(store, user, "authenticate", state, now).await?;
    let options = serde_json::to_value(options).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Some((options, token)))
}

/// Finishes a passkey step: proven if one of `user`'s passkeys signed
/// this ceremony's challenge (with user verification, from this origin,
/// its counter moving on); the passkey's counter is written back.
pub async fn finish_authentication(
    store: &dyn Store,
    rp: &RelyingParty,
    user: &User,
    token: &str,
    credential: &Value,
    now: Timestamp,
) -> Result<Verdict> {
    let Some(state) = take_ceremony(store, user, "authenticate", token, now).await? else {
        return Ok(Verdict::Refused);
    };
    let state: PasskeyAuthentication =
        serde_json::from_str(&state).map_err(|e| AppError::Internal(e.to_string()))?;
    let Ok(assertion) = serde_json::from_value::<PublicKeyCredential>(credential.clone()) else {
        return Ok(Verdict::Refused);
    };
    let result = match rp.0.finish_passkey_authentication(&assertion, &state) {
        Ok(r) => r,
        Err(WebauthnError::CredentialPossibleCompromise) => return Ok(Verdict::PossibleClone),
        Err(_) => return Ok(Verdict::Refused),
    };
    for s in store.passkeys(user.id).await? {
        let Ok(mut key) = serde_json::from_str::<Passkey>(&s.passkey) else {
            continue;
        };
        if key.update_credential(&result).is_some() {
            let text =
                serde_json::to_string(&key).map_err(|e| AppError::Internal(e.to_string()))?;
            store
                .update_passkey(user.id, &s.credential_id, &text, now)
                .await?;
            return Ok(Verdict::Proven);
        }
    }
    Ok(Verdict::Refused)
}
