//! The isx server: one HTTPS listener for the REST API, the web application,
//! health, metrics and OpenAPI.
//!
//! Only this crate knows HTTP. Every read it serves is decided by
//! [`isx_policy::decide`]; every authenticated request is written to the
//! audit log by one middleware ([`audit`]).
//!
//! Request paths never panic on what a request brings: no `unwrap`,
//! `expect`, unchecked indexing or `panic!` outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

mod api;
mod audit;
pub mod auth;
pub mod client_certs;
mod config;
mod csaf;
mod error;
mod extract;
pub mod feed_files;
mod metrics;
mod openapi;
pub mod outbound;
mod problem;
mod ratelimit;
mod serve;
mod sso_http;
mod state;
pub mod tls;
mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use isx_domain::Clock;
use isx_store::Store;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use config::{RateLimit, ServerConfig, TlsMode};
pub use error::ServerError;
pub use state::AppState;

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    ca_path: Option<PathBuf>,
    /// The generated certificate, renewed daily when due.
    renewal: Option<Arc<tls::LiveCert>>,
    state: AppState,
}

impl Application {
    /// Binds the listener (port 0 picks a free port), prepares TLS (creating
    /// a self-signed certificate in the data directory on first start) and
    /// builds the routes.
    pub async fn build(
        config: ServerConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ServerError> {
        isx_app::files::private_dir(&config.data_dir)?;
        let client_roots = match &config.tls {
            TlsMode::Disabled => None,
            _ => Some(Arc::new(
                client_certs::ClientRoots::load(store.as_ref(), &config.data_dir, clock.now())
                    .await?,
            )),
        };
        let hints = client_roots.as_ref().map(|r| r.hints()).unwrap_or_default();
        let (tls, ca_path, renewal) = match &config.tls {
            TlsMode::SelfSigned => {
                let paths = tls::ensure_self_signed(&config.data_dir)?;
                let (cfg, live) = tls::server_config(&paths.cert, &paths.key, hints)?;
                (Some(cfg), Some(paths.ca), Some(live))
            }
            TlsMode::Files { cert, key } => {
                (Some(tls::server_config(cert, key, hints)?.0), None, None)
            }
            TlsMode::Disabled => {
                tracing::warn!(
                    "TLS is disabled: API keys, passwords and data cross the network in clear text"
                );
                (None, None, None)
            }
        };
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| ServerError::Bind(config.listen, e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ServerError::Bind(config.listen, e))?;
        let secure = tls.is_some();
        let mut config = config;
        if config.public_url.is_none() {
            config.public_url = Some(listen_url(addr, secure));
        }
        let mut state = AppState::new(config, store, clock, secure)?;
        state.client_roots = client_roots;
        // Lookups answer from the hash set: open (or rebuild) it first.
        state.clean.sync(state.store.as_ref()).await?;
        let router = routes(state.clone());
        Ok(Application {
            listener,
            addr,
            router,
            tls,
            ca_path,
            renewal,
            state,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT` (or `http://` when TLS is disabled).
    pub fn base_url(&self) -> String {
        listen_url(self.addr, self.tls.is_some())
    }

    /// The certificate authority that signed a self-signed certificate; clients
    /// can trust this file instead of disabling verification.
    pub fn ca_path(&self) -> Option<&PathBuf> {
        self.ca_path.as_ref()
    }

    /// Serves until `shutdown` completes.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let Application {
            listener,
            router,
            tls,
            state,
            renewal,
            ..
        } = self;
        let gc = tokio::spawn(expire_sessions(state.clone()));
        let renewer =
            renewal.map(|live| tokio::spawn(tls::renew_daily(state.config.data_dir.clone(), live)));
        let feeder = state.config.feed_scheduler.then(|| {
            tokio::spawn(isx_app::jobs::run(
                state.feeds.clone(),
                state.config.feed_tick_ms,
            ))
        });
        let cleaner = tokio::spawn(isx_app::cleanfiles::run(
            state.clean.clone(),
            state.store.clone(),
            state.config.clean_sync_ms,
        ));
        let audit = state.audit.clone();
        let limits = serve::ConnLimits::of(&state.config);
        let notifier = match outbound::WebhookClient::new(&state.config) {
            Ok(http) => Some(tokio::spawn(isx_app::notify::run(
                state.app.clone(),
                Arc::new(http),
            ))),
            Err(e) => {
                tracing::error!(error = %e, "webhooks disabled: cannot build the HTTP client");
                None
            }
        };
        let served = serve::serve(listener, router, tls, limits, shutdown).await;
        gc.abort();
        if let Some(r) = renewer {
            r.abort();
        }
        if let Some(n) = notifier {
            n.abort();
        }
        if let Some(f) = feeder {
            f.abort();
        }
        cleaner.abort();
        // The audit events of the last reads are committed before stopping.
        audit.flush().await;
        served
    }
}

/// The URL of a bound address (`127.0.0.1` for an unspecified one).
fn listen_url(addr: SocketAddr, secure: bool) -> String {
    let scheme = if secure { "https" } else { "http" };
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        addr.ip().to_string()
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    format!("{scheme}://{host}:{}", addr.port())
}

/// Deletes expired web sessions and sign-in steps, prunes hashlookup lookup counts and
/// sessions, and drops TAXII status resources older than
/// `api::exchange::STATUS_DAYS`, every ten minutes (idempotent, so several
/// nodes may all do it).
async fn expire_sessions(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tick.tick().await;
        match state.store.delete_expired_sessions(state.clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(sessions = n, "expired web sessions deleted"),
            Err(e) => tracing::warn!(error = %e, "cannot delete expired sessions"),
        }
        match state
            .store
            .delete_expired_challenges(state.clock.now())
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::debug!(challenges = n, "expired sign-in steps deleted"),
            Err(e) => tracing::warn!(error = %e, "cannot delete expired sign-in steps"),
        }
        let now = state.clock.now();
        let since = now.add_secs(-crate::api::cleanfiles::TOP_DAYS * 86_400);
        match state.store.prune_lookups(since, now).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(rows = n, "hashlookup counts and sessions pruned"),
            Err(e) => tracing::warn!(error = %e, "cannot prune hashlookup counts"),
        }
        let before = now.add_secs(-crate::api::exchange::STATUS_DAYS * 86_400);
        match state.store.prune_exchange_status(before).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(rows = n, "TAXII status resources pruned"),
            Err(e) => tracing::warn!(error = %e, "cannot prune TAXII status resources"),
        }
    }
}

fn routes(state: AppState) -> Router {
    let body_limit = state.config.body_limit;
    let (api, from_routes) = api::routes(state.clone()).split_for_parts();
    let spec = Arc::new(openapi::document(from_routes));
    Router::new()
        .merge(web::routes(state.clone()))
        .merge(api)
        .merge(csaf::routes(state.clone()))
        .route("/api/openapi.json", openapi::handler(spec))
        .layer(axum::middleware::from_fn(problem::refuse_long_targets))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            serve::body_deadline,
        ))
        .layer(axum::middleware::map_response(
            problem::plain_errors_as_problems,
        ))
        .layer(axum::middleware::from_fn(api::exchange::unrouted_frame))
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            security_headers,
        ))
        // The span names the path, never the query: a query can carry a
        // single sign-on code or a search a partner would not want logged.
        .layer(TraceLayer::new_for_http().make_span_with(
            |req: &axum::http::Request<axum::body::Body>| {
                tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
            },
        ))
        .layer(CatchPanicLayer::custom(problem::panic_response))
        .with_state(state)
}

/// What every response carries: no framing, no sniffing, no referrer, a
/// content security policy that admits only isx's own scripts, HSTS over
/// TLS, and `Cache-Control: no-store` unless the handler chose a cache
/// policy itself (signed-in pages show data and, once, new API keys).
async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut res: axum::response::Response,
) -> axum::response::Response {
    use axum::http::header::{self, HeaderValue};
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if state.secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
