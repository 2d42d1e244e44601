//! The local's structure through the API: employers, worksites, bargaining
//! units and membership statuses, with the same model calls, permissions
//! and refusals as the structure page (`controllers::structure`). Designed
//! for a payroll system that syncs its employer roster nightly: every list
//! takes `?name=` (exact) to find a row by the name it knows, creating a
//! taken name is a 409 naming the field, and deleting what members still
//! use is a 409 saying what uses it.
use axum::{
    extract::State,
    http::{header, HeaderName, StatusCode},
    routing::{get, put},
    Json,
};
use loco_rs::prelude::{AppContext, Routes};
use uuid::Uuid;

use super::{page, pid_param, ApiError, ApiJson, ApiLocal, ApiPid, ApiResult, Filters, PageParams};
use crate::{
    domain::{FieldErrors, UnitName},
    models::{
        bargaining_units, employers, membership_statuses,
        structure::{self, Directory, NamedPart, PartEntity},
        worksites,
    },
    views::api::{
        ErrorBody, NameInput, Page, PartBody, PositionInput, StatusBody, StatusInput, StatusList,
        WorksiteBody, WorksiteInput,
    },
};

type Created<T> = (StatusCode, [(HeaderName, String); 1], Json<T>);

/// An employer, worksite or bargaining unit as the API shows it.
trait ApiPart: NamedPart {
    type Body;
    /// The collection's path segment.
    const SEGMENT: &'static str;
    fn body(row: &Self::Model, directory: &Directory) -> Self::Body;
}

impl ApiPart for employers::Entity {
    type Body = PartBody;
    const SEGMENT: &'static str = "employers";
    fn body(row: &employers::Model, _: &Directory) -> PartBody {
        PartBody::from(row)
    }
}

impl ApiPart for bargaining_units::Entity {
    type Body = PartBody;
    const SEGMENT: &'static str = "bargaining_units";
    fn body(row: &bargaining_units::Model, _: &Directory) -> PartBody {
        PartBody::from(row)
    }
}

impl ApiPart for worksites::Entity {
    type Body = WorksiteBody;
    const SEGMENT: &'static str = "worksites";
    fn body(row: &worksites::Model, directory: &Directory) -> WorksiteBody {
        WorksiteBody::of(row, directory)
    }
}

fn name_of(raw: &str) -> ApiResult<UnitName> {
    UnitName::parse(raw).map_err(|m| ApiError::Invalid(FieldErrors::one("name", m)))
}

/// `?name=`: only the row with exactly this name (spaces as the pages
/// store them: trimmed, runs made one).
fn name_param(filters: &Filters) -> ApiResult<Option<UnitName>> {
    filters
        .get("name")
        .map(|raw| UnitName::parse(raw).map_err(|m| ApiError::InvalidParameter("name", m)))
        .transpose()
}

async fn body<P: ApiPart>(local: &ApiLocal, row: &P::Model) -> ApiResult<P::Body> {
    Ok(P::body(row, &Directory::load(&local.tenant).await?))
}

async fn list<P: ApiPart>(
    ctx: &AppContext,
    local: &ApiLocal,
    filters: &Filters,
    params: PageParams,
) -> ApiResult<Json<Page<P::Body>>>
where
    P::Body: utoipa::ToSchema,
{
    let name = name_param(filters)?;
    let employer = match P::employer_column() {
        Some(_) => pid_param(filters, "employer")?,
        None => None,
    };
    let rows = structure::window::<P>(
        &local.tenant,
        params.window(),
        name.as_ref().map(UnitName::as_str),
        employer,
    )
    .await?;
    let directory = Directory::load(&local.tenant).await?;
    Ok(Json(page(ctx, filters, params, rows, P::id_of, |r| {
        P::body(r, &directory)
    })?))
}

async fn add<P: ApiPart>(
    local: &ApiLocal,
    name: &str,
    employer: Option<Uuid>,
) -> ApiResult<Created<P::Body>> {
    let name = name_of(name)?;
    let row = structure::create::<P>(&local.tenant, &name, employer).await?;
    let location = format!(
        "/api/v1/locals/{}/{}/{}",
        local.tenant.slug(),
        P::SEGMENT,
        P::pid_of(&row)
    );
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body::<P>(local, &row).await?),
    ))
}

async fn one<P: ApiPart>(local: &ApiLocal, pid: Uuid) -> ApiResult<Json<P::Body>> {
    let row = structure::read::<P>(&local.tenant, pid).await?;
    Ok(Json(body::<P>(local, &row).await?))
}

async fn rename<P: ApiPart>(local: &ApiLocal, pid: Uuid, name: &str) -> ApiResult<Json<P::Body>> {
    let name = name_of(name)?;
    let row = structure::rename::<P>(&local.tenant, pid, &name).await?;
    Ok(Json(body::<P>(local, &row).await?))
}

async fn remove<P: PartEntity>(local: &ApiLocal, pid: Uuid) -> ApiResult<StatusCode> {
    structure::delete::<P>(&local.tenant, pid).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Employers.

#[utoipa::path(get, path = "/api/v1/locals/{slug}/employers", tag = "structure",
    description = "The local's employers in the order they were added. `name` finds one by its exact name.",
    params(("slug" = String, Path, description = "The local's slug"), super::docs::PartQuery, super::docs::PageQuery),
    responses((status = 200, body = Page<PartBody>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn employers_index(
    State(ctx): State<AppContext>,
    local: ApiLocal,
    filters: Filters,
    params: PageParams,
) -> ApiResult<Json<Page<PartBody>>> {
    list::<employers::Entity>(&ctx, &local, &filters, params).await
}

#[utoipa::path(post, path = "/api/v1/locals/{slug}/employers", tag = "structure",
    description = "Adds an employer (needs `structure.manage`); a taken name is a 409.",
    params(("slug" = String, Path, description = "The local's slug")),
    request_body = NameInput,
    responses((status = 201, body = PartBody, headers(("Location" = String, description = "The new employer's URL"))), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn employers_create(
    local: ApiLocal,
    ApiJson(input): ApiJson<NameInput>,
) -> ApiResult<Created<PartBody>> {
    add::<employers::Entity>(&local, &input.name, None).await
}

#[utoipa::path(get, path = "/api/v1/locals/{slug}/employers/{pid}", tag = "structure",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The employer's pid")),
    responses((status = 200, body = PartBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn employers_show(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<Json<PartBody>> {
    one::<employers::Entity>(&local, pid).await
}

#[utoipa::path(put, path = "/api/v1/locals/{slug}/employers/{pid}", tag = "structure",
    description = "Renames the employer (needs `structure.manage`); members placed there keep it.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The employer's pid")),
    request_body = NameInput,
    responses((status = 200, body = PartBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn employers_update(
    local: ApiLocal,
    ApiPid(pid): ApiPid,
    ApiJson(input): ApiJson<NameInput>,
) -> ApiResult<Json<PartBody>> {
    rename::<employers::Entity>(&local, pid, &input.name).await
}

#[utoipa::path(delete, path = "/api/v1/locals/{slug}/employers/{pid}", tag = "structure",
    description = "Deletes an employer no member (archived ones included) and no worksite refers to (needs `structure.manage`); otherwise a 409 saying what uses it.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The employer's pid")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Members or worksites still refer to it"), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn employers_destroy(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<StatusCode> {
    remove::<employers::Entity>(&local, pid).await
}

// Worksites.

#[utoipa::path(get, path = "/api/v1/locals/{slug}/worksites", tag = "structure",
    description = "The local's worksites in the order they were added, each with its employer. `employer` keeps one employer's (none for an employer not in the local); `name` finds one by its exact name.",
    params(("slug" = String, Path, description = "The local's slug"), super::docs::WorksiteQuery, super::docs::PageQuery),
    responses((status = 200, body = Page<WorksiteBody>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn worksites_index(
    State(ctx): State<AppContext>,
    local: ApiLocal,
    filters: Filters,
    params: PageParams,
) -> ApiResult<Json<Page<WorksiteBody>>> {
    list::<worksites::Entity>(&ctx, &local, &filters, params).await
}

#[utoipa::path(post, path = "/api/v1/locals/{slug}/worksites", tag = "structure",
    description = "Adds a worksite to one of the local's employers (needs `structure.manage`); a name the employer has already is a 409, an employer not in the local a 404 naming `employer`.",
    params(("slug" = String, Path, description = "The local's slug")),
    request_body = WorksiteInput,
    responses((status = 201, body = WorksiteBody, headers(("Location" = String, description = "The new worksite's URL"))), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn worksites_create(
    local: ApiLocal,
    ApiJson(input): ApiJson<WorksiteInput>,
) -> ApiResult<Created<WorksiteBody>> {
    add::<worksites::Entity>(&local, &input.name, Some(input.employer)).await
}

#[utoipa::path(get, path = "/api/v1/locals/{slug}/worksites/{pid}", tag = "structure",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The worksite's pid")),
    responses((status = 200, body = WorksiteBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn worksites_show(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<Json<WorksiteBody>> {
    one::<worksites::Entity>(&local, pid).await
}

#[utoipa::path(put, path = "/api/v1/locals/{slug}/worksites/{pid}", tag = "structure",
    description = "Renames the worksite (needs `structure.manage`); it stays at its employer.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The worksite's pid")),
    request_body = NameInput,
    responses((status = 200, body = WorksiteBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn worksites_update(
    local: ApiLocal,
    ApiPid(pid): ApiPid,
    ApiJson(input): ApiJson<NameInput>,
) -> ApiResult<Json<WorksiteBody>> {
    rename::<worksites::Entity>(&local, pid, &input.name).await
}

#[utoipa::path(delete, path = "/api/v1/locals/{slug}/worksites/{pid}", tag = "structure",
    description = "Deletes a worksite no member (archived ones included) works at (needs `structure.manage`); otherwise a 409 saying how many do.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The worksite's pid")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Members still work there"), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn worksites_destroy(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<StatusCode> {
    remove::<worksites::Entity>(&local, pid).await
}

// Bargaining units.

#[utoipa::path(get, path = "/api/v1/locals/{slug}/bargaining_units", tag = "structure",
    description = "The local's bargaining units in the order they were added. `name` finds one by its exact name.",
    params(("slug" = String, Path, description = "The local's slug"), super::docs::PartQuery, super::docs::PageQuery),
    responses((status = 200, body = Page<PartBody>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn units_index(
    State(ctx): State<AppContext>,
    local: ApiLocal,
    filters: Filters,
    params: PageParams,
) -> ApiResult<Json<Page<PartBody>>> {
    list::<bargaining_units::Entity>(&ctx, &local, &filters, params).await
}

#[utoipa::path(post, path = "/api/v1/locals/{slug}/bargaining_units", tag = "structure",
    description = "Adds a bargaining unit (needs `structure.manage`); a taken name is a 409.",
    params(("slug" = String, Path, description = "The local's slug")),
    request_body = NameInput,
    responses((status = 201, body = PartBody, headers(("Location" = String, description = "The new unit's URL"))), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn units_create(
    local: ApiLocal,
    ApiJson(input): ApiJson<NameInput>,
) -> ApiResult<Created<PartBody>> {
    add::<bargaining_units::Entity>(&local, &input.name, None).await
}

#[utoipa::path(get, path = "/api/v1/locals/{slug}/bargaining_units/{pid}", tag = "structure",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The unit's pid")),
    responses((status = 200, body = PartBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn units_show(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<Json<PartBody>> {
    one::<bargaining_units::Entity>(&local, pid).await
}

#[utoipa::path(put, path = "/api/v1/locals/{slug}/bargaining_units/{pid}", tag = "structure",
    description = "Renames the bargaining unit (needs `structure.manage`).",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The unit's pid")),
    request_body = NameInput,
    responses((status = 200, body = PartBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn units_update(
    local: ApiLocal,
    ApiPid(pid): ApiPid,
    ApiJson(input): ApiJson<NameInput>,
) -> ApiResult<Json<PartBody>> {
    rename::<bargaining_units::Entity>(&local, pid, &input.name).await
}

#[utoipa::path(delete, path = "/api/v1/locals/{slug}/bargaining_units/{pid}", tag = "structure",
    description = "Deletes a bargaining unit no member (archived ones included) is in (needs `structure.manage`); otherwise a 409 saying how many are.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The unit's pid")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Members are still in it"), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn units_destroy(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<StatusCode> {
    remove::<bargaining_units::Entity>(&local, pid).await
}

// Membership statuses.

async fn status_body(local: &ApiLocal, pid: Uuid) -> ApiResult<StatusBody> {
    let directory = Directory::load(&local.tenant).await?;
    directory
        .statuses
        .iter()
        .enumerate()
        .find(|(_, s)| s.pid == pid)
        .map(|(place, s)| StatusBody::of(s, place))
        .ok_or(ApiError::NotFound)
}

fn status_name(input: &StatusInput) -> ApiResult<UnitName> {
    name_of(&input.name)
}

#[utoipa::path(get, path = "/api/v1/locals/{slug}/membership_statuses", tag = "structure",
    description = "Every status of the local, in its order (the first is new members' status unless another is chosen). Statuses are few, so this is one page.",
    params(("slug" = String, Path, description = "The local's slug")),
    responses((status = 200, body = StatusList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn statuses_index(local: ApiLocal) -> ApiResult<Json<StatusList>> {
    structure::require_read(&local.tenant)?;
    let directory = Directory::load(&local.tenant).await?;
    Ok(Json(StatusList {
        items: directory
            .statuses
            .iter()
            .enumerate()
            .map(|(place, s)| StatusBody::of(s, place))
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/locals/{slug}/membership_statuses", tag = "structure",
    description = "Adds a status at the end of the order (needs `structure.manage`); a taken name is a 409.",
    params(("slug" = String, Path, description = "The local's slug")),
    request_body = StatusInput,
    responses((status = 201, body = StatusBody, headers(("Location" = String, description = "The new status's URL"))), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn statuses_create(
    local: ApiLocal,
    ApiJson(input): ApiJson<StatusInput>,
) -> ApiResult<Created<StatusBody>> {
    let name = status_name(&input)?;
    let status = membership_statuses::create(&local.tenant, &name, input.in_good_standing).await?;
    let location = format!(
        "/api/v1/locals/{}/membership_statuses/{}",
        local.tenant.slug(),
        status.pid
    );
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(status_body(&local, status.pid).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/locals/{slug}/membership_statuses/{pid}", tag = "structure",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The status's pid")),
    responses((status = 200, body = StatusBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn statuses_show(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<Json<StatusBody>> {
    structure::require_read(&local.tenant)?;
    Ok(Json(status_body(&local, pid).await?))
}

#[utoipa::path(put, path = "/api/v1/locals/{slug}/membership_statuses/{pid}", tag = "structure",
    description = "Renames the status and says whether it counts as in good standing (needs `structure.manage`); members keep it.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The status's pid")),
    request_body = StatusInput,
    responses((status = 200, body = StatusBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn statuses_update(
    local: ApiLocal,
    ApiPid(pid): ApiPid,
    ApiJson(input): ApiJson<StatusInput>,
) -> ApiResult<Json<StatusBody>> {
    let name = status_name(&input)?;
    membership_statuses::update(&local.tenant, pid, &name, input.in_good_standing).await?;
    Ok(Json(status_body(&local, pid).await?))
}

#[utoipa::path(put, path = "/api/v1/locals/{slug}/membership_statuses/{pid}/position", tag = "structure",
    description = "Moves the status to `position` in the local's order (needs `structure.manage`); the others keep their order around it.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The status's pid")),
    request_body = PositionInput,
    responses((status = 200, body = StatusBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn statuses_move(
    local: ApiLocal,
    ApiPid(pid): ApiPid,
    ApiJson(input): ApiJson<PositionInput>,
) -> ApiResult<Json<StatusBody>> {
    membership_statuses::move_to(&local.tenant, pid, input.position.0).await?;
    Ok(Json(status_body(&local, pid).await?))
}

#[utoipa::path(delete, path = "/api/v1/locals/{slug}/membership_statuses/{pid}", tag = "structure",
    description = "Deletes a status no member has and no member's status history names (needs `structure.manage`); otherwise a 409 saying why. A local keeps at least one status.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The status's pid")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Members or histories still name it, or it is the last one"), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn statuses_destroy(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<StatusCode> {
    remove::<membership_statuses::Entity>(&local, pid).await
}

pub fn routes() -> Routes {
    Routes::new()
        .add(
            "/api/v1/locals/{slug}/employers",
            get(employers_index).post(employers_create),
        )
        .add(
            "/api/v1/locals/{slug}/employers/{pid}",
            get(employers_show)
                .put(employers_update)
                .delete(employers_destroy),
        )
        .add(
            "/api/v1/locals/{slug}/worksites",
            get(worksites_index).post(worksites_create),
        )
        .add(
            "/api/v1/locals/{slug}/worksites/{pid}",
            get(worksites_show)
                .put(worksites_update)
                .delete(worksites_destroy),
        )
        .add(
            "/api/v1/locals/{slug}/bargaining_units",
            get(units_index).post(units_create),
        )
        .add(
            "/api/v1/locals/{slug}/bargaining_units/{pid}",
            get(units_show).put(units_update).delete(units_destroy),
        )
        .add(
            "/api/v1/locals/{slug}/membership_statuses",
            get(statuses_index).post(statuses_create),
        )
        .add(
            "/api/v1/locals/{slug}/membership_statuses/{pid}",
            get(statuses_show)
                .put(statuses_update)
                .delete(statuses_destroy),
        )
        .add(
            "/api/v1/locals/{slug}/membership_statuses/{pid}/position",
            put(statuses_move),
        )
}
