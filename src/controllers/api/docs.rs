//! The OpenAPI 3.1 document, generated from the handlers' annotations, and a
//! readable reference page (Redoc, from the npm registry, served locally).
use axum::{
    http::header,
    response::{Html, IntoResponse, Response},
    routing::get,
    Json,
};
use loco_rs::prelude::Routes;
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    IntoParams, Modify, OpenApi,
};

use super::{
    audit, invitations, me, member_imports, members, roles, structure, tokens, users, ApiError,
    ApiLocal,
};
use crate::{domain::Phone, views::api};

/// `?limit=&cursor=` of every collection.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// The `cursor` from the previous page's `next` link.
    #[param(pattern = "^[0-9a-f]{8}\\.[0-9a-f]{24}$")]
    pub cursor: Option<String>,
    /// `created` (oldest first, the default) or `-created` (newest first).
    #[param(pattern = "^-?created$")]
    pub sort: Option<String>,
}

/// Filters of `GET …/users`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    /// Only holders of this role (its pid).
    #[param(format = Uuid, value_type = Option<String>)]
    pub role: Option<String>,
    /// `active` or `disabled`.
    #[param(pattern = "^(active|disabled)$")]
    pub status: Option<String>,
}

/// `?name=` of `GET …/employers` and `GET …/bargaining_units`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartQuery {
    /// Only the one with exactly this name (a name such a row may have:
    /// not blank, no control characters).
    #[param(schema_with = crate::views::api::part_name)]
    pub name: Option<String>,
}

/// `?employer=&name=` of `GET …/worksites`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorksiteQuery {
    /// Only this employer's worksites (its pid).
    #[param(format = Uuid, value_type = Option<String>)]
    pub employer: Option<String>,
    /// Only the one with exactly this name (a name such a row may have:
    /// not blank, no control characters).
    #[param(schema_with = crate::views::api::part_name)]
    pub name: Option<String>,
}

/// `?file_name=` of `POST …/member_imports`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name, to tell imports apart (default `members.csv`).
    #[param(max_length = 200)]
    pub file_name: Option<String>,
}

/// `?subject_type=` of `GET …/audit_events`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only changes to this kind of record (`member`, `employer`, …).
    #[param(pattern = "^[a-z_]{0,40}$")]
    pub subject_type: Option<String>,
}

/// Search, filters and order of `GET …/members`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    /// Part of a name, email, phone or employee number (case-insensitive).
    pub q: Option<String>,
    /// A status's pid.
    #[param(format = Uuid, value_type = Option<String>)]
    pub status: Option<String>,
    /// An employer's pid.
    #[param(format = Uuid, value_type = Option<String>)]
    pub employer: Option<String>,
    /// A worksite's pid.
    #[param(format = Uuid, value_type = Option<String>)]
    pub worksite: Option<String>,
    /// A bargaining unit's pid.
    #[param(format = Uuid, value_type = Option<String>)]
    pub unit: Option<String>,
    /// Joined on or after (`YYYY-MM-DD`).
    #[param(format = Date, value_type = Option<String>)]
    pub joined_from: Option<String>,
    /// Joined on or before (`YYYY-MM-DD`).
    #[param(format = Date, value_type = Option<String>)]
    pub joined_to: Option<String>,
    /// `true`: archived members instead (needs `members.delete`).
    pub archived: Option<bool>,
    /// `name` (default), `joined` (newest first) or `status` (the local's order).
    #[param(pattern = "^(name|joined|status)$")]
    pub sort: Option<String>,
    /// Items per page, 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// The `cursor` from the previous page's `next` link.
    #[param(pattern = "^([0-9a-f]{2})+\\.[0-9a-f]{24}$")]
    pub cursor: Option<String>,
}

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A personal API token (`uh_…`), created under Tokens in a local.",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Union Hall API",
        version = "1",
        description = "Everything a local's staff do in the browser, for scripts and integrations. \
            Authenticate with a personal token: `Authorization: Bearer uh_…`. A token is bound to one \
            local and acts with its owner's current role there. Errors are JSON `{\"error\": {code, \
            message, details}}`. Collections are pages with a `next` link (keyset cursors)."
    ),
    paths(
        me::me, me::locals, me::permissions,
        roles::index, roles::create, roles::show, roles::update, roles::destroy,
        users::index, users::show, users::update, users::disable, users::enable,
        invitations::index, invitations::create, invitations::destroy,
        tokens::index, tokens::create, tokens::destroy,
        members::index, members::create, members::show, members::update, members::destroy, members::restore,
        structure::employers_index, structure::employers_create, structure::employers_show, structure::employers_update, structure::employers_destroy,
        structure::worksites_index, structure::worksites_create, structure::worksites_show, structure::worksites_update, structure::worksites_destroy,
        structure::units_index, structure::units_create, structure::units_show, structure::units_update, structure::units_destroy,
        member_imports::index, member_imports::create, member_imports::show, member_imports::preview, member_imports::update, member_imports::start, member_imports::failed_rows,
        audit::index,
        structure::statuses_index, structure::statuses_create, structure::statuses_show, structure::statuses_update, structure::statuses_move, structure::statuses_destroy,
    ),
    components(schemas(api::ErrorBody, api::ErrorDetail)),
    modifiers(&BearerToken),
    tags(
        (name = "account", description = "Who the token acts for"),
        (name = "roles", description = "Roles and permissions of a local"),
        (name = "users", description = "People with access to a local"),
        (name = "invitations", description = "Inviting people into a local"),
        (name = "tokens", description = "Personal API tokens"),
        (name = "members", description = "The union's roll"),
        (name = "structure", description = "Employers, worksites, bargaining units and membership statuses"),
        (name = "imports", description = "Member imports from CSV files"),
        (name = "audit", description = "The local's audit log"),
    )
)]
pub struct ApiDoc;

/// The document; fetched with a token, it also states the pattern of the
/// phone numbers that token's local accepts (numbers without a country code
/// are read in the local's country, so the pattern is the local's).
/// The document is built once per process (utoipa assembles every schema
/// each time it is asked); only a token's phone pattern is patched per
/// request.
static DOC: std::sync::LazyLock<serde_json::Value> =
    std::sync::LazyLock::new(|| serde_json::to_value(ApiDoc::openapi()).unwrap_or_default());

async fn openapi(local: Result<ApiLocal, ApiError>) -> Json<serde_json::Value> {
    let Ok(local) = local else {
        return Json(DOC.clone());
    };
    let mut doc = DOC.clone();
    if let Some(serde_json::Value::Object(phone)) =
        doc.pointer_mut("/components/schemas/MemberInput/properties/phone")
    {
        let country = local.tenant.phone_country();
        phone.insert("pattern".into(), Phone::pattern(country).into());
        phone.insert(
            "description".into(),
            format!(
                "Any common format; stored as E.164. Numbers without `+` or `00` are read in this local's country (+{country})."
            )
            .into(),
        );
    }
    Json(doc)
}

/// Redoc needs inline styles and a blob worker: this page alone gets a
/// looser style policy; scripts still come only from this site.
async fn reference() -> Response {
    let page = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference · Union Hall</title></head>
<body><redoc spec-url="/api/v1/openapi.json"></redoc>
<script src="/static/vendor/redoc.standalone.js"></script></body></html>"#;
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             font-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
        )],
        Html(page),
    )
        .into_response()
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/api/v1/openapi.json", get(openapi))
        .add("/api/v1/docs", get(reference))
}
