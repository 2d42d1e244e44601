//! Worksites (tenant-owned): the places an employer's members work.
use chrono::Utc;
use loco_rs::model::{TenantActiveModelExt, TenantEntity};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use uuid::Uuid;

pub use super::_entities::worksites::{self, ActiveModel, Column, Entity, Model};
use super::{
    audit_events::record_by, employers, find_in_local, list_in_local, on_conflict, tenants::Tenant,
    Error, Result,
};
use crate::domain::{FieldErrors, Permission, UnitName};

/// The audit log's subject type.
pub const SUBJECT: &str = "worksite";

impl TenantEntity for Entity {
    type TenantId = i32;

    fn tenant_column() -> Column {
        Column::TenantId
    }
}

impl Model {
    /// A worksite of one of the local's employers.
    ///
    /// # Errors
    /// `UnknownReference` (no such employer in this local), `Conflict` (name
    /// taken at that employer), or a database error.
    pub async fn create(tenant: &Tenant, employer: Uuid, name: &UnitName) -> Result<Self> {
        tenant.require(Permission::StructureManage)?;
        let txn = tenant.begin().await?;
        let employer = employers::Model::find_by_pid(&txn, tenant, employer)
            .await
            .map_err(|_| {
                Error::UnknownReference(FieldErrors::one(
                    "employer",
                    "Choose one of the local's employers.",
                ))
            })?;
        let now = Utc::now();
        let row = ActiveModel {
            pid: Set(Uuid::new_v4()),
            employer_id: Set(employer.id),
            name: Set(name.as_str().to_string()),
            created_at: Set(now.into()),
            updated_at: Set(now.into()),
            ..Default::default()
        }
        .set_tenant(tenant.id())?
        .insert(&txn)
        .await
        .map_err(|e| {
            on_conflict(
                e,
                &[(
                    "name",
                    "name",
                    "This employer has a worksite with this name already.",
                )],
            )
        })?;
        record_by(
            &txn,
            tenant,
            (SUBJECT, row.id),
            "create",
            &[
                ("name", None, Some(&row.name)),
                ("employer", None, Some(&employer.name)),
            ],
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// The local's worksites, by name.
    ///
    /// # Errors
    /// A database error.
    pub async fn list<C: ConnectionTrait>(conn: &C, tenant: &Tenant) -> Result<Vec<Self>> {
        list_in_local::<Entity, _>(conn, tenant, Column::Name).await
    }

    /// # Errors
    /// `NotFound` (also for another local's) or a database error.
    pub async fn find_by_pid<C: ConnectionTrait>(
        conn: &C,
        tenant: &Tenant,
        pid: Uuid,
    ) -> Result<Self> {
        find_in_local::<Entity, _>(conn, tenant, Column::Pid, pid).await
    }

    /// Renames it.
    ///
    /// # Errors
    /// `NotFound` (also another local's), `Conflict` when the name is taken, or a database error.
    pub async fn rename(tenant: &Tenant, pid: Uuid, name: &UnitName) -> Result<Self> {
        tenant.require(Permission::StructureManage)?;
        let txn = tenant.begin().await?;
        let old = Self::find_by_pid(&txn, tenant, pid).await?;
        let was = old.name.clone();
        let mut row: ActiveModel = old.into();
        row.name = Set(name.as_str().to_string());
        row.updated_at = Set(Utc::now().into());
        let saved = row.update(&txn).await.map_err(|e| {
            on_conflict(
                e,
                &[(
                    "name",
                    "name",
                    "This employer has a worksite with this name already.",
                )],
            )
        })?;
        record_by(
            &txn,
            tenant,
            (SUBJECT, saved.id),
            "update",
            &[("name", Some(&was), Some(&saved.name))],
        )
        .await?;
        txn.commit().await?;
        Ok(saved)
    }
}
