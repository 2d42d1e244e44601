//! The token owner's own personal API tokens in this local.
use axum::{
    extract::State,
    http::StatusCode,
    routing::{delete, get},
    Json,
};
use loco_rs::prelude::{AppContext, Routes};

use super::{page, ApiError, ApiJson, ApiLocal, ApiPid, ApiResult, Filters, PageParams};
use crate::{
    domain::{FieldErrors, TokenName},
    models::api_tokens::{self, Model as TokenModel, NewToken as NewTokenModel},
    views::api::{ErrorBody, NewToken, Page, Token, TokenInput},
};

/// Parses a new token's name and lifetime (shared with the HTML form).
///
/// # Errors
/// The messages per field.
pub fn parse_new_token(
    name: &str,
    expires_in_days: Option<u32>,
) -> Result<NewTokenModel, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = errors.take("name", TokenName::parse(name));
    if expires_in_days.is_some_and(|d| d == 0 || d > api_tokens::MAX_LIFETIME_DAYS) {
        errors.add(
            "expires_in_days",
            format!(
                "Choose 1 to {} days, or none.",
                api_tokens::MAX_LIFETIME_DAYS
            ),
        );
    }
    match name {
        Some(name) if errors.is_empty() => Ok(NewTokenModel {
            name,
            expires_in_days,
        }),
        _ => Err(errors),
    }
}

#[utoipa::path(get, path = "/api/v1/locals/{slug}/tokens", tag = "tokens",
    description = "The token owner's tokens in this local (secrets are never shown again).",
    params(("slug" = String, Path, description = "The local's slug"), super::docs::PageQuery),
    responses((status = 200, body = Page<Token>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn index(
    State(ctx): State<AppContext>,
    local: ApiLocal,
    filters: Filters,
    params: PageParams,
) -> ApiResult<Json<Page<Token>>> {
    let rows = TokenModel::list(&local.tenant, params.window()).await?;
    Ok(Json(page(
        &ctx,
        &filters,
        params,
        rows,
        |t| t.id,
        |t| Token::from(t),
    )?))
}

#[utoipa::path(post, path = "/api/v1/locals/{slug}/tokens", tag = "tokens",
    params(("slug" = String, Path, description = "The local's slug")),
    request_body = TokenInput,
    responses((status = 201, body = NewToken), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn create(
    local: ApiLocal,
    ApiJson(input): ApiJson<TokenInput>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    let days = input
        .days()
        .map_err(|m| ApiError::Invalid(FieldErrors::one("expires_in_days", m)))?;
    let new = parse_new_token(&input.name, days).map_err(ApiError::Invalid)?;
    let (token, secret) = TokenModel::create(&local.tenant, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewToken {
            token: Token::from(&token),
            secret,
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/locals/{slug}/tokens/{pid}", tag = "tokens",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = uuid::Uuid, Path, description = "The token")),
    responses((status = 204, description = "Revoked; refused from now on"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn destroy(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<StatusCode> {
    TokenModel::revoke(&local.tenant, pid).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/api/v1/locals/{slug}/tokens", get(index).post(create))
        .add("/api/v1/locals/{slug}/tokens/{pid}", delete(destroy))
}
