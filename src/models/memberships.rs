//! A person's place in a local: their role there, and whether an admin has
//! disabled their access (tenant-owned).
use chrono::Utc;
use loco_rs::model::TenantEntity;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use uuid::Uuid;

pub use super::_entities::memberships::{self, ActiveModel, Entity, Model};
use super::{
    _entities::{roles as role_rows, tenants as tenant_rows, users as user_rows},
    roles, sessions,
    tenancy::LocalTxn,
    tenants::Tenant,
    Error, Result, Window,
};
use crate::domain::{FieldErrors, Permission, PermissionSet};

impl TenantEntity for Entity {
    type TenantId = i32;

    fn tenant_column() -> memberships::Column {
        memberships::Column::TenantId
    }
}

/// What the signed-in person may do in the current local: the one
/// permission check every handler uses.
#[derive(Debug, Clone)]
pub struct Access {
    membership_pid: Uuid,
    user_id: i32,
    role_name: String,
    permissions: PermissionSet,
}

impl Access {
    pub(crate) fn new(membership: &Model, role: &role_rows::Model) -> Self {
        Self {
            membership_pid: membership.pid,
            user_id: membership.user_id,
            role_name: role.name.clone(),
            permissions: role.permission_set(),
        }
    }

    #[must_use]
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(permission)
    }

    /// # Errors
    /// `Forbidden` when the role lacks the permission.
    pub fn require(&self, permission: Permission) -> Result<()> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }

    #[must_use]
    pub fn user_id(&self) -> i32 {
        self.user_id
    }

    #[must_use]
    pub fn membership_pid(&self) -> Uuid {
        self.membership_pid
    }

    #[must_use]
    pub fn role_name(&self) -> &str {
        &self.role_name
    }

    #[must_use]
    pub fn permissions(&self) -> &PermissionSet {
        &self.permissions
    }
}

/// Which people of a local to list.
#[derive(Debug, Clone, Default)]
pub struct PeopleFilter {
    /// Only holders of this role (its pid).
    pub role: Option<Uuid>,
    /// Only people whose access is disabled (`true`) or enabled (`false`).
    pub disabled: Option<bool>,
}

/// One row of a local's people page.
#[derive(Debug, Clone)]
pub struct Person {
    pub membership: Model,
    pub user: user_rows::Model,
    pub role: role_rows::Model,
}

impl Person {
    #[must_use]
    pub fn is_disabled(&self) -> bool {
        self.membership.disabled_at.is_some()
    }
}

pub(crate) async fn insert(txn: &LocalTxn, user_id: i32, role_id: i32) -> Result<Model> {
    let now = Utc::now().into();
    let membership = txn
        .insert(ActiveModel {
            pid: Set(Uuid::new_v4()),
            user_id: Set(user_id),
            role_id: Set(role_id),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .await?;
    tenant_rows::Entity::update_many()
        .col_expr(
            tenant_rows::Column::UsersCount,
            sea_orm::sea_query::Expr::col(tenant_rows::Column::UsersCount).add(1),
        )
        .filter(tenant_rows::Column::Id.eq(txn.local_id()))
        .exec(txn)
        .await?;
    Ok(membership)
}

/// The locals a person may enter (see [`super::platform::locals_of`]).
pub use super::platform::locals_of;

async fn find_person(txn: &LocalTxn, pid: Uuid) -> Result<Person> {
    let membership = txn
        .select::<Entity>()
        .filter(memberships::Column::Pid.eq(pid))
        .one(txn)
        .await?
        .ok_or(Error::NotFound)?;
    let user = user_rows::Entity::find_by_id(membership.user_id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound)?;
    let role = txn
        .select::<role_rows::Entity>()
        .filter(role_rows::Column::Id.eq(membership.role_id))
        .one(txn)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Person {
        membership,
        user,
        role,
    })
}

impl Model {
    /// The user id of the person with this email who has access to the local.
    ///
    /// # Errors
    /// A database error.
    pub async fn find_user_by_email(txn: &LocalTxn, email: &str) -> Result<Option<i32>> {
        let Some(user) = user_rows::Entity::find()
            .filter(user_rows::Column::Email.eq(email.to_lowercase()))
            .one(txn)
            .await?
        else {
            return Ok(None);
        };
        let held = txn
            .select::<Entity>()
            .filter(memberships::Column::UserId.eq(user.id))
            .one(txn)
            .await?;
        Ok(held.map(|_| user.id))
    }

    /// The people of a local with their roles.
    ///
    /// # Errors
    /// A database error.
    pub async fn list(tenant: &Tenant) -> Result<Vec<Person>> {
        Self::list_window(tenant, Window::all(), &PeopleFilter::default()).await
    }

    /// # Errors
    /// A database error.
    pub async fn list_window(
        tenant: &Tenant,
        window: Window,
        filter: &PeopleFilter,
    ) -> Result<Vec<Person>> {
        let txn = tenant.begin().await?;
        let mut query = txn.select::<Entity>();
        if let Some(role_pid) = filter.role {
            // An unknown role matches no one, as any unmatched filter does.
            let role_id = txn
                .select::<role_rows::Entity>()
                .filter(role_rows::Column::Pid.eq(role_pid))
                .one(&txn)
                .await?
                .map_or(-1, |r| r.id);
            query = query.filter(memberships::Column::RoleId.eq(role_id));
        }
        query = match filter.disabled {
            Some(true) => query.filter(memberships::Column::DisabledAt.is_not_null()),
            Some(false) => query.filter(memberships::Column::DisabledAt.is_null()),
            None => query,
        };
        let rows = window
            .apply(query, memberships::Column::Id)
            .find_also_related(user_rows::Entity)
            .all(&txn)
            .await?;
        let roles = txn.select::<role_rows::Entity>().all(&txn).await?;
        txn.commit().await?;
        Ok(rows
            .into_iter()
            .filter_map(|(membership, user)| {
                let role = roles.iter().find(|r| r.id == membership.role_id)?.clone();
                Some(Person {
                    membership,
                    user: user?,
                    role,
                })
            })
            .collect())
    }

    /// # Errors
    /// `NotFound` (also for another local's person) or a database error.
    pub async fn find(tenant: &Tenant, pid: Uuid) -> Result<Person> {
        let txn = tenant.begin().await?;
        let person = find_person(&txn, pid).await?;
        txn.commit().await?;
        Ok(person)
    }

    /// Gives a person another role of the same local.
    ///
    /// # Errors
    /// `NotFound`, `Invalid` (unknown role, or no admin would remain), or a
    /// database error.
    pub async fn change_role(tenant: &Tenant, pid: Uuid, role_pid: Option<Uuid>) -> Result<Person> {
        let txn = tenant.begin().await?;
        let person = find_person(&txn, pid).await?;
        let role = match role_pid {
            Some(role_pid) => roles::Model::find_by_pid(&txn, role_pid).await.ok(),
            None => None,
        }
        .ok_or_else(|| {
            Error::UnknownReference(FieldErrors::one("role", "Choose one of the local's roles."))
        })?;
        let mut row: ActiveModel = person.membership.clone().into();
        row.role_id = Set(role.id);
        row.updated_at = Set(Utc::now().into());
        let membership = row.update(&txn).await?;
        roles::ensure_an_admin_remains(&txn, "role").await?;
        txn.commit().await?;
        Ok(Person {
            membership,
            user: person.user,
            role,
        })
    }

    /// Disables a person's access to the local and ends their sessions.
    ///
    /// # Errors
    /// `NotFound`, `Invalid` (no admin would remain), or a database error.
    pub async fn disable(tenant: &Tenant, pid: Uuid) -> Result<Person> {
        let txn = tenant.begin().await?;
        let person = find_person(&txn, pid).await?;
        let mut row: ActiveModel = person.membership.clone().into();
        row.disabled_at = Set(Some(Utc::now().into()));
        row.updated_at = Set(Utc::now().into());
        let membership = row.update(&txn).await?;
        roles::ensure_an_admin_remains(&txn, "role").await?;
        txn.commit().await?;
        sessions::end_all_for_user(tenant.pool(), person.user.id).await?;
        Ok(Person {
            membership,
            ..person
        })
    }

    /// # Errors
    /// `NotFound` or a database error.
    pub async fn enable(tenant: &Tenant, pid: Uuid) -> Result<Person> {
        let txn = tenant.begin().await?;
        let person = find_person(&txn, pid).await?;
        let mut row: ActiveModel = person.membership.clone().into();
        row.disabled_at = Set(None);
        row.updated_at = Set(Utc::now().into());
        let membership = row.update(&txn).await?;
        txn.commit().await?;
        Ok(Person {
            membership,
            ..person
        })
    }
}

impl sea_orm::ActiveModelBehavior for ActiveModel {}

/// Seeding only: gives `user_id` the role named `role_name` in a local,
/// unless they already hold a role there.
///
/// # Errors
/// `NotFound` for an unknown role, or a database error.
pub async fn seed_membership(
    db: &DatabaseConnection,
    tenant_id: i32,
    user_id: i32,
    role_name: &str,
) -> Result<()> {
    let txn = super::platform::seeding(db, tenant_id).await?;
    let existing = txn
        .select::<Entity>()
        .filter(memberships::Column::UserId.eq(user_id))
        .one(&txn)
        .await?;
    if existing.is_none() {
        let role = txn
            .select::<role_rows::Entity>()
            .filter(role_rows::Column::Name.eq(role_name))
            .one(&txn)
            .await?
            .ok_or(Error::NotFound)?;
        insert(&txn, user_id, role.id).await?;
    }
    txn.commit().await?;
    Ok(())
}
