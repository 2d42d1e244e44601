//! Pages of signing in and out, password resets, email verification and
//! invitation links.
use askama::Template;
use serde::Deserialize;

use super::{Errors, Layout};
use crate::{
    domain::{FieldErrors, Password, PersonName},
    models::{invitations::Acceptance, users},
};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SignInForm {
    pub email: String,
    pub password: String,
    pub return_to: String,
}

impl SignInForm {
    /// Where to go after signing in: only a path on this site.
    #[must_use]
    pub fn destination(&self) -> Option<&str> {
        let to = self.return_to.as_str();
        (to.starts_with('/') && !to.starts_with("//") && !to.contains('\\')).then_some(to)
    }
}

#[derive(Template)]
#[template(path = "sessions/new.html")]
pub struct SignIn {
    pub layout: Layout,
    pub form: SignInForm,
    pub errors: Errors,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EmailForm {
    pub email: String,
}

#[derive(Template)]
#[template(path = "password_resets/new.html")]
pub struct ResetRequest {
    pub layout: Layout,
    pub email: String,
    pub sent: bool,
    pub errors: Errors,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    pub password: String,
}

#[derive(Template)]
#[template(path = "password_resets/edit.html")]
pub struct ResetPassword {
    pub layout: Layout,
    pub token: String,
    pub email: String,
    pub errors: Errors,
}

#[derive(Template)]
#[template(path = "email_verifications/show.html")]
pub struct ConfirmEmail {
    pub layout: Layout,
    pub token: String,
    pub email: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct JoinForm {
    pub name: String,
    pub password: String,
}

impl JoinForm {
    /// How the invitee accepts: as the person signed in, or with a new
    /// account named and protected by the form.
    ///
    /// # Errors
    /// A message per field that does not read.
    pub fn read(&self, signed_in: Option<&users::Model>) -> Result<Acceptance, FieldErrors> {
        if let Some(user) = signed_in {
            return Ok(Acceptance::SignedIn(user.clone()));
        }
        let mut errors = FieldErrors::new();
        let name = errors.take("name", PersonName::parse(&self.name));
        let password = errors.take("password", Password::parse(&self.password));
        match (name, password) {
            (Some(name), Some(password)) => Ok(Acceptance::NewAccount { name, password }),
            _ => Err(errors),
        }
    }
}

#[derive(Template)]
#[template(path = "invitation_links/show.html")]
pub struct Invitation {
    pub layout: Layout,
    pub token: String,
    pub local_name: String,
    pub role_name: String,
    pub email: String,
    pub signed_in: bool,
    pub signed_in_as_invitee: bool,
    pub has_account: bool,
    pub form: JoinForm,
    pub errors: Errors,
}
