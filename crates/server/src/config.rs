use std::net::SocketAddr;
use std::path::PathBuf;

/// How the listener speaks TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// A certificate and key generated into `<data dir>/tls/` on first start
    /// (signed by a local CA written next to them as `ca.pem`).
    SelfSigned,
    /// The operator's own PEM certificate chain and private key.
    Files { cert: PathBuf, key: PathBuf },
    /// Plain HTTP. Only with an explicit flag; logs a warning.
    Disabled,
}

/// Per-principal request budget: a token bucket of `burst` requests refilled
/// at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

/// Everything the server needs, passed explicitly (no globals).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub tls: TlsMode,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    pub rate_limit: RateLimit,
    /// Sign-in attempts per source address; a login's own budget is five
    /// times this, so one address cannot exhaust it.
    pub login_rate_limit: RateLimit,
    /// Password checks (Argon2id, 19 MiB each) run at once; further sign-ins
    /// wait up to 10 s for a slot, then get 503.
    pub password_slots: usize,
    /// Connections served at once; past it isx stops accepting (the kernel
    /// queues the rest) until one ends.
    pub max_connections: usize,
    /// Connections one client address (an IPv6 client: its /64) may hold
    /// at once; past it, a new one is closed at once.
    pub max_connections_per_address: usize,
    /// Time a client has to complete the TLS handshake, in ms.
    pub handshake_timeout_ms: u64,
    /// Time a client has to send a request's headers, in ms; also how
    /// long a connection is kept with no request in flight (before its
    /// first byte too, and between keep-alive requests) and how long a
    /// response may wait for the client to read it.
    pub header_timeout_ms: u64,
    /// Time a client has to send a request's whole body, in ms (408 past
    /// it, however slowly the bytes were still coming).
    pub body_timeout_ms: u64,
    /// How long shutdown waits for requests in flight, in ms.
    pub drain_timeout_ms: u64,
    /// Lifetime of a web session, in seconds.
    pub session_ttl_secs: i64,
    /// How often notifications are computed and webhooks delivered, in ms.
    pub notify_interval_ms: u64,
    /// Extra CA certificate (PEM) to trust for webhook receivers.
    pub webhook_ca: Option<PathBuf>,
    /// Let webhooks reach loopback and private addresses (an instance whose
    /// members' receivers are on its own network). Link-local and
    /// multicast addresses stay refused.
    pub webhook_allow_private: bool,
    /// The absolute URL partners reach this instance at (e.g.
    /// `https://isx.example.org`), used in provider metadata and feeds;
    /// default: the listen address. Never taken from a request's `Host`.
    pub public_url: Option<String>,
    /// The security contact of `security.txt` and the CSAF provider
    /// metadata; default `mailto:security@<host of public_url>`.
    pub security_contact: Option<String>,
    /// The name of this instance in feed files (the STIX identity).
    pub instance_name: String,
    /// MaxMind-format City or Country database (GeoLite2, DB-IP, …).
    pub geoip_location: Option<PathBuf>,
    /// MaxMind-format ASN database.
    pub geoip_asn: Option<PathBuf>,
    /// Seconds between feed slots (3 hours by default).
    pub feed_interval_secs: i64,
    /// The window of the rolling full set (5 days by default).
    pub feed_window_secs: i64,
    /// How often the scheduler looks for due slots.
    pub feed_tick_ms: u64,
    /// Whether this node runs the feed scheduler (off in tests that
    /// produce slots themselves, so no second producer races them).
    pub feed_scheduler: bool,
    /// How long botnet events are kept (the stream's resume window, and
    /// the age of C2 servers and domains still exported), in days.
    pub botnet_retention_days: i64,
    /// How often this node reads clean-file changes other nodes (or the
    /// CLI) made, in ms.
    pub clean_sync_ms: u64,
    /// Changes held in memory before the hash set files are merged into a
    /// new generation.
    pub clean_merge_threshold: usize,
}

impl ServerConfig {
    /// What the application layer takes of this configuration.
    pub fn settings(&self) -> isx_app::Settings {
        isx_app::Settings {
            data_dir: self.data_dir.clone(),
            instance_name: self.instance_name.clone(),
            public_url: self
                .public_url
                .as_deref()
                .unwrap_or("https://localhost")
                .trim_end_matches('/')
                .to_owned(),
            security_contact: self.security_contact.clone(),
            geoip_location: self.geoip_location.clone(),
            geoip_asn: self.geoip_asn.clone(),
            feed_interval_secs: self.feed_interval_secs,
            feed_window_secs: self.feed_window_secs,
            botnet_retention_days: self.botnet_retention_days,
            clean_merge_threshold: self.clean_merge_threshold,
            notify_interval_ms: self.notify_interval_ms,
            webhook_allow_private: self.webhook_allow_private,
        }
    }

    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        ServerConfig {
            listen,
            data_dir,
            tls: TlsMode::SelfSigned,
            body_limit: 1024 * 1024,
            rate_limit: RateLimit {
                per_minute: 1200,
                burst: 200,
            },
            login_rate_limit: RateLimit {
                per_minute: 10,
                burst: 10,
            },
            password_slots: 4,
            max_connections: 4096,
            max_connections_per_address: 256,
            handshake_timeout_ms: 10_000,
            header_timeout_ms: 30_000,
            body_timeout_ms: 60_000,
            drain_timeout_ms: 10_000,
            session_ttl_secs: 8 * 3600,
            notify_interval_ms: 30_000,
            webhook_ca: None,
            webhook_allow_private: false,
            public_url: None,
            security_contact: None,
            instance_name: "isx".to_owned(),
            geoip_location: None,
            geoip_asn: None,
            feed_interval_secs: 3 * 3600,
            feed_window_secs: 5 * 86_400,
            feed_tick_ms: 60_000,
            feed_scheduler: true,
            botnet_retention_days: 7,
            clean_sync_ms: 2_000,
            clean_merge_threshold: 200_000,
        }
    }
}
