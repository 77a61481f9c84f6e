//! RFC 9457 problem details: every error the API returns says what was
//! wrong, and where, as `application/problem+json`. Unexpected errors become
//! an opaque 500 while their cause is logged.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use isx_app::AppError;
use isx_domain::DomainError;
use isx_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// A problem body (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:isx:problem:validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What was wrong, in words a person can act on.
    pub detail: String,
    /// Where in the request body each problem is (JSON pointers).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    /// JSON pointer into the request body, e.g. `/constituency/cidrs/0`.
    pub pointer: String,
    pub detail: String,
}

/// Errors a handler can return.
#[derive(Debug)]
pub enum ApiError {
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    Conflict(String),
    BadRequest(String),
    Validation {
        detail: String,
        pointer: Option<String>,
    },
    /// Several invalid parts of one input (rows of an import), each with
    /// its pointer (`/line/12`).
    Invalid {
        detail: String,
        errors: Vec<FieldProblem>,
    },
    UnsupportedMediaType(String),
    PayloadTooLarge(String),
    /// The request (its body) did not arrive in time.
    RequestTimeout(String),
    TooManyRequests {
        retry_after_secs: u64,
    },
    /// The server cannot take this now (busy, or its store cannot write).
    Unavailable(String),
    Internal(String),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication required",
            ),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Not allowed"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            ApiError::BadRequest(_) => {
                (StatusCode::BAD_REQUEST, "bad-request", "Malformed request")
            }
            ApiError::Validation { .. } | ApiError::Invalid { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid value",
            ),
            ApiError::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            ApiError::PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Request body too large",
            ),
            ApiError::RequestTimeout(_) => (
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                "Request timed out",
            ),
            ApiError::TooManyRequests { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    pub fn problem(&self) -> Problem {
        let (status, slug, title) = self.parts();
        let detail = match self {
            ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::Conflict(d)
            | ApiError::BadRequest(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::PayloadTooLarge(d)
            | ApiError::RequestTimeout(d)
            | ApiError::Unavailable(d) => d.clone(),
            ApiError::Validation { detail, .. } | ApiError::Invalid { detail, .. } => {
                detail.clone()
            }
            ApiError::TooManyRequests { retry_after_secs } => {
                format!("request budget exhausted; retry in {retry_after_secs} s")
            }
            // The cause is logged where the error is turned into a response.
            ApiError::Internal(_) => "an internal error occurred; it has been logged".to_owned(),
        };
        let errors = match self {
            ApiError::Validation {
                detail,
                pointer: Some(p),
            } => {
                vec![FieldProblem {
                    pointer: p.clone(),
                    detail: detail.clone(),
                }]
            }
            ApiError::Invalid { errors, .. } => errors.clone(),
            _ => Vec::new(),
        };
        Problem {
            kind: format!("urn:isx:problem:{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        ApiError::NotFound(format!("{what} not found"))
    }

    pub fn invalid(e: impl std::fmt::Display) -> Self {
        ApiError::Validation {
            detail: e.to_string(),
            pointer: None,
        }
    }

    /// A 422 listing several problems, as (pointer, detail) pairs.
    pub fn with_errors(self, errors: Vec<(String, String)>) -> Self {
        ApiError::Invalid {
            detail: self.problem().detail,
            errors: errors
                .into_iter()
                .map(|(pointer, detail)| FieldProblem { pointer, detail })
                .collect(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let problem = self.problem();
        let mut res = (self.status(), problem_json(&problem)).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match self {
            ApiError::Unauthorized(_) => {
                h.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"isx\", Basic realm=\"isx\""),
                );
            }
            ApiError::TooManyRequests { retry_after_secs } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    h.insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        res
    }
}

/// The longest request target (path and query) isx reads, in bytes.
pub const MAX_TARGET: usize = 8 * 1024;

/// Middleware: a request target longer than [`MAX_TARGET`] is answered
/// 414 (a problem, by [`plain_errors_as_problems`]) before any route sees
/// it, so no handler parses, logs or echoes it.
pub async fn refuse_long_targets(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if len > MAX_TARGET {
        return (
            StatusCode::URI_TOO_LONG,
            format!("the request target is {len} bytes; isx reads at most {MAX_TARGET}"),
        )
            .into_response();
    }
    next.run(req).await
}

/// Middleware: an error answered without a body of its own — a path or
/// query the router's extractors refused (plain text), a method the path
/// does not take (405, empty), a path that does not exist — becomes a
/// problem like every other error, its text (at most 1 KiB of it) as the
/// detail. Headers such as `Allow` are kept; HTML pages and bodies that
/// already have a type are left alone.
pub async fn plain_errors_as_problems(res: Response) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let plain = match res.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(v) => v.to_str().is_ok_and(|t| t.starts_with("text/plain")),
    };
    if !plain {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let mut detail: String = String::from_utf8_lossy(&text)
        .trim()
        .chars()
        .take(1024)
        .collect();
    if detail.is_empty() {
        detail = match status {
            StatusCode::METHOD_NOT_ALLOWED => {
                "this path does not take that method; the Allow header lists those it does".into()
            }
            StatusCode::NOT_FOUND => "there is nothing at this path".into(),
            _ => status.canonical_reason().unwrap_or("error").to_owned(),
        };
    }
    let slug = match status {
        StatusCode::BAD_REQUEST => "bad-request".to_owned(),
        StatusCode::NOT_FOUND => "not-found".to_owned(),
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => "payload-too-large".to_owned(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type".to_owned(),
        StatusCode::UNPROCESSABLE_ENTITY => "validation".to_owned(),
        StatusCode::URI_TOO_LONG => "uri-too-long".to_owned(),
        other => format!("http-{}", other.as_u16()),
    };
    let problem = Problem {
        kind: format!("urn:isx:problem:{slug}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    Response::from_parts(parts, axum::body::Body::from(problem_json(&problem)))
}

fn problem_json(p: &Problem) -> String {
    serde_json::to_string(p).unwrap_or_else(|_| format!("{{\"status\":{}}}", p.status))
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            StoreError::Conflict(what) => ApiError::Conflict(format!("{what} already exists")),
            StoreError::Reference(what) | StoreError::Unstorable(what) => ApiError::Validation {
                detail: what,
                pointer: None,
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<crate::ServerError> for ApiError {
    fn from(e: crate::ServerError) -> Self {
        match e {
            crate::ServerError::Store(s) => s.into(),
            crate::ServerError::App(a) => a.into(),
            other => {
                tracing::error!(error = %other, "request failed");
                ApiError::Internal("the request could not be completed".into())
            }
        }
    }
}

impl From<isx_partnership::PartnershipError> for ApiError {
    fn from(e: isx_partnership::PartnershipError) -> Self {
        isx_app::AppError::from(e).into()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Unauthorized(d) => ApiError::Unauthorized(d),
            AppError::Forbidden(d) => ApiError::Forbidden(d),
            AppError::NotFound(d) => ApiError::NotFound(d),
            AppError::Conflict(d) => ApiError::Conflict(d),
            AppError::BadRequest(d) => ApiError::BadRequest(d),
            AppError::Validation { detail, pointer } => ApiError::Validation { detail, pointer },
            AppError::Invalid { detail, errors } => ApiError::Invalid {
                detail,
                errors: errors
                    .into_iter()
                    .map(|f| FieldProblem {
                        pointer: f.pointer,
                        detail: f.detail,
                    })
                    .collect(),
            },
            AppError::PayloadTooLarge(d) => ApiError::PayloadTooLarge(d),
            AppError::Unavailable(d) => ApiError::Unavailable(d),
            AppError::Store(s) => s.into(),
            AppError::Internal(cause) => ApiError::Internal(cause),
            other => {
                tracing::error!(error = %other, "request failed");
                ApiError::Internal("the request could not be completed".into())
            }
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::invalid(e)
    }
}

/// The response for a handler that panicked: an opaque 500 problem.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Internal("handler panicked".into()).into_response()
}

impl From<isx_app::admin::AdminError> for ApiError {
    fn from(e: isx_app::admin::AdminError) -> Self {
        AppError::from(e).into()
    }
}

impl From<isx_app::urls::ImportError> for ApiError {
    fn from(e: isx_app::urls::ImportError) -> Self {
        AppError::from(e).into()
    }
}
