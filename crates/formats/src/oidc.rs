//! OpenID Connect's wire shapes, as a relying party reads them: the
//! provider's discovery document, its key set (JWKS), the token endpoint's
//! answer and a compact JWS (the ID token) split into its parts. Parsing
//! only: signatures are checked and claims judged by `isx_app::sso`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::FormatError;

/// The largest document isx reads from a provider (discovery, JWKS,
/// token answer) or accepts as an ID token.
pub const MAX_BYTES: usize = 256 * 1024;

/// What isx needs of `/.well-known/openid-configuration` (OpenID Connect
/// Discovery 1.0 §3).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

/// One key of a JWK set (RFC 7517): RSA (`n`, `e`), EC (`crv`, `x`, `y`)
/// or OKP (`crv`, `x`) public keys; the members stay base64url text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(default, rename = "use")]
    pub usage: Option<String>,
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Value>,
}

/// The token endpoint's answer (RFC 6749 §5.1 with OpenID Connect's
/// `id_token`), or its error (§5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenAnswer {
    Tokens {
        id_token: String,
        token_type: String,
    },
    Error {
        error: String,
        description: Option<String>,
    },
}

/// The protected header of a JWS.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct JwsHeader {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub typ: Option<String>,
    /// Extensions the signer says must be understood (RFC 7515 §4.1.11):
    /// isx understands none, so a token naming any is refused.
    #[serde(default)]
    pub crit: Option<Vec<String>>,
}

/// A compact JWS split into its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Jws {
    pub header: JwsHeader,
    /// The payload's claims: a JSON object.
    pub claims: Map<String, Value>,
    /// `BASE64URL(header) "." BASE64URL(payload)`, what the signature signs.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

fn too_big(what: &str, len: usize) -> Result<(), FormatError> {
    if len > MAX_BYTES {
        return Err(FormatError::value(
            "",
            format!("the {what} is {len} bytes, more than the {MAX_BYTES} isx reads"),
        ));
    }
    Ok(())
}

fn json<T: for<'de> Deserialize<'de>>(what: &str, bytes: &[u8]) -> Result<T, FormatError> {
    too_big(what, bytes.len())?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let pointer = crate::cve5::pointer(e.path());
        FormatError::value(pointer, format!("{what}: {}", e.inner()))
    })
}

/// Reads a discovery document.
pub fn parse_discovery(bytes: &[u8]) -> Result<Discovery, FormatError> {
    json("discovery document", bytes)
}

/// Reads a JWK set, keeping the keys isx can read; a key of an unknown
/// shape is skipped (RFC 7517 §5: "ignore JWKs ... that use unknown
/// "kty" values"), not an error.
pub fn parse_jwks(bytes: &[u8]) -> Result<Vec<Jwk>, FormatError> {
    let set: JwkSet = json("JWK set", bytes)?;
    Ok(set
        .keys
        .into_iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k).ok())
        .collect())
}

/// Reads the token endpoint's answer.
pub fn parse_token_answer(bytes: &[u8]) -> Result<TokenAnswer, FormatError> {
    let v: Map<String, Value> = json("token answer", bytes)?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    if let Some(error) = text("error") {
        return Ok(TokenAnswer::Error {
            error,
            description: text("error_description"),
        });
    }
    match (text("id_token"), text("token_type")) {
        (Some(id_token), Some(token_type)) => Ok(TokenAnswer::Tokens {
            id_token,
            token_type,
        }),
        (None, _) => Err(FormatError::value(
            "/id_token",
            "the token answer has no id_token (is the openid scope allowed for this client?)",
        )),
        (_, None) => Err(FormatError::value(
            "/token_type",
            "the token answer has no token_type",
        )),
    }
}

fn b64(part: &str, what: &str) -> Result<Vec<u8>, FormatError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|e| FormatError::value("", format!("the token's {what} is not base64url: {e}")))
}

/// Splits a compact JWS (`header.payload.signature`). A JWE (five parts)
/// or an unsecured JWS is refused here by shape; its algorithm is judged
/// by the caller.
pub fn parse_jws(token: &str) -> Result<Jws, FormatError> {
    too_big("ID token", token.len())?;
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(FormatError::value(
            "",
            "an ID token has three parts separated by '.' (an encrypted ID token is not supported)",
        ));
    };
    let header: JwsHeader = json("token header", &b64(h, "header")?)?;
    let claims: Map<String, Value> = json("token claims", &b64(p, "payload")?)?;
    let signature = b64(s, "signature")?;
    Ok(Jws {
        header,
        claims,
        signing_input: format!("{h}.{p}"),
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    #[test]
    fn a_jws_splits_into_header_claims_and_signature() {
        let h = enc(&serde_json::json!({"alg": "ES256", "kid": "k1"}));
        let p = enc(&serde_json::json!({"sub": "alice", "aud": ["isx"]}));
        let token = format!("{h}.{p}.AAEC");
        let jws = parse_jws(&token).unwrap();
        assert_eq!(jws.header.alg, "ES256");
        assert_eq!(jws.header.kid.as_deref(), Some("k1"));
        assert_eq!(jws.claims["sub"], "alice");
        assert_eq!(jws.signing_input, format!("{h}.{p}"));
        assert_eq!(jws.signature, vec![0, 1, 2]);
    }

    #[test]
    fn malformed_tokens_are_errors() {
        let h = enc(&serde_json::json!({"alg": "RS256"}));
        let p = enc(&serde_json::json!({"sub": "x"}));
        for bad in [
            String::new(),
            "a.b".into(),
            format!("{h}.{p}.sig.extra.part"),
            format!("{h}.{p}.!!"),
            format!("{h}.{}.", enc(&serde_json::json!(["not", "an", "object"]))),
            format!("{}.{p}.", enc(&serde_json::json!({"kid": "no alg"}))),
            format!("{h}.{p}.{}", "A".repeat(MAX_BYTES)),
        ] {
            assert!(parse_jws(&bad).is_err(), "{bad:.60}");
        }
    }

    #[test]
    fn unknown_keys_are_skipped_and_known_ones_kept() {
        let jwks = br#"{"keys":[{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB","use":"sig"},
            {"kty":"oct","k":"c2VjcmV0"}, {"kty": 7}]}"#;
        let keys = parse_jwks(jwks).unwrap();
        assert_eq!(
            keys.len(),
            2,
            "oct is read as a shape, the number kty is not"
        );
        assert_eq!(keys[0].usage.as_deref(), Some("sig"));
        assert!(parse_jwks(b"{\"keys\": 3}").is_err());
    }

    #[test]
    fn token_answers_and_errors() {
        let ok =
            parse_token_answer(br#"{"id_token":"a.b.c","token_type":"Bearer","access_token":"x"}"#)
                .unwrap();
        assert_eq!(
            ok,
            TokenAnswer::Tokens {
                id_token: "a.b.c".into(),
                token_type: "Bearer".into()
            }
        );
        let err =
            parse_token_answer(br#"{"error":"invalid_grant","error_description":"used"}"#).unwrap();
        assert!(matches!(err, TokenAnswer::Error { error, .. } if error == "invalid_grant"));
        assert!(parse_token_answer(br#"{"token_type":"Bearer"}"#).is_err());
    }

    #[test]
    fn discovery_needs_its_endpoints() {
        let d = parse_discovery(
            br#"{"issuer":"https://idp","authorization_endpoint":"https://idp/auth",
                "token_endpoint":"https://idp/token","jwks_uri":"https://idp/jwks",
                "code_challenge_methods_supported":["S256"]}"#,
        )
        .unwrap();
        assert_eq!(d.code_challenge_methods_supported, vec!["S256"]);
        let missing = parse_discovery(br#"{"issuer":"https://idp"}"#).unwrap_err();
        assert!(
            missing.to_string().contains("authorization_endpoint"),
            "{missing}"
        );
    }
}
