use std::sync::Arc;

use isx_domain::Clock;
use isx_store::Store;

use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::ServerConfig;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<ServerConfig>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) limiter: Arc<RateLimiter>,
    /// Served over TLS (cookies get the `Secure` attribute).
    pub(crate) secure: bool,
}

impl AppState {
    pub fn new(
        config: ServerConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        secure: bool,
    ) -> Self {
        let limiter = Arc::new(RateLimiter::new(config.rate_limit));
        AppState {
            config: Arc::new(config),
            store,
            clock,
            metrics: Arc::new(Metrics::default()),
            limiter,
            secure,
        }
    }
}
