//! A person's personal API tokens in a local (the API twin is `api::tokens`).
use askama::Template;
use axum::{
    http::StatusCode,
    response::{Html, IntoResponse},
    routing::{delete, get},
};
use loco_rs::prelude::Routes;
use tower_sessions::Session;

use super::{
    api::tokens::parse_new_token, redirect_with, render, render_invalid, Empty, Local, Pid,
    Verified, WebResult,
};
use crate::{
    domain::FieldErrors,
    models::{api_tokens::Model as Token, Window},
    views::{
        tokens::{Index, TokenForm},
        Errors, Flash, Layout,
    },
};

async fn page(
    local: &Local,
    layout: Layout,
    form: TokenForm,
    errors: Errors,
    new_secret: Option<String>,
) -> Result<Index, super::WebError> {
    Ok(Index {
        layout: layout.within(&local.tenant),
        slug: local.tenant.slug().to_string(),
        local_name: local.tenant.name().to_string(),
        tokens: Token::list(&local.tenant, Window::all()).await?,
        form,
        errors,
        new_secret,
    })
}

async fn index(local: Local, layout: Layout) -> WebResult {
    render(
        &page(
            &local,
            layout,
            TokenForm::default(),
            Errors::default(),
            None,
        )
        .await?,
    )
}

/// Answers with the page itself (not a redirect) so the secret is shown once
/// and never stored, not even in the session's flash.
async fn create(local: Local, layout: Layout, Verified(form): Verified<TokenForm>) -> WebResult {
    let days = form.expires_in_days.trim();
    let expires = if days.is_empty() {
        Ok(None)
    } else {
        days.parse::<u32>().map(Some)
    };
    let parsed = match expires {
        Ok(expires) => parse_new_token(&form.name, expires),
        Err(_) => Err(FieldErrors::one(
            "expires_in_days",
            "Enter a number of days, or leave it empty.",
        )),
    };
    let new = match parsed {
        Ok(new) => new,
        Err(errors) => {
            return render_invalid(&page(&local, layout, form, errors.into(), None).await?)
        }
    };
    let (_, secret) = Token::create(&local.tenant, new).await?;
    let html = page(
        &local,
        layout,
        TokenForm::default(),
        Errors::default(),
        Some(secret),
    )
    .await?
    .render()?;
    Ok((
        StatusCode::CREATED,
        [("cache-control", "no-store")],
        Html(html),
    )
        .into_response())
}

async fn destroy(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    Verified(_): Verified<Empty>,
) -> WebResult {
    Token::revoke(&local.tenant, pid).await?;
    let to = format!("/l/{}/tokens", local.tenant.slug());
    redirect_with(
        &session,
        &to,
        Flash::notice("The token is revoked; it is refused from now on."),
    )
    .await
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/l/{slug}/tokens", get(index).post(create))
        .add("/l/{slug}/tokens/{pid}", delete(destroy))
}
