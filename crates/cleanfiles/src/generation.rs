//! The set files on disk: one generation per store sequence number, three
//! files per generation (`sha256-<seq>.set`, `sha1-<seq>.set`,
//! `md5-<seq>.set`), and a `CURRENT` file naming the generation in use.
//!
//! A new generation is written under temporary names, synced, renamed, and
//! only then does `CURRENT` move to it (itself replaced by rename). A crash
//! at any point leaves `CURRENT` naming a complete generation; temporary
//! files and superseded generations are removed on the next open.

use std::path::{Path, PathBuf};

use crate::hash::HashAlgo;
use crate::set::SetFile;
use crate::SetError;

const CURRENT: &str = "CURRENT";

/// The three set files of one generation.
#[derive(Debug)]
pub struct Generation {
    pub seq: i64,
    pub sha256: SetFile,
    pub sha1: SetFile,
    pub md5: SetFile,
}

impl Generation {
    pub fn set(&self, algo: HashAlgo) -> &SetFile {
        match algo {
            HashAlgo::Sha256 => &self.sha256,
            HashAlgo::Sha1 => &self.sha1,
            HashAlgo::Md5 => &self.md5,
        }
    }
}

fn file_name(algo: HashAlgo, seq: i64) -> String {
    format!("{}-{seq}.set", algo.as_str())
}

/// Where a generation's file is written before [`commit`].
pub fn tmp_path(dir: &Path, algo: HashAlgo, seq: i64) -> PathBuf {
    dir.join(format!(".{}.tmp", file_name(algo, seq)))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SetError + '_ {
    move |source| SetError::Io {
        path: path.to_owned(),
        source,
    }
}

fn sync_dir(dir: &Path) -> Result<(), SetError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}

/// Makes the generation `seq` (its three files written to [`tmp_path`]s
/// and finished) the current one, then removes older generations.
pub fn commit(dir: &Path, seq: i64) -> Result<(), SetError> {
    for algo in HashAlgo::ALL {
        let from = tmp_path(dir, algo, seq);
        let to = dir.join(file_name(algo, seq));
        std::fs::rename(&from, &to).map_err(io(&from))?;
    }
    sync_dir(dir)?;
    let tmp = dir.join(".CURRENT.tmp");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        writeln!(f, "{seq}").map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    let current = dir.join(CURRENT);
    std::fs::rename(&tmp, &current).map_err(io(&current))?;
    sync_dir(dir)?;
    remove_stale(dir, Some(seq));
    Ok(())
}

/// The generation `CURRENT` names: `Ok(None)` when there is none yet, an
/// error when its files are missing or damaged (the caller rebuilds).
/// Leftovers of interrupted writes are removed first.
pub fn open(dir: &Path) -> Result<Option<Generation>, SetError> {
    let current = dir.join(CURRENT);
    let text = match std::fs::read_to_string(&current) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            remove_stale(dir, None);
            return Ok(None);
        }
        Err(e) => return Err(io(&current)(e)),
    };
    let seq: i64 = text.trim().parse().map_err(|_| SetError::Invalid {
        path: current.clone(),
        reason: format!("{:?} is not a sequence number", text.trim()),
    })?;
    remove_stale(dir, Some(seq));
    let open = |algo| SetFile::open(&dir.join(file_name(algo, seq)));
    let generation = Generation {
        seq,
        sha256: open(HashAlgo::Sha256)?,
        sha1: open(HashAlgo::Sha1)?,
        md5: open(HashAlgo::Md5)?,
    };
    for algo in HashAlgo::ALL {
        let v = generation.set(algo).view();
        if v.seq() != seq || v.key_len() != algo.bytes() {
            return Err(SetError::Invalid {
                path: generation.set(algo).path().to_owned(),
                reason: format!("holds {}-byte keys of sequence {}", v.key_len(), v.seq()),
            });
        }
    }
    Ok(Some(generation))
}

/// Removes temporary files and generations other than `keep`.
fn remove_stale(dir: &Path, keep: Option<i64>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let keep_names: Vec<String> = keep
        .map(|s| HashAlgo::ALL.iter().map(|a| file_name(*a, s)).collect())
        .unwrap_or_default();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let stale_tmp = name.starts_with('.') && name.ends_with(".tmp");
        let old_set = name.ends_with(".set") && !keep_names.contains(&name);
        // Files of a newer generation than CURRENT are leftovers of a
        // commit that crashed before moving CURRENT: also stale.
        if stale_tmp || old_set {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::set::write_sorted;

    fn write_generation(dir: &Path, seq: i64, keys: &[u8]) {
        for algo in HashAlgo::ALL {
            let kl = algo.bytes();
            let mut ks: Vec<Vec<u8>> = vec![vec![keys[0]; kl]];
            ks.extend(keys[1..].iter().map(|b| vec![*b; kl]));
            ks.sort();
            ks.dedup();
            write_sorted(
                &tmp_path(dir, algo, seq),
                kl,
                ks.len() as u64,
                seq,
                ks.iter().map(Vec::as_slice),
            )
            .unwrap();
        }
    }

    #[test]
    fn a_crash_before_current_moves_keeps_the_old_generation() {
        let dir = tempfile::tempdir().unwrap();
        assert!(open(dir.path()).unwrap().is_none());
        write_generation(dir.path(), 5, &[1, 2, 3]);
        commit(dir.path(), 5).unwrap();
        let g = open(dir.path()).unwrap().unwrap();
        assert_eq!(g.seq, 5);
        assert!(g.sha256.view().contains(&[2u8; 32]));

        // Generation 9 written, one file renamed, then a "crash": CURRENT
        // still names 5, and opening again cleans up generation 9.
        write_generation(dir.path(), 9, &[4, 5]);
        std::fs::rename(
            tmp_path(dir.path(), HashAlgo::Sha256, 9),
            dir.path().join("sha256-9.set"),
        )
        .unwrap();
        let g = open(dir.path()).unwrap().unwrap();
        assert_eq!(g.seq, 5);
        assert!(g.md5.view().contains(&[3u8; 16]));
        assert!(!g.sha256.view().contains(&[4u8; 32]));
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            left.iter()
                .all(|n| !n.contains("-9") && !n.ends_with(".tmp")),
            "{left:?}"
        );

        // A complete commit moves to the new generation and drops the old.
        write_generation(dir.path(), 9, &[4, 5]);
        commit(dir.path(), 9).unwrap();
        let g = open(dir.path()).unwrap().unwrap();
        assert_eq!(g.seq, 9);
        assert!(g.sha1.view().contains(&[5u8; 20]));
        assert!(!dir.path().join("sha256-5.set").exists());
    }

    #[test]
    fn a_damaged_current_generation_is_an_error_to_rebuild_from() {
        let dir = tempfile::tempdir().unwrap();
        write_generation(dir.path(), 3, &[7, 8]);
        commit(dir.path(), 3).unwrap();
        let p = dir.path().join("sha1-3.set");
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 3]).unwrap();
        assert!(matches!(open(dir.path()), Err(SetError::Invalid { .. })));
    }
}
