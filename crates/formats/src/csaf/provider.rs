//! The files of a CSAF trusted provider (CSAF 2.0 §7.1), apart from the
//! documents themselves: file names (§5.1), the TLP folders, `index.txt`,
//! `changes.csv`, the per-TLP ROLIE feeds and service document, the hash
//! files, `provider-metadata.json` and the `CSAF:` line of `security.txt`.
//!
//! Pure: the application decides what a reader may see and hands the
//! listing here; every URL is built from the provider's base URL.

use isx_domain::{Timestamp, Tlp};
use serde_json::{json, Value};
use sha2::{Digest, Sha256, Sha512};

/// The CSAF 2.0 JSON schema URL ROLIE entries name.
pub const CSAF_SCHEMA: &str = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json";

/// Where the provider's files live under the base URL.
pub const WELL_KNOWN: &str = "/.well-known/csaf";

/// The TLP 1.0 folders of §7.1.4/§7.1.5: `white` needs no authentication,
/// the others do (isx serves `green` to signed-in members only, as TLP
/// GREEN is not public).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Folder {
    White,
    Green,
    Amber,
    Red,
}

impl Folder {
    pub const ALL: [Folder; 4] = [Folder::White, Folder::Green, Folder::Amber, Folder::Red];

    /// The folder of a document labelled `tlp` (AMBER+STRICT is written
    /// as AMBER, the nearest TLP 1.0 label).
    pub fn of(tlp: Tlp) -> Folder {
        match tlp {
            Tlp::Clear => Folder::White,
            Tlp::Green => Folder::Green,
            Tlp::Amber | Tlp::AmberStrict => Folder::Amber,
            Tlp::Red => Folder::Red,
        }
    }

    /// The folder's path segment.
    pub fn name(self) -> &'static str {
        match self {
            Folder::White => "white",
            Folder::Green => "green",
            Folder::Amber => "amber",
            Folder::Red => "red",
        }
    }

    /// The TLP 1.0 label, as documents and `provider-metadata.json` write it.
    pub fn label(self) -> &'static str {
        match self {
            Folder::White => "WHITE",
            Folder::Green => "GREEN",
            Folder::Amber => "AMBER",
            Folder::Red => "RED",
        }
    }

    pub fn parse(s: &str) -> Option<Folder> {
        Folder::ALL.into_iter().find(|f| f.name() == s)
    }

    /// Whether reading the folder needs no credentials.
    pub fn is_public(self) -> bool {
        self == Folder::White
    }

    /// The ROLIE feed's file name in the folder.
    pub fn feed_file(self) -> String {
        format!("csaf-feed-tlp-{}.json", self.name())
    }
}

/// The file name of a document (§5.1): `tracking.id` in lower case, every
/// run of characters other than `+`, `-`, `a-z` and `0-9` replaced by one
/// `_`, then `.json`.
pub fn file_name(tracking_id: &str) -> String {
    format!("{}.json", isx_advisories::csaf_file_stem(tracking_id))
}

/// The year folder of a document (§7.1.11): the year of its
/// `initial_release_date`.
pub fn year_of(initial_release: Timestamp) -> String {
    initial_release.to_rfc3339().chars().take(4).collect()
}

/// One document as the listings show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub tracking_id: String,
    pub title: String,
    /// `initial_release_date`.
    pub published: Timestamp,
    /// `current_release_date`: the time of its most recent change.
    pub updated: Timestamp,
}

impl Listed {
    pub fn file(&self) -> String {
        file_name(&self.tracking_id)
    }

    pub fn year(&self) -> String {
        year_of(self.published)
    }

    /// The path relative to its TLP folder: `2026/isx-cve-2026-41001.json`.
    pub fn path(&self) -> String {
        format!("{}/{}", self.year(), self.file())
    }
}

/// The URL of a TLP folder.
pub fn folder_url(base: &str, folder: Folder) -> String {
    format!("{base}{WELL_KNOWN}/{}", folder.name())
}

/// `index.txt` (§7.1.12): every document's path, one per line.
pub fn index_txt(docs: &[Listed]) -> String {
    let mut paths: Vec<String> = docs.iter().map(Listed::path).collect();
    paths.sort();
    paths.into_iter().map(|p| p + "\n").collect()
}

/// `changes.csv` (§7.1.13): path and time of the most recent change,
/// newest first, both quoted.
pub fn changes_csv(docs: &[Listed]) -> String {
    let mut rows: Vec<&Listed> = docs.iter().collect();
    rows.sort_by(|a, b| {
        b.updated
            .cmp(&a.updated)
            .then_with(|| a.path().cmp(&b.path()))
    });
    rows.into_iter()
        .map(|d| format!("\"{}\",\"{}\"\n", d.path(), d.updated.to_rfc3339()))
        .collect()
}

/// A hash file (§7.1.18) in the format `sha256sum`/`sha512sum -c` read.
pub fn sha256_file(bytes: &[u8], file: &str) -> String {
    format!("{}  {file}\n", hex(&Sha256::digest(bytes)))
}

/// See [`sha256_file`].
pub fn sha512_file(bytes: &[u8], file: &str) -> String {
    format!("{}  {file}\n", hex(&Sha512::digest(bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The ROLIE feed of one folder (§7.1.15): one entry per document with
/// links to the document, its hashes and its signature.
pub fn rolie_feed(base: &str, folder: Folder, docs: &[Listed], updated: Timestamp) -> Value {
    let dir = folder_url(base, folder);
    let mut sorted: Vec<&Listed> = docs.iter().collect();
    sorted.sort_by(|a, b| {
        b.updated
            .cmp(&a.updated)
            .then_with(|| a.path().cmp(&b.path()))
    });
    let entries: Vec<Value> = sorted
        .into_iter()
        .map(|d| {
            let url = format!("{dir}/{}", d.path());
            json!({
                "id": d.tracking_id,
                "title": d.title,
                "link": [
                    {"rel": "self", "href": url},
                    {"rel": "hash", "href": format!("{url}.sha256")},
                    {"rel": "hash", "href": format!("{url}.sha512")},
                    {"rel": "signature", "href": format!("{url}.asc")}
                ],
                "published": d.published.to_rfc3339(),
                "updated": d.updated.to_rfc3339(),
                "summary": {"content": d.title},
                "content": {"type": "application/json", "src": url},
                "format": {"schema": CSAF_SCHEMA, "version": "2.0"}
            })
        })
        .collect();
    json!({"feed": {
        "id": format!("isx-csaf-feed-tlp-{}", folder.name()),
        "title": format!("isx CSAF advisories, TLP:{}", folder.label()),
        "link": [{"rel": "self", "href": format!("{dir}/{}", folder.feed_file())}],
        "category": [{"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}],
        "updated": updated.to_rfc3339(),
        "entry": entries
    }})
}

/// The ROLIE service document (§7.1.16), listing every folder's feed.
pub fn rolie_service(base: &str) -> Value {
    let collections: Vec<Value> = Folder::ALL
        .into_iter()
        .map(|f| {
            json!({
                "title": format!("TLP:{} advisories", f.label()),
                "href": format!("{}/{}", folder_url(base, f), f.feed_file()),
                "categories": {"category": [
                    {"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}
                ]}
            })
        })
        .collect();
    json!({"service": {"workspace": [{
        "title": "isx CSAF advisories",
        "collection": collections
    }]}})
}

/// The provider's facts `provider-metadata.json` needs.
#[derive(Debug, Clone)]
pub struct ProviderFacts<'a> {
    /// The base URL (scheme and host, no trailing slash).
    pub base: &'a str,
    pub publisher_name: &'a str,
    /// The documents' `publisher.namespace`.
    pub namespace: &'a str,
    pub contact: &'a str,
    pub fingerprint: &'a str,
    pub last_updated: Timestamp,
}

/// The URL of the public OpenPGP key.
pub fn key_url(base: &str, fingerprint: &str) -> String {
    format!("{base}{WELL_KNOWN}/openpgp/{fingerprint}.asc")
}

/// `provider-metadata.json` (§7.1.7) of a trusted provider with both
/// distributions: the TLP folders (directory) and their ROLIE feeds.
pub fn provider_metadata(p: &ProviderFacts<'_>) -> Value {
    let base = p.base;
    let feeds: Vec<Value> = Folder::ALL
        .into_iter()
        .map(|f| {
            let access = if f.is_public() {
                "no authentication"
            } else {
                "an API key (Authorization: Bearer), showing what that key may see"
            };
            json!({
                "summary": format!("TLP:{} advisories; needs {access}", f.label()),
                "tlp_label": f.label(),
                "url": format!("{}/{}", folder_url(base, f), f.feed_file())
            })
        })
        .collect();
    let mut distributions: Vec<Value> = Folder::ALL
        .into_iter()
        .map(|f| json!({"directory_url": folder_url(base, f)}))
        .collect();
    distributions.push(json!({"rolie": {
        "feeds": feeds,
        "services": [format!("{base}{WELL_KNOWN}/service.json")]
    }}));
    json!({
        "canonical_url": format!("{base}{WELL_KNOWN}/provider-metadata.json"),
        "distributions": distributions,
        "last_updated": p.last_updated.to_rfc3339(),
        "list_on_CSAF_aggregators": false,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": false,
        "public_openpgp_keys": [{"fingerprint": p.fingerprint, "url": key_url(base, p.fingerprint)}],
        "publisher": {
            "category": "coordinator",
            "contact_details": p.contact,
            "name": p.publisher_name,
            "namespace": p.namespace
        },
        "role": "csaf_trusted_provider"
    })
}

/// `security.txt` (RFC 9116) with the `CSAF:` field of §7.1.8.
pub fn security_txt(base: &str, contact: &str, expires: Timestamp) -> String {
    format!(
        "Contact: {contact}\nExpires: {}\nCSAF: {base}{WELL_KNOWN}/provider-metadata.json\n",
        expires.to_rfc3339()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_section_5_1() {
        assert_eq!(file_name("ISX-CVE-2026-41001"), "isx-cve-2026-41001.json");
        assert_eq!(
            file_name("Example Company - 2019-YH3234"),
            "example_company_-_2019-yh3234.json"
        );
        assert_eq!(file_name("rhsa-2019:0024"), "rhsa-2019_0024.json");
        assert_eq!(file_name("a//..//b"), "a_b.json");
        assert_eq!(file_name("x+y"), "x+y.json");
    }

    #[test]
    fn changes_are_newest_first_and_the_index_lists_every_path() {
        let t = Timestamp::from_secs(1_800_000_000);
        let d = |id: &str, up: i64| Listed {
            tracking_id: id.into(),
            title: "t".into(),
            published: t,
            updated: t.add_secs(up),
        };
        let docs = vec![d("ISX-A", 10), d("ISX-B", 30), d("ISX-C", 20)];
        let csv = changes_csv(&docs);
        let order: Vec<&str> = csv.lines().map(|l| &l[6..15]).collect();
        assert_eq!(order, vec!["isx-b.jso", "isx-c.jso", "isx-a.jso"], "{csv}");
        assert!(
            csv.starts_with("\"2027/isx-b.json\",\"2027-01-15T"),
            "{csv}"
        );
        assert_eq!(
            index_txt(&docs),
            "2027/isx-a.json\n2027/isx-b.json\n2027/isx-c.json\n"
        );
    }

    #[test]
    fn hash_files_read_like_sha256sum_output() {
        assert_eq!(
            sha256_file(b"abc", "x.json"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  x.json\n"
        );
        assert!(sha512_file(b"abc", "x.json").starts_with("ddaf35a193617aba"));
    }
}
