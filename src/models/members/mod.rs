//! Members (tenant-owned): the union's roll. Every change is checked
//! against the person's permissions, kept in the audit log, and a status
//! change also in the member's status history. Deleting archives.

use chrono::{NaiveDate, Utc};
use loco_rs::model::TenantEntity;
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use uuid::Uuid;

pub use super::_entities::members::{self, ActiveModel, Column, Entity, Model};
use super::{
    _entities::{member_status_changes as changes, tenants as tenant_rows},
    audit_events::{self, Change},
    on_conflict,
    structure::Directory,
    tenants::Tenant,
    Error, Result,
};
use crate::domain::{Address, Email, EmployeeNumber, FieldErrors, MemberName, Permission, Phone};

mod export;
mod filter;
mod history;
mod order;
mod roll;
mod search;
mod self_service;

use crate::models::tenancy::LocalTxn;
pub use export::EXPORT_HEADERS;
pub(crate) use filter::conditions;
pub use filter::MemberFilter;
pub use history::{MemberRecord, StatusChange};
pub use order::{After, Sort};
pub use roll::{thousands, MemberPage, Roll, Total};
use search::search_text;
pub use self_service::ContactDetails;

impl TenantEntity for Entity {
    type TenantId = i32;

    fn tenant_column() -> Column {
        Column::TenantId
    }
}

impl TenantEntity for changes::Entity {
    type TenantId = i32;

    fn tenant_column() -> changes::Column {
        changes::Column::TenantId
    }
}

pub(crate) const SUBJECT: &str = "member";
const EMPLOYEE_NUMBER_TAKEN: (&str, &str, &str) = (
    "employee_number",
    "employee_number",
    "Another member of the local has this employee number.",
);

/// A member as entered (parsed at the edge); references are pids of the
/// local's structure and statuses, resolved (and checked) here.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub first_name: MemberName,
    pub last_name: MemberName,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub address: Option<Address>,
    pub employee_number: Option<EmployeeNumber>,
    pub employer: Option<Uuid>,
    pub worksite: Option<Uuid>,
    pub bargaining_unit: Option<Uuid>,
    /// `None`: the local's first status (Active).
    pub status: Option<Uuid>,
    pub join_date: Option<NaiveDate>,
}

pub(crate) struct Resolved {
    pub employer_id: Option<i32>,
    pub worksite_id: Option<i32>,
    pub bargaining_unit_id: Option<i32>,
    pub status_id: i32,
}

async fn resolve(txn: &LocalTxn, tenant: &Tenant, new: &NewMember) -> Result<Resolved> {
    let directory = Directory::load_in(txn, tenant).await?;
    resolve_in(&directory, new).map_err(Error::UnknownReference)
}

/// The references of `new` as the local's rows, checked in memory against
/// its directory: each must be the local's, and a worksite its employer's.
pub(crate) fn resolve_in(directory: &Directory, new: &NewMember) -> Result<Resolved, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut employer_id = None;
    if let Some(pid) = new.employer {
        match directory.employers.iter().find(|e| e.pid == pid) {
            Some(e) => employer_id = Some(e.id),
            None => errors.add("employer", "Choose one of the local's employers."),
        }
    }
    let mut worksite_id = None;
    if let Some(pid) = new.worksite {
        match directory.worksites.iter().find(|w| w.pid == pid) {
            Some(w) if employer_id.is_some_and(|e| e != w.employer_id) => {
                errors.add("worksite", "This worksite belongs to another employer.");
            }
            Some(w) => {
                employer_id = Some(w.employer_id);
                worksite_id = Some(w.id);
            }
            None => errors.add("worksite", "Choose one of the local's worksites."),
        }
    }
    let mut bargaining_unit_id = None;
    if let Some(pid) = new.bargaining_unit {
        match directory.units.iter().find(|u| u.pid == pid) {
            Some(u) => bargaining_unit_id = Some(u.id),
            None => errors.add(
                "bargaining_unit",
                "Choose one of the local's bargaining units.",
            ),
        }
    }
    let status = match new.status {
        Some(pid) => directory.statuses.iter().find(|s| s.pid == pid),
        None => directory.statuses.first(),
    };
    let status_id = match status {
        Some(s) => s.id,
        None => {
            errors.add("status", "Choose one of the local's statuses.");
            0
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Resolved {
        employer_id,
        worksite_id,
        bargaining_unit_id,
        status_id,
    })
}

pub(crate) fn fill(row: &mut ActiveModel, new: &NewMember, refs: &Resolved) {
    row.first_name = Set(new.first_name.as_str().to_string());
    row.last_name = Set(new.last_name.as_str().to_string());
    row.email = Set(new.email.as_ref().map(|e| e.as_str().to_string()));
    row.phone = Set(new.phone.as_ref().map(|p| p.as_str().to_string()));
    row.address = Set(new.address.as_ref().map(|a| a.as_str().to_string()));
    row.employee_number = Set(new.employee_number.as_ref().map(|n| n.as_str().to_string()));
    row.employer_id = Set(refs.employer_id);
    row.worksite_id = Set(refs.worksite_id);
    row.bargaining_unit_id = Set(refs.bargaining_unit_id);
    row.status_id = Set(refs.status_id);
    row.join_date = Set(new.join_date);
    row.search = Set(search_text(row));
    row.updated_at = Set(Utc::now().into());
}

/// The fields the audit log compares, as text (references by name).
fn audited(m: &Model, names: &Directory) -> [(&'static str, Option<String>); 11] {
    [
        ("first_name", Some(m.first_name.clone())),
        ("last_name", Some(m.last_name.clone())),
        ("email", m.email.clone()),
        ("phone", m.phone.clone()),
        ("address", m.address.clone()),
        ("employee_number", m.employee_number.clone()),
        ("employer", names.name_of("employer", m.employer_id)),
        ("worksite", names.name_of("worksite", m.worksite_id)),
        (
            "bargaining_unit",
            names.name_of("bargaining_unit", m.bargaining_unit_id),
        ),
        ("status", names.name_of("status", Some(m.status_id))),
        ("join_date", m.join_date.map(|d| d.to_string())),
    ]
}

pub(crate) fn diff(old: Option<&Model>, new: &Model, names: &Directory) -> Vec<Change> {
    let before = old.map(|o| audited(o, names));
    audited(new, names)
        .into_iter()
        .enumerate()
        .filter_map(|(i, (field, value))| {
            let was = before.as_ref().and_then(|b| b[i].1.clone());
            Change::of(field, was.as_deref(), value.as_deref())
        })
        .collect()
}

pub(crate) async fn add_to_count<C: ConnectionTrait>(
    conn: &C,
    tenant: &Tenant,
    by: i32,
) -> Result<()> {
    tenant_rows::Entity::update_many()
        .col_expr(
            tenant_rows::Column::MembersCount,
            Expr::col(tenant_rows::Column::MembersCount).add(by),
        )
        .filter(tenant_rows::Column::Id.eq(tenant.id()))
        .exec(conn)
        .await?;
    Ok(())
}

async fn record_status(
    txn: &LocalTxn,
    tenant: &Tenant,
    member: &Model,
    from: Option<i32>,
) -> Result<()> {
    let by = tenant.access()?;
    txn.insert(changes::ActiveModel {
        member_id: Set(member.id),
        from_status_id: Set(from),
        to_status_id: Set(member.status_id),
        changed_by_id: Set(Some(by.user_id())),
        changed_on: Set(Utc::now().date_naive()),
        created_at: Set(Utc::now().into()),
        ..Default::default()
    })
    .await?;
    Ok(())
}

fn refuse_suspended(tenant: &Tenant) -> Result<()> {
    if tenant.model().is_suspended() {
        return Err(Error::Suspended(tenant.slug().to_string()));
    }
    Ok(())
}

impl Model {
    async fn find_in(txn: &LocalTxn, pid: Uuid, archived: bool) -> Result<Self> {
        let archived_filter = if archived {
            Column::ArchivedAt.is_not_null()
        } else {
            Column::ArchivedAt.is_null()
        };
        txn.select::<Entity>()
            .filter(Column::Pid.eq(pid))
            .filter(archived_filter)
            .one(txn)
            .await?
            .ok_or(Error::NotFound)
    }

    /// A member on the roll (not archived).
    ///
    /// # Errors
    /// `NotFound` (also for another local's or an archived member), `Forbidden`.
    pub async fn find(tenant: &Tenant, pid: Uuid) -> Result<Self> {
        tenant.require(Permission::MembersRead)?;
        let txn = tenant.begin().await?;
        let member = Self::find_in(&txn, pid, false).await?;
        txn.commit().await?;
        Ok(member)
    }

    /// Adds a member to the roll.
    ///
    /// # Errors
    /// `Forbidden`, `Suspended`, `UnknownReference` / `Conflict` per field, or a database error.
    pub async fn create(tenant: &Tenant, new: NewMember) -> Result<Self> {
        let by = tenant.require(Permission::MembersWrite)?;
        refuse_suspended(tenant)?;
        let txn = tenant.begin().await?;
        let refs = resolve(&txn, tenant, &new).await?;
        let now = Utc::now();
        let mut row = ActiveModel {
            pid: Set(Uuid::now_v7()),
            email_opt_in: Set(true),
            sms_opt_in: Set(false),
            created_at: Set(now.into()),
            ..Default::default()
        };
        fill(&mut row, &new, &refs);
        let member = txn
            .insert(row)
            .await
            .map_err(|e| on_conflict(e, &[EMPLOYEE_NUMBER_TAKEN]))?;
        record_status(&txn, tenant, &member, None).await?;
        audit_events::record(
            &txn,
            Some(by.user_id()),
            (SUBJECT, member.id),
            "create",
            &diff(None, &member, &Directory::load_in(&txn, tenant).await?),
        )
        .await?;
        add_to_count(&txn, tenant, 1).await?;
        txn.commit().await?;
        Ok(member)
    }

    /// Changes a member; a new status is added to their history.
    ///
    /// # Errors
    /// `NotFound`, `Forbidden`, `Suspended`, field errors, or a database error.
    pub async fn update(tenant: &Tenant, pid: Uuid, new: NewMember) -> Result<Self> {
        let by = tenant.require(Permission::MembersWrite)?;
        refuse_suspended(tenant)?;
        let txn = tenant.begin().await?;
        let old = Self::find_in(&txn, pid, false).await?;
        let refs = resolve(&txn, tenant, &new).await?;
        let mut row: ActiveModel = old.clone().into();
        fill(&mut row, &new, &refs);
        let member = row
            .update(&txn)
            .await
            .map_err(|e| on_conflict(e, &[EMPLOYEE_NUMBER_TAKEN]))?;
        let changes = diff(
            Some(&old),
            &member,
            &Directory::load_in(&txn, tenant).await?,
        );
        if member.status_id != old.status_id {
            record_status(&txn, tenant, &member, Some(old.status_id)).await?;
        }
        if !changes.is_empty() {
            audit_events::record(
                &txn,
                Some(by.user_id()),
                (SUBJECT, member.id),
                "update",
                &changes,
            )
            .await?;
        }
        txn.commit().await?;
        Ok(member)
    }

    async fn set_archived(tenant: &Tenant, pid: Uuid, archive: bool) -> Result<Self> {
        let by = tenant.require(Permission::MembersDelete)?;
        refuse_suspended(tenant)?;
        let txn = tenant.begin().await?;
        let old = Self::find_in(&txn, pid, !archive).await?;
        let mut row: ActiveModel = old.into();
        row.archived_at = Set(archive.then(|| Utc::now().into()));
        row.updated_at = Set(Utc::now().into());
        let member = row.update(&txn).await?;
        let action = if archive { "archive" } else { "restore" };
        audit_events::record(&txn, Some(by.user_id()), (SUBJECT, member.id), action, &[]).await?;
        add_to_count(&txn, tenant, if archive { -1 } else { 1 }).await?;
        txn.commit().await?;
        Ok(member)
    }

    /// "Deletes" a member: archived, hidden from lists, restorable by an admin.
    ///
    /// # Errors
    /// `NotFound`, `Forbidden` (without `members.delete`), `Suspended`, or a database error.
    pub async fn archive(tenant: &Tenant, pid: Uuid) -> Result<Self> {
        Self::set_archived(tenant, pid, true).await
    }

    /// Puts an archived member back on the roll.
    ///
    /// # Errors
    /// `NotFound` (not archived, or another local's), `Forbidden`, `Suspended`, or a database error.
    pub async fn restore(tenant: &Tenant, pid: Uuid) -> Result<Self> {
        Self::set_archived(tenant, pid, false).await
    }
}

/// Names and pids of members by id (archived ones too), for the audit log.
///
/// # Errors
/// A database error.
pub async fn names_by_id(
    tenant: &Tenant,
    ids: Vec<i32>,
) -> Result<std::collections::HashMap<i32, (Uuid, String)>> {
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let txn = tenant.begin().await?;
    let rows = txn
        .select::<Entity>()
        .filter(Column::Id.is_in(ids))
        .all(&txn)
        .await?;
    txn.commit().await?;
    Ok(rows
        .into_iter()
        .map(|m| (m.id, (m.pid, format!("{} {}", m.first_name, m.last_name))))
        .collect())
}
