//! Invitations through the API (same model calls as `controllers::invitations`).
use axum::{
    extract::State,
    http::StatusCode,
    routing::{delete, get},
    Json,
};
use loco_rs::prelude::{AppContext, Routes};

use super::{page, ApiError, ApiJson, ApiLocal, ApiPid, ApiResult, Filters, PageParams};
use crate::{
    domain::{Email, FieldErrors, Permission},
    models::invitations::{Model as InvitationModel, NewInvitation, Pending},
    views::api::{ErrorBody, Invitation, InvitationInput, Page},
};

#[utoipa::path(get, path = "/api/v1/locals/{slug}/invitations", tag = "invitations",
    description = "Invitations not yet accepted, revoked or expired.",
    params(("slug" = String, Path, description = "The local's slug"), super::docs::PageQuery),
    responses((status = 200, body = Page<Invitation>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn index(
    State(ctx): State<AppContext>,
    local: ApiLocal,
    filters: Filters,
    params: PageParams,
) -> ApiResult<Json<Page<Invitation>>> {
    local.tenant.require(Permission::UsersManage)?;
    let rows = InvitationModel::pending_window(&local.tenant, params.window()).await?;
    Ok(Json(page(
        &ctx,
        &filters,
        params,
        rows,
        |p| p.invitation.id,
        |p| Invitation::from(p),
    )?))
}

#[utoipa::path(post, path = "/api/v1/locals/{slug}/invitations", tag = "invitations",
    description = "Invites an address with a role and mails it a single-use link (7 days).",
    params(("slug" = String, Path, description = "The local's slug")),
    request_body = InvitationInput,
    responses((status = 201, body = Invitation), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn create(
    local: ApiLocal,
    ApiJson(input): ApiJson<InvitationInput>,
) -> ApiResult<(StatusCode, Json<Invitation>)> {
    local.tenant.require(Permission::UsersManage)?;
    let mut errors = FieldErrors::new();
    let email = errors.take("email", Email::parse(&input.email));
    // The schema requires a UUID; a well-formed one of no role is not found.
    let role_pid = uuid::Uuid::parse_str(input.role.trim()).ok();
    if role_pid.is_none() {
        errors.add("role", "Give the pid of one of the local's roles.");
    }
    let new = match email {
        Some(email) if errors.is_empty() => NewInvitation { email, role_pid },
        _ => return Err(ApiError::Invalid(errors)),
    };
    let (invitation, role_name) = InvitationModel::create(&local.tenant, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(Invitation::from(&Pending {
            invitation,
            role_name,
        })),
    ))
}

#[utoipa::path(delete, path = "/api/v1/locals/{slug}/invitations/{pid}", tag = "invitations",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = uuid::Uuid, Path, description = "The invitation")),
    responses((status = 204, description = "Revoked; the link no longer works"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn destroy(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<StatusCode> {
    local.tenant.require(Permission::UsersManage)?;
    InvitationModel::revoke(&local.tenant, pid).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/api/v1/locals/{slug}/invitations", get(index).post(create))
        .add("/api/v1/locals/{slug}/invitations/{pid}", delete(destroy))
}
