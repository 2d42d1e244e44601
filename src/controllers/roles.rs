//! Admins define the local's roles: a name and a set of permissions.
use axum::routing::get;
use loco_rs::prelude::Routes;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    outcome, redirect_with, render, render_invalid, Empty, Local, Outcome, Pid, Verified, WebResult,
};
use crate::{
    domain::Permission,
    models::{
        roles::{Model as Role, RoleDefinition},
        Error,
    },
    views::{
        roles::{options, Form, Index, RoleForm},
        Errors, Flash, Layout,
    },
};

fn form_page(
    local: &Local,
    layout: Layout,
    role: Option<Uuid>,
    form: RoleForm,
    errors: Errors,
) -> Form {
    let slug = local.tenant.slug().to_string();
    let (heading, action) = match role {
        Some(pid) => (
            "Edit role".to_string(),
            format!("/l/{slug}/roles/{pid}?_method=put"),
        ),
        None => ("New role".to_string(), format!("/l/{slug}/roles")),
    };
    Form {
        layout: layout.within(&local.tenant),
        slug,
        heading,
        action,
        options: options(&form),
        form,
        errors,
    }
}

fn index_path(local: &Local) -> String {
    format!("/l/{}/roles", local.tenant.slug())
}

async fn index(local: Local, layout: Layout) -> WebResult {
    local.tenant.require(Permission::RolesManage)?;
    let roles = Role::list(&local.tenant).await?;
    render(&Index {
        layout: layout.within(&local.tenant),
        slug: local.tenant.slug().to_string(),
        roles,
    })
}

async fn new(local: Local, layout: Layout) -> WebResult {
    local.tenant.require(Permission::RolesManage)?;
    render(&form_page(
        &local,
        layout,
        None,
        RoleForm::default(),
        Errors::default(),
    ))
}

async fn create(
    session: Session,
    local: Local,
    layout: Layout,
    Verified(form): Verified<RoleForm>,
) -> WebResult {
    local.tenant.require(Permission::RolesManage)?;
    let created = async { Role::create(&local.tenant, RoleDefinition::try_from(&form)?).await };
    match outcome(created.await)? {
        Outcome::Saved(role) => {
            redirect_with(
                &session,
                &index_path(&local),
                Flash::notice(format!("Role {} created.", role.name)),
            )
            .await
        }
        Outcome::Refused(errors) => render_invalid(&form_page(&local, layout, None, form, errors)),
    }
}

async fn edit(local: Local, Pid(pid): Pid, layout: Layout) -> WebResult {
    local.tenant.require(Permission::RolesManage)?;
    let role = Role::find(&local.tenant, pid).await?;
    render(&form_page(
        &local,
        layout,
        Some(role.pid),
        RoleForm::from(&role),
        Errors::default(),
    ))
}

async fn update(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    layout: Layout,
    Verified(form): Verified<RoleForm>,
) -> WebResult {
    local.tenant.require(Permission::RolesManage)?;
    let updated =
        async { Role::update(&local.tenant, pid, RoleDefinition::try_from(&form)?).await };
    match outcome(updated.await)? {
        Outcome::Saved(role) => {
            redirect_with(
                &session,
                &index_path(&local),
                Flash::notice(format!("Role {} saved.", role.name)),
            )
            .await
        }
        Outcome::Refused(errors) => {
            render_invalid(&form_page(&local, layout, Some(pid), form, errors))
        }
    }
}

async fn destroy(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    Verified(_): Verified<Empty>,
) -> WebResult {
    local.tenant.require(Permission::RolesManage)?;
    let flash = match Role::delete(&local.tenant, pid).await {
        Ok(()) => Flash::notice("The role is deleted."),
        Err(Error::Invalid(errors) | Error::Conflict(errors) | Error::UnknownReference(errors)) => {
            Flash::alert(
                errors
                    .get("role")
                    .unwrap_or("The role cannot be deleted.")
                    .to_string(),
            )
        }
        Err(err) => return Err(err.into()),
    };
    redirect_with(&session, &index_path(&local), flash).await
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/l/{slug}/roles", get(index).post(create))
        .add("/l/{slug}/roles/new", get(new))
        .add("/l/{slug}/roles/{pid}/edit", get(edit))
        .add(
            "/l/{slug}/roles/{pid}",
            axum::routing::put(update).delete(destroy),
        )
}
