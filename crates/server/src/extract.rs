//! Request body extraction that answers bad input with a problem body:
//! wrong content type (415), too large (413), malformed JSON (400), unknown
//! fields or invalid values (422, with a JSON pointer to the culprit).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// Like `axum::Json`, with problem-body rejections.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or("").trim();
        if !(essence == "application/json" || essence.ends_with("+json")) {
            return Err(ApiError::UnsupportedMediaType(format!(
                "expected Content-Type: application/json, got {:?}",
                if essence.is_empty() {
                    "nothing"
                } else {
                    essence
                }
            )));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(format!(
                    "request body exceeds the limit: {}",
                    e.body_text()
                ))
            } else {
                ApiError::BadRequest(e.body_text())
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON, reporting syntax errors as 400 and type or value errors as
/// 422 with the JSON pointer of the offending value.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => {
            de.end()
                .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
            Ok(value)
        }
        Err(e) => {
            // JSON has one number type: `3.0` is the integer 3 (JSON
            // Schema's `integer` says so too), which serde reads as a
            // float only. Read again with such floats as integers.
            if e.inner().classify() == serde_json::error::Category::Data {
                if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(bytes) {
                    if integral(&mut v) {
                        // The error, if any, is then the one past the floats.
                        return serde_path_to_error::deserialize(v).map_err(problem_of);
                    }
                }
            }
            Err(problem_of(e))
        }
    }
}

fn problem_of(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let pointer = pointer_of(e.path());
    let inner = e.into_inner();
    match inner.classify() {
        serde_json::error::Category::Data => ApiError::Validation {
            detail: inner.to_string(),
            pointer: Some(pointer),
        },
        _ => ApiError::BadRequest(format!("malformed JSON: {inner}")),
    }
}

/// Turns the floats of `v` that hold an integer exactly (`3.0`, within
/// ±2⁵³) into integers; whether it changed any.
fn integral(v: &mut serde_json::Value) -> bool {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match v {
        serde_json::Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() <= EXACT => {
                // In range by the test above: the cast is exact.
                *v = serde_json::Value::from(f as i64);
                true
            }
            _ => false,
        },
        serde_json::Value::Array(items) => items.iter_mut().fold(false, |c, x| integral(x) | c),
        serde_json::Value::Object(o) => o.values_mut().fold(false, |c, x| integral(x) | c),
        _ => false,
    }
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push_str(&key.replace('~', "~0").replace('/', "~1"))
            }
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// Like `axum::Form`, with problem-body rejections (for the web pages).
pub struct WebForm<T>(pub T);

impl<S, T> FromRequest<S> for WebForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(WebForm(v)),
            Err(e) => Err(match e.status() {
                axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::PayloadTooLarge(e.body_text())
                }
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                    ApiError::UnsupportedMediaType(e.body_text())
                }
                axum::http::StatusCode::UNPROCESSABLE_ENTITY => ApiError::invalid(e.body_text()),
                _ => ApiError::BadRequest(e.body_text()),
            }),
        }
    }
}

/// The media type of a request body (`Content-Type` without parameters,
/// lower case; empty when absent).
pub fn media_type(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        cidrs: Vec<isx_domain::Cidr>,
    }

    #[test]
    fn pointers_name_the_bad_value() {
        let e = parse_json::<Body>(br#"{"cidrs":["192.0.2.0/24","10.0.0.1/8"]}"#).unwrap_err();
        let p = e.problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.errors[0].pointer, "/cidrs/1");
        assert!(p.detail.contains("host bits"), "{}", p.detail);
    }

    #[derive(Debug, serde::Deserialize)]
    struct Counts {
        n: u32,
        ids: Vec<i64>,
        ratio: f64,
    }

    #[test]
    fn integral_floats_are_integers() {
        let c = parse_json::<Counts>(br#"{"n": 3.0, "ids": [-7.0, 2], "ratio": 0.5}"#).unwrap();
        assert_eq!((c.n, c.ids, c.ratio), (3, vec![-7, 2], 0.5));
        // A fraction, a value past exactness or out of the type's range is
        // still refused, with the pointer of the first culprit.
        for body in [
            &br#"{"n": 3.5, "ids": [], "ratio": 0}"#[..],
            br#"{"n": 1e300, "ids": [], "ratio": 0}"#,
            br#"{"n": -1.0, "ids": [], "ratio": 0}"#,
        ] {
            let e = parse_json::<Counts>(body).unwrap_err();
            assert_eq!(e.status().as_u16(), 422);
            assert_eq!(e.problem().errors[0].pointer, "/n");
        }
    }

    #[test]
    fn syntax_errors_are_400_and_unknown_fields_422() {
        assert_eq!(
            parse_json::<Body>(b"{\"cidrs\": [")
                .unwrap_err()
                .status()
                .as_u16(),
            400
        );
        assert_eq!(
            parse_json::<Body>(br#"{"cidrs":[]} trailing"#)
                .unwrap_err()
                .status()
                .as_u16(),
            400
        );
        let e = parse_json::<Body>(br#"{"cidrs":[],"cidr":[]}"#).unwrap_err();
        assert_eq!(e.status().as_u16(), 422);
        assert!(e.problem().detail.contains("unknown field"));
    }
}
