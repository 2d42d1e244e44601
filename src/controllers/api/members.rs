//! Members through the API: the same model calls, permission checks and
//! tenant scoping as `controllers::members`. The list takes the HTML list's
//! filters and orders; its cursor is the keyset position, signed.
use axum::{
    extract::State,
    http::StatusCode,
    routing::{get, post},
    Json,
};
use hmac::Mac;
use loco_rs::prelude::{AppContext, Routes};

use super::{
    cursor_mac, pid_param, refs, ApiError, ApiJson, ApiLocal, ApiPid, ApiResult, Filters,
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE,
};
use crate::{
    models::{
        members::{After, MemberFilter, Model as Member, NewMember, Sort, Total},
        structure::Directory,
    },
    views::{
        api::{
            ErrorBody, MemberBody, MemberDetail, MemberInput, MemberPageBody, StatusChangeBody,
            TotalBody,
        },
        members::MemberForm,
    },
};

fn date_param(filters: &Filters, key: &'static str) -> ApiResult<Option<chrono::NaiveDate>> {
    crate::domain::date::parse_optional_date(filters.get(key).unwrap_or_default())
        .map_err(|m| ApiError::InvalidParameter(key, format!("{key}: {m}")))
}

/// `?q=&status=&employer=&worksite=&unit=&joined_from=&joined_to=`.
fn member_filter(filters: &Filters) -> ApiResult<MemberFilter> {
    Ok(MemberFilter {
        search: filters
            .get("q")
            .map(str::to_string)
            .filter(|q| !q.trim().is_empty()),
        status: pid_param(filters, "status")?,
        employer: pid_param(filters, "employer")?,
        worksite: pid_param(filters, "worksite")?,
        bargaining_unit: pid_param(filters, "unit")?,
        joined_from: date_param(filters, "joined_from")?,
        joined_to: date_param(filters, "joined_to")?,
        archived: matches!(filters.get("archived"), Some("true" | "1")),
    })
}

/// The list's own paging: `sort` is a member order, the cursor a signed position.
struct MemberPaging {
    sort: Sort,
    after: Option<After>,
    limit: u64,
}

fn sign(ctx: &AppContext, payload: &[u8]) -> ApiResult<String> {
    let mut mac = cursor_mac(ctx)?;
    mac.update(payload);
    let tag = mac.finalize().into_bytes();
    Ok(format!(
        "{}.{}",
        hex::encode(payload),
        hex::encode(&tag[..12])
    ))
}

fn unsign(ctx: &AppContext, raw: &str) -> ApiResult<Vec<u8>> {
    let (payload, tag) = raw.split_once('.').ok_or(ApiError::InvalidCursor)?;
    let payload = hex::decode(payload).map_err(|_| ApiError::InvalidCursor)?;
    let tag = hex::decode(tag).map_err(|_| ApiError::InvalidCursor)?;
    let mut mac = cursor_mac(ctx)?;
    mac.update(&payload);
    mac.verify_truncated_left(&tag)
        .map_err(|_| ApiError::InvalidCursor)?;
    Ok(payload)
}

fn paging(ctx: &AppContext, raw: &[(String, String)]) -> ApiResult<MemberPaging> {
    let mut paging = MemberPaging {
        sort: Sort::Name,
        after: None,
        limit: DEFAULT_PAGE_SIZE,
    };
    for (key, value) in raw {
        match key.as_str() {
            "sort" => {
                paging.sort = Sort::parse(value).ok_or_else(|| {
                    ApiError::InvalidParameter(
                        "sort",
                        "sort is `name`, `joined` or `status`.".into(),
                    )
                })?;
            }
            "limit" => {
                paging.limit = value
                    .parse::<u64>()
                    .ok()
                    .filter(|l| (1..=MAX_PAGE_SIZE).contains(l))
                    .ok_or_else(|| {
                        ApiError::InvalidParameter(
                            "limit",
                            format!("limit must be a whole number from 1 to {MAX_PAGE_SIZE}."),
                        )
                    })?;
            }
            "cursor" => {
                let payload = unsign(ctx, value)?;
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
    let filter = member_filter(&filters)?;
    let paging = paging(&ctx, &pairs)?;
    let page = Member::list(
        &local.tenant,
        &filter,
        paging.sort,
        paging.after.as_ref(),
        paging.limit,
    )
    .await?;
    let total = Member::count(&local.tenant, &filter).await?;
    let directory = Directory::load(&local.tenant).await?;
    let next = match page.next {
        Some(after) => {
            let mut query: Vec<(String, String)> =
                pairs.into_iter().filter(|(k, _)| k != "cursor").collect();
            query.push((
                "cursor".into(),
                sign(&ctx, &serde_json::to_vec(&after).unwrap_or_default())?,
            ));
            Some(format!(
                "/api/v1/locals/{}/members?{}",
                local.tenant.slug(),
                serde_html_form::to_string(&query)
                    .map_err(|e| ApiError::Internal(e.to_string()))?
            ))
        }
        None => None,
    };
    Ok(Json(MemberPageBody {
        items: page
            .members
            .iter()
            .map(|m| MemberBody::of(m, &directory))
            .collect(),
        next,
        total: total_body(total),
    }))
}

async fn detail(local: &ApiLocal, member: &Member) -> ApiResult<MemberDetail> {
    let directory = Directory::load(&local.tenant).await?;
    let history = member.status_history(&local.tenant).await?;
    Ok(MemberDetail {
        member: MemberBody::of(member, &directory),
        status_history: history
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
    let member = Member::find(&local.tenant, pid).await?;
    Ok(Json(detail(&local, &member).await?))
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
    let member = Member::create(&local.tenant, parse(&local, input)?)
        .await
        .map_err(refs)?;
    Ok((StatusCode::CREATED, Json(detail(&local, &member).await?)))
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
    let member = Member::update(&local.tenant, pid, parse(&local, input)?)
        .await
        .map_err(refs)?;
    Ok(Json(detail(&local, &member).await?))
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
    Ok((StatusCode::CREATED, Json(detail(&local, &member).await?)))
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
