//! The isx application layer: every use case, with no HTTP.
//!
//! Per product a module with its read path, write path and files
//! (`notices`, `urls`, `botnet` + `botnet_files`, `cleanfiles` +
//! `cleanfile_files`, `partnership`, `exchange`), administration
//! (`admin`), who is calling (`identity`), the only builder of policy
//! metadata from stored rows (`records`), signed feed files (`feeds`,
//! `feed_files`) and notifications (`notify`). The server (HTTP, pages) and
//! the CLI call these; neither repeats a rule. Every read is decided by
//! [`isx_policy::decide`].
//!
//! This crate depends on no web framework: errors are [`AppError`], which
//! the server maps to problems and the CLI to messages; webhooks go out
//! through a [`notify::WebhookTransport`] the server provides.
//!
//! No `unwrap`, `expect`, unchecked indexing or `panic!` outside tests:
//! these paths serve requests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod admin;
pub mod advisories;
pub mod botnet;
pub mod botnet_files;
pub mod cleanfile_files;
pub mod cleanfiles;
pub mod client_ca;
pub mod csaf_provider;
mod error;
pub mod exchange;
pub mod feed_files;
pub mod feeds;
pub mod files;
pub mod identity;
pub mod jobs;
pub mod misp;
pub mod misp_import;
pub mod notify;
pub mod outbound;
pub mod partnership;
pub mod passkeys;
pub mod records;
pub mod sealing;
pub mod second_factor;
pub mod sso;
pub mod url_files;
pub mod urls;
pub mod wire_ids;

use std::path::PathBuf;
use std::sync::Arc;

use isx_domain::Clock;
use isx_store::Store;

pub use error::{AppError, FieldError, Result};

/// What the use cases are configured with (the server's configuration
/// carries these and its own transport settings).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The data directory: feed files, signing key, hash sets.
    pub data_dir: PathBuf,
    /// The name of this instance in feed files (the STIX identity).
    pub instance_name: String,
    /// The absolute URL partners reach this instance at, without a
    /// trailing slash (never taken from a request).
    pub public_url: String,
    /// The security contact `security.txt` and `provider-metadata.json`
    /// name (a `mailto:` or `https:` URI); by default
    /// `mailto:security@<host of public_url>`.
    pub security_contact: Option<String>,
    /// MaxMind-format City or Country database.
    pub geoip_location: Option<PathBuf>,
    /// MaxMind-format ASN database.
    pub geoip_asn: Option<PathBuf>,
    /// Seconds between feed slots.
    pub feed_interval_secs: i64,
    /// The window of the rolling full set, in seconds.
    pub feed_window_secs: i64,
    /// How long botnet events are kept, in days.
    pub botnet_retention_days: i64,
    /// Changes held in memory before the hash sets are merged.
    pub clean_merge_threshold: usize,
    /// How often notifications are computed and webhooks delivered, in ms.
    pub notify_interval_ms: u64,
    /// Whether webhooks may reach loopback and private addresses.
    pub webhook_allow_private: bool,
}

impl Settings {
    /// Defaults for a data directory (3-hour slots, a 5-day window, 7 days
    /// of botnet events).
    pub fn new(data_dir: PathBuf) -> Self {
        Settings {
            data_dir,
            instance_name: "isx".to_owned(),
            public_url: "https://localhost".to_owned(),
            security_contact: None,
            geoip_location: None,
            geoip_asn: None,
            feed_interval_secs: 3 * 3600,
            feed_window_secs: 5 * 86_400,
            botnet_retention_days: 7,
            clean_merge_threshold: 100_000,
            notify_interval_ms: 30_000,
            webhook_allow_private: false,
        }
    }
}

/// The application: its settings, the store, the clock, and the shared
/// state of this node (geo databases, feed production, the botnet matcher
/// and streams, the clean-file hash sets). Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// The configured geo databases (possibly none).
    pub geo: Arc<isx_geo::GeoDb>,
    /// Feed production and the signing key.
    pub feeds: Arc<feeds::FeedContext>,
    /// The constituency matcher and the streams' wake-up.
    pub botnet: Arc<botnet::BotnetHub>,
    /// The clean-file hash sets of this node.
    pub clean: Arc<cleanfiles::CleanIndex>,
    /// The OpenPGP key CSAF documents are signed with.
    pub openpgp: Arc<csaf_provider::OpenPgpSigner>,
    /// The opaque-id permutation, keyed by the instance's secret (read
    /// from the store on first use).
    ids: Arc<tokio::sync::OnceCell<wire_ids::WireIds>>,
    /// The MISP feeds built in the current minute, per principal.
    pub misp: Arc<misp::FeedCache>,
}

impl App {
    /// Opens what the settings name (geo databases, the signing key,
    /// creating it on first use) around `store`.
    pub fn new(settings: Settings, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Result<App> {
        let geo = isx_geo::GeoDb::open(
            settings.geoip_location.as_deref(),
            settings.geoip_asn.as_deref(),
        )?;
        if geo.status().is_configured() {
            tracing::info!(location = ?geo.status().location, asn = ?geo.status().asn, "geo databases loaded");
        } else {
            tracing::info!("no geo databases configured: URL records keep only the geo fields their sources give");
        }
        let feeds = feeds::FeedContext::new(&settings, store.clone(), clock.clone())?;
        let mut clean = cleanfiles::CleanIndex::new(&settings.data_dir.join("cleanfiles"));
        clean.merge_threshold = settings.clean_merge_threshold.max(1);
        let openpgp = csaf_provider::OpenPgpSigner::load_or_create(
            &settings.data_dir,
            &format!("{} CSAF signing key", settings.instance_name),
        )?;
        Ok(App {
            settings: Arc::new(settings),
            store,
            clock,
            geo: Arc::new(geo),
            feeds: Arc::new(feeds),
            botnet: Arc::new(botnet::BotnetHub::default()),
            clean: Arc::new(clean),
            openpgp: Arc::new(openpgp),
            ids: Arc::default(),
            misp: Arc::default(),
        })
    }

    /// The instance's opaque-id permutation (its key is created in the
    /// store on first use, the same for every node).
    pub async fn wire_ids(&self) -> Result<&wire_ids::WireIds> {
        self.ids
            .get_or_try_init(|| async {
                let candidate = identity::random_hex32();
                let secret = self
                    .store
                    .instance_secret(wire_ids::SECRET, &candidate)
                    .await?;
                Ok(wire_ids::WireIds::new(secret.as_bytes()))
            })
            .await
    }

    /// The STIX id of this instance's identity object (the author of what
    /// isx itself publishes).
    pub fn stix_identity_id(&self) -> String {
        let identity = isx_formats::stix::instance_identity(&self.settings.instance_name);
        identity
            .get("id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// The absolute URL of this instance (no trailing slash).
    pub fn public_url(&self) -> &str {
        self.settings.public_url.trim_end_matches('/')
    }
}
