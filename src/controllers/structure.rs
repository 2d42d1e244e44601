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
        structure::{self, Directory, NamedPart, PartEntity},
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
    local.tenant.require_change(Permission::StructureManage)?;
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

/// `POST` of a new employer, worksite (at the form's `employer`) or
/// bargaining unit.
async fn create<P: NamedPart>(
    session: Session,
    local: Local,
    layout: Layout,
    Verified(form): Verified<NameForm>,
) -> WebResult {
    let tenant = local.tenant.clone();
    let employer =
        P::employer_column().map(|_| Uuid::parse_str(form.employer.trim()).unwrap_or_default());
    let done = format!("{} added.", P::PART.label());
    save(
        session,
        local,
        layout,
        P::PART.new_form_key(employer),
        &form,
        &done,
        |name| async move { structure::create::<P>(&tenant, &name, employer).await },
    )
    .await
}

/// `PUT` of an employer's, a worksite's or a bargaining unit's new name.
async fn rename<P: NamedPart>(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    layout: Layout,
    Verified(form): Verified<NameForm>,
) -> WebResult {
    let tenant = local.tenant.clone();
    let done = format!("{} renamed.", P::PART.label());
    save(
        session,
        local,
        layout,
        P::PART.form_key(pid),
        &form,
        &done,
        |name| async move { structure::rename::<P>(&tenant, pid, &name).await },
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

/// `DELETE` of an unused employer, worksite, unit or status; one in use is
/// refused with what uses it, shown at its row.
async fn delete<P: PartEntity>(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    layout: Layout,
    Verified(_): Verified<Empty>,
) -> WebResult {
    match outcome(structure::delete::<P>(&local.tenant, pid).await)? {
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
            let name = P::PART.name_in(&directory, pid).unwrap_or_default();
            let key = P::PART.form_key(pid);
            page(&local, layout, Some((key, message, name))).await
        }
    }
}

pub fn routes() -> Routes {
    type Employers = employers::Entity;
    type Worksites = worksites::Entity;
    type Units = bargaining_units::Entity;
    type Statuses = membership_statuses::Entity;
    Routes::new()
        .add("/l/{slug}/structure", get(index))
        .add("/l/{slug}/employers", post(create::<Employers>))
        .add(
            "/l/{slug}/employers/{pid}",
            put(rename::<Employers>).delete(delete::<Employers>),
        )
        .add("/l/{slug}/worksites", post(create::<Worksites>))
        .add(
            "/l/{slug}/worksites/{pid}",
            put(rename::<Worksites>).delete(delete::<Worksites>),
        )
        .add("/l/{slug}/bargaining_units", post(create::<Units>))
        .add(
            "/l/{slug}/bargaining_units/{pid}",
            put(rename::<Units>).delete(delete::<Units>),
        )
        .add("/l/{slug}/phone_country", put(update_phone_country))
        .add("/l/{slug}/membership_statuses", post(create_status))
        .add(
            "/l/{slug}/membership_statuses/{pid}",
            put(update_status).delete(delete::<Statuses>),
        )
        .add(
            "/l/{slug}/membership_statuses/{pid}/position",
            put(move_status),
        )
}
