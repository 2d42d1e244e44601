use askama::Template;
use serde::Deserialize;

use super::{Errors, Layout};
use crate::{
    domain::{Email, FieldErrors, LocalName, Password, PersonName, Slug},
    models::{_entities::tenants, tenants::NewLocal, users::NewUser},
};

/// The "Register your local" form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RegisterForm {
    pub local_name: String,
    pub slug: String,
    pub name: String,
    pub email: String,
    pub password: String,
}

impl RegisterForm {
    /// # Errors
    /// The messages of every field that failed.
    pub fn parse_local(&self, errors: &mut FieldErrors) -> Option<NewLocal> {
        let name = errors.take("local_name", LocalName::parse(&self.local_name));
        let slug = errors.take("slug", Slug::parse(&self.slug));
        Some(NewLocal {
            name: name?,
            slug: slug?,
        })
    }

    pub fn parse_founder(&self, errors: &mut FieldErrors) -> Option<NewUser> {
        let name = errors.take("name", PersonName::parse(&self.name));
        let email = errors.take("email", Email::parse(&self.email));
        let password = errors.take("password", Password::parse(&self.password));
        Some(NewUser {
            name: name?,
            email: email?,
            password: password?,
            email_verified: false,
        })
    }
}

#[derive(Template)]
#[template(path = "locals/new.html")]
pub struct New {
    pub layout: Layout,
    pub form: RegisterForm,
    pub errors: Errors,
    pub signed_in: bool,
}

#[derive(Template)]
#[template(path = "locals/index.html")]
pub struct Index {
    pub layout: Layout,
    pub locals: Vec<tenants::Model>,
}

#[derive(Template)]
#[template(path = "locals/show.html")]
pub struct Show {
    pub layout: Layout,
    pub local_name: String,
    pub role_name: String,
    pub permission_labels: Vec<&'static str>,
}
