//! Member imports through the API, with the same model calls as the import
//! pages (`controllers::member_imports`): upload a CSV as the request body
//! (streamed into the database, size-limited), read the preview, set how
//! the columns are read, start it, follow its progress, then page through
//! the rows it could not take.
use std::collections::BTreeMap;

use axum::{
    extract::{DefaultBodyLimit, Request, State},
    http::{header, HeaderName, StatusCode},
    routing::{get, post},
    Json,
};
use loco_rs::prelude::{AppContext, Routes};

use super::{page, ApiError, ApiLocal, ApiPid, ApiResult, Filters, PageParams};
use crate::{
    domain::FieldErrors,
    models::member_imports::{Mapping, Model as Import, OnDuplicate, FIELDS},
    settings::Settings,
    views::api::{ErrorBody, FailedRowBody, ImportBody, ImportSettingsInput, Page, PreviewBody},
};

#[utoipa::path(get, path = "/api/v1/locals/{slug}/member_imports", tag = "imports",
    description = "The local's member imports (needs `members.write`).",
    params(("slug" = String, Path, description = "The local's slug"), super::docs::PageQuery),
    responses((status = 200, body = Page<ImportBody>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn index(
    State(ctx): State<AppContext>,
    local: ApiLocal,
    filters: Filters,
    params: PageParams,
) -> ApiResult<Json<Page<ImportBody>>> {
    let rows = Import::window(&local.tenant, params.window()).await?;
    Ok(Json(page(
        &ctx,
        &filters,
        params,
        rows,
        |i| i.id,
        |i| ImportBody::from(i),
    )?))
}

/// A CSV file as the API takes it: a header row and at least one row.
pub struct CsvFile;

impl utoipa::PartialSchema for CsvFile {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r#"^[^\n\u0000"]+\n[^\s\u0000"][^\u0000"]*$"#))
            .into()
    }
}

impl utoipa::ToSchema for CsvFile {}

#[utoipa::path(post, path = "/api/v1/locals/{slug}/member_imports", tag = "imports",
    description = "Uploads a CSV file of members as the request body (`Content-Type: text/csv`; UTF-8, UTF-16 or Windows-1252, comma, semicolon or tab separated, a header row first), up to the site's limit. The columns are mapped from the headers where they can be guessed (headers that name none are fine: map them with `PUT`); check the preview, adjust with `PUT`, then start it.",
    params(("slug" = String, Path, description = "The local's slug"), super::docs::UploadQuery),
    request_body(content = CsvFile, content_type = "text/csv", description = "The CSV file: a header row, then a row per member"),
    responses((status = 201, body = ImportBody, headers(("Location" = String, description = "The import's URL"))), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody, description = "The file was refused (`details.file` says why)"), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn create(
    State(ctx): State<AppContext>,
    local: ApiLocal,
    filters: Filters,
    request: Request,
) -> ApiResult<(StatusCode, [(HeaderName, String); 1], Json<ImportBody>)> {
    let is_csv = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            let m = m.trim();
            m.eq_ignore_ascii_case("text/csv") || m.eq_ignore_ascii_case("application/octet-stream")
        });
    if !is_csv {
        return Err(ApiError::UnsupportedMediaType);
    }
    let max_bytes = Settings::of(&ctx).imports.max_megabytes * 1024 * 1024;
    let file_name = filters
        .get("file_name")
        .unwrap_or("members.csv")
        .to_string();
    if file_name.chars().count() > 200 {
        return Err(ApiError::InvalidParameter(
            "file_name",
            "file_name is at most 200 characters.".into(),
        ));
    }
    let body = request.into_body().into_data_stream();
    // An integration maps the columns itself (PUT), so headers need not
    // name them the way the page's guess reads them.
    let import = Import::receive(&local.tenant, &file_name, body, max_bytes, false).await?;
    let location = format!(
        "/api/v1/locals/{}/member_imports/{}",
        local.tenant.slug(),
        import.pid
    );
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(ImportBody::from(&import)),
    ))
}

#[utoipa::path(get, path = "/api/v1/locals/{slug}/member_imports/{pid}", tag = "imports",
    description = "The import, with its progress while it runs (`processed_rows` of `total_rows`) and its counts.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = uuid::Uuid, Path, description = "The import's pid")),
    responses((status = 200, body = ImportBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn show(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<Json<ImportBody>> {
    Ok(Json(ImportBody::from(
        &Import::find(&local.tenant, pid).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/locals/{slug}/member_imports/{pid}/preview", tag = "imports",
    description = "The file's headers and first rows, each checked as the import would with the current mapping, and the employers, worksites and units the file names that the local lacks.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = uuid::Uuid, Path, description = "The import's pid")),
    responses((status = 200, body = PreviewBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn preview(local: ApiLocal, ApiPid(pid): ApiPid) -> ApiResult<Json<PreviewBody>> {
    let import = Import::find(&local.tenant, pid).await?;
    Ok(Json(PreviewBody::from(
        import.preview(&local.tenant).await?,
    )))
}

/// The settings as sent, refused field by field (unknown field keys, an
/// unknown duplicate rule).
fn settings(input: ImportSettingsInput) -> ApiResult<(Mapping, OnDuplicate, bool)> {
    let mut errors = FieldErrors::new();
    if let Some(unknown) = input
        .mapping
        .keys()
        .find(|k| !FIELDS.iter().any(|f| f.key == k.as_str()))
    {
        errors.add(
            "mapping",
            format!("{unknown} is not a field; the preview's `fields` lists them."),
        );
    }
    let on_duplicate = match input.on_duplicate.as_deref() {
        None | Some("skip") => OnDuplicate::Skip,
        Some("update") => OnDuplicate::Update,
        Some(_) => {
            errors.add("on_duplicate", "on_duplicate is `skip` or `update`.");
            OnDuplicate::Skip
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    Ok((
        Mapping(
            input
                .mapping
                .into_iter()
                .map(|(k, v)| (k, usize::try_from(v.0).unwrap_or(usize::MAX)))
                .collect::<BTreeMap<_, _>>(),
        ),
        on_duplicate,
        input.create_missing,
    ))
}

#[utoipa::path(put, path = "/api/v1/locals/{slug}/member_imports/{pid}", tag = "imports",
    description = "Sets how the file is read, while the import is being set up (`state` is `mapping`). A mapping with problems (a column mapped twice, no column for the names, a column the file lacks) is kept so it can be corrected, and answered with a 422 naming each field; once started, a 409.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = uuid::Uuid, Path, description = "The import's pid")),
    request_body = ImportSettingsInput,
    responses((status = 200, body = ImportBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn update(
    local: ApiLocal,
    ApiPid(pid): ApiPid,
    super::ApiJson(input): super::ApiJson<ImportSettingsInput>,
) -> ApiResult<Json<ImportBody>> {
    let (mapping, on_duplicate, create_missing) = settings(input)?;
    let import =
        Import::configure(&local.tenant, pid, mapping, on_duplicate, create_missing).await?;
    Ok(Json(ImportBody::from(&import)))
}

#[utoipa::path(post, path = "/api/v1/locals/{slug}/member_imports/{pid}/start", tag = "imports",
    description = "Starts the import in the background; follow it with `GET` on the import. Once only: a second start is a 409.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = uuid::Uuid, Path, description = "The import's pid")),
    responses((status = 202, body = ImportBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody, description = "The mapping has problems"), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn start(
    local: ApiLocal,
    ApiPid(pid): ApiPid,
) -> ApiResult<(StatusCode, Json<ImportBody>)> {
    let import = Import::queue(&local.tenant, pid).await?;
    Ok((StatusCode::ACCEPTED, Json(ImportBody::from(&import))))
}

#[utoipa::path(get, path = "/api/v1/locals/{slug}/member_imports/{pid}/failed_rows", tag = "imports",
    description = "The rows the import could not take, in the file's order, with why.",
    params(("slug" = String, Path, description = "The local's slug"), ("pid" = uuid::Uuid, Path, description = "The import's pid"), super::docs::PageQuery),
    responses((status = 200, body = Page<FailedRowBody>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn failed_rows(
    State(ctx): State<AppContext>,
    local: ApiLocal,
    ApiPid(pid): ApiPid,
    filters: Filters,
    params: PageParams,
) -> ApiResult<Json<Page<FailedRowBody>>> {
    let rows = Import::failed_rows(&local.tenant, pid, params.window()).await?;
    Ok(Json(page(
        &ctx,
        &filters,
        params,
        rows,
        |r| r.id,
        |r| FailedRowBody {
            row: r.row,
            reason: r.reason.clone(),
            values: r.values.clone(),
        },
    )?))
}

pub fn routes() -> Routes {
    Routes::new()
        .add(
            "/api/v1/locals/{slug}/member_imports",
            // The size limit is the configured one, enforced while the file streams in.
            get(index).post(create).layer(DefaultBodyLimit::disable()),
        )
        .add(
            "/api/v1/locals/{slug}/member_imports/{pid}",
            get(show).put(update),
        )
        .add(
            "/api/v1/locals/{slug}/member_imports/{pid}/preview",
            get(preview),
        )
        .add(
            "/api/v1/locals/{slug}/member_imports/{pid}/start",
            post(start),
        )
        .add(
            "/api/v1/locals/{slug}/member_imports/{pid}/failed_rows",
            get(failed_rows),
        )
}
