//! Per-local roles: a name and a set of permissions (tenant-owned).
use chrono::Utc;
use loco_rs::model::TenantEntity;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ModelTrait, PaginatorTrait, QueryFilter,
};
use uuid::Uuid;

pub use super::_entities::roles::{self, ActiveModel, Entity, Model};
use super::{
    _entities::memberships, on_conflict, tenancy::LocalTxn, tenants::Tenant, Error, Result, Window,
};
use crate::domain::{permission::DEFAULT_ROLES, FieldErrors, Permission, PermissionSet, RoleName};

impl TenantEntity for Entity {
    type TenantId = i32;

    fn tenant_column() -> roles::Column {
        roles::Column::TenantId
    }
}

/// A role as an admin defines it.
#[derive(Debug, Clone)]
pub struct RoleDefinition {
    pub name: RoleName,
    pub permissions: PermissionSet,
}

/// A role with the number of people holding it, for the roles page.
#[derive(Debug, Clone)]
pub struct RoleSummary {
    pub role: Model,
    pub holders: u64,
}

const NAME_TAKEN: (&str, &str, &str) = ("name", "name", "A role with this name exists already.");

pub(crate) async fn create_defaults(txn: &LocalTxn) -> Result<Vec<Model>> {
    let mut created = Vec::with_capacity(DEFAULT_ROLES.len());
    for default in DEFAULT_ROLES {
        created.push(insert(txn, default.name, &(default.permissions)()).await?);
    }
    Ok(created)
}

async fn insert(txn: &LocalTxn, name: &str, permissions: &PermissionSet) -> Result<Model> {
    let now = Utc::now().into();
    txn.insert(ActiveModel {
        pid: Set(Uuid::new_v4()),
        name: Set(name.to_string()),
        permissions: Set(permissions.to_stored()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .await
    .map_err(|e| on_conflict(e, &[NAME_TAKEN]))
}

/// Refuses a change that would leave the local with no active person able to
/// manage roles and users: the last admin cannot be removed.
pub(crate) async fn ensure_an_admin_remains(txn: &LocalTxn, field: &'static str) -> Result<()> {
    let admin_roles: Vec<i32> = txn
        .select::<Entity>()
        .all(txn)
        .await?
        .into_iter()
        .filter(Model::is_admin)
        .map(|r| r.id)
        .collect();
    let admins = txn
        .select::<memberships::Entity>()
        .filter(memberships::Column::RoleId.is_in(admin_roles))
        .filter(memberships::Column::DisabledAt.is_null())
        .count(txn)
        .await?;
    if admins == 0 {
        return Err(Error::Conflict(FieldErrors::one(
            field,
            "This would leave the local without an admin. Make someone else an admin first.",
        )));
    }
    Ok(())
}

impl Model {
    #[must_use]
    pub fn permission_set(&self) -> PermissionSet {
        PermissionSet::from_stored(&self.permissions)
    }

    /// Whether holders of this role can manage roles and users (and so repair
    /// any other access problem in the local).
    #[must_use]
    pub fn is_admin(&self) -> bool {
        let set = self.permission_set();
        set.contains(Permission::RolesManage) && set.contains(Permission::UsersManage)
    }

    /// # Errors
    /// A database error.
    pub async fn list(tenant: &Tenant) -> Result<Vec<RoleSummary>> {
        Self::list_window(tenant, Window::all()).await
    }

    /// # Errors
    /// A database error.
    pub async fn list_window(tenant: &Tenant, window: Window) -> Result<Vec<RoleSummary>> {
        let txn = tenant.begin().await?;
        let roles = window
            .apply(txn.select::<Entity>(), roles::Column::Id)
            .all(&txn)
            .await?;
        let mut summaries = Vec::with_capacity(roles.len());
        for role in roles {
            let holders = role.find_related(memberships::Entity).count(&txn).await?;
            summaries.push(RoleSummary { role, holders });
        }
        txn.commit().await?;
        Ok(summaries)
    }

    /// # Errors
    /// `NotFound` (also for another local's role) or a database error.
    pub async fn find_by_pid(txn: &LocalTxn, pid: Uuid) -> Result<Self> {
        super::find_in_local::<Entity>(txn, roles::Column::Pid, pid).await
    }

    /// # Errors
    /// A database error.
    pub async fn find(tenant: &Tenant, pid: Uuid) -> Result<Self> {
        let txn = tenant.begin().await?;
        let role = Self::find_by_pid(&txn, pid).await?;
        txn.commit().await?;
        Ok(role)
    }

    /// One role with the number of people holding it.
    ///
    /// # Errors
    /// `NotFound` (also for another local's role) or a database error.
    pub async fn summary(tenant: &Tenant, pid: Uuid) -> Result<RoleSummary> {
        let txn = tenant.begin().await?;
        let role = Self::find_by_pid(&txn, pid).await?;
        let holders = role.find_related(memberships::Entity).count(&txn).await?;
        txn.commit().await?;
        Ok(RoleSummary { role, holders })
    }

    /// # Errors
    /// `Invalid` when the name is taken, or a database error.
    pub async fn create(tenant: &Tenant, definition: RoleDefinition) -> Result<Self> {
        let txn = tenant.begin().await?;
        let role = insert(&txn, definition.name.as_str(), &definition.permissions).await?;
        txn.commit().await?;
        Ok(role)
    }

    /// # Errors
    /// `NotFound`, `Invalid` (name taken, or the change would leave no admin),
    /// or a database error.
    pub async fn update(tenant: &Tenant, pid: Uuid, definition: RoleDefinition) -> Result<Self> {
        let txn = tenant.begin().await?;
        let mut row: ActiveModel = Self::find_by_pid(&txn, pid).await?.into();
        row.name = Set(definition.name.into_string());
        row.permissions = Set(definition.permissions.to_stored());
        row.updated_at = Set(Utc::now().into());
        let role = row
            .update(&txn)
            .await
            .map_err(|e| on_conflict(e, &[NAME_TAKEN]))?;
        ensure_an_admin_remains(&txn, "permissions").await?;
        txn.commit().await?;
        Ok(role)
    }

    /// Deletes a role nobody holds.
    ///
    /// # Errors
    /// `NotFound`, `Invalid` while people hold it, or a database error.
    pub async fn delete(tenant: &Tenant, pid: Uuid) -> Result<()> {
        let txn = tenant.begin().await?;
        let role = Self::find_by_pid(&txn, pid).await?;
        let holders = role.find_related(memberships::Entity).count(&txn).await?;
        if holders > 0 {
            return Err(Error::Conflict(FieldErrors::one(
                "role",
                format!("{holders} people hold this role. Give them another role first."),
            )));
        }
        txn.delete::<Entity>()
            .filter(roles::Column::Id.eq(role.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }
}

impl sea_orm::ActiveModelBehavior for ActiveModel {}
