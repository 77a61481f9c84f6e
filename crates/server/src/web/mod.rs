//! The web application: server-rendered pages (askama templates compiled
//! into the binary) behind a session cookie. Every state-changing form
//! carries the session's CSRF token; cookies are HttpOnly, SameSite=Strict
//! and, over TLS, Secure. Nothing is loaded from outside the binary.

mod account;
mod advisories;
mod botnet;
mod charts;
mod cleanfiles;
mod organisation;
mod pages;
mod partnership;
mod passkeys;
mod sso;
mod urls;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use isx_domain::{Login, NewAuditEvent, Timestamp};
use isx_store::Session;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::auth::{self, Caller, SESSION_COOKIE};
use crate::extract::WebForm;
use crate::problem::ApiError;
use crate::AppState;

const LOGIN_CSRF_COOKIE: &str = "isx_login_csrf";

pub fn routes(state: AppState) -> Router<AppState> {
    let signed_in = Router::new()
        .route("/", get(pages::dashboard))
        .route("/keys", get(pages::keys).post(pages::create_key))
        .route("/keys/{key_id}/revoke", post(pages::revoke_key))
        .route("/groups", get(pages::groups).post(pages::create_group))
        .route("/groups/{id}/members", post(pages::join_group))
        .route(
            "/groups/{id}/members/{member}/remove",
            post(pages::remove_from_group),
        )
        .route("/groups/{id}", get(partnership::group))
        .route(
            "/groups/{id}/contributions",
            post(partnership::post_contribution),
        )
        .route("/groups/{id}/rules", post(partnership::post_rules))
        .route("/contributions/{id}", get(partnership::contribution))
        .route(
            "/contributions/{id}/comments",
            post(partnership::post_comment),
        )
        .route("/contributions/{id}/edit", post(partnership::post_edit))
        .route("/contributions/{id}/shares", post(partnership::post_share))
        .route(
            "/contributions/{id}/attachments",
            post(partnership::post_attachment).layer(axum::extract::DefaultBodyLimit::max(
                isx_partnership::governance::MAX_ATTACHMENT * 3 / 2 + 65_536,
            )),
        )
        .route(
            "/contributions/attachments/{id}",
            get(partnership::download_attachment),
        )
        .route("/shares", get(partnership::shares))
        .route("/shares/{id}", post(partnership::decide_share))
        .route("/partnership", get(partnership::overview))
        .route(
            "/admin/members",
            get(pages::members).post(pages::create_member),
        )
        .route("/organisation", get(organisation::organisation))
        .route("/organisation/users", post(organisation::create_user))
        .route(
            "/organisation/users/{id}/{action}",
            post(organisation::user_action),
        )
        .route(
            "/organisation/certificates",
            post(organisation::issue_certificate),
        )
        .route(
            "/organisation/certificates/{fingerprint}/revoke",
            post(organisation::revoke_certificate),
        )
        .route("/organisation/webhook", post(organisation::set_webhook))
        .route(
            "/organisation/recipients",
            post(organisation::set_recipients),
        )
        .route("/admin/users", get(pages::users).post(pages::create_user))
        .route("/admin/users/{id}/{action}", post(pages::user_action))
        .route("/admin/audit", get(pages::audit))
        .route(
            "/releases",
            get(advisories::releases).post(advisories::create_release),
        )
        .route("/releases/{id}", get(advisories::release))
        .route("/releases/{id}/change", post(advisories::change_release))
        .route("/releases/{id}/import", post(advisories::import))
        .route("/advisories/{id}", get(advisories::advisory))
        // The downloads the pages link to, with the session (the same
        // handlers, and so the same read path, as the API's).
        .route(
            "/releases/{id}/table",
            get(crate::api::advisories::release_table),
        )
        .route(
            "/advisories/{id}/csaf",
            get(crate::api::advisories::advisory_csaf),
        )
        .route("/admin/deliveries", get(advisories::deliveries))
        .route("/botnet", get(botnet::page))
        .route("/cleanfiles", get(cleanfiles::page))
        .route("/cleanfiles/lookup", post(cleanfiles::lookup))
        .route("/cleanfiles/files/{name}", get(cleanfiles::download))
        .route("/botnet/files/{name}", get(botnet::download))
        .route("/urls", get(urls::page))
        .route("/urls/import", post(urls::import))
        .route("/urls/files/{name}", get(urls::download))
        .route("/account", get(account::account))
        .route("/account/totp/setup", post(account::setup))
        .route("/account/totp/confirm", post(account::confirm))
        .route("/account/totp/remove", post(account::remove))
        .route("/account/recovery-codes", post(account::renew_codes))
        .route("/account/sessions/end", post(account::end_session))
        .route(
            "/account/passkeys/options",
            post(passkeys::register_options),
        )
        .route("/account/passkeys", post(passkeys::register))
        .route("/account/passkeys/remove", post(passkeys::remove))
        .route("/logout", post(logout))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::audit::web_gate,
        ));
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/login/sso/{provider}", post(sso::start))
        .route(
            "/login/second-factor/passkey/options",
            post(passkeys::sign_in_options),
        )
        .route("/login/second-factor/passkey", post(passkeys::sign_in))
        .route("/login/sso/{provider}/callback", get(sso::callback))
        .route(
            "/login/second-factor",
            get(account::second_factor_page).post(account::second_factor_submit),
        )
        .route("/static/app.css", get(stylesheet))
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
        .route("/static/cleanfiles.js", get(cleanfiles_script))
        .route("/static/attach.js", get(attach_script))
        .route("/static/passkey.js", get(passkey_script))
        .route("/static/time.js", get(time_script))
        .merge(signed_in)
}

async fn cleanfiles_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/cleanfiles.js"),
    )
}

async fn time_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/time.js"),
    )
}

async fn passkey_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/passkey.js"),
    )
}

async fn attach_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/attach.js"),
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
}

/// isx's icon (SVG; browsers asking for `/favicon.ico` get it too).
async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../static/favicon.svg"),
    )
}

/// Where a page of a long list stands in it, with links to the pages
/// around it (`templates/pager.html` draws it).
pub(crate) struct ListPager {
    pub first: usize,
    pub last: usize,
    pub total: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// `?offset=` of a paged list.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageParams {
    pub offset: Option<usize>,
}

/// The page of `items` at `offset` (`per` a page), and its pager; `link`
/// makes the address of the page at an offset.
pub(crate) fn page_of<T>(
    items: Vec<T>,
    offset: usize,
    per: usize,
    link: impl Fn(usize) -> String,
) -> (Vec<T>, ListPager) {
    let total = items.len();
    let offset = offset.min(total.saturating_sub(1) / per.max(1) * per.max(1));
    let page: Vec<T> = items.into_iter().skip(offset).take(per).collect();
    let last = offset + page.len();
    let pager = ListPager {
        first: if page.is_empty() { 0 } else { offset + 1 },
        last,
        total,
        prev: (offset > 0).then(|| link(offset.saturating_sub(per))),
        next: (last < total).then(|| link(last)),
    };
    (page, pager)
}

pub(crate) fn render(t: &impl askama::Template) -> Result<Html<String>, ApiError> {
    t.render()
        .map(Html)
        .map_err(|e| ApiError::Internal(format!("template: {e}")))
}

fn cookie_header(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
) -> HeaderValue {
    let secure = if state.secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Spends one of the address's sign-in tries (every step that checks a
/// credential, or starts a sign-in, counts).
pub(crate) fn sign_in_limit(state: &AppState, peer: SocketAddr) -> Result<(), ApiError> {
    state
        .login_limiter
        .check(&crate::ratelimit::client_key(peer.ip()))
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })
}

/// Spends one of an account's sign-in tries (`login:<login>`): several
/// addresses' worth, so that one address cannot lock the owner out.
pub(crate) fn account_limit(state: &AppState, account_key: &str) -> Result<(), ApiError> {
    state
        .account_limiter
        .check(account_key)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })
}

/// Rejects a sign-in form (password, second factor, passkey, single
/// sign-on start) whose token is not the sign-in cookie's.
pub(crate) fn check_login_csrf(headers: &HeaderMap, presented: &str) -> Result<(), ApiError> {
    let cookie = auth::cookie(headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if cookie.is_empty() || !bool::from(cookie.as_bytes().ct_eq(presented.as_bytes())) {
        return Err(ApiError::Forbidden(
            "the sign-in form expired; reload the page and try again".into(),
        ));
    }
    Ok(())
}

/// Rejects a form whose CSRF token is not the session's.
pub(crate) fn check_csrf(caller: &Caller, presented: &str) -> Result<(), ApiError> {
    let ok = caller
        .session
        .as_ref()
        .is_some_and(|s| bool::from(s.csrf_token.as_bytes().ct_eq(presented.as_bytes())));
    if ok {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "the form's CSRF token is missing or stale; reload the page and try again".into(),
        ))
    }
}

#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    error: Option<String>,
    /// Single sign-on providers: (name, what the button says).
    providers: Vec<(String, String)>,
}

/// The sign-in page's single sign-on buttons.
async fn providers(state: &AppState) -> Result<Vec<(String, String)>, ApiError> {
    Ok(state
        .store
        .sso_providers()
        .await?
        .into_iter()
        .map(|p| (p.name, p.display_name))
        .collect())
}

async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let csrf = auth::cookie(&headers, LOGIN_CSRF_COOKIE)
        .map(str::to_owned)
        .unwrap_or_else(auth::random_hex32);
    let mut res = render(&LoginPage {
        csrf: csrf.clone(),
        error: None,
        providers: providers(&state).await?,
    })?
    .into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(&state, LOGIN_CSRF_COOKIE, &csrf, "/login", 3600),
    );
    Ok(res)
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: String,
    login: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    WebForm(form): WebForm<LoginForm>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    sign_in_limit(&state, peer)?;
    check_login_csrf(&headers, &form.csrf)?;
    let login = Login::new(&form.login).ok();
    // Per account too, so that guessing one login's password from many
    // addresses is bounded (known or not: the answer must not tell which
    // logins exist) — with a budget several addresses large, so one
    // address cannot lock the account's owner out.
    // Bounded like a login (64 characters), so a megabyte of "login" is not
    // kept as a limiter key.
    let account_key = match &login {
        Some(l) => format!("login:{}", l.as_str()),
        None => format!("login:{}", form.login.chars().take(64).collect::<String>()),
    };
    account_limit(&state, &account_key)?;
    let user = match &login {
        Some(login) => state.store.user_by_login(login).await?,
        None => None,
    };
    // An unknown login is checked against a dummy hash, so that both take
    // the same time; at most `password_slots` hashes run at once.
    // A user single sign-on created has no password: checked against the
    // dummy hash too, so its answer takes a password check's time.
    let hash = user
        .as_ref()
        .filter(|u| u.password_hash != isx_app::sso::NO_PASSWORD)
        .map_or_else(
            || auth::dummy_password_hash().to_owned(),
            |u| u.password_hash.clone(),
        );
    let password = form.password;
    let slot = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        state.password_slots.clone().acquire_owned(),
    )
    .await
    .map_err(|_| ApiError::Unavailable("too many sign-ins at once; try again shortly".into()))?
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let matched = tokio::task::spawn_blocking(move || {
        let ok = auth::verify_password(&password, &hash);
        drop(slot);
        ok
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    // A disabled user is answered like a wrong password (after the same
    // hash), so the page tells nobody which accounts exist or are disabled.
    let disabled = user.as_ref().is_some_and(isx_domain::User::is_disabled);
    let has_password = user
        .as_ref()
        .is_some_and(|u| u.password_hash != isx_app::sso::NO_PASSWORD);
    let verified = matched && has_password && !disabled;
    // A right password of a user with a second factor (or whose member
    // requires one) is only the first step.
    let factor = match user.as_ref().filter(|_| verified) {
        Some(u) => Some(isx_app::second_factor::status(state.store.as_ref(), u).await?),
        None => None,
    };
    let second_step = factor.is_some_and(|(enrolled, required, _)| enrolled || required);
    let outcome = match (verified, disabled && matched) {
        (true, _) if second_step => "password-ok",
        (true, _) => "ok",
        (false, true) => "disabled",
        (false, false) => "401",
    };
    state
        .store
        .append_audit(&NewAuditEvent {
            at: now,
            actor: format!("user:{}", form.login.chars().take(64).collect::<String>()),
            member: user.as_ref().map(|u| u.member),
            action: "session.login".into(),
            target: "session".into(),
            source_ip: Some(peer.ip().to_string()),
            outcome: outcome.into(),
        })
        .await?;
    let Some(user) = user.filter(|_| verified) else {
        let page = LoginPage {
            csrf: form.csrf,
            error: Some("Wrong login or password.".into()),
            providers: providers(&state).await?,
        };
        return Ok((StatusCode::UNAUTHORIZED, render(&page)?).into_response());
    };
    if second_step {
        let enrol = factor.is_some_and(|(enrolled, _, _)| !enrolled);
        return account::challenge(&state, &user, enrol, None, now).await;
    }
    let mut res = Redirect::to("/").into_response();
    start_session(&state, &user, now, (peer, &headers), &mut res).await?;
    Ok(res)
}

/// Starts a web session for `user` on `res`: its cookie set, the sign-in
/// form's cookie cleared.
async fn start_session(
    state: &AppState,
    user: &isx_domain::User,
    now: Timestamp,
    origin: (SocketAddr, &HeaderMap),
    res: &mut Response,
) -> Result<(), ApiError> {
    let (peer, headers) = origin;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(200).collect::<String>());
    let token = auth::random_hex32();
    let ttl = state.config.session_ttl_secs;
    state
        .store
        .insert_session(&Session {
            token_hash: auth::hash_secret(&token),
            user: user.id,
            csrf_token: auth::random_hex32(),
            created_at: now,
            expires_at: Timestamp::from_micros(now.as_micros() + ttl * 1_000_000),
            source_ip: Some(peer.ip().to_string()),
            user_agent,
        })
        .await?;
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(state, SESSION_COOKIE, &token, "/", ttl),
    );
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(state, LOGIN_CSRF_COOKIE, "", "/login", 0),
    );
    Ok(())
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    pub(crate) csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WebForm(form): WebForm<CsrfForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf)?;
    if let Some(s) = &caller.session {
        state.store.delete_session(&s.token_hash).await?;
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(&state, SESSION_COOKIE, "", "/", 0),
    );
    Ok(res)
}
