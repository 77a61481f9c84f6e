use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use isx_domain::{KeyId, MemberId, UserRole};

use super::dto::{ApiKeyDto, CreatedKeyDto, NewKeyRequest};
use crate::audit::{noted, AuditNote};
use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::AppState;
use isx_app::admin;
use isx_app::records;

/// API keys the caller may see (its own member's; all for the operator).
#[utoipa::path(get, path = "/api/v1/keys", tag = "keys", security(("api_key" = [])),
    responses((status = 200, body = [ApiKeyDto]), (status = 401, body = Problem)))]
pub(crate) async fn list_keys(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<ApiKeyDto>>, ApiError> {
    let keys = state.store.api_keys(None).await?;
    Ok(Json(
        keys.iter()
            .filter(|k| records::may_see(&state, &caller, &records::api_key(k)))
            .map(ApiKeyDto::from)
            .collect(),
    ))
}

/// Creates an API key. The response carries the token once; isx keeps only
/// a hash of its secret.
#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", security(("api_key" = [])), request_body = NewKeyRequest,
    responses((status = 201, body = CreatedKeyDto), (status = 403, body = Problem), (status = 404, body = Problem, description = "no such member"), (status = 422, body = Problem)))]
pub(crate) async fn create_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<NewKeyRequest>,
) -> Result<Response, ApiError> {
    let spec = admin::KeySpec {
        member: req.member.map_or(caller.member.id, MemberId),
        name: &req.name,
        role: req.role.unwrap_or(UserRole::Member),
        expires_at: req.expires_at,
    };
    let (key, token) = admin::create_api_key(
        state.store.as_ref(),
        state.clock.as_ref(),
        Some(&caller.authority()),
        &spec,
    )
    .await?;
    let body = CreatedKeyDto {
        key: ApiKeyDto::from(&key),
        token: token.expose(),
    };
    Ok(noted(
        AuditNote::new("key.create", format!("key/{}", key.key_id)),
        (StatusCode::CREATED, Json(body)),
    ))
}

/// Revokes a key at once. Other members' keys answer 404.
#[utoipa::path(delete, path = "/api/v1/keys/{key_id}", tag = "keys", security(("api_key" = [])),
    params(("key_id" = String, Path, description = "16 hex characters")),
    responses((status = 200, body = ApiKeyDto), (status = 404, body = Problem)))]
pub(crate) async fn revoke_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key_id): Path<String>,
) -> Result<Response, ApiError> {
    let id = KeyId::new(&key_id).map_err(|_| ApiError::not_found(format!("API key {key_id}")))?;
    let by = caller.authority();
    let key =
        admin::revoke_api_key(state.store.as_ref(), state.clock.as_ref(), &id, Some(&by)).await?;
    Ok(noted(
        AuditNote::new("key.revoke", format!("key/{id}")),
        Json(ApiKeyDto::from(&key)),
    ))
}
