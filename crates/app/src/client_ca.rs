//! The instance's client CA (mTLS): it lives in the data directory
//! (`tls/client-ca.pem`, its key `tls/client-ca-key.pem`, made on first
//! use) and issues the certificates that authenticate a member's machines.
//! What a presented certificate is worth is the server's (`client_certs`)
//! and the store's (registration, revocation).

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use ring::rand::SecureRandom;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::AppError;

/// A local CA's lifetime.
pub const CA_DAYS: i64 = 3650;

/// The client CA's name.
const CLIENT_CA: &str = "isx client CA";

/// SHA-256 of a certificate (DER), lowercase hex: its name in the store.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

fn ca_err(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("client CA: {e}"))
}

/// The client CA's certificate and key files in the data directory.
pub fn ca_paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    let dir = data_dir.join("tls");
    (dir.join("client-ca.pem"), dir.join("client-ca-key.pem"))
}

/// The parameters of one of isx's local CAs (the server's, the client
/// one): the same every time for one name, so that a certificate signed
/// by the re-created issuer verifies against the CA file clients trust
/// (same subject, same key, so the same key identifier).
pub fn ca_params(common_name: &str, now: OffsetDateTime) -> Result<CertificateParams, AppError> {
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(ca_err)?;
    p.distinguished_name.push(DnType::CommonName, common_name);
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = now - Duration::hours(1);
    p.not_after = now + Duration::days(CA_DAYS);
    Ok(p)
}

/// The client CA's key, made (with its certificate) on first use. A key
/// that exists but cannot be read is an error, never replaced: a new CA
/// would silently invalidate every certificate issued. Two processes
/// making it at once: one creates the key file, the other reads it.
pub fn ensure_ca(data_dir: &Path) -> Result<KeyPair, AppError> {
    let (cert, key) = ca_paths(data_dir);
    let read = || -> Result<KeyPair, AppError> {
        let pem = fs::read_to_string(&key).map_err(|source| AppError::Io {
            path: key.clone(),
            source,
        })?;
        KeyPair::from_pem(&pem).map_err(|e| ca_err(format!("{}: {e}", key.display())))
    };
    if key.exists() {
        let k = read()?;
        if !cert.exists() {
            write_ca_cert(&cert, &k)?;
        }
        return Ok(k);
    }
    crate::files::private_dir(&data_dir.join("tls"))?;
    let k = KeyPair::generate().map_err(ca_err)?;
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(&key) {
        Ok(mut f) => {
            use std::io::Write;
            f.write_all(k.serialize_pem().as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(|source| AppError::Io {
                    path: key.clone(),
                    source,
                })?;
            write_ca_cert(&cert, &k)?;
            Ok(k)
        }
        // Made by another process meanwhile: that one is the CA.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let k = read()?;
            if !cert.exists() {
                write_ca_cert(&cert, &k)?;
            }
            Ok(k)
        }
        Err(source) => Err(AppError::Io { path: key, source }),
    }
}

/// Writes the CA certificate of `k` (the same certificate for the same
/// key: the subject and key identifier are fixed), through a temporary
/// file renamed into place.
fn write_ca_cert(cert: &Path, k: &KeyPair) -> Result<(), AppError> {
    let ca = ca_params(CLIENT_CA, OffsetDateTime::now_utc())?
        .self_signed(k)
        .map_err(ca_err)?;
    let tmp = cert.with_extension("pem.tmp");
    let io = |source| AppError::Io {
        path: cert.to_owned(),
        source,
    };
    fs::write(&tmp, ca.pem()).map_err(io)?;
    fs::rename(&tmp, cert).map_err(io)
}

/// A certificate issued for a member.
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
    pub record: isx_store::ClientCert,
}

/// Issues a client certificate for `member`, valid `days` (1 to 3650)
/// from `now`, signed by the client CA (made on first use). The caller
/// stores [`Issued::record`]; the key is never kept by isx.
pub fn issue(
    data_dir: &Path,
    member: &isx_domain::Member,
    days: i64,
    now: isx_domain::Timestamp,
) -> Result<Issued, AppError> {
    let ca_key = ensure_ca(data_dir)?;
    let at = OffsetDateTime::from_unix_timestamp(now.as_secs()).map_err(ca_err)?;
    let issuer = ca_params(CLIENT_CA, at)?
        .self_signed(&ca_key)
        .map_err(ca_err)?;
    let mut serial = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut serial)
        .map_err(|_| ca_err("no randomness for a serial number"))?;
    serial[0] &= 0x7f;
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(ca_err)?;
    p.distinguished_name
        .push(DnType::CommonName, member.name.as_str());
    p.distinguished_name
        .push(DnType::OrganizationName, "isx member");
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.use_authority_key_identifier_extension = true;
    p.serial_number = Some(SerialNumber::from_slice(&serial));
    p.not_before = at - Duration::hours(1);
    let not_after = at + Duration::days(days.clamp(1, 3650));
    p.not_after = not_after;
    let key = KeyPair::generate().map_err(ca_err)?;
    let cert = p.signed_by(&key, &issuer, &ca_key).map_err(ca_err)?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        record: isx_store::ClientCert {
            fingerprint: fingerprint(cert.der()),
            member: member.id,
            subject: format!("CN={}", member.name),
            serial: hex::encode(serial),
            not_after: isx_domain::Timestamp::from_secs(not_after.unix_timestamp()),
            created_at: now,
            revoked_at: None,
        },
    })
}
