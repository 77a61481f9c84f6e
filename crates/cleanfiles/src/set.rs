//! The hash set: fixed-width keys (the raw hash bytes) in one file, in
//! ascending order and back to back, behind a table of one cache line per
//! *bucket* that holds a 16-bit fingerprint of each of its keys.
//!
//! Hashes are uniform, so a key's top 64 bits scaled to the bucket count
//! say which bucket it falls in: `bucket(k) = top64(k) · B / 2^64`, with
//! `B` = ⌈n / 16⌉ buckets for `n` keys. The scaling keeps the order, so a
//! bucket's keys are a contiguous run of the sorted keys; its line says
//! where the run starts, how long it is, and the fingerprint (bytes 8–9)
//! of each of its first 29 keys. A lookup reads the bucket's line and
//! compares all fingerprints at once: for a key that is not in the set
//! that line is almost always the whole answer (a stray fingerprint match
//! has odds of about 1 in 4,000); a key that is in it reads one more line,
//! the key itself, to confirm the whole key. The answer is always exact.
//! A bucket of more than 29 keys (about 1 in 1,000 at 16 on average) keeps
//! the rest of its run for a binary search. A SHA-256 costs 32 + 64/16 =
//! 36 bytes.
//!
//! Layout (little-endian):
//!
//! ```text
//! 0   magic "ISXHSET3"
//! 8   key length (u32)        12  flags (u32, none yet)
//! 16  key count (u64)         24  store sequence reflected (i64)
//! 32  buckets (u64)           40  reserved
//! 48  reserved                56  FNV-1a of bytes 0..56
//! 64  key count × key length bytes, zero-padded to a multiple of 64
//! ..  buckets × 64 bytes: start (u32 + u8 high byte), length (u8, 255
//!     for 255 or more), 29 fingerprints (u16)
//! end "ISXHEND3" + key count (u64)
//! ```
//!
//! Files are written once and never changed: a change is a new file built
//! by [`merge`]-ing the old one with a sorted delta.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::SetError;

const MAGIC: &[u8; 8] = b"ISXHSET3";
const END: &[u8; 8] = b"ISXHEND3";
const HEADER: usize = 64;
const FOOTER: usize = 16;
const LINE: usize = 64;
/// Keys per bucket on average.
const LOAD: u64 = 16;
/// Fingerprints a bucket line holds.
const SLOTS: usize = 29;
/// Where the fingerprints start in a line (after the 6-byte header).
const FP_AT: usize = 6;

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Buckets for `n` keys.
pub fn bucket_count(n: u64) -> u64 {
    n.div_ceil(LOAD).max(1)
}

fn padded(len: usize) -> usize {
    len.div_ceil(LINE) * LINE
}

/// The first eight bytes of a key as a big-endian word (ordered like the
/// key's bytes). Keys are 16, 20 or 32 bytes long (`Layout::parse` admits
/// no other length, and a lookup checks the key's length first), so the
/// `0` of a shorter slice never occurs.
#[inline(always)]
fn prefix(key: &[u8]) -> u64 {
    key.first_chunk::<8>()
        .map_or(0, |top| u64::from_be_bytes(*top))
}

#[inline(always)]
fn bucket_of(key: &[u8], buckets: u64) -> usize {
    ((u128::from(prefix(key)) * u128::from(buckets)) >> 64) as usize
}

/// Bytes 8 and 9: independent of the bucket, which the first bytes pick
/// (keys are at least 16 bytes long, as for [`prefix`]).
#[inline(always)]
fn fingerprint(key: &[u8]) -> u16 {
    key.first_chunk::<10>()
        .map_or(0, |&[.., a, b]| u16::from_le_bytes([a, b]))
}

/// A bucket line's start, and its length (255 meaning "255 or more").
#[inline(always)]
fn line_head(line: &[u8; LINE]) -> (usize, usize) {
    let &[s0, s1, s2, s3, s4, len, ..] = line;
    let start = u64::from(u32::from_le_bytes([s0, s1, s2, s3])) | (u64::from(s4) << 32);
    (start as usize, usize::from(len))
}

/// One bit per fingerprint slot of `line` (bit `FP_AT + 2·i` for slot
/// `i`) that equals `fp`, among the first `len` slots.
#[inline(always)]
fn matches(line: &[u8; LINE], fp: u16, len: usize) -> u64 {
    let valid = if len >= SLOTS {
        u64::MAX
    } else {
        (1u64 << (FP_AT + 2 * len)) - 1
    } & 0x5555_5555_5555_5555
        & !((1u64 << FP_AT) - 1);
    equal_lanes(line, fp) & valid
}

/// Bit `2·j` set where the `j`-th u16 of the 64-byte `line` equals `fp`.
#[inline(always)]
fn equal_lanes(line: &[u8; LINE], fp: u16) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86_64; the four unaligned 16-byte
        // loads stay within `line`, which is 64 bytes by its type.
        unsafe {
            let want = _mm_set1_epi16(fp as i16);
            let p = line.as_ptr().cast::<__m128i>();
            let lane = |i: usize| {
                let v = _mm_loadu_si128(p.add(i));
                u64::from(_mm_movemask_epi8(_mm_cmpeq_epi16(v, want)) as u32 as u16)
            };
            lane(0) | lane(1) << 16 | lane(2) << 32 | lane(3) << 48
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mut m = 0u64;
        for (j, lane) in line.chunks_exact(2).enumerate() {
            if *lane == fp.to_le_bytes() {
                m |= 1 << (2 * j);
            }
        }
        m
    }
}

/// A read view of a set file's bytes.
#[derive(Clone, Copy)]
pub struct SetView<'a> {
    key_len: usize,
    count: u64,
    seq: i64,
    buckets: u64,
    /// The keys, back to back (without the padding).
    keys: &'a [u8],
    /// One line per bucket.
    table: &'a [u8],
}

impl std::fmt::Debug for SetView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetView")
            .field("key_len", &self.key_len)
            .field("count", &self.count)
            .field("seq", &self.seq)
            .field("buckets", &self.buckets)
            .finish()
    }
}

/// Where a checked file's parts are: read once, when the file is opened.
#[derive(Clone, Copy, Debug)]
struct Layout {
    key_len: usize,
    count: u64,
    seq: i64,
    buckets: u64,
    keys_len: usize,
    table_at: usize,
    table_len: usize,
}

impl Layout {
    /// Checks a whole file's bytes and reads its header.
    fn parse(bytes: &[u8]) -> Result<Layout, String> {
        let too_short = || format!("{} bytes is too short", bytes.len());
        // A header and, after it, a footer: at least HEADER + FOOTER bytes.
        let (header, rest) = bytes.split_first_chunk::<HEADER>().ok_or_else(too_short)?;
        let footer = rest.last_chunk::<FOOTER>().ok_or_else(too_short)?;
        // The 8 bytes at `o` of the 64-byte header (`o` is at most 56).
        let word = |o: usize| {
            header
                .get(o..)
                .and_then(<[u8]>::first_chunk::<8>)
                .copied()
                .ok_or_else(too_short)
        };
        let magic = word(0)?;
        if magic != *MAGIC {
            let ([stem @ .., version], [want @ .., _]) = (magic, *MAGIC);
            if stem == want {
                return Err(format!(
                    "format {} (this isx reads format 3; the set is rebuilt)",
                    char::from(version)
                ));
            }
            return Err("wrong magic".into());
        }
        let (covered, check) = header.split_last_chunk::<8>().ok_or_else(too_short)?;
        if u64::from_le_bytes(*check) != fnv1a(covered) {
            return Err("header checksum mismatch".into());
        }
        let [l0, l1, l2, l3, ..] = word(8)?;
        let key_len = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
        let count = u64::from_le_bytes(word(16)?);
        let seq = u64::from_le_bytes(word(24)?) as i64;
        let buckets = u64::from_le_bytes(word(32)?);
        if !matches!(key_len, 16 | 20 | 32) || buckets != bucket_count(count) {
            return Err(format!(
                "key length {key_len} / {buckets} buckets for {count} keys"
            ));
        }
        let sizes = usize::try_from(count)
            .ok()
            .and_then(|c| c.checked_mul(key_len))
            .zip(
                usize::try_from(buckets)
                    .ok()
                    .and_then(|b| b.checked_mul(LINE)),
            )
            .ok_or("key count overflows")?;
        let (keys_len, table_len) = sizes;
        let table_at = HEADER + padded(keys_len);
        if table_at
            .checked_add(table_len)
            .and_then(|e| e.checked_add(FOOTER))
            != Some(bytes.len())
        {
            return Err(format!(
                "size {} does not match its header (truncated or damaged)",
                bytes.len()
            ));
        }
        if !footer.starts_with(END) || !footer.ends_with(&count.to_le_bytes()) {
            return Err("footer missing (the file was not finished)".into());
        }
        Ok(Layout {
            key_len,
            count,
            seq,
            buckets,
            keys_len,
            table_at,
            table_len,
        })
    }

    /// The view of the bytes this layout was read from.
    ///
    /// A layout is only made by [`Layout::parse`], which checked that both
    /// ranges lie within these bytes (they are the bytes it read, and
    /// mapped bytes do not change): the empty fallbacks never occur.
    fn view<'a>(&self, bytes: &'a [u8]) -> SetView<'a> {
        let part = |at: usize, len: usize| bytes.get(at..at + len).unwrap_or_default();
        SetView {
            key_len: self.key_len,
            count: self.count,
            seq: self.seq,
            buckets: self.buckets,
            keys: part(HEADER, self.keys_len),
            table: part(self.table_at, self.table_len),
        }
    }
}

impl<'a> SetView<'a> {
    /// Checks a whole file's bytes and reads its header.
    pub fn parse(bytes: &'a [u8]) -> Result<SetView<'a>, String> {
        Layout::parse(bytes).map(|l| l.view(bytes))
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

    /// Bytes of the whole file (all a lookup may touch).
    pub fn bytes(&self) -> usize {
        HEADER + padded(self.keys.len()) + self.table.len() + FOOTER
    }

    /// Whether `key` (of this set's key length) is in the set.
    #[inline]
    pub fn contains(&self, key: &[u8]) -> bool {
        key.len() == self.key_len && self.probe(key, bucket_of(key, self.buckets))
    }

    #[inline(always)]
    fn line(&self, bucket: usize) -> &'a [u8; LINE] {
        let at = bucket * LINE;
        // A range of LINE bytes: `first_chunk` always succeeds (and its
        // check compiles away); past the table, a line of no keys.
        self.table
            .get(at..at + LINE)
            .and_then(<[u8]>::first_chunk::<LINE>)
            .unwrap_or(&[0u8; LINE])
    }

    #[inline(always)]
    fn key_at(&self, i: usize) -> Option<&'a [u8]> {
        self.keys.get(i * self.key_len..(i + 1) * self.key_len)
    }

    /// The exact answer for `key` in `bucket`: each slot whose fingerprint
    /// matches is compared whole; a bucket longer than its line is
    /// searched past the line's slots.
    #[inline(always)]
    fn probe(&self, key: &[u8], bucket: usize) -> bool {
        let line = self.line(bucket);
        let (start, len) = line_head(line);
        let mut m = matches(line, fingerprint(key), len);
        while m != 0 {
            let slot = (m.trailing_zeros() as usize - FP_AT) / 2;
            if self.key_at(start + slot) == Some(key) {
                return true;
            }
            m &= m - 1;
        }
        len > SLOTS && self.search_rest(key, bucket, start)
    }

    /// Binary search of an overfull bucket's keys past its line's slots
    /// (its run ends where the next bucket's starts).
    #[cold]
    fn search_rest(&self, key: &[u8], bucket: usize, start: usize) -> bool {
        let end = if bucket + 1 < self.buckets as usize {
            line_head(self.line(bucket + 1)).0
        } else {
            self.count as usize
        };
        let (mut lo, mut hi) = (start + SLOTS, end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.key_at(mid).map(|k| k.cmp(key)) {
                Some(std::cmp::Ordering::Equal) => return true,
                Some(std::cmp::Ordering::Less) => lo = mid + 1,
                Some(std::cmp::Ordering::Greater) => hi = mid,
                None => return false,
            }
        }
        false
    }

    /// Looks up many keys (`keys` holds them back to back) and appends
    /// one answer per key to `out`.
    ///
    /// The work is a three-stage pipeline over groups of keys, so that
    /// memory latencies overlap instead of adding up: the bucket lines of
    /// one group are prefetched while the lines of an earlier group are
    /// read — settling the keys whose fingerprint is absent and
    /// prefetching the candidate key of the others — and a group earlier
    /// still is confirmed whole (by [`SetView::probe`], which alone
    /// decides every answer that is not a plain "absent").
    pub fn contains_many(&self, keys: &[u8], out: &mut Vec<bool>) {
        // Measured on the bench's 100 M set (BENCHMARKS.md): groups of 8,
        // lines prefetched two groups ahead, keys two groups after that.
        const GROUP: usize = 8;
        const D1: usize = 2;
        const D2: usize = 2;
        const RING: usize = D1 + D2 + 1;
        // The keys of a group left to confirm are the bits of a `u8`.
        const { assert!(GROUP <= 8) };
        let kl = self.key_len;
        let n = keys.len() / kl;
        let first = out.len();
        out.resize(first + n, false);
        // `out` now holds `first + n` answers: the fallback never occurs.
        let answers = out.get_mut(first..).unwrap_or_default();
        let key = |i: usize| keys.get(i * kl..(i + 1) * kl);
        // The keys of group `g` (for `g < groups`, it starts within `keys`).
        let group = |g: usize| {
            keys.get(g * GROUP * kl..)
                .unwrap_or_default()
                .chunks_exact(kl)
                .take(GROUP)
        };
        let groups = n.div_ceil(GROUP);
        // Buckets of the groups in flight, and the keys left to confirm
        // (the ring's slots are taken modulo its length).
        let mut buckets = [[0usize; GROUP]; RING];
        let mut pending = [0u8; RING];
        for t in 0..groups + D1 + D2 {
            if t < groups {
                if let Some(b) = buckets.get_mut(t % RING) {
                    for (b, k) in b.iter_mut().zip(group(t)) {
                        *b = bucket_of(k, self.buckets);
                        prefetch(self.table.as_ptr().wrapping_add(*b * LINE));
                    }
                }
            }
            if let Some(g) = t.checked_sub(D1).filter(|&g| g < groups) {
                if let (Some(b), Some(p)) = (buckets.get(g % RING), pending.get_mut(g % RING)) {
                    let mut left = 0u8;
                    for (j, (&b, k)) in b.iter().zip(group(g)).enumerate() {
                        let line = self.line(b);
                        let (start, slots) = line_head(line);
                        let m = matches(line, fingerprint(k), slots);
                        if m == 0 && slots <= SLOTS {
                            continue;
                        }
                        if m != 0 {
                            let at = (start + (m.trailing_zeros() as usize - FP_AT) / 2) * kl;
                            let k0 = self.keys.as_ptr().wrapping_add(at);
                            prefetch(k0);
                            prefetch(k0.wrapping_add(kl - 1));
                        }
                        left |= 1 << j;
                    }
                    *p = left;
                }
            }
            if let Some(g) = t.checked_sub(D1 + D2).filter(|&g| g < groups) {
                if let (Some(b), Some(&left)) = (buckets.get(g % RING), pending.get(g % RING)) {
                    let mut left = left;
                    while left != 0 {
                        let j = left.trailing_zeros() as usize;
                        left &= left - 1;
                        let i = g * GROUP + j;
                        if let (Some(&b), Some(k), Some(a)) = (b.get(j), key(i), answers.get_mut(i))
                        {
                            *a = self.probe(k, b);
                        }
                    }
                }
            }
        }
    }

    /// Every key in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.keys.chunks_exact(self.key_len)
    }
}

/// Writes a set file in one pass from keys in ascending order. The file
/// only becomes valid when [`SetWriter::finish`] writes its bucket table,
/// header and footer (and syncs it): a crash before leaves a file
/// [`SetView::parse`] rejects.
pub struct SetWriter {
    out: BufWriter<File>,
    path: PathBuf,
    key_len: usize,
    seq: i64,
    count: u64,
    last: Vec<u8>,
}

impl SetWriter {
    /// `expected` is about how many keys will come (a hint for the write
    /// buffer; the table is sized by the keys that come).
    pub fn create(path: &Path, key_len: usize, expected: u64, seq: i64) -> Result<Self, SetError> {
        let io = |source| SetError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(io)?;
        file.seek(SeekFrom::Start(HEADER as u64)).map_err(io)?;
        let buffer = if expected > 1 << 16 {
            8 << 20
        } else {
            64 << 10
        };
        Ok(SetWriter {
            // Large writes let the page cache hold the file in 2 MiB pages.
            out: BufWriter::with_capacity(buffer, file),
            path: path.to_owned(),
            key_len,
            seq,
            count: 0,
            last: Vec::new(),
        })
    }

    /// Appends the next key (strictly greater than the previous one).
    pub fn push(&mut self, key: &[u8]) -> Result<(), SetError> {
        if key.len() != self.key_len || (self.count > 0 && key <= self.last.as_slice()) {
            return Err(SetError::Unsorted);
        }
        self.out.write_all(key).map_err(|source| SetError::Io {
            path: self.path.clone(),
            source,
        })?;
        self.count += 1;
        self.last.clear();
        self.last.extend_from_slice(key);
        Ok(())
    }

    /// Pads the keys, writes the bucket table (reading the keys back),
    /// the header and the footer, syncs, and returns the count.
    pub fn finish(mut self) -> Result<u64, SetError> {
        let path = self.path.clone();
        let io = |source| SetError::Io {
            path: path.clone(),
            source,
        };
        if self.count >= 1 << 40 {
            return Err(io(std::io::Error::other("more than 2^40 keys")));
        }
        let keys_len = self.count as usize * self.key_len;
        let pad = padded(keys_len) - keys_len;
        // `pad` < LINE: the fallback never occurs.
        let zeros = [0u8; LINE];
        self.out
            .write_all(zeros.get(..pad).unwrap_or_default())
            .map_err(io)?;
        self.out.flush().map_err(io)?;
        let buckets = bucket_count(self.count);
        {
            // SAFETY: the file is ours alone until it is renamed into
            // place; the map is read while nothing writes the mapped range.
            let map = unsafe {
                memmap2::MmapOptions::new()
                    .offset(HEADER as u64)
                    .len(keys_len)
                    .map(self.out.get_ref())
            }
            .map_err(io)?;
            let keys = if keys_len == 0 { &[][..] } else { &map[..] };
            write_table(&mut self.out, keys, self.key_len, buckets).map_err(io)?;
        }
        self.out.write_all(END).map_err(io)?;
        self.out.write_all(&self.count.to_le_bytes()).map_err(io)?;
        let mut file = self.out.into_inner().map_err(|e| io(e.into_error()))?;
        let mut head = Vec::with_capacity(HEADER);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&(self.key_len as u32).to_le_bytes());
        head.extend_from_slice(&0u32.to_le_bytes());
        head.extend_from_slice(&self.count.to_le_bytes());
        head.extend_from_slice(&self.seq.to_le_bytes());
        head.extend_from_slice(&buckets.to_le_bytes());
        head.extend_from_slice(&[0u8; 16]);
        // The 56 bytes before the checksum.
        let check = fnv1a(&head);
        head.extend_from_slice(&check.to_le_bytes());
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(&head).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(self.count)
    }
}

/// One line per bucket for `keys` (sorted, back to back).
fn write_table(
    out: &mut impl Write,
    keys: &[u8],
    key_len: usize,
    buckets: u64,
) -> std::io::Result<()> {
    let mut keys = keys.chunks_exact(key_len).peekable();
    let mut start = 0u64;
    let mut line = [0u8; LINE];
    for b in 0..buckets as usize {
        line.fill(0);
        line[..4].copy_from_slice(&(start as u32).to_le_bytes());
        line[4] = (start >> 32) as u8;
        let mut len = 0usize;
        while let Some(k) = keys.next_if(|k| bucket_of(k, buckets) == b) {
            if len < SLOTS {
                // Within the line: FP_AT + 2 · SLOTS = LINE.
                if let Some(slot) = line.get_mut(FP_AT + 2 * len..FP_AT + 2 * len + 2) {
                    slot.copy_from_slice(&fingerprint(k).to_le_bytes());
                }
            }
            len += 1;
        }
        line[5] = len.min(255) as u8;
        start += len as u64;
        out.write_all(&line)?;
    }
    Ok(())
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
    layout: Layout,
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
        // Lookups land anywhere in the file, so each one would cost a TLB
        // miss (a nested page walk under a hypervisor) unless the mapping
        // is made of 2 MiB pages. A page can only be mapped that way if
        // the page cache holds it as one 2 MiB folio, and what a writer
        // left there is mostly smaller: the cached copy is dropped (it is
        // clean, the file was synced) and read back through a mapping
        // advised for huge pages, whose readahead allocates 2 MiB folios
        // wherever memory allows. The whole set is read in here, at open,
        // rather than by the first lookups.
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: an advisory call on a descriptor we hold open.
            let _ =
                unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        }
        // SAFETY: set files are written once under a temporary name and
        // never modified after they are renamed into place; a new set is
        // a new file, so the mapped bytes do not change under us.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|source| SetError::Io {
            path: path.to_owned(),
            source,
        })?;
        #[cfg(target_os = "linux")]
        {
            let _ = map.advise(memmap2::Advice::HugePage);
            let _ = map.advise(memmap2::Advice::PopulateRead);
        }
        let layout = Layout::parse(&map).map_err(|reason| SetError::Invalid {
            path: path.to_owned(),
            reason,
        })?;
        Ok(SetFile {
            map,
            layout,
            path: path.to_owned(),
        })
    }

    /// The set (checked once, in [`SetFile::open`]; the mapped bytes
    /// cannot change).
    pub fn view(&self) -> SetView<'_> {
        self.layout.view(&self.map)
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
