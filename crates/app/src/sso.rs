//! OpenID Connect single sign-on for the web application (isx is the
//! relying party): the authorization code flow with PKCE (RFC 7636),
//! discovery, and ID tokens checked against the provider's JWKS — the
//! signature, `iss`, `aud`/`azp`, `exp`/`iat`/`nbf` and the `nonce` this
//! sign-in sent. A claim's values map to a member and a role; a user is
//! found by its bound identity (`iss`, `sub`), or on a first sign-in by the
//! login claim, and is created only where the operator allowed it.
//!
//! The provider is reached through an [`SsoTransport`] the server
//! provides (this crate knows no HTTP client); the rest is pure.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use isx_domain::{Login, MemberId, Timestamp, User, UserRole};
use isx_formats::oidc::{self, Discovery, Jwk, TokenAnswer};
use isx_store::{SsoIdentity, SsoMapping, SsoPending, SsoProvider, Store};
use ring::signature as sig;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use crate::identity::{hash_secret, random_hex32};
use crate::{AppError, Result};

/// How long a sign-in may stay at the provider.
pub const PENDING_SECS: i64 = 600;
/// How far the provider's clock may be from isx's.
pub const LEEWAY_SECS: i64 = 60;
/// How long a provider's discovery document and keys are kept.
const CACHE_SECS: i64 = 300;
/// The least time between two JWKS fetches for an unknown key id (so
/// forged tokens cannot make isx hammer the provider).
const REFETCH_SECS: i64 = 30;
/// The password hash of a user created by single sign-on: no password
/// matches it (it is not a PHC string).
pub const NO_PASSWORD: &str = "!sso";

/// The algorithms isx accepts for ID tokens. `none` and the HMAC family
/// (keyed with the client secret) are refused.
pub const ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// HTTP to the provider, which the server provides (HTTPS with the
/// public roots plus the provider's own CA, no redirects, a time-out).
#[async_trait]
pub trait SsoTransport: Send + Sync {
    /// `GET url`: the body of a 200 answer.
    async fn get(&self, url: &str, ca_pem: Option<&str>) -> std::result::Result<Vec<u8>, String>;
    /// `POST url` with a form body and HTTP Basic client authentication:
    /// the status and body.
    async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic: (&str, &str),
        ca_pem: Option<&str>,
    ) -> std::result::Result<(u16, Vec<u8>), String>;
}

/// What a person is told when its provider account cannot be used for
/// the isx user it names (whatever the reason).
const CANNOT: &str = "Your account at the identity provider cannot be used to sign in to isx. Ask your organisation's isx administrator (it may need to create or re-link your isx user).";

/// Why a sign-in by a provider ended without a session. `Display` is what
/// the person is told; [`Refusal::outcome`] what the audit log records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("This sign-in link expired or was already used. Start again from the sign-in page.")]
    Expired,
    #[error("The identity provider refused the sign-in: {0}")]
    Provider(String),
    /// The detail is for the log; the person is told less.
    #[error("The identity provider could not be reached or answered wrongly. Try again later, or tell the isx operator.")]
    Unreachable(String),
    #[error("The identity provider's token was refused: {0}")]
    Token(#[from] TokenError),
    #[error("Your account at the identity provider is not mapped to any organisation in isx ({claim} is {values}). Ask the isx operator to map it.")]
    Unmapped { claim: String, values: String },
    #[error("Your account at the identity provider maps to more than one organisation in isx ({values}). Ask the isx operator to resolve the mapping.")]
    Ambiguous { values: String },
    #[error("The identity provider gave no usable login ({0}).")]
    NoLogin(String),
    // What follows tells the person one thing only, so the page reveals
    // nothing of other users or members; the audit log says which.
    #[error("{}", CANNOT)]
    NoUser,
    #[error("{}", CANNOT)]
    OtherMember,
    #[error("{}", CANNOT)]
    LinkedElsewhere,
    #[error("{}", CANNOT)]
    Disabled,
    #[error("{}", CANNOT)]
    RoleAbove,
    #[error("Your organisation requires a second factor and this isx user has none yet: sign in once with your password to set one up, then use your identity provider.")]
    FactorFirst,
}

impl Refusal {
    /// The audit log's outcome word.
    pub fn outcome(&self) -> &'static str {
        match self {
            Refusal::Expired => "expired",
            Refusal::Provider(_) => "provider-error",
            Refusal::Unreachable(_) => "unreachable",
            Refusal::Token(_) => "token-refused",
            Refusal::Unmapped { .. } => "unmapped",
            Refusal::Ambiguous { .. } => "ambiguous",
            Refusal::NoLogin(_) => "no-login",
            Refusal::NoUser => "no-user",
            Refusal::OtherMember => "other-member",
            Refusal::LinkedElsewhere => "linked-elsewhere",
            Refusal::Disabled => "disabled",
            Refusal::RoleAbove => "role-above-mapping",
            Refusal::FactorFirst => "factor-first",
        }
    }
}

/// Why an ID token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("it is not a signed JWT ({0})")]
    Malformed(String),
    #[error("its algorithm {0} is not accepted")]
    Algorithm(String),
    #[error("it names extensions isx does not understand (crit)")]
    Critical,
    #[error("no key of the provider matches it (kid {0})")]
    NoKey(String),
    #[error("its signature does not verify")]
    Signature,
    #[error("it was issued by {0}, not the configured issuer")]
    Issuer(String),
    #[error("it is meant for another client (aud/azp)")]
    Audience,
    #[error("it expired")]
    Expired,
    #[error("it is not valid yet (iat/nbf in the future)")]
    NotYetValid,
    #[error("its nonce is not this sign-in's")]
    Nonce,
    #[error("it names no subject")]
    NoSubject,
}

/// What an ID token must match.
#[derive(Debug, Clone)]
pub struct Expect<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub now: Timestamp,
}

fn b64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Verifies `signature` over `input` with `key` for `alg`.
fn verify(alg: &str, key: &Jwk, input: &[u8], signature: &[u8]) -> bool {
    if key.alg.as_deref().is_some_and(|a| a != alg)
        || key.usage.as_deref().is_some_and(|u| u != "sig")
    {
        return false;
    }
    let rsa = |params: &'static sig::RsaParameters| {
        let (Some(n), Some(e)) = (
            key.n.as_deref().and_then(b64),
            key.e.as_deref().and_then(b64),
        ) else {
            return false;
        };
        key.kty == "RSA"
            && sig::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(params, input, signature)
                .is_ok()
    };
    let ec = |crv: &str, len: usize, alg: &'static sig::EcdsaVerificationAlgorithm| {
        let (Some(x), Some(y)) = (
            key.x.as_deref().and_then(b64),
            key.y.as_deref().and_then(b64),
        ) else {
            return false;
        };
        if key.kty != "EC" || key.crv.as_deref() != Some(crv) || x.len() != len || y.len() != len {
            return false;
        }
        let mut point = Vec::with_capacity(1 + 2 * len);
        point.push(4);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        sig::UnparsedPublicKey::new(alg, point)
            .verify(input, signature)
            .is_ok()
    };
    match alg {
        "RS256" => rsa(&sig::RSA_PKCS1_2048_8192_SHA256),
        "RS384" => rsa(&sig::RSA_PKCS1_2048_8192_SHA384),
        "RS512" => rsa(&sig::RSA_PKCS1_2048_8192_SHA512),
        "PS256" => rsa(&sig::RSA_PSS_2048_8192_SHA256),
        "PS384" => rsa(&sig::RSA_PSS_2048_8192_SHA384),
        "PS512" => rsa(&sig::RSA_PSS_2048_8192_SHA512),
        "ES256" => ec("P-256", 32, &sig::ECDSA_P256_SHA256_FIXED),
        "ES384" => ec("P-384", 48, &sig::ECDSA_P384_SHA384_FIXED),
        "EdDSA" => {
            key.kty == "OKP"
                && key.crv.as_deref() == Some("Ed25519")
                && key.x.as_deref().and_then(b64).is_some_and(|x| {
                    sig::UnparsedPublicKey::new(&sig::ED25519, x)
                        .verify(input, signature)
                        .is_ok()
                })
        }
        _ => false,
    }
}

fn family(alg: &str) -> &'static str {
    match alg.get(..2) {
        Some("RS" | "PS") => "RSA",
        Some("ES") => "EC",
        _ => "OKP",
    }
}

/// The keys of `keys` that may have signed a token with `kid` and `alg`:
/// the one with that id, or, for a token without one, every key of the
/// algorithm's type.
fn candidates<'k>(keys: &'k [Jwk], kid: Option<&str>, alg: &str) -> Vec<&'k Jwk> {
    keys.iter()
        .filter(|k| match kid {
            Some(id) => k.kid.as_deref() == Some(id),
            None => k.kty == family(alg),
        })
        .collect()
}

fn seconds(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    claims.get(name).and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
    })
}

/// Whether the token's signing key is unknown (a refetch of the JWKS may
/// find it: the provider rotated its keys).
fn key_unknown(token: &str, keys: &[Jwk]) -> bool {
    oidc::parse_jws(token)
        .map(|j| candidates(keys, j.header.kid.as_deref(), &j.header.alg).is_empty())
        .unwrap_or(false)
}

/// Checks an ID token (OpenID Connect Core §3.1.3.7) and returns its
/// claims.
pub fn validate_id_token(
    token: &str,
    keys: &[Jwk],
    expect: &Expect<'_>,
) -> std::result::Result<Map<String, Value>, TokenError> {
    let jws = oidc::parse_jws(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
    let alg = jws.header.alg.as_str();
    if !ALGORITHMS.contains(&alg) {
        return Err(TokenError::Algorithm(alg.chars().take(20).collect()));
    }
    if jws.header.crit.is_some() {
        return Err(TokenError::Critical);
    }
    let kid = jws.header.kid.as_deref();
    let found = candidates(keys, kid, alg);
    if found.is_empty() {
        return Err(TokenError::NoKey(
            kid.unwrap_or("none").chars().take(64).collect(),
        ));
    }
    if !found
        .iter()
        .any(|k| verify(alg, k, jws.signing_input.as_bytes(), &jws.signature))
    {
        return Err(TokenError::Signature);
    }
    let c = jws.claims;
    let iss = c.get("iss").and_then(Value::as_str).unwrap_or("");
    if iss != expect.issuer {
        return Err(TokenError::Issuer(iss.chars().take(200).collect()));
    }
    let audiences: Vec<&str> = match c.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let azp = c.get("azp").and_then(Value::as_str);
    if !audiences.contains(&expect.client_id)
        || azp.is_some_and(|a| a != expect.client_id)
        || (audiences.len() > 1 && azp.is_none())
    {
        return Err(TokenError::Audience);
    }
    let now = expect.now.as_secs();
    match seconds(&c, "exp") {
        Some(exp) if exp > now - LEEWAY_SECS => {}
        _ => return Err(TokenError::Expired),
    }
    let future = |name| seconds(&c, name).is_some_and(|t| t > now + LEEWAY_SECS);
    if future("iat") || future("nbf") || seconds(&c, "iat").is_none() {
        return Err(TokenError::NotYetValid);
    }
    let nonce = c.get("nonce").and_then(Value::as_str).unwrap_or("");
    if !bool::from(nonce.as_bytes().ct_eq(expect.nonce.as_bytes())) {
        return Err(TokenError::Nonce);
    }
    if c.get("sub")
        .and_then(Value::as_str)
        .is_none_or(|s| s.is_empty() || s.len() > 255)
    {
        return Err(TokenError::NoSubject);
    }
    Ok(c)
}

/// The strings at a claim path (`groups`, `realm_access.roles`): a string
/// claim is one value, an array its string items.
pub fn claim_values(claims: &Map<String, Value>, path: &str) -> Vec<String> {
    let mut parts = path.split('.');
    let mut at = parts.next().and_then(|p| claims.get(p));
    for p in parts {
        at = at.and_then(|v| v.get(p));
    }
    match at {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// How much a role may do, to compare them.
fn rank(r: UserRole) -> u8 {
    match r {
        UserRole::Admin => 3,
        UserRole::Staff => 2,
        UserRole::MemberAdmin => 1,
        UserRole::Member => 0,
    }
}

/// The member and role a provider's mapping grants for `values`: the
/// mapped values must all name one member; of several roles the one with
/// the most authority wins.
pub fn map_claims(
    provider: &SsoProvider,
    values: &[String],
) -> std::result::Result<(MemberId, UserRole), Refusal> {
    let hits: Vec<&SsoMapping> = provider
        .mappings
        .iter()
        .filter(|m| values.iter().any(|v| v == &m.value))
        .collect();
    let Some(first) = hits.first() else {
        let shown: Vec<String> = values.iter().take(10).map(|v| format!("{v:?}")).collect();
        return Err(Refusal::Unmapped {
            claim: provider.claim.clone(),
            values: if shown.is_empty() {
                "absent".into()
            } else {
                shown.join(", ")
            },
        });
    };
    if hits.iter().any(|m| m.member != first.member) {
        let shown: Vec<&str> = hits.iter().map(|m| m.value.as_str()).collect();
        return Err(Refusal::Ambiguous {
            values: shown.join(", "),
        });
    }
    let role = hits
        .iter()
        .map(|m| m.role)
        .max_by_key(|r| rank(*r))
        .unwrap_or(first.role);
    Ok((first.member, role))
}

/// A provider's discovery document and keys, as last read.
#[derive(Debug, Clone)]
struct Known {
    discovery: Discovery,
    keys: Vec<Jwk>,
    fetched_at: i64,
    keys_fetched_at: i64,
}

/// Discovery documents and keys per issuer, kept for a few minutes (each
/// node its own: nothing in it is a secret or a decision).
#[derive(Debug, Default)]
pub struct SsoCache(Mutex<HashMap<String, Known>>);

impl SsoCache {
    /// Keyed by the provider's name and issuer (two providers of one
    /// issuer may trust different CAs).
    fn key(p: &SsoProvider) -> String {
        format!("{}\n{}", p.name, p.issuer)
    }

    fn get(&self, p: &SsoProvider) -> Option<Known> {
        self.0
            .lock()
            .ok()
            .and_then(|m| m.get(&Self::key(p)).cloned())
    }

    fn put(&self, p: &SsoProvider, k: Known) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(Self::key(p), k);
        }
    }
}

async fn fetch_json<T>(
    http: &dyn SsoTransport,
    url: &str,
    ca: Option<&str>,
    parse: fn(&[u8]) -> std::result::Result<T, isx_formats::FormatError>,
) -> std::result::Result<T, Refusal> {
    let body = http
        .get(url, ca)
        .await
        .map_err(|e| Refusal::Unreachable(format!("{url}: {e}")))?;
    parse(&body).map_err(|e| Refusal::Unreachable(format!("{url}: {e}")))
}

/// The provider's discovery document and keys (from the cache if fresh;
/// `refresh_keys` reads the keys again if the last read is old enough).
async fn known(
    provider: &SsoProvider,
    http: &dyn SsoTransport,
    cache: &SsoCache,
    now: i64,
    refresh_keys: bool,
) -> std::result::Result<Known, Refusal> {
    let ca = provider.ca_pem.as_deref();
    if let Some(k) = cache.get(provider) {
        let fresh = now - k.fetched_at < CACHE_SECS;
        if fresh && !refresh_keys {
            return Ok(k);
        }
        if fresh && now - k.keys_fetched_at < REFETCH_SECS {
            return Ok(k);
        }
        if fresh {
            let keys = fetch_json(http, &k.discovery.jwks_uri, ca, oidc::parse_jwks).await?;
            let k = Known {
                keys,
                keys_fetched_at: now,
                ..k
            };
            cache.put(provider, k.clone());
            return Ok(k);
        }
    }
    let url = format!(
        "{}/.well-known/openid-configuration",
        provider.issuer.trim_end_matches('/')
    );
    let discovery = fetch_json(http, &url, ca, oidc::parse_discovery).await?;
    if discovery.issuer != provider.issuer {
        return Err(Refusal::Unreachable(format!(
            "its discovery document names the issuer {:?}, not {:?}",
            discovery.issuer, provider.issuer
        )));
    }
    if !discovery.code_challenge_methods_supported.is_empty()
        && !discovery
            .code_challenge_methods_supported
            .iter()
            .any(|m| m == "S256")
    {
        return Err(Refusal::Unreachable(
            "it does not support PKCE with S256".into(),
        ));
    }
    for (what, url) in [
        ("authorization_endpoint", &discovery.authorization_endpoint),
        ("token_endpoint", &discovery.token_endpoint),
        ("jwks_uri", &discovery.jwks_uri),
    ] {
        check_endpoint(url).map_err(|e| Refusal::Unreachable(format!("{what}: {e}")))?;
    }
    let keys = fetch_json(http, &discovery.jwks_uri, ca, oidc::parse_jwks).await?;
    let k = Known {
        discovery,
        keys,
        fetched_at: now,
        keys_fetched_at: now,
    };
    cache.put(provider, k.clone());
    Ok(k)
}

/// A provider URL must be HTTPS (plain HTTP only on a loopback address,
/// for a provider on the same machine).
pub fn check_endpoint(text: &str) -> std::result::Result<url::Url, String> {
    let u = url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    let loopback = match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => return Err(format!("{text:?} has no host")),
    };
    match u.scheme() {
        "https" => Ok(u),
        "http" if loopback => Ok(u),
        _ => Err(format!(
            "{text:?} must be an https:// URL (http:// only on a loopback address)"
        )),
    }
}

fn pkce_challenge(verifier: &str) -> String {
    use sha2::Digest;
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// The redirect URI of `provider` at this instance.
pub fn redirect_uri(public_url: &str, provider: &str) -> String {
    format!("{public_url}/login/sso/{provider}/callback")
}

/// A sign-in sent to the provider: where the browser goes, and the token
/// its cookie keeps until it comes back.
#[derive(Debug, Clone)]
pub struct Started {
    pub authorize_url: String,
    pub browser_token: String,
}

/// Starts a sign-in at `provider_name`.
pub async fn begin(
    store: &dyn Store,
    http: &dyn SsoTransport,
    cache: &SsoCache,
    provider_name: &str,
    public_url: &str,
    now: Timestamp,
) -> Result<std::result::Result<Started, Refusal>> {
    let provider = store
        .sso_provider(provider_name)
        .await?
        .ok_or_else(|| AppError::not_found(format!("sign-in provider {provider_name}")))?;
    let k = match known(&provider, http, cache, now.as_secs(), false).await {
        Ok(k) => k,
        Err(r) => return Ok(Err(r)),
    };
    store.delete_expired_sso_pending(now).await?;
    let browser_token = random_hex32();
    let state = random_hex32();
    let nonce = random_hex32();
    let verifier = format!("{}{}", random_hex32(), random_hex32());
    let redirect = redirect_uri(public_url, &provider.name);
    store
        .insert_sso_pending(&SsoPending {
            token_hash: hash_secret(&browser_token),
            provider: provider.name.clone(),
            state: state.clone(),
            nonce: nonce.clone(),
            verifier: verifier.clone(),
            redirect_uri: redirect.clone(),
            created_at: now,
            expires_at: now.add_secs(PENDING_SECS),
        })
        .await?;
    let mut url = check_endpoint(&k.discovery.authorization_endpoint).map_err(AppError::invalid)?;
    let scope = std::iter::once("openid")
        .chain(
            provider
                .scopes
                .iter()
                .map(String::as_str)
                .filter(|s| *s != "openid"),
        )
        .collect::<Vec<_>>()
        .join(" ");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &provider.client_id)
        .append_pair("redirect_uri", &redirect)
        .append_pair("scope", &scope)
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &pkce_challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    Ok(Ok(Started {
        authorize_url: url.into(),
        browser_token,
    }))
}

/// What the provider sent back to the callback.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Callback {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
    /// RFC 9207: the issuer of the answer, where the provider names it.
    #[serde(default)]
    pub iss: Option<String>,
}

/// A finished sign-in: the user, and what happened on the way (audit).
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub provider: String,
    pub subject: String,
    /// `created` (just-in-time), `linked` (first sign-in of an existing
    /// user) or `ok`. The mapping's role is the role of a user it creates;
    /// an existing user keeps its own, if the mapping grants at least that.
    pub how: &'static str,
    /// The identity to bind (first sign-in): bound by [`bind`] once any
    /// second factor is proven, not before.
    pub link: Option<SsoIdentity>,
}

/// Binds a first sign-in's identity; `false` if meanwhile the identity
/// or the user was bound otherwise (the sign-in is then refused).
pub async fn bind(store: &dyn Store, link: &SsoIdentity) -> Result<bool> {
    Ok(store.link_sso_identity(link).await?)
}

/// The provider and identity a refused sign-in was about, where known.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    pub provider: Option<String>,
    pub login: Option<String>,
    pub member: Option<MemberId>,
}

/// Finishes a sign-in: the callback's state must be the one this browser
/// started (its cookie's `browser_token`), the code is exchanged with the
/// PKCE verifier, the ID token checked, and the identity mapped to a user.
pub async fn finish(
    store: &dyn Store,
    http: &dyn SsoTransport,
    cache: &SsoCache,
    provider_name: &str,
    browser_token: &str,
    cb: &Callback,
    now: Timestamp,
) -> Result<std::result::Result<SignedIn, (Refusal, Attempt)>> {
    let mut attempt = Attempt {
        provider: Some(provider_name.chars().take(64).collect()),
        ..Attempt::default()
    };
    macro_rules! refuse {
        ($r:expr) => {
            return Ok(Err(($r, attempt)))
        };
    }
    let pending = if browser_token.is_empty() {
        None
    } else {
        store
            .take_sso_pending(&hash_secret(browser_token), now)
            .await?
    };
    let state_ok = |p: &SsoPending| {
        cb.state
            .as_deref()
            .is_some_and(|s| bool::from(s.as_bytes().ct_eq(p.state.as_bytes())))
    };
    let Some(pending) = pending.filter(|p| p.provider == provider_name && state_ok(p)) else {
        refuse!(Refusal::Expired);
    };
    let Some(provider) = store.sso_provider(&pending.provider).await? else {
        refuse!(Refusal::Expired);
    };
    if let Some(iss) = &cb.iss {
        if iss != &provider.issuer {
            refuse!(Refusal::Token(TokenError::Issuer(
                iss.chars().take(200).collect()
            )));
        }
    }
    if let Some(e) = &cb.error {
        let d = cb.error_description.as_deref().unwrap_or("");
        refuse!(Refusal::Provider(
            format!("{e} {d}").trim().chars().take(300).collect()
        ));
    }
    let Some(code) = cb
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 4096)
    else {
        refuse!(Refusal::Provider("no authorization code".into()));
    };
    let k = match known(&provider, http, cache, now.as_secs(), false).await {
        Ok(k) => k,
        Err(r) => refuse!(r),
    };
    let ca = provider.ca_pem.as_deref();
    let answer = http
        .post_form(
            &k.discovery.token_endpoint,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &pending.redirect_uri),
                ("code_verifier", &pending.verifier),
            ],
            (&provider.client_id, &provider.client_secret),
            ca,
        )
        .await;
    let (status, body) = match answer {
        Ok(a) => a,
        Err(e) => refuse!(Refusal::Unreachable(format!("token endpoint: {e}"))),
    };
    let id_token = match oidc::parse_token_answer(&body) {
        Ok(TokenAnswer::Tokens {
            id_token,
            token_type,
        }) if status == 200 && token_type.eq_ignore_ascii_case("bearer") => id_token,
        Ok(TokenAnswer::Error { error, description }) => refuse!(Refusal::Provider(
            format!("{error} {}", description.unwrap_or_default())
                .trim()
                .chars()
                .take(300)
                .collect()
        )),
        Ok(_) => refuse!(Refusal::Unreachable(format!(
            "token endpoint answered {status}"
        ))),
        Err(e) => refuse!(Refusal::Unreachable(format!("token endpoint: {e}"))),
    };
    let mut keys = k.keys;
    if key_unknown(&id_token, &keys) {
        if let Ok(again) = known(&provider, http, cache, now.as_secs(), true).await {
            keys = again.keys;
        }
    }
    let expect = Expect {
        issuer: &provider.issuer,
        client_id: &provider.client_id,
        nonce: &pending.nonce,
        now,
    };
    let claims = match validate_id_token(&id_token, &keys, &expect) {
        Ok(c) => c,
        Err(e) => refuse!(Refusal::Token(e)),
    };
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let login_text = claim_values(&claims, &provider.login_claim)
        .into_iter()
        .next();
    attempt.login = login_text.clone();
    let (member, role) = match map_claims(&provider, &claim_values(&claims, &provider.claim)) {
        Ok(m) => m,
        Err(r) => refuse!(r),
    };
    attempt.member = Some(member);
    let linked = store.sso_identity(&provider.issuer, &subject).await?;
    let (user, how, link) = if let Some(link) = linked {
        let Some(user) = store.user(link.user).await? else {
            refuse!(Refusal::Disabled);
        };
        (user, "ok", None)
    } else {
        let raw = login_text.as_deref().unwrap_or("");
        // Exactly a login as isx writes it: no trimming or case folding
        // turns "Admin " into someone's "admin".
        let Some(login) = Login::new(raw).ok().filter(|l| l.as_str() == raw) else {
            refuse!(Refusal::NoLogin(format!(
                "the claim {} is {:?}",
                provider.login_claim,
                raw.chars().take(64).collect::<String>()
            )));
        };
        if provider.login_claim == "email"
            && claims.get("email_verified").and_then(Value::as_bool) != Some(true)
        {
            refuse!(Refusal::NoLogin(
                "the provider has not verified the email address".into()
            ));
        }
        let (user, how) = match store.user_by_login(&login).await? {
            Some(u) => (u, "linked"),
            None if provider.create_users => {
                let m = store.member(member).await?;
                if m.as_ref()
                    .is_none_or(|m| crate::admin::check_role_fits(m, role, "users").is_err())
                {
                    refuse!(Refusal::Unmapped {
                        claim: provider.claim.clone(),
                        values: "mapped to a role its organisation cannot hold".into(),
                    });
                }
                let created = store
                    .insert_user(
                        &isx_domain::NewUser {
                            login: login.clone(),
                            member,
                            role,
                            password_hash: NO_PASSWORD.into(),
                        },
                        now,
                    )
                    .await;
                match created {
                    Ok(u) => (u, "created"),
                    // Two first sign-ins at once: the other one created it.
                    Err(_) => match store.user_by_login(&login).await? {
                        Some(u) => (u, "linked"),
                        None => refuse!(Refusal::NoUser),
                    },
                }
            }
            None => refuse!(Refusal::NoUser),
        };
        let link = SsoIdentity {
            issuer: provider.issuer.clone(),
            subject: subject.clone(),
            provider: provider.name.clone(),
            user: user.id,
            linked_at: now,
        };
        (user, how, Some(link))
    };
    if user.member != member {
        refuse!(Refusal::OtherMember);
    }
    if user.is_disabled() {
        refuse!(Refusal::Disabled);
    }
    // One identity per user: a second provider, or another account with a
    // recycled login, binds only after an administrator unbinds the first
    // (`isx sso unlink`).
    if link.is_some() && !store.sso_identities_of(user.id).await?.is_empty() {
        refuse!(Refusal::LinkedElsewhere);
    }
    // The mapping bounds the role: an account the provider maps as a
    // member does not sign in as a more powerful isx user.
    if rank(user.role) > rank(role) {
        refuse!(Refusal::RoleAbove);
    }
    Ok(Ok(SignedIn {
        user,
        provider: provider.name,
        subject,
        how,
        link,
    }))
}

/// What an operator asks for when adding a provider (`isx sso add`).
#[derive(Debug, Clone)]
pub struct ProviderSpec {
    pub name: String,
    pub display_name: Option<String>,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
    pub claim: String,
    pub login_claim: String,
    /// `VALUE=MEMBER[:ROLE]`, the member already resolved.
    pub mappings: Vec<SsoMapping>,
    pub create_users: bool,
    pub ca_pem: Option<String>,
}

fn claim_path_ok(p: &str) -> bool {
    (1..=100).contains(&p.len())
        && p.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':' | b'/'))
        })
}

/// Checks a provider's settings and stores it (a provider of that name is
/// replaced; its users stay linked).
pub async fn configure(
    store: &dyn Store,
    now: Timestamp,
    spec: ProviderSpec,
) -> Result<SsoProvider> {
    let name = spec.name.trim().to_ascii_lowercase();
    if !(1..=32).contains(&name.len())
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(AppError::invalid(
            "a provider's name is 1 to 32 letters, digits or '-' (it is part of the sign-in address)",
        ));
    }
    let issuer = spec.issuer.trim().to_owned();
    check_endpoint(&issuer).map_err(|e| AppError::invalid(format!("--issuer: {e}")))?;
    let display_name = spec
        .display_name
        .unwrap_or_else(|| format!("Sign in with {name}"));
    if display_name.trim().is_empty()
        || display_name.chars().count() > 100
        || isx_domain::label_problem(&display_name).is_some()
    {
        return Err(AppError::invalid(
            "the display name is 1 to 100 printable characters",
        ));
    }
    let printable =
        |t: &str| (1..=255).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_graphic());
    if !printable(&spec.client_id) {
        return Err(AppError::invalid(
            "the client id is 1 to 255 printable ASCII characters",
        ));
    }
    if !printable(&spec.client_secret) {
        return Err(AppError::invalid(
            "the client secret is 1 to 255 printable ASCII characters",
        ));
    }
    for c in [&spec.claim, &spec.login_claim] {
        if !claim_path_ok(c) {
            return Err(AppError::invalid(format!(
                "{c:?} is not a claim name (letters, digits, '_', '-', ':', '/', with '.' between the names of a path)"
            )));
        }
    }
    for s in &spec.scopes {
        if !printable(s) || s.contains('"') || s.contains('\\') {
            return Err(AppError::invalid(format!("{s:?} is not a scope")));
        }
    }
    if spec.mappings.is_empty() {
        return Err(AppError::invalid(
            "map at least one claim value to a member (--map VALUE=MEMBER[:ROLE])",
        ));
    }
    for m in &spec.mappings {
        if m.value.is_empty() || m.value.len() > 255 {
            return Err(AppError::invalid("a mapped claim value is 1 to 255 bytes"));
        }
        let member = store
            .member(m.member)
            .await?
            .ok_or_else(|| AppError::not_found(format!("member {}", m.member)))?;
        crate::admin::check_role_fits(&member, m.role, "users mapped by single sign-on")?;
    }
    if let Some(pem) = &spec.ca_pem {
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(AppError::invalid("--ca-file holds no PEM certificate"));
        }
    }
    let created_at = store
        .sso_provider(&name)
        .await?
        .map_or(now, |p| p.created_at);
    let p = SsoProvider {
        name,
        display_name,
        issuer,
        client_id: spec.client_id,
        client_secret: spec.client_secret,
        scopes: spec.scopes,
        claim: spec.claim,
        login_claim: spec.login_claim,
        mappings: spec.mappings,
        create_users: spec.create_users,
        ca_pem: spec.ca_pem,
        created_at,
    };
    store.put_sso_provider(&p).await?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair};

    fn enc(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    struct Signer {
        pair: EcdsaKeyPair,
        rng: SystemRandom,
    }

    impl Signer {
        fn new() -> Signer {
            let rng = SystemRandom::new();
            let pkcs8 =
                EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
            let pair = EcdsaKeyPair::from_pkcs8(
                &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
                pkcs8.as_ref(),
                &rng,
            )
            .unwrap();
            Signer { pair, rng }
        }

        fn jwk(&self, kid: &str) -> Jwk {
            let p = self.pair.public_key().as_ref();
            Jwk {
                kty: "EC".into(),
                kid: Some(kid.into()),
                alg: Some("ES256".into()),
                usage: Some("sig".into()),
                n: None,
                e: None,
                crv: Some("P-256".into()),
                x: Some(URL_SAFE_NO_PAD.encode(&p[1..33])),
                y: Some(URL_SAFE_NO_PAD.encode(&p[33..65])),
            }
        }

        fn sign(&self, header: &Value, claims: &Value) -> String {
            let input = format!("{}.{}", enc(header), enc(claims));
            let s = self.pair.sign(&self.rng, input.as_bytes()).unwrap();
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(s.as_ref()))
        }
    }

    const NOW: i64 = 1_900_000_000;

    fn claims() -> Value {
        serde_json::json!({
            "iss": "https://idp.example", "aud": "isx", "sub": "u-1",
            "exp": NOW + 300, "iat": NOW, "nonce": "n-1",
            "groups": ["cert-team", "other"], "realm_access": {"roles": ["x"]}
        })
    }

    fn expect() -> Expect<'static> {
        Expect {
            issuer: "https://idp.example",
            client_id: "isx",
            nonce: "n-1",
            now: Timestamp::from_secs(NOW),
        }
    }

    fn header() -> Value {
        serde_json::json!({"alg": "ES256", "kid": "k1", "typ": "JWT"})
    }

    #[test]
    fn a_good_token_is_accepted() {
        let s = Signer::new();
        let t = s.sign(&header(), &claims());
        let c = validate_id_token(&t, &[s.jwk("k1")], &expect()).unwrap();
        assert_eq!(c["sub"], "u-1");
        assert_eq!(claim_values(&c, "groups"), vec!["cert-team", "other"]);
        assert_eq!(claim_values(&c, "realm_access.roles"), vec!["x"]);
        assert_eq!(claim_values(&c, "sub"), vec!["u-1"]);
        assert!(claim_values(&c, "absent.path").is_empty());
    }

    #[test]
    fn every_forgery_and_mismatch_is_refused() {
        let s = Signer::new();
        let other = Signer::new();
        let keys = [s.jwk("k1")];
        let with = |f: &dyn Fn(&mut Value)| {
            let mut c = claims();
            f(&mut c);
            s.sign(&header(), &c)
        };
        let good = s.sign(&header(), &claims());
        let (h, rest) = good.split_once('.').unwrap();
        let (_, sig_part) = rest.split_once('.').unwrap();
        let mut tampered = claims();
        tampered["sub"] = "admin".into();
        let cases: Vec<(String, TokenError)> = vec![
            // The claims changed after signing.
            (
                format!("{h}.{}.{sig_part}", enc(&tampered)),
                TokenError::Signature,
            ),
            // Signed by a key the provider does not publish, under its kid.
            (other.sign(&header(), &claims()), TokenError::Signature),
            (
                s.sign(&serde_json::json!({"alg": "ES256", "kid": "k9"}), &claims()),
                TokenError::NoKey("k9".into()),
            ),
            (
                format!(
                    "{}.{}.",
                    enc(&serde_json::json!({"alg": "none"})),
                    enc(&claims())
                ),
                TokenError::Algorithm("none".into()),
            ),
            (
                s.sign(&serde_json::json!({"alg": "HS256", "kid": "k1"}), &claims()),
                TokenError::Algorithm("HS256".into()),
            ),
            (
                s.sign(
                    &serde_json::json!({"alg": "ES256", "kid": "k1", "crit": ["exp"]}),
                    &claims(),
                ),
                TokenError::Critical,
            ),
            (
                with(&|c| c["iss"] = "https://evil.example".into()),
                TokenError::Issuer("https://evil.example".into()),
            ),
            (
                with(&|c| c["aud"] = "other-client".into()),
                TokenError::Audience,
            ),
            (
                with(&|c| c["aud"] = serde_json::json!(["isx", "other"])),
                TokenError::Audience,
            ),
            (
                with(&|c| {
                    c["aud"] = serde_json::json!(["isx", "other"]);
                    c["azp"] = "other".into();
                }),
                TokenError::Audience,
            ),
            (
                with(&|c| c["exp"] = (NOW - LEEWAY_SECS - 1).into()),
                TokenError::Expired,
            ),
            (
                with(&|c| {
                    c.as_object_mut().unwrap().remove("exp");
                }),
                TokenError::Expired,
            ),
            (
                with(&|c| c["iat"] = (NOW + LEEWAY_SECS + 5).into()),
                TokenError::NotYetValid,
            ),
            (
                with(&|c| c["nbf"] = (NOW + 3600).into()),
                TokenError::NotYetValid,
            ),
            (with(&|c| c["nonce"] = "n-2".into()), TokenError::Nonce),
            (
                with(&|c| {
                    c.as_object_mut().unwrap().remove("nonce");
                }),
                TokenError::Nonce,
            ),
            (with(&|c| c["sub"] = "".into()), TokenError::NoSubject),
        ];
        for (token, want) in cases {
            assert_eq!(
                validate_id_token(&token, &keys, &expect()),
                Err(want.clone()),
                "{want}"
            );
        }
        // Several audiences with this client as the authorized party pass.
        let ok = with(&|c| {
            c["aud"] = serde_json::json!(["isx", "other"]);
            c["azp"] = "isx".into();
        });
        assert!(validate_id_token(&ok, &keys, &expect()).is_ok());
        // A key marked for encryption, or for another algorithm, is not used.
        let mut enc_key = s.jwk("k1");
        enc_key.usage = Some("enc".into());
        assert_eq!(
            validate_id_token(&good, &[enc_key], &expect()),
            Err(TokenError::Signature)
        );
        let mut rs_key = s.jwk("k1");
        rs_key.alg = Some("RS256".into());
        assert_eq!(
            validate_id_token(&good, &[rs_key], &expect()),
            Err(TokenError::Signature)
        );
    }

    #[test]
    fn ed25519_tokens_and_tokens_without_a_key_id() {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let input = format!(
            "{}.{}",
            enc(&serde_json::json!({"alg": "EdDSA"})),
            enc(&claims())
        );
        let token = format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(pair.sign(input.as_bytes()).as_ref())
        );
        let key = Jwk {
            kty: "OKP".into(),
            kid: None,
            alg: None,
            usage: None,
            n: None,
            e: None,
            crv: Some("Ed25519".into()),
            x: Some(URL_SAFE_NO_PAD.encode(pair.public_key().as_ref())),
            y: None,
        };
        assert!(validate_id_token(&token, &[Signer::new().jwk("k1"), key], &expect()).is_ok());
    }

    fn provider(mappings: Vec<SsoMapping>) -> SsoProvider {
        SsoProvider {
            name: "idp".into(),
            display_name: "IdP".into(),
            issuer: "https://idp.example".into(),
            client_id: "isx".into(),
            client_secret: "s".into(),
            scopes: vec![],
            claim: "groups".into(),
            login_claim: "preferred_username".into(),
            mappings,
            create_users: false,
            ca_pem: None,
            created_at: Timestamp::from_secs(NOW),
        }
    }

    fn m(value: &str, member: i64, role: UserRole) -> SsoMapping {
        SsoMapping {
            value: value.into(),
            member: MemberId(member),
            role,
        }
    }

    #[test]
    fn claims_map_to_one_member_with_its_strongest_role() {
        let p = provider(vec![
            m("team", 7, UserRole::Member),
            m("team-admins", 7, UserRole::MemberAdmin),
            m("other-org", 8, UserRole::Member),
        ]);
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            map_claims(&p, &v(&["team", "x"])),
            Ok((MemberId(7), UserRole::Member))
        );
        assert_eq!(
            map_claims(&p, &v(&["team-admins", "team"])),
            Ok((MemberId(7), UserRole::MemberAdmin))
        );
        assert!(matches!(
            map_claims(&p, &v(&["team", "other-org"])),
            Err(Refusal::Ambiguous { .. })
        ));
        assert!(matches!(
            map_claims(&p, &v(&["nobody"])),
            Err(Refusal::Unmapped { values, .. }) if values == "\"nobody\""
        ));
        assert!(matches!(
            map_claims(&p, &[]),
            Err(Refusal::Unmapped { values, .. }) if values == "absent"
        ));
    }

    #[test]
    fn endpoints_are_https_or_loopback_http() {
        assert!(check_endpoint("https://idp.example/auth").is_ok());
        assert!(check_endpoint("http://127.0.0.1:9000/auth").is_ok());
        assert!(check_endpoint("http://localhost/auth").is_ok());
        assert!(check_endpoint("http://idp.example/auth").is_err());
        assert!(check_endpoint("javascript:alert(1)").is_err());
        assert!(check_endpoint("not a url").is_err());
    }

    #[test]
    fn the_pkce_challenge_is_rfc_7636s() {
        // RFC 7636 appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
