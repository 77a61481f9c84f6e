//! TLS by default: a self-signed certificate on first start, or the
//! operator's own.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose};

use time::{Duration, OffsetDateTime};

use crate::ServerError;

/// Where the generated files live.
#[derive(Debug, Clone)]
pub struct TlsPaths {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The local CA's private key (0600): what renews the server
    /// certificate without a new CA for clients to trust.
    pub ca_key: PathBuf,
    /// When the server certificate expires (Unix seconds, one line).
    pub expires: PathBuf,
}

/// The server certificate's lifetime, and how long before its end it is
/// renewed (at start, and daily while running).
pub const SERVER_CERT_DAYS: i64 = 90;
pub const RENEW_BEFORE_DAYS: i64 = 30;
/// The local CA's lifetime.
pub const CA_DAYS: i64 = isx_app::client_ca::CA_DAYS;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ServerError + '_ {
    move |source| ServerError::Io {
        path: path.to_owned(),
        source,
    }
}

fn tls_err(e: impl std::fmt::Display) -> ServerError {
    ServerError::Tls(e.to_string())
}

fn paths_in(data_dir: &Path) -> TlsPaths {
    let dir = data_dir.join("tls");
    TlsPaths {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
        ca_key: dir.join("ca-key.pem"),
        expires: dir.join("cert.expires"),
    }
}

fn ca_params(now: OffsetDateTime) -> Result<CertificateParams, ServerError> {
    Ok(isx_app::client_ca::ca_params("isx local CA", now)?)
}

/// Days the server certificate has left, if its expiry was recorded.
fn days_left(paths: &TlsPaths, now: OffsetDateTime) -> Option<i64> {
    let text = fs::read_to_string(&paths.expires).ok()?;
    let secs: i64 = text.trim().parse().ok()?;
    Some((secs - now.unix_timestamp()) / 86_400)
}

/// Creates `<data_dir>/tls/` on first start: a local CA (ten years) and a
/// server certificate it signs (90 days), valid for `localhost`,
/// `127.0.0.1`, `::1` and this host's name, with the extensions strict
/// verifiers require (authority and subject key identifiers, key usages,
/// critical basic constraints). Renews the server certificate when fewer
/// than 30 days are left; a directory of an older isx (no CA key) is made
/// anew. Private keys are mode 0600, the directory 0700.
pub fn ensure_self_signed(data_dir: &Path) -> Result<TlsPaths, ServerError> {
    let paths = paths_in(data_dir);
    let now = OffsetDateTime::now_utc();
    let complete = [&paths.ca, &paths.cert, &paths.key, &paths.ca_key]
        .iter()
        .all(|p| p.exists());
    if complete && days_left(&paths, now).is_some_and(|d| d > RENEW_BEFORE_DAYS) {
        return Ok(paths);
    }
    let dir = data_dir.join("tls");
    isx_app::files::private_dir(&dir)?;
    let ca_key = match complete
        .then(|| fs::read_to_string(&paths.ca_key).ok())
        .flatten()
        .and_then(|pem| KeyPair::from_pem(&pem).ok())
    {
        Some(k) => k,
        None => {
            let k = KeyPair::generate().map_err(tls_err)?;
            let ca = ca_params(now)?.self_signed(&k).map_err(tls_err)?;
            write_private(&paths.ca_key, k.serialize_pem().as_bytes())?;
            fs::write(&paths.ca, ca.pem()).map_err(io_err(&paths.ca))?;
            k
        }
    };
    let issuer = ca_params(now)?.self_signed(&ca_key).map_err(tls_err)?;

    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if let Ok(host) = fs::read_to_string("/etc/hostname") {
        let host = host.trim();
        if !host.is_empty() && host != "localhost" {
            names.push(host.to_owned());
        }
    }
    let mut params = CertificateParams::new(names).map_err(tls_err)?;
    params.distinguished_name.push(DnType::CommonName, "isx");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.use_authority_key_identifier_extension = true;
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(SERVER_CERT_DAYS);
    let expires = params.not_after.unix_timestamp();
    let key = KeyPair::generate().map_err(tls_err)?;
    let cert = params.signed_by(&key, &issuer, &ca_key).map_err(tls_err)?;

    let ca_pem = fs::read_to_string(&paths.ca).map_err(io_err(&paths.ca))?;
    write_private(&paths.key, key.serialize_pem().as_bytes())?;
    fs::write(&paths.cert, format!("{}{}", cert.pem(), ca_pem)).map_err(io_err(&paths.cert))?;
    fs::write(&paths.expires, format!("{expires}\n")).map_err(io_err(&paths.expires))?;
    tracing::info!(cert = %paths.cert.display(), ca = %paths.ca.display(), days = SERVER_CERT_DAYS, "issued a TLS server certificate from the local CA");
    Ok(paths)
}

/// The certificate the listener presents, replaceable while it runs (the
/// daily renewal swaps it in; connections already open keep theirs).
#[derive(Debug)]
pub struct LiveCert(std::sync::RwLock<Arc<rustls::sign::CertifiedKey>>);

impl LiveCert {
    fn set(&self, key: Arc<rustls::sign::CertifiedKey>) {
        match self.0.write() {
            Ok(mut k) => *k = key,
            Err(poisoned) => *poisoned.into_inner() = key,
        }
    }
}

impl rustls::server::ResolvesServerCert for LiveCert {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        match self.0.read() {
            Ok(k) => Some(k.clone()),
            Err(poisoned) => Some(poisoned.into_inner().clone()),
        }
    }
}

/// Renews the generated certificate once a day when it is due, and swaps
/// it into the running listener.
pub async fn renew_daily(data_dir: PathBuf, live: Arc<LiveCert>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(86_400));
    tick.tick().await;
    loop {
        tick.tick().await;
        let dir = data_dir.clone();
        let renewed = tokio::task::spawn_blocking(move || {
            let paths = ensure_self_signed(&dir)?;
            certified_key(&paths.cert, &paths.key)
        })
        .await;
        match renewed {
            Ok(Ok(key)) => live.set(key),
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot renew the TLS certificate"),
            Err(e) => tracing::warn!(error = %e, "TLS renewal task failed"),
        }
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ServerError> {
    Ok(isx_app::files::write_private(path, bytes)?)
}

/// A certificate chain and its private key from PEM files.
fn certified_key(cert: &Path, key: &Path) -> Result<Arc<rustls::sign::CertifiedKey>, ServerError> {
    let cert_pem = fs::read(cert).map_err(io_err(cert))?;
    let key_pem = fs::read(key).map_err(io_err(key))?;
    let certs = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ServerError::Tls(format!("{}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(ServerError::Tls(format!(
            "{}: no certificate found",
            cert.display()
        )));
    }
    let key_der = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| ServerError::Tls(format!("{}: {e}", key.display())))?
        .ok_or_else(|| ServerError::Tls(format!("{}: no private key found", key.display())))?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key_der).map_err(tls_err)?;
    Ok(Arc::new(rustls::sign::CertifiedKey::new(certs, signing)))
}

/// A rustls server configuration (ring provider, TLS 1.2 and 1.3, ALPN h2
/// and http/1.1) from PEM files, with the certificate behind a [`LiveCert`]
/// that renewal can replace.
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_hints: Vec<rustls::DistinguishedName>,
) -> Result<(Arc<rustls::ServerConfig>, Arc<LiveCert>), ServerError> {
    let live = Arc::new(LiveCert(std::sync::RwLock::new(certified_key(cert, key)?)));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        // Every client is asked for a certificate and may go on without:
        // one that it presents authenticates as a member (client_certs).
        .with_client_cert_verifier(Arc::new(crate::client_certs::AskForCertificate::new(
            client_hints,
        )))
        .with_cert_resolver(live.clone());
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((Arc::new(cfg), live))
}
