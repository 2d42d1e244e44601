//! Member self-service: a person with the Member role whose account is
//! linked to a member record sees it and updates their own contact details
//! and contact preferences; nothing else.
use axum::routing::{get, post};
use loco_rs::prelude::Routes;
use serde::Deserialize;
use tower_sessions::Session;

use super::{redirect_with, render, render_invalid, Empty, Local, Pid, Verified, WebResult};
use crate::{
    domain::{Email, FieldErrors, Permission, Phone},
    models::{
        members::{ContactDetails, Directory, Model as Member},
        Error,
    },
    views::{
        profile::{Edit, Show},
        Errors, Flash, Layout,
    },
};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ContactForm {
    pub email: String,
    pub phone: String,
    pub address: String,
    pub email_opt_in: String,
    pub sms_opt_in: String,
}

impl ContactForm {
    /// The details the form gives, a phone number without a country code
    /// read in `phone_country` (the local's).
    fn read(&self, phone_country: &str) -> Result<ContactDetails, FieldErrors> {
        let form = self;
        let mut errors = FieldErrors::new();
        let email = Some(form.email.trim())
            .filter(|e| !e.is_empty())
            .and_then(|e| errors.take("email", Email::parse(e)));
        let phone = Some(form.phone.trim())
            .filter(|p| !p.is_empty())
            .and_then(|p| errors.take("phone", Phone::parse(p, phone_country)));
        if form.address.chars().count() > 500 {
            errors.add("address", "Use at most 500 characters.");
        }
        errors.into_result(|| ContactDetails {
            email,
            phone,
            address: Some(form.address.trim().to_string()),
            email_opt_in: !form.email_opt_in.is_empty(),
            sms_opt_in: !form.sms_opt_in.is_empty(),
        })
    }
}

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
    let form = ContactForm {
        email: own.email.unwrap_or_default(),
        phone: own.phone.unwrap_or_default(),
        address: own.address.unwrap_or_default(),
        email_opt_in: if own.email_opt_in {
            "1".into()
        } else {
            String::new()
        },
        sms_opt_in: if own.sms_opt_in {
            "1".into()
        } else {
            String::new()
        },
    };
    render(&edit_page(&local, layout, form, Errors::default()))
}

async fn update(
    session: Session,
    local: Local,
    layout: Layout,
    Verified(form): Verified<ContactForm>,
) -> WebResult {
    let saved = match form.read(local.tenant.phone_country()) {
        Ok(details) => Member::update_own_contact(&local.tenant, details).await,
        Err(errors) => Err(Error::Invalid(errors)),
    };
    match saved {
        Ok(_) => {
            redirect_with(
                &session,
                &format!("/l/{}/profile", local.tenant.slug()),
                Flash::notice("Your details are saved."),
            )
            .await
        }
        Err(Error::Invalid(errors)) => {
            render_invalid(&edit_page(&local, layout, form, errors.into()))
        }
        Err(e) => Err(e.into()),
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
        Err(Error::Invalid(errors)) => Flash::alert(
            errors
                .iter()
                .map(|(_, m)| m.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        ),
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
