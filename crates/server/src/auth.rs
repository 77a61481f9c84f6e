//! How a request carries its credentials: `Authorization` (Bearer, or
//! HTTP Basic with key id and secret) for API keys, a cookie for web
//! sessions. Who the credentials name, and what they may do, is
//! `isx_app::identity`.

use axum::http::{header, HeaderMap};
use base64::Engine;
use isx_domain::{ApiToken, Timestamp};

pub use isx_app::identity::*;

use crate::problem::ApiError;
use crate::AppState;

fn unauthorized(msg: &str) -> ApiError {
    ApiError::Unauthorized(msg.to_owned())
}

/// Reads `Authorization: Bearer isx_…` or `Authorization: Basic` (key id as
/// user name, secret as password).
pub fn token_from_headers(headers: &HeaderMap) -> Result<Option<ApiToken>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not valid text"))?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let malformed = || unauthorized("malformed API key: expected isx_<key id>_<secret>");
    // `Token` is what taxii2-client's `TokenAuth` (and Django-style
    // clients) send: the same key as Bearer.
    if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token") {
        ApiToken::parse(rest).map(Some).map_err(|_| malformed())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .map_err(|_| unauthorized("malformed Basic credentials"))?;
        let text =
            String::from_utf8(decoded).map_err(|_| unauthorized("malformed Basic credentials"))?;
        let (user, pass) = text
            .split_once(':')
            .ok_or_else(|| unauthorized("malformed Basic credentials"))?;
        ApiToken::from_parts(user, pass)
            .map(Some)
            .map_err(|_| malformed())
    } else {
        Err(unauthorized(
            "unsupported Authorization scheme: use Bearer (or Token) or Basic",
        ))
    }
}

/// Authenticates an API key (see `isx_app::identity::caller_from_token`).
pub async fn caller_from_token(
    state: &AppState,
    token: &ApiToken,
    now: Timestamp,
) -> Result<Caller, ApiError> {
    Ok(isx_app::identity::caller_from_token(state.store.as_ref(), token, now).await?)
}

/// Authenticates a client certificate: it must chain to the client CA,
/// be valid now, and be registered and unrevoked (see `client_certs`).
pub async fn caller_from_cert(
    state: &AppState,
    cert: &crate::client_certs::PeerCert,
    now: Timestamp,
) -> Result<Caller, ApiError> {
    if let Some(roots) = &state.client_roots {
        roots.refresh(state.store.as_ref(), now).await;
    }
    let chained = state
        .client_roots
        .as_ref()
        .is_some_and(|roots| roots.accepts(&cert.0, now));
    if !chained {
        return Err(ApiError::Unauthorized(
            "the client certificate is not one of this instance's, or not valid now".into(),
        ));
    }
    let fingerprint = crate::client_certs::fingerprint(&cert.0);
    Ok(isx_app::identity::caller_from_client_cert(state.store.as_ref(), &fingerprint, now).await?)
}

pub const SESSION_COOKIE: &str = "isx_session";

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Authenticates a web session cookie.
pub async fn caller_from_session(
    state: &AppState,
    headers: &HeaderMap,
    now: Timestamp,
) -> Result<Option<Caller>, ApiError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(caller_from_session_token(state.store.as_ref(), token, now).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_and_bearer_headers() {
        let t = new_token();
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            format!("Bearer {}", t.expose()).parse().unwrap(),
        );
        assert_eq!(token_from_headers(&h).unwrap(), Some(t.clone()));
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", t.key_id, t.secret));
        h.insert(
            header::AUTHORIZATION,
            format!("Basic {basic}").parse().unwrap(),
        );
        assert_eq!(token_from_headers(&h).unwrap(), Some(t));
        h.insert(header::AUTHORIZATION, "Bearer nope".parse().unwrap());
        assert_eq!(token_from_headers(&h).unwrap_err().status().as_u16(), 401);
        h.insert(header::COOKIE, "a=1; isx_session=abc".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
    }
}
