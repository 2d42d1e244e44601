use axum::{extract::State, response::{IntoResponse, Redirect}, routing::get};
use loco_rs::prelude::{AppContext, Routes};

use super::{render, MaybeUser, WebResult};
use crate::{models::memberships, views::{home, Layout}};

/// Signed out: the landing page. Signed in: straight into the local, or the
/// list of locals when there are several.
async fn index(State(ctx): State<AppContext>, MaybeUser(user): MaybeUser, layout: Layout) -> WebResult {
    let Some(user) = user else {
        return render(&home::Index { layout });
    };
    let locals = memberships::locals_of(&ctx.db, user.id).await?;
    match locals.as_slice() {
        [only] => Ok(Redirect::to(&format!("/l/{}", only.slug)).into_response()),
        _ => Ok(Redirect::to("/locals").into_response()),
    }
}

pub fn routes() -> Routes {
    Routes::new().add("/", get(index))
}
