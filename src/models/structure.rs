//! Deleting a part of the local's structure (an employer, a worksite, a
//! bargaining unit, a membership status) that nothing refers to: a name
//! added by mistake, or an employer the local no longer organises. Anything still in use is refused
//! with what uses it, so no member loses where they work; the foreign keys
//! refuse it too, should a member be placed there meanwhile.
use loco_rs::model::TenantQueryExt;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, SqlErr};
use uuid::Uuid;

use super::{
    _entities::{member_status_changes as history_rows, members as member_rows},
    audit_events::{self, Change},
    bargaining_units, employers,
    members::Directory,
    membership_statuses,
    tenants::Tenant,
    worksites, Error, Result,
};
use crate::domain::{FieldErrors, Permission};

/// What may be deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Employer,
    Worksite,
    Unit,
    /// Only one no member's status history names: a history must keep
    /// reading right.
    Status,
}

impl Part {
    /// Every part, in the order routes name them by index.
    pub const ALL: [Self; 4] = [Self::Employer, Self::Worksite, Self::Unit, Self::Status];

    /// The audit log's subject type.
    #[must_use]
    pub fn subject(self) -> &'static str {
        match self {
            Self::Employer => employers::SUBJECT,
            Self::Worksite => worksites::SUBJECT,
            Self::Unit => bargaining_units::SUBJECT,
            Self::Status => membership_statuses::SUBJECT,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Employer => "employer",
            Self::Worksite => "worksite",
            Self::Unit => "bargaining unit",
            Self::Status => "status",
        }
    }

    /// The key of its row's form on the structure page.
    #[must_use]
    pub fn form_key(self, pid: Uuid) -> String {
        match self {
            Self::Employer => format!("employer-{pid}"),
            Self::Worksite => format!("worksite-{pid}"),
            Self::Unit => format!("unit-{pid}"),
            Self::Status => format!("status-{pid}"),
        }
    }

    /// Its name in the directory, if it is there.
    #[must_use]
    pub fn name_in(self, d: &Directory, pid: Uuid) -> Option<String> {
        match self {
            Self::Employer => d
                .employers
                .iter()
                .find(|e| e.pid == pid)
                .map(|e| e.name.clone()),
            Self::Worksite => d
                .worksites
                .iter()
                .find(|w| w.pid == pid)
                .map(|w| w.name.clone()),
            Self::Unit => d
                .units
                .iter()
                .find(|u| u.pid == pid)
                .map(|u| u.name.clone()),
            Self::Status => d
                .statuses
                .iter()
                .find(|s| s.pid == pid)
                .map(|s| s.name.clone()),
        }
    }

    fn members_column(self) -> member_rows::Column {
        match self {
            Self::Employer => member_rows::Column::EmployerId,
            Self::Worksite => member_rows::Column::WorksiteId,
            Self::Unit => member_rows::Column::BargainingUnitId,
            Self::Status => member_rows::Column::StatusId,
        }
    }
}

fn in_use(message: String) -> Error {
    Error::Conflict(FieldErrors::one("name", message))
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {many}", super::members::thousands(n))
    }
}

/// Deletes the local's `part` named by `pid` when no member (archived ones
/// included) and, for an employer, no worksite refers to it; returns its
/// name. The audit log keeps who deleted what.
///
/// # Errors
/// `Forbidden` (`structure.manage`), `Suspended`, `NotFound` (also another
/// local's), `Conflict` with what still uses it, or a database error.
pub async fn delete(tenant: &Tenant, part: Part, pid: Uuid) -> Result<String> {
    let by = tenant.require(Permission::StructureManage)?;
    if tenant.model().is_suspended() {
        return Err(Error::Suspended(tenant.slug().to_string()));
    }
    let txn = tenant.begin().await?;
    let (id, name) = match part {
        Part::Employer => {
            let e = employers::Model::find_by_pid(&txn, tenant, pid).await?;
            (e.id, e.name)
        }
        Part::Worksite => {
            let w = worksites::Model::find_by_pid(&txn, tenant, pid).await?;
            (w.id, w.name)
        }
        Part::Unit => {
            let u = bargaining_units::Model::find_by_pid(&txn, tenant, pid).await?;
            (u.id, u.name)
        }
        Part::Status => {
            let s = membership_statuses::find_by_pid(&txn, tenant, pid).await?;
            (s.id, s.name)
        }
    };
    let members = member_rows::Entity::find()
        .in_tenant(tenant.id())
        .filter(part.members_column().eq(id))
        .count(&txn)
        .await?;
    if members > 0 {
        return Err(in_use(format!(
            "{} {} this {}: move them elsewhere first (archived members count too).",
            plural(members, "member", "members"),
            if members == 1 { "has" } else { "have" },
            part.noun()
        )));
    }
    if part == Part::Employer {
        let sites = worksites::Entity::find()
            .in_tenant(tenant.id())
            .filter(worksites::Column::EmployerId.eq(id))
            .count(&txn)
            .await?;
        if sites > 0 {
            return Err(in_use(format!(
                "It has {}: delete {} first.",
                plural(sites, "worksite", "worksites"),
                if sites == 1 { "it" } else { "them" }
            )));
        }
    }
    if part == Part::Status {
        let changes = history_rows::Entity::find()
            .in_tenant(tenant.id())
            .filter(
                sea_orm::Condition::any()
                    .add(history_rows::Column::ToStatusId.eq(id))
                    .add(history_rows::Column::FromStatusId.eq(id)),
            )
            .count(&txn)
            .await?;
        if changes > 0 {
            return Err(in_use(format!(
                "{} in members' status histories {} it, and a history must keep reading right: rename it instead.",
                plural(changes, "change", "changes"),
                if changes == 1 { "names" } else { "name" },
            )));
        }
        let statuses = membership_statuses::Entity::find()
            .in_tenant(tenant.id())
            .count(&txn)
            .await?;
        if statuses <= 1 {
            return Err(in_use("A local needs at least one status.".into()));
        }
    }
    let deleted = match part {
        Part::Employer => {
            employers::Entity::delete_many()
                .in_tenant(tenant.id())
                .filter(employers::Column::Id.eq(id))
                .exec(&txn)
                .await
        }
        Part::Worksite => {
            worksites::Entity::delete_many()
                .in_tenant(tenant.id())
                .filter(worksites::Column::Id.eq(id))
                .exec(&txn)
                .await
        }
        Part::Unit => {
            bargaining_units::Entity::delete_many()
                .in_tenant(tenant.id())
                .filter(bargaining_units::Column::Id.eq(id))
                .exec(&txn)
                .await
        }
        Part::Status => {
            membership_statuses::Entity::delete_many()
                .in_tenant(tenant.id())
                .filter(membership_statuses::Column::Id.eq(id))
                .exec(&txn)
                .await
        }
    };
    deleted.map_err(|e: DbErr| match e.sql_err() {
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => in_use(format!(
            "Members were placed at this {} meanwhile: move them elsewhere first.",
            part.noun()
        )),
        _ => Error::Db(e),
    })?;
    audit_events::record(
        &txn,
        tenant,
        Some(by.user_id()),
        (part.subject(), id),
        "delete",
        &Change::of("name", Some(&name), None)
            .into_iter()
            .collect::<Vec<_>>(),
    )
    .await?;
    txn.commit().await?;
    Ok(name)
}
