//! TLS by default: a self-signed certificate on first start, or the
//! operator's own.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

use crate::ServerError;

/// Where the generated files live.
#[derive(Debug, Clone)]
pub struct TlsPaths {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ServerError + '_ {
    move |source| ServerError::Io {
        path: path.to_owned(),
        source,
    }
}

fn tls_err(e: impl std::fmt::Display) -> ServerError {
    ServerError::Tls(e.to_string())
}

/// Creates `<data_dir>/tls/{ca.pem,cert.pem,key.pem}` unless they exist: a
/// local CA and a server certificate it signs, valid for `localhost`,
/// `127.0.0.1`, `::1` and this host's name. The key file is mode 0600.
pub fn ensure_self_signed(data_dir: &Path) -> Result<TlsPaths, ServerError> {
    let dir = data_dir.join("tls");
    let paths = TlsPaths {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    if paths.cert.exists() && paths.key.exists() {
        return Ok(paths);
    }
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;

    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "isx local CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().map_err(tls_err)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(tls_err)?;

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
    let key = KeyPair::generate().map_err(tls_err)?;
    let cert = params.signed_by(&key, &ca_cert, &ca_key).map_err(tls_err)?;

    write_private(&paths.key, key.serialize_pem().as_bytes())?;
    fs::write(&paths.ca, ca_cert.pem()).map_err(io_err(&paths.ca))?;
    fs::write(&paths.cert, format!("{}{}", cert.pem(), ca_cert.pem()))
        .map_err(io_err(&paths.cert))?;
    tracing::info!(cert = %paths.cert.display(), ca = %paths.ca.display(), "generated a self-signed TLS certificate");
    Ok(paths)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ServerError> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))
}

/// A rustls server configuration (ring provider, TLS 1.2 and 1.3, ALPN h2
/// and http/1.1) from PEM files.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, ServerError> {
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
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .map_err(tls_err)?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}
