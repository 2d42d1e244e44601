//! Who the token acts for, their locals, and the list of permissions.
use axum::{extract::State, routing::get, Json};
use loco_rs::prelude::{AppContext, Routes};

use super::{ApiLocal, ApiResult};
use crate::{
    domain::Permission as Key,
    models::{memberships, users},
    views::api::{ErrorBody, Local, Me, Permission},
};

#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    description = "The token's owner, the local the token is bound to, and their role there.",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn me(State(ctx): State<AppContext>, local: ApiLocal) -> ApiResult<Json<Me>> {
    let user = users::Model::find_by_id(&ctx.db, local.access().user_id()).await?;
    let permissions = local
        .access()
        .permissions()
        .iter()
        .map(|p| p.key().to_string())
        .collect();
    Ok(Json(Me::new(
        &user,
        local.tenant.model(),
        local.access().role_name(),
        permissions,
    )))
}

#[utoipa::path(get, path = "/api/v1/locals", tag = "account",
    description = "The locals the token's owner belongs to (a token acts in its own local only).",
    responses((status = 200, body = Vec<Local>), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn locals(State(ctx): State<AppContext>, local: ApiLocal) -> ApiResult<Json<Vec<Local>>> {
    let locals = memberships::locals_of(&ctx.db, local.access().user_id()).await?;
    Ok(Json(locals.iter().map(Local::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/permissions", tag = "roles",
    description = "Every permission a role may hold.",
    responses((status = 200, body = Vec<Permission>), (status = 401, body = ErrorBody)),
    security(("token" = [])))]
pub async fn permissions(_local: ApiLocal) -> Json<Vec<Permission>> {
    Json(
        Key::ALL
            .iter()
            .map(|p| Permission {
                key: p.key().into(),
                label: p.label().into(),
            })
            .collect(),
    )
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/api/v1/me", get(me))
        .add("/api/v1/locals", get(locals))
        .add("/api/v1/permissions", get(permissions))
}
