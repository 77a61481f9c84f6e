//! Client certificates (mTLS) for machines: certificates of isx's client
//! CA (`isx_app::client_ca`) authenticate as a member on every API route
//! (REST, TAXII, feeds, hashlookup, the botnet stream) instead of an API
//! key.
//!
//! The TLS listener asks every client for a certificate and lets it go on
//! without one (browsers and key users are unaffected); the handshake
//! proves the client holds the certificate's key. Which certificate is
//! worth what is decided per request: it must chain to the client CA,
//! be inside its validity, and be registered and unrevoked in the store
//! (by its SHA-256) — so a revocation takes effect at once on every node,
//! and a certificate of another CA, an expired or a revoked one gets 401.

use std::path::Path;
use std::sync::Arc;

use crate::ServerError;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// The client certificate a connection presented (DER), on each of its
/// requests.
#[derive(Debug, Clone)]
pub struct PeerCert(pub Arc<[u8]>);

/// SHA-256 of a certificate (DER): see [`isx_app::client_ca::fingerprint`].
pub fn fingerprint(der: &[u8]) -> String {
    isx_app::client_ca::fingerprint(der)
}

fn tls_err(e: impl std::fmt::Display) -> ServerError {
    ServerError::Tls(e.to_string())
}

/// How long a node trusts its last read of the CAs: a CA trusted or
/// untrusted with `isx cert trust|untrust` counts on every node within
/// this time.
pub const REFRESH_SECS: i64 = 30;

/// Checks a presented certificate's chain and validity against the
/// trusted CAs (isx's own and the operator's, read from the store), at
/// `now`.
pub struct ClientRoots {
    current: std::sync::RwLock<(Arc<dyn ClientCertVerifier>, i64)>,
    /// The CAs' names, as the listener's certificate request names them
    /// (browsers then offer only certificates they issued); read once, at
    /// start.
    hints: Vec<DistinguishedName>,
}

impl std::fmt::Debug for ClientRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRoots").finish_non_exhaustive()
    }
}

async fn verifier(
    store: &dyn isx_store::Store,
) -> Result<(Arc<dyn ClientCertVerifier>, Vec<DistinguishedName>), ServerError> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in store.client_cas().await? {
        for c in rustls_pemfile::certs(&mut ca.cert_pem.as_bytes()) {
            roots.add(c.map_err(tls_err)?).map_err(tls_err)?;
        }
    }
    let hints = roots.subjects();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let v = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(tls_err)?;
    Ok((v, hints))
}

impl ClientRoots {
    /// The CAs in the store: isx's own (made on first use, or imported
    /// from `data_dir`) and the operator's.
    pub async fn load(
        store: &dyn isx_store::Store,
        data_dir: &Path,
        now: isx_domain::Timestamp,
    ) -> Result<ClientRoots, ServerError> {
        isx_app::client_ca::ensure_ca(store, data_dir, now).await?;
        let (v, hints) = verifier(store).await?;
        Ok(ClientRoots {
            current: std::sync::RwLock::new((v, now.as_secs())),
            hints,
        })
    }

    /// The names a certificate request hints at.
    pub fn hints(&self) -> Vec<DistinguishedName> {
        self.hints.clone()
    }

    /// Reads the CAs again if the last read is older than
    /// [`REFRESH_SECS`]; a failed read keeps the last.
    pub async fn refresh(&self, store: &dyn isx_store::Store, now: isx_domain::Timestamp) {
        let stale = self
            .current
            .read()
            .map(|c| now.as_secs() - c.1 >= REFRESH_SECS)
            .unwrap_or(true);
        if !stale {
            return;
        }
        match verifier(store).await {
            Ok((v, _)) => {
                if let Ok(mut c) = self.current.write() {
                    *c = (v, now.as_secs());
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the trusted client CAs; keeping the last")
            }
        }
    }

    /// Whether `der` chains to a trusted CA and is valid at `now`.
    pub fn accepts(&self, der: &[u8], now: isx_domain::Timestamp) -> bool {
        let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            u64::try_from(now.as_secs()).unwrap_or(0),
        ));
        let Ok(current) = self.current.read() else {
            return false;
        };
        current
            .0
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
    /// Asks naming `hints` (the client CA's name).
    pub fn new(hints: Vec<DistinguishedName>) -> Self {
        AskForCertificate {
            algorithms: rustls::crypto::ring::default_provider().signature_verification_algorithms,
            hints,
        }
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
