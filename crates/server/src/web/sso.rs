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
use crate::extract::WebForm;
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

#[derive(serde::Deserialize)]
pub(super) struct StartForm {
    csrf: String,
}

/// `POST /login/sso/{provider}` (the sign-in page's button, with the
/// sign-in form's CSRF token, so another site cannot start sign-ins in a
/// visitor's browser): to the provider.
pub(super) async fn start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    WebForm(form): WebForm<StartForm>,
) -> Result<Response, ApiError> {
    super::check_login_csrf(&headers, &form.csrf)?;
    super::sign_in_limit(&state, peer)?;
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
            // A page that moves on by itself, not a redirect: the sign-in
            // page's `form-action 'self'` would stop a form's redirect to
            // another site.
            let mut res = render(&ContinuePage {
                to: s.authorize_url,
            })?
            .into_response();
            res.headers_mut().append(
                header::SET_COOKIE,
                sso_cookie(&state, &s.browser_token, sso::PENDING_SECS),
            );
            Ok(res)
        }
        Err(r) => {
            tracing::warn!(provider = %shown(&provider), reason = ?r, "single sign-on cannot start");
            refused(StatusCode::BAD_GATEWAY, r.to_string())
        }
    }
}

/// A provider name from a path, as logs and the audit log may show it.
fn shown(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(32)
        .collect()
}

/// A page that moves on to `to` by itself: the navigation it starts is
/// same-site, so `to` receives the `Strict` cookies this answer sets.
fn hop(res: Response) -> Result<Response, ApiError> {
    let to = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|l| l.starts_with('/') && !l.starts_with("//") && !l.starts_with("/\\"))
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
    if let Err((Refusal::Expired, _)) = &done {
        // Anyone can send this; past the per-address budget it is not
        // even written down.
        super::sign_in_limit(&state, peer)?;
    }
    let clear = sso_cookie(&state, "", 0);
    let outcome = match done {
        Ok(s) => second_step(&state, s).await?,
        Err((r, a)) => Err((r, a)),
    };
    let (actor, member, word) = match &outcome {
        Ok((s, next)) => (
            format!("user:{}", s.user.login),
            Some(s.user.member),
            if matches!(next, Next::Session) {
                s.how
            } else {
                "provider-ok"
            }
            .to_owned(),
        ),
        Err((r, a)) => (
            format!(
                "sso:{}:{}",
                shown(a.provider.as_deref().unwrap_or("?")),
                a.login
                    .as_deref()
                    .map(|l| l
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(64)
                        .collect::<String>())
                    .unwrap_or_else(|| "?".into())
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
            target: format!("sso/{}", shown(&provider)),
            source_ip: Some(peer.ip().to_string()),
            outcome: word,
        })
        .await?;
    let (signed_in, next) = match outcome {
        Ok(x) => x,
        Err((r, _)) => {
            tracing::info!(provider = %shown(&provider), outcome = r.outcome(), reason = ?r, "single sign-on refused");
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
    let mut res = match next {
        Next::Factor { enrol } => {
            let mut res = account::challenge(&state, &user, enrol, signed_in.link, now).await?;
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
        }
        Next::Session => {
            let mut res = Redirect::to("/").into_response();
            start_session(&state, &user, now, (peer, &headers), &mut res).await?;
            res
        }
    };
    res.headers_mut().append(header::SET_COOKIE, clear);
    hop(res)
}

/// What follows a provider's sign-in.
enum Next {
    /// The second factor (`enrol`: set one up first).
    Factor {
        enrol: bool,
    },
    Session,
}

/// Decides the step after the provider: the second factor where the user
/// has one or its member requires one (a first sign-in's binding waits
/// for it), else the binding now and a session.
async fn second_step(
    state: &AppState,
    s: sso::SignedIn,
) -> Result<Result<(sso::SignedIn, Next), (Refusal, sso::Attempt)>, ApiError> {
    let attempt = || sso::Attempt {
        provider: Some(s.provider.clone()),
        login: Some(s.user.login.to_string()),
        member: Some(s.user.member),
    };
    let (enrolled, required, _) =
        isx_app::second_factor::status(state.store.as_ref(), &s.user).await?;
    if required && !enrolled && s.how == "linked" {
        // Setting a factor up on the way in would let whoever holds the
        // provider account choose the factor of an existing user.
        return Ok(Err((Refusal::FactorFirst, attempt())));
    }
    if enrolled || required {
        return Ok(Ok((s, Next::Factor { enrol: !enrolled })));
    }
    if let Some(link) = &s.link {
        if !sso::bind(state.store.as_ref(), link).await? {
            return Ok(Err((Refusal::LinkedElsewhere, attempt())));
        }
    }
    Ok(Ok((s, Next::Session)))
}
