//! Member self-service: a person with the Member role whose account is
//! linked to a member record sees it and updates their own contact details
//! and contact preferences; nothing else.
use axum::routing::{get, post};
use loco_rs::prelude::Routes;
use tower_sessions::Session;

use super::{
    outcome, redirect_with, render, render_invalid, Empty, Local, Outcome, Pid, Verified, WebResult,
};
use crate::{
    domain::Permission,
    models::{members::Model as Member, structure::Directory, Error},
    views::{
        profile::{ContactForm, Edit, Show},
        Errors, Flash, Layout,
    },
};

async fn show(local: Local, layout: Layout) -> WebResult {
    local.tenant.require(Permission::SelfService)?;
    let own = match Member::find_own(&local.tenant).await {
        Ok(m) => Some(m),
        Err(Error::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let status = match &own {
        Some(m) => Directory::load(&local.tenant).await?.status(m.status_id),
        None => String::new(),
    };
    render(&Show {
        layout: layout.within(&local.tenant),
        slug: local.tenant.slug().to_string(),
        member: own,
        status,
    })
}

fn edit_page(local: &Local, layout: Layout, form: ContactForm, errors: Errors) -> Edit {
    Edit {
        layout: layout.within(&local.tenant),
        slug: local.tenant.slug().to_string(),
        form,
        errors,
    }
}

async fn edit(local: Local, layout: Layout) -> WebResult {
    let own = Member::find_own(&local.tenant).await?;
    let form = ContactForm::of(&own);
    render(&edit_page(&local, layout, form, Errors::default()))
}

async fn update(
    session: Session,
    local: Local,
    layout: Layout,
    Verified(form): Verified<ContactForm>,
) -> WebResult {
    let saved = async {
        Member::update_own_contact(&local.tenant, form.read(local.tenant.phone_country())?).await
    };
    match outcome(saved.await)? {
        Outcome::Saved(_) => {
            redirect_with(
                &session,
                &format!("/l/{}/profile", local.tenant.slug()),
                Flash::notice("Your details are saved."),
            )
            .await
        }
        Outcome::Refused(errors) => render_invalid(&edit_page(&local, layout, form, errors)),
    }
}

/// Staff link a member record to the person with the same email.
async fn link(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    Verified(_): Verified<Empty>,
) -> WebResult {
    let back = format!("/l/{}/members/{pid}", local.tenant.slug());
    let flash = match Member::link_account(&local.tenant, pid).await {
        Ok(_) => Flash::notice("Linked: they can now see and update their own details."),
        Err(Error::Invalid(errors)) => Flash::alert(errors.sentence()),
        Err(e) => return Err(e.into()),
    };
    redirect_with(&session, &back, flash).await
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/l/{slug}/profile", get(show).put(update))
        .add("/l/{slug}/profile/edit", get(edit))
        .add("/l/{slug}/members/{pid}/account_link", post(link))
}
