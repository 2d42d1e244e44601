use axum::{
    extract::State,
    response::{IntoResponse, Redirect},
    routing::get,
};
use loco_rs::prelude::{AppContext, Routes};

use super::{render, MaybeUser, WebError, WebResult};
use crate::{
    models::{memberships, users},
    views::{home, Layout},
};

/// Signed out: the landing page. Signed in: straight into the local, or the
/// list of locals when there are several.
async fn index(
    State(ctx): State<AppContext>,
    MaybeUser(user): MaybeUser,
    layout: Layout,
) -> WebResult {
    match user {
        Some(user) => Ok(Redirect::to(&home_path(&ctx, &user).await?).into_response()),
        None => render(&home::Index { layout }),
    }
}

/// Where a signed-in person starts: their local, or the list of their locals.
///
/// # Errors
/// A database error.
pub async fn home_path(ctx: &AppContext, user: &users::Model) -> Result<String, WebError> {
    let locals = memberships::locals_of(&ctx.db, user.id).await?;
    Ok(match locals.as_slice() {
        [only] => format!("/l/{}", only.slug),
        [] if user.operator_since.is_some() => "/ops".to_string(),
        _ => "/locals".to_string(),
    })
}

pub fn routes() -> Routes {
    Routes::new().add("/", get(index))
}
