use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::{Errors, Layout};
use crate::{
    domain::{Email, FieldErrors},
    models::{
        invitations::{NewInvitation, Pending},
        roles::RoleSummary,
    },
};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct InvitationForm {
    pub email: String,
    pub role: String,
}

impl TryFrom<&InvitationForm> for NewInvitation {
    type Error = FieldErrors;

    fn try_from(form: &InvitationForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let email = errors.take("email", Email::parse(&form.email));
        let role_pid = Uuid::parse_str(form.role.trim()).ok();
        if role_pid.is_none() {
            errors.add("role", "Choose one of the local's roles.");
        }
        match email {
            Some(email) if errors.is_empty() => Ok(Self { email, role_pid }),
            _ => Err(errors),
        }
    }
}

pub struct RoleChoice {
    pub pid: Uuid,
    pub name: String,
}

impl From<&RoleSummary> for RoleChoice {
    fn from(s: &RoleSummary) -> Self {
        Self {
            pid: s.role.pid,
            name: s.role.name.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "invitations/index.html")]
pub struct Index {
    pub layout: Layout,
    pub slug: String,
    pub roles: Vec<RoleChoice>,
    pub pending: Vec<Pending>,
    pub form: InvitationForm,
    pub errors: Errors,
}
