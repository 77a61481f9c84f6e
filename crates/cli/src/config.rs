//! Configuration: flags > ISX_* environment > TOML file > defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::args::{Global, LogFormat};

/// The configuration file. Every key is optional.
///
/// ```toml
/// data_dir = "/var/lib/isx"
/// database_url = "postgres://isx@db/isx"
/// listen = "0.0.0.0:8443"
/// public_url = "https://isx.example.org"
/// security_contact = "mailto:security@example.org"
/// log_format = "json"
/// [tls]
/// cert = "/etc/isx/cert.pem"
/// key = "/etc/isx/key.pem"
/// [limits]
/// body_bytes = 1048576
/// rate_per_minute = 1200
/// rate_burst = 200
/// login_per_minute = 10
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
    /// The security contact of `security.txt` and the CSAF provider
    /// metadata (`mailto:`, `https:` or `tel:` URI).
    pub security_contact: Option<String>,
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
    /// Failed sign-ins and refused API keys per address and minute.
    pub login_per_minute: Option<u32>,
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
    pub(crate) file: FileConfig,
}

pub(crate) fn env_parse<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>>
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
