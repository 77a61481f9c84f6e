//! The instance's client CA (mTLS) and the operator's own CAs. isx's CA
//! lives in the store (its certificate and key, made on first use — or
//! imported from the data directory's `tls/client-ca.pem` and
//! `tls/client-ca-key.pem` that earlier versions wrote), so every node on
//! one database trusts and issues with the same CA; it issues the
//! certificates that authenticate a member's machines. An operator's CA
//! is a certificate only: the operator issues, and each certificate it
//! accepts is registered for a member ([`register`]). What a presented
//! certificate is worth is the server's (`client_certs`: the chain) and
//! the store's (registration, revocation).

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

/// The client CA's certificate (PEM) and key from the data directory's
/// files, if an earlier version made them there. A key file that exists
/// but cannot be read is an error, never replaced: a new CA would
/// silently invalidate every certificate issued.
fn from_files(data_dir: &Path) -> Result<Option<(String, KeyPair)>, AppError> {
    let (cert, key) = ca_paths(data_dir);
    if !key.exists() {
        return Ok(None);
    }
    let pem = fs::read_to_string(&key).map_err(|source| AppError::Io {
        path: key.clone(),
        source,
    })?;
    let k = KeyPair::from_pem(&pem).map_err(|e| ca_err(format!("{}: {e}", key.display())))?;
    let cert_pem = match fs::read_to_string(&cert) {
        Ok(c) => c,
        Err(_) => ca_cert_pem(&k)?,
    };
    Ok(Some((cert_pem, k)))
}

/// The CA certificate of `k` (the subject and key identifier are fixed).
fn ca_cert_pem(k: &KeyPair) -> Result<String, AppError> {
    Ok(ca_params(CLIENT_CA, OffsetDateTime::now_utc())?
        .self_signed(k)
        .map_err(ca_err)?
        .pem())
}

/// The DER of the first certificate of a PEM text.
fn first_der(pem: &str) -> Result<Vec<u8>, AppError> {
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END CERTIFICATE-----"))
        .collect();
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|e| AppError::invalid(format!("not a PEM certificate: {e}")))
        .and_then(|d| {
            if d.is_empty() {
                Err(AppError::invalid("no PEM certificate in the text"))
            } else {
                Ok(d)
            }
        })
}

/// isx's client CA: its key, made (with its certificate) on first use and
/// kept in the store; files of an earlier version are imported. Two nodes
/// making one at once: the store keeps one, and both use it.
pub async fn ensure_ca(
    store: &dyn isx_store::Store,
    data_dir: &Path,
    now: isx_domain::Timestamp,
) -> Result<KeyPair, AppError> {
    let stored = |cas: Vec<isx_store::ClientCa>| {
        cas.into_iter()
            .find(|c| c.origin == "isx")
            .and_then(|c| c.key_pem)
    };
    if let Some(pem) = stored(store.client_cas().await?) {
        return KeyPair::from_pem(&pem).map_err(|e| ca_err(format!("the stored key: {e}")));
    }
    let (cert_pem, key) = match from_files(data_dir)? {
        Some(found) => found,
        None => {
            let k = KeyPair::generate().map_err(ca_err)?;
            (ca_cert_pem(&k)?, k)
        }
    };
    store
        .insert_client_ca(&isx_store::ClientCa {
            fingerprint: fingerprint(&first_der(&cert_pem)?),
            origin: "isx".into(),
            subject: format!("CN={CLIENT_CA}"),
            cert_pem,
            key_pem: Some(key.serialize_pem()),
            created_at: now,
        })
        .await?;
    let pem =
        stored(store.client_cas().await?).ok_or_else(|| ca_err("the store kept no client CA"))?;
    KeyPair::from_pem(&pem).map_err(|e| ca_err(format!("the stored key: {e}")))
}

/// What isx reads of a certificate an operator's CA issued, or of the CA
/// itself.
#[derive(Debug, Clone)]
pub struct CertFacts {
    pub der: Vec<u8>,
    pub subject: String,
    pub serial: String,
    pub not_after: isx_domain::Timestamp,
    pub is_ca: bool,
}

/// Reads the first certificate of a PEM text.
pub fn read_cert(pem: &str) -> Result<CertFacts, AppError> {
    let der = first_der(pem)?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| AppError::invalid(format!("not an X.509 certificate: {e}")))?;
    let facts = CertFacts {
        subject: cert.subject().to_string(),
        serial: cert.raw_serial_as_string().replace(':', ""),
        not_after: isx_domain::Timestamp::from_secs(cert.validity().not_after.timestamp()),
        is_ca: cert.is_ca(),
        der: Vec::new(),
    };
    Ok(CertFacts { der, ..facts })
}

/// Trusts an operator's CA (its certificate, PEM): certificates it issued
/// then authenticate once each is [`register`]ed. Nodes read the trusted
/// CAs when they start.
pub async fn trust(
    store: &dyn isx_store::Store,
    pem: &str,
    now: isx_domain::Timestamp,
) -> Result<isx_store::ClientCa, AppError> {
    let facts = read_cert(pem)?;
    if !facts.is_ca {
        return Err(AppError::invalid(
            "this certificate is not a CA (basicConstraints CA:TRUE): register it with `isx cert register` instead",
        ));
    }
    let ca = isx_store::ClientCa {
        fingerprint: fingerprint(&facts.der),
        origin: "operator".into(),
        subject: facts.subject,
        cert_pem: pem.trim().to_owned() + "\n",
        key_pem: None,
        created_at: now,
    };
    if !store.insert_client_ca(&ca).await? {
        return Err(AppError::Conflict("this CA is trusted already".into()));
    }
    Ok(ca)
}

/// Registers a certificate of an operator's CA for `member`: it then
/// authenticates as that member (while it chains to a trusted CA, is
/// valid and is not revoked).
pub async fn register(
    store: &dyn isx_store::Store,
    member: &isx_domain::Member,
    pem: &str,
    now: isx_domain::Timestamp,
) -> Result<isx_store::ClientCert, AppError> {
    let facts = read_cert(pem)?;
    if facts.is_ca {
        return Err(AppError::invalid(
            "this is a CA certificate: trust it with `isx cert trust`, and register the certificates it issues",
        ));
    }
    if facts.not_after <= now {
        return Err(AppError::invalid("this certificate has expired"));
    }
    let record = isx_store::ClientCert {
        fingerprint: fingerprint(&facts.der),
        member: member.id,
        subject: facts.subject,
        serial: facts.serial,
        not_after: facts.not_after,
        created_at: now,
        revoked_at: None,
    };
    if store.client_cert(&record.fingerprint).await?.is_some() {
        return Err(AppError::Conflict(
            "this certificate is registered already".into(),
        ));
    }
    store.insert_client_cert(&record).await?;
    Ok(record)
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
pub async fn issue(
    store: &dyn isx_store::Store,
    data_dir: &Path,
    member: &isx_domain::Member,
    days: i64,
    now: isx_domain::Timestamp,
) -> Result<Issued, AppError> {
    let ca_key = ensure_ca(store, data_dir, now).await?;
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
