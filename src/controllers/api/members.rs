//! Members through the API: the same model calls, permission checks and
//! tenant scoping as `controllers::members`. The list takes the HTML list's
//! filters and orders; its cursor is the keyset position, signed.
use axum::{
    extract::State,
    http::StatusCode,
    routing::{get, post},
    Json,
};
use loco_rs::prelude::{AppContext, Routes};

use super::{ApiError, ApiJson, ApiLocal, ApiPid, ApiResult, Cursor, Filters, DEFAULT_PAGE_SIZE};
use crate::{
    models::members::{After, Model as Member, NewMember, Total},
    views::{
        api::{
            ErrorBody, MemberBody, MemberDetail, MemberInput, MemberPageBody, StatusChangeBody,
            TotalBody,
        },
        members::{MemberForm, MemberQuery},
    },
};

/// The list's own paging: the cursor is a signed position in the order.
struct MemberPaging {
    after: Option<After>,
    limit: u64,
}

fn paging(ctx: &AppContext, path: &str, raw: &[(String, String)]) -> ApiResult<MemberPaging> {
    let mut paging = MemberPaging {
        after: None,
        limit: DEFAULT_PAGE_SIZE,
    };
    for (key, value) in raw {
        match key.as_str() {
            "limit" => {
                paging.limit = super::parse_limit(value)?;
            }
            "cursor" => {
                let payload = Cursor::open(ctx, path, value)?;
                paging.after = Some(
                    serde_json::from_slice::<After>(&payload)
                        .map_err(|_| ApiError::InvalidCursor)?,
                );
            }
            _ => {}
        }
    }
    Ok(paging)
}

fn total_body(total: Total) -> TotalBody {
    let (count, kind) = match total {
        Total::Exact(n) => (n, "exact"),
        Total::About(n) => (n, "about"),
        Total::MoreThan(n) => (n, "more_than"),
    };
    TotalBody {
        count,
        kind: kind.into(),
    }
}

#[utoipa::path(get, path = "/api/v1/locals/{slug}/members", tag = "members",
    description = "The roll, a page at a time. Search (`q`: part of a name, email, phone or employee number), filters by pid, join dates (`YYYY-MM-DD`), `archived=true` (admins) and `sort` (`name`, `joined` newest first, `status` in the local's order). `total` is exact up to 10,000, otherwise an estimate.",
    params(("slug" = String, Path, description = "The local's slug"), super::docs::MemberQuery),
    responses((status = 200, body = MemberPageBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn index(
    State(ctx): State<AppContext>,
    local: ApiLocal,
    filters: Filters,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> ApiResult<Json<MemberPageBody>> {
    let pairs: Vec<(String, String)> =
        serde_html_form::from_str(raw.as_deref().unwrap_or_default())
            .map_err(|_| ApiError::BadRequest("The query string could not be read.".into()))?;
    let mut query = MemberQuery::parse(raw.as_deref());
    // The page sends its blank selects; the API is stricter: a parameter
    // sent is one that says something, once.
    for (i, (key, value)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(k, _)| k == key) {
            query
                .unreadable
                .add("query", format!("{key} is given twice."));
            continue;
        }
        let key = match key.as_str() {
            "status" => "status",
            "employer" => "employer",
            "worksite" => "worksite",
            "unit" => "unit",
            "joined_from" => "joined_from",
            "joined_to" => "joined_to",
            "sort" => "sort",
            "archived" if !matches!(value.as_str(), "true" | "false") => {
                query
                    .unreadable
                    .add("archived", "archived is `true` or `false`.");
                continue;
            }
            _ => continue,
        };
        if value.trim().is_empty() {
            query
                .unreadable
                .add(key, format!("{key} is empty; leave it out instead."));
        }
    }
    if !query.unreadable.is_empty() {
        return Err(ApiError::Invalid(query.unreadable));
    }
    let paging = paging(&ctx, &filters.path, &pairs)?;
    let roll = Member::roll(
        &local.tenant,
        &query.filter,
        query.sort,
        paging.after.as_ref(),
        paging.limit,
    )
    .await?;
    let next = match roll.page.next {
        Some(after) => {
            let mut next: Vec<(String, String)> =
                pairs.into_iter().filter(|(k, _)| k != "cursor").collect();
            next.push((
                "cursor".into(),
                Cursor::sign(
                    &ctx,
                    &filters.path,
                    &serde_json::to_vec(&after).unwrap_or_default(),
                )?,
            ));
            Some(format!(
                "{}?{}",
                filters.path,
                serde_html_form::to_string(&next).map_err(|e| ApiError::Internal(e.to_string()))?
            ))
        }
        None => None,
    };
    Ok(Json(MemberPageBody {
        items: roll
            .page
            .members
            .iter()
            .map(|m| MemberBody::of(m, &roll.directory))
            .collect(),
        next,
        total: total_body(roll.total),
    }))
}

/// The member as the API shows them, read with their history in one
/// transaction ([`Member::record`], as their page reads them).
async fn detail(local: &ApiLocal, pid: uuid::Uuid) -> ApiResult<MemberDetail> {
    let record = Member::record(&local.tenant, pid).await?;
    Ok(MemberDetail {
        member: MemberBody::of(&record.member, &record.directory),
        status_history: record
            .history
            .into_iter()
            .map(|c| StatusChangeBody {
                from: c.from,
                to: c.to,
                by: c.by,
                on: c.on,
            })
            .collect(),
    })
}

/// The member the body describes; phone numbers without a country code are
/// read in the local's country.
fn parse(local: &ApiLocal, input: MemberInput) -> ApiResult<NewMember> {
    MemberForm::from(input)
        .read(local.tenant.phone_country())
        .map_err(ApiError::Invalid)
}

#[utoipa::path(get, path = "/api/v1/locals/{slug}/members/{pid}", tag = "members",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The member's pid")),
    responses((status = 200, body = MemberDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn show(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<Json<MemberDetail>> {
    Ok(Json(detail(&local, pid).await?))
}

#[utoipa::path(post, path = "/api/v1/locals/{slug}/members", tag = "members",
    params(("slug" = String, Path, description = "The local's slug")),
    request_body = MemberInput,
    responses((status = 201, body = MemberDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn create(
    local: ApiLocal,
    ApiJson(input): ApiJson<MemberInput>,
) -> ApiResult<(StatusCode, Json<MemberDetail>)> {
    local
        .access()
        .require(crate::domain::Permission::MembersWrite)?;
    let member = Member::create(&local.tenant, parse(&local, input)?).await?;
    Ok((StatusCode::CREATED, Json(detail(&local, member.pid).await?)))
}

#[utoipa::path(put, path = "/api/v1/locals/{slug}/members/{pid}", tag = "members",
    description = "Replaces the member's details; a new status is added to their history.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The member's pid")),
    request_body = MemberInput,
    responses((status = 200, body = MemberDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn update(
    local: ApiLocal,
    ApiPid(pid): ApiPid,
    ApiJson(input): ApiJson<MemberInput>,
) -> ApiResult<Json<MemberDetail>> {
    local
        .access()
        .require(crate::domain::Permission::MembersWrite)?;
    let member = Member::update(&local.tenant, pid, parse(&local, input)?).await?;
    Ok(Json(detail(&local, member.pid).await?))
}

#[utoipa::path(delete, path = "/api/v1/locals/{slug}/members/{pid}", tag = "members",
    description = "Archives the member (needs `members.delete`): hidden from the roll, restorable.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The member's pid")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn destroy(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<StatusCode> {
    Member::archive(&local.tenant, pid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/locals/{slug}/members/{pid}/restoration", tag = "members",
    description = "Puts an archived member back on the roll (needs `members.delete`).",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = Uuid, Path, description = "The member's pid")),
    responses((status = 201, body = MemberDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn restore(
    local: ApiLocal,
    ApiPid(pid): ApiPid,
) -> ApiResult<(StatusCode, Json<MemberDetail>)> {
    let member = Member::restore(&local.tenant, pid).await?;
    Ok((StatusCode::CREATED, Json(detail(&local, member.pid).await?)))
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/api/v1/locals/{slug}/members", get(index).post(create))
        .add(
            "/api/v1/locals/{slug}/members/{pid}",
            get(show).put(update).delete(destroy),
        )
        .add(
            "/api/v1/locals/{slug}/members/{pid}/restoration",
            post(restore),
        )
}
