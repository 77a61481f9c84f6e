//! Single sign-on pages: `/login/sso/{provider}` sends the browser to the
//! OpenID provider, `/login/sso/{provider}/callback` takes it back
//! (`isx_app::sso` does the protocol). The sign-in in progress is bound to
//! the browser by a cookie of its own: `SameSite=Lax`, because the
//! provider's redirect back is a cross-site navigation that would not
//! carry a `Strict` one. For the same reason the callback answers with a
//! page that moves on by itself (a same-site navigation), so the next
//! page receives the `Strict` session or challenge cookie just set.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use isx_app::sso::{self, Callback, Refusal};
use isx_domain::NewAuditEvent;

use super::{account, render, start_session, LOGIN_CSRF_COOKIE};
use crate::auth;
use crate::problem::ApiError;
use crate::AppState;

const SSO_COOKIE: &str = "isx_sso";

fn sso_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.secure { "; Secure" } else { "" };
    let text = format!(
        "{SSO_COOKIE}={value}; Path=/login/sso; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

#[derive(askama::Template)]
#[template(path = "sso_refused.html")]
struct RefusedPage {
    message: String,
}

#[derive(askama::Template)]
#[template(path = "sso_continue.html")]
struct ContinuePage {
    to: String,
}

fn refused(status: StatusCode, message: String) -> Result<Response, ApiError> {
    Ok((status, render(&RefusedPage { message })?).into_response())
}

/// `GET /login/sso/{provider}`: to the provider.
pub(super) async fn start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(provider): Path<String>,
) -> Result<Response, ApiError> {
    if let Err(retry_after_secs) = state
        .login_limiter
        .check(&crate::ratelimit::client_key(peer.ip()))
    {
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }
    let now = state.clock.now();
    let started = sso::begin(
        state.store.as_ref(),
        state.sso_http.as_ref(),
        &state.sso_cache,
        &provider,
        state.public_url(),
        now,
    )
    .await?;
    match started {
        Ok(s) => {
            let mut res = Redirect::to(&s.authorize_url).into_response();
            res.headers_mut().append(
                header::SET_COOKIE,
                sso_cookie(&state, &s.browser_token, sso::PENDING_SECS),
            );
            Ok(res)
        }
        Err(r) => {
            tracing::warn!(provider = %provider.chars().take(64).collect::<String>(), reason = %r, "single sign-on cannot start");
            refused(StatusCode::BAD_GATEWAY, r.to_string())
        }
    }
}

/// A page that moves on to `to` by itself: the navigation it starts is
/// same-site, so `to` receives the `Strict` cookies this answer sets.
fn hop(res: Response) -> Result<Response, ApiError> {
    let to = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|l| l.starts_with('/') && !l.starts_with("//"))
        .unwrap_or("/")
        .to_owned();
    let mut page = render(&ContinuePage { to })?.into_response();
    for c in res.headers().get_all(header::SET_COOKIE) {
        page.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    Ok(page)
}

/// `GET /login/sso/{provider}/callback`: the provider's answer.
pub(super) async fn callback(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    Query(cb): Query<Callback>,
) -> Result<Response, ApiError> {
    // Not rate-limited itself: it reaches the provider only for a sign-in
    // started (and limited) at `start`, once.
    let now = state.clock.now();
    let token = auth::cookie(&headers, SSO_COOKIE).unwrap_or("");
    let done = sso::finish(
        state.store.as_ref(),
        state.sso_http.as_ref(),
        &state.sso_cache,
        &provider,
        token,
        &cb,
        now,
    )
    .await?;
    let (actor, member, outcome) = match &done {
        Ok(s) => (
            format!("user:{}", s.user.login),
            Some(s.user.member),
            s.how.to_owned(),
        ),
        Err((r, a)) => (
            format!(
                "sso:{}:{}",
                a.provider.as_deref().unwrap_or("?"),
                a.login
                    .as_deref()
                    .unwrap_or("?")
                    .chars()
                    .take(64)
                    .collect::<String>()
            ),
            a.member,
            r.outcome().to_owned(),
        ),
    };
    state
        .store
        .append_audit(&NewAuditEvent {
            at: now,
            actor,
            member,
            action: "session.sso".into(),
            target: format!("sso/{}", provider.chars().take(64).collect::<String>()),
            source_ip: Some(peer.ip().to_string()),
            outcome,
        })
        .await?;
    let clear = sso_cookie(&state, "", 0);
    let signed_in = match done {
        Ok(s) => s,
        Err((r, _)) => {
            tracing::info!(provider = %provider.chars().take(64).collect::<String>(), outcome = r.outcome(), "single sign-on refused");
            let status = match r {
                Refusal::Unreachable(_) => StatusCode::BAD_GATEWAY,
                Refusal::Expired => StatusCode::BAD_REQUEST,
                _ => StatusCode::FORBIDDEN,
            };
            let mut res = refused(status, r.to_string())?;
            res.headers_mut().append(header::SET_COOKIE, clear);
            return Ok(res);
        }
    };
    let user = signed_in.user;
    let (enrolled, required, _) =
        isx_app::second_factor::status(state.store.as_ref(), &user).await?;
    let mut res = if enrolled || required {
        let mut res = account::challenge(&state, &user, !enrolled, now).await?;
        // The sign-in form's cookie was not sent on the provider's
        // cross-site redirect: the second-factor form gets a fresh one.
        res.headers_mut().append(
            header::SET_COOKIE,
            super::cookie_header(
                &state,
                LOGIN_CSRF_COOKIE,
                &auth::random_hex32(),
                "/login",
                3600,
            ),
        );
        res
    } else {
        let mut res = Redirect::to("/").into_response();
        start_session(&state, &user, now, (peer, &headers), &mut res).await?;
        res
    };
    res.headers_mut().append(header::SET_COOKIE, clear);
    hop(res)
}
