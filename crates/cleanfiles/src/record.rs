//! A known-good file and its metadata.

use isx_domain::{Timestamp, Tlp};
use isx_policy::RecordMeta;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::hash::{Md5, Sha1, Sha256};

/// The marking of clean file metadata: known-good hashes are for every
/// member (TLP:GREEN), never restricted further, so that "known" from the
/// hash set and the metadata read from the store always agree.
pub const CLEAN_MARKING: Tlp = Tlp::Green;

/// The policy metadata of clean file records and files (every member).
pub fn cleanfile_record() -> RecordMeta {
    RecordMeta::everyone(CLEAN_MARKING)
}

/// One known-good file. The SHA-256 identifies it; one record per SHA-256
/// (the first source that named it keeps its metadata).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanFile {
    pub sha256: Sha256,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<Sha1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<Md5>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default)]
    pub file_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Where the record came from (`NSRL RDS 2025.03.1`, a vendor's list).
    #[serde(default)]
    pub source: String,
    /// When the source published the file (or the list), if it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<Timestamp>,
    /// The file's CRC32, where the source gives it (NSRL does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32: Option<u32>,
    /// The operating system the file ships for (`Windows`), and its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    /// NSRL's special code (`M` malicious-looking, `S` special), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_code: Option<String>,
    /// On import: the files (packages, archives, installers) this row says
    /// contain the file, by SHA-256. The store keeps them as parent/child
    /// relations (`CleanFileStore::clean_related`); records read back from
    /// the store leave this empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<Sha256>,
}

/// What the store knows about a file beyond its record: every source that
/// named it, and how many files contain it and it contains.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    /// The distinct sources (lists, NSRL releases, vendors) that named the
    /// file, sorted.
    pub sources: Vec<String>,
    /// Files known to contain it (packages, archives).
    pub parents: u64,
    /// Files it is known to contain.
    pub children: u64,
}

impl Evidence {
    /// hashlookup's `hashlookup:trust`, 0–100: 50 says nothing either way
    /// (the hash is merely listed); each independent source that names the
    /// file known-good adds 20, and being found inside other known files
    /// (shipped in packages) adds 5 per parent up to 15; at most 100. One
    /// source gives 70, two 90, three 100.
    pub fn trust(&self) -> u8 {
        let sources = u64::try_from(self.sources.len()).unwrap_or(u64::MAX);
        let score = 50u64
            .saturating_add(sources.saturating_mul(20))
            .saturating_add(self.parents.min(3) * 5);
        u8::try_from(score.min(100)).unwrap_or(100)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecordError {
    #[error("{field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
}

const MAX_TEXT: usize = 1024;
/// Parents one import row may name.
const MAX_PARENTS: usize = 64;

impl CleanFile {
    /// A record with only its SHA-256 (the other fields empty).
    pub fn bare(sha256: Sha256, source: &str) -> Self {
        CleanFile {
            sha256,
            sha1: None,
            md5: None,
            size: None,
            file_name: String::new(),
            product: None,
            version: None,
            vendor: None,
            source: source.to_owned(),
            published: None,
            crc32: None,
            os_name: None,
            os_version: None,
            special_code: None,
            parents: Vec::new(),
        }
    }

    /// The record's hash of `algo` (raw bytes), if it has one.
    pub fn hash(&self, algo: crate::HashAlgo) -> Option<&[u8]> {
        match algo {
            crate::HashAlgo::Sha256 => Some(&self.sha256.0),
            crate::HashAlgo::Sha1 => self.sha1.as_ref().map(|h| &h.0[..]),
            crate::HashAlgo::Md5 => self.md5.as_ref().map(|h| &h.0[..]),
        }
    }

    /// "vendor product version", whichever are known.
    pub fn product_label(&self) -> String {
        [&self.vendor, &self.product, &self.version]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Checks the text fields (length, no control characters) and trims
    /// them; empty optional fields become `None`.
    pub fn normalise(mut self) -> Result<Self, RecordError> {
        fn clean(field: &'static str, s: &str) -> Result<String, RecordError> {
            let t = s.trim();
            if t.len() > MAX_TEXT {
                return Err(RecordError::Field {
                    field,
                    message: format!("longer than {MAX_TEXT} bytes"),
                });
            }
            if t.chars().any(char::is_control) {
                return Err(RecordError::Field {
                    field,
                    message: "contains a control character".into(),
                });
            }
            Ok(t.to_owned())
        }
        fn opt(field: &'static str, s: Option<String>) -> Result<Option<String>, RecordError> {
            match s {
                None => Ok(None),
                Some(s) => {
                    let t = clean(field, &s)?;
                    Ok((!t.is_empty()).then_some(t))
                }
            }
        }
        self.file_name = clean("file_name", &self.file_name)?;
        self.source = clean("source", &self.source)?;
        self.product = opt("product", self.product)?;
        self.version = opt("version", self.version)?;
        self.vendor = opt("vendor", self.vendor)?;
        self.os_name = opt("os_name", self.os_name)?;
        self.os_version = opt("os_version", self.os_version)?;
        self.special_code = opt("special_code", self.special_code)?;
        if self.special_code.as_ref().is_some_and(|c| c.len() > 8) {
            return Err(RecordError::Field {
                field: "special_code",
                message: "longer than 8 bytes".into(),
            });
        }
        if self.parents.len() > MAX_PARENTS {
            return Err(RecordError::Field {
                field: "parents",
                message: format!("more than {MAX_PARENTS}"),
            });
        }
        self.parents.sort_unstable();
        self.parents.dedup();
        self.parents.retain(|p| *p != self.sha256);
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_trims_and_rejects_control_characters() {
        let mut f = CleanFile::bare(Sha256([1; 32]), " NSRL ");
        f.product = Some("  ".into());
        f.file_name = " kernel32.dll ".into();
        let f = f.normalise().unwrap();
        assert_eq!(f.source, "NSRL");
        assert_eq!(f.file_name, "kernel32.dll");
        assert_eq!(f.product, None);
        let mut bad = CleanFile::bare(Sha256([1; 32]), "x");
        bad.file_name = "a\u{0}b".into();
        assert!(matches!(
            bad.normalise(),
            Err(RecordError::Field {
                field: "file_name",
                ..
            })
        ));
    }

    #[test]
    fn trust_grows_with_sources_and_parents() {
        let mut e = Evidence {
            sources: vec!["NSRL".into()],
            ..Evidence::default()
        };
        assert_eq!(e.trust(), 70);
        e.sources.push("vendor".into());
        assert_eq!(e.trust(), 90);
        e.parents = 1;
        assert_eq!(e.trust(), 95);
        e.parents = u64::MAX;
        assert_eq!(e.trust(), 100);
        assert_eq!(Evidence::default().trust(), 50);
    }

    #[test]
    fn normalise_drops_self_and_repeated_parents() {
        let mut f = CleanFile::bare(Sha256([1; 32]), "x");
        f.parents = vec![Sha256([2; 32]), Sha256([1; 32]), Sha256([2; 32])];
        assert_eq!(f.normalise().unwrap().parents, vec![Sha256([2; 32])]);
        let mut many = CleanFile::bare(Sha256([1; 32]), "x");
        many.parents = vec![Sha256([2; 32]); 65];
        assert!(many.normalise().is_err());
    }

    #[test]
    fn json_uses_hex_hashes() {
        let f = CleanFile::bare(Sha256([0xab; 32]), "t");
        let j = serde_json::to_value(&f).unwrap();
        assert_eq!(j["sha256"], "ab".repeat(32));
        let back: CleanFile = serde_json::from_value(j).unwrap();
        assert_eq!(back, f);
    }
}
