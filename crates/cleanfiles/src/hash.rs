//! Hash values of files: MD5, SHA-1, SHA-256, parsed from hex (either
//! case, surrounding blanks ignored) with a table-driven decoder.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// The three hash algorithms of clean file records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgo {
    Md5,
    Sha1,
    Sha256,
}

impl HashAlgo {
    pub const ALL: [HashAlgo; 3] = [HashAlgo::Sha256, HashAlgo::Sha1, HashAlgo::Md5];

    /// Length of a value in bytes.
    pub const fn bytes(self) -> usize {
        match self {
            HashAlgo::Md5 => 16,
            HashAlgo::Sha1 => 20,
            HashAlgo::Sha256 => 32,
        }
    }

    /// The name in paths and JSON: `md5`, `sha1`, `sha256`.
    pub const fn as_str(self) -> &'static str {
        match self {
            HashAlgo::Md5 => "md5",
            HashAlgo::Sha1 => "sha1",
            HashAlgo::Sha256 => "sha256",
        }
    }

    /// The algorithm whose hex form has `chars` characters.
    pub const fn from_hex_len(chars: usize) -> Option<HashAlgo> {
        match chars {
            32 => Some(HashAlgo::Md5),
            40 => Some(HashAlgo::Sha1),
            64 => Some(HashAlgo::Sha256),
            _ => None,
        }
    }

    pub fn from_name(s: &str) -> Option<HashAlgo> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "md5" => Some(HashAlgo::Md5),
            "sha1" => Some(HashAlgo::Sha1),
            "sha256" => Some(HashAlgo::Sha256),
            _ => None,
        }
    }
}

impl fmt::Display for HashAlgo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HashError {
    #[error("not a hash: expected {expected} hex characters, got {got}")]
    Length { expected: String, got: usize },
    #[error("not a hash: {0:?} is not a hex digit")]
    Digit(char),
}

const INVALID: u8 = 0xff;

/// ASCII byte → nibble, or `INVALID` (what [`NIBBLE`] holds).
const fn nibble_of(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => INVALID,
    }
}

/// ASCII byte → nibble, or `INVALID`: entry `c` is `nibble_of(c)`.
static NIBBLE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut rest: &mut [u8] = &mut t;
    let mut c = 0u8;
    while let [entry, tail @ ..] = rest {
        *entry = nibble_of(c);
        c = c.wrapping_add(1);
        rest = tail;
    }
    t
};

/// Table lookup of a byte's nibble (a `u8` indexes all 256 entries, so
/// the fallback never occurs and the check compiles away).
#[inline(always)]
fn nibble(b: u8) -> u8 {
    NIBBLE.get(usize::from(b)).copied().unwrap_or(INVALID)
}

/// Decodes exactly `out.len() * 2` hex characters into `out`.
pub fn decode_hex_into(hex: &[u8], out: &mut [u8]) -> Result<(), HashError> {
    if hex.len() != out.len() * 2 {
        return Err(HashError::Length {
            expected: (out.len() * 2).to_string(),
            got: hex.len(),
        });
    }
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        // Chunks of exactly two: the second arm never occurs.
        let (hi, lo) = match *pair {
            [h, l] => (nibble(h), nibble(l)),
            _ => (INVALID, INVALID),
        };
        bad |= (hi | lo) & 0xf0;
        *o = (hi << 4) | (lo & 0x0f);
    }
    if bad != 0 {
        let c = hex
            .iter()
            .find(|b| nibble(**b) == INVALID)
            .copied()
            .unwrap_or(b'?');
        return Err(HashError::Digit(c as char));
    }
    Ok(())
}

const LOWER: &[u8; 16] = b"0123456789abcdef";
const UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    hex_with(bytes, LOWER)
}

/// Uppercase hex (the form of NSRL and CIRCL hashlookup).
pub fn to_hex_upper(bytes: &[u8]) -> String {
    hex_with(bytes, UPPER)
}

fn hex_with(bytes: &[u8], digits: &[u8; 16]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    // A nibble indexes all 16 digits: the fallback never occurs.
    let digit = |n: u8| char::from(digits.get(usize::from(n)).copied().unwrap_or(b'0'));
    for b in bytes {
        s.push(digit(b >> 4));
        s.push(digit(b & 15));
    }
    s
}

macro_rules! digest_type {
    ($name:ident, $len:expr, $algo:expr, $doc:expr) => {
        #[doc = $doc]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            pub const ALGO: HashAlgo = $algo;

            pub fn parse(s: &str) -> Result<Self, HashError> {
                let mut out = [0u8; $len];
                decode_hex_into(s.trim().as_bytes(), &mut out)?;
                Ok($name(out))
            }

            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }

            pub fn from_slice(b: &[u8]) -> Option<Self> {
                <[u8; $len]>::try_from(b).ok().map($name)
            }

            pub fn to_upper(&self) -> String {
                to_hex_upper(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&to_hex(&self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }

        impl FromStr for $name {
            type Err = HashError;
            fn from_str(s: &str) -> Result<Self, HashError> {
                $name::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_string())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

digest_type!(Sha256, 32, HashAlgo::Sha256, "A SHA-256 value.");
digest_type!(Sha1, 20, HashAlgo::Sha1, "A SHA-1 value.");
digest_type!(Md5, 16, HashAlgo::Md5, "An MD5 value.");

/// A hash of any of the three algorithms, told apart by its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashValue {
    Md5(Md5),
    Sha1(Sha1),
    Sha256(Sha256),
}

impl HashValue {
    /// Parses hex of 32, 40 or 64 characters.
    pub fn parse(s: &str) -> Result<Self, HashError> {
        let t = s.trim();
        match HashAlgo::from_hex_len(t.len()) {
            Some(HashAlgo::Md5) => Md5::parse(t).map(HashValue::Md5),
            Some(HashAlgo::Sha1) => Sha1::parse(t).map(HashValue::Sha1),
            Some(HashAlgo::Sha256) => Sha256::parse(t).map(HashValue::Sha256),
            None => Err(HashError::Length {
                expected: "32 (MD5), 40 (SHA-1) or 64 (SHA-256)".into(),
                got: t.len(),
            }),
        }
    }

    /// Parses hex of one algorithm.
    pub fn parse_as(algo: HashAlgo, s: &str) -> Result<Self, HashError> {
        match algo {
            HashAlgo::Md5 => Md5::parse(s).map(HashValue::Md5),
            HashAlgo::Sha1 => Sha1::parse(s).map(HashValue::Sha1),
            HashAlgo::Sha256 => Sha256::parse(s).map(HashValue::Sha256),
        }
    }

    pub fn algo(&self) -> HashAlgo {
        match self {
            HashValue::Md5(_) => HashAlgo::Md5,
            HashValue::Sha1(_) => HashAlgo::Sha1,
            HashValue::Sha256(_) => HashAlgo::Sha256,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            HashValue::Md5(h) => &h.0,
            HashValue::Sha1(h) => &h.0,
            HashValue::Sha256(h) => &h.0,
        }
    }
}

impl fmt::Display for HashValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_hex(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_algorithm_by_length_in_either_case() {
        let h = HashValue::parse(" D41D8CD98F00B204E9800998ECF8427E ").unwrap();
        assert_eq!(h.algo(), HashAlgo::Md5);
        assert_eq!(h.to_string(), "d41d8cd98f00b204e9800998ecf8427e");
        let s = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let h = HashValue::parse(s).unwrap();
        assert_eq!(h.algo(), HashAlgo::Sha256);
        assert_eq!(h.to_string(), s);
        assert_eq!(
            HashValue::parse("da39a3ee5e6b4b0d3255bfef95601890afd80709")
                .unwrap()
                .algo(),
            HashAlgo::Sha1
        );
    }

    #[test]
    fn rejects_bad_digits_and_lengths() {
        assert_eq!(
            HashValue::parse("g41d8cd98f00b204e9800998ecf8427e"),
            Err(HashError::Digit('g'))
        );
        assert!(matches!(
            HashValue::parse("abc"),
            Err(HashError::Length { got: 3, .. })
        ));
        assert!(Sha256::parse("d41d8cd98f00b204e9800998ecf8427e").is_err());
    }

    proptest::proptest! {
        #[test]
        fn hex_round_trips(bytes in proptest::array::uniform32(proptest::prelude::any::<u8>())) {
            let h = Sha256(bytes);
            proptest::prop_assert_eq!(Sha256::parse(&h.to_string()).unwrap(), h);
            proptest::prop_assert_eq!(Sha256::parse(&h.to_upper()).unwrap(), h);
        }
    }
}
