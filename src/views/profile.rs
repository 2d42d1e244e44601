//! Member self-service pages: their own record and the contact form.
use askama::Template;
use serde::Deserialize;

use super::{Errors, Layout};
use crate::{
    domain::{Address, Email, FieldErrors, Phone},
    models::members::{ContactDetails, Model as Member},
};

#[derive(Template)]
#[template(path = "profile/show.html")]
pub struct Show {
    pub layout: Layout,
    pub slug: String,
    pub member: Option<Member>,
    pub status: String,
}

#[derive(Template)]
#[template(path = "profile/edit.html")]
pub struct Edit {
    pub layout: Layout,
    pub slug: String,
    pub form: ContactForm,
    pub errors: Errors,
}

/// The contact details form as sent.
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
    /// The form filled with a member's details as they are.
    #[must_use]
    pub fn of(member: &Member) -> Self {
        let checked = |on: bool| if on { "1".into() } else { String::new() };
        Self {
            email: member.email.clone().unwrap_or_default(),
            phone: member.phone.clone().unwrap_or_default(),
            address: member.address.clone().unwrap_or_default(),
            email_opt_in: checked(member.email_opt_in),
            sms_opt_in: checked(member.sms_opt_in),
        }
    }

    /// The details the form gives, a phone number without a country code
    /// read in `phone_country` (the local's).
    ///
    /// # Errors
    /// A message per field that does not read.
    pub fn read(&self, phone_country: &str) -> Result<ContactDetails, FieldErrors> {
        let mut errors = FieldErrors::new();
        let email = Some(self.email.trim())
            .filter(|e| !e.is_empty())
            .and_then(|e| errors.take("email", Email::parse(e)));
        let phone = Some(self.phone.trim())
            .filter(|p| !p.is_empty())
            .and_then(|p| errors.take("phone", Phone::parse(p, phone_country)));
        let address = errors
            .take("address", Address::parse_optional(&self.address))
            .flatten();
        errors.into_result(|| ContactDetails {
            email,
            phone,
            address,
            email_opt_in: !self.email_opt_in.is_empty(),
            sms_opt_in: !self.sms_opt_in.is_empty(),
        })
    }
}
