//! Members (tenant-owned): the union's roll. Every change is checked
//! against the person's permissions, kept in the audit log, and a status
//! change also in the member's status history. Deleting archives.
use chrono::{NaiveDate, Utc};
use loco_rs::model::{TenantActiveModelExt, TenantEntity, TenantQueryExt};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

pub use super::_entities::members::{self, ActiveModel, Column, Entity, Model};
use super::{
    _entities::{member_status_changes as changes, tenants as tenant_rows, users},
    audit_events::{self, Change},
    bargaining_units, employers, membership_statuses,
    memberships::Access,
    on_conflict,
    tenants::Tenant,
    worksites, Error, Result,
};
use crate::domain::{Email, EmployeeNumber, FieldErrors, MemberName, Permission, Phone};

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

const SUBJECT: &str = "member";
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
    pub address: Option<String>,
    pub employee_number: Option<EmployeeNumber>,
    pub employer: Option<Uuid>,
    pub worksite: Option<Uuid>,
    pub bargaining_unit: Option<Uuid>,
    /// `None`: the local's first status (Active).
    pub status: Option<Uuid>,
    pub join_date: Option<NaiveDate>,
}

struct Resolved {
    employer_id: Option<i32>,
    worksite_id: Option<i32>,
    bargaining_unit_id: Option<i32>,
    status_id: i32,
}

/// One line of a member's status history.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub from: Option<String>,
    pub to: String,
    pub by: Option<String>,
    pub on: NaiveDate,
}

/// What the list shows: search text, filters, order.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    /// Part of a name, email, phone or employee number.
    pub search: Option<String>,
    pub status: Option<Uuid>,
    pub employer: Option<Uuid>,
    pub worksite: Option<Uuid>,
    pub bargaining_unit: Option<Uuid>,
    pub joined_from: Option<NaiveDate>,
    pub joined_to: Option<NaiveDate>,
    pub archived: bool,
}

/// The position after which the next page starts (the last row's name and id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub last_name: String,
    pub first_name: String,
    pub id: i32,
}

/// A page of the list, sorted by name.
#[derive(Debug, Clone)]
pub struct MemberPage {
    pub members: Vec<Model>,
    pub next: Option<After>,
}

/// What search matches: names, email, phone digits, employee number, lower-cased.
fn search_text(m: &ActiveModel) -> String {
    let text = |v: &sea_orm::ActiveValue<String>| match v {
        Set(s) | sea_orm::ActiveValue::Unchanged(s) => s.clone(),
        sea_orm::ActiveValue::NotSet => String::new(),
    };
    let opt = |v: &sea_orm::ActiveValue<Option<String>>| match v {
        Set(Some(s)) | sea_orm::ActiveValue::Unchanged(Some(s)) => s.clone(),
        _ => String::new(),
    };
    let phone: String = opt(&m.phone).chars().filter(char::is_ascii_digit).collect();
    format!(
        "{} {} {} {} {}",
        text(&m.first_name),
        text(&m.last_name),
        opt(&m.email),
        phone,
        opt(&m.employee_number)
    )
    .to_lowercase()
}

/// The search terms as people type them, lower-cased; phone-like terms
/// also match without their separators.
fn search_terms(raw: &str) -> Vec<String> {
    raw.split_whitespace()
        .map(|t| {
            let t = t.to_lowercase();
            let digits: String = t.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 3 && t.chars().all(|c| c.is_ascii_digit() || "+-().".contains(c)) {
                digits
            } else {
                t
            }
        })
        .filter(|t| !t.is_empty())
        .take(5)
        .collect()
}

fn like_escape(term: &str) -> String {
    term.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

async fn resolve(txn: &DatabaseTransaction, tenant: &Tenant, new: &NewMember) -> Result<Resolved> {
    let mut errors = FieldErrors::new();
    let mut employer_id = None;
    if let Some(pid) = new.employer {
        match employers::Model::find_by_pid(txn, tenant, pid).await {
            Ok(e) => employer_id = Some(e.id),
            Err(Error::NotFound) => errors.add("employer", "Choose one of the local's employers."),
            Err(e) => return Err(e),
        }
    }
    let mut worksite_id = None;
    if let Some(pid) = new.worksite {
        match worksites::Model::find_by_pid(txn, tenant, pid).await {
            Ok(w) if employer_id.is_some_and(|e| e != w.employer_id) => {
                errors.add("worksite", "This worksite belongs to another employer.");
            }
            Ok(w) => {
                employer_id = Some(w.employer_id);
                worksite_id = Some(w.id);
            }
            Err(Error::NotFound) => errors.add("worksite", "Choose one of the local's worksites."),
            Err(e) => return Err(e),
        }
    }
    let mut bargaining_unit_id = None;
    if let Some(pid) = new.bargaining_unit {
        match bargaining_units::Model::find_by_pid(txn, tenant, pid).await {
            Ok(u) => bargaining_unit_id = Some(u.id),
            Err(Error::NotFound) => {
                errors.add(
                    "bargaining_unit",
                    "Choose one of the local's bargaining units.",
                );
            }
            Err(e) => return Err(e),
        }
    }
    let statuses = membership_statuses::list(txn, tenant).await?;
    let status = match new.status {
        Some(pid) => statuses.iter().find(|s| s.pid == pid),
        None => statuses.first(),
    };
    let status_id = match status {
        Some(s) => s.id,
        None => {
            errors.add("status", "Choose one of the local's statuses.");
            0
        }
    };
    if !errors.is_empty() {
        return Err(Error::UnknownReference(errors));
    }
    Ok(Resolved {
        employer_id,
        worksite_id,
        bargaining_unit_id,
        status_id,
    })
}

fn fill(row: &mut ActiveModel, new: &NewMember, refs: &Resolved) {
    row.first_name = Set(new.first_name.as_str().to_string());
    row.last_name = Set(new.last_name.as_str().to_string());
    row.email = Set(new.email.as_ref().map(|e| e.as_str().to_string()));
    row.phone = Set(new.phone.as_ref().map(|p| p.as_str().to_string()));
    row.address = Set(new.address.clone().filter(|a| !a.trim().is_empty()));
    row.employee_number = Set(new.employee_number.as_ref().map(|n| n.as_str().to_string()));
    row.employer_id = Set(refs.employer_id);
    row.worksite_id = Set(refs.worksite_id);
    row.bargaining_unit_id = Set(refs.bargaining_unit_id);
    row.status_id = Set(refs.status_id);
    row.join_date = Set(new.join_date);
    row.search = Set(search_text(row));
    row.updated_at = Set(Utc::now().into());
}

/// The fields the audit log compares, as text.
fn audited(m: &Model) -> [(&'static str, Option<String>); 11] {
    [
        ("first_name", Some(m.first_name.clone())),
        ("last_name", Some(m.last_name.clone())),
        ("email", m.email.clone()),
        ("phone", m.phone.clone()),
        ("address", m.address.clone()),
        ("employee_number", m.employee_number.clone()),
        ("employer", m.employer_id.map(|v| v.to_string())),
        ("worksite", m.worksite_id.map(|v| v.to_string())),
        (
            "bargaining_unit",
            m.bargaining_unit_id.map(|v| v.to_string()),
        ),
        ("status", Some(m.status_id.to_string())),
        ("join_date", m.join_date.map(|d| d.to_string())),
    ]
}

fn diff(old: Option<&Model>, new: &Model) -> Vec<Change> {
    let before = old.map(audited);
    audited(new)
        .into_iter()
        .enumerate()
        .filter_map(|(i, (field, value))| {
            let was = before.as_ref().and_then(|b| b[i].1.clone());
            Change::of(field, was.as_deref(), value.as_deref())
        })
        .collect()
}

async fn add_to_count<C: ConnectionTrait>(conn: &C, tenant: &Tenant, by: i32) -> Result<()> {
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

async fn record_status<C: ConnectionTrait>(
    conn: &C,
    tenant: &Tenant,
    member: &Model,
    from: Option<i32>,
    by: &Access,
) -> Result<()> {
    changes::ActiveModel {
        member_id: Set(member.id),
        from_status_id: Set(from),
        to_status_id: Set(member.status_id),
        changed_by_id: Set(Some(by.user_id())),
        changed_on: Set(Utc::now().date_naive()),
        created_at: Set(Utc::now().into()),
        ..Default::default()
    }
    .set_tenant(tenant.id())?
    .insert(conn)
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
    async fn find_in<C: ConnectionTrait>(
        conn: &C,
        tenant: &Tenant,
        pid: Uuid,
        archived: bool,
    ) -> Result<Self> {
        let archived_filter = if archived {
            Column::ArchivedAt.is_not_null()
        } else {
            Column::ArchivedAt.is_null()
        };
        Entity::find()
            .in_tenant(tenant.id())
            .filter(Column::Pid.eq(pid))
            .filter(archived_filter)
            .one(conn)
            .await?
            .ok_or(Error::NotFound)
    }

    /// A member on the roll (not archived).
    ///
    /// # Errors
    /// `NotFound` (also for another local's or an archived member), `Forbidden`.
    pub async fn find(tenant: &Tenant, by: &Access, pid: Uuid) -> Result<Self> {
        by.require(Permission::MembersRead)?;
        let txn = tenant.begin().await?;
        let member = Self::find_in(&txn, tenant, pid, false).await?;
        txn.commit().await?;
        Ok(member)
    }

    /// Adds a member to the roll.
    ///
    /// # Errors
    /// `Forbidden`, `Suspended`, `UnknownReference` / `Conflict` per field, or a database error.
    pub async fn create(tenant: &Tenant, by: &Access, new: NewMember) -> Result<Self> {
        by.require(Permission::MembersWrite)?;
        refuse_suspended(tenant)?;
        let txn = tenant.begin().await?;
        let refs = resolve(&txn, tenant, &new).await?;
        let now = Utc::now();
        let mut row = ActiveModel {
            pid: Set(Uuid::new_v4()),
            email_opt_in: Set(true),
            sms_opt_in: Set(false),
            created_at: Set(now.into()),
            ..Default::default()
        };
        fill(&mut row, &new, &refs);
        let member = row
            .set_tenant(tenant.id())?
            .insert(&txn)
            .await
            .map_err(|e| on_conflict(e, &[EMPLOYEE_NUMBER_TAKEN]))?;
        record_status(&txn, tenant, &member, None, by).await?;
        audit_events::record(
            &txn,
            tenant,
            Some(by.user_id()),
            (SUBJECT, member.id),
            "create",
            &diff(None, &member),
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
    pub async fn update(tenant: &Tenant, by: &Access, pid: Uuid, new: NewMember) -> Result<Self> {
        by.require(Permission::MembersWrite)?;
        refuse_suspended(tenant)?;
        let txn = tenant.begin().await?;
        let old = Self::find_in(&txn, tenant, pid, false).await?;
        let refs = resolve(&txn, tenant, &new).await?;
        let mut row: ActiveModel = old.clone().into();
        fill(&mut row, &new, &refs);
        let member = row
            .update(&txn)
            .await
            .map_err(|e| on_conflict(e, &[EMPLOYEE_NUMBER_TAKEN]))?;
        let changes = diff(Some(&old), &member);
        if member.status_id != old.status_id {
            record_status(&txn, tenant, &member, Some(old.status_id), by).await?;
        }
        if !changes.is_empty() {
            audit_events::record(
                &txn,
                tenant,
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

    async fn set_archived(tenant: &Tenant, by: &Access, pid: Uuid, archive: bool) -> Result<Self> {
        by.require(Permission::MembersDelete)?;
        refuse_suspended(tenant)?;
        let txn = tenant.begin().await?;
        let old = Self::find_in(&txn, tenant, pid, !archive).await?;
        let mut row: ActiveModel = old.into();
        row.archived_at = Set(archive.then(|| Utc::now().into()));
        row.updated_at = Set(Utc::now().into());
        let member = row.update(&txn).await?;
        let action = if archive { "archive" } else { "restore" };
        audit_events::record(
            &txn,
            tenant,
            Some(by.user_id()),
            (SUBJECT, member.id),
            action,
            &[],
        )
        .await?;
        add_to_count(&txn, tenant, if archive { -1 } else { 1 }).await?;
        txn.commit().await?;
        Ok(member)
    }

    /// "Deletes" a member: archived, hidden from lists, restorable by an admin.
    ///
    /// # Errors
    /// `NotFound`, `Forbidden` (without `members.delete`), `Suspended`, or a database error.
    pub async fn archive(tenant: &Tenant, by: &Access, pid: Uuid) -> Result<Self> {
        Self::set_archived(tenant, by, pid, true).await
    }

    /// Puts an archived member back on the roll.
    ///
    /// # Errors
    /// `NotFound` (not archived, or another local's), `Forbidden`, `Suspended`, or a database error.
    pub async fn restore(tenant: &Tenant, by: &Access, pid: Uuid) -> Result<Self> {
        Self::set_archived(tenant, by, pid, false).await
    }

    /// The member's status history, oldest first.
    ///
    /// # Errors
    /// A database error.
    pub async fn status_history(&self, tenant: &Tenant) -> Result<Vec<StatusChange>> {
        let txn = tenant.begin().await?;
        let rows = changes::Entity::find()
            .in_tenant(tenant.id())
            .filter(changes::Column::MemberId.eq(self.id))
            .order_by_asc(changes::Column::Id)
            .all(&txn)
            .await?;
        let statuses = membership_statuses::list(&txn, tenant).await?;
        let name = |id: i32| statuses.iter().find(|s| s.id == id).map(|s| s.name.clone());
        let user_ids: Vec<i32> = rows.iter().filter_map(|r| r.changed_by_id).collect();
        let people = if user_ids.is_empty() {
            vec![]
        } else {
            users::Entity::find()
                .filter(users::Column::Id.is_in(user_ids))
                .all(&txn)
                .await?
        };
        txn.commit().await?;
        Ok(rows
            .into_iter()
            .map(|r| StatusChange {
                from: r.from_status_id.and_then(name),
                to: name(r.to_status_id).unwrap_or_default(),
                by: r
                    .changed_by_id
                    .and_then(|id| people.iter().find(|u| u.id == id).map(|u| u.name.clone())),
                on: r.changed_on,
            })
            .collect())
    }

    /// A page of the roll sorted by name, after `after`, with the filters.
    ///
    /// # Errors
    /// `Forbidden`, or a database error.
    pub async fn list(
        tenant: &Tenant,
        by: &Access,
        filter: &MemberFilter,
        after: Option<&After>,
        limit: u64,
    ) -> Result<MemberPage> {
        by.require(Permission::MembersRead)?;
        if filter.archived {
            by.require(Permission::MembersDelete)?;
        }
        let txn = tenant.begin().await?;
        let mut cond = Condition::all().add(if filter.archived {
            Column::ArchivedAt.is_not_null()
        } else {
            Column::ArchivedAt.is_null()
        });
        for term in search_terms(filter.search.as_deref().unwrap_or_default()) {
            cond = cond.add(Expr::col(Column::Search).like(format!("%{}%", like_escape(&term))));
        }
        let mut unknown = false;
        if let Some(pid) = filter.status {
            match membership_statuses::find_by_pid(&txn, tenant, pid).await {
                Ok(s) => cond = cond.add(Column::StatusId.eq(s.id)),
                Err(_) => unknown = true,
            }
        }
        if let Some(pid) = filter.employer {
            match employers::Model::find_by_pid(&txn, tenant, pid).await {
                Ok(e) => cond = cond.add(Column::EmployerId.eq(e.id)),
                Err(_) => unknown = true,
            }
        }
        if let Some(pid) = filter.worksite {
            match worksites::Model::find_by_pid(&txn, tenant, pid).await {
                Ok(w) => cond = cond.add(Column::WorksiteId.eq(w.id)),
                Err(_) => unknown = true,
            }
        }
        if let Some(pid) = filter.bargaining_unit {
            match bargaining_units::Model::find_by_pid(&txn, tenant, pid).await {
                Ok(u) => cond = cond.add(Column::BargainingUnitId.eq(u.id)),
                Err(_) => unknown = true,
            }
        }
        if let Some(from) = filter.joined_from {
            cond = cond.add(Column::JoinDate.gte(from));
        }
        if let Some(to) = filter.joined_to {
            cond = cond.add(Column::JoinDate.lte(to));
        }
        if let Some(after) = after {
            cond = cond.add(
                Expr::tuple([
                    Expr::col(Column::LastName),
                    Expr::col(Column::FirstName),
                    Expr::col(Column::Id),
                ])
                .gt(Expr::tuple([
                    Expr::val(after.last_name.clone()),
                    Expr::val(after.first_name.clone()),
                    Expr::val(after.id),
                ])),
            );
        }
        // A filter naming something the local does not have matches nothing.
        let mut members = if unknown {
            vec![]
        } else {
            Entity::find()
                .in_tenant(tenant.id())
                .filter(cond)
                .order_by_asc(Column::LastName)
                .order_by_asc(Column::FirstName)
                .order_by_asc(Column::Id)
                .limit(limit + 1)
                .all(&txn)
                .await?
        };
        txn.commit().await?;
        let more = members.len() as u64 > limit;
        members.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next = more.then(|| members.last()).flatten().map(|m| After {
            last_name: m.last_name.clone(),
            first_name: m.first_name.clone(),
            id: m.id,
        });
        Ok(MemberPage { members, next })
    }
}

/// The names of a local's statuses and structure, to show members with.
pub struct Directory {
    pub statuses: Vec<membership_statuses::Model>,
    employers: std::collections::HashMap<i32, String>,
    worksites: std::collections::HashMap<i32, String>,
    units: std::collections::HashMap<i32, String>,
}

impl Directory {
    /// # Errors
    /// A database error.
    pub async fn load(tenant: &Tenant) -> Result<Self> {
        let txn = tenant.begin().await?;
        let statuses = membership_statuses::list(&txn, tenant).await?;
        let employers = employers::Model::list(&txn, tenant)
            .await?
            .into_iter()
            .map(|e| (e.id, e.name))
            .collect();
        let worksites = worksites::Model::list(&txn, tenant)
            .await?
            .into_iter()
            .map(|w| (w.id, w.name))
            .collect();
        let units = bargaining_units::Model::list(&txn, tenant)
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect();
        txn.commit().await?;
        Ok(Self {
            statuses,
            employers,
            worksites,
            units,
        })
    }

    #[must_use]
    pub fn status(&self, id: i32) -> String {
        self.statuses
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }

    fn name(map: &std::collections::HashMap<i32, String>, id: Option<i32>) -> String {
        id.and_then(|id| map.get(&id).cloned())
            .unwrap_or_else(|| "—".into())
    }

    #[must_use]
    pub fn employer(&self, id: Option<i32>) -> String {
        Self::name(&self.employers, id)
    }

    #[must_use]
    pub fn worksite(&self, id: Option<i32>) -> String {
        Self::name(&self.worksites, id)
    }

    #[must_use]
    pub fn unit(&self, id: Option<i32>) -> String {
        Self::name(&self.units, id)
    }
}
