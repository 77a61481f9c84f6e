//! The clean-file hash sets of this node: memory-mapped set files (one
//! generation per store change sequence, see [`isx_cleanfiles::generation`])
//! plus an in-memory overlay of the changes made since, read from the
//! store's change log.
//!
//! The store is the source of truth; every node follows its change log.
//! When the overlay grows past `merge_threshold` entries it is merged into
//! a new generation (written aside, then switched to by rename). A missing
//! or damaged generation is rebuilt from the store at start.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use isx_cleanfiles::generation::{self, Generation};
use isx_cleanfiles::set::{merge, SetWriter};
use isx_cleanfiles::{CleanFile, HashAlgo, HashValue};
use isx_store::{Store, StoreError};

use crate::AppError;

/// Changes read from the store per round trip.
const CHANGE_PAGE: u32 = 10_000;

/// One consistent view: a generation and the changes after it.
#[derive(Debug, Default)]
pub struct IndexView {
    generation: Option<Arc<Generation>>,
    /// The store change sequence this view reflects.
    seq: i64,
    /// Per algorithm (index of [`HashAlgo::ALL`]): key → present.
    overlay: Overlay,
}

/// The changes since the generation was written, per algorithm: key →
/// present (`false`: removed since).
#[derive(Debug, Clone, Default)]
struct Overlay {
    sha256: HashMap<Vec<u8>, bool>,
    sha1: HashMap<Vec<u8>, bool>,
    md5: HashMap<Vec<u8>, bool>,
}

impl Overlay {
    fn of(&self, algo: HashAlgo) -> &HashMap<Vec<u8>, bool> {
        match algo {
            HashAlgo::Sha256 => &self.sha256,
            HashAlgo::Sha1 => &self.sha1,
            HashAlgo::Md5 => &self.md5,
        }
    }

    fn of_mut(&mut self, algo: HashAlgo) -> &mut HashMap<Vec<u8>, bool> {
        match algo {
            HashAlgo::Sha256 => &mut self.sha256,
            HashAlgo::Sha1 => &mut self.sha1,
            HashAlgo::Md5 => &mut self.md5,
        }
    }

    fn len(&self) -> usize {
        self.sha256.len() + self.sha1.len() + self.md5.len()
    }
}

fn slot(algo: HashAlgo) -> usize {
    match algo {
        HashAlgo::Sha256 => 0,
        HashAlgo::Sha1 => 1,
        HashAlgo::Md5 => 2,
    }
}

impl IndexView {
    /// Whether `key` (raw bytes of `algo`) is a known-good hash.
    pub fn contains(&self, algo: HashAlgo, key: &[u8]) -> bool {
        if let Some(present) = self.overlay.of(algo).get(key) {
            return *present;
        }
        self.generation
            .as_ref()
            .is_some_and(|g| g.set(algo).view().contains(key))
    }

    /// Answers for many keys of one algorithm (back to back in `keys`).
    pub fn contains_many(&self, algo: HashAlgo, keys: &[u8], out: &mut Vec<bool>) {
        let start = out.len();
        match &self.generation {
            Some(g) => g.set(algo).view().contains_many(keys, out),
            None => out.extend(std::iter::repeat_n(false, keys.len() / algo.bytes())),
        }
        let overlay = self.overlay.of(algo);
        if !overlay.is_empty() {
            let answers = out.get_mut(start..).unwrap_or_default();
            for (answer, k) in answers.iter_mut().zip(keys.chunks_exact(algo.bytes())) {
                if let Some(present) = overlay.get(k) {
                    *answer = *present;
                }
            }
        }
    }

    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// Keys in the set files of `algo` (the overlay not counted).
    pub fn file_keys(&self, algo: HashAlgo) -> u64 {
        self.generation
            .as_ref()
            .map_or(0, |g| g.set(algo).view().len())
    }

    /// Bytes of the set files of `algo`.
    pub fn file_bytes(&self, algo: HashAlgo) -> u64 {
        self.generation
            .as_ref()
            .map_or(0, |g| g.set(algo).view().bytes() as u64)
    }

    /// Known-good SHA-256 values now: the set file's, corrected by the
    /// overlay (each overlay entry checked against the file).
    pub fn sha256_count(&self) -> u64 {
        let mut n = self.file_keys(HashAlgo::Sha256);
        for (k, present) in self.overlay.of(HashAlgo::Sha256) {
            let in_file = self
                .generation
                .as_ref()
                .is_some_and(|g| g.sha256.view().contains(k));
            match (present, in_file) {
                (true, false) => n += 1,
                (false, true) => n = n.saturating_sub(1),
                _ => {}
            }
        }
        n
    }

    pub fn overlay_len(&self) -> usize {
        self.overlay.len()
    }
}

/// The node's index: the current view, swapped whole on every change.
pub struct CleanIndex {
    dir: PathBuf,
    view: RwLock<Arc<IndexView>>,
    /// One writer at a time (refresh, merge, rebuild).
    writer: tokio::sync::Mutex<()>,
    /// Overlay entries that trigger a merge into a new generation.
    pub merge_threshold: usize,
    /// Rebuilds done (for `/metrics`).
    pub rebuilds: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for CleanIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CleanIndex")
            .field("dir", &self.dir)
            .finish()
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AppError + '_ {
    move |source| AppError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Opens the current generation off the async workers: opening reads
/// the whole set in (seconds for hundreds of millions of hashes).
async fn open_generation(
    dir: &Path,
) -> Result<Result<Option<Generation>, isx_cleanfiles::SetError>, AppError> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || generation::open(&dir))
        .await
        .map_err(|e| AppError::Internal(format!("opening the hash set: {e}")))
}

fn set_error(e: isx_cleanfiles::SetError) -> AppError {
    AppError::Internal(format!("hash set: {e}"))
}

impl CleanIndex {
    /// An index over `dir` (created if missing). Empty until [`sync`]
    /// opens or rebuilds its generation.
    ///
    /// [`sync`]: CleanIndex::sync
    pub fn new(dir: &Path) -> Self {
        CleanIndex {
            dir: dir.to_owned(),
            view: RwLock::new(Arc::new(IndexView::default())),
            writer: tokio::sync::Mutex::new(()),
            merge_threshold: 200_000,
            rebuilds: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The current view (cheap: an `Arc` clone).
    pub fn view(&self) -> Arc<IndexView> {
        match self.view.read() {
            Ok(v) => v.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn publish(&self, v: IndexView) {
        match self.view.write() {
            Ok(mut g) => *g = Arc::new(v),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(v),
        }
    }

    /// Opens the current generation (rebuilding it from the store when it
    /// is missing or damaged) the first time, then reads the changes made
    /// since and merges when the overlay has grown large.
    pub async fn sync(&self, store: &dyn Store) -> Result<(), AppError> {
        let _w = self.writer.lock().await;
        let current = self.view();
        if current.generation.is_none() {
            std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
            let opened = match open_generation(&self.dir).await? {
                Ok(g) => g,
                Err(e) => {
                    tracing::warn!(error = %e, "clean-file hash set unreadable (damaged, or of an older layout): rebuilding from the store");
                    None
                }
            };
            let generation = match opened {
                Some(g) => g,
                None => self.rebuild(store).await?,
            };
            let seq = generation.seq;
            self.publish(IndexView {
                generation: Some(Arc::new(generation)),
                seq,
                overlay: Default::default(),
            });
        }
        self.follow(store).await?;
        if self.view().overlay_len() >= self.merge_threshold {
            self.merge(store).await?;
        }
        Ok(())
    }

    /// Applies the store's changes after the view's sequence to a new
    /// overlay.
    async fn follow(&self, store: &dyn Store) -> Result<(), AppError> {
        let current = self.view();
        let mut seq = current.seq;
        let mut overlay: Option<Overlay> = None;
        loop {
            let changes = store.clean_changes(seq, i64::MAX, CHANGE_PAGE).await?;
            if changes.is_empty() {
                break;
            }
            let o = overlay.get_or_insert_with(|| current.overlay.clone());
            // A SHA-1 or MD5 may be shared by several files: removing one
            // file removes it only if no other file still has it.
            let mut still = HashMap::new();
            for algo in [HashAlgo::Sha1, HashAlgo::Md5] {
                let gone: Vec<Vec<u8>> = changes
                    .iter()
                    .filter(|c| !c.added)
                    .filter_map(|c| c.key(algo).map(<[u8]>::to_vec))
                    .collect();
                if !gone.is_empty() {
                    for k in metadata(store, algo, &gone).await?.into_keys() {
                        still.insert((slot(algo), k), ());
                    }
                }
            }
            for c in &changes {
                for algo in HashAlgo::ALL {
                    if let Some(k) = c.key(algo) {
                        let keep = !c.added && still.contains_key(&(slot(algo), k.to_vec()));
                        o.of_mut(algo).insert(k.to_vec(), c.added || keep);
                    }
                }
                seq = c.seq;
            }
            if changes.len() < CHANGE_PAGE as usize {
                break;
            }
        }
        if let Some(overlay) = overlay {
            self.publish(IndexView {
                generation: current.generation.clone(),
                seq,
                overlay,
            });
        }
        Ok(())
    }

    async fn reopen(&self, seq: i64) -> Result<Generation, AppError> {
        match open_generation(&self.dir).await?.map_err(set_error)? {
            Some(g) if g.seq == seq => Ok(g),
            _ => Err(AppError::Internal(format!(
                "hash set generation {seq} vanished from {}",
                self.dir.display()
            ))),
        }
    }

    /// Writes a new generation from the current one and its overlay (the
    /// caller holds the writer lock).
    async fn merge(&self, store: &dyn Store) -> Result<(), AppError> {
        let current = self.view();
        let seq = current.seq;
        let dir = self.dir.clone();
        let view = current.clone();
        tokio::task::spawn_blocking(move || -> Result<(), AppError> {
            for algo in HashAlgo::ALL {
                let overlay = view.overlay.of(algo);
                let mut added: Vec<Vec<u8>> = overlay
                    .iter()
                    .filter(|(_, p)| **p)
                    .map(|(k, _)| k.clone())
                    .collect();
                let mut removed: Vec<Vec<u8>> = overlay
                    .iter()
                    .filter(|(_, p)| !**p)
                    .map(|(k, _)| k.clone())
                    .collect();
                added.sort_unstable();
                removed.sort_unstable();
                let old: Vec<&[u8]> = Vec::new();
                let base = view.generation.as_ref().map(|g| g.set(algo).view());
                let expected = base.map_or(0, |b| b.len()) + added.len() as u64;
                let path = generation::tmp_path(&dir, algo, seq);
                let mut w =
                    SetWriter::create(&path, algo.bytes(), expected, seq).map_err(set_error)?;
                let keys: Box<dyn Iterator<Item = &[u8]>> = match &base {
                    Some(b) => Box::new(b.iter()),
                    None => Box::new(old.into_iter()),
                };
                for k in merge(keys, &added, &removed) {
                    w.push(k).map_err(set_error)?;
                }
                w.finish().map_err(set_error)?;
            }
            generation::commit(&dir, seq).map_err(set_error)
        })
        .await
        .map_err(|e| AppError::Internal(format!("merge task: {e}")))??;
        let generation = self.reopen(seq).await?;
        self.publish(IndexView {
            generation: Some(Arc::new(generation)),
            seq,
            overlay: Default::default(),
        });
        tracing::info!(seq, "clean-file hash set merged into a new generation");
        // Changes that arrived meanwhile.
        self.follow(store).await
    }

    /// Builds a generation from every record in the store.
    async fn rebuild(&self, store: &dyn Store) -> Result<Generation, AppError> {
        self.rebuilds
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Changes after `seq` are replayed by `follow`; replaying one the
        // stream already saw is harmless (adds and removes are idempotent).
        let stats = store.clean_stats().await?;
        let seq = stats.seq;
        let started = std::time::Instant::now();
        let path = generation::tmp_path(&self.dir, HashAlgo::Sha256, seq);
        let mut w = SetWriter::create(&path, 32, stats.files, seq).map_err(set_error)?;
        let mut sha1 = Vec::new();
        let mut md5 = Vec::new();
        let mut failure = None;
        store
            .for_each_clean_file(&mut |f| {
                if let Err(e) = w.push(&f.sha256.0) {
                    failure = Some(e.to_string());
                    return Err(std::io::Error::other("hash set write failed"));
                }
                if let Some(h) = f.sha1 {
                    sha1.push(h.0.to_vec());
                }
                if let Some(h) = f.md5 {
                    md5.push(h.0.to_vec());
                }
                Ok(())
            })
            .await
            .map_err(|e| AppError::Internal(failure.clone().unwrap_or_else(|| e.to_string())))?;
        w.finish().map_err(set_error)?;
        for (algo, mut keys) in [(HashAlgo::Sha1, sha1), (HashAlgo::Md5, md5)] {
            keys.sort_unstable();
            keys.dedup();
            let path = generation::tmp_path(&self.dir, algo, seq);
            isx_cleanfiles::set::write_sorted(
                &path,
                algo.bytes(),
                keys.len() as u64,
                seq,
                keys.iter().map(Vec::as_slice),
            )
            .map_err(set_error)?;
        }
        generation::commit(&self.dir, seq).map_err(set_error)?;
        tracing::info!(
            seq,
            files = stats.files,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "clean-file hash set rebuilt from the store"
        );
        self.reopen(seq).await
    }
}

/// The records whose `algo` hash is one of `keys`, by key.
pub async fn metadata(
    store: &dyn Store,
    algo: HashAlgo,
    keys: &[Vec<u8>],
) -> Result<HashMap<Vec<u8>, Vec<CleanFile>>, StoreError> {
    let mut by_key: HashMap<Vec<u8>, Vec<CleanFile>> = HashMap::new();
    if keys.is_empty() {
        return Ok(by_key);
    }
    // Each key once: a key repeated in a bulk request (a disk holds the same
    // DLL many times) is read once, not once per chunk it falls in.
    let mut unique: Vec<Vec<u8>> = keys.to_vec();
    unique.sort_unstable();
    unique.dedup();
    for f in store.clean_files_by(algo, &unique).await? {
        if let Some(k) = f.hash(algo).map(<[u8]>::to_vec) {
            by_key.entry(k).or_default().push(f);
        }
    }
    Ok(by_key)
}

/// The answer for one well-formed hash.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub known: bool,
    /// The known-good files with this hash (empty when unknown, or when
    /// metadata was not asked for).
    pub files: Vec<CleanFile>,
}

/// Answers many hashes (every lookup path — API, hashlookup API, web
/// page, CLI — goes through here): one batched set lookup per algorithm,
/// then, `with_metadata`, one store read per algorithm for the hits. With
/// metadata the store confirms: a hash it no longer has (removed a moment
/// ago) is unknown. One answer per input, `None` for a malformed one.
pub async fn look_up(
    store: &dyn Store,
    view: &IndexView,
    hashes: &[Result<HashValue, String>],
    with_metadata: bool,
) -> Result<Vec<Option<Known>>, StoreError> {
    let mut out: Vec<Option<Known>> = hashes
        .iter()
        .map(|h| h.as_ref().ok().map(|_| Known::default()))
        .collect();
    for algo in HashAlgo::ALL {
        let at: Vec<usize> = hashes
            .iter()
            .enumerate()
            .filter(|(_, h)| matches!(h, Ok(v) if v.algo() == algo))
            .map(|(i, _)| i)
            .collect();
        if at.is_empty() {
            continue;
        }
        let mut flat = Vec::with_capacity(at.len() * algo.bytes());
        for i in &at {
            if let Some(Ok(v)) = hashes.get(*i) {
                flat.extend_from_slice(v.as_bytes());
            }
        }
        let mut answers = Vec::with_capacity(at.len());
        view.contains_many(algo, &flat, &mut answers);
        let hits: Vec<usize> = at
            .iter()
            .zip(answers)
            .filter_map(|(i, yes)| yes.then_some(*i))
            .collect();
        let keys: Vec<Vec<u8>> = hits
            .iter()
            .filter_map(|i| hashes.get(*i)?.as_ref().ok().map(|v| v.as_bytes().to_vec()))
            .collect();
        let found = if with_metadata {
            metadata(store, algo, &keys).await?
        } else {
            HashMap::new()
        };
        for (i, key) in hits.iter().zip(&keys) {
            if let Some(Some(k)) = out.get_mut(*i) {
                if with_metadata {
                    k.files = found.get(key).cloned().unwrap_or_default();
                    k.known = !k.files.is_empty();
                } else {
                    k.known = true;
                }
            }
        }
    }
    Ok(out)
}

/// Follows the store every `every_ms` (after an import on this node the
/// handler syncs at once; other nodes' imports arrive within this time).
pub async fn run(index: Arc<CleanIndex>, store: Arc<dyn Store>, every_ms: u64) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(every_ms.max(100)));
    loop {
        tick.tick().await;
        if let Err(e) = index.sync(store.as_ref()).await {
            tracing::warn!(error = %e, "clean-file index sync failed; will retry");
        }
    }
}
