use axum::{
    extract::{Path, State},
    routing::get,
};
use loco_rs::prelude::{AppContext, Routes};
use tower_sessions::Session;

use super::{redirect_with, render, render_invalid, Verified, WebError, WebResult};
use crate::{
    domain::{Email, FieldErrors, Password},
    models::{user_tokens, users, Error},
    views::{
        auth::{EmailForm, PasswordForm, ResetPassword, ResetRequest},
        Flash, Layout,
    },
};

async fn new(layout: Layout) -> WebResult {
    render(&ResetRequest {
        layout,
        email: String::new(),
        sent: false,
        errors: Default::default(),
    })
}

/// Always answers the same way, so the form never reveals who has an account.
async fn create(
    State(ctx): State<AppContext>,
    layout: Layout,
    Verified(form): Verified<EmailForm>,
) -> WebResult {
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(message) => {
            let errors = FieldErrors::one("email", message).into();
            return render_invalid(&ResetRequest {
                layout,
                email: form.email,
                sent: false,
                errors,
            });
        }
    };
    users::Model::request_password_reset(&ctx.db, &email).await?;
    render(&ResetRequest {
        layout,
        email: String::new(),
        sent: true,
        errors: Default::default(),
    })
}

async fn edit(
    State(ctx): State<AppContext>,
    Path(token): Path<String>,
    layout: Layout,
) -> WebResult {
    let (_, user) = user_tokens::peek(&ctx.db, &token, user_tokens::SETS_PASSWORD)
        .await
        .map_err(link_error)?;
    render(&ResetPassword {
        layout,
        token,
        email: user.email,
        errors: Default::default(),
    })
}

async fn update(
    State(ctx): State<AppContext>,
    session: Session,
    Path(token): Path<String>,
    layout: Layout,
    Verified(form): Verified<PasswordForm>,
) -> WebResult {
    let (_, user) = user_tokens::peek(&ctx.db, &token, user_tokens::SETS_PASSWORD)
        .await
        .map_err(link_error)?;
    let password = match Password::parse(&form.password) {
        Ok(password) => password,
        Err(message) => {
            let errors = FieldErrors::one("password", message).into();
            return render_invalid(&ResetPassword {
                layout,
                token,
                email: user.email,
                errors,
            });
        }
    };
    let user = user_tokens::consume(&ctx.db, &token, user_tokens::SETS_PASSWORD)
        .await
        .map_err(link_error)?;
    let user = user
        .set_password(&ctx.db, &password)
        .await?
        .mark_email_verified(&ctx.db)
        .await?;
    redirect_with(
        &session,
        "/session/new",
        Flash::notice(format!(
            "Your password is changed, {}. Sign in with it.",
            user.name
        )),
    )
    .await
}

/// An unknown, used or expired token is a dead link, not a missing page.
pub fn link_error(err: Error) -> WebError {
    match err {
        Error::NotFound => WebError::LinkInvalid,
        other => other.into(),
    }
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/password-resets/new", get(new))
        .add("/password-resets", axum::routing::post(create))
        .add("/password-resets/{token}", get(edit).put(update))
}
