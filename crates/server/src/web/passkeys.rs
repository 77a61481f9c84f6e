//! Passkeys in the web application: registering and removing them on the
//! account page, and using one at the sign-in's second step
//! (`static/passkey.js` talks to these as JSON; `isx_app::passkeys` does
//! WebAuthn). Adding or removing a passkey takes the password (or, for a
//! user single sign-on created, a session signed in within the last ten
//! minutes), so a stolen session alone cannot change the account's
//! factors.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use isx_app::passkeys::{self, RelyingParty};
use isx_domain::User;
use serde::Deserialize;
use serde_json::{json, Value};

use super::account::{self, audit, own_user};
use super::{check_csrf, cookie_header};
use crate::auth::Caller;
use crate::extract::{ApiJson, WebForm};
use crate::problem::ApiError;
use crate::AppState;

/// How recent a session of a user without a password must be to change
/// its passkeys.
const FRESH_SECS: i64 = 600;

fn relying_party(state: &AppState) -> Result<RelyingParty, ApiError> {
    RelyingParty::new(state.public_url()).map_err(ApiError::Conflict)
}

fn fresh(state: &AppState, caller: &Caller) -> bool {
    let now = state.clock.now().as_secs();
    caller
        .session
        .as_ref()
        .is_some_and(|s| now - s.created_at.as_secs() <= FRESH_SECS)
}

/// The owner's proof for changing passkeys: its password (or, without
/// one, a fresh session). Each try counts against the sign-in limits of
/// the address and the login, as a sign-in would: a stolen session is no
/// way round them to guess the password.
async fn proven(
    state: &AppState,
    caller: &Caller,
    user: &User,
    peer: SocketAddr,
    password: &str,
) -> Result<bool, ApiError> {
    if user.password_hash == isx_app::sso::NO_PASSWORD {
        return Ok(fresh(state, caller));
    }
    super::sign_in_limit(state, peer)?;
    super::account_limit(state, &format!("login:{}", user.login))?;
    account::password_ok(state, user, password.to_owned()).await
}

#[derive(Deserialize)]
pub(super) struct OptionsIn {
    csrf: String,
    #[serde(default)]
    password: String,
    /// A current code of the user's authenticator app, if it has one.
    #[serde(default)]
    code: String,
}

/// `POST /account/passkeys/options`: a registration ceremony.
pub(super) async fn register_options(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<OptionsIn>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &body.csrf)?;
    let user = own_user(&caller)?;
    let rp = relying_party(&state)?;
    account::limit(&state, user)?;
    if !proven(&state, &caller, user, peer, &body.password).await? {
        audit(&state, user, "factor.passkey.add", Some(peer), "401").await?;
        return Err(ApiError::Forbidden(
            if user.password_hash == isx_app::sso::NO_PASSWORD {
                "sign in again, then add the passkey within ten minutes"
            } else {
                "wrong password"
            }
            .into(),
        ));
    }
    // A user that has a second factor proves it too: a stolen session and
    // the password must not add a factor of the thief's.
    let now = state.clock.now();
    if state.store.totp(user.id).await?.is_some() {
        match isx_app::second_factor::check(state.store.as_ref(), user.id, &body.code, now).await? {
            isx_app::second_factor::Checked::Proven(_) => {}
            _ => {
                audit(&state, user, "factor.passkey.add", Some(peer), "401").await?;
                return Err(ApiError::Forbidden(
                    "enter a current code of your authenticator app (or a recovery code)".into(),
                ));
            }
        }
    } else if !state.store.passkeys(user.id).await?.is_empty() && !fresh(&state, &caller) {
        audit(&state, user, "factor.passkey.add", Some(peer), "401").await?;
        return Err(ApiError::Forbidden(
            "sign in again with a passkey, then add the new one within ten minutes".into(),
        ));
    }
    let (options, token) =
        passkeys::start_registration(state.store.as_ref(), &rp, user, state.clock.now()).await?;
    Ok(Json(json!({"token": token, "options": options})).into_response())
}

#[derive(Deserialize)]
pub(super) struct RegisterIn {
    csrf: String,
    token: String,
    name: String,
    credential: Value,
}

/// `POST /account/passkeys`: the authenticator's answer.
pub(super) async fn register(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<RegisterIn>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &body.csrf)?;
    let user = own_user(&caller)?;
    let rp = relying_party(&state)?;
    let done = passkeys::finish_registration(
        state.store.as_ref(),
        &rp,
        user,
        &body.token,
        &body.credential,
        &body.name,
        state.clock.now(),
    )
    .await;
    let outcome = if done.is_ok() { "ok" } else { "refused" };
    audit(&state, user, "factor.passkey.add", Some(peer), outcome).await?;
    let key = done?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": key.credential_id, "name": key.name})),
    )
        .into_response())
}

#[derive(Deserialize)]
pub(super) struct RemoveForm {
    csrf: String,
    id: String,
    #[serde(default)]
    password: String,
}

/// `POST /account/passkeys/remove`.
pub(super) async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    WebForm(form): WebForm<RemoveForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf)?;
    let user = own_user(&caller)?;
    account::limit(&state, user)?;
    // The last factor of a member that requires one stays (it is
    // replaced, not removed), as an authenticator app does.
    let keys = state.store.passkeys(user.id).await?;
    let last = keys.len() <= 1 && state.store.totp(user.id).await?.is_none();
    if last && state.store.second_factor_required(user.member).await? {
        return account::account_page(
            &state,
            &caller,
            None,
            Vec::new(),
            Some(
                "Your organisation requires a second factor: add another passkey or an authenticator app first."
                    .into(),
            ),
            None,
        )
        .await;
    }
    if !proven(&state, &caller, user, peer, &form.password).await? {
        audit(&state, user, "factor.passkey.remove", Some(peer), "401").await?;
        return account::account_page(
            &state,
            &caller,
            None,
            Vec::new(),
            Some("Wrong password: the passkey stays.".into()),
            None,
        )
        .await;
    }
    let removed = state.store.delete_passkey(user.id, &form.id).await?;
    audit(
        &state,
        user,
        "factor.passkey.remove",
        Some(peer),
        if removed { "ok" } else { "404" },
    )
    .await?;
    account::account_page(
        &state,
        &caller,
        None,
        Vec::new(),
        (!removed).then(|| "No such passkey.".to_owned()),
        removed.then(|| "Passkey removed.".to_owned()),
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct SignInOptionsIn {
    csrf: String,
}

/// `POST /login/second-factor/passkey/options`: an authentication
/// ceremony for the user of this browser's sign-in step.
pub(super) async fn sign_in_options(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SignInOptionsIn>,
) -> Result<Response, ApiError> {
    super::check_login_csrf(&headers, &body.csrf)?;
    // 403, not 401: a 401 would make browsers ask for a password.
    let Some((_, user)) = account::live_challenge(&state, &headers).await? else {
        return Err(ApiError::Forbidden(
            "this sign-in step expired; sign in again".into(),
        ));
    };
    super::sign_in_limit(&state, peer)?;
    let rp = relying_party(&state)?;
    match passkeys::start_authentication(state.store.as_ref(), &rp, &user, state.clock.now())
        .await?
    {
        Some((options, token)) => {
            Ok(Json(json!({"token": token, "options": options})).into_response())
        }
        None => Err(ApiError::Conflict("this account has no passkey".into())),
    }
}

#[derive(Deserialize)]
pub(super) struct SignInIn {
    csrf: String,
    token: String,
    credential: Value,
}

/// `POST /login/second-factor/passkey`: the assertion; a session if it
/// verifies.
pub(super) async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SignInIn>,
) -> Result<Response, ApiError> {
    super::check_login_csrf(&headers, &body.csrf)?;
    let Some((c, user)) = account::live_challenge(&state, &headers).await? else {
        return Err(ApiError::Forbidden(
            "this sign-in step expired; sign in again".into(),
        ));
    };
    account::limit(&state, &user)?;
    if state.store.challenge_attempt(&c.token_hash).await? > account::ATTEMPTS {
        state.store.delete_challenge(&c.token_hash).await?;
        audit(
            &state,
            &user,
            "session.second_factor",
            Some(peer),
            "too-many",
        )
        .await?;
        return Err(ApiError::Forbidden("too many tries; sign in again".into()));
    }
    let rp = relying_party(&state)?;
    let now = state.clock.now();
    let verdict = passkeys::finish_authentication(
        state.store.as_ref(),
        &rp,
        &user,
        &body.token,
        &body.credential,
        now,
    )
    .await?;
    if verdict != passkeys::Verdict::Proven {
        if verdict == passkeys::Verdict::PossibleClone {
            tracing::warn!(user = %user.login, "a passkey's counter went back: it may have been cloned");
        }
        audit(
            &state,
            &user,
            "session.second_factor",
            Some(peer),
            verdict.outcome(),
        )
        .await?;
        return Err(ApiError::Forbidden(
            "the passkey's answer was not accepted".into(),
        ));
    }
    state.store.delete_challenge(&c.token_hash).await?;
    if !account::bind_pending(&state, &c).await? {
        audit(&state, &user, "session.sso", Some(peer), "linked-elsewhere").await?;
        return Err(ApiError::Forbidden(
            "this sign-in can no longer be completed; sign in again".into(),
        ));
    }
    audit(
        &state,
        &user,
        "session.second_factor",
        Some(peer),
        "passkey",
    )
    .await?;
    let mut res = Json(json!({"redirect": "/"})).into_response();
    super::start_session(&state, &user, now, (peer, &headers), &mut res).await?;
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(&state, account::CHALLENGE_COOKIE, "", "/login", 0),
    );
    Ok(res)
}
