//! A user's own account security: its second factor (TOTP with an
//! authenticator app, enrolled from a QR code) and recovery codes, and the
//! sign-in step that asks for them.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use isx_app::second_factor;
use isx_domain::{NewAuditEvent, Timestamp, User};
use serde::Deserialize;

use super::{check_csrf, cookie_header, render, LOGIN_CSRF_COOKIE};
use crate::auth::{self, Caller};
use crate::extract::WebForm;
use crate::problem::ApiError;
use crate::AppState;

/// The cookie of a sign-in between the password and the second factor.
pub(super) const CHALLENGE_COOKIE: &str = "isx_challenge";
/// How long that step lasts.
pub(super) const CHALLENGE_SECS: i64 = 300;
/// Codes a sign-in step may try before it ends.
pub(super) const ATTEMPTS: i64 = 5;

/// The QR code of an `otpauth://` URI, as inline SVG.
fn qr_svg(uri: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| ApiError::Internal(format!("QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in HTML: the element only, not the XML declaration.
    Ok(svg
        .find("<svg")
        .map_or(svg.clone(), |i| svg[i..].to_owned()))
}

/// What enrolling a secret shows: the QR code, the URI and the secret.
pub(super) struct Enrolment {
    secret: String,
    uri: String,
    qr: String,
}

fn enrolment(state: &AppState, login: &str, secret: String) -> Result<Enrolment, ApiError> {
    let uri = second_factor::otpauth_uri(&state.config.instance_name, login, &secret);
    Ok(Enrolment {
        qr: qr_svg(&uri)?,
        uri,
        secret,
    })
}

pub(super) async fn audit(
    state: &AppState,
    user: &User,
    action: &str,
    peer: Option<SocketAddr>,
    outcome: &str,
) -> Result<(), ApiError> {
    state
        .store
        .append_audit(&NewAuditEvent {
            at: state.clock.now(),
            actor: format!("user:{}", user.login),
            member: Some(user.member),
            action: action.into(),
            target: format!("user:{}", user.login),
            source_ip: peer.map(|p| p.ip().to_string()),
            outcome: outcome.into(),
        })
        .await?;
    Ok(())
}

#[derive(askama::Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: super::pages::Layout,
    sessions: Vec<SessionRow>,
    enrolled: bool,
    required: bool,
    codes_left: u64,
    setup: Option<Enrolment>,
    new_codes: Vec<String>,
    passkeys: Vec<PasskeyRow>,
    /// Why passkeys cannot be used here (the public URL is an IP address).
    passkey_problem: Option<String>,
    /// Users that single sign-on created have none.
    has_password: bool,
}

pub(super) async fn account_page(
    state: &AppState,
    caller: &Caller,
    setup: Option<Enrolment>,
    new_codes: Vec<String>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, ApiError> {
    let user = own_user(caller)?;
    let (_, required, codes_left) = second_factor::status(state.store.as_ref(), user).await?;
    let enrolled = state.store.totp(user.id).await?.is_some();
    let sessions = session_rows(state, caller, user).await?;
    let passkeys = passkey_rows(state, user).await?;
    let passkey_problem = isx_app::passkeys::RelyingParty::new(state.public_url()).err();
    let has_password = user.password_hash != isx_app::sso::NO_PASSWORD;
    let mut layout = super::pages::layout(caller, "Account security", "account");
    layout.error = error;
    layout.notice = notice;
    let status = if layout.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        render(&AccountPage {
            layout,
            sessions,
            enrolled,
            required,
            codes_left,
            setup,
            new_codes,
            passkeys,
            passkey_problem,
            has_password,
        })?,
    )
        .into_response())
}

/// One passkey, as the account page lists it.
pub(super) struct PasskeyRow {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: String,
}

async fn passkey_rows(state: &AppState, user: &User) -> Result<Vec<PasskeyRow>, ApiError> {
    Ok(state
        .store
        .passkeys(user.id)
        .await?
        .into_iter()
        .map(|p| PasskeyRow {
            id: p.credential_id,
            name: p.name,
            created_at: p.created_at.to_rfc3339(),
            last_used_at: p
                .last_used_at
                .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339()),
        })
        .collect())
}

/// One of the user's web sessions, as its account page lists it.
struct SessionRow {
    /// The stored hash of the session's cookie (not the cookie: it
    /// names the session in the form that ends it, and signs nobody in).
    id: String,
    created_at: String,
    expires_at: String,
    from: String,
    browser: String,
    current: bool,
}

async fn session_rows(
    state: &AppState,
    caller: &Caller,
    user: &User,
) -> Result<Vec<SessionRow>, ApiError> {
    let now = state.clock.now();
    let current = caller.session.as_ref().map(|s| s.token_hash.as_str());
    Ok(state
        .store
        .sessions_of(user.id)
        .await?
        .into_iter()
        .filter(|s| s.expires_at > now)
        .map(|s| SessionRow {
            current: current == Some(s.token_hash.as_str()),
            id: s.token_hash,
            created_at: s.created_at.to_rfc3339(),
            expires_at: s.expires_at.to_rfc3339(),
            from: s.source_ip.unwrap_or_default(),
            browser: s.user_agent.unwrap_or_default(),
        })
        .collect())
}

#[derive(Deserialize)]
pub(crate) struct EndSessionForm {
    csrf: String,
    /// One session (its id on the page); empty: every other one.
    #[serde(default)]
    session: String,
}

/// Ends one of the caller's own sessions, or every other one.
pub(crate) async fn end_session(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(caller): Extension<Caller>,
    WebForm(form): WebForm<EndSessionForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf)?;
    let user = own_user(&caller)?.clone();
    let current = caller
        .session
        .as_ref()
        .map(|s| s.token_hash.clone())
        .unwrap_or_default();
    let mut ended = 0u64;
    // Only the caller's own sessions are candidates: another user's
    // session id matches none of them.
    for s in state.store.sessions_of(user.id).await? {
        let chosen = if form.session.is_empty() {
            s.token_hash != current
        } else {
            s.token_hash == form.session
        };
        if chosen {
            state.store.delete_session(&s.token_hash).await?;
            ended += 1;
        }
    }
    audit(
        &state,
        &user,
        "session.end",
        Some(peer),
        &format!("{ended} ended"),
    )
    .await?;
    if form.session == current && !current.is_empty() {
        return Ok(Redirect::to("/login").into_response());
    }
    account_page(
        &state,
        &caller,
        None,
        Vec::new(),
        None,
        Some(format!("{ended} session(s) ended.")),
    )
    .await
}

pub(super) fn own_user(caller: &Caller) -> Result<&User, ApiError> {
    caller
        .user
        .as_ref()
        .ok_or_else(|| ApiError::Forbidden("account pages are for signed-in users".into()))
}

pub(crate) async fn account(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    account_page(&state, &caller, None, Vec::new(), None, None).await
}

#[derive(Deserialize)]
pub(crate) struct CodeForm {
    csrf: String,
    #[serde(default)]
    code: String,
    /// The secret being enrolled (set-up form only).
    #[serde(default)]
    secret: String,
    /// Proof that the one setting up is the account's owner (set-up form
    /// only): a current code of the factor it replaces, or, without one,
    /// the password — a stolen session alone cannot lock the owner out.
    #[serde(default)]
    current: String,
}

/// Whether `password` is `user`'s, checked as sign-in checks it (Argon2id,
/// at most `password_slots` at once).
pub(super) async fn password_ok(
    state: &AppState,
    user: &User,
    password: String,
) -> Result<bool, ApiError> {
    let hash = user.password_hash.clone();
    let slot = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        state.password_slots.clone().acquire_owned(),
    )
    .await
    .map_err(|_| ApiError::Unavailable("too many sign-ins at once; try again shortly".into()))?
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let ok = auth::verify_password(&password, &hash);
        drop(slot);
        ok
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))
}

const LOCKED: &str = "Too many wrong codes: ask your administrator to reset your second factor.";

/// Starts setting up an authenticator: a fresh secret, shown as a QR code.
pub(crate) async fn setup(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WebForm(form): WebForm<CodeForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf)?;
    let user = own_user(&caller)?;
    let e = enrolment(&state, user.login.as_str(), second_factor::new_secret())?;
    account_page(&state, &caller, Some(e), Vec::new(), None, None).await
}

/// Confirms the set-up with the authenticator's current code, after the
/// owner's proof (the current factor's code, or the password); shows the
/// recovery codes once.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(caller): Extension<Caller>,
    WebForm(form): WebForm<CodeForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf)?;
    let user = own_user(&caller)?.clone();
    limit(&state, &user)?;
    // The secret comes back from the form: anything else than one isx
    // makes is refused before it is drawn again as a QR code.
    if !second_factor::is_secret(&form.secret) {
        return Err(ApiError::BadRequest("not a TOTP secret of isx".into()));
    }
    let now = state.clock.now();
    let store = state.store.as_ref();
    let replacing = store.totp(user.id).await?.is_some();
    let action = if replacing {
        "factor.totp.replace"
    } else {
        "factor.totp.enrol"
    };
    let owner = if replacing {
        match second_factor::check(store, user.id, &form.current, now).await? {
            second_factor::Checked::Proven(_) => Ok(()),
            second_factor::Checked::Wrong => Err((
                "401",
                "Enter a current code of the authenticator you replace (or a recovery code).",
            )),
            second_factor::Checked::Locked => Err(("locked", LOCKED)),
        }
    } else if password_ok(&state, &user, form.current.clone()).await? {
        Ok(())
    } else {
        Err(("401", "Wrong password."))
    };
    let error = match owner {
        Err(e) => Some(e),
        Ok(()) => {
            match second_factor::enrol(store, user.id, &form.secret, &form.code, true, now).await? {
                second_factor::Enrolled::Codes(codes) => {
                    audit(&state, &user, action, Some(peer), "ok").await?;
                    return account_page(
                        &state,
                        &caller,
                        None,
                        codes,
                        None,
                        Some("Authenticator set up: sign-in now asks for its code.".into()),
                    )
                    .await;
                }
                _ => Some((
                    "401",
                    "That code is not the new authenticator's current one; try the next.",
                )),
            }
        }
    };
    let (outcome, message) = error.unwrap_or(("401", "Wrong code."));
    audit(&state, &user, action, Some(peer), outcome).await?;
    let e = enrolment(&state, user.login.as_str(), form.secret)?;
    account_page(
        &state,
        &caller,
        Some(e),
        Vec::new(),
        Some(message.into()),
        None,
    )
    .await
}

/// Removes the factor (with a current code or a recovery code), unless
/// the user's member requires one.
pub(crate) async fn remove(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(caller): Extension<Caller>,
    WebForm(form): WebForm<CodeForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf)?;
    let user = own_user(&caller)?.clone();
    limit(&state, &user)?;
    if state.store.second_factor_required(user.member).await? {
        return account_page(
            &state,
            &caller,
            None,
            Vec::new(),
            Some("Your organisation requires a second factor: set up another instead.".into()),
            None,
        )
        .await;
    }
    if let Some(page) = unproven(
        &state,
        &caller,
        &user,
        peer,
        &form.code,
        "factor.totp.remove",
    )
    .await?
    {
        return Ok(page);
    }
    state.store.delete_totp(user.id).await?;
    audit(&state, &user, "factor.totp.remove", Some(peer), "ok").await?;
    account_page(
        &state,
        &caller,
        None,
        Vec::new(),
        None,
        Some("Authenticator removed.".into()),
    )
    .await
}

/// A new set of recovery codes (with a current code), shown once.
pub(crate) async fn renew_codes(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(caller): Extension<Caller>,
    WebForm(form): WebForm<CodeForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf)?;
    let user = own_user(&caller)?.clone();
    limit(&state, &user)?;
    let now = state.clock.now();
    if let Some(page) = unproven(
        &state,
        &caller,
        &user,
        peer,
        &form.code,
        "factor.recovery.renew",
    )
    .await?
    {
        return Ok(page);
    }
    let codes = second_factor::renew_recovery_codes(state.store.as_ref(), user.id, now).await?;
    audit(&state, &user, "factor.recovery.renew", Some(peer), "ok").await?;
    account_page(&state, &caller, None, codes, None, None).await
}

/// Checks `code` against `user`'s factor for `action`: `None` when it
/// proves the factor, else the refusal (audited) as the account page.
async fn unproven(
    state: &AppState,
    caller: &Caller,
    user: &User,
    peer: SocketAddr,
    code: &str,
    action: &str,
) -> Result<Option<Response>, ApiError> {
    let now = state.clock.now();
    let (outcome, error) =
        match second_factor::check(state.store.as_ref(), user.id, code, now).await? {
            second_factor::Checked::Proven(_) => return Ok(None),
            second_factor::Checked::Wrong => ("401", "Wrong code."),
            second_factor::Checked::Locked => ("locked", LOCKED),
        };
    audit(state, user, action, Some(peer), outcome).await?;
    Ok(Some(
        account_page(state, caller, None, Vec::new(), Some(error.into()), None).await?,
    ))
}

/// Codes tried per user are bounded like passwords.
pub(super) fn limit(state: &AppState, user: &User) -> Result<(), ApiError> {
    state
        .account_limiter
        .check(&format!("factor:{}", user.id.0))
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })
}

#[derive(askama::Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage {
    csrf: String,
    enrol: Option<Enrolment>,
    error: Option<String>,
    new_codes: Vec<String>,
    /// Too many wrong codes: no form.
    locked: bool,
    /// The user has passkeys: offer them.
    passkey: bool,
}

/// The challenge a sign-in cookie names, if live.
pub(super) async fn live_challenge(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(isx_store::SignInChallenge, User)>, ApiError> {
    let Some(token) = auth::cookie(headers, CHALLENGE_COOKIE).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let hash = auth::hash_secret(token);
    let Some(c) = state.store.challenge(&hash).await? else {
        return Ok(None);
    };
    if c.expires_at <= state.clock.now() {
        state.store.delete_challenge(&hash).await?;
        return Ok(None);
    }
    match state.store.user(c.user).await? {
        Some(u) if !u.is_disabled() => Ok(Some((c, u))),
        _ => Ok(None),
    }
}

pub(super) fn login_csrf(headers: &HeaderMap) -> String {
    auth::cookie(headers, LOGIN_CSRF_COOKIE)
        .map(str::to_owned)
        .unwrap_or_default()
}

fn back_to_login() -> Response {
    Redirect::to("/login").into_response()
}

pub(super) async fn second_factor_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some((c, user)) = live_challenge(&state, &headers).await? else {
        return Ok(back_to_login());
    };
    let enrol = match c.pending_secret {
        Some(secret) => Some(enrolment(&state, user.login.as_str(), secret)?),
        None => None,
    };
    Ok(render(&SecondFactorPage {
        csrf: login_csrf(&headers),
        enrol,
        error: None,
        new_codes: Vec::new(),
        locked: false,
        passkey: !state.store.passkeys(user.id).await?.is_empty(),
    })?
    .into_response())
}

#[derive(Deserialize)]
pub(super) struct ChallengeForm {
    csrf: String,
    code: String,
}

/// The sign-in's second step: a code (enrolling the pending secret when
/// the member requires a factor the user has not got), then the session.
pub(super) async fn second_factor_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    WebForm(form): WebForm<ChallengeForm>,
) -> Result<Response, ApiError> {
    super::check_login_csrf(&headers, &form.csrf)?;
    let Some((c, user)) = live_challenge(&state, &headers).await? else {
        return Ok(back_to_login());
    };
    super::sign_in_limit(&state, peer)?;
    limit(&state, &user)?;
    let now = state.clock.now();
    // Each try counts first, so parallel tries cannot share one budget.
    if state.store.challenge_attempt(&c.token_hash).await? > ATTEMPTS {
        state.store.delete_challenge(&c.token_hash).await?;
        audit(
            &state,
            &user,
            "session.second_factor",
            Some(peer),
            "too-many",
        )
        .await?;
        return Ok(back_to_login());
    }
    // A pending enrolment whose user meanwhile set a factor up (another
    // sign-in) checks that factor instead: enrolling would replace it.
    let enrolled = second_factor::status(state.store.as_ref(), &user).await?.0;
    let pending = c.pending_secret.clone().filter(|_| !enrolled);
    let (checked, new_codes) = match &pending {
        Some(secret) => {
            match second_factor::enrol(
                state.store.as_ref(),
                user.id,
                secret,
                &form.code,
                false,
                now,
            )
            .await?
            {
                second_factor::Enrolled::Codes(codes) => {
                    audit(&state, &user, "factor.totp.enrol", Some(peer), "ok").await?;
                    (
                        second_factor::Checked::Proven(second_factor::Proof::Totp),
                        codes,
                    )
                }
                // A wrong code, or another enrolment won a race.
                _ => (second_factor::Checked::Wrong, Vec::new()),
            }
        }
        None => (
            second_factor::check(state.store.as_ref(), user.id, &form.code, now).await?,
            Vec::new(),
        ),
    };
    let proof = match checked {
        second_factor::Checked::Proven(p) => p,
        second_factor::Checked::Locked => {
            state.store.delete_challenge(&c.token_hash).await?;
            audit(&state, &user, "session.second_factor", Some(peer), "locked").await?;
            let page = SecondFactorPage {
                csrf: String::new(),
                enrol: None,
                error: Some(LOCKED.into()),
                new_codes: Vec::new(),
                locked: true,
                passkey: false,
            };
            return Ok((StatusCode::UNAUTHORIZED, render(&page)?).into_response());
        }
        second_factor::Checked::Wrong => {
            audit(&state, &user, "session.second_factor", Some(peer), "401").await?;
            let enrol = match pending {
                Some(secret) => Some(enrolment(&state, user.login.as_str(), secret)?),
                None => None,
            };
            let page = SecondFactorPage {
                csrf: form.csrf,
                enrol,
                error: Some("Wrong code.".into()),
                new_codes: Vec::new(),
                locked: false,
                passkey: !state.store.passkeys(user.id).await?.is_empty(),
            };
            return Ok((StatusCode::UNAUTHORIZED, render(&page)?).into_response());
        }
    };
    state.store.delete_challenge(&c.token_hash).await?;
    if !bind_pending(&state, &c).await? {
        audit(&state, &user, "session.sso", Some(peer), "linked-elsewhere").await?;
        return Ok(back_to_login());
    }
    audit(
        &state,
        &user,
        "session.second_factor",
        Some(peer),
        proof.as_str(),
    )
    .await?;
    let mut res = if new_codes.is_empty() {
        Redirect::to("/").into_response()
    } else {
        // Enrolled on the way in: the recovery codes, once, then on.
        render(&SecondFactorPage {
            csrf: String::new(),
            enrol: None,
            error: None,
            new_codes,
            locked: false,
            passkey: false,
        })?
        .into_response()
    };
    super::start_session(&state, &user, now, (peer, &headers), &mut res).await?;
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(&state, CHALLENGE_COOKIE, "", "/login", 0),
    );
    Ok(res)
}

/// Binds the single sign-on identity a first sign-in's step carries, now
/// that its second factor is proven; `false` if it can no longer be bound
/// (the sign-in is then refused).
pub(super) async fn bind_pending(
    state: &AppState,
    c: &isx_store::SignInChallenge,
) -> Result<bool, ApiError> {
    match &c.pending_link {
        Some(link) => Ok(isx_app::sso::bind(state.store.as_ref(), link).await?),
        None => Ok(true),
    }
}

/// Starts the second step of a sign-in for `user` (its password was
/// right): a challenge only the second-factor page accepts.
pub(super) async fn challenge(
    state: &AppState,
    user: &User,
    enrol: bool,
    link: Option<isx_store::SsoIdentity>,
    now: Timestamp,
) -> Result<Response, ApiError> {
    let token = auth::random_hex32();
    state
        .store
        .insert_challenge(&isx_store::SignInChallenge {
            token_hash: auth::hash_secret(&token),
            user: user.id,
            pending_secret: enrol.then(second_factor::new_secret),
            pending_link: link,
            attempts: 0,
            created_at: now,
            expires_at: now.add_secs(CHALLENGE_SECS),
        })
        .await?;
    let mut res = Redirect::to("/login/second-factor").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(state, CHALLENGE_COOKIE, &token, "/login", CHALLENGE_SECS),
    );
    Ok(res)
}
