//! Admins manage the local's structure (employers, their worksites,
//! bargaining units: add, rename, delete when unused) and membership
//! statuses (add, rename, reorder, delete when no history names them) on
//! one page; a refused form is shown
//! again with its message and input.
use axum::routing::{get, post, put};
use loco_rs::prelude::Routes;
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    outcome, redirect_with, render, render_invalid, Empty, Local, Outcome, Pid, Verified, WebResult,
};
use crate::{
    domain::{Permission, UnitName},
    models::{
        bargaining_units, employers, membership_statuses,
        structure::Directory,
        structure::{self, Part},
        worksites, Error,
    },
    views::{
        structure::{EmployerRow, Index},
        Flash, Layout,
    },
};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NameForm {
    name: String,
    employer: String,
    in_good_standing: String,
    direction: String,
    phone_country: String,
}

async fn page(
    local: &Local,
    layout: Layout,
    problem: Option<(String, String, String)>,
) -> WebResult {
    let directory = Directory::load(&local.tenant).await?;
    let employers = directory
        .employers
        .iter()
        .map(|employer| EmployerRow {
            worksites: directory
                .worksites
                .iter()
                .filter(|w| w.employer_id == employer.id)
                .cloned()
                .collect(),
            employer: employer.clone(),
        })
        .collect();
    let view = Index {
        layout: layout.within(&local.tenant),
        slug: local.tenant.slug().to_string(),
        statuses: directory.statuses.clone(),
        employers,
        units: directory.units.clone(),
        problem,
        phone_country: local.tenant.phone_country().to_string(),
    };
    if view.problem.is_some() {
        render_invalid(&view)
    } else {
        render(&view)
    }
}

async fn index(local: Local, layout: Layout) -> WebResult {
    local.tenant.require(Permission::StructureManage)?;
    page(&local, layout, None).await
}

/// Saves through `save` with the parsed name; a refusal re-renders the page
/// with the message on the form `key`.
async fn save<T, F>(
    session: Session,
    local: Local,
    layout: Layout,
    key: String,
    form: &NameForm,
    done: &str,
    save: impl FnOnce(UnitName) -> F,
) -> WebResult
where
    F: std::future::Future<Output = Result<T, Error>>,
{
    local.tenant.require(Permission::StructureManage)?;
    if local.tenant.model().is_suspended() {
        return Err(Error::Suspended(local.tenant.slug().to_string()).into());
    }
    let saved = async {
        let name = UnitName::parse(&form.name)
            .map_err(|message| crate::domain::FieldErrors::one("name", message))?;
        save(name).await
    };
    match outcome(saved.await)? {
        Outcome::Saved(_) => {
            redirect_with(
                &session,
                &format!("/l/{}/structure", local.tenant.slug()),
                Flash::notice(done),
            )
            .await
        }
        Outcome::Refused(e) => {
            let message = e.0.sentence();
            page(&local, layout, Some((key, message, form.name.clone()))).await
        }
    }
}

async fn create_employer(
    session: Session,
    local: Local,
    layout: Layout,
    Verified(form): Verified<NameForm>,
) -> WebResult {
    let tenant = local.tenant.clone();
    save(
        session,
        local,
        layout,
        "employer-new".into(),
        &form,
        "Employer added.",
        |name| async move { employers::Model::create(&tenant, &name).await },
    )
    .await
}

async fn rename_employer(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    layout: Layout,
    Verified(form): Verified<NameForm>,
) -> WebResult {
    let tenant = local.tenant.clone();
    save(
        session,
        local,
        layout,
        format!("employer-{pid}"),
        &form,
        "Employer renamed.",
        |name| async move { employers::Model::rename(&tenant, pid, &name).await },
    )
    .await
}

async fn create_worksite(
    session: Session,
    local: Local,
    layout: Layout,
    Verified(form): Verified<NameForm>,
) -> WebResult {
    let tenant = local.tenant.clone();
    let employer = Uuid::parse_str(form.employer.trim()).unwrap_or_default();
    save(
        session,
        local,
        layout,
        format!("worksite-new-{employer}"),
        &form,
        "Worksite added.",
        |name| async move { worksites::Model::create(&tenant, employer, &name).await },
    )
    .await
}

async fn rename_worksite(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    layout: Layout,
    Verified(form): Verified<NameForm>,
) -> WebResult {
    let tenant = local.tenant.clone();
    save(
        session,
        local,
        layout,
        format!("worksite-{pid}"),
        &form,
        "Worksite renamed.",
        |name| async move { worksites::Model::rename(&tenant, pid, &name).await },
    )
    .await
}

async fn create_unit(
    session: Session,
    local: Local,
    layout: Layout,
    Verified(form): Verified<NameForm>,
) -> WebResult {
    let tenant = local.tenant.clone();
    save(
        session,
        local,
        layout,
        "unit-new".into(),
        &form,
        "Bargaining unit added.",
        |name| async move { bargaining_units::Model::create(&tenant, &name).await },
    )
    .await
}

async fn rename_unit(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    layout: Layout,
    Verified(form): Verified<NameForm>,
) -> WebResult {
    let tenant = local.tenant.clone();
    save(
        session,
        local,
        layout,
        format!("unit-{pid}"),
        &form,
        "Bargaining unit renamed.",
        |name| async move { bargaining_units::Model::rename(&tenant, pid, &name).await },
    )
    .await
}

async fn create_status(
    session: Session,
    local: Local,
    layout: Layout,
    Verified(form): Verified<NameForm>,
) -> WebResult {
    let tenant = local.tenant.clone();
    let good = !form.in_good_standing.is_empty();
    save(
        session,
        local,
        layout,
        "status-new".into(),
        &form,
        "Status added.",
        |name| async move { membership_statuses::create(&tenant, &name, good).await },
    )
    .await
}

async fn update_status(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    layout: Layout,
    Verified(form): Verified<NameForm>,
) -> WebResult {
    let tenant = local.tenant.clone();
    let good = !form.in_good_standing.is_empty();
    save(
        session,
        local,
        layout,
        format!("status-{pid}"),
        &form,
        "Status saved.",
        |name| async move { membership_statuses::update(&tenant, pid, &name, good).await },
    )
    .await
}

async fn move_status(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    Verified(form): Verified<NameForm>,
) -> WebResult {
    local.tenant.require(Permission::StructureManage)?;
    if local.tenant.model().is_suspended() {
        return Err(Error::Suspended(local.tenant.slug().to_string()).into());
    }
    membership_statuses::move_by(&local.tenant, pid, form.direction == "up").await?;
    redirect_with(
        &session,
        &format!("/l/{}/structure", local.tenant.slug()),
        Flash::notice("Order saved."),
    )
    .await
}

/// Sets the country phone numbers typed without a code are read in.
async fn update_phone_country(
    session: Session,
    local: Local,
    layout: Layout,
    Verified(form): Verified<NameForm>,
) -> WebResult {
    match outcome(local.tenant.set_phone_country(&form.phone_country).await)? {
        Outcome::Saved(()) => {
            redirect_with(
                &session,
                &format!("/l/{}/structure", local.tenant.slug()),
                Flash::notice(format!(
                    "Phone numbers typed without a country code are now read as +{}.",
                    form.phone_country.trim()
                )),
            )
            .await
        }
        Outcome::Refused(e) => {
            let message = e.0.sentence();
            page(
                &local,
                layout,
                Some(("phone-country".into(), message, form.phone_country)),
            )
            .await
        }
    }
}

/// Deletes an unused employer, worksite or unit; one in use is refused
/// with what uses it, shown at its row.
async fn remove(
    session: Session,
    local: Local,
    layout: Layout,
    part: Part,
    pid: Uuid,
) -> WebResult {
    match outcome(structure::delete(&local.tenant, part, pid).await)? {
        Outcome::Saved(name) => {
            redirect_with(
                &session,
                &format!("/l/{}/structure", local.tenant.slug()),
                Flash::notice(format!("{name} deleted.")),
            )
            .await
        }
        Outcome::Refused(e) => {
            let message = e.0.sentence();
            let directory = Directory::load(&local.tenant).await?;
            let name = part.name_in(&directory, pid).unwrap_or_default();
            page(&local, layout, Some((part.form_key(pid), message, name))).await
        }
    }
}

/// `DELETE` of one part of the structure: `P` indexes [`Part::ALL`].
async fn delete<const P: usize>(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    layout: Layout,
    Verified(_): Verified<Empty>,
) -> WebResult {
    remove(session, local, layout, Part::ALL[P], pid).await
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/l/{slug}/structure", get(index))
        .add("/l/{slug}/employers", post(create_employer))
        .add(
            "/l/{slug}/employers/{pid}",
            put(rename_employer).delete(delete::<0>),
        )
        .add("/l/{slug}/worksites", post(create_worksite))
        .add(
            "/l/{slug}/worksites/{pid}",
            put(rename_worksite).delete(delete::<1>),
        )
        .add("/l/{slug}/bargaining_units", post(create_unit))
        .add(
            "/l/{slug}/bargaining_units/{pid}",
            put(rename_unit).delete(delete::<2>),
        )
        .add("/l/{slug}/phone_country", put(update_phone_country))
        .add("/l/{slug}/membership_statuses", post(create_status))
        .add(
            "/l/{slug}/membership_statuses/{pid}",
            put(update_status).delete(delete::<3>),
        )
        .add(
            "/l/{slug}/membership_statuses/{pid}/position",
            put(move_status),
        )
}
