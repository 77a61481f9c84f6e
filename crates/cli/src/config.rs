//! Configuration: flags > ISX_* environment > TOML file > defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use isx_server::{RateLimit, ServerConfig, TlsMode};
use serde::Deserialize;

use crate::args::{Global, LogFormat, ServeArgs};

/// The configuration file. Every key is optional.
///
/// ```toml
/// data_dir = "/var/lib/isx"
/// database_url = "postgres://isx@db/isx"
/// listen = "0.0.0.0:8443"
/// log_format = "json"
/// [tls]
/// cert = "/etc/isx/cert.pem"
/// key = "/etc/isx/key.pem"
/// [limits]
/// body_bytes = 1048576
/// rate_per_minute = 1200
/// rate_burst = 200
/// session_ttl_secs = 28800
/// [geoip]
/// location = "/var/lib/GeoIP/GeoLite2-City.mmdb"
/// asn = "/var/lib/GeoIP/GeoLite2-ASN.mmdb"
/// [feeds]
/// instance_name = "Example CERT"
/// interval_secs = 10800
/// window_secs = 432000
/// [botnet]
/// retention_days = 7
/// [cleanfiles]
/// sync_ms = 2000
/// merge_threshold = 200000
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<SocketAddr>,
    /// The URL partners reach this instance at.
    pub public_url: Option<String>,
    pub log_format: Option<LogFormat>,
    #[serde(default)]
    pub tls: TlsSection,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub geoip: GeoSection,
    #[serde(default)]
    pub feeds: FeedSection,
    #[serde(default)]
    pub botnet: BotnetSection,
    #[serde(default)]
    pub cleanfiles: CleanfilesSection,
    #[serde(default)]
    pub webhooks: WebhooksSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksSection {
    /// Let webhooks reach loopback and private addresses.
    #[serde(default)]
    pub allow_private: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CleanfilesSection {
    /// How often a node reads the clean-file changes made elsewhere (ms).
    pub sync_ms: Option<u64>,
    /// Changes held in memory before the hash set files are rewritten.
    pub merge_threshold: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotnetSection {
    pub retention_days: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoSection {
    pub location: Option<PathBuf>,
    pub asn: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedSection {
    pub instance_name: Option<String>,
    pub interval_secs: Option<i64>,
    pub window_secs: Option<i64>,
    pub tick_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    #[serde(default)]
    pub insecure_http: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub body_bytes: Option<usize>,
    pub rate_per_minute: Option<u32>,
    pub rate_burst: Option<u32>,
    pub session_ttl_secs: Option<i64>,
    pub connections: Option<usize>,
    pub connections_per_address: Option<usize>,
    pub idle_timeout_ms: Option<u64>,
    pub body_timeout_ms: Option<u64>,
}

/// Global settings, resolved.
#[derive(Debug)]
pub struct Settings {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    pub log_format: LogFormat,
    pub geoip_location: Option<PathBuf>,
    pub geoip_asn: Option<PathBuf>,
    file: FileConfig,
}

fn env_parse<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|e| anyhow::anyhow!("environment variable {name}={v:?}: {e}")),
        _ => Ok(None),
    }
}

impl Settings {
    pub fn load(g: &Global) -> anyhow::Result<Self> {
        let file = match &g.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read the configuration file {}", path.display())
                })?;
                toml::from_str(&text)
                    .with_context(|| format!("invalid configuration file {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        Ok(Settings {
            data_dir: g.data_dir.clone().or_else(|| file.data_dir.clone()),
            database_url: g.database_url.clone().or_else(|| file.database_url.clone()),
            log_format: g.log_format.or(file.log_format).unwrap_or(LogFormat::Text),
            geoip_location: g
                .geoip_location
                .clone()
                .or_else(|| file.geoip.location.clone()),
            geoip_asn: g.geoip_asn.clone().or_else(|| file.geoip.asn.clone()),
            file,
        })
    }

    /// The data directory, or `default` when none is configured.
    pub fn data_dir_or(&self, default: &str) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(default))
    }

    pub fn database_url(&self) -> Option<&str> {
        self.database_url.as_deref()
    }

    /// The store to open: the configured URL, or the SQLite file in `data_dir`.
    pub fn store_url(&self, data_dir: &Path) -> anyhow::Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        Ok(data_dir.join("isx.sqlite").display().to_string())
    }

    pub fn server_config(
        &self,
        serve: &ServeArgs,
        data_dir: PathBuf,
    ) -> anyhow::Result<ServerConfig> {
        let listen = serve
            .listen
            .or(self.file.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8443)));
        let mut cfg = ServerConfig::new(listen, data_dir);
        let cert = serve
            .tls_cert
            .clone()
            .or_else(|| self.file.tls.cert.clone());
        let key = serve.tls_key.clone().or_else(|| self.file.tls.key.clone());
        cfg.tls = match (
            serve.insecure_http || self.file.tls.insecure_http,
            cert,
            key,
        ) {
            (true, _, _) => TlsMode::Disabled,
            (false, Some(cert), Some(key)) => TlsMode::Files { cert, key },
            (false, None, None) => TlsMode::SelfSigned,
            _ => anyhow::bail!("TLS needs both a certificate and a key (tls.cert and tls.key)"),
        };
        let l = &self.file.limits;
        cfg.body_limit = env_parse("ISX_BODY_LIMIT")?
            .or(l.body_bytes)
            .unwrap_or(cfg.body_limit);
        cfg.rate_limit = RateLimit {
            per_minute: env_parse("ISX_RATE_PER_MINUTE")?
                .or(l.rate_per_minute)
                .unwrap_or(cfg.rate_limit.per_minute),
            burst: env_parse("ISX_RATE_BURST")?
                .or(l.rate_burst)
                .unwrap_or(cfg.rate_limit.burst),
        };
        cfg.max_connections = env_parse("ISX_CONNECTIONS")?
            .or(l.connections)
            .unwrap_or(cfg.max_connections);
        cfg.max_connections_per_address = env_parse("ISX_CONNECTIONS_PER_ADDRESS")?
            .or(l.connections_per_address)
            .unwrap_or(cfg.max_connections_per_address);
        cfg.header_timeout_ms = env_parse("ISX_IDLE_TIMEOUT_MS")?
            .or(l.idle_timeout_ms)
            .unwrap_or(cfg.header_timeout_ms);
        cfg.body_timeout_ms = env_parse("ISX_BODY_TIMEOUT_MS")?
            .or(l.body_timeout_ms)
            .unwrap_or(cfg.body_timeout_ms);
        cfg.session_ttl_secs = env_parse("ISX_SESSION_TTL_SECS")?
            .or(l.session_ttl_secs)
            .unwrap_or(cfg.session_ttl_secs);
        cfg.public_url =
            env_parse::<String>("ISX_PUBLIC_URL")?.or_else(|| self.file.public_url.clone());
        if let Some(u) = &cfg.public_url {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                anyhow::bail!("public_url {u:?}: must be an absolute http(s) URL, e.g. https://isx.example.org");
            }
        }
        cfg.webhook_allow_private =
            env_parse("ISX_WEBHOOK_ALLOW_PRIVATE")?.unwrap_or(self.file.webhooks.allow_private);
        cfg.geoip_location = self.geoip_location.clone();
        cfg.geoip_asn = self.geoip_asn.clone();
        let f = &self.file.feeds;
        if let Some(name) =
            env_parse::<String>("ISX_INSTANCE_NAME")?.or_else(|| f.instance_name.clone())
        {
            cfg.instance_name = name;
        }
        cfg.feed_interval_secs = env_parse("ISX_FEED_INTERVAL_SECS")?
            .or(f.interval_secs)
            .unwrap_or(cfg.feed_interval_secs);
        cfg.feed_window_secs = env_parse("ISX_FEED_WINDOW_SECS")?
            .or(f.window_secs)
            .unwrap_or(cfg.feed_window_secs);
        cfg.feed_tick_ms = env_parse("ISX_FEED_TICK_MS")?
            .or(f.tick_ms)
            .unwrap_or(cfg.feed_tick_ms);
        cfg.botnet_retention_days = env_parse("ISX_BOTNET_RETENTION_DAYS")?
            .or(self.file.botnet.retention_days)
            .unwrap_or(cfg.botnet_retention_days);
        cfg.clean_sync_ms = env_parse("ISX_CLEAN_SYNC_MS")?
            .or(self.file.cleanfiles.sync_ms)
            .unwrap_or(cfg.clean_sync_ms);
        cfg.clean_merge_threshold = env_parse("ISX_CLEAN_MERGE_THRESHOLD")?
            .or(self.file.cleanfiles.merge_threshold)
            .unwrap_or(cfg.clean_merge_threshold);
        if cfg.clean_merge_threshold == 0 {
            anyhow::bail!("cleanfiles merge_threshold must be at least 1");
        }
        if !(1..=3650).contains(&cfg.botnet_retention_days) {
            anyhow::bail!(
                "botnet retention {} days: must be 1 to 3650",
                cfg.botnet_retention_days
            );
        }
        if cfg.feed_interval_secs < 60 || 86_400 % cfg.feed_interval_secs != 0 {
            anyhow::bail!(
                "feed interval {} s: must divide a day and be at least 60 s (10800 = 3 hours)",
                cfg.feed_interval_secs
            );
        }
        Ok(cfg)
    }
}

/// Structured logs on standard error; level from ISX_LOG (default `info`).
pub fn init_logging(s: &Settings) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ISX_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match s.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
