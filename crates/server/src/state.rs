use std::sync::Arc;

use isx_domain::Clock;
use isx_store::Store;

use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::ServerConfig;
use isx_app::App;

/// What every handler can reach: the application (its use cases and
/// shared state, reached through `Deref`, so `state.store` is the app's
/// store) and what only HTTP needs — the configuration of the listener,
/// metrics, rate limits, the password slots and the audit writer.
/// How many addresses' sign-in budgets one login's budget is.
pub(crate) const ACCOUNT_SHARE: u32 = 5;

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub config: Arc<ServerConfig>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) limiter: Arc<RateLimiter>,
    /// Sign-in attempts per address (IPv6: per /64).
    pub(crate) login_limiter: Arc<RateLimiter>,
    /// Sign-in attempts per login: [`ACCOUNT_SHARE`] addresses' worth, so
    /// that one address spending its whole budget on someone's login does
    /// not lock its owner out, while guessing from many addresses is still
    /// bounded.
    pub(crate) account_limiter: Arc<RateLimiter>,
    /// Bounds the password hashes computed at once (memory and CPU).
    pub(crate) password_slots: Arc<tokio::sync::Semaphore>,
    /// Served over TLS (cookies get the `Secure` attribute).
    pub(crate) secure: bool,
    /// The audit-log writer of this node.
    pub audit: crate::audit::AuditWriter,
    /// The client CA that client certificates must chain to (TLS only).
    pub(crate) client_roots: Option<Arc<crate::client_certs::ClientRoots>>,
    /// HTTP to OpenID providers, and what was read of them.
    pub(crate) sso_http: Arc<dyn isx_app::sso::SsoTransport>,
    pub(crate) sso_cache: Arc<isx_app::sso::SsoCache>,
}

impl std::ops::Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}

impl AppState {
    pub fn new(
        config: ServerConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        secure: bool,
    ) -> Result<Self, crate::ServerError> {
        let limiter = Arc::new(RateLimiter::new(config.rate_limit, clock.clone()));
        let login_limiter = Arc::new(RateLimiter::new(config.login_rate_limit, clock.clone()));
        let per_login = crate::RateLimit {
            per_minute: config
                .login_rate_limit
                .per_minute
                .saturating_mul(ACCOUNT_SHARE),
            burst: config.login_rate_limit.burst.saturating_mul(ACCOUNT_SHARE),
        };
        let account_limiter = Arc::new(RateLimiter::new(per_login, clock.clone()));
        let app = App::new(config.settings(), store.clone(), clock)?;
        let password_slots = Arc::new(tokio::sync::Semaphore::new(config.password_slots.max(1)));
        let metrics = Arc::new(Metrics::new(&app));
        Ok(AppState {
            app,
            login_limiter,
            account_limiter,
            password_slots,
            config: Arc::new(config),
            metrics,
            limiter,
            secure,
            audit: crate::audit::AuditWriter::start(store),
            client_roots: None,
            sso_http: Arc::new(crate::sso_http::SsoClient::new()?),
            sso_cache: Arc::default(),
        })
    }
}
