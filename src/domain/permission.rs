//! The fixed list of permissions a role may hold. Roles themselves are data
//! (`roles` table); these keys are code, so a check cannot name a permission
//! that does not exist.
use std::collections::BTreeSet;

macro_rules! permissions {
    ($($variant:ident => $key:literal, $label:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Permission { $($variant),* }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant),*];

            #[must_use]
            pub fn key(self) -> &'static str {
                match self { $(Permission::$variant => $key),* }
            }

            #[must_use]
            pub fn label(self) -> &'static str {
                match self { $(Permission::$variant => $label),* }
            }

            #[must_use]
            pub fn from_key(key: &str) -> Option<Self> {
                match key { $($key => Some(Permission::$variant),)* _ => None }
            }
        }
    };
}

permissions! {
    MembersRead => "members.read", "See members";
    MembersWrite => "members.write", "Add and edit members";
    MembersDelete => "members.delete", "Delete members";
    StructureManage => "structure.manage", "Manage employers, worksites, bargaining units and membership statuses";
    AuditRead => "audit.read", "See the local's audit log";
    CasesRead => "cases.read", "See all cases";
    CasesWrite => "cases.write", "Open and work any case";
    CasesAssigned => "cases.assigned", "Open and work cases assigned to them or their worksite";
    CasesDelete => "cases.delete", "Delete cases";
    DocumentsRead => "documents.read", "See documents";
    DocumentsWrite => "documents.write", "Upload and manage documents";
    DocumentsDelete => "documents.delete", "Delete documents";
    EventsManage => "events.manage", "Manage events and meetings";
    AttendanceRecord => "attendance.record", "Register attendance at events and meetings";
    CommunicationsSend => "communications.send", "Send mass email and SMS";
    NotificationsManage => "notifications.manage", "Send and manage notifications";
    ReportsRead => "reports.read", "See and run reports";
    WorkflowsManage => "workflows.manage", "Define workflows";
    UsersRead => "users.read", "See the local's user accounts";
    UsersManage => "users.manage", "Invite, disable and change the role of users";
    RolesManage => "roles.manage", "Create and edit roles";
    BillingManage => "billing.manage", "Manage the subscription and billing";
    SelfService => "self.service", "Own profile, own cases, register for events, own notifications";
}

/// A role's permissions, stored as space-separated keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionSet(BTreeSet<Permission>);

impl PermissionSet {
    #[must_use]
    pub fn all() -> Self {
        Self(Permission::ALL.iter().copied().collect())
    }

    #[must_use]
    pub fn of(permissions: &[Permission]) -> Self {
        Self(permissions.iter().copied().collect())
    }

    /// Reads the stored form; keys that no longer exist in code are dropped.
    #[must_use]
    pub fn from_stored(stored: &str) -> Self {
        Self(
            stored
                .split_whitespace()
                .filter_map(Permission::from_key)
                .collect(),
        )
    }

    /// Parses the keys a form sent.
    ///
    /// # Errors
    /// When a key is not a known permission.
    pub fn parse_keys<S: AsRef<str>>(keys: &[S]) -> Result<Self, String> {
        keys.iter()
            .map(|k| {
                Permission::from_key(k.as_ref()).ok_or_else(|| "Unknown permission.".to_string())
            })
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Self)
    }

    #[must_use]
    pub fn to_stored(&self) -> String {
        self.0.iter().map(|p| p.key()).collect::<Vec<_>>().join(" ")
    }

    #[must_use]
    pub fn contains(&self, permission: Permission) -> bool {
        self.0.contains(&permission)
    }

    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        self.0.iter().copied()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The roles every new local starts with (PRODUCT.md, "Roles").
pub struct DefaultRole {
    pub name: &'static str,
    pub permissions: fn() -> PermissionSet,
}

pub const ADMIN_ROLE: &str = "Admin";

pub const DEFAULT_ROLES: &[DefaultRole] = &[
    DefaultRole {
        name: ADMIN_ROLE,
        permissions: PermissionSet::all,
    },
    DefaultRole {
        name: "Officer",
        permissions: || {
            use Permission::*;
            PermissionSet::of(&[
                MembersRead,
                MembersWrite,
                CasesRead,
                CasesWrite,
                DocumentsRead,
                DocumentsWrite,
                EventsManage,
                AttendanceRecord,
                CommunicationsSend,
                NotificationsManage,
                ReportsRead,
                UsersRead,
            ])
        },
    },
    DefaultRole {
        name: "Steward",
        permissions: || {
            use Permission::*;
            PermissionSet::of(&[MembersRead, CasesAssigned, AttendanceRecord])
        },
    },
    DefaultRole {
        name: "Member",
        permissions: || PermissionSet::of(&[Permission::SelfService]),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permission_set_round_trips_through_storage() {
        let set = PermissionSet::of(&[Permission::RolesManage, Permission::MembersRead]);
        assert_eq!(set.to_stored(), "members.read roles.manage");
        assert_eq!(PermissionSet::from_stored(&set.to_stored()), set);
    }

    #[test]
    fn unknown_keys_are_refused_from_forms_and_dropped_from_storage() {
        assert!(PermissionSet::parse_keys(&["members.read", "root"]).is_err());
        assert_eq!(PermissionSet::from_stored("root members.read").len(), 1);
    }
}
