//! The feed-file mechanism every product shares: slots claimed in the
//! store, files written atomically to the feed directory (hashed on the
//! way), manifest entries signed with the instance's Ed25519 key, and the
//! [`FeedProducer`] each product implements (`url_files`, `botnet_files`,
//! `cleanfile_files`).
//!
//! With several nodes, each slot is claimed in the store (a lease), so it
//! is produced once; a node that dies mid-slot leaves a lease that expires
//! and another node produces the slot again (files are replaced by rename,
//! never half-written). Nodes share the feed directory and the key file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::Arc;

use base64::Engine;
use isx_domain::{Clock, Timestamp, Tlp};
use isx_store::{FeedFile, FeedRun, Store};
use isx_urls::FeedSchedule;
use ring::signature::{Ed25519KeyPair, KeyPair};
use sha2::{Digest, Sha256};

use crate::AppError;

/// How long a node may take to produce a slot before another may retry.
pub const LEASE_SECS: i64 = 30 * 60;

/// What each product's feed files implement for the scheduler
/// ([`crate::jobs`]): producing every due slot and counting what it did.
/// Listing, finding and serving the files is [`crate::feed_files`], once
/// for every product.
#[async_trait::async_trait]
pub trait FeedProducer: Send + Sync {
    /// The product's name in the store and the feed directory.
    fn product(&self) -> &'static str;
    /// The counters of this product's production.
    fn stats<'a>(&self, ctx: &'a FeedContext) -> &'a FeedStats;
    /// Produces every due slot (missed ones first); returns the runs this
    /// node produced.
    async fn produce_due(&self, ctx: &FeedContext) -> Result<Vec<FeedRun>, AppError>;
}

/// The instance's feed-signing key (Ed25519, PKCS#8 in the data directory).
pub struct FeedSigner {
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for FeedSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedSigner")
            .field("public_key", &self.public_key())
            .finish()
    }
}

impl FeedSigner {
    /// Loads `dir/feed-signing.pk8`, creating it (mode 0600) on first use.
    pub fn load_or_create(dir: &Path) -> Result<Self, AppError> {
        let path = dir.join("feed-signing.pk8");
        let io = |source| AppError::Io {
            path: path.clone(),
            source,
        };
        if !path.exists() {
            std::fs::create_dir_all(dir).map_err(io)?;
            let rng = ring::rand::SystemRandom::new();
            let doc = Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| AppError::Signing("cannot generate a key".into()))?;
            let tmp = dir.join(".feed-signing.pk8.tmp");
            write_private(&tmp, doc.as_ref()).map_err(io)?;
            std::fs::rename(&tmp, &path).map_err(io)?;
        }
        let bytes = std::fs::read(&path).map_err(io)?;
        let pair = Ed25519KeyPair::from_pkcs8(&bytes)
            .map_err(|e| AppError::Signing(format!("{}: {e}", path.display())))?;
        Ok(FeedSigner { pair })
    }

    /// The raw 32-byte public key, base64.
    pub fn public_key(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.pair.public_key().as_ref())
    }

    /// The public key as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo), which
    /// OpenSSL and most libraries read.
    pub fn public_key_pem(&self) -> String {
        // SPKI prefix for Ed25519 (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING }.
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend_from_slice(self.pair.public_key().as_ref());
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n")
    }

    /// Signs `text`; the signature in base64.
    pub fn sign(&self, text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.pair.sign(text.as_bytes()).as_ref())
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Everything feed production needs; shared by the server's scheduler and
/// the CLI (`isx urls feed`).
pub struct FeedContext {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub signer: FeedSigner,
    /// The directory that holds `urls/…` files.
    pub dir: PathBuf,
    pub schedule: FeedSchedule,
    pub instance: String,
    /// This node's name in leases.
    pub node: String,
    /// The markings every member may see: the records feed files hold.
    pub markings: Vec<Tlp>,
    /// Counters for `/metrics` (URL feed files).
    pub stats: FeedStats,
    /// Counters for `/metrics` (botnet files).
    pub botnet_stats: FeedStats,
    /// Counters for `/metrics` (clean-file files).
    pub clean_stats: FeedStats,
    /// Botnet events are kept (and C2 and domains exported) this long.
    pub botnet_retention_secs: i64,
}

impl FeedContext {
    /// The feed context of the settings: key and files in the data
    /// directory.
    pub fn new(
        settings: &crate::Settings,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<FeedContext, AppError> {
        let signer = FeedSigner::load_or_create(&settings.data_dir.join("signing"))?;
        let markings =
            crate::records::url_markings(&isx_policy::Principal::any_member(), clock.now());
        Ok(FeedContext {
            store,
            clock,
            signer,
            dir: settings.data_dir.join("feeds"),
            schedule: FeedSchedule {
                interval_secs: settings.feed_interval_secs.max(60),
                window_secs: settings.feed_window_secs.max(3600),
            },
            instance: settings.instance_name.clone(),
            node: format!(
                "{}-{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "node".to_owned()),
                std::process::id()
            ),
            markings,
            stats: FeedStats::default(),
            botnet_stats: FeedStats::default(),
            clean_stats: FeedStats::default(),
            botnet_retention_secs: settings.botnet_retention_days.max(1) * 86_400,
        })
    }
}

/// What this node's feed production did (exported at `/metrics`).
#[derive(Debug, Default)]
pub struct FeedStats {
    pub slots_produced: AtomicU64,
    pub files_written: AtomicU64,
    pub records_written: AtomicU64,
    /// Unix seconds of the newest slot this node produced.
    pub last_slot: AtomicI64,
    pub last_run_millis: AtomicU64,
    pub failures: AtomicU64,
}

impl FeedContext {
    /// The path of a feed file, or `None` for names that are not plain file
    /// names of the product directory.
    pub fn path_of(&self, file: &FeedFile) -> Option<PathBuf> {
        let plain = !file.name.is_empty()
            && file
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !file.name.starts_with('.');
        plain.then(|| self.dir.join(&file.product).join(&file.name))
    }
}

/// Claims the oldest due slot of `run_product` for this node (a lease of
/// `lease_secs`), or `None` when nothing is due or another node holds the
/// oldest one: slots are produced in order, so the holder of a slot goes
/// on with the next (a later slot must not run ahead of an earlier one).
/// Slots older than `max_catch_up` intervals are skipped with a warning.
/// Every product's scheduler loops on this until `None`.
pub async fn claim_next_slot(
    ctx: &FeedContext,
    run_product: &str,
    schedule: &FeedSchedule,
    max_catch_up: usize,
    lease_secs: i64,
) -> Result<Option<Timestamp>, AppError> {
    let now = ctx.clock.now();
    let last = ctx.store.last_feed_run(run_product).await?;
    let (due, skipped) = schedule.due_slots(last.as_ref().map(|r| r.slot), now, max_catch_up);
    if skipped > 0 {
        tracing::warn!(
            skipped,
            product = run_product,
            "feed slots older than {max_catch_up} intervals were not produced"
        );
    }
    let Some(slot) = due.first().copied() else {
        return Ok(None);
    };
    let lease = ctx.clock.now().add_secs(lease_secs);
    let claimed = ctx
        .store
        .claim_feed_run(run_product, slot, &ctx.node, ctx.clock.now(), lease)
        .await?;
    Ok(claimed.then_some(slot))
}

/// A writer that hashes and counts what passes through.
struct Hashing<W: Write> {
    inner: W,
    hash: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(buf.get(..n).unwrap_or(buf));
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A file written under a temporary name, hashed and counted on the way,
/// synced and renamed into place by [`AtomicFile::finish`]: readers never
/// see half a file.
pub struct AtomicFile {
    tmp: PathBuf,
    path: PathBuf,
    out: Hashing<std::io::BufWriter<std::fs::File>>,
}

impl AtomicFile {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let tmp = path.with_file_name(format!(
            ".{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("feed")
        ));
        let file = std::fs::File::create(&tmp)?;
        Ok(AtomicFile {
            tmp,
            path: path.to_owned(),
            out: Hashing {
                inner: std::io::BufWriter::with_capacity(1 << 20, file),
                hash: Sha256::new(),
                size: 0,
            },
        })
    }

    /// Syncs and renames; returns (bytes, SHA-256 hex).
    pub fn finish(self) -> std::io::Result<(u64, String)> {
        let Hashing { inner, hash, size } = self.out;
        let file = inner.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path)?;
        if let Some(parent) = self.path.parent() {
            if let Ok(d) = std::fs::File::open(parent) {
                let _ = d.sync_all();
            }
        }
        Ok((size, hex::encode(hash.finalize())))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, fsynced, then renamed over `path`, and the directory synced.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent() {
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
