//! Employers (tenant-owned): where members work. Created, renamed, listed,
//! found and deleted by the structure's one implementation
//! ([`super::structure::NamedPart`]); this file says what is particular.
use chrono::Utc;
use loco_rs::model::TenantEntity;
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

pub use super::_entities::employers::{self, ActiveModel, Column, Entity, Model};
use super::{
    structure::{self, NamedPart, Part, PartEntity},
    tenancy::LocalTxn,
    tenants::Tenant,
    Result,
};
use crate::domain::UnitName;

/// The audit log's subject type.
pub const SUBJECT: &str = "employer";

impl TenantEntity for Entity {
    type TenantId = i32;

    fn tenant_column() -> Column {
        Column::TenantId
    }
}

impl PartEntity for Entity {
    const PART: Part = Part::Employer;

    fn id_column() -> Column {
        Column::Id
    }

    fn pid_column() -> Column {
        Column::Pid
    }

    fn name_column() -> Column {
        Column::Name
    }

    fn id_of(row: &Model) -> i32 {
        row.id
    }

    fn pid_of(row: &Model) -> Uuid {
        row.pid
    }

    fn name_of(row: &Model) -> &str {
        &row.name
    }
}

impl NamedPart for Entity {
    const TAKEN: &'static str = "An employer with this name exists already.";

    fn new_row(name: &str, _employer: Option<i32>) -> ActiveModel {
        let now = Utc::now();
        ActiveModel {
            pid: Set(Uuid::new_v4()),
            name: Set(name.to_string()),
            created_at: Set(now.into()),
            updated_at: Set(now.into()),
            ..Default::default()
        }
    }

    fn renamed(row: Model, name: &str) -> ActiveModel {
        let mut row: ActiveModel = row.into();
        row.name = Set(name.to_string());
        row.updated_at = Set(Utc::now().into());
        row
    }
}

impl Model {
    /// # Errors
    /// `Forbidden`, `Suspended`, `Conflict` when the name is taken, or a database error.
    pub async fn create(tenant: &Tenant, name: &UnitName) -> Result<Self> {
        structure::create::<Entity>(tenant, name, None).await
    }

    /// The local's, by name.
    ///
    /// # Errors
    /// A database error.
    pub async fn list(txn: &LocalTxn) -> Result<Vec<Self>> {
        structure::list::<Entity>(txn).await
    }

    /// # Errors
    /// `NotFound` (also for another local's) or a database error.
    pub async fn find_by_pid(txn: &LocalTxn, pid: Uuid) -> Result<Self> {
        structure::find::<Entity>(txn, pid).await
    }

    /// Renames it.
    ///
    /// # Errors
    /// `Forbidden`, `Suspended`, `NotFound` (also another local's), `Conflict`
    /// when the name is taken, or a database error.
    pub async fn rename(tenant: &Tenant, pid: Uuid, name: &UnitName) -> Result<Self> {
        structure::rename::<Entity>(tenant, pid, name).await
    }
}
