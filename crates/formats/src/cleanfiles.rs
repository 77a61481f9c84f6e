//! Clean file lists in and out.
//!
//! In, a line at a time: CSV with a header (columns found by name), NDJSON
//! objects (isx's field names, and CIRCL hashlookup's `SHA-256`, `SHA-1`,
//! `MD5`, `FileName`, `FileSize`, `ProductCode{ProductName,
//! ProductVersion}`), and plain hash lists — one SHA-256 per line, as
//! `sha256sum` writes them (`<hash>  <file name>`). Every record needs its
//! SHA-256: isx keys clean files by it.
//!
//! Out: the CIRCL hashlookup JSON shape of a record (for the compatible
//! API).

use std::borrow::Cow;
use std::collections::HashMap;

use isx_cleanfiles::{CleanFile, Evidence, HashAlgo, Md5, Sha1, Sha256};
use serde_json::{json, Map, Value};

use crate::rows::FieldReader;
use crate::urls::{parse_time, RowError};

/// Input formats of clean file lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CleanListFormat {
    Csv,
    Ndjson,
    /// One SHA-256 per line, optionally followed by a file name.
    Hashes,
}

impl CleanListFormat {
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "ndjson" | "jsonl" | "json" => Some(Self::Ndjson),
            "hashes" | "sha256sum" | "txt" => Some(Self::Hashes),
            _ => None,
        }
    }

    /// Guesses from a file name and the first bytes.
    pub fn detect(file_name: Option<&str>, bytes: &[u8]) -> Self {
        let lower = file_name.unwrap_or_default().to_ascii_lowercase();
        if lower.ends_with(".csv") {
            return Self::Csv;
        }
        if lower.ends_with(".ndjson") || lower.ends_with(".jsonl") || lower.ends_with(".json") {
            return Self::Ndjson;
        }
        let text = String::from_utf8_lossy(bytes.get(..4096).unwrap_or(bytes));
        let first = text
            .trim_start_matches('\u{feff}')
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or_default();
        if first.starts_with('{') {
            Self::Ndjson
        } else if first
            .as_bytes()
            .get(..64)
            .is_some_and(|b| b.iter().all(u8::is_ascii_hexdigit))
        {
            Self::Hashes
        } else {
            Self::Csv
        }
    }
}

/// Reads clean file records a line at a time.
#[derive(Debug)]
pub struct CleanListParser {
    format: CleanListFormat,
    fields: FieldReader,
    source: String,
}

impl CleanListParser {
    /// `source` names records that do not name their own.
    pub fn new(format: CleanListFormat, source: &str) -> Self {
        CleanListParser {
            format,
            fields: FieldReader::new(format == CleanListFormat::Csv),
            source: source.to_owned(),
        }
    }

    /// The number of the line read last (1-based).
    pub fn line_number(&self) -> usize {
        self.fields.line_number()
    }

    /// Reads the next line: `None` for blank lines, comments and the header.
    pub fn line(&mut self, text: &str) -> Option<Result<CleanFile, RowError>> {
        let line = self.fields.line_number() + 1;
        let record = if self.format == CleanListFormat::Hashes {
            // Count the line like the field reader does.
            let _ = self.fields.line("");
            let t = text.trim_start_matches('\u{feff}').trim();
            if t.is_empty() || t.starts_with('#') {
                return None;
            }
            hash_line(t, &self.source)
        } else {
            let had_header = self.fields.columns().is_some();
            let Some(fields) = self.fields.line(text) else {
                // The header just read must name the hash: a list without
                // one would import nothing and say nothing.
                let cols = self.fields.columns().filter(|_| !had_header)?;
                if cols
                    .iter()
                    .any(|c| c.replace(['_', '-', ' '], "") == "sha256")
                {
                    return None;
                }
                return Some(Err(RowError {
                    line,
                    message: format!(
                        "the header has no SHA-256 column (sha256, SHA-256 or sha_256): it has {}",
                        cols.iter().take(20).cloned().collect::<Vec<_>>().join(", ")
                    ),
                }));
            };
            fields.and_then(|f| record(&f, &self.source))
        };
        Some(record.map_err(|message| RowError { line, message }))
    }
}

/// Parses a whole list.
pub fn parse_clean_files(
    bytes: &[u8],
    format: CleanListFormat,
    source: &str,
) -> Vec<Result<CleanFile, RowError>> {
    let text = String::from_utf8_lossy(bytes);
    let mut p = CleanListParser::new(format, source);
    text.lines().filter_map(|l| p.line(l)).collect()
}

/// `<sha256>  <name>` or `<sha256> *<name>` (binary mode) or a bare hash.
fn hash_line(t: &str, source: &str) -> Result<CleanFile, String> {
    let (hash, rest) = t.split_at(t.find(char::is_whitespace).unwrap_or(t.len()));
    let sha256 = Sha256::parse(hash).map_err(|e| format!("SHA-256: {e}"))?;
    let mut f = CleanFile::bare(sha256, source);
    f.file_name = rest.trim().trim_start_matches('*').to_owned();
    f.normalise().map_err(|e| e.to_string())
}

fn record(raw: &HashMap<String, String>, source: &str) -> Result<CleanFile, String> {
    // Names without `_`, `-` and spaces: `SHA-256`, `sha_256` and `sha256`
    // are one column.
    let f: HashMap<String, &str> = raw
        .iter()
        .map(|(k, v)| (k.replace(['_', '-', ' '], ""), v.as_str()))
        .collect();
    let get = |names: &[&str]| names.iter().find_map(|n| f.get(*n).copied());
    let hash = |algo: HashAlgo| -> Result<Option<String>, String> {
        match get(&[algo.as_str()]) {
            None => Ok(None),
            Some(v) => Ok(Some(v.to_owned())),
        }
    };
    let sha256 =
        hash(HashAlgo::Sha256)?.ok_or("no SHA-256 (isx keys clean files by their SHA-256)")?;
    let mut out = CleanFile::bare(
        Sha256::parse(&sha256).map_err(|e| format!("SHA-256: {e}"))?,
        get(&["source", "db"]).unwrap_or(source),
    );
    out.sha1 = hash(HashAlgo::Sha1)?
        .map(|v| Sha1::parse(&v).map_err(|e| format!("SHA-1: {e}")))
        .transpose()?;
    out.md5 = hash(HashAlgo::Md5)?
        .map(|v| Md5::parse(&v).map_err(|e| format!("MD5: {e}")))
        .transpose()?;
    out.size = get(&["size", "filesize", "bytes"])
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| format!("size: {v:?} is not a whole number of bytes"))
        })
        .transpose()?;
    out.file_name = get(&["filename", "name", "file"])
        .unwrap_or_default()
        .to_owned();
    out.product = get(&["product", "productname"]).map(str::to_owned);
    out.version = get(&["version", "productversion"]).map(str::to_owned);
    out.vendor = get(&["vendor", "manufacturer", "mfgname", "publisher"]).map(str::to_owned);
    out.published = get(&["published", "releasedate", "date"])
        .map(|v| parse_time(v).ok_or_else(|| format!("published: {v:?} is not a time")))
        .transpose()?;
    out.crc32 = get(&["crc32", "crc"])
        .filter(|v| !v.trim().is_empty())
        .map(|v| parse_crc32(v).ok_or_else(|| format!("crc32: {v:?} is not 8 hex digits")))
        .transpose()?;
    out.os_name = get(&["os", "osname", "opsystemname", "operatingsystem"]).map(str::to_owned);
    out.os_version = get(&["osversion", "opsystemversion"]).map(str::to_owned);
    out.special_code = get(&["specialcode"]).map(str::to_owned);
    if let Some(v) = get(&["parentsha256", "parents", "parent"]) {
        for p in v.split([' ', ';', '|']).filter(|p| !p.is_empty()) {
            out.parents
                .push(Sha256::parse(p).map_err(|e| format!("parent SHA-256: {e}"))?);
        }
    }
    out.normalise().map_err(|e| e.to_string())
}

/// A CRC32 as NSRL writes it: 8 hex digits, either case.
fn parse_crc32(v: &str) -> Option<u32> {
    let t = v.trim();
    (t.len() == 8 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u32::from_str_radix(t, 16).ok())
        .flatten()
}

/// A record in CIRCL hashlookup's JSON shape (upper-case hex, sizes as
/// text, product details under `ProductCode`, the operating system under
/// `OpSystemCode`), as hashlookup clients expect it, with the trust the
/// evidence gives (`hashlookup:trust`), every source, and the number of
/// parents and children (`hashlookup:parent-total`,
/// `hashlookup:children-total`).
pub fn hashlookup_json(f: &CleanFile, evidence: &Evidence) -> Value {
    let mut o = Map::new();
    o.insert("SHA-256".into(), json!(f.sha256.to_upper()));
    if let Some(h) = f.sha1 {
        o.insert("SHA-1".into(), json!(h.to_upper()));
    }
    if let Some(h) = f.md5 {
        o.insert("MD5".into(), json!(h.to_upper()));
    }
    o.insert("FileName".into(), json!(f.file_name));
    if let Some(s) = f.size {
        o.insert("FileSize".into(), json!(s.to_string()));
    }
    let mut product = Map::new();
    if let Some(p) = &f.product {
        product.insert("ProductName".into(), json!(p));
    }
    if let Some(v) = &f.version {
        product.insert("ProductVersion".into(), json!(v));
    }
    if let Some(v) = &f.vendor {
        product.insert("MfgName".into(), json!(v));
    }
    if !product.is_empty() {
        o.insert("ProductCode".into(), Value::Object(product));
    }
    if let Some(c) = f.crc32 {
        o.insert("CRC32".into(), json!(format!("{c:08X}")));
    }
    let mut os = Map::new();
    if let Some(n) = &f.os_name {
        os.insert("OpSystemName".into(), json!(n));
    }
    if let Some(v) = &f.os_version {
        os.insert("OpSystemVersion".into(), json!(v));
    }
    if !os.is_empty() {
        o.insert("OpSystemCode".into(), Value::Object(os));
    }
    if let Some(c) = &f.special_code {
        o.insert("SpecialCode".into(), json!(c));
    }
    o.insert("source".into(), json!(f.source));
    if !evidence.sources.is_empty() {
        o.insert("sources".into(), json!(evidence.sources));
    }
    o.insert("db".into(), json!("isx"));
    o.insert("KnownGood".into(), json!(true));
    o.insert("hashlookup:trust".into(), json!(evidence.trust()));
    if evidence.parents > 0 {
        o.insert("hashlookup:parent-total".into(), json!(evidence.parents));
    }
    if evidence.children > 0 {
        o.insert("hashlookup:children-total".into(), json!(evidence.children));
    }
    Value::Object(o)
}

/// A clean file as a STIX 2.1 `file` cyber-observable: its hashes, size and
/// name, and isx's property extension saying it is *known good* with its
/// product, version, vendor and source. The id is the UUIDv5 STIX derives
/// from the id-contributing properties (one hash — MD5 first, then SHA-1,
/// then SHA-256 —, the name and the extensions), so it matches what any
/// STIX library computes for the same file.
pub fn stix_file(f: &CleanFile) -> Value {
    let mut hashes = Map::new();
    if let Some(h) = f.md5 {
        hashes.insert("MD5".into(), Value::String(h.to_string()));
    }
    if let Some(h) = f.sha1 {
        hashes.insert("SHA-1".into(), Value::String(h.to_string()));
    }
    hashes.insert("SHA-256".into(), Value::String(f.sha256.to_string()));
    let mut ext = Map::new();
    ext.insert("extension_type".into(), json!("property-extension"));
    ext.insert("known_good".into(), json!(true));
    for (k, v) in [
        ("product", &f.product),
        ("version", &f.version),
        ("vendor", &f.vendor),
    ] {
        if let Some(v) = v {
            ext.insert(k.into(), json!(v));
        }
    }
    ext.insert("source".into(), json!(f.source));
    if let Some(p) = f.published {
        ext.insert("published".into(), json!(crate::stix::timestamp(p)));
    }
    let mut extensions = Map::new();
    extensions.insert(crate::stix::ISX_EXTENSION.into(), Value::Object(ext));
    let (algo, one) = ["MD5", "SHA-1", "SHA-256"]
        .iter()
        .find_map(|a| hashes.get(*a).map(|v| (*a, v.clone())))
        .unwrap_or(("SHA-256", Value::Null));
    // The id-contributing properties, moved in and back out (no copies).
    let mut contributing = Map::new();
    contributing.insert("hashes".into(), json!({ algo: one }));
    contributing.insert("name".into(), Value::String(f.file_name.clone()));
    contributing.insert("extensions".into(), Value::Object(extensions));
    let contributing = Value::Object(contributing);
    let id = crate::stix::sco_id("file", &contributing);
    let mut o = Map::new();
    o.insert("type".into(), json!("file"));
    o.insert("spec_version".into(), json!("2.1"));
    o.insert("id".into(), Value::String(id));
    o.insert("hashes".into(), Value::Object(hashes));
    if let Value::Object(mut contributing) = contributing {
        for k in ["name", "extensions"] {
            if let Some(v) = contributing.remove(k) {
                o.insert(k.into(), v);
            }
        }
    }
    if let Some(size) = f.size {
        o.insert("size".into(), json!(size));
    }
    Value::Object(o)
}

/// One row of a clean-file page as the store returns it in JSON
/// (`Store::clean_page_json`): `[added_at, sha256, sha1, md5, size,
/// file_name, product, version, vendor, source, published]`, strings
/// borrowed from the page's text where they need no unescaping.
#[derive(Debug, serde::Deserialize)]
pub struct CleanRow<'a> {
    pub added_at: i64,
    #[serde(borrow)]
    pub sha256: Cow<'a, str>,
    #[serde(borrow)]
    pub sha1: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub md5: Option<Cow<'a, str>>,
    pub size: Option<u64>,
    #[serde(borrow)]
    pub file_name: Cow<'a, str>,
    #[serde(borrow)]
    pub product: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub vendor: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub source: Cow<'a, str>,
    pub published: Option<i64>,
}

fn push_json_str(out: &mut String, s: &str) {
    // serde_json's escaping, so ids computed over this text match. It
    // writes the string in pieces split at ASCII escapes: each piece is
    // UTF-8 on its own.
    let _ = serde_json::to_writer(&mut JsonSink(out), s);
}

/// Lets serde_json write a string into a `String`.
struct JsonSink<'a>(&'a mut String);

impl std::io::Write for JsonSink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = std::str::from_utf8(buf)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        self.0.push_str(text);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn present<'a>(v: &'a Option<Cow<'_, str>>) -> Option<&'a str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// Writes the STIX `file` object of a page row to `out` — the object
/// [`stix_file`] builds, with the same id, written directly as text (the
/// TAXII full pass serves hundreds of thousands of them a second).
/// `scratch` is reused between calls. Returns the object's id.
pub fn write_stix_file(out: &mut String, scratch: &mut String, r: &CleanRow<'_>) -> String {
    let (md5, sha1) = (present(&r.md5), present(&r.sha1));
    // The extensions object, keys in serde_json's (sorted) order; then the
    // id-contributing properties in canonical form (as `sco_id` writes
    // them), built in `scratch`.
    scratch.clear();
    scratch.push_str("{\"extensions\":{\"");
    scratch.push_str(crate::stix::ISX_EXTENSION);
    scratch.push_str("\":{\"extension_type\":\"property-extension\",\"known_good\":true");
    let field = |buf: &mut String, k: &str, v: &str| {
        buf.push_str(",\"");
        buf.push_str(k);
        buf.push_str("\":");
        push_json_str(buf, v);
    };
    if let Some(v) = &r.product {
        field(scratch, "product", v);
    }
    if let Some(p) = r.published {
        field(
            scratch,
            "published",
            &crate::stix::timestamp(isx_domain::Timestamp::from_micros(p)),
        );
    }
    field(scratch, "source", &r.source);
    if let Some(v) = &r.vendor {
        field(scratch, "vendor", v);
    }
    if let Some(v) = &r.version {
        field(scratch, "version", v);
    }
    scratch.push_str("}}");
    let extensions_end = scratch.len();
    let (algo, one) = match (md5, sha1) {
        (Some(h), _) => ("MD5", h),
        (None, Some(h)) => ("SHA-1", h),
        (None, None) => ("SHA-256", r.sha256.as_ref()),
    };
    scratch.push_str(",\"hashes\":{\"");
    scratch.push_str(algo);
    scratch.push_str("\":\"");
    scratch.push_str(one);
    scratch.push_str("\"},\"name\":");
    let name_start = scratch.len();
    push_json_str(scratch, &r.file_name);
    let name_end = scratch.len();
    scratch.push('}');
    let id = crate::stix::sco_id_of_text("file", scratch);
    // The object: extensions, hashes, id, name, size, spec_version, type.
    out.push_str(&scratch[..extensions_end]);
    out.push_str(",\"hashes\":{");
    let mut first = true;
    for (k, v) in [
        ("MD5", md5),
        ("SHA-1", sha1),
        ("SHA-256", Some(r.sha256.as_ref())),
    ] {
        if let Some(v) = v {
            if !first {
                out.push(',');
            }
            first = false;
            out.push('"');
            out.push_str(k);
            out.push_str("\":\"");
            out.push_str(v);
            out.push('"');
        }
    }
    out.push_str("},\"id\":\"");
    out.push_str(&id);
    out.push_str("\",\"name\":");
    out.push_str(&scratch[name_start..name_end]);
    if let Some(size) = r.size {
        out.push_str(",\"size\":");
        out.push_str(&size.to_string());
    }
    out.push_str(",\"spec_version\":\"2.1\",\"type\":\"file\"}");
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row_json(f: &CleanFile, added: i64) -> String {
        json!([
            added,
            f.sha256.to_string(),
            f.sha1.map(|h| h.to_string()),
            f.md5.map(|h| h.to_string()),
            f.size,
            f.file_name,
            f.product,
            f.version,
            f.vendor,
            f.source,
            f.published.map(|p| p.as_micros()),
        ])
        .to_string()
    }

    proptest::proptest! {
        /// The text writer gives exactly the object (and id) `stix_file` builds.
        #[test]
        fn text_writer_matches_stix_file(
            sha in proptest::array::uniform32(proptest::num::u8::ANY),
            sha1 in proptest::option::of(proptest::array::uniform20(proptest::num::u8::ANY)),
            md5 in proptest::option::of(proptest::array::uniform16(proptest::num::u8::ANY)),
            size in proptest::option::of(0u64..u64::MAX),
            name in "[ -~äé日\\\"\n\t]{0,30}",
            product in proptest::option::of("[ -~ü\\\"]{0,20}"),
            vendor in proptest::option::of("[a-z \"]{0,10}"),
            version in proptest::option::of("[0-9.]{0,8}"),
            source in "[ -~]{1,20}",
            published in proptest::option::of(0i64..4_000_000_000_000_000),
        ) {
            let mut f = CleanFile::bare(Sha256(sha), &source);
            f.sha1 = sha1.map(Sha1);
            f.md5 = md5.map(Md5);
            f.size = size;
            f.file_name = name;
            f.product = product;
            f.vendor = vendor;
            f.version = version;
            f.published = published.map(isx_domain::Timestamp::from_micros);
            let text = row_json(&f, 7);
            let row: CleanRow<'_> = serde_json::from_str(&text).expect("row");
            let (mut out, mut scratch) = (String::new(), String::from("stale"));
            let id = write_stix_file(&mut out, &mut scratch, &row);
            let written: Value = serde_json::from_str(&out).expect("valid JSON");
            let built = stix_file(&f);
            proptest::prop_assert_eq!(&written, &built);
            proptest::prop_assert_eq!(Some(id.as_str()), built["id"].as_str());
        }
    }

    const A: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn csv_columns_by_name_in_any_spelling() {
        let text = format!(
            "SHA-256,sha1,MD5,File Name,file_size,Product,Version,Manufacturer\n\
             {A},DA39A3EE5E6B4B0D3255BFEF95601890AFD80709,d41d8cd98f00b204e9800998ecf8427e,empty.txt,0,Windows,10,Microsoft\n"
        );
        let rows = parse_clean_files(text.as_bytes(), CleanListFormat::Csv, "vendor list");
        let f = rows[0].as_ref().unwrap();
        assert_eq!(f.sha256.to_string(), A);
        assert_eq!(
            f.sha1.unwrap().to_string(),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(f.size, Some(0));
        assert_eq!(f.file_name, "empty.txt");
        assert_eq!(f.vendor.as_deref(), Some("Microsoft"));
        assert_eq!(f.source, "vendor list");
    }

    #[test]
    fn ndjson_reads_hashlookup_records() {
        let line = format!(
            r#"{{"SHA-256":"{}","FileName":"a.dll","FileSize":"12","ProductCode":{{"ProductName":"Office","ProductVersion":"2019"}},"source":"NSRL"}}"#,
            A.to_uppercase()
        );
        let rows = parse_clean_files(line.as_bytes(), CleanListFormat::Ndjson, "x");
        let f = rows[0].as_ref().unwrap();
        assert_eq!(f.product.as_deref(), Some("Office"));
        assert_eq!(f.version.as_deref(), Some("2019"));
        assert_eq!(f.size, Some(12));
        assert_eq!(f.source, "NSRL");
        let back = hashlookup_json(f, &Evidence::default());
        assert_eq!(back["hashlookup:trust"], 50);
        assert_eq!(back["SHA-256"], A.to_uppercase());
        assert_eq!(back["FileSize"], "12");
    }

    #[test]
    fn detection_never_slices_inside_a_character() {
        // A multi-byte character across byte 64 of the first line panicked
        // the import (exit 101) before detection looked at bytes.
        for pad in 60..66 {
            let line = format!("{}é{}\n", "a".repeat(pad), "b".repeat(10));
            let want = if pad >= 64 {
                CleanListFormat::Hashes
            } else {
                CleanListFormat::Csv
            };
            assert_eq!(
                CleanListFormat::detect(None, line.as_bytes()),
                want,
                "pad {pad}"
            );
            let rows = parse_clean_files(line.as_bytes(), CleanListFormat::Hashes, "x");
            assert!(rows.iter().all(Result::is_err));
        }
    }

    #[test]
    fn sha256sum_output_parses_and_bad_lines_name_their_number() {
        let text = format!("{A}  ./bin/ls\n\n{A} *tool.exe\nnot-a-hash  x\n");
        assert_eq!(
            CleanListFormat::detect(None, text.as_bytes()),
            CleanListFormat::Hashes
        );
        let rows = parse_clean_files(text.as_bytes(), CleanListFormat::Hashes, "scan");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].as_ref().unwrap().file_name, "./bin/ls");
        assert_eq!(rows[1].as_ref().unwrap().file_name, "tool.exe");
        assert_eq!(rows[2].as_ref().unwrap_err().line, 4);
    }

    #[test]
    fn a_record_without_sha256_is_refused() {
        let rows = parse_clean_files(
            b"md5,name\nd41d8cd98f00b204e9800998ecf8427e,x\n",
            CleanListFormat::Csv,
            "s",
        );
        // The header says it first (issue 19), then each row.
        let e = rows[0].as_ref().unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("no SHA-256 column"), "{}", e.message);
        let e = rows[1].as_ref().unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("SHA-256"), "{}", e.message);
        let rows = parse_clean_files(
            format!("sha256,size\n{A},-3\n").as_bytes(),
            CleanListFormat::Csv,
            "s",
        );
        assert!(rows[0].as_ref().unwrap_err().message.contains("size"));
    }

    #[test]
    fn stix_file_ids_are_the_ones_stix2_computes() {
        // stix2 3.0.2: stix2.v21.File(hashes={MD5, SHA-256}, name="a.dll",
        // size=3, extensions={isx: {known_good, product, source}}).id
        let mut f = CleanFile::bare(
            Sha256::parse("ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c")
                .unwrap(),
            "bench",
        );
        f.md5 = Some(Md5::parse("0123456789abcdef0123456789abcdef").unwrap());
        f.file_name = "a.dll".into();
        f.size = Some(3);
        f.product = Some("Bench".into());
        let o = stix_file(&f);
        assert_eq!(o["id"], "file--b63ddfee-98b0-5d44-8fff-0364d32c7a2a");
        assert_eq!(o["hashes"]["SHA-256"], f.sha256.to_string());
        assert_eq!(
            o["extensions"][crate::stix::ISX_EXTENSION]["known_good"],
            true
        );
        assert_eq!(o["size"], 3);
    }
}
