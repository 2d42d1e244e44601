//! The invitee's side: open the link, then accept it.
use axum::{
    extract::{Path, State},
    routing::get,
};
use loco_rs::prelude::{AppContext, Routes};
use tower_sessions::Session;

use super::{
    outcome_with, password_resets::link_error, redirect_with, render, render_invalid,
    sessions::sign_in, MaybeUser, Outcome, Verified, WebResult,
};
use crate::{
    models::{
        invitations::{self, Opened},
        users,
    },
    views::{
        auth::{Invitation, JoinForm},
        Errors, Flash, Layout,
    },
};

fn page(
    opened: Opened,
    token: String,
    user: Option<&users::Model>,
    layout: Layout,
    form: JoinForm,
    errors: Errors,
) -> Invitation {
    Invitation {
        layout,
        token,
        local_name: opened.local.name,
        role_name: opened.role_name,
        signed_in: user.is_some(),
        signed_in_as_invitee: user.is_some_and(|u| u.email == opened.invitation.email),
        has_account: opened.account.is_some(),
        email: opened.invitation.email,
        form,
        errors,
    }
}

async fn show(
    State(ctx): State<AppContext>,
    Path(token): Path<String>,
    MaybeUser(user): MaybeUser,
    layout: Layout,
) -> WebResult {
    let opened = invitations::open(&ctx.db, &token)
        .await
        .map_err(link_error)?;
    render(&page(
        opened,
        token,
        user.as_ref(),
        layout,
        JoinForm::default(),
        Errors::default(),
    ))
}

async fn accept(
    State(ctx): State<AppContext>,
    session: Session,
    Path(token): Path<String>,
    MaybeUser(user): MaybeUser,
    layout: Layout,
    Verified(form): Verified<JoinForm>,
) -> WebResult {
    let accepted = async {
        let acceptance = form.read(user.as_ref())?;
        invitations::accept(&ctx.db, &token, acceptance).await
    };
    // A dead link stays a dead link (not a missing page) whatever the form said.
    match outcome_with(accepted.await, link_error)? {
        Outcome::Saved((tenant, joined)) => {
            sign_in(&session, &joined).await?;
            redirect_with(
                &session,
                &format!("/l/{}", tenant.slug()),
                Flash::notice(format!("Welcome to {}.", tenant.name())),
            )
            .await
        }
        Outcome::Refused(errors) => {
            let opened = invitations::open(&ctx.db, &token)
                .await
                .map_err(link_error)?;
            let form = JoinForm {
                password: String::new(),
                ..form
            };
            render_invalid(&page(opened, token, user.as_ref(), layout, form, errors))
        }
    }
}

pub fn routes() -> Routes {
    Routes::new().add("/invitations/{token}", get(show).post(accept))
}
