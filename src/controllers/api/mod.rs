//! The JSON API, `/api/v1`: the same models, permission check and tenant
//! scoping as the HTML; errors are JSON with a stable code (see
//! [`ApiError`]); collections use signed keyset cursors; each token is rate
//! limited. The OpenAPI 3.1 document is generated from the handlers.
pub mod audit;
pub mod docs;
pub mod invitations;
pub mod me;
pub mod member_imports;
pub mod members;
pub mod roles;
pub mod structure;
pub mod tokens;
pub mod users;

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Mutex, OnceLock},
    time::{Duration, Instant},
};

use axum::{
    extract::{FromRequest, FromRequestParts, RawPathParams, RawQuery, Request},
    http::{header, request::Parts, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use hmac::{Hmac, Mac};
use loco_rs::app::AppContext;
use serde::de::DeserializeOwned;
use sha2::Sha256;

use crate::{
    domain::FieldErrors,
    models::{
        self, _entities::tenants as tenant_rows, api_tokens, memberships::Access, tenants::Tenant,
    },
    settings::Settings,
    views::api::{ErrorBody, ErrorDetail},
};

/// Every way an API call can fail, with its status and stable code.
#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    MissingToken,
    InvalidToken,
    Forbidden,
    Suspended(String),
    NotFound,
    /// A referenced row (e.g. a role) does not exist in this local.
    UnknownReference(FieldErrors),
    Conflict(FieldErrors),
    PayloadTooLarge,
    UnsupportedMediaType,
    Invalid(FieldErrors),
    InvalidParameter(&'static str, String),
    /// A cursor this API did not give out: the page it names does not exist.
    InvalidCursor,
    RateLimited(u64),
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<models::Error> for ApiError {
    fn from(err: models::Error) -> Self {
        match err {
            models::Error::Invalid(errors) => Self::Invalid(errors),
            models::Error::Conflict(errors) => Self::Conflict(errors),
            models::Error::NotFound => Self::NotFound,
            models::Error::UnknownReference(errors) => Self::UnknownReference(errors),
            models::Error::Forbidden => Self::Forbidden,
            models::Error::Suspended(name) => Self::Suspended(name),
            models::Error::AccessDisabled => Self::InvalidToken,
            models::Error::Throttled(wait) => Self::RateLimited(wait),
            other => Self::Internal(other.to_string()),
        }
    }
}

fn details(errors: &FieldErrors) -> BTreeMap<String, String> {
    errors
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, details) = match self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m, BTreeMap::new()),
            Self::MissingToken => (
                StatusCode::UNAUTHORIZED,
                "missing_token",
                "Send a personal API token as `Authorization: Bearer <token>`.".into(),
                BTreeMap::new(),
            ),
            Self::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "The token is unknown, revoked or expired, or its owner's access was disabled."
                    .into(),
                BTreeMap::new(),
            ),
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "The token owner's role in this local does not allow this.".into(),
                BTreeMap::new(),
            ),
            Self::Suspended(name) => (
                StatusCode::FORBIDDEN,
                "local_suspended",
                format!("{name} is suspended; nothing can change in it."),
                BTreeMap::new(),
            ),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "There is nothing here, or the token has no access to it.".into(),
                BTreeMap::new(),
            ),
            Self::UnknownReference(e) => (
                StatusCode::NOT_FOUND,
                "not_found",
                "A record the request refers to does not exist in this local.".into(),
                details(&e),
            ),
            Self::Conflict(e) => (
                StatusCode::CONFLICT,
                "conflict",
                "This conflicts with existing data (a duplicate, or the last admin).".into(),
                details(&e),
            ),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("Request bodies are limited to {MAX_BODY_BYTES} bytes."),
                BTreeMap::new(),
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send JSON with `Content-Type: application/json`.".into(),
                BTreeMap::new(),
            ),
            Self::Invalid(e) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "Some fields are not valid.".into(),
                details(&e),
            ),
            Self::InvalidParameter(name, m) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                m.clone(),
                BTreeMap::from([(name.to_string(), m)]),
            ),
            Self::InvalidCursor => (
                StatusCode::NOT_FOUND,
                "invalid_cursor",
                "The cursor is not one this API gave out for this collection; start again from the first page.".into(),
                BTreeMap::from([("cursor".to_string(), "Unknown cursor.".to_string())]),
            ),
            Self::RateLimited(wait) => {
                let body = ErrorBody {
                    error: ErrorDetail {
                        code: "rate_limited".into(),
                        message: format!("Too many requests; retry after {wait} s."),
                        details: BTreeMap::new(),
                    },
                };
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, wait.to_string())],
                    Json(body),
                )
                    .into_response();
            }
            Self::Internal(detail) => {
                tracing::error!(error = %detail, "api request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong; nothing was changed.".into(),
                    BTreeMap::new(),
                )
            }
        };
        let mut response = (
            status,
            Json(ErrorBody {
                error: ErrorDetail {
                    code: code.into(),
                    message,
                    details,
                },
            }),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// The Redis key counting a token's requests in one minute (`window` is
/// Unix time divided by 60).
#[must_use]
pub fn rate_window_key(token: uuid::Uuid, window: u64) -> String {
    format!("ratelimit:api:{token}:{window}")
}

/// Fixed one-minute windows per token. With the Redis job backend (the
/// production setup, several web processes) the count lives in Redis, so
/// the limit holds across processes; on the embedded backend (one process)
/// or while Redis is unreachable, in this process.
async fn rate_limit(ctx: &AppContext, token: uuid::Uuid, per_minute: u32) -> ApiResult<()> {
    if let crate::workers::Backend::Redis(redis) = crate::workers::Jobs::of(ctx).backend() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        match redis.hit(&rate_window_key(token, now / 60), 120).await {
            Ok(count) if count > u64::from(per_minute) => {
                return Err(ApiError::RateLimited((60 - now % 60).max(1)));
            }
            Ok(_) => return Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "rate limit counted in this process: Redis is unreachable")
            }
        }
    }
    local_rate_limit(token, per_minute)
}

/// [`rate_limit`] in this process (keyed by the token's pid; windows older
/// than a minute are dropped as they are met).
fn local_rate_limit(token: uuid::Uuid, per_minute: u32) -> ApiResult<()> {
    static WINDOWS: OnceLock<Mutex<HashMap<uuid::Uuid, (Instant, u32)>>> = OnceLock::new();
    let mut windows = WINDOWS
        .get_or_init(Default::default)
        .lock()
        .map_err(|_| ApiError::Internal("rate limiter poisoned".into()))?;
    let now = Instant::now();
    let window = windows.entry(token).or_insert((now, 0));
    if now.duration_since(window.0) >= Duration::from_secs(60) {
        *window = (now, 0);
    }
    let (started, count) = *window;
    if windows.len() > 10_000 {
        windows.retain(|_, (at, _)| now.duration_since(*at) < Duration::from_secs(60));
    }
    let window = windows.entry(token).or_insert((started, count));
    window.1 += 1;
    if window.1 > per_minute {
        let wait = 60u64
            .saturating_sub(now.duration_since(window.0).as_secs())
            .max(1);
        return Err(ApiError::RateLimited(wait));
    }
    Ok(())
}

/// The local an API call acts in, through a personal token: the token's
/// owner must still hold an enabled role there. Built like the HTML's
/// `Local` — a `Tenant` from a membership check — so scoping is the same.
pub struct ApiLocal {
    pub tenant: Tenant,
    pub token: api_tokens::Model,
    access: Access,
}

impl ApiLocal {
    /// The token owner's role here.
    #[must_use]
    pub fn access(&self) -> &Access {
        &self.access
    }
}

impl FromRequestParts<AppContext> for ApiLocal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, ApiError> {
        let raw = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(ApiError::MissingToken)?;
        let token = api_tokens::authenticate(&ctx.db, raw)
            .await
            .map_err(|e| match e {
                models::Error::NotFound => ApiError::InvalidToken,
                other => other.into(),
            })?;
        rate_limit(ctx, token.pid, Settings::of(ctx).api.requests_per_minute).await?;
        let params = RawPathParams::from_request_parts(parts, ctx)
            .await
            .map_err(|_| ApiError::NotFound)?;
        let slug = match params.iter().find(|(k, _)| *k == "slug") {
            Some((_, slug)) => slug.to_string(),
            None => {
                tenant_rows::Entity::find_by_id(token.tenant_id)
                    .one(&ctx.db)
                    .await
                    .map_err(|e| ApiError::Internal(e.to_string()))?
                    .ok_or(ApiError::InvalidToken)?
                    .slug
            }
        };
        let tenant = Tenant::enter(&ctx.db, token.user_id, &slug)
            .await
            .map_err(|e| match e {
                models::Error::NotFound => ApiError::NotFound,
                other => other.into(),
            })?;
        // A token works in its own local only; elsewhere the local is not found.
        if tenant.id() != token.tenant_id {
            return Err(ApiError::NotFound);
        }
        let access = tenant.access()?.clone();
        Ok(Self {
            tenant,
            access,
            token,
        })
    }
}

use sea_orm::EntityTrait;

/// The `{pid}` of an API path; anything but a UUID is not found.
pub struct ApiPid(pub uuid::Uuid);

impl FromRequestParts<AppContext> for ApiPid {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, ctx)
            .await
            .map_err(|_| ApiError::NotFound)?;
        params
            .iter()
            .find(|(k, _)| *k == "pid")
            .and_then(|(_, v)| uuid::Uuid::parse_str(v).ok())
            .map(Self)
            .ok_or(ApiError::NotFound)
    }
}

pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON request body: `application/json`, at most [`MAX_BODY_BYTES`],
/// well-formed, and with no unknown fields.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppContext> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _ctx: &AppContext) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| ApiError::PayloadTooLarge)?;
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|e| match e.classify() {
                serde_json::error::Category::Data => {
                    ApiError::Invalid(FieldErrors::one("body", e.to_string()))
                }
                _ => ApiError::BadRequest(format!("The body is not valid JSON: {e}")),
            })
    }
}

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 100;

/// `?limit=&cursor=`: a keyset position ([`Cursor`]), so a tampered cursor is refused.
#[derive(Debug, Clone, Copy)]
pub struct PageParams {
    pub after: Option<i32>,
    pub limit: u64,
    pub newest_first: bool,
}

impl PageParams {
    #[must_use]
    pub fn window(self) -> crate::models::Window {
        crate::models::Window::page(self.after, self.limit, self.newest_first)
    }
}

/// The collection's path and its query's filters (everything but paging),
/// kept in `next` links.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    path: String,
    pairs: Vec<(String, String)>,
}

impl Filters {
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl FromRequestParts<AppContext> for Filters {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, ApiError> {
        let pairs = query_pairs(parts, ctx)
            .await?
            .into_iter()
            .filter(|(k, _)| !matches!(k.as_str(), "limit" | "cursor" | "sort"))
            .collect();
        Ok(Self {
            path: parts.uri.path().to_string(),
            pairs,
        })
    }
}

async fn query_pairs(parts: &mut Parts, ctx: &AppContext) -> ApiResult<Vec<(String, String)>> {
    let RawQuery(query) = RawQuery::from_request_parts(parts, ctx)
        .await
        .map_err(|_| ApiError::BadRequest("bad query".into()))?;
    serde_html_form::from_str(query.as_deref().unwrap_or_default())
        .map_err(|_| ApiError::BadRequest("The query string could not be read.".into()))
}

/// The one cursor of every API collection: a position (a row's id, or a
/// member order's keyset position) and an HMAC of it together with the
/// collection's path, as `payload.tag` in hex. A cursor cannot be forged,
/// and works only on the collection that gave it out.
pub struct Cursor;

impl Cursor {
    fn mac(ctx: &AppContext, path: &str, payload: &[u8]) -> ApiResult<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(Settings::of(ctx).secret_key.as_bytes())
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        mac.update(path.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        Ok(mac)
    }

    /// The cursor for `payload` on the collection at `path`.
    ///
    /// # Errors
    /// Never in practice (HMAC accepts any key length).
    pub fn sign(ctx: &AppContext, path: &str, payload: &[u8]) -> ApiResult<String> {
        let tag = Self::mac(ctx, path, payload)?.finalize().into_bytes();
        Ok(format!(
            "{}.{}",
            hex::encode(payload),
            hex::encode(&tag[..12])
        ))
    }

    /// The payload of a cursor this API gave out for `path`.
    ///
    /// # Errors
    /// `InvalidCursor` for anything else.
    pub fn open(ctx: &AppContext, path: &str, raw: &str) -> ApiResult<Vec<u8>> {
        let (payload, tag) = raw.split_once('.').ok_or(ApiError::InvalidCursor)?;
        let payload = hex::decode(payload).map_err(|_| ApiError::InvalidCursor)?;
        let tag = hex::decode(tag).map_err(|_| ApiError::InvalidCursor)?;
        if tag.len() != 12 {
            return Err(ApiError::InvalidCursor);
        }
        Self::mac(ctx, path, &payload)?
            .verify_truncated_left(&tag)
            .map_err(|_| ApiError::InvalidCursor)?;
        Ok(payload)
    }

    /// The cursor after the row `id` of the collection at `path`.
    ///
    /// # Errors
    /// Never in practice.
    pub fn after_id(ctx: &AppContext, path: &str, id: i32) -> ApiResult<String> {
        Self::sign(ctx, path, &id.to_be_bytes())
    }

    fn id(ctx: &AppContext, path: &str, raw: &str) -> ApiResult<i32> {
        let payload = Self::open(ctx, path, raw)?;
        Ok(i32::from_be_bytes(
            payload.try_into().map_err(|_| ApiError::InvalidCursor)?,
        ))
    }
}

/// `?limit=`: a whole number from 1 to [`MAX_PAGE_SIZE`], for every
/// collection (the members list pages by its own cursor, not by id).
///
/// # Errors
/// `InvalidParameter` naming `limit`.
pub fn parse_limit(value: &str) -> ApiResult<u64> {
    value
        .parse::<u64>()
        .ok()
        .filter(|l| (1..=MAX_PAGE_SIZE).contains(l))
        .ok_or_else(|| {
            ApiError::InvalidParameter(
                "limit",
                format!("limit must be a whole number from 1 to {MAX_PAGE_SIZE}."),
            )
        })
}

impl FromRequestParts<AppContext> for PageParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, ApiError> {
        let mut params = Self {
            after: None,
            limit: DEFAULT_PAGE_SIZE,
            newest_first: false,
        };
        for (key, value) in query_pairs(parts, ctx).await? {
            match key.as_str() {
                "limit" => {
                    params.limit = parse_limit(&value)?;
                }
                "sort" => {
                    params.newest_first =
                        match value.as_str() {
                            "created" => false,
                            "-created" => true,
                            _ => return Err(ApiError::InvalidParameter(
                                "sort",
                                "sort is `created` (oldest first) or `-created` (newest first)."
                                    .into(),
                            )),
                        };
                }
                "cursor" => params.after = Some(Cursor::id(ctx, parts.uri.path(), &value)?),
                _ => {}
            }
        }
        Ok(params)
    }
}

/// Builds a page from `limit + 1` rows fetched after the cursor.
///
/// # Errors
/// Never in practice.
pub fn page<R, T>(
    ctx: &AppContext,
    filters: &Filters,
    params: PageParams,
    mut rows: Vec<R>,
    id: impl Fn(&R) -> i32,
    to: impl Fn(&R) -> T,
) -> ApiResult<crate::views::api::Page<T>>
where
    T: utoipa::ToSchema,
{
    let limit = usize::try_from(params.limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = match (more, rows.last()) {
        (true, Some(last)) => {
            let mut query = filters.pairs.clone();
            query.push(("limit".into(), params.limit.to_string()));
            if params.newest_first {
                query.push(("sort".into(), "-created".into()));
            }
            query.push((
                "cursor".into(),
                Cursor::after_id(ctx, &filters.path, id(last))?,
            ));
            let query = serde_html_form::to_string(&query)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            Some(format!("{}?{query}", filters.path))
        }
        _ => None,
    };
    Ok(crate::views::api::Page {
        items: rows.iter().map(to).collect(),
        next,
    })
}

/// A query parameter naming one of the local's rows by pid.
///
/// # Errors
/// `InvalidParameter` for anything but a UUID.
pub(super) fn pid_param(filters: &Filters, key: &'static str) -> ApiResult<Option<uuid::Uuid>> {
    filters
        .get(key)
        .map(|v| {
            uuid::Uuid::parse_str(v.trim()).map_err(|_| {
                ApiError::InvalidParameter(
                    key,
                    format!("{key} is the pid of one of the local's rows."),
                )
            })
        })
        .transpose()
}
