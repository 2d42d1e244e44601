//! Thin handlers: extract → one model call → render or redirect (STYLE.md 2).
//! This module holds the one error path and the extractors every handler
//! uses: the signed-in person, the current local, CSRF-checked forms, and
//! the page layout.
pub mod account;
pub mod api;
pub mod audit;
pub mod email_verifications;
pub mod home;
pub mod invitation_links;
pub mod invitations;
pub mod locals;
pub mod member_bulk_changes;
pub mod member_imports;
pub mod members;
pub mod metrics;
pub mod monitoring;
pub mod ops;
pub mod ops_jobs;
pub mod password_resets;
pub mod profile;
pub mod roles;
pub mod sessions;
pub mod structure;
pub mod tokens;
pub mod users;

use askama::Template;
use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, RawPathParams, Request},
    http::{header, request::Parts, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
};
use axum_csrf::CsrfToken;
use loco_rs::app::AppContext;
use serde::{de::DeserializeOwned, Deserialize};
use tower_sessions::Session;

use crate::{
    models::{
        self, memberships::Access, sessions::USER_ID_KEY, tenants::Tenant, users as user_model,
    },
    views::{errors::ErrorPage, Errors, Flash, Layout, Viewer},
};

const FLASH_KEY: &str = "flash";

/// Everything a handler can fail with; each renders a clear page.
#[derive(Debug)]
pub enum WebError {
    NotFound,
    /// A link (invitation, reset, verification) that expired or was used.
    LinkInvalid,
    Forbidden,
    Suspended(String),
    AccessDisabled,
    SignInRequired(String),
    Throttled(u64),
    CsrfFailed,
    BadRequest(String),
    Internal(String),
}

pub type WebResult = Result<Response, WebError>;

impl From<models::Error> for WebError {
    fn from(err: models::Error) -> Self {
        match err {
            models::Error::NotFound => Self::NotFound,
            models::Error::Forbidden => Self::Forbidden,
            models::Error::Suspended(name) => Self::Suspended(name),
            models::Error::AccessDisabled => Self::AccessDisabled,
            models::Error::Throttled(wait) => Self::Throttled(wait),
            models::Error::Invalid(errors)
            | models::Error::Conflict(errors)
            | models::Error::UnknownReference(errors) => Self::BadRequest(errors.sentence()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(err: askama::Error) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<tower_sessions::session::Error> for WebError {
    fn from(err: tower_sessions::session::Error) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<loco_rs::Error> for WebError {
    fn from(err: loco_rs::Error) -> Self {
        Self::Internal(err.to_string())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            Self::SignInRequired(return_to) => {
                let to = format!("/session/new?return_to={}", urlencode(&return_to));
                return Redirect::to(&to).into_response();
            }
            Self::NotFound => (StatusCode::NOT_FOUND, "Page not found", "There is nothing here, or you do not have access to it.".to_string()),
            Self::LinkInvalid => (StatusCode::NOT_FOUND, "This link no longer works", "The link has expired or has already been used. Ask for a new one.".to_string()),
            Self::Forbidden => (StatusCode::FORBIDDEN, "Not allowed", "Your role in this local does not allow this. Ask an admin of the local if you need it.".to_string()),
            Self::Suspended(name) => (StatusCode::FORBIDDEN, "This local is suspended", format!("{name} is suspended, so nothing can be changed in it for now. Its admins can contact the platform's operators to reactivate it.")),
            Self::AccessDisabled => (StatusCode::FORBIDDEN, "Your access is disabled", "An admin of this local has disabled your access. Ask them if you think this is a mistake.".to_string()),
            Self::Throttled(wait) => {
                let minutes = wait.div_ceil(60);
                let page = error_page(StatusCode::TOO_MANY_REQUESTS, "Too many attempts", format!("Too many sign-in attempts. Try again in {minutes} minute(s), or reset your password."));
                return ([(header::RETRY_AFTER, wait.to_string())], page).into_response();
            }
            Self::CsrfFailed => (StatusCode::FORBIDDEN, "This form has expired", "The page was open too long or came from elsewhere. Go back, reload the page and try again.".to_string()),
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, "That did not work", message),
            Self::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "We could not finish this. Nothing was lost; please try again in a moment.".to_string())
            }
        };
        error_page(status, title, message)
    }
}

fn error_page(status: StatusCode, title: &str, message: String) -> Response {
    let page = ErrorPage {
        layout: Layout::default(),
        title: title.to_string(),
        message,
        back_href: "/".to_string(),
        back_label: "Go to the start page".to_string(),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, title.to_string()).into_response(),
    }
}

fn urlencode(raw: &str) -> String {
    serde_html_form::to_string([("", raw)])
        .map(|s| s.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// Renders a page with status 200.
///
/// # Errors
/// When the template fails.
pub fn render(page: &impl Template) -> WebResult {
    Ok(Html(page.render()?).into_response())
}

/// Renders a form again with its messages (422).
///
/// # Errors
/// When the template fails.
pub fn render_invalid(page: &impl Template) -> WebResult {
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}

/// What a form's submission came to.
pub enum Outcome<T> {
    /// The model did it.
    Saved(T),
    /// The input was refused, a message per field: the form is shown again
    /// with what was typed.
    Refused(Errors),
}

/// The one path of a form's submission: the model call's result (a failed
/// `form.read()` joins it with `?`, as [`models::Error::Invalid`]), with
/// every refusal of the input (`Invalid`, `Conflict`, `UnknownReference`)
/// as per-field messages and any other error the request's.
///
/// ```ignore
/// let saved = async { Member::create(&local.tenant, form.read(country)?).await };
/// match outcome(saved.await)? {
///     Outcome::Saved(m) => redirect_with(&session, &to(m), notice).await,
///     Outcome::Refused(errors) => render_invalid(&form_page(form, errors)),
/// }
/// ```
///
/// # Errors
/// Any error that is not about the input.
pub fn outcome<T>(result: models::Result<T>) -> Result<Outcome<T>, WebError> {
    outcome_with(result, Into::into)
}

/// [`outcome`], with the other errors turned into the request's by
/// `other` (an invitation or reset link answers a dead link, not a 404).
///
/// # Errors
/// `other`'s answer to any error that is not about the input.
pub fn outcome_with<T>(
    result: models::Result<T>,
    other: impl FnOnce(models::Error) -> WebError,
) -> Result<Outcome<T>, WebError> {
    match result {
        Ok(value) => Ok(Outcome::Saved(value)),
        Err(
            models::Error::Invalid(errors)
            | models::Error::Conflict(errors)
            | models::Error::UnknownReference(errors),
        ) => Ok(Outcome::Refused(errors.into())),
        Err(err) => Err(other(err)),
    }
}

/// Redirects after a change (303), with a message for the next page.
///
/// # Errors
/// When the session cannot be written.
pub async fn redirect_with(session: &Session, to: &str, flash: Flash) -> WebResult {
    let mut flashes: Vec<Flash> = session.get(FLASH_KEY).await?.unwrap_or_default();
    flashes.push(flash);
    session.insert(FLASH_KEY, flashes).await?;
    Ok(Redirect::to(to).into_response())
}

/// The signed-in person, or a redirect to the sign-in page.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub user_model::Model);

/// The signed-in person, if any.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<user_model::Model>);

impl FromRequestParts<AppContext> for MaybeUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, WebError> {
        if let Some(cached) = parts.extensions.get::<Self>() {
            return Ok(cached.clone());
        }
        let session = Session::from_request_parts(parts, ctx)
            .await
            .map_err(|(_, m)| WebError::Internal(m.to_string()))?;
        let user = match session.get::<i32>(USER_ID_KEY).await? {
            Some(id) => user_model::Model::find_by_id(&ctx.db, id).await.ok(),
            None => None,
        };
        let found = Self(user);
        parts.extensions.insert(found.clone());
        Ok(found)
    }
}

impl FromRequestParts<AppContext> for CurrentUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, WebError> {
        match MaybeUser::from_request_parts(parts, ctx).await?.0 {
            Some(user) => Ok(Self(user)),
            None => Err(WebError::SignInRequired(
                parts
                    .uri
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_string(),
            )),
        }
    }
}

/// The current union local: built only through the signed-in person's role
/// in the local named by the `{slug}` of the path (STYLE.md 8). The
/// [`Tenant`] carries both the local and that role; model calls take it alone.
pub struct Local {
    pub tenant: Tenant,
    pub user: user_model::Model,
    access: Access,
}

impl Local {
    fn new(tenant: Tenant, user: user_model::Model) -> Result<Self, WebError> {
        let access = tenant.access()?.clone();
        Ok(Self {
            tenant,
            user,
            access,
        })
    }

    /// The signed-in person's role here (for what a page offers).
    #[must_use]
    pub fn access(&self) -> &Access {
        &self.access
    }
}

impl FromRequestParts<AppContext> for Local {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, WebError> {
        let params = RawPathParams::from_request_parts(parts, ctx)
            .await
            .map_err(|_| WebError::NotFound)?;
        let slug = params
            .iter()
            .find(|(k, _)| *k == "slug")
            .map(|(_, v)| v.to_string())
            .ok_or(WebError::NotFound)?;
        if parts.extensions.get::<MaybeUser>().is_none() {
            // The account, the local and the role in one read.
            let session = Session::from_request_parts(parts, ctx)
                .await
                .map_err(|(_, m)| WebError::Internal(m.to_string()))?;
            if let Some(user_id) = session.get::<i32>(USER_ID_KEY).await? {
                match Tenant::enter_as(&ctx.db, user_id, &slug).await {
                    Ok((tenant, user)) => {
                        parts.extensions.insert(MaybeUser(Some(user.clone())));
                        return Self::new(tenant, user);
                    }
                    // Not in this local (404), or the account is gone
                    // (sign in again): the user check tells which.
                    Err(models::Error::NotFound) => {
                        CurrentUser::from_request_parts(parts, ctx).await?;
                        return Err(WebError::NotFound);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, ctx).await?;
        let tenant = Tenant::enter(&ctx.db, user.id, &slug).await?;
        Self::new(tenant, user)
    }
}

impl FromRequestParts<AppContext> for Layout {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, WebError> {
        let csrf = CsrfToken::from_request_parts(parts, ctx)
            .await
            .map_err(|(_, m)| WebError::Internal(m.to_string()))?
            .authenticity_token()
            .map_err(|e| WebError::Internal(e.to_string()))?;
        let session = Session::from_request_parts(parts, ctx)
            .await
            .map_err(|(_, m)| WebError::Internal(m.to_string()))?;
        let flashes = session
            .remove::<Vec<Flash>>(FLASH_KEY)
            .await?
            .unwrap_or_default();
        let viewer = MaybeUser::from_request_parts(parts, ctx)
            .await?
            .0
            .as_ref()
            .map(Viewer::from);
        Ok(Self {
            csrf,
            flashes,
            viewer,
            local: None,
        })
    }
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    authenticity_token: String,
}

/// The largest form body accepted (forms here are small; uploads come later
/// through their own extractor).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// A urlencoded form whose CSRF token has been verified. Every
/// state-changing handler takes its input through this.
pub struct Verified<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppContext> for Verified<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, ctx: &AppContext) -> Result<Self, WebError> {
        let (mut parts, body) = req.into_parts();
        let token = CsrfToken::from_request_parts(&mut parts, ctx)
            .await
            .map_err(|(_, m)| WebError::Internal(m.to_string()))?;
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(WebError::BadRequest("Send this form from its page.".into()));
        }
        drop(parts);
        let bytes: Bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| WebError::BadRequest("The form is too large.".into()))?;
        let field: CsrfField =
            serde_html_form::from_bytes(&bytes).map_err(|_| WebError::CsrfFailed)?;
        token
            .verify(&field.authenticity_token)
            .map_err(|_| WebError::CsrfFailed)?;
        let form = serde_html_form::from_bytes(&bytes).map_err(|_| {
            WebError::BadRequest(
                "The form could not be read. Reload the page and try again.".into(),
            )
        })?;
        Ok(Self(form))
    }
}

/// Forms with no fields but the CSRF token (sign out, revoke, delete).
#[derive(Debug, Default, Deserialize)]
pub struct Empty {}

/// The client's address, for throttling sign-in attempts.
pub fn client_address(ip: &loco_rs::controller::middleware::remote_ip::RemoteIP) -> String {
    use loco_rs::controller::middleware::remote_ip::RemoteIP;
    match ip {
        RemoteIP::Forwarded(ip) | RemoteIP::Socket(ip) => ip.to_string(),
        RemoteIP::None => "unknown".to_string(),
    }
}

/// The `{pid}` of a path. Anything but a UUID is simply not found.
pub struct Pid(pub uuid::Uuid);

impl FromRequestParts<AppContext> for Pid {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, WebError> {
        let params = RawPathParams::from_request_parts(parts, ctx)
            .await
            .map_err(|_| WebError::NotFound)?;
        params
            .iter()
            .find(|(k, _)| *k == "pid")
            .and_then(|(_, v)| uuid::Uuid::parse_str(v).ok())
            .map(Self)
            .ok_or(WebError::NotFound)
    }
}
