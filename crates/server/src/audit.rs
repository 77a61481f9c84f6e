//! The gates in front of authenticated routes: authenticate, apply the rate
//! limit, hand the [`Caller`] to the handler, and write one audit event per
//! request (who, what, when, from where, outcome).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use isx_domain::NewAuditEvent;

use crate::auth::{self, Caller};
use crate::problem::ApiError;
use crate::AppState;

/// Attached to a response by a handler to name what it did in the audit
/// log, e.g. `("key.create", "key/0123…")`. Without it the event is named
/// after the method and path.
#[derive(Debug, Clone)]
pub struct AuditNote {
    pub action: String,
    pub target: String,
}

impl AuditNote {
    pub fn new(action: &str, target: impl Into<String>) -> Self {
        AuditNote {
            action: action.to_owned(),
            target: target.into(),
        }
    }
}

/// Adds an [`AuditNote`] to any response.
pub fn noted(note: AuditNote, res: impl IntoResponse) -> Response {
    let mut res = res.into_response();
    res.extensions_mut().insert(note);
    res
}

fn source_ip(req: &Request) -> Option<String> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// Gate for `/api/v1/*`: API keys only.
pub async fn api_gate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let now = state.clock.now();
    let caller = match auth::token_from_headers(req.headers()) {
        Ok(Some(token)) => auth::caller_from_token(&state, &token, now).await,
        Ok(None) => Err(ApiError::Unauthorized(
            "this endpoint needs an API key: send Authorization: Bearer isx_<key id>_<secret>"
                .into(),
        )),
        Err(e) => Err(e),
    };
    let caller = match caller {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if let Err(retry_after_secs) = state.limiter.check(&caller.actor(), now.as_micros()) {
        return ApiError::TooManyRequests { retry_after_secs }.into_response();
    }
    run_audited(state, caller, &mut req, next).await
}

/// Gate for the web application: a session cookie, or a redirect to the
/// login page. State-changing requests must carry the session's CSRF token
/// (checked by the form extractors in `web`).
pub async fn web_gate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let now = state.clock.now();
    let caller = match auth::caller_from_session(&state, req.headers(), now).await {
        Ok(Some(c)) => c,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(e) => return e.into_response(),
    };
    if let Err(retry_after_secs) = state.limiter.check(&caller.actor(), now.as_micros()) {
        return ApiError::TooManyRequests { retry_after_secs }.into_response();
    }
    run_audited(state, caller, &mut req, next).await
}

async fn run_audited(state: AppState, caller: Caller, req: &mut Request, next: Next) -> Response {
    let ip = source_ip(req);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let actor = caller.actor();
    let member = caller.member.id;
    req.extensions_mut().insert(caller);
    let taken = std::mem::replace(req, Request::new(axum::body::Body::empty()));
    let res = next.run(taken).await;
    let (action, target) = match res.extensions().get::<AuditNote>() {
        Some(n) => (n.action.clone(), n.target.clone()),
        None => {
            let verb = if method == Method::GET || method == Method::HEAD {
                "read"
            } else {
                "change"
            };
            (format!("{verb} {method}"), path)
        }
    };
    let event = NewAuditEvent {
        at: state.clock.now(),
        actor,
        member: Some(member),
        action,
        target,
        source_ip: ip,
        outcome: res.status().as_u16().to_string(),
    };
    if let Err(e) = state.store.append_audit(&event).await {
        tracing::error!(error = %e, "cannot write the audit log");
        return ApiError::Internal(format!("audit log: {e}")).into_response();
    }
    res
}
