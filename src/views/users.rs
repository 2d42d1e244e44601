use askama::Template;
use serde::Deserialize;

use super::{Errors, Layout};
use crate::models::{memberships::Person, roles::RoleSummary};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RoleChangeForm {
    pub role: String,
}

#[derive(Template)]
#[template(path = "users/index.html")]
pub struct Index {
    pub layout: Layout,
    pub slug: String,
    pub people: Vec<Person>,
    pub can_manage: bool,
}

pub struct RoleOption {
    pub id: i32,
    pub pid: uuid::Uuid,
    pub name: String,
}

impl From<&RoleSummary> for RoleOption {
    fn from(s: &RoleSummary) -> Self {
        Self {
            id: s.role.id,
            pid: s.role.pid,
            name: s.role.name.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "users/show.html")]
pub struct Show {
    pub layout: Layout,
    pub slug: String,
    pub person: Person,
    pub roles: Vec<RoleOption>,
    pub errors: Errors,
}
