//! The DCSO Bloom filter file format (version 1), in which CIRCL
//! distributes its hashlookup filters and which DCSO's `bloom` tool, its
//! Python `flor` and CIRCL's `poppy` read.
//!
//! File: eight little-endian u64/f64 words — flags (version 1), capacity
//! `n`, false-positive probability `p` (f64), hash count `k`, bit count
//! `m`, element count `N` — then `ceil(m / 64)` u64 words of bits, then
//! free-form data. Bit indexes of a value: `h = FNV-1(value) mod M`, then
//! `k` times `h = (h · G mod 2^64) mod M`, index `h mod m`, with the
//! primes `M` and `G` below.

use std::io::{self, Read, Write};

const M: u64 = 18_446_744_073_709_551_557;
const G: u64 = 18_446_744_073_709_550_147;

/// 64-bit FNV-1 (multiply, then xor), as Go's `hash/fnv.New64`.
pub fn fnv1_64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 14_695_981_039_346_656_037;
    for b in bytes {
        h = h.wrapping_mul(1_099_511_628_211);
        h ^= u64::from(*b);
    }
    h
}

/// A DCSO-format Bloom filter.
#[derive(Debug, Clone, PartialEq)]
pub struct DcsoBloom {
    capacity: u64,
    p: f64,
    k: u64,
    m: u64,
    count: u64,
    bits: Vec<u64>,
    /// Free-form bytes stored after the bits.
    pub data: Vec<u8>,
}

impl DcsoBloom {
    /// A filter sized for `capacity` values at false-positive rate `p`.
    pub fn with_capacity(capacity: u64, p: f64) -> DcsoBloom {
        let capacity = capacity.max(1);
        let p = if p > 0.0 && p < 1.0 { p } else { 0.001 };
        let ln2 = std::f64::consts::LN_2;
        let m = ((capacity as f64) * p.ln() / (ln2 * ln2))
            .ceil()
            .abs()
            .max(64.0) as u64;
        let k = (ln2 * m as f64 / capacity as f64).ceil().max(1.0) as u64;
        DcsoBloom {
            capacity,
            p,
            k,
            m,
            count: 0,
            bits: vec![0; m.div_ceil(64) as usize],
            data: Vec::new(),
        }
    }

    fn indexes(&self, value: &[u8]) -> impl Iterator<Item = u64> {
        let mut h = fnv1_64(value) % M;
        let (k, m) = (self.k, self.m);
        (0..k).map(move |_| {
            h = h.wrapping_mul(G) % M;
            h % m
        })
    }

    /// Adds a value; `true` if it set a new bit.
    pub fn insert(&mut self, value: &[u8]) -> bool {
        let mut new = false;
        let idx: Vec<u64> = self.indexes(value).collect();
        for i in idx {
            let (w, b) = ((i / 64) as usize, i % 64);
            if let Some(word) = self.bits.get_mut(w) {
                new |= *word & (1 << b) == 0;
                *word |= 1 << b;
            }
        }
        if new {
            self.count += 1;
        }
        new
    }

    /// Whether the value may be in the set (false: certainly not).
    pub fn contains(&self, value: &[u8]) -> bool {
        self.indexes(value).all(|i| {
            self.bits
                .get((i / 64) as usize)
                .is_some_and(|w| w & (1 << (i % 64)) != 0)
        })
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    pub fn hash_count(&self) -> u64 {
        self.k
    }

    pub fn bit_count(&self) -> u64 {
        self.m
    }

    pub fn false_positive_rate(&self) -> f64 {
        self.p
    }

    pub fn write_to<W: Write>(&self, w: &mut W) -> io::Result<()> {
        w.write_all(&1u64.to_le_bytes())?;
        w.write_all(&self.capacity.to_le_bytes())?;
        w.write_all(&self.p.to_bits().to_le_bytes())?;
        w.write_all(&self.k.to_le_bytes())?;
        w.write_all(&self.m.to_le_bytes())?;
        w.write_all(&self.count.to_le_bytes())?;
        let mut buf = Vec::with_capacity(self.bits.len().min(1 << 16) * 8);
        for chunk in self.bits.chunks(1 << 16) {
            buf.clear();
            for word in chunk {
                buf.extend_from_slice(&word.to_le_bytes());
            }
            w.write_all(&buf)?;
        }
        w.write_all(&self.data)
    }

    pub fn read_from<R: Read>(r: &mut R) -> io::Result<DcsoBloom> {
        let mut word = || -> io::Result<u64> {
            let mut b = [0u8; 8];
            r.read_exact(&mut b)?;
            Ok(u64::from_le_bytes(b))
        };
        let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_owned());
        if word()? & 0xff != 1 {
            return Err(bad("not a version 1 DCSO Bloom filter"));
        }
        let capacity = word()?;
        let p = f64::from_bits(word()?);
        let k = word()?;
        let m = word()?;
        let count = word()?;
        if m == 0 || k == 0 || k > 64 || m > (1 << 40) {
            return Err(bad("implausible filter dimensions"));
        }
        let mut bits = Vec::with_capacity(m.div_ceil(64) as usize);
        for _ in 0..m.div_ceil(64) {
            bits.push(word()?);
        }
        let mut data = Vec::new();
        r.read_to_end(&mut data)?;
        Ok(DcsoBloom {
            capacity,
            p,
            k,
            m,
            count,
            bits,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1_matches_go_hash_fnv() {
        // Known answers of Go's hash/fnv New64 (FNV-1).
        assert_eq!(fnv1_64(b""), 14_695_981_039_346_656_037);
        assert_eq!(fnv1_64(b"Hello, World!"), 8_889_723_880_822_884_486);
    }

    #[test]
    fn bit_indexes_match_the_dcso_reference() {
        // TestFingerprinting of DCSO/bloom: "bar", k = 7, m = 958505.
        let mut f = DcsoBloom::with_capacity(100_000, 0.01);
        f.k = 7;
        f.m = 958_505;
        let got: Vec<u64> = f.indexes(b"bar").collect();
        assert_eq!(got, [20311, 36825, 412501, 835777, 658914, 853361, 307361]);
    }

    #[test]
    fn dimensions_match_the_dcso_formula() {
        // TestInitialization of DCSO/bloom: n = 10000, p = 0.001.
        let f = DcsoBloom::with_capacity(10_000, 0.001);
        assert_eq!((f.k, f.m), (10, 143_775));
    }

    #[test]
    fn round_trips_and_answers() {
        let mut f = DcsoBloom::with_capacity(1000, 0.0001);
        for i in 0..500u32 {
            f.insert(format!("V{i}").as_bytes());
        }
        f.data = b"isx".to_vec();
        let mut bytes = Vec::new();
        f.write_to(&mut bytes).unwrap();
        assert_eq!(bytes.len(), 48 + f.bits.len() * 8 + 3);
        let g = DcsoBloom::read_from(&mut bytes.as_slice()).unwrap();
        assert_eq!(g, f);
        assert!((0..500u32).all(|i| g.contains(format!("V{i}").as_bytes())));
        let false_positives = (500..100_500u32)
            .filter(|i| g.contains(format!("V{i}").as_bytes()))
            .count();
        assert!(false_positives < 100, "{false_positives} false positives");
        assert!(DcsoBloom::read_from(&mut &bytes[..20]).is_err());
    }
}
