use axum::{extract::State, routing::get};
use loco_rs::prelude::{AppContext, Routes};
use tower_sessions::Session;

use super::{
    outcome, redirect_with, render, render_invalid, sessions::sign_in, CurrentUser, Local,
    MaybeUser, Outcome, Verified, WebResult,
};
use crate::{
    domain::FieldErrors,
    models::{
        memberships,
        tenants::{Founder, Tenant},
        Error,
    },
    views::{
        locals::{self, RegisterForm},
        Flash, Layout,
    },
};

async fn new(MaybeUser(user): MaybeUser, layout: Layout) -> WebResult {
    render(&locals::New {
        layout,
        form: RegisterForm::default(),
        errors: Default::default(),
        signed_in: user.is_some(),
    })
}

/// "Register your local": the tenant, its default roles and its first admin.
async fn create(
    State(ctx): State<AppContext>,
    session: Session,
    MaybeUser(user): MaybeUser,
    layout: Layout,
    Verified(form): Verified<RegisterForm>,
) -> WebResult {
    let signed_in = user.is_some();
    let mut errors = FieldErrors::new();
    let local = form.parse_local(&mut errors);
    let founder = match user {
        Some(user) => Some(Founder::Existing(user)),
        None => form.parse_founder(&mut errors).map(Founder::New),
    };
    let registered = match (local, founder) {
        (Some(local), Some(founder)) if errors.is_empty() => {
            Tenant::register(&ctx.db, local, founder).await
        }
        _ => Err(Error::Invalid(errors)),
    };
    match outcome(registered)? {
        Outcome::Saved((tenant, user)) => {
            sign_in(&session, &user).await?;
            redirect_with(
                &session,
                &format!("/l/{}", tenant.slug()),
                Flash::notice(format!("{} is registered. Welcome!", tenant.name())),
            )
            .await
        }
        Outcome::Refused(errors) => {
            let form = RegisterForm {
                password: String::new(),
                ..form
            };
            render_invalid(&locals::New {
                layout,
                form,
                errors,
                signed_in,
            })
        }
    }
}

async fn index(
    State(ctx): State<AppContext>,
    CurrentUser(user): CurrentUser,
    layout: Layout,
) -> WebResult {
    let locals = memberships::locals_of(&ctx.db, user.id).await?;
    render(&locals::Index { layout, locals })
}

async fn show(local: Local, layout: Layout) -> WebResult {
    let permission_labels = local
        .access()
        .permissions()
        .iter()
        .map(|p| p.label())
        .collect();
    render(&locals::Show {
        local_name: local.tenant.name().to_string(),
        role_name: local.access().role_name().to_string(),
        permission_labels,
        layout: layout.within(&local.tenant),
    })
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/locals/new", get(new))
        .add("/locals", get(index).post(create))
        .add("/l/{slug}", get(show))
}
