//! The hash set: fixed-width keys (the raw hash bytes) in one file, in
//! ascending order, each at or just after its *home* slot.
//!
//! Hashes are uniform, so a key's top 64 bits scaled to the table size
//! say where it belongs: `home(k) = top64(k) · H / 2^64` for `H` home
//! slots (8/7 of the key count). Keys are laid out in order, each at
//! `max(home, previous + 1)`, and unused slots hold zeros — a sorted array
//! with gaps. A lookup reads from the key's home slot forward and stops at
//! the key, at a larger key or at a gap: on average a few slots, one or
//! two adjacent cache lines, and no separate index to read first. A
//! SHA-256 costs 32 · 8/7 ≈ 36.6 bytes.
//!
//! The all-zero key (which marks gaps) is kept as a flag in the header.
//!
//! Layout (little-endian):
//!
//! ```text
//! 0   magic "ISXHSET2"
//! 8   key length (u32)        12  flags (u32; bit 0: holds the zero key)
//! 16  key count (u64)         24  store sequence reflected (i64)
//! 32  home slots (u64)        40  slots (u64)
//! 48  reserved                56  FNV-1a of bytes 0..56
//! 64  slots × key length bytes
//! end "ISXHEND2" + key count (u64)
//! ```
//!
//! Files are written once and never changed: a change is a new file built
//! by [`merge`]-ing the old one with a sorted delta.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::SetError;

const MAGIC: &[u8; 8] = b"ISXHSET2";
const END: &[u8; 8] = b"ISXHEND2";
const HEADER: usize = 64;
const FOOTER: usize = 16;
const ZERO: [u8; 32] = [0u8; 32];

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Home slots for about `n` keys (load 7/8).
pub fn home_slots(n: u64) -> u64 {
    (n.saturating_mul(8) / 7).max(1)
}

/// The first eight bytes of a key as a big-endian word (ordered like the
/// key's bytes).
#[inline(always)]
fn prefix(key: &[u8]) -> u64 {
    let mut top = [0u8; 8];
    top.copy_from_slice(&key[..8]);
    u64::from_be_bytes(top)
}

#[inline(always)]
fn home_of(key: &[u8], homes: u64) -> usize {
    ((u128::from(prefix(key)) * u128::from(homes)) >> 64) as usize
}

#[inline(always)]
fn is_zero(key: &[u8]) -> bool {
    key.iter().all(|b| *b == 0)
}

/// A read view of a set file's bytes.
#[derive(Clone, Copy)]
pub struct SetView<'a> {
    key_len: usize,
    has_zero: bool,
    count: u64,
    seq: i64,
    homes: u64,
    slots: &'a [u8],
}

impl std::fmt::Debug for SetView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetView")
            .field("key_len", &self.key_len)
            .field("count", &self.count)
            .field("seq", &self.seq)
            .field("homes", &self.homes)
            .finish()
    }
}

impl<'a> SetView<'a> {
    /// Checks a whole file's bytes and reads its header.
    pub fn parse(bytes: &'a [u8]) -> Result<SetView<'a>, String> {
        if bytes.len() < HEADER + FOOTER {
            return Err(format!("{} bytes is too short", bytes.len()));
        }
        if &bytes[..8] != MAGIC {
            return Err("wrong magic".into());
        }
        let u32_at =
            |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        let u64_at = |o: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[o..o + 8]);
            u64::from_le_bytes(b)
        };
        if u64_at(56) != fnv1a(&bytes[..56]) {
            return Err("header checksum mismatch".into());
        }
        let key_len = u32_at(8) as usize;
        let flags = u32_at(12);
        let count = u64_at(16);
        let seq = u64_at(24) as i64;
        let homes = u64_at(32);
        let slots = u64_at(40);
        if !matches!(key_len, 16 | 20 | 32) || homes == 0 {
            return Err(format!("key length {key_len} / home slots {homes}"));
        }
        let slots_len = usize::try_from(slots)
            .ok()
            .and_then(|c| c.checked_mul(key_len))
            .ok_or("slot count overflows")?;
        if HEADER
            .checked_add(slots_len)
            .and_then(|e| e.checked_add(FOOTER))
            != Some(bytes.len())
        {
            return Err(format!(
                "size {} does not match its header (truncated or damaged)",
                bytes.len()
            ));
        }
        let footer = &bytes[bytes.len() - FOOTER..];
        if &footer[..8] != END || u64_at(bytes.len() - 8) != count {
            return Err("footer missing (the file was not finished)".into());
        }
        Ok(SetView {
            key_len,
            has_zero: flags & 1 != 0,
            count,
            seq,
            homes,
            slots: &bytes[HEADER..HEADER + slots_len],
        })
    }

    pub fn key_len(&self) -> usize {
        self.key_len
    }

    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The store sequence number this set reflects.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// Bytes a lookup may touch (the whole file).
    pub fn bytes(&self) -> usize {
        self.slots.len() + HEADER + FOOTER
    }

    /// Whether `key` (of this set's key length) is in the set.
    #[inline]
    pub fn contains(&self, key: &[u8]) -> bool {
        if key.len() != self.key_len {
            return false;
        }
        if is_zero(key) {
            return self.has_zero;
        }
        self.scan(key, home_of(key, self.homes))
    }

    /// Reads from `home` forward. Keys are uniform, so their first eight
    /// bytes (compared as one big-endian word) almost always decide; the
    /// whole key is compared only when those are equal.
    #[inline(always)]
    fn scan(&self, key: &[u8], home: usize) -> bool {
        let kl = self.key_len;
        let want = prefix(key);
        let mut at = home * kl;
        while let Some(slot) = self.slots.get(at..at + kl) {
            let have = prefix(slot);
            if have == 0 && is_zero(slot) {
                return false;
            }
            if have > want {
                return false;
            }
            if have == want {
                match slot.cmp(key) {
                    std::cmp::Ordering::Equal => return true,
                    std::cmp::Ordering::Greater => return false,
                    std::cmp::Ordering::Less => {}
                }
            }
            at += kl;
        }
        false
    }

    /// Looks up many keys (`keys` holds them back to back) and appends
    /// one answer per key to `out`. Keys are taken in groups whose home
    /// lines are prefetched together, so the memory latencies of a group
    /// overlap instead of adding up.
    pub fn contains_many(&self, keys: &[u8], out: &mut Vec<bool>) {
        const GROUP: usize = 32;
        let kl = self.key_len;
        let n = keys.len() / kl;
        out.reserve(n);
        let mut homes = [0usize; GROUP];
        for g in (0..n).step_by(GROUP) {
            let m = GROUP.min(n - g);
            for (j, h) in homes.iter_mut().enumerate().take(m) {
                let k = &keys[(g + j) * kl..(g + j + 1) * kl];
                *h = home_of(k, self.homes);
                // A key sits 3.5 slots past its home on average (load
                // 7/8): the home line and the three after it.
                let p = self.slots.as_ptr().wrapping_add(*h * kl);
                for line in [0, 64, 128, 192] {
                    prefetch(p.wrapping_add(line));
                }
            }
            for (j, h) in homes.iter().enumerate().take(m) {
                let k = &keys[(g + j) * kl..(g + j + 1) * kl];
                out.push(if is_zero(k) {
                    self.has_zero
                } else {
                    self.scan(k, *h)
                });
            }
        }
    }

    /// Every key in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let kl = self.key_len;
        let zero: Option<&'a [u8]> = self.has_zero.then_some(&ZERO[..kl]);
        zero.into_iter()
            .chain(self.slots.chunks_exact(kl).filter(|s| !is_zero(s)))
    }
}

/// Writes a set file in one pass from keys in ascending order. The file
/// only becomes valid when [`SetWriter::finish`] writes its header and
/// footer (and syncs it): a crash before leaves a file [`SetView::parse`]
/// rejects.
pub struct SetWriter {
    out: BufWriter<File>,
    path: PathBuf,
    key_len: usize,
    homes: u64,
    seq: i64,
    /// The next free slot.
    next: u64,
    count: u64,
    has_zero: bool,
    last: Vec<u8>,
}

impl SetWriter {
    /// `expected` is about how many keys will come (it sizes the table:
    /// any count works, a close guess keeps lookups short).
    pub fn create(path: &Path, key_len: usize, expected: u64, seq: i64) -> Result<Self, SetError> {
        let io = |source| SetError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = File::create(path).map_err(io)?;
        file.seek(SeekFrom::Start(HEADER as u64)).map_err(io)?;
        Ok(SetWriter {
            // Large writes let the page cache hold the file in 2 MiB pages.
            out: BufWriter::with_capacity(8 << 20, file),
            path: path.to_owned(),
            key_len,
            homes: home_slots(expected),
            seq,
            next: 0,
            count: 0,
            has_zero: false,
            last: Vec::new(),
        })
    }

    /// Appends the next key (strictly greater than the previous one).
    pub fn push(&mut self, key: &[u8]) -> Result<(), SetError> {
        if key.len() != self.key_len || (self.count > 0 && key <= self.last.as_slice()) {
            return Err(SetError::Unsorted);
        }
        let io = |source| SetError::Io {
            path: self.path.clone(),
            source,
        };
        if is_zero(key) {
            self.has_zero = true;
        } else {
            let home = home_of(key, self.homes) as u64;
            while self.next < home {
                self.out.write_all(&ZERO[..self.key_len]).map_err(io)?;
                self.next += 1;
            }
            self.out.write_all(key).map_err(io)?;
            self.next += 1;
        }
        self.count += 1;
        self.last.clear();
        self.last.extend_from_slice(key);
        Ok(())
    }

    /// Pads the table, writes the header and footer, syncs, and returns
    /// the count.
    pub fn finish(mut self) -> Result<u64, SetError> {
        let path = self.path.clone();
        let io = |source| SetError::Io {
            path: path.clone(),
            source,
        };
        while self.next < self.homes {
            self.out.write_all(&ZERO[..self.key_len]).map_err(io)?;
            self.next += 1;
        }
        self.out.write_all(END).map_err(io)?;
        self.out.write_all(&self.count.to_le_bytes()).map_err(io)?;
        let mut file = self.out.into_inner().map_err(|e| io(e.into_error()))?;
        let mut head = Vec::with_capacity(HEADER);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&(self.key_len as u32).to_le_bytes());
        head.extend_from_slice(&u32::from(self.has_zero).to_le_bytes());
        head.extend_from_slice(&self.count.to_le_bytes());
        head.extend_from_slice(&self.seq.to_le_bytes());
        head.extend_from_slice(&self.homes.to_le_bytes());
        head.extend_from_slice(&self.next.to_le_bytes());
        head.extend_from_slice(&[0u8; 8]);
        let check = fnv1a(&head[..56]);
        head.extend_from_slice(&check.to_le_bytes());
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(&head).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(self.count)
    }
}

/// The keys of `old` with `added` put in and `removed` taken out, in
/// order (both sorted, of the same key length). A key in both `added` and
/// `removed` ends up removed.
pub fn merge<'a>(
    old: impl Iterator<Item = &'a [u8]> + 'a,
    added: &'a [Vec<u8>],
    removed: &'a [Vec<u8>],
) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut old = old.peekable();
    let mut add = added.iter().map(Vec::as_slice).peekable();
    let mut rem = removed.iter().map(Vec::as_slice).peekable();
    std::iter::from_fn(move || loop {
        let next = match (old.peek(), add.peek()) {
            (None, None) => return None,
            (Some(_), None) => old.next(),
            (None, Some(_)) => add.next(),
            (Some(o), Some(a)) => match o.cmp(a) {
                std::cmp::Ordering::Less => old.next(),
                std::cmp::Ordering::Greater => add.next(),
                std::cmp::Ordering::Equal => {
                    add.next();
                    old.next()
                }
            },
        }?;
        while rem.peek().is_some_and(|r| *r < next) {
            rem.next();
        }
        if rem.peek() == Some(&next) {
            continue;
        }
        return Some(next);
    })
}

/// A set file opened read-only through a memory map.
pub struct SetFile {
    map: memmap2::Mmap,
    path: PathBuf,
}

impl std::fmt::Debug for SetFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetFile").field("path", &self.path).finish()
    }
}

impl SetFile {
    /// Maps and checks a set file.
    pub fn open(path: &Path) -> Result<SetFile, SetError> {
        let file = File::open(path).map_err(|source| SetError::Io {
            path: path.to_owned(),
            source,
        })?;
        // SAFETY: set files are written once under a temporary name and
        // never modified after they are renamed into place; a new set is
        // a new file, so the mapped bytes do not change under us.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|source| SetError::Io {
            path: path.to_owned(),
            source,
        })?;
        // Lookups land anywhere: 2 MiB pages (where the kernel maps file
        // pages that large) spare most TLB misses, and the whole set is
        // faulted in at open rather than on the first lookups.
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage);
        SetView::parse(&map).map_err(|reason| SetError::Invalid {
            path: path.to_owned(),
            reason,
        })?;
        Ok(SetFile {
            map,
            path: path.to_owned(),
        })
    }

    pub fn view(&self) -> SetView<'_> {
        // The bytes were checked in `open` and cannot change.
        SetView::parse(&self.map).unwrap_or(SetView {
            key_len: 32,
            has_zero: false,
            count: 0,
            seq: 0,
            homes: 1,
            slots: &[],
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Writes `keys` (sorted, distinct) as a set file.
pub fn write_sorted<'a>(
    path: &Path,
    key_len: usize,
    expected: u64,
    seq: i64,
    keys: impl Iterator<Item = &'a [u8]>,
) -> Result<u64, SetError> {
    let mut w = SetWriter::create(path, key_len, expected, seq)?;
    for k in keys {
        w.push(k)?;
    }
    w.finish()
}

#[cfg(test)]
mod tests;

#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
