use askama::Template;
use serde::Deserialize;

use super::{Errors, Layout};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ChangePasswordForm {
    pub current_password: String,
    pub password: String,
}

#[derive(Template)]
#[template(path = "account/show.html")]
pub struct Show {
    pub layout: Layout,
    pub name: String,
    pub email: String,
    pub verified: bool,
    pub errors: Errors,
}
