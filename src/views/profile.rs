use askama::Template;

use super::{Errors, Layout};
use crate::{controllers::profile::ContactForm, models::members::Model as Member};

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
