use axum::{
    extract::{Query, State},
    response::{IntoResponse, Redirect},
    routing::get,
};
use loco_rs::{
    controller::middleware::remote_ip::RemoteIP,
    prelude::{AppContext, Routes},
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    client_address, outcome, redirect_with, render, render_invalid, Empty, MaybeUser, Outcome,
    Verified, WebResult,
};
use crate::{
    models::{sessions::USER_ID_KEY, users},
    views::{
        auth::{SignIn, SignInForm},
        Flash, Layout,
    },
};

/// Starts a signed-in session under a new id, so a session id planted
/// before sign-in is worthless afterwards.
///
/// # Errors
/// When the session cannot be written.
pub async fn sign_in(session: &Session, user: &users::Model) -> Result<(), super::WebError> {
    session.cycle_id().await?;
    session.insert(USER_ID_KEY, user.id).await?;
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReturnTo {
    return_to: String,
}

async fn new(
    MaybeUser(user): MaybeUser,
    Query(query): Query<ReturnTo>,
    layout: Layout,
) -> WebResult {
    if user.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let form = SignInForm {
        return_to: query.return_to,
        ..SignInForm::default()
    };
    render(&SignIn {
        layout,
        form,
        errors: Default::default(),
    })
}

async fn create(
    State(ctx): State<AppContext>,
    session: Session,
    ip: RemoteIP,
    layout: Layout,
    Verified(form): Verified<SignInForm>,
) -> WebResult {
    let from = client_address(&ip);
    let signed = users::Model::authenticate(&ctx.db, &form.email, &form.password, &from);
    match outcome(signed.await)? {
        Outcome::Saved(user) => {
            sign_in(&session, &user).await?;
            let to = match form.destination() {
                Some(to) => to.to_string(),
                None => super::home::home_path(&ctx, &user).await?,
            };
            redirect_with(
                &session,
                &to,
                Flash::notice(format!("Signed in as {}.", user.name)),
            )
            .await
        }
        Outcome::Refused(errors) => {
            let form = SignInForm {
                password: String::new(),
                ..form
            };
            render_invalid(&SignIn {
                layout,
                form,
                errors,
            })
        }
    }
}

/// Signing out deletes the session on the server, not just the cookie.
async fn destroy(session: Session, Verified(_): Verified<Empty>) -> WebResult {
    session.flush().await?;
    redirect_with(&session, "/", Flash::notice("You are signed out.")).await
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/session/new", get(new))
        .add("/session", axum::routing::post(create).delete(destroy))
}
