//! Client certificates (mTLS) for machines: isx's client CA in the data
//! directory issues certificates that authenticate as a member on every
//! API route (REST, TAXII, feeds, hashlookup) instead of an API key.
//!
//! The TLS listener asks every client for a certificate and lets it go on
//! without one (browsers and key users are unaffected); the handshake
//! proves the client holds the certificate's key. Which certificate is
//! worth what is decided per request: it must chain to the client CA,
//! be inside its validity, and be registered and unrevoked in the store
//! (by its SHA-256) — so a revocation takes effect at once on every node,
//! and a certificate of another CA, an expired or a revoked one gets 401.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::ServerError;

/// The client certificate a connection presented (DER), on each of its
/// requests.
#[derive(Debug, Clone)]
pub struct PeerCert(pub Arc<[u8]>);

/// SHA-256 of a certificate (DER), lowercase hex: its name in the store.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

fn tls_err(e: impl std::fmt::Display) -> ServerError {
    ServerError::Tls(e.to_string())
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ServerError + '_ {
    move |source| ServerError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The client CA's files in the data directory.
pub fn ca_paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    let dir = data_dir.join("tls");
    (dir.join("client-ca.pem"), dir.join("client-ca-key.pem"))
}

fn ca_params(now: OffsetDateTime) -> Result<CertificateParams, ServerError> {
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
    p.distinguished_name
        .push(DnType::CommonName, "isx client CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = now - Duration::hours(1);
    p.not_after = now + Duration::days(crate::tls::CA_DAYS);
    Ok(p)
}

/// The client CA's key, made (with its certificate) on first use.
fn ensure_ca(data_dir: &Path) -> Result<KeyPair, ServerError> {
    let (cert, key) = ca_paths(data_dir);
    if let Some(k) = fs::read_to_string(&key)
        .ok()
        .filter(|_| cert.exists())
        .and_then(|pem| KeyPair::from_pem(&pem).ok())
    {
        return Ok(k);
    }
    isx_app::files::private_dir(&data_dir.join("tls"))?;
    let k = KeyPair::generate().map_err(tls_err)?;
    let ca = ca_params(OffsetDateTime::now_utc())?
        .self_signed(&k)
        .map_err(tls_err)?;
    crate::tls::write_private(&key, k.serialize_pem().as_bytes())?;
    fs::write(&cert, ca.pem()).map_err(io_err(&cert))?;
    Ok(k)
}

/// A certificate issued for a member.
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
    pub record: isx_store::ClientCert,
}

/// Issues a client certificate for `member`, valid `days` from `now`,
/// signed by the client CA (made on first use). The caller stores
/// [`Issued::record`]; the key is never kept by isx.
pub fn issue(
    data_dir: &Path,
    member: &isx_domain::Member,
    days: i64,
    now: isx_domain::Timestamp,
) -> Result<Issued, ServerError> {
    let ca_key = ensure_ca(data_dir)?;
    let at = OffsetDateTime::from_unix_timestamp(now.as_secs()).map_err(tls_err)?;
    let issuer = ca_params(at)?.self_signed(&ca_key).map_err(tls_err)?;
    let mut serial = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut serial)
        .map_err(|_| ServerError::Tls("no randomness for a serial number".into()))?;
    serial[0] &= 0x7f;
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
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
    let key = KeyPair::generate().map_err(tls_err)?;
    let cert = p.signed_by(&key, &issuer, &ca_key).map_err(tls_err)?;
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

/// Checks a presented certificate's chain and validity against the
/// client CA, at `now`.
#[derive(Debug)]
pub struct ClientRoots {
    verifier: Arc<dyn ClientCertVerifier>,
}

impl ClientRoots {
    /// The client CA of `data_dir` (made on first use).
    pub fn load(data_dir: &Path) -> Result<ClientRoots, ServerError> {
        ensure_ca(data_dir)?;
        let (cert, _) = ca_paths(data_dir);
        let pem = fs::read(&cert).map_err(io_err(&cert))?;
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls_pemfile::certs(&mut pem.as_slice()) {
            roots.add(c.map_err(tls_err)?).map_err(tls_err)?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(tls_err)?;
        Ok(ClientRoots { verifier })
    }

    /// Whether `der` chains to the client CA and is valid at `now`.
    pub fn accepts(&self, der: &[u8], now: isx_domain::Timestamp) -> bool {
        let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            u64::try_from(now.as_secs()).unwrap_or(0),
        ));
        self.verifier
            .verify_client_cert(&CertificateDer::from(der.to_vec()), &[], at)
            .is_ok()
    }
}

/// The listener's side: ask for a certificate, take any (or none), and
/// check that the client holds its key; what it is worth is decided per
/// request ([`ClientRoots`], the store).
#[derive(Debug)]
pub struct AskForCertificate {
    algorithms: WebPkiSupportedAlgorithms,
    hints: Vec<DistinguishedName>,
}

impl AskForCertificate {
    pub fn new() -> Self {
        AskForCertificate {
            algorithms: rustls::crypto::ring::default_provider().signature_verification_algorithms,
            hints: Vec::new(),
        }
    }
}

impl Default for AskForCertificate {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientCertVerifier for AskForCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
