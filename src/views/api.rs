//! JSON bodies of the API (`/api/v1`): what goes on the wire, never an entity.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::models::{
    _entities::tenants, api_tokens, invitations::Pending, memberships::Person as PersonRow,
    roles::RoleSummary, users,
};

/// Every error: a stable code, a message for people, and messages per field.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable, e.g. `validation_failed`, `not_found`.
    #[schema(example = "validation_failed")]
    pub code: String,
    pub message: String,
    /// Messages per request field (validation and conflicts).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
}

/// A page of a collection; follow `next` for the following page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// The URL of the next page, absent on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Local {
    pub slug: String,
    pub name: String,
    /// `active` or `suspended`.
    pub status: String,
}

impl From<&tenants::Model> for Local {
    fn from(t: &tenants::Model) -> Self {
        Self {
            slug: t.slug.clone(),
            name: t.name.clone(),
            status: t.status.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub pid: Uuid,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    /// The local the token is bound to, and the person's role there.
    pub local: Local,
    pub role: String,
    pub permissions: Vec<String>,
}

impl Me {
    #[must_use]
    pub fn new(
        user: &users::Model,
        local: &tenants::Model,
        role: &str,
        permissions: Vec<String>,
    ) -> Self {
        Self {
            pid: user.pid,
            name: user.name.clone(),
            email: user.email.clone(),
            email_verified: user.is_email_verified(),
            local: local.into(),
            role: role.to_string(),
            permissions,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Permission {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Role {
    pub pid: Uuid,
    pub name: String,
    pub permissions: Vec<String>,
    /// How many people hold the role.
    pub holders: u64,
}

impl From<&RoleSummary> for Role {
    fn from(s: &RoleSummary) -> Self {
        Self {
            pid: s.role.pid,
            name: s.role.name.clone(),
            permissions: s
                .role
                .permission_set()
                .iter()
                .map(|p| p.key().to_string())
                .collect(),
            holders: s.holders,
        }
    }
}

/// A role as an admin defines it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    pub name: String,
    /// Permission keys, see `GET /api/v1/permissions`.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// A person with access to the local.
#[derive(Debug, Serialize, ToSchema)]
pub struct Person {
    /// The person's place in this local (used in URLs).
    pub pid: Uuid,
    pub name: String,
    pub email: String,
    pub role: String,
    pub role_pid: Uuid,
    pub disabled: bool,
}

impl From<&PersonRow> for Person {
    fn from(p: &PersonRow) -> Self {
        Self {
            pid: p.membership.pid,
            name: p.user.name.clone(),
            email: p.user.email.clone(),
            role: p.role.name.clone(),
            role_pid: p.role.pid,
            disabled: p.is_disabled(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    /// The pid of one of the local's roles.
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invitation {
    pub pid: Uuid,
    pub email: String,
    pub role: String,
    pub expires_at: String,
}

impl From<&Pending> for Invitation {
    fn from(p: &Pending) -> Self {
        Self {
            pid: p.invitation.pid,
            email: p.invitation.email.clone(),
            role: p.role_name.clone(),
            expires_at: p.invitation.expires_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationInput {
    pub email: String,
    /// The pid of one of the local's roles.
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Token {
    pub pid: Uuid,
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub active: bool,
}

impl From<&api_tokens::Model> for Token {
    fn from(t: &api_tokens::Model) -> Self {
        Self {
            pid: t.pid,
            name: t.name.clone(),
            prefix: t.prefix.clone(),
            created_at: t.created_at.to_rfc3339(),
            expires_at: t.expires_at.map(|at| at.to_rfc3339()),
            last_used_at: t.last_used_at.map(|at| at.to_rfc3339()),
            active: t.is_active(),
        }
    }
}

/// A new token: its secret is in this answer only.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewToken {
    pub token: Token,
    /// Send as `Authorization: Bearer <secret>`. Shown once.
    pub secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    pub name: String,
    /// Days until the token expires (1–366); absent: never.
    pub expires_in_days: Option<u32>,
}
