//! A local's admins invite people by email with a role.
use axum::routing::{delete, get};
use loco_rs::prelude::Routes;
use tower_sessions::Session;

use super::{
    outcome, redirect_with, render, render_invalid, Empty, Local, Outcome, Pid, Verified, WebResult,
};
use crate::{
    domain::Permission,
    models::{
        invitations::{Model as Invitation, NewInvitation},
        roles::Model as Role,
        Error,
    },
    views::{
        invitations::{Index, InvitationForm},
        Errors, Flash, Layout,
    },
};

async fn page(
    local: &Local,
    layout: Layout,
    form: InvitationForm,
    errors: Errors,
) -> Result<Index, Error> {
    let roles = Role::list(&local.tenant).await?;
    let pending = Invitation::pending(&local.tenant).await?;
    Ok(Index {
        layout: layout.within(&local.tenant),
        slug: local.tenant.slug().to_string(),
        roles: roles.iter().map(Into::into).collect(),
        pending,
        form,
        errors,
    })
}

async fn index(local: Local, layout: Layout) -> WebResult {
    local.tenant.require(Permission::UsersManage)?;
    render(&page(&local, layout, InvitationForm::default(), Errors::default()).await?)
}

async fn create(
    session: Session,
    local: Local,
    layout: Layout,
    Verified(form): Verified<InvitationForm>,
) -> WebResult {
    local.tenant.require(Permission::UsersManage)?;
    let created =
        async { Invitation::create(&local.tenant, NewInvitation::try_from(&form)?).await };
    match outcome(created.await)? {
        Outcome::Saved((invitation, _)) => {
            let to = format!("/l/{}/invitations", local.tenant.slug());
            redirect_with(
                &session,
                &to,
                Flash::notice(format!("Invitation sent to {}.", invitation.email)),
            )
            .await
        }
        Outcome::Refused(errors) => render_invalid(&page(&local, layout, form, errors).await?),
    }
}

async fn destroy(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    Verified(_): Verified<Empty>,
) -> WebResult {
    local.tenant.require(Permission::UsersManage)?;
    Invitation::revoke(&local.tenant, pid).await?;
    let to = format!("/l/{}/invitations", local.tenant.slug());
    redirect_with(
        &session,
        &to,
        Flash::notice("The invitation is revoked; its link no longer works."),
    )
    .await
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/l/{slug}/invitations", get(index).post(create))
        .add("/l/{slug}/invitations/{pid}", delete(destroy))
}
