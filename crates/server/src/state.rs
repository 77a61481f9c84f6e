use std::sync::Arc;

use isx_domain::Clock;
use isx_store::Store;

use crate::feeds::{FeedContext, FeedSigner};
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
    /// Sign-in attempts, per address and per login.
    pub(crate) login_limiter: Arc<RateLimiter>,
    /// Bounds the password hashes computed at once (memory and CPU).
    pub(crate) password_slots: Arc<tokio::sync::Semaphore>,
    /// Served over TLS (cookies get the `Secure` attribute).
    pub(crate) secure: bool,
    /// The configured geo databases (possibly none).
    pub geo: Arc<isx_geo::GeoDb>,
    /// Feed production and the signing key.
    pub feeds: Arc<FeedContext>,
    /// The constituency matcher and the streams' wake-up.
    pub botnet: Arc<crate::botnet::BotnetHub>,
    /// The clean-file hash sets of this node.
    pub clean: Arc<crate::cleanfiles::CleanIndex>,
    /// The audit-log writer of this node.
    pub audit: crate::audit::AuditWriter,
}

impl AppState {
    /// The absolute URL of this instance (no trailing slash), from the
    /// configuration: what provider metadata, ROLIE and TAXII discovery
    /// name. A request's `Host` header never decides it.
    pub fn public_url(&self) -> &str {
        self.config
            .public_url
            .as_deref()
            .unwrap_or("https://localhost")
            .trim_end_matches('/')
    }

    pub fn new(
        config: ServerConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        secure: bool,
    ) -> Result<Self, crate::ServerError> {
        let limiter = Arc::new(RateLimiter::new(config.rate_limit));
        let geo = isx_geo::GeoDb::open(
            config.geoip_location.as_deref(),
            config.geoip_asn.as_deref(),
        )?;
        if geo.status().is_configured() {
            tracing::info!(location = ?geo.status().location, asn = ?geo.status().asn, "geo databases loaded");
        } else {
            tracing::info!("no geo databases configured: URL records keep only the geo fields their sources give");
        }
        let feeds = feed_context(&config, store.clone(), clock.clone())?;
        let mut clean = crate::cleanfiles::CleanIndex::new(&config.data_dir.join("cleanfiles"));
        clean.merge_threshold = config.clean_merge_threshold.max(1);
        let login_limiter = Arc::new(RateLimiter::new(config.login_rate_limit));
        let password_slots = Arc::new(tokio::sync::Semaphore::new(config.password_slots.max(1)));
        Ok(AppState {
            clean: Arc::new(clean),
            login_limiter,
            password_slots,
            config: Arc::new(config),
            clock,
            metrics: Arc::new(Metrics::default()),
            limiter,
            secure,
            geo: Arc::new(geo),
            feeds: Arc::new(feeds),
            botnet: Arc::new(crate::botnet::BotnetHub::default()),
            audit: crate::audit::AuditWriter::start(store.clone()),
            store,
        })
    }
}

/// The feed context of a configuration: key and files in the data directory.
pub fn feed_context(
    config: &ServerConfig,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> Result<FeedContext, crate::ServerError> {
    let signer = FeedSigner::load_or_create(&config.data_dir.join("signing"))?;
    let markings = crate::records::url_markings(&isx_policy::Principal::any_member(), clock.now());
    Ok(FeedContext {
        store,
        clock,
        signer,
        dir: config.data_dir.join("feeds"),
        schedule: isx_urls::FeedSchedule {
            interval_secs: config.feed_interval_secs.max(60),
            window_secs: config.feed_window_secs.max(3600),
        },
        instance: config.instance_name.clone(),
        node: format!(
            "{}-{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "node".to_owned()),
            std::process::id()
        ),
        markings,
        stats: crate::feeds::FeedStats::default(),
        botnet_stats: crate::feeds::FeedStats::default(),
        clean_stats: crate::feeds::FeedStats::default(),
        botnet_retention_secs: config.botnet_retention_days.max(1) * 86_400,
    })
}
