//! Typed pages: one askama struct per page (STYLE.md 7), all rendered inside
//! `assets/views/layouts/app.html` through the shared [`Layout`].
pub mod account;
pub mod api;
pub mod audit;
pub mod auth;
pub mod errors;
pub mod home;
pub mod invitations;
pub mod locals;
pub mod member_imports;
pub mod members;
pub mod ops;
pub mod profile;
pub mod roles;
pub mod structure;
pub mod tokens;
pub mod users;

use serde::{Deserialize, Serialize};

use crate::{
    domain::{FieldErrors, Permission},
    models::{tenants::Tenant, users as user_model},
};

/// A one-time message shown on the next page (after a redirect).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flash {
    pub kind: FlashKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum FlashKind {
    Notice,
    Alert,
}

impl Flash {
    pub fn notice(message: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Notice,
            message: message.into(),
        }
    }

    pub fn alert(message: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Alert,
            message: message.into(),
        }
    }

    #[must_use]
    pub fn css(&self) -> &'static str {
        match self.kind {
            FlashKind::Notice => "flash flash-notice",
            FlashKind::Alert => "flash flash-alert",
        }
    }
}

/// The signed-in person, as the layout shows them.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub name: String,
    pub email: String,
    pub verified: bool,
    pub operator: bool,
}

impl From<&user_model::Model> for Viewer {
    fn from(user: &user_model::Model) -> Self {
        Self {
            name: user.name.clone(),
            email: user.email.clone(),
            verified: user.is_email_verified(),
            operator: user.operator_since.is_some(),
        }
    }
}

/// The current local in the navigation, with the sections the role may open.
#[derive(Debug, Clone)]
pub struct LocalNav {
    pub name: String,
    pub slug: String,
    pub role: String,
    pub can_see_users: bool,
    pub can_manage_roles: bool,
    pub can_invite: bool,
    pub can_see_members: bool,
    pub can_manage_structure: bool,
    pub has_profile: bool,
    pub can_read_audit: bool,
}

/// What every page shows around its content.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub csrf: String,
    pub flashes: Vec<Flash>,
    pub viewer: Option<Viewer>,
    pub local: Option<LocalNav>,
}

impl Layout {
    /// Adds the current local's navigation.
    #[must_use]
    pub fn within(mut self, tenant: &Tenant) -> Self {
        let Ok(access) = tenant.access() else {
            return self;
        };
        self.local = Some(LocalNav {
            name: tenant.name().to_string(),
            slug: tenant.slug().to_string(),
            role: access.role_name().to_string(),
            can_see_users: access.can(Permission::UsersRead) || access.can(Permission::UsersManage),
            can_manage_roles: access.can(Permission::RolesManage),
            can_invite: access.can(Permission::UsersManage),
            can_see_members: access.can(Permission::MembersRead),
            can_manage_structure: access.can(Permission::StructureManage),
            can_read_audit: access.can(Permission::AuditRead),
            has_profile: access.can(Permission::SelfService)
                && !access.can(Permission::MembersRead),
        });
        self
    }
}

/// Per-field messages for a form, empty on first display.
#[derive(Debug, Clone, Default)]
pub struct Errors(pub FieldErrors);

impl Errors {
    #[must_use]
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    #[must_use]
    pub fn all(&self) -> Vec<(&'static str, &str)> {
        self.0.iter().collect()
    }
}

impl From<FieldErrors> for Errors {
    fn from(errors: FieldErrors) -> Self {
        Self(errors)
    }
}
