//! The local's structure: employers, their worksites, bargaining units and
//! membership statuses. Employers, worksites and units are one kind of thing
//! (a name the local keeps: [`NamedPart`]) and are created, renamed, listed,
//! found, deleted and audited by the one implementation here; statuses add
//! an order and "in good standing" (`membership_statuses`).
//!
//! Deleting a part that nothing refers to: a name added by mistake, or an
//! employer the local no longer organises. Anything still in use is refused
//! with what uses it, so no member loses where they work; the foreign keys
//! refuse it too, should a member be placed there meanwhile.
mod directory;

use loco_rs::model::TenantEntity;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, IntoActiveModel, PaginatorTrait, QueryFilter, SqlErr,
};
use uuid::Uuid;

pub use self::directory::Directory;
use super::{
    _entities::{member_status_changes as history_rows, members as member_rows},
    audit_events::{self, record_by, Change},
    bargaining_units, employers, find_in_local, list_in_local, membership_statuses, on_conflict,
    tenancy::LocalTxn,
    tenants::Tenant,
    worksites, Error, Result, Window,
};
use crate::domain::{FieldErrors, Permission, UnitName};

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

    /// Its name at the start of a sentence ("Worksite added.").
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Employer => "Employer",
            Self::Worksite => "Worksite",
            Self::Unit => "Bargaining unit",
            Self::Status => "Status",
        }
    }

    /// The key of the structure page's form that adds one (a worksite's is
    /// its employer's).
    #[must_use]
    pub fn new_form_key(self, employer: Option<Uuid>) -> String {
        match (self, employer) {
            (Self::Worksite, Some(employer)) => format!("worksite-new-{employer}"),
            (Self::Worksite, None) => "worksite-new".into(),
            (Self::Employer, _) => "employer-new".into(),
            (Self::Unit, _) => "unit-new".into(),
            (Self::Status, _) => "status-new".into(),
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

/// A table of the local's structure, as the code that finds, lists and
/// deletes its rows sees it.
pub trait PartEntity:
    TenantEntity<
    TenantId = i32,
    Model: Sync + IntoActiveModel<Self::ActiveModel>,
    ActiveModel: Send + Sync,
>
{
    const PART: Part;
    fn id_column() -> Self::Column;
    fn pid_column() -> Self::Column;
    fn name_column() -> Self::Column;
    /// The column a worksite names its employer by; no other part has one.
    fn employer_column() -> Option<Self::Column> {
        None
    }
    fn id_of(row: &Self::Model) -> i32;
    fn pid_of(row: &Self::Model) -> Uuid;
    fn name_of(row: &Self::Model) -> &str;
}

/// An employer, a worksite or a bargaining unit: a name the local keeps,
/// unique among its kind (a worksite's among its employer's).
pub trait NamedPart: PartEntity {
    /// Why a taken name is refused.
    const TAKEN: &'static str;
    /// A new row with a fresh pid; `employer` is set for a worksite alone.
    fn new_row(name: &str, employer: Option<i32>) -> Self::ActiveModel;
    /// The row with its new name.
    fn renamed(row: Self::Model, name: &str) -> Self::ActiveModel;
}

/// The local's row of `P` by its pid.
///
/// # Errors
/// `NotFound` (also another local's) or a database error.
pub async fn find<P: PartEntity>(txn: &LocalTxn, pid: Uuid) -> Result<P::Model> {
    find_in_local::<P>(txn, P::pid_column(), pid).await
}

/// The local's rows of `P`, by name.
///
/// # Errors
/// A database error.
pub async fn list<P: PartEntity>(txn: &LocalTxn) -> Result<Vec<P::Model>> {
    list_in_local::<P>(txn, P::name_column()).await
}

/// Who may read the structure: whoever may read the roll it places.
///
/// # Errors
/// `Forbidden`.
pub fn require_read(tenant: &Tenant) -> Result<()> {
    tenant.require(Permission::MembersRead).map(|_| ())
}

/// A window of the local's rows of `P` in the order they were added (the
/// API's pages), optionally only the one `named` exactly and, for
/// worksites, only `employer`'s.
///
/// # Errors
/// `Forbidden` (`members.read`) or a database error.
pub async fn window<P: PartEntity>(
    tenant: &Tenant,
    window: Window,
    named: Option<&str>,
    employer: Option<Uuid>,
) -> Result<Vec<P::Model>> {
    require_read(tenant)?;
    let txn = tenant.begin().await?;
    let mut query = txn.select::<P>();
    if let Some(name) = named {
        query = query.filter(P::name_column().eq(name.trim()));
    }
    if let (Some(column), Some(employer)) = (P::employer_column(), employer) {
        match find::<employers::Entity>(&txn, employer).await {
            Ok(employer) => query = query.filter(column.eq(employer.id)),
            // Another local's or a deleted employer has no worksites here.
            Err(Error::NotFound) => {
                txn.commit().await?;
                return Ok(vec![]);
            }
            Err(other) => return Err(other),
        }
    }
    let rows = window.apply(query, P::id_column()).all(&txn).await?;
    txn.commit().await?;
    Ok(rows)
}

/// The local's row of `P` by its pid, for a reader of the roll.
///
/// # Errors
/// `Forbidden` (`members.read`), `NotFound` (also another local's), or a
/// database error.
pub async fn read<P: PartEntity>(tenant: &Tenant, pid: Uuid) -> Result<P::Model> {
    require_read(tenant)?;
    let txn = tenant.begin().await?;
    let row = find::<P>(&txn, pid).await?;
    txn.commit().await?;
    Ok(row)
}

async fn employer_of(txn: &LocalTxn, pid: Uuid) -> Result<employers::Model> {
    find::<employers::Entity>(txn, pid)
        .await
        .map_err(|e| match e {
            Error::NotFound => unknown_employer(),
            other => other,
        })
}

fn unknown_employer() -> Error {
    Error::UnknownReference(FieldErrors::one(
        "employer",
        "Choose one of the local's employers.",
    ))
}

/// Adds a `P` named `name` (a worksite at `employer`), with an audit line.
///
/// # Errors
/// `Forbidden` (`structure.manage`), `Suspended`, `UnknownReference` (a
/// worksite without one of the local's employers), `Conflict` when the name
/// is taken, or a database error.
pub async fn create<P: NamedPart>(
    tenant: &Tenant,
    name: &UnitName,
    employer: Option<Uuid>,
) -> Result<P::Model> {
    tenant.require_change(Permission::StructureManage)?;
    let txn = tenant.begin().await?;
    let employer = match (P::employer_column(), employer) {
        (Some(_), Some(pid)) => Some(employer_of(&txn, pid).await?),
        (Some(_), None) => return Err(unknown_employer()),
        (None, _) => None,
    };
    let row = txn
        .insert(P::new_row(name.as_str(), employer.as_ref().map(|e| e.id)))
        .await
        .map_err(|e| on_conflict(e, &[("name", "name", P::TAKEN)]))?;
    record_by(
        &txn,
        tenant,
        (P::PART.subject(), P::id_of(&row)),
        "create",
        &[
            ("name", None, Some(P::name_of(&row))),
            ("employer", None, employer.as_ref().map(|e| e.name.as_str())),
        ],
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Renames the local's `P` named by `pid`, with an audit line.
///
/// # Errors
/// `Forbidden` (`structure.manage`), `Suspended`, `NotFound` (also another
/// local's), `Conflict` when the name is taken, or a database error.
pub async fn rename<P: NamedPart>(tenant: &Tenant, pid: Uuid, name: &UnitName) -> Result<P::Model> {
    tenant.require_change(Permission::StructureManage)?;
    let txn = tenant.begin().await?;
    let old = find::<P>(&txn, pid).await?;
    let was = P::name_of(&old).to_string();
    let saved = P::renamed(old, name.as_str())
        .update(&txn)
        .await
        .map_err(|e| on_conflict(e, &[("name", "name", P::TAKEN)]))?;
    record_by(
        &txn,
        tenant,
        (P::PART.subject(), P::id_of(&saved)),
        "update",
        &[("name", Some(&was), Some(P::name_of(&saved)))],
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
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

/// Deletes the local's `P` named by `pid` when no member (archived ones
/// included) and, for an employer, no worksite refers to it; returns its
/// name. The audit log keeps who deleted what.
///
/// # Errors
/// `Forbidden` (`structure.manage`), `Suspended`, `NotFound` (also another
/// local's), `Conflict` with what still uses it, or a database error.
pub async fn delete<P: PartEntity>(tenant: &Tenant, pid: Uuid) -> Result<String> {
    let by = tenant.require_change(Permission::StructureManage)?;
    let part = P::PART;
    let txn = tenant.begin().await?;
    let row = find::<P>(&txn, pid).await?;
    let (id, name) = (P::id_of(&row), P::name_of(&row).to_string());
    let members = txn
        .select::<member_rows::Entity>()
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
        let sites = txn
            .select::<worksites::Entity>()
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
        let changes = txn
            .select::<history_rows::Entity>()
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
        let statuses = txn
            .select::<membership_statuses::Entity>()
            .count(&txn)
            .await?;
        if statuses <= 1 {
            return Err(in_use("A local needs at least one status.".into()));
        }
    }
    txn.delete::<P>()
        .filter(P::id_column().eq(id))
        .exec(&txn)
        .await
        .map_err(|e: DbErr| match e.sql_err() {
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => in_use(format!(
                "Members were placed at this {} meanwhile: move them elsewhere first.",
                part.noun()
            )),
            _ => Error::Db(e),
        })?;
    audit_events::record(
        &txn,
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
