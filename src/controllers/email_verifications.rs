use axum::{
    extract::{Path, State},
    routing::{get, post},
};
use loco_rs::prelude::{AppContext, Routes};
use tower_sessions::Session;

use super::{
    password_resets::link_error, redirect_with, render, CurrentUser, Empty, Verified, WebResult,
};
use crate::{
    models::user_tokens::{self, Purpose},
    views::{auth::ConfirmEmail, Flash, Layout},
};

async fn show(
    State(ctx): State<AppContext>,
    Path(token): Path<String>,
    layout: Layout,
) -> WebResult {
    let (_, user) = user_tokens::peek(&ctx.db, &token, Purpose::EmailVerification)
        .await
        .map_err(link_error)?;
    render(&ConfirmEmail {
        layout,
        token,
        email: user.email,
    })
}

async fn confirm(
    State(ctx): State<AppContext>,
    session: Session,
    Path(token): Path<String>,
    Verified(_): Verified<Empty>,
) -> WebResult {
    let user = user_tokens::consume(&ctx.db, &token, Purpose::EmailVerification)
        .await
        .map_err(link_error)?;
    let user = user.mark_email_verified(&ctx.db).await?;
    let to = super::home::home_path(&ctx, &user).await?;
    redirect_with(
        &session,
        &to,
        Flash::notice("Your email address is confirmed."),
    )
    .await
}

async fn resend(
    State(ctx): State<AppContext>,
    session: Session,
    CurrentUser(user): CurrentUser,
    Verified(_): Verified<Empty>,
) -> WebResult {
    user.request_email_verification(&ctx.db).await?;
    redirect_with(
        &session,
        "/account",
        Flash::notice(format!(
            "We sent a new confirmation link to {}.",
            user.email
        )),
    )
    .await
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/email-verifications", post(resend))
        .add("/email-verifications/{token}", get(show).post(confirm))
}
