//! The hash set: fixed-width keys (the raw hash bytes) sorted in one file,
//! behind an index of bucket starts by the keys' top bits.
//!
//! Hashes are uniform, so `2^bits` buckets with 4–8 keys on average put
//! every key within one short binary search of a bucket whose bounds are
//! two adjacent index entries. A SHA-256 costs its 32 bytes plus about
//! 0.7 bytes of index; a lookup touches one index line and one or two key
//! lines.
//!
//! Layout (little-endian):
//!
//! ```text
//! 0   magic "ISXHSET1"
//! 8   key length (u32)        12  bucket bits (u32)
//! 16  key count (u64)         24  store sequence reflected (i64)
//! 32  index offset (u64)      40  keys offset (u64)
//! 48  reserved                56  FNV-1a of bytes 0..56
//! 64  index: 2^bits + 1 bucket starts (u32)
//! …   keys, ascending, no repeats
//! end "ISXHEND1" + key count (u64)
//! ```
//!
//! Files are written once and never changed: a change is a new file built
//! by [`merge`]-ing the old one with a sorted delta.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::SetError;

const MAGIC: &[u8; 8] = b"ISXHSET1";
const END: &[u8; 8] = b"ISXHEND1";
const HEADER: usize = 64;
const FOOTER: usize = 16;

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Bucket bits for about `n` keys: 4–8 keys per bucket on average.
pub fn bucket_bits(n: u64) -> u32 {
    let mut bits = 4;
    while bits < 30 && (n >> bits) > 8 {
        bits += 1;
    }
    bits
}

#[inline(always)]
fn bucket_of(key: &[u8], bits: u32) -> usize {
    let mut top = [0u8; 8];
    top.copy_from_slice(&key[..8]);
    (u64::from_be_bytes(top) >> (64 - bits)) as usize
}

/// A read view of a set file's bytes.
#[derive(Clone, Copy)]
pub struct SetView<'a> {
    key_len: usize,
    bits: u32,
    count: u64,
    seq: i64,
    index: &'a [u8],
    keys: &'a [u8],
}

impl std::fmt::Debug for SetView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetView")
            .field("key_len", &self.key_len)
            .field("bits", &self.bits)
            .field("count", &self.count)
            .field("seq", &self.seq)
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
        let u32_at = |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        let u64_at = |o: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[o..o + 8]);
            u64::from_le_bytes(b)
        };
        if u64_at(56) != fnv1a(&bytes[..56]) {
            return Err("header checksum mismatch".into());
        }
        let key_len = u32_at(8) as usize;
        let bits = u32_at(12);
        let count = u64_at(16);
        let seq = u64_at(24) as i64;
        let index_offset = u64_at(32) as usize;
        let keys_offset = u64_at(40) as usize;
        if !matches!(key_len, 16 | 20 | 32) || !(1..=30).contains(&bits) {
            return Err(format!("key length {key_len} / bucket bits {bits}"));
        }
        let index_len = ((1usize << bits) + 1) * 4;
        let keys_len = usize::try_from(count)
            .ok()
            .and_then(|c| c.checked_mul(key_len))
            .ok_or("key count overflows")?;
        let expected = keys_offset
            .checked_add(keys_len)
            .and_then(|e| e.checked_add(FOOTER));
        if index_offset != HEADER
            || keys_offset < index_offset + index_len
            || expected != Some(bytes.len())
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
        let index = &bytes[index_offset..index_offset + index_len];
        let view = SetView {
            key_len,
            bits,
            count,
            seq,
            index,
            keys: &bytes[keys_offset..keys_offset + keys_len],
        };
        if view.start(0) != 0 || u64::from(view.start(1usize << bits)) != count {
            return Err("index does not span the keys".into());
        }
        Ok(view)
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

    /// Bytes of keys and index (what lookups keep in memory).
    pub fn bytes(&self) -> usize {
        self.keys.len() + self.index.len() + HEADER + FOOTER
    }

    #[inline(always)]
    fn start(&self, bucket: usize) -> u32 {
        let o = bucket * 4;
        match self.index.get(o..o + 4) {
            Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            None => 0,
        }
    }

    #[inline(always)]
    fn key(&self, i: usize) -> &'a [u8] {
        &self.keys[i * self.key_len..(i + 1) * self.key_len]
    }

    /// Whether `key` (of this set's key length) is in the set.
    #[inline]
    pub fn contains(&self, key: &[u8]) -> bool {
        if key.len() != self.key_len {
            return false;
        }
        let b = bucket_of(key, self.bits);
        let (lo, hi) = (self.start(b) as usize, self.start(b + 1) as usize);
        self.search(key, lo, hi)
    }

    #[inline(always)]
    fn search(&self, key: &[u8], mut lo: usize, mut hi: usize) -> bool {
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.key(mid).cmp(key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }

    /// Looks up many keys (`keys` holds them back to back) and appends
    /// one answer per key to `out`. Keys are taken in groups whose index
    /// and key lines are prefetched together, so the memory latencies of a
    /// group overlap instead of adding up.
    pub fn contains_many(&self, keys: &[u8], out: &mut Vec<bool>) {
        const GROUP: usize = 16;
        let kl = self.key_len;
        let n = keys.len() / kl;
        out.reserve(n);
        let mut buckets = [0usize; GROUP];
        let mut ranges = [(0usize, 0usize); GROUP];
        for g in (0..n).step_by(GROUP) {
            let m = GROUP.min(n - g);
            for j in 0..m {
                let k = &keys[(g + j) * kl..(g + j + 1) * kl];
                buckets[j] = bucket_of(k, self.bits);
                prefetch(self.index.as_ptr().wrapping_add(buckets[j] * 4));
            }
            for j in 0..m {
                let (lo, hi) = (
                    self.start(buckets[j]) as usize,
                    self.start(buckets[j] + 1) as usize,
                );
                ranges[j] = (lo, hi);
                let mid = lo + (hi - lo) / 2;
                prefetch(self.keys.as_ptr().wrapping_add(mid * kl));
                prefetch(self.keys.as_ptr().wrapping_add(lo * kl));
            }
            for j in 0..m {
                let k = &keys[(g + j) * kl..(g + j + 1) * kl];
                out.push(self.search(k, ranges[j].0, ranges[j].1));
            }
        }
    }

    /// Every key in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let kl = self.key_len;
        self.keys.chunks_exact(kl)
    }
}

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

/// Writes a set file in one pass from keys in ascending order. The file
/// only becomes valid when [`SetWriter::finish`] writes its header and
/// footer (and syncs it): a crash before leaves a file [`SetView::parse`]
/// rejects.
pub struct SetWriter {
    out: BufWriter<File>,
    path: PathBuf,
    key_len: usize,
    bits: u32,
    seq: i64,
    keys_offset: u64,
    starts: Vec<u32>,
    count: u64,
    last: Vec<u8>,
}

impl SetWriter {
    /// `expected` is about how many keys will come (it sizes the index;
    /// any count works, a close guess keeps buckets short).
    pub fn create(path: &Path, key_len: usize, expected: u64, seq: i64) -> Result<Self, SetError> {
        let io = |source| SetError::Io {
            path: path.to_owned(),
            source,
        };
        let bits = bucket_bits(expected);
        let index_len = ((1u64 << bits) + 1) * 4;
        let keys_offset = (HEADER as u64 + index_len).div_ceil(64) * 64;
        let mut file = File::create(path).map_err(io)?;
        file.seek(SeekFrom::Start(keys_offset)).map_err(io)?;
        Ok(SetWriter {
            out: BufWriter::with_capacity(1 << 20, file),
            path: path.to_owned(),
            key_len,
            bits,
            seq,
            keys_offset,
            starts: vec![0; (1usize << bits) + 1],
            count: 0,
            last: Vec::new(),
        })
    }

    /// Appends the next key (strictly greater than the previous one).
    pub fn push(&mut self, key: &[u8]) -> Result<(), SetError> {
        if key.len() != self.key_len || (self.count > 0 && key <= self.last.as_slice()) {
            return Err(SetError::Unsorted);
        }
        if self.count >= u64::from(u32::MAX) {
            return Err(SetError::TooLarge);
        }
        self.out.write_all(key).map_err(|source| SetError::Io {
            path: self.path.clone(),
            source,
        })?;
        self.starts[bucket_of(key, self.bits) + 1] += 1;
        self.count += 1;
        self.last.clear();
        self.last.extend_from_slice(key);
        Ok(())
    }

    /// Writes the index, header and footer, syncs, and returns the count.
    pub fn finish(mut self) -> Result<u64, SetError> {
        let path = self.path.clone();
        let io = |source| SetError::Io {
            path: path.clone(),
            source,
        };
        for i in 1..self.starts.len() {
            self.starts[i] += self.starts[i - 1];
        }
        self.out.write_all(END).map_err(io)?;
        self.out.write_all(&self.count.to_le_bytes()).map_err(io)?;
        let mut file = self.out.into_inner().map_err(|e| io(e.into_error()))?;
        let mut head = Vec::with_capacity(HEADER + self.starts.len() * 4);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&(self.key_len as u32).to_le_bytes());
        head.extend_from_slice(&self.bits.to_le_bytes());
        head.extend_from_slice(&self.count.to_le_bytes());
        head.extend_from_slice(&self.seq.to_le_bytes());
        head.extend_from_slice(&(HEADER as u64).to_le_bytes());
        head.extend_from_slice(&self.keys_offset.to_le_bytes());
        head.extend_from_slice(&[0u8; 8]);
        let check = fnv1a(&head[..56]);
        head.extend_from_slice(&check.to_le_bytes());
        for s in &self.starts {
            head.extend_from_slice(&s.to_le_bytes());
        }
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
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Random);
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
            bits: 1,
            count: 0,
            seq: 0,
            index: &[],
            keys: &[],
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
