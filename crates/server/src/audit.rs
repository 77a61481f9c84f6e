//! The gates in front of authenticated routes: authenticate, apply the rate
//! limit, hand the [`Caller`] to the handler, and write one audit event per
//! request (who, what, when, from where, outcome).
//!
//! Events go through the node's [`AuditWriter`], which writes the events of
//! concurrent requests in one transaction. A change (any method but GET and
//! HEAD) is answered only once its event is committed; a read is answered
//! at once and its event committed with the next batch (within
//! milliseconds) — a read does not wait for a disk flush. Reading the audit
//! log first waits for everything queued before it.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use isx_domain::NewAuditEvent;
use isx_store::Store;
use tokio::sync::{mpsc, oneshot};

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

enum AuditMsg {
    /// An event, and who waits for it to be committed.
    Event(NewAuditEvent, Option<oneshot::Sender<Result<(), String>>>),
    /// Answered once everything queued before it is committed.
    Flush(oneshot::Sender<()>),
}

/// The node's audit-log writer: a task that commits queued events in
/// batches (up to 1,000 per transaction).
#[derive(Debug, Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<AuditMsg>,
}

impl std::fmt::Debug for AuditMsg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuditMsg::Event(..) => "Event",
            AuditMsg::Flush(_) => "Flush",
        })
    }
}

impl AuditWriter {
    /// Starts the writer task (on the current Tokio runtime).
    pub fn start(store: std::sync::Arc<dyn Store>) -> AuditWriter {
        let (tx, rx) = mpsc::channel(10_000);
        tokio::spawn(write_batches(store, rx));
        AuditWriter { tx }
    }

    /// Queues an event; with `wait`, returns once it is committed.
    pub async fn record(&self, event: NewAuditEvent, wait: bool) -> Result<(), String> {
        let (done, committed) = if wait {
            let (s, r) = oneshot::channel();
            (Some(s), Some(r))
        } else {
            (None, None)
        };
        self.tx
            .send(AuditMsg::Event(event, done))
            .await
            .map_err(|_| "the audit writer has stopped".to_owned())?;
        match committed {
            Some(r) => r
                .await
                .map_err(|_| "the audit writer has stopped".to_owned())?,
            None => Ok(()),
        }
    }

    /// Waits until every event queued before this call is committed.
    pub async fn flush(&self) {
        let (s, r) = oneshot::channel();
        if self.tx.send(AuditMsg::Flush(s)).await.is_ok() {
            let _ = r.await;
        }
    }
}

async fn write_batches(store: std::sync::Arc<dyn Store>, mut rx: mpsc::Receiver<AuditMsg>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        // Reads gather for up to 5 ms (one transaction for the reads of a
        // busy moment); a change or a flush someone waits for is written
        // at once with whatever is queued.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(5);
        while batch.len() < 1_000 {
            let waited_for = batch
                .iter()
                .any(|m| matches!(m, AuditMsg::Event(_, Some(_)) | AuditMsg::Flush(_)));
            let next = if waited_for {
                rx.try_recv().ok()
            } else {
                tokio::time::timeout_at(deadline, rx.recv())
                    .await
                    .ok()
                    .flatten()
            };
            match next {
                Some(m) => batch.push(m),
                None => break,
            }
        }
        let events: Vec<NewAuditEvent> = batch
            .iter()
            .filter_map(|m| match m {
                AuditMsg::Event(e, _) => Some(e.clone()),
                AuditMsg::Flush(_) => None,
            })
            .collect();
        // A failed commit is retried (the disk may be full for a moment);
        // waiting requests learn of a lasting failure.
        let mut outcome = Ok(());
        for attempt in 0..5u32 {
            outcome = store
                .append_audit_batch(&events)
                .await
                .map_err(|e| e.to_string());
            if outcome.is_ok() {
                break;
            }
            tracing::error!(error = ?outcome, attempt, "cannot write the audit log");
            tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
        }
        for m in batch {
            match m {
                AuditMsg::Event(_, Some(done)) => {
                    let _ = done.send(outcome.clone());
                }
                AuditMsg::Event(_, None) => {}
                AuditMsg::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
    }
}

fn source_ip(req: &Request) -> Option<String> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// Gate for `/api/v1/*`: API keys only.
pub async fn api_gate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // A valid key is served even from an address whose failed-
    // authentication budget is spent: behind one NAT or proxy, a stranger's
    // bad keys must not lock a member out (and a key's 256-bit secret is
    // not guessed by trying). Only the failures are refused with 429.
    let now = state.clock.now();
    let caller = match auth::token_from_headers(req.headers()) {
        Ok(Some(token)) => auth::caller_from_token(&state, &token, now).await,
        Ok(None) => match req.extensions().get::<crate::client_certs::PeerCert>() {
            Some(cert) => auth::caller_from_cert(&state, cert, now).await,
            None => Err(ApiError::Unauthorized(
                "this endpoint needs an API key (send Authorization: Bearer isx_<key id>_<secret>) or a client certificate"
                    .into(),
            )),
        },
        Err(e) => Err(e),
    };
    let caller = match caller {
        Ok(c) => c,
        Err(e) => return refused(&state, &req, e).await,
    };
    if let Err(retry_after_secs) = state.limiter.check(&caller.actor()) {
        return ApiError::TooManyRequests { retry_after_secs }.into_response();
    }
    run_audited(state, caller, &mut req, next).await
}

/// The client a failed authentication is counted against: its address
/// (its /64 for IPv6).
fn client(req: &Request) -> String {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| crate::ratelimit::client_key(c.0.ip()))
        .unwrap_or_default()
}

/// A refused authentication (a bad, expired or revoked key, a malformed
/// header): counted against the client's budget of failed
/// authentications (the sign-in budget, 10 a minute by default), so keys
/// cannot be tried without limit nor the audit log flooded, and written
/// to the audit log as `auth.failed` with its outcome. Once the budget is
/// spent the answer is 429, counted in the metrics but not audited one by
/// one (a flood would fill the log).
fn refused(
    state: &AppState,
    req: &Request,
    e: ApiError,
) -> impl std::future::Future<Output = Response> + Send {
    // (What the event needs, taken now: the request is not `Sync`.)
    let (client, target, ip) = (client(req), audit_target(req), source_ip(req));
    let state = state.clone();
    async move { refuse(&state, &client, target, ip, e).await }
}

async fn refuse(
    state: &AppState,
    client: &str,
    target: String,
    source_ip: Option<String>,
    e: ApiError,
) -> Response {
    state.metrics.auth_refused();
    if let Err(retry_after_secs) = state.login_limiter.failed(client) {
        return ApiError::TooManyRequests { retry_after_secs }.into_response();
    }
    let res = e.into_response();
    let event = NewAuditEvent {
        at: state.clock.now(),
        actor: "unauthenticated".into(),
        member: None,
        action: "auth.failed".into(),
        target,
        source_ip,
        outcome: res.status().as_u16().to_string(),
    };
    if let Err(e) = state.audit.record(event, false).await {
        return ApiError::Internal(format!("audit log: {e}")).into_response();
    }
    res
}

/// The most of a query string an audit target keeps.
const MAX_AUDITED_QUERY: usize = 256;

/// What an audit event names as its target: the path and, cut to
/// [`MAX_AUDITED_QUERY`] bytes, the query (a search says what was looked
/// for).
fn audit_target(req: &Request) -> String {
    let uri = req.uri();
    match uri.query() {
        Some(q) if !q.is_empty() => {
            let mut end = q.len().min(MAX_AUDITED_QUERY);
            while !q.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}?{}", uri.path(), q.get(..end).unwrap_or_default())
        }
        _ => uri.path().to_owned(),
    }
}

/// Gate for what anyone may read but a key may read more of (the CSAF
/// provider's folders): with an `Authorization` header, exactly as
/// [`api_gate`] (a bad key is refused, never read as anonymous); without
/// one, the request goes on with no `Caller`, rate-limited by source
/// address.
pub async fn reader_gate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // As in `api_gate`: a valid key passes whatever the address's budget.
    let now = state.clock.now();
    let presented = match auth::token_from_headers(req.headers()) {
        Ok(Some(token)) => Ok(Some(auth::caller_from_token(&state, &token, now).await)),
        // A certificate that is not a valid one of this instance's reads
        // as no credential here: the public folders stay public.
        Ok(None) => match req.extensions().get::<crate::client_certs::PeerCert>() {
            Some(cert) => Ok(auth::caller_from_cert(&state, cert, now).await.ok().map(Ok)),
            None => Ok(None),
        },
        Err(e) => Err(e),
    };
    match presented {
        Ok(Some(caller)) => match caller {
            Ok(caller) => {
                if let Err(retry_after_secs) = state.limiter.check(&caller.actor()) {
                    return ApiError::TooManyRequests { retry_after_secs }.into_response();
                }
                run_audited(state, caller, &mut req, next).await
            }
            Err(e) => refused(&state, &req, e).await,
        },
        Ok(None) => {
            let key = format!("anonymous:{}", source_ip(&req).unwrap_or_default());
            if let Err(retry_after_secs) = state.limiter.check(&key) {
                return ApiError::TooManyRequests { retry_after_secs }.into_response();
            }
            next.run(req).await
        }
        Err(e) => refused(&state, &req, e).await,
    }
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
    if let Err(retry_after_secs) = state.limiter.check(&caller.actor()) {
        return ApiError::TooManyRequests { retry_after_secs }.into_response();
    }
    run_audited(state, caller, &mut req, next).await
}

async fn run_audited(state: AppState, caller: Caller, req: &mut Request, next: Next) -> Response {
    // A certificate is sent by the browser that holds it whatever page
    // asks: a request another site made is not the certificate holder's.
    let cross_site = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"));
    if caller.certificate.is_some() && cross_site {
        return ApiError::Forbidden(
            "a request another site made is not served on a client certificate".into(),
        )
        .into_response();
    }
    let ip = source_ip(req);
    let method = req.method().clone();
    let path = audit_target(req);
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
    let change = method != Method::GET && method != Method::HEAD;
    if let Err(e) = state.audit.record(event, change).await {
        return ApiError::Internal(format!("audit log: {e}")).into_response();
    }
    res
}
