//! The CSAF trusted provider (CSAF 2.0 §7.1): which documents a reader
//! finds in each TLP folder, the documents' bytes, and their OpenPGP
//! signatures made with the instance's OpenPGP key.
//!
//! Every listing and document goes through [`crate::advisories`], so a
//! document appears in a reader's folder exactly when the policy function
//! lets that reader see the advisory, masked as it decides; a draft or
//! withdrawn release is never published. Documents are rendered on each
//! request from what the reader may see, deterministically: the bytes a
//! reader downloads are the bytes its `.sha256`, `.sha512` and `.asc`
//! describe.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use isx_formats::csaf::provider::{self, Folder, Listed};
use isx_formats::openpgp::PublicKey;
use isx_policy::Principal;
use ring::signature::{Ed25519KeyPair, KeyPair};

use crate::advisories::{self, AdvisoryFilter};
use crate::{App, AppError};

const KEY_FILE: &str = "csaf-openpgp.key";
const KEY_HEADER: &str = "isx OpenPGP key v1";

/// The instance's OpenPGP signing key (Ed25519), kept in the data
/// directory as `csaf-openpgp.key` (mode 0600): a header line, the key's
/// creation time (part of its fingerprint) and the PKCS#8 key in base64.
pub struct OpenPgpSigner {
    pair: Ed25519KeyPair,
    public: PublicKey,
    user_id: String,
}

impl std::fmt::Debug for OpenPgpSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenPgpSigner")
            .field("fingerprint", &self.public.fingerprint_hex())
            .finish()
    }
}

impl OpenPgpSigner {
    /// Loads the key from `dir`, creating it on first use; `user_id` names
    /// the key's owner in its certificate.
    pub fn load_or_create(dir: &Path, user_id: &str) -> Result<Self, AppError> {
        let path = dir.join(KEY_FILE);
        let io = |source| AppError::Io {
            path: path.clone(),
            source,
        };
        if !path.exists() {
            std::fs::create_dir_all(dir).map_err(io)?;
            let rng = ring::rand::SystemRandom::new();
            let doc = Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| AppError::Signing("cannot generate an OpenPGP key".into()))?;
            let created = unix_now();
            let text = format!(
                "{KEY_HEADER}\n{created}\n{}\n",
                base64::engine::general_purpose::STANDARD.encode(doc.as_ref())
            );
            let tmp = dir.join(".csaf-openpgp.key.tmp");
            write_private(&tmp, text.as_bytes()).map_err(io)?;
            std::fs::rename(&tmp, &path).map_err(io)?;
        }
        let text = std::fs::read_to_string(&path).map_err(io)?;
        let bad = |why: &str| AppError::Signing(format!("{}: {why}", path.display()));
        let mut lines = text.lines();
        if lines.next() != Some(KEY_HEADER) {
            return Err(bad("not an isx OpenPGP key file"));
        }
        let created: u32 = lines
            .next()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| bad("no creation time"))?;
        let pk8 = lines
            .next()
            .and_then(|l| {
                base64::engine::general_purpose::STANDARD
                    .decode(l.trim())
                    .ok()
            })
            .ok_or_else(|| bad("no key"))?;
        let pair = Ed25519KeyPair::from_pkcs8(&pk8).map_err(|e| bad(&e.to_string()))?;
        let mut ed25519 = [0u8; 32];
        ed25519.copy_from_slice(pair.public_key().as_ref());
        Ok(OpenPgpSigner {
            pair,
            public: PublicKey { ed25519, created },
            user_id: user_id.to_owned(),
        })
    }

    /// The key's fingerprint, 40 upper-case hex digits.
    pub fn fingerprint(&self) -> String {
        self.public.fingerprint_hex()
    }

    /// The public key certificate, ASCII-armoured.
    pub fn certificate(&self) -> String {
        self.public
            .armored_certificate(&self.user_id, &|m| self.raw_sign(m))
    }

    /// A detached signature of `data`, made now (by the system clock,
    /// never before the key's creation: OpenPGP verifiers refuse both a
    /// signature older than its key and one from the future).
    pub fn sign(&self, data: &[u8]) -> String {
        let at = unix_now().max(self.public.created);
        self.public
            .armored_signature(data, at, &|m| self.raw_sign(m))
    }

    fn raw_sign(&self, msg: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        out.copy_from_slice(self.pair.sign(msg).as_ref());
        out
    }
}

fn unix_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// One published document as a reader sees it.
#[derive(Debug, Clone)]
pub struct Published {
    pub folder: Folder,
    pub listed: Listed,
    /// The document, as served.
    pub bytes: Vec<u8>,
}

/// The documents `reader` finds in `folder` now, without their bytes.
pub async fn listing(
    app: &App,
    reader: &Principal,
    folder: Folder,
) -> Result<Vec<Listed>, AppError> {
    let now = app.clock.now();
    let found = advisories::search(app, reader, &AdvisoryFilter::default()).await?;
    Ok(found
        .into_iter()
        .filter(|(r, _)| r.is_published())
        .filter(|(r, _)| Folder::of(r.label_at(now)) == folder)
        .map(|(r, a)| listed(&r, &a))
        .collect())
}

fn listed(r: &isx_advisories::Release, a: &isx_advisories::Advisory) -> Listed {
    Listed {
        tracking_id: advisories::tracking_id(a),
        title: a.title.clone(),
        published: r.release_at,
        updated: advisories::current_release(r, a),
    }
}

/// One document by its place (`folder/year/file`), or 404 — the same 404
/// for a document that does not exist, one the reader may not see, and
/// one that lives in another folder or year.
pub async fn document(
    app: &App,
    reader: &Principal,
    folder: Folder,
    year: &str,
    file: &str,
) -> Result<Published, AppError> {
    // The same answer whatever was asked (the caller's text is not
    // repeated, however long).
    let missing = || AppError::not_found("document");
    let stem = file
        .strip_suffix(".json")
        .and_then(|s| s.strip_prefix("isx-"))
        .ok_or_else(missing)?;
    let now = app.clock.now();
    let found = if stem.starts_with("cve-") {
        // `isx-cve-2026-41001.json` names CVE-2026-41001.
        advisories::advisory(app, reader, stem)
            .await
            .ok()
            .map(|(r, a, _)| (r, a))
    } else {
        // Another id's file name cannot be read back (§5.1 lowers its case
        // and replaces characters): the document is looked for among those
        // the reader finds in the folder.
        advisories::search(app, reader, &AdvisoryFilter::default())
            .await?
            .into_iter()
            .find(|(r, a)| {
                r.is_published()
                    && Folder::of(r.label_at(now)) == folder
                    && listed(r, a).file() == file
            })
    };
    let (r, a) = found.ok_or_else(missing)?;
    let listed = listed(&r, &a);
    if !r.is_published()
        || Folder::of(r.label_at(now)) != folder
        || listed.year() != year
        || listed.file() != file
    {
        return Err(missing());
    }
    let doc = advisories::csaf(app, &r, &a);
    let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Published {
        folder,
        listed,
        bytes,
    })
}

/// `provider-metadata.json` of this instance.
pub fn metadata(app: &App) -> serde_json::Value {
    let base = app.public_url();
    provider::provider_metadata(&provider::ProviderFacts {
        base,
        publisher_name: &app.settings.instance_name,
        namespace: base,
        contact: &security_contact(app),
        fingerprint: &app.openpgp.fingerprint(),
        last_updated: app.clock.now(),
    })
}

/// The provider's security contact: the configured one, or
/// `mailto:security@<host of the public URL>`.
pub fn security_contact(app: &App) -> String {
    if let Some(c) = &app.settings.security_contact {
        return c.clone();
    }
    let host = url::Url::parse(app.public_url())
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into());
    format!("mailto:security@{host}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn gpg(home: &Path, args: &[&str]) -> std::process::Output {
        Command::new("gpg")
            .arg("--homedir")
            .arg(home)
            .args(["--batch", "--no-tty", "--status-fd", "1"])
            .args(args)
            .output()
            .expect("gpg runs (scripts/test installs gnupg)")
    }

    #[test]
    fn gpg_imports_the_key_and_verifies_signatures_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let signer =
            OpenPgpSigner::load_or_create(dir.path(), "isx test <security@example.org>").unwrap();
        // The key file survives a reload: same fingerprint.
        let again =
            OpenPgpSigner::load_or_create(dir.path(), "isx test <security@example.org>").unwrap();
        assert_eq!(signer.fingerprint(), again.fingerprint());

        let home = dir.path().join("gnupg");
        std::fs::create_dir(&home).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let key = dir.path().join("key.asc");
        std::fs::write(&key, signer.certificate()).unwrap();
        let imported = gpg(&home, &["--import", key.to_str().unwrap()]);
        let status = String::from_utf8_lossy(&imported.stdout);
        assert!(
            status.contains(&format!("IMPORT_OK 1 {}", signer.fingerprint())),
            "gpg --import: {status} {}",
            String::from_utf8_lossy(&imported.stderr)
        );

        let doc = dir.path().join("doc.json");
        let sig = dir.path().join("doc.json.asc");
        std::fs::write(&doc, b"{\"document\": {}}\n").unwrap();
        std::fs::write(&sig, signer.sign(b"{\"document\": {}}\n")).unwrap();
        let ok = gpg(
            &home,
            &["--verify", sig.to_str().unwrap(), doc.to_str().unwrap()],
        );
        let status = String::from_utf8_lossy(&ok.stdout);
        assert!(
            ok.status.success() && status.contains(&format!("VALIDSIG {}", signer.fingerprint())),
            "gpg --verify: {status} {}",
            String::from_utf8_lossy(&ok.stderr)
        );

        std::fs::write(&doc, b"{\"document\": {}} \n").unwrap();
        let bad = gpg(
            &home,
            &["--verify", sig.to_str().unwrap(), doc.to_str().unwrap()],
        );
        assert!(!bad.status.success(), "a changed document must not verify");
        assert!(String::from_utf8_lossy(&bad.stdout).contains("BADSIG"));
    }
}
