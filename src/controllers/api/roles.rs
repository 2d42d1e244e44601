//! Roles of a local through the API (same model calls as `controllers::roles`).
use axum::{
    extract::State,
    http::{header, StatusCode},
    routing::get,
    Json,
};
use loco_rs::prelude::{AppContext, Routes};

use super::{page, ApiJson, ApiLocal, ApiPid, ApiResult, Filters, PageParams};
use crate::{
    domain::{FieldErrors, Permission, PermissionSet, RoleName},
    models::roles::{Model as RoleModel, RoleDefinition},
    views::api::{ErrorBody, Page, Role, RoleInput},
};

fn definition(input: &RoleInput) -> Result<RoleDefinition, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = errors.take("name", RoleName::parse(&input.name));
    let permissions = errors.take("permissions", PermissionSet::parse_keys(&input.permissions));
    match (name, permissions) {
        (Some(name), Some(permissions)) => Ok(RoleDefinition { name, permissions }),
        _ => Err(errors),
    }
}

#[utoipa::path(get, path = "/api/v1/locals/{slug}/roles", tag = "roles",
    params(("slug" = String, Path, description = "The local's slug"), super::docs::PageQuery),
    responses((status = 200, body = Page<Role>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn index(
    State(ctx): State<AppContext>,
    local: ApiLocal,
    filters: Filters,
    params: PageParams,
) -> ApiResult<Json<Page<Role>>> {
    local.tenant.require(Permission::RolesManage)?;
    let rows = RoleModel::list_window(&local.tenant, params.window()).await?;
    Ok(Json(page(
        &ctx,
        &filters,
        params,
        rows,
        |r| r.role.id,
        |r| Role::from(r),
    )?))
}

#[utoipa::path(post, path = "/api/v1/locals/{slug}/roles", tag = "roles",
    params(("slug" = String, Path, description = "The local's slug")),
    request_body = RoleInput,
    responses((status = 201, body = Role, headers(("Location" = String, description = "The new role's URL"))), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn create(
    local: ApiLocal,
    ApiJson(input): ApiJson<RoleInput>,
) -> ApiResult<(StatusCode, [(header::HeaderName, String); 1], Json<Role>)> {
    local.tenant.require(Permission::RolesManage)?;
    let definition = definition(&input).map_err(super::ApiError::Invalid)?;
    let role = RoleModel::create(&local.tenant, definition).await?;
    let location = format!("/api/v1/locals/{}/roles/{}", local.tenant.slug(), role.pid);
    let summary = RoleModel::summary(&local.tenant, role.pid).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(Role::from(&summary)),
    ))
}

#[utoipa::path(get, path = "/api/v1/locals/{slug}/roles/{pid}", tag = "roles",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = uuid::Uuid, Path, description = "The role")),
    responses((status = 200, body = Role), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn show(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<Json<Role>> {
    local.tenant.require(Permission::RolesManage)?;
    Ok(Json(Role::from(
        &RoleModel::summary(&local.tenant, pid).await?,
    )))
}

#[utoipa::path(put, path = "/api/v1/locals/{slug}/roles/{pid}", tag = "roles",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = uuid::Uuid, Path, description = "The role")),
    request_body = RoleInput,
    responses((status = 200, body = Role), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn update(
    local: ApiLocal,
    ApiPid(pid): ApiPid,
    ApiJson(input): ApiJson<RoleInput>,
) -> ApiResult<Json<Role>> {
    local.tenant.require(Permission::RolesManage)?;
    RoleModel::update(
        &local.tenant,
        pid,
        definition(&input).map_err(super::ApiError::Invalid)?,
    )
    .await?;
    Ok(Json(Role::from(
        &RoleModel::summary(&local.tenant, pid).await?,
    )))
}

#[utoipa::path(delete, path = "/api/v1/locals/{slug}/roles/{pid}", tag = "roles",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = uuid::Uuid, Path, description = "The role")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "People hold the role"), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn destroy(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<StatusCode> {
    local.tenant.require(Permission::RolesManage)?;
    RoleModel::delete(&local.tenant, pid).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/api/v1/locals/{slug}/roles", get(index).post(create))
        .add(
            "/api/v1/locals/{slug}/roles/{pid}",
            get(show).put(update).delete(destroy),
        )
}
