use askama::Template;
use serde::Deserialize;

use super::{Errors, Layout};
use crate::models::{_entities::tenants, operators::Entry};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReasonForm {
    pub reason: String,
}

#[derive(Template)]
#[template(path = "ops/index.html")]
pub struct Index {
    pub layout: Layout,
    pub q: String,
    pub locals: Vec<tenants::Model>,
    pub next_after: Option<i32>,
}

#[derive(Template)]
#[template(path = "ops/show.html")]
pub struct Show {
    pub layout: Layout,
    pub local: tenants::Model,
    pub audit: Vec<Entry>,
    pub form: ReasonForm,
    pub errors: Errors,
}

#[derive(Template)]
#[template(path = "ops/audit.html")]
pub struct Audit {
    pub layout: Layout,
    pub entries: Vec<Entry>,
}
