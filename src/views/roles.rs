use askama::Template;
use serde::Deserialize;

use super::{Errors, Layout};
use crate::{
    domain::{FieldErrors, Permission, PermissionSet, RoleName},
    models::roles::{Model, RoleDefinition, RoleSummary},
};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RoleForm {
    pub name: String,
    pub permissions: Vec<String>,
}

impl From<&Model> for RoleForm {
    fn from(role: &Model) -> Self {
        Self {
            name: role.name.clone(),
            permissions: role
                .permission_set()
                .iter()
                .map(|p| p.key().to_string())
                .collect(),
        }
    }
}

impl TryFrom<&RoleForm> for RoleDefinition {
    type Error = FieldErrors;

    fn try_from(form: &RoleForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = errors.take("name", RoleName::parse(&form.name));
        let permissions = errors.take("permissions", PermissionSet::parse_keys(&form.permissions));
        match (name, permissions) {
            (Some(name), Some(permissions)) => Ok(Self { name, permissions }),
            _ => Err(errors),
        }
    }
}

pub struct PermissionOption {
    pub key: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

#[must_use]
pub fn options(form: &RoleForm) -> Vec<PermissionOption> {
    Permission::ALL
        .iter()
        .map(|p| PermissionOption {
            key: p.key(),
            label: p.label(),
            checked: form.permissions.iter().any(|k| k == p.key()),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "roles/index.html")]
pub struct Index {
    pub layout: Layout,
    pub slug: String,
    pub roles: Vec<RoleSummary>,
}

#[derive(Template)]
#[template(path = "roles/form.html")]
pub struct Form {
    pub layout: Layout,
    pub slug: String,
    pub heading: String,
    pub action: String,
    pub form: RoleForm,
    pub options: Vec<PermissionOption>,
    pub errors: Errors,
}
