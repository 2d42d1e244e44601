use axum::{
    extract::State,
    routing::{get, put},
};
use loco_rs::prelude::{AppContext, Routes};
use tower_sessions::Session;

use super::{
    redirect_with, render, render_invalid, sessions::sign_in, CurrentUser, Verified, WebResult,
};
use crate::{
    domain::{FieldErrors, Password},
    views::{
        account::{ChangePasswordForm, Show},
        Errors, Flash, Layout,
    },
};

fn page(user: &crate::models::users::Model, layout: Layout, errors: Errors) -> Show {
    Show {
        layout,
        name: user.name.clone(),
        email: user.email.clone(),
        verified: user.is_email_verified(),
        errors,
    }
}

async fn show(CurrentUser(user): CurrentUser, layout: Layout) -> WebResult {
    render(&page(&user, layout, Errors::default()))
}

/// Changing the password ends every other session of this person.
async fn update_password(
    State(ctx): State<AppContext>,
    session: Session,
    CurrentUser(user): CurrentUser,
    layout: Layout,
    Verified(form): Verified<ChangePasswordForm>,
) -> WebResult {
    let mut errors = FieldErrors::new();
    if !user.has_password(&form.current_password).await {
        errors.add("current_password", "This is not your current password.");
    }
    let password = errors.take("password", Password::parse(&form.password));
    let Some(password) = password.filter(|_| errors.is_empty()) else {
        return render_invalid(&page(&user, layout, errors.into()));
    };
    let user = user.set_password(&ctx.db, &password).await?;
    sign_in(&session, &user).await?;
    redirect_with(
        &session,
        "/account",
        Flash::notice("Your password is changed. Other sessions were signed out."),
    )
    .await
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/account", get(show))
        .add("/account/password", put(update_password))
}
