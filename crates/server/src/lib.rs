//! The isx server: one HTTPS listener for the REST API, the web application,
//! health, metrics and OpenAPI.
//!
//! Only this crate knows HTTP. Every read it serves is decided by
//! [`isx_policy::decide`]; every authenticated request is written to the
//! audit log by one middleware ([`audit`]).

pub mod admin;
mod api;
mod audit;
pub mod auth;
pub mod botnet;
pub mod botnet_files;
pub mod cleanfile_files;
pub mod cleanfiles;
mod config;
mod error;
pub mod exchange;
mod extract;
pub mod feeds;
mod metrics;
mod notices;
pub mod notify;
mod openapi;
pub mod partnership;
mod problem;
mod ratelimit;
mod records;
mod state;
pub mod tls;
pub mod urls;
mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{ConnectInfo, DefaultBodyLimit};
use axum::Router;
use isx_domain::Clock;
use isx_store::Store;
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use config::{RateLimit, ServerConfig, TlsMode};
pub use error::ServerError;
pub use openapi::openapi_json;
pub use state::{feed_context, AppState};

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    ca_path: Option<PathBuf>,
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
        let (tls, ca_path) = match &config.tls {
            TlsMode::SelfSigned => {
                let paths = tls::ensure_self_signed(&config.data_dir)?;
                (
                    Some(tls::server_config(&paths.cert, &paths.key)?),
                    Some(paths.ca),
                )
            }
            TlsMode::Files { cert, key } => (Some(tls::server_config(cert, key)?), None),
            TlsMode::Disabled => {
                tracing::warn!(
                    "TLS is disabled: API keys, passwords and data cross the network in clear text"
                );
                (None, None)
            }
        };
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| ServerError::Bind(config.listen, e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ServerError::Bind(config.listen, e))?;
        let secure = tls.is_some();
        let state = AppState::new(config, store, clock, secure)?;
        // Lookups answer from the hash set: open (or rebuild) it first.
        state.clean.sync(state.store.as_ref()).await?;
        let router = routes(state.clone());
        Ok(Application {
            listener,
            addr,
            router,
            tls,
            ca_path,
            state,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT` (or `http://` when TLS is disabled).
    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let host = if self.addr.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else {
            self.addr.ip().to_string()
        };
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        format!("{scheme}://{host}:{}", self.addr.port())
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
            ..
        } = self;
        let gc = tokio::spawn(expire_sessions(state.clone()));
        let feeder = state
            .config
            .feed_scheduler
            .then(|| tokio::spawn(feeds::run(state.feeds.clone(), state.config.feed_tick_ms)));
        let cleaner = tokio::spawn(cleanfiles::run(
            state.clean.clone(),
            state.store.clone(),
            state.config.clean_sync_ms,
        ));
        let audit = state.audit.clone();
        let notifier = tokio::spawn(notify::run(state));
        let served = match tls {
            None => axum::serve(
                axum::serve::ListenerExt::tap_io(listener, |tcp| {
                    // See serve_tls: no wait for the client's delayed ACK.
                    let _ = tcp.set_nodelay(true);
                }),
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ServerError::Serve),
            Some(cfg) => serve_tls(listener, router, cfg, shutdown).await,
        };
        gc.abort();
        notifier.abort();
        if let Some(f) = feeder {
            f.abort();
        }
        cleaner.abort();
        // The audit events of the last reads are committed before stopping.
        audit.flush().await;
        served
    }
}

/// Deletes expired web sessions every ten minutes (idempotent, so several
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
    }
}

fn routes(state: AppState) -> Router {
    let body_limit = state.config.body_limit;
    Router::new()
        .merge(web::routes(state.clone()))
        .merge(api::routes(state.clone()))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(problem::panic_response))
        .with_state(state)
}

async fn serve_tls(
    listener: TcpListener,
    router: Router,
    cfg: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
        };
        // Responses go out as soon as they are written: with Nagle's
        // algorithm a response of several segments waits for the client's
        // delayed ACK (40 ms on Linux) before its last segment.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %e, "cannot set TCP_NODELAY");
        }
        let acceptor = acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            let tls = match acceptor.accept(stream).await {
                Ok(tls) => tls,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
            };
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    router.clone().oneshot(req.map(axum::body::Body::new))
                },
            );
            let builder =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            if let Err(e) = builder
                .serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(tls), service)
                .await
            {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}
