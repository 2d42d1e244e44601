//! The people of a local: their roles and whether their access is enabled.
use axum::routing::{get, post};
use loco_rs::prelude::Routes;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    redirect_with, render, render_invalid, Empty, Local, Pid, Verified, WebError, WebResult,
};
use crate::{
    domain::{FieldErrors, Permission},
    models::{
        memberships::{Model as Membership, Person},
        roles::Model as Role,
        Error,
    },
    views::{
        users::{Index, RoleChangeForm, Show},
        Errors, Flash, Layout,
    },
};

async fn index(local: Local, layout: Layout) -> WebResult {
    if !(local.tenant.can(Permission::UsersRead) || local.tenant.can(Permission::UsersManage)) {
        return Err(WebError::Forbidden);
    }
    let people = Membership::list(&local.tenant).await?;
    let can_manage = local.tenant.can(Permission::UsersManage);
    render(&Index {
        layout: layout.within(&local.tenant),
        slug: local.tenant.slug().to_string(),
        people,
        can_manage,
    })
}

async fn show_page(
    local: &Local,
    layout: Layout,
    person: Person,
    errors: FieldErrors,
) -> Result<Show, Error> {
    let roles = Role::list(&local.tenant).await?;
    Ok(Show {
        layout: layout.within(&local.tenant),
        slug: local.tenant.slug().to_string(),
        person,
        roles: roles.iter().map(Into::into).collect(),
        errors: Errors::from(errors),
    })
}

async fn show(local: Local, Pid(pid): Pid, layout: Layout) -> WebResult {
    local.tenant.require(Permission::UsersManage)?;
    let person = Membership::find(&local.tenant, pid).await?;
    render(&show_page(&local, layout, person, FieldErrors::new()).await?)
}

fn person_path(local: &Local, pid: Uuid) -> String {
    format!("/l/{}/users/{pid}", local.tenant.slug())
}

/// Answers a change: back to the person's page, or the page again with the
/// reason it was refused (e.g. it would remove the last admin).
async fn after_change(
    session: &Session,
    local: &Local,
    layout: Layout,
    pid: Uuid,
    changed: Result<Person, Error>,
    notice: &str,
) -> WebResult {
    match changed {
        Ok(person) => {
            redirect_with(
                session,
                &person_path(local, pid),
                Flash::notice(format!("{}: {notice}", person.user.name)),
            )
            .await
        }
        Err(Error::Invalid(errors) | Error::Conflict(errors) | Error::UnknownReference(errors)) => {
            let person = Membership::find(&local.tenant, pid).await?;
            render_invalid(&show_page(local, layout, person, errors).await?)
        }
        Err(err) => Err(err.into()),
    }
}

async fn update(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    layout: Layout,
    Verified(form): Verified<RoleChangeForm>,
) -> WebResult {
    local.tenant.require(Permission::UsersManage)?;
    let changed =
        Membership::change_role(&local.tenant, pid, Uuid::parse_str(form.role.trim()).ok()).await;
    after_change(&session, &local, layout, pid, changed, "role changed.").await
}

async fn disable(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    layout: Layout,
    Verified(_): Verified<Empty>,
) -> WebResult {
    local.tenant.require(Permission::UsersManage)?;
    let changed = Membership::disable(&local.tenant, pid).await;
    after_change(
        &session,
        &local,
        layout,
        pid,
        changed,
        "access disabled and signed out.",
    )
    .await
}

async fn enable(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    layout: Layout,
    Verified(_): Verified<Empty>,
) -> WebResult {
    local.tenant.require(Permission::UsersManage)?;
    let changed = Membership::enable(&local.tenant, pid).await;
    after_change(
        &session,
        &local,
        layout,
        pid,
        changed,
        "access enabled again.",
    )
    .await
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/l/{slug}/users", get(index))
        .add("/l/{slug}/users/{pid}", get(show).put(update))
        .add(
            "/l/{slug}/users/{pid}/disablement",
            post(disable).delete(enable),
        )
}
