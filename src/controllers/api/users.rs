//! The people of a local through the API (same model calls as `controllers::users`).
use axum::{
    extract::State,
    http::StatusCode,
    routing::{get, post},
    Json,
};
use loco_rs::prelude::{AppContext, Routes};

use super::{page, ApiError, ApiJson, ApiLocal, ApiPid, ApiResult, Filters, PageParams};
use crate::{
    domain::Permission,
    models::memberships::{Model as Membership, PeopleFilter},
    views::api::{ErrorBody, Page, Person, PersonInput},
};

/// `?role=<role pid>&status=active|disabled`.
fn people_filter(filters: &Filters) -> ApiResult<PeopleFilter> {
    let role = match filters.get("role") {
        Some(raw) => Some(uuid::Uuid::parse_str(raw).map_err(|_| {
            ApiError::InvalidParameter(
                "role",
                "role is the pid of one of the local's roles.".into(),
            )
        })?),
        None => None,
    };
    let disabled = match filters.get("status") {
        Some("active") => Some(false),
        Some("disabled") => Some(true),
        Some(_) => {
            return Err(ApiError::InvalidParameter(
                "status",
                "status is `active` or `disabled`.".into(),
            ))
        }
        None => None,
    };
    Ok(PeopleFilter { role, disabled })
}

#[utoipa::path(get, path = "/api/v1/locals/{slug}/users", tag = "users",
    params(("slug" = String, Path, description = "The local's slug"), super::docs::PageQuery, super::docs::PeopleQuery),
    responses((status = 200, body = Page<Person>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn index(
    State(ctx): State<AppContext>,
    local: ApiLocal,
    filters: Filters,
    params: PageParams,
) -> ApiResult<Json<Page<Person>>> {
    if !(local.tenant.can(Permission::UsersRead) || local.tenant.can(Permission::UsersManage)) {
        return Err(ApiError::Forbidden);
    }
    let filter = people_filter(&filters)?;
    let rows = Membership::list_window(&local.tenant, params.window(), &filter).await?;
    Ok(Json(page(
        &ctx,
        &filters,
        params,
        rows,
        |p| p.membership.id,
        |p| Person::from(p),
    )?))
}

#[utoipa::path(get, path = "/api/v1/locals/{slug}/users/{pid}", tag = "users",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = uuid::Uuid, Path, description = "The person's place in the local")),
    responses((status = 200, body = Person), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn show(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<Json<Person>> {
    if !(local.tenant.can(Permission::UsersRead) || local.tenant.can(Permission::UsersManage)) {
        return Err(ApiError::Forbidden);
    }
    Ok(Json(Person::from(
        &Membership::find(&local.tenant, pid).await?,
    )))
}

#[utoipa::path(put, path = "/api/v1/locals/{slug}/users/{pid}", tag = "users",
    description = "Gives the person another role of the local. Refused (422) when it would leave the local without an admin.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = uuid::Uuid, Path, description = "The person's place in the local")),
    request_body = PersonInput,
    responses((status = 200, body = Person), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn update(
    local: ApiLocal,
    ApiPid(pid): ApiPid,
    ApiJson(input): ApiJson<PersonInput>,
) -> ApiResult<Json<Person>> {
    local.tenant.require(Permission::UsersManage)?;
    let role = uuid::Uuid::parse_str(input.role.trim()).ok();
    Ok(Json(Person::from(
        &Membership::change_role(&local.tenant, pid, role).await?,
    )))
}

#[utoipa::path(post, path = "/api/v1/locals/{slug}/users/{pid}/disablement", tag = "users",
    description = "Disables the person's access to the local and ends their sessions; their tokens stop working.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = uuid::Uuid, Path, description = "The person's place in the local")),
    responses((status = 201, body = Person), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn disable(
    local: ApiLocal,
    ApiPid(pid): ApiPid,
) -> ApiResult<(StatusCode, Json<Person>)> {
    local.tenant.require(Permission::UsersManage)?;
    Ok((
        StatusCode::CREATED,
        Json(Person::from(
            &Membership::disable(&local.tenant, pid).await?,
        )),
    ))
}

#[utoipa::path(delete, path = "/api/v1/locals/{slug}/users/{pid}/disablement", tag = "users",
    description = "Enables the person's access again.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = uuid::Uuid, Path, description = "The person's place in the local")),
    responses((status = 200, body = Person), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn enable(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<Json<Person>> {
    local.tenant.require(Permission::UsersManage)?;
    Ok(Json(Person::from(
        &Membership::enable(&local.tenant, pid).await?,
    )))
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/api/v1/locals/{slug}/users", get(index))
        .add("/api/v1/locals/{slug}/users/{pid}", get(show).put(update))
        .add(
            "/api/v1/locals/{slug}/users/{pid}/disablement",
            post(disable).delete(enable),
        )
}
