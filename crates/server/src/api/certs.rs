//! Client certificates (mTLS) over the API: a member's administrator
//! issues, lists and revokes its own organisation's; the operator's
//! administrators any member's. The private key is in the answer to the
//! issue and nowhere else.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use isx_domain::MemberId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{noted, AuditNote};
use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::AppState;
use isx_app::admin;

/// A client certificate, without its key.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateDto {
    /// SHA-256 of the certificate (DER), lowercase hex.
    pub fingerprint: String,
    pub member: i64,
    pub subject: String,
    pub serial: String,
    #[schema(value_type = String, format = DateTime)]
    pub not_after: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<String>,
}

impl From<&isx_store::ClientCert> for CertificateDto {
    fn from(c: &isx_store::ClientCert) -> Self {
        CertificateDto {
            fingerprint: c.fingerprint.clone(),
            member: c.member.0,
            subject: c.subject.clone(),
            serial: c.serial.clone(),
            not_after: c.not_after.to_rfc3339(),
            created_at: c.created_at.to_rfc3339(),
            revoked_at: c.revoked_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// Issues a client certificate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
// Read from a JSON object only (serde would also read `[null, null]`).
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
pub struct NewCertificateRequest {
    /// The member it authenticates as (default: your own).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub member: Option<i64>,
    /// Days of validity (default 365).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub days: Option<u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateBody {
    #[serde(default)]
    member: Option<i64>,
    #[serde(default)]
    days: Option<u16>,
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for NewCertificateRequest {
    type Error = serde_json::Error;

    fn try_from(m: serde_json::Map<String, serde_json::Value>) -> Result<Self, Self::Error> {
        let b: CertificateBody = serde_json::from_value(serde_json::Value::Object(m))?;
        Ok(NewCertificateRequest {
            member: b.member,
            days: b.days,
        })
    }
}

/// A new certificate and its private key: the key is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedCertificateDto {
    #[serde(flatten)]
    pub certificate: CertificateDto,
    /// The certificate (PEM): `curl --cert`.
    pub cert_pem: String,
    /// Its private key (PEM, PKCS#8): `curl --key`. Not kept by isx.
    pub key_pem: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CertificateQuery {
    /// Only this member's (the operator's administrators).
    #[param(minimum = 1)]
    pub member: Option<i64>,
}

/// Client certificates the caller administers: its own member's (member
/// administrators), or all (operator administrators).
#[utoipa::path(get, path = "/api/v1/certificates", tag = "keys", security(("api_key" = [])),
    params(CertificateQuery),
    responses((status = 200, body = [CertificateDto]), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub(crate) async fn list_certificates(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<CertificateQuery>,
) -> Result<Json<Vec<CertificateDto>>, ApiError> {
    if q.member.is_some_and(|m| m < 1) {
        return Err(ApiError::BadRequest(
            "member must be a member id (1 or more)".into(),
        ));
    }
    let certs = admin::certificates(
        state.store.as_ref(),
        Some(&caller.authority()),
        q.member.map(MemberId),
    )
    .await?;
    Ok(Json(certs.iter().map(CertificateDto::from).collect()))
}

/// Issues a client certificate signed by the instance's client CA. The
/// answer carries the private key once; isx keeps only the certificate's
/// fingerprint.
#[utoipa::path(post, path = "/api/v1/certificates", tag = "keys", security(("api_key" = [])), request_body = NewCertificateRequest,
    responses((status = 201, body = IssuedCertificateDto), (status = 403, body = Problem), (status = 404, body = Problem, description = "no such member"), (status = 422, body = Problem)))]
pub(crate) async fn issue_certificate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<NewCertificateRequest>,
) -> Result<Response, ApiError> {
    let member = req.member.map_or(caller.member.id, MemberId);
    let issued = admin::issue_certificate(
        state.store.as_ref(),
        state.clock.as_ref(),
        &state.settings.data_dir,
        Some(&caller.authority()),
        member,
        i64::from(req.days.unwrap_or(365)),
    )
    .await?;
    let body = IssuedCertificateDto {
        certificate: CertificateDto::from(&issued.record),
        cert_pem: issued.cert_pem,
        key_pem: issued.key_pem,
    };
    Ok(noted(
        AuditNote::new(
            "cert.issue",
            format!("cert/{}", body.certificate.fingerprint),
        ),
        (StatusCode::CREATED, Json(body)),
    ))
}

/// Revokes a client certificate: refused at once, on every node. Another
/// member's answers 404.
#[utoipa::path(delete, path = "/api/v1/certificates/{fingerprint}", tag = "keys", security(("api_key" = [])),
    params(("fingerprint" = String, Path, pattern = "^[0-9a-f]{64}$", description = "SHA-256 of the certificate, lowercase hex")),
    responses((status = 200, body = CertificateDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn revoke_certificate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(fingerprint): Path<String>,
) -> Result<Response, ApiError> {
    let (cert, _) = admin::revoke_certificate(
        state.store.as_ref(),
        state.clock.as_ref(),
        Some(&caller.authority()),
        &fingerprint,
    )
    .await?;
    let now = state.clock.now();
    let mut dto = CertificateDto::from(&cert);
    dto.revoked_at = Some(cert.revoked_at.unwrap_or(now).to_rfc3339());
    Ok(noted(
        AuditNote::new("cert.revoke", format!("cert/{fingerprint}")),
        Json(dto),
    ))
}
