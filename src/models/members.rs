//! Members (tenant-owned): the union's roll. Every change is checked
//! against the person's permissions, kept in the audit log, and a status
//! change also in the member's status history. Deleting archives.
use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
};

use chrono::{NaiveDate, Utc};
use loco_rs::model::{TenantActiveModelExt, TenantEntity, TenantQueryExt};
use sea_orm::{
    sea_query::{Expr, ExprTrait, IntoCondition},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use super::_entities::members::{self, ActiveModel, Column, Entity, Model};
use super::{
    _entities::{
        member_imports as member_import_rows, member_status_changes as changes,
        tenants as tenant_rows, users,
    },
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
    pub address: Option<String>,
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

/// One line of a member's status history.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub from: Option<String>,
    pub to: String,
    pub by: Option<String>,
    pub on: NaiveDate,
}

/// What the list shows: search text and filters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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

/// The list's order. Every order ends in the id, so pages never skip or
/// repeat a member; each is served by an index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Last name, first name.
    #[default]
    Name,
    /// Newest join date first; members without one last.
    Joined,
    /// The statuses in the local's order, by name within each.
    Status,
}

impl Sort {
    pub const ALL: [Self; 3] = [Self::Name, Self::Joined, Self::Status];

    /// The order named in a URL; unknown names are `None`.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "" | "name" => Some(Self::Name),
            "joined" => Some(Self::Joined),
            "status" => Some(Self::Status),
            _ => None,
        }
    }

    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Joined => "joined",
            Self::Status => "status",
        }
    }

    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Name => "Name",
            Self::Joined => "Join date (newest first)",
            Self::Status => "Status",
        }
    }
}

/// The position after which the next page starts: the last row's sort keys
/// and id (what matters depends on the order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct After {
    #[serde(rename = "l")]
    pub last_name: String,
    #[serde(rename = "f")]
    pub first_name: String,
    #[serde(rename = "d", default)]
    pub join_date: Option<NaiveDate>,
    #[serde(rename = "s", default)]
    pub status_id: i32,
    #[serde(rename = "i")]
    pub id: i32,
    /// A search read by word (PostgreSQL): the word the last row was listed under.
    #[serde(rename = "w", default, skip_serializing_if = "Option::is_none")]
    pub word: Option<String>,
}

impl After {
    fn of(m: &Model) -> Self {
        Self {
            last_name: m.last_name.clone(),
            first_name: m.first_name.clone(),
            join_date: m.join_date,
            status_id: m.status_id,
            id: m.id,
            word: None,
        }
    }

    /// An opaque text for URLs.
    #[must_use]
    pub fn encode(&self) -> String {
        hex::encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// The position from [`After::encode`]; anything else is `None`.
    #[must_use]
    pub fn decode(raw: &str) -> Option<Self> {
        let after: Self = serde_json::from_slice(&hex::decode(raw.trim()).ok()?).ok()?;
        // Names never hold NUL (PostgreSQL refuses it in text): not a position we made.
        let nul = [&after.last_name, &after.first_name]
            .into_iter()
            .chain(after.word.as_ref())
            .any(|t| t.contains('\0'));
        (!nul).then_some(after)
    }
}

/// A page of the list.
#[derive(Debug, Clone)]
pub struct MemberPage {
    pub members: Vec<Model>,
    pub next: Option<After>,
}

/// How many members a list shows: exact when counting is cheap, otherwise
/// the planner's estimate, labelled so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    Exact(u64),
    About(u64),
    MoreThan(u64),
}

impl Total {
    /// "1,234 members", "about 120,000 members", "more than 10,000 members".
    #[must_use]
    pub fn describe(self) -> String {
        let (prefix, n) = match self {
            Self::Exact(n) => ("", n),
            Self::About(n) => ("about ", n),
            Self::MoreThan(n) => ("more than ", n),
        };
        let noun = if n == 1 && prefix.is_empty() {
            "member"
        } else {
            "members"
        };
        format!("{prefix}{} {noun}", thousands(n))
    }

    #[must_use]
    pub fn is_exact(self) -> bool {
        matches!(self, Self::Exact(_))
    }
}

/// 1234567 → "1,234,567".
#[must_use]
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Counting stops here; beyond it the total is estimated.
const EXACT_COUNT_LIMIT: u64 = 10_000;

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

/// How a search term matches a member's search text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    /// The start of a word: what people type ("mar" finds Martin, Mary).
    WordStart,
    /// Anywhere inside (the middle of a phone number), when no word starts so.
    Anywhere,
}

/// The words of a search text as `member_words` holds them (migration 14's
/// `member_words_of`, 18's): split at spaces, at most 200 characters each,
/// only those of names (see [`is_name_word`]).
fn words(search: &str) -> impl Iterator<Item = String> + '_ {
    search
        .split(' ')
        .filter(|w| !w.is_empty() && is_name_word(w))
        .map(|w| w.chars().take(200).collect())
}

/// Whether a word is read from `member_words`: not an email, phone digits
/// or an employee number (a digit or `@` in it). Those are long and rare,
/// and the trigram index finds them fast.
fn is_name_word(word: &str) -> bool {
    !word.chars().any(|c| c.is_ascii_digit() || c == '@')
}

/// The first (in byte order) of `search`'s words that starts with `term`.
fn first_word_starting(search: &str, term: &str) -> Option<String> {
    words(search).filter(|w| w.starts_with(term)).min()
}

/// The search terms as people type them, lower-cased; phone-like terms
/// also match without their separators.
fn search_terms(raw: &str) -> Vec<String> {
    // Control characters are no part of a name (and PostgreSQL refuses NUL in text).
    let raw: String = raw
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .collect();
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

async fn record_status<C: ConnectionTrait>(
    conn: &C,
    tenant: &Tenant,
    member: &Model,
    from: Option<i32>,
) -> Result<()> {
    let by = tenant.access()?;
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
    pub async fn find(tenant: &Tenant, pid: Uuid) -> Result<Self> {
        tenant.require(Permission::MembersRead)?;
        let txn = tenant.begin().await?;
        let member = Self::find_in(&txn, tenant, pid, false).await?;
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
        let member = row
            .set_tenant(tenant.id())?
            .insert(&txn)
            .await
            .map_err(|e| on_conflict(e, &[EMPLOYEE_NUMBER_TAKEN]))?;
        record_status(&txn, tenant, &member, None).await?;
        audit_events::record(
            &txn,
            tenant,
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
        let old = Self::find_in(&txn, tenant, pid, false).await?;
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

    async fn set_archived(tenant: &Tenant, pid: Uuid, archive: bool) -> Result<Self> {
        let by = tenant.require(Permission::MembersDelete)?;
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

    /// The member's status history, oldest first.
    ///
    /// # Errors
    /// A database error.
    pub async fn status_history(&self, tenant: &Tenant) -> Result<Vec<StatusChange>> {
        let txn = tenant.begin().await?;
        let directory = Directory::load_in(&txn, tenant).await?;
        let origin = self.import_origin(&txn, tenant).await?;
        let history = self
            .status_history_in(&txn, tenant, &directory, origin.as_ref())
            .await?;
        txn.commit().await?;
        Ok(history)
    }

    async fn status_history_in(
        &self,
        txn: &DatabaseTransaction,
        tenant: &Tenant,
        directory: &Directory,
        origin: Option<&member_import_rows::Model>,
    ) -> Result<Vec<StatusChange>> {
        let rows = changes::Entity::find()
            .in_tenant(tenant.id())
            .filter(changes::Column::MemberId.eq(self.id))
            .order_by_asc(changes::Column::Id)
            .all(txn)
            .await?;
        let name = |id: i32| directory.name_of("status", Some(id));
        let mut user_ids: Vec<i32> = rows.iter().filter_map(|r| r.changed_by_id).collect();
        user_ids.extend(origin.and_then(|i| i.started_by_id));
        let people = if user_ids.is_empty() {
            vec![]
        } else {
            users::Entity::find()
                .filter(users::Column::Id.is_in(user_ids))
                .all(txn)
                .await?
        };
        let person = |id: Option<i32>| {
            id.and_then(|id| people.iter().find(|u| u.id == id).map(|u| u.name.clone()))
        };
        // An imported member's first status is not a row of its own: it is
        // the status the first change started from, or the current one.
        let first = origin
            .filter(|_| rows.first().is_none_or(|r| r.from_status_id.is_some()))
            .map(|import| StatusChange {
                from: None,
                to: name(
                    rows.first()
                        .and_then(|r| r.from_status_id)
                        .unwrap_or(self.status_id),
                )
                .unwrap_or_default(),
                by: person(import.started_by_id),
                on: self.created_at.date_naive(),
            });
        Ok(first
            .into_iter()
            .chain(rows.into_iter().map(|r| StatusChange {
                from: r.from_status_id.and_then(name),
                to: name(r.to_status_id).unwrap_or_default(),
                by: person(r.changed_by_id),
                on: r.changed_on,
            }))
            .collect())
    }

    /// The import that added this member, if one did and is still there.
    async fn import_origin(
        &self,
        txn: &DatabaseTransaction,
        tenant: &Tenant,
    ) -> Result<Option<member_import_rows::Model>> {
        let Some(id) = self.import_id else {
            return Ok(None);
        };
        Ok(member_import_rows::Entity::find()
            .in_tenant(tenant.id())
            .filter(member_import_rows::Column::Id.eq(id))
            .one(txn)
            .await?)
    }

    /// The member's latest changes, newest first; an imported member's
    /// oldest line says which file added it, by whom (derived from the
    /// import, migration 18).
    async fn changes_in(
        &self,
        txn: &DatabaseTransaction,
        tenant: &Tenant,
        origin: Option<&member_import_rows::Model>,
        limit: u64,
    ) -> Result<Vec<audit_events::Event>> {
        let mut events =
            audit_events::for_subject_in(txn, tenant, (SUBJECT, self.id), limit).await?;
        if events.len() as u64 >= limit {
            return Ok(events);
        }
        if let Some(import) = origin {
            let file = Change::of("import", None, Some(&import.file_name));
            events.push(
                audit_events::derived(
                    txn,
                    tenant,
                    (SUBJECT, self.id),
                    (import.started_by_id, "import"),
                    file.into_iter().collect(),
                    self.created_at,
                )
                .await?,
            );
        }
        Ok(events)
    }

    /// A member's page in one transaction: the record, the local's
    /// directory, the status history and the latest changes.
    ///
    /// # Errors
    /// `NotFound` (also another local's or an archived member), `Forbidden`.
    pub async fn record(tenant: &Tenant, pid: Uuid) -> Result<MemberRecord> {
        tenant.require(Permission::MembersRead)?;
        let (txn, directory, _) = Directory::open(tenant).await?;
        let member = Self::find_in(&txn, tenant, pid, false).await?;
        // The import that added the member (if one did) names both its first
        // status and its first change.
        let origin = member.import_origin(&txn, tenant).await?;
        let history = member
            .status_history_in(&txn, tenant, &directory, origin.as_ref())
            .await?;
        let audit = member.changes_in(&txn, tenant, origin.as_ref(), 50).await?;
        txn.commit().await?;
        Ok(MemberRecord {
            member,
            directory,
            history,
            audit,
        })
    }

    /// A page of the roll in the filter's order, after `after`.
    ///
    /// # Errors
    /// `Forbidden` (archived members need `members.delete`), or a database error.
    pub async fn list(
        tenant: &Tenant,
        filter: &MemberFilter,
        sort: Sort,
        after: Option<&After>,
        limit: u64,
    ) -> Result<MemberPage> {
        Ok(Self::roll(tenant, filter, sort, after, limit).await?.page)
    }

    /// How many members match the filter: the kept count when unfiltered,
    /// a count up to [`EXACT_COUNT_LIMIT`], beyond that an estimate.
    ///
    /// # Errors
    /// `Forbidden`, or a database error.
    pub async fn count(tenant: &Tenant, filter: &MemberFilter) -> Result<Total> {
        Ok(Self::roll(tenant, filter, Sort::Name, None, 0).await?.total)
    }

    /// What the list page shows, read in one transaction: a page, the
    /// total, and the local's directory to name references with.
    ///
    /// # Errors
    /// `Forbidden`, or a database error.
    pub async fn roll(
        tenant: &Tenant,
        filter: &MemberFilter,
        sort: Sort,
        after: Option<&After>,
        limit: u64,
    ) -> Result<Roll> {
        let by = tenant.access()?;
        require_list(by, filter)?;
        let (txn, directory, kept) = Directory::open(tenant).await?;
        let (page, total) =
            read(&txn, tenant, &directory, kept, filter, sort, after, limit).await?;
        txn.commit().await?;
        Ok(Roll {
            page,
            total,
            directory,
        })
    }
}

/// A member with what their page shows.
pub struct MemberRecord {
    pub member: Model,
    pub directory: Directory,
    pub history: Vec<StatusChange>,
    pub audit: Vec<audit_events::Event>,
}

/// A page of the roll with its total and the local's directory.
pub struct Roll {
    pub page: MemberPage,
    pub total: Total,
    pub directory: Directory,
}

/// Reads a page and the total. The unfiltered roll and dense filters walk
/// an index in the page's order (matches come early). A sparse filter or a
/// search (PostgreSQL) first takes every matching id, up to
/// [`EXACT_COUNT_LIMIT`], ordered by the database (so a page is one
/// bitmap scan and a sort, wherever its matches sit in the order, and the
/// total is exact); past that it walks too, with the planner's estimate.
///
/// A search matches the start of words; when nothing does, the middle of
/// them. On PostgreSQL a search of one term alone, by name, reads
/// `member_words` instead (see [`words_page`]).
#[allow(clippy::too_many_arguments)]
async fn read(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    directory: &Directory,
    kept: i32,
    filter: &MemberFilter,
    sort: Sort,
    after: Option<&After>,
    limit: u64,
) -> Result<(MemberPage, Total)> {
    let postgres = txn.get_database_backend() == sea_orm::DbBackend::Postgres;
    let terms = search_terms(filter.search.as_deref().unwrap_or_default());
    let alone = MemberFilter {
        search: None,
        ..filter.clone()
    }
    .is_everyone();
    let args = (kept, filter, sort, after, limit);
    if postgres
        && terms.len() == 1
        && is_name_word(&terms[0])
        && alone
        && sort == Sort::Name
        && after.is_none_or(|a| a.word.is_some())
    {
        let total = word_count(txn, tenant, &terms[0]).await?;
        if total != Total::Exact(0) {
            let page = words_page(txn, tenant, &terms[0], after, limit).await?;
            return Ok((page, total));
        }
        return read_as(txn, tenant, directory, args, Match::Anywhere).await;
    }
    let (page, total) = read_as(txn, tenant, directory, args, Match::WordStart).await?;
    if total == Total::Exact(0) && !terms.is_empty() {
        return read_as(txn, tenant, directory, args, Match::Anywhere).await;
    }
    Ok((page, total))
}

/// Searches count exactly up to here; past it "more than".
const WORD_COUNT_LIMIT: u64 = 1_000;

/// `[term, term + the last character)`: the words starting with `term` in
/// byte order (`member_words.word` is `COLLATE "C"`).
fn word_range(term: &str) -> (String, String) {
    (term.to_string(), format!("{term}\u{10FFFF}"))
}

/// How many live members have a word starting with `term`: exact up to
/// [`WORD_COUNT_LIMIT`]. It reads one word past the limit, then four times
/// as many, then all, until the words it read are all there are or name
/// more members than the limit (a member may have several that match).
async fn word_count(txn: &DatabaseTransaction, tenant: &Tenant, term: &str) -> Result<Total> {
    let count = |cap: Option<u64>| {
        let (from, to) = word_range(term);
        let limit = cap.map_or(String::new(), |n| format!("LIMIT {n}"));
        sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT count(DISTINCT member_id), count(*) FROM (SELECT member_id FROM member_words
                   WHERE tenant_id = $1 AND word >= $2 AND word < $3 {limit}) AS m"
            ),
            [tenant.id().into(), from.into(), to.into()],
        )
    };
    let counted = |row: Option<sea_orm::QueryResult>| -> (u64, u64) {
        let get = |i| {
            row.as_ref()
                .and_then(|r| r.try_get_by_index::<i64>(i).ok())
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0)
        };
        (get(0), get(1))
    };
    // Most members have one matching word: the first read usually decides.
    for cap in [
        Some(WORD_COUNT_LIMIT + 1),
        Some(4 * WORD_COUNT_LIMIT + 1),
        None,
    ] {
        let (members, words) = counted(txn.query_one_raw(count(cap)).await?);
        if members > WORD_COUNT_LIMIT {
            return Ok(Total::MoreThan(WORD_COUNT_LIMIT));
        }
        if cap.is_none_or(|cap| words < cap) {
            return Ok(Total::Exact(members));
        }
    }
    Ok(Total::MoreThan(WORD_COUNT_LIMIT))
}

/// A page of the members with a word starting with `term`, read from
/// `member_words` in its index order: by that word, then by name. So the
/// page costs its own rows, however many match. A member with several
/// such words is listed under the first of them only.
async fn words_page(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    term: &str,
    after: Option<&After>,
    limit: u64,
) -> Result<MemberPage> {
    use sea_orm::FromQueryResult;
    if limit == 0 {
        return Ok(MemberPage {
            members: vec![],
            next: None,
        });
    }
    let wanted = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    // Few members have two words starting alike: a page's rows and a few
    // more usually fill it in one read.
    let mut chunk = wanted.saturating_add(2);
    let (from, to) = word_range(term);
    let mut at: Option<(String, String, String, i32)> = after.and_then(|a| {
        a.word
            .clone()
            .map(|w| (w, a.last_name.clone(), a.first_name.clone(), a.id))
    });
    let mut listed: Vec<(String, Model)> = Vec::new();
    let mut seen: std::collections::HashSet<i32> = std::collections::HashSet::new();
    loop {
        let mut values: Vec<sea_orm::Value> = vec![
            tenant.id().into(),
            from.clone().into(),
            to.clone().into(),
            i64::try_from(chunk).unwrap_or(i64::MAX).into(),
        ];
        let past = if let Some((w, l, f, id)) = at.clone() {
            values.extend([w.into(), l.into(), f.into(), id.into()]);
            "AND (word, last_name, first_name, member_id) > ($5, $6, $7, $8)"
        } else {
            ""
        };
        // The words in order, each with its member (none when archived meanwhile).
        let rows = txn
            .query_all_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                format!(
                    "SELECT w.word AS w_word, w.last_name AS w_last, w.first_name AS w_first,
                            w.member_id AS w_id, m.*
                     FROM (SELECT word, last_name, first_name, member_id FROM member_words
                           WHERE tenant_id = $1 AND word >= $2 AND word < $3 {past}
                           ORDER BY word, last_name, first_name, member_id LIMIT $4) AS w
                     LEFT JOIN members m
                       ON m.tenant_id = $1 AND m.id = w.member_id AND m.archived_at IS NULL
                     ORDER BY w.word, w.last_name, w.first_name, w.member_id"
                ),
                values,
            ))
            .await?;
        let last_chunk = rows.len() < chunk;
        for row in rows {
            let entry: (String, String, String, i32) = (
                row.try_get("", "w_word")?,
                row.try_get("", "w_last")?,
                row.try_get("", "w_first")?,
                row.try_get("", "w_id")?,
            );
            let word = entry.0.clone();
            at = Some(entry);
            let Ok(m) = Model::from_query_result(&row, "") else {
                continue;
            };
            // Listed under the first of their words that match, once.
            if first_word_starting(&m.search, term).as_deref() == Some(word.as_str())
                && seen.insert(m.id)
            {
                listed.push((word, m));
                if listed.len() == wanted {
                    break;
                }
            }
        }
        if listed.len() == wanted || last_chunk {
            break;
        }
        chunk = chunk.saturating_mul(2);
    }
    let more = listed.len() == wanted;
    listed.truncate(wanted - 1);
    let next = if more {
        listed.last().map(|(word, m)| After {
            word: Some(word.clone()),
            ..After::of(m)
        })
    } else {
        None
    };
    Ok(MemberPage {
        members: listed.into_iter().map(|(_, m)| m).collect(),
        next,
    })
}

/// [`read`] with the search matching `how`.
async fn read_as(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    directory: &Directory,
    (kept, filter, sort, after, limit): (i32, &MemberFilter, Sort, Option<&After>, u64),
    how: Match,
) -> Result<(MemberPage, Total)> {
    let postgres = txn.get_database_backend() == sea_orm::DbBackend::Postgres;
    // A filter naming something the local does not have matches nothing.
    let Some(cond) = conditions_with(directory, filter, postgres, how) else {
        return Ok((
            MemberPage {
                members: vec![],
                next: None,
            },
            Total::Exact(0),
        ));
    };
    if filter.is_everyone() {
        let page = walk(txn, tenant, directory, &cond, sort, after, limit).await?;
        return Ok((page, Total::Exact(u64::try_from(kept).unwrap_or(0))));
    }
    if !postgres {
        let page = walk(txn, tenant, directory, &cond, sort, after, limit).await?;
        return Ok((page, capped_count(txn, tenant, &cond).await?));
    }
    // Every matching id up to the cap first: cheap when matches are few (one
    // bitmap scan) and when they are many (it stops at the cap). Only a full
    // list walks the order's index, where matches then come early; walking
    // on the planner's estimate alone read whole index ranges when filters
    // were correlated (estimated 30,000, truly none).
    let ids = ordered_ids(txn, tenant, directory, filter, &cond, sort, how).await?;
    let searching = !escaped_terms(filter).is_empty();
    let full = ids.len() as u64 > EXACT_COUNT_LIMIT;
    if !full || searching {
        let total = if full {
            Total::MoreThan(EXACT_COUNT_LIMIT)
        } else {
            Total::Exact(ids.len() as u64)
        };
        // Past the cap a search holds its first matches in order: pages
        // that end inside them come from them.
        let ids = if full {
            &ids[..ids.len() - 1]
        } else {
            &ids[..]
        };
        if let Some(page) = page_of(txn, tenant, ids, after, limit, full).await? {
            return Ok((page, total));
        }
        // The cursor's member left the matches, or the page would run past
        // the first matches: continue by walking.
        let page = walk(txn, tenant, directory, &cond, sort, after, limit).await?;
        return Ok((page, total));
    }
    let total = match estimate(txn, tenant, &cond).await? {
        e if e > EXACT_COUNT_LIMIT => Total::About(e),
        _ => Total::MoreThan(EXACT_COUNT_LIMIT),
    };
    // More than the cap match: walk the order's index, ids first. The name
    // order's index carries the filters' columns (migration 18), so it
    // reads past members of other worksites or units without their rows; a
    // page then reads its own rows only. (Walking the rows read 40,000 of
    // them at random for a page when the roll's name order and a worksite
    // were correlated.)
    let page = walk_by(txn, tenant, directory, &cond, sort, after, limit, true).await?;
    Ok((page, total))
}

/// Walks the order's index from the cursor.
async fn walk(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    directory: &Directory,
    cond: &Condition,
    sort: Sort,
    after: Option<&After>,
    limit: u64,
) -> Result<MemberPage> {
    walk_by(txn, tenant, directory, cond, sort, after, limit, false).await
}

/// [`walk`], reading the page's ids first (from the index alone, where it
/// holds the filtered columns) and then their rows, when `ids_first`.
#[allow(clippy::too_many_arguments)]
async fn walk_by(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    directory: &Directory,
    cond: &Condition,
    sort: Sort,
    after: Option<&After>,
    limit: u64,
    ids_first: bool,
) -> Result<MemberPage> {
    if limit == 0 {
        return Ok(MemberPage {
            members: vec![],
            next: None,
        });
    }
    let wanted = limit + 1;
    let mut members: Vec<Model> = Vec::new();
    for (segment, order) in segments(sort, after, &directory.statuses) {
        let need = wanted - members.len() as u64;
        let mut query = Entity::find()
            .in_tenant(tenant.id())
            .filter(cond.clone())
            .filter(segment);
        for (column, descending) in order {
            query = if descending {
                query.order_by_desc(column)
            } else {
                query.order_by_asc(column)
            };
        }
        if ids_first {
            let ids: Vec<i32> = query
                .select_only()
                .column(Column::Id)
                .limit(need)
                .into_tuple()
                .all(txn)
                .await?;
            let mut rows = Entity::find()
                .in_tenant(tenant.id())
                .filter(Column::Id.is_in(ids.clone()))
                .all(txn)
                .await?;
            rows.sort_by_key(|m| ids.iter().position(|id| *id == m.id));
            members.extend(rows);
        } else {
            members.extend(query.limit(need).all(txn).await?);
        }
        if members.len() as u64 >= wanted {
            break;
        }
    }
    let more = members.len() as u64 > limit;
    members.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more.then(|| members.last()).flatten().map(After::of);
    Ok(MemberPage { members, next })
}

/// The local's members that meet `cond`, selecting nothing of them.
fn matching(tenant: &Tenant, cond: &Condition) -> sea_orm::Select<Entity> {
    Entity::find()
        .in_tenant(tenant.id())
        .filter(cond.clone())
        .select_only()
        .expr(Expr::val(1))
}

/// The planner's estimate of the matches (PostgreSQL; it reads no rows).
async fn estimate(txn: &DatabaseTransaction, tenant: &Tenant, cond: &Condition) -> Result<u64> {
    let backend = txn.get_database_backend();
    let plan = backend.build(&matching(tenant, cond).into_query());
    let explain = sea_orm::Statement::from_sql_and_values(
        backend,
        format!("EXPLAIN (FORMAT JSON) {}", plan.sql),
        plan.values.map(|v| v.0).unwrap_or_default(),
    );
    Ok(txn
        .query_one_raw(explain)
        .await?
        .and_then(|row| row.try_get_by_index::<serde_json::Value>(0).ok())
        .and_then(|plan| plan[0]["Plan"]["Plan Rows"].as_f64())
        .map_or(0, |rows| rows as u64))
}

/// Counts up to one past [`EXACT_COUNT_LIMIT`].
async fn capped_count(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    cond: &Condition,
) -> Result<Total> {
    let capped = sea_orm::sea_query::Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(
            matching(tenant, cond)
                .limit(EXACT_COUNT_LIMIT + 1)
                .into_query(),
            sea_orm::sea_query::Alias::new("m"),
        )
        .to_owned();
    let counted: i64 = txn
        .query_one(&capped)
        .await?
        .and_then(|row| row.try_get_by_index(0).ok())
        .unwrap_or(0);
    let counted = u64::try_from(counted).unwrap_or(0);
    Ok(if counted <= EXACT_COUNT_LIMIT {
        Total::Exact(counted)
    } else {
        Total::MoreThan(EXACT_COUNT_LIMIT)
    })
}

/// Every matching id (up to one past the limit) in the page's order. The
/// inner query has no ORDER BY, so it is planned to read all its matches
/// (a bitmap scan), not to walk an index hoping to stop early.
async fn ordered_ids(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    directory: &Directory,
    filter: &MemberFilter,
    cond: &Condition,
    sort: Sort,
    how: Match,
) -> Result<Vec<i32>> {
    use sea_orm::sea_query::{Alias, Func, Query};
    // Only the order's columns, so an index can answer without the table.
    let mut columns = vec![Column::Id];
    columns.extend(match sort {
        Sort::Name => vec![Column::LastName, Column::FirstName],
        Sort::Joined => vec![Column::JoinDate],
        Sort::Status => vec![Column::StatusId, Column::LastName, Column::FirstName],
    });
    let terms = escaped_terms(filter);
    let inner = if terms.is_empty() {
        Entity::find()
            .in_tenant(tenant.id())
            .filter(cond.clone())
            .select_only()
            .columns(columns)
            .limit(EXACT_COUNT_LIMIT + 1)
            .into_query()
    } else {
        // A search reads its matches' rows once, through the trigram index
        // (migration 11's `members_matching`, named `members` here so the
        // other conditions apply to it unchanged).
        let rest = filter_conditions(directory, filter).unwrap_or_else(Condition::all);
        let (function, args) = search_function("members_matching", how, terms);
        let mut inner = Query::select()
            .columns(columns)
            .from_function(
                Func::cust(Alias::new(function)).args(args.into_iter().map(Expr::val)),
                Alias::new("members"),
            )
            .and_where(Column::TenantId.eq(tenant.id()))
            .cond_where(rest)
            .to_owned();
        // The function reads every match anyway: keep the first ones in
        // order, so a search past the cap still pages from this list.
        order_ids(&mut inner, "members", directory, sort);
        inner.limit(EXACT_COUNT_LIMIT + 1).to_owned()
    };
    let k = Alias::new("k");
    let mut outer = Query::select();
    outer
        .column((k.clone(), Alias::new("id")))
        .from_subquery(inner, k.clone());
    order_ids(&mut outer, "k", directory, sort);
    Ok(txn
        .query_all(&outer)
        .await?
        .into_iter()
        .filter_map(|row| row.try_get_by_index::<i32>(0).ok())
        .collect())
}

/// Orders a select of member ids by `sort`, on the columns of `table`.
fn order_ids(
    query: &mut sea_orm::sea_query::SelectStatement,
    table: &str,
    directory: &Directory,
    sort: Sort,
) {
    use sea_orm::sea_query::{Alias, NullOrdering, Order};
    let col = |name: &str| (Alias::new(table), Alias::new(name));
    match sort {
        Sort::Name => {
            query
                .order_by(col("last_name"), Order::Asc)
                .order_by(col("first_name"), Order::Asc)
                .order_by(col("id"), Order::Asc);
        }
        Sort::Joined => {
            query
                .order_by_with_nulls(col("join_date"), Order::Desc, NullOrdering::Last)
                .order_by(col("id"), Order::Desc);
        }
        Sort::Status => {
            // The local's own order of statuses (ids and positions are ours, integers).
            let case = directory
                .statuses
                .iter()
                .enumerate()
                .map(|(i, s)| format!("WHEN {} THEN {i}", s.id))
                .collect::<Vec<_>>()
                .join(" ");
            query
                .order_by_expr(
                    Expr::cust(format!(
                        "CASE \"{table}\".\"status_id\" {case} ELSE 2147483647 END"
                    )),
                    Order::Asc,
                )
                .order_by(col("last_name"), Order::Asc)
                .order_by(col("first_name"), Order::Asc)
                .order_by(col("id"), Order::Asc);
        }
    }
}

/// The page after the cursor's member in `ids`; `None` when the cursor's
/// member is not among them.
async fn page_of(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    ids: &[i32],
    after: Option<&After>,
    limit: u64,
    more_follow: bool,
) -> Result<Option<MemberPage>> {
    let start = match after {
        None => 0,
        Some(a) => match ids.iter().position(|id| *id == a.id) {
            Some(at) => at + 1,
            None => return Ok(None),
        },
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    // `ids` are the first matches only: a page reaching their end is read
    // otherwise, so its "next" is right.
    if more_follow && start.saturating_add(limit) >= ids.len() {
        return Ok(None);
    }
    let chosen: Vec<i32> = ids.iter().skip(start).take(limit).copied().collect();
    let mut rows = if chosen.is_empty() {
        vec![]
    } else {
        Entity::find()
            .in_tenant(tenant.id())
            .filter(Column::Id.is_in(chosen.clone()))
            .all(txn)
            .await?
    };
    rows.sort_by_key(|m| chosen.iter().position(|id| *id == m.id));
    let more = ids.len() > start + chosen.len();
    let next = more.then(|| rows.last()).flatten().map(After::of);
    Ok(Some(MemberPage {
        members: rows,
        next,
    }))
}

/// What a member may change about themselves.
#[derive(Debug, Clone)]
pub struct ContactDetails {
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub address: Option<String>,
    pub email_opt_in: bool,
    pub sms_opt_in: bool,
}

impl Model {
    /// The member record linked to the signed-in person (self-service).
    ///
    /// # Errors
    /// `Forbidden` without `self.service`; `NotFound` when no record is linked.
    pub async fn find_own(tenant: &Tenant) -> Result<Self> {
        let by = tenant.require(Permission::SelfService)?;
        let txn = tenant.begin().await?;
        let own = Entity::find()
            .in_tenant(tenant.id())
            .filter(Column::UserId.eq(by.user_id()))
            .filter(Column::ArchivedAt.is_null())
            .one(&txn)
            .await?
            .ok_or(Error::NotFound)?;
        txn.commit().await?;
        Ok(own)
    }

    /// A member changes their own contact details and preferences; nothing else.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound` (no linked record), `Suspended`, or a database error.
    pub async fn update_own_contact(tenant: &Tenant, details: ContactDetails) -> Result<Self> {
        let by = tenant.access()?;
        let own = Self::find_own(tenant).await?;
        refuse_suspended(tenant)?;
        let txn = tenant.begin().await?;
        let mut row: ActiveModel = own.clone().into();
        row.email = Set(details.email.map(|e| e.as_str().to_string()));
        row.phone = Set(details.phone.map(|p| p.as_str().to_string()));
        row.address = Set(details.address.filter(|a| !a.trim().is_empty()));
        row.email_opt_in = Set(details.email_opt_in);
        row.sms_opt_in = Set(details.sms_opt_in);
        row.search = Set(search_text(&row));
        row.updated_at = Set(Utc::now().into());
        let saved = row.update(&txn).await?;
        let mut changed = diff(Some(&own), &saved, &Directory::load_in(&txn, tenant).await?);
        for (field, old, new) in [
            ("email_opt_in", own.email_opt_in, saved.email_opt_in),
            ("sms_opt_in", own.sms_opt_in, saved.sms_opt_in),
        ] {
            changed.extend(Change::of(
                field,
                Some(&old.to_string()),
                Some(&new.to_string()),
            ));
        }
        if !changed.is_empty() {
            audit_events::record(
                &txn,
                tenant,
                Some(by.user_id()),
                (SUBJECT, saved.id),
                "self_service",
                &changed,
            )
            .await?;
        }
        txn.commit().await?;
        Ok(saved)
    }

    /// Links a member record to the person of the local with the same email,
    /// so they can see and update it themselves.
    ///
    /// # Errors
    /// `Forbidden` (needs `users.manage`), `NotFound`, `Invalid` (no such person
    /// in the local, or no email on the record), or a database error.
    pub async fn link_account(tenant: &Tenant, pid: Uuid) -> Result<Self> {
        let by = tenant.require(Permission::UsersManage)?;
        refuse_suspended(tenant)?;
        let txn = tenant.begin().await?;
        let member = Self::find_in(&txn, tenant, pid, false).await?;
        let Some(email) = member.email.clone() else {
            return Err(Error::Invalid(FieldErrors::one(
                "account",
                "Add the member's email first: the account is found by it.",
            )));
        };
        let person = super::memberships::Model::find_user_by_email(&txn, tenant, &email).await?;
        let Some(user_id) = person else {
            return Err(Error::Invalid(FieldErrors::one(
                "account",
                format!("Nobody with the email {email} has access to this local. Invite them with the Member role first."),
            )));
        };
        let mut row: ActiveModel = member.into();
        row.user_id = Set(Some(user_id));
        row.updated_at = Set(Utc::now().into());
        let saved = row.update(&txn).await?;
        audit_events::record(
            &txn,
            tenant,
            Some(by.user_id()),
            (SUBJECT, saved.id),
            "link_account",
            &[],
        )
        .await?;
        txn.commit().await?;
        Ok(saved)
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
    let rows = Entity::find()
        .in_tenant(tenant.id())
        .filter(Column::Id.is_in(ids))
        .all(&txn)
        .await?;
    txn.commit().await?;
    Ok(rows
        .into_iter()
        .map(|m| (m.id, (m.pid, format!("{} {}", m.first_name, m.last_name))))
        .collect())
}

/// Columns of the export, the same names the import guesses from.
pub const EXPORT_HEADERS: [&str; 12] = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "address",
    "employee_number",
    "employer",
    "worksite",
    "bargaining_unit",
    "status",
    "join_date",
    "created_at",
];

/// Rows per exported batch (one short transaction each).
const EXPORT_BATCH: u64 = 5000;

impl Model {
    /// The filtered roll as CSV, by name, produced a batch at a time so a
    /// million members stream without being held in memory.
    ///
    /// # Errors
    /// `Forbidden` before the first byte; a database error ends the stream.
    pub async fn export(
        tenant: &Tenant,
        filter: MemberFilter,
    ) -> Result<impl futures_util::Stream<Item = Result<Vec<u8>>> + Send + 'static> {
        let by = tenant.access()?;
        use futures_util::StreamExt;
        require_list(by, &filter)?;
        if tenant.pool().get_database_backend() == sea_orm::DbBackend::Postgres {
            return Ok(export_copy(tenant, &filter).await?.left_stream());
        }
        let directory = std::sync::Arc::new(Directory::load(tenant).await?);
        let state = (tenant.clone(), filter, None::<After>, true, false);
        Ok(
            futures_util::stream::try_unfold(state, move |(tenant, filter, after, first, done)| {
                let directory = directory.clone();
                async move {
                    if done {
                        return Ok(None);
                    }
                    let page =
                        Self::list(&tenant, &filter, Sort::Name, after.as_ref(), EXPORT_BATCH)
                            .await?;
                    let mut out = csv::Writer::from_writer(Vec::with_capacity(
                        256 * page.members.len() + 256,
                    ));
                    if first {
                        out.write_record(EXPORT_HEADERS).map_err(csv_error)?;
                    }
                    for m in &page.members {
                        out.write_record([
                            m.first_name.as_str(),
                            m.last_name.as_str(),
                            m.email.as_deref().unwrap_or_default(),
                            m.phone.as_deref().unwrap_or_default(),
                            m.address.as_deref().unwrap_or_default(),
                            m.employee_number.as_deref().unwrap_or_default(),
                            &directory
                                .name_of("employer", m.employer_id)
                                .unwrap_or_default(),
                            &directory
                                .name_of("worksite", m.worksite_id)
                                .unwrap_or_default(),
                            &directory
                                .name_of("bargaining_unit", m.bargaining_unit_id)
                                .unwrap_or_default(),
                            &directory.status(m.status_id),
                            &m.join_date.map(|d| d.to_string()).unwrap_or_default(),
                            &m.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                        ])
                        .map_err(csv_error)?;
                    }
                    let bytes = out
                        .into_inner()
                        .map_err(|e| csv_error(e.into_error().into()))?;
                    let done = page.next.is_none();
                    Ok(Some((bytes, (tenant, filter, page.next, false, done))))
                }
            })
            .right_stream(),
        )
    }
}

/// Bytes sent to the client at a time by the PostgreSQL export.
const EXPORT_CHUNK: usize = 256 * 1024;

/// The export on PostgreSQL: the database writes the CSV itself (`COPY …
/// TO STDOUT`, in the tenant's scoped transaction on a connection of its
/// own), a task forwards it in large chunks while the client reads. The
/// connection is closed afterwards rather than pooled, so a client that
/// leaves mid-way cannot hand a connection still in COPY to the next request.
async fn export_copy(
    tenant: &Tenant,
    filter: &MemberFilter,
) -> Result<impl futures_util::Stream<Item = Result<Vec<u8>>> + Send + 'static> {
    use futures_util::StreamExt;
    use sea_orm::{sea_query::PostgresQueryBuilder, sqlx};
    // Values are inlined (COPY takes no parameters) by sea-query's quoting;
    // filters arrive here as integer ids, dates and escaped LIKE patterns.
    let txn = tenant.begin().await?;
    let directory = Directory::load_in(&txn, tenant).await?;
    let how = matching_how(&txn, tenant, &directory, filter).await?;
    txn.commit().await?;
    let inner = match conditions_with(&directory, filter, true, how) {
        Some(cond) => Entity::find()
            .in_tenant(tenant.id())
            .filter(cond)
            .into_query()
            .to_string(PostgresQueryBuilder),
        None => "SELECT * FROM members WHERE false".to_string(),
    };
    let sql = format!(
        "COPY (SELECT m.first_name, m.last_name, m.email, m.phone, m.address, m.employee_number,
                      e.name AS employer, w.name AS worksite, u.name AS bargaining_unit,
                      s.name AS status, to_char(m.join_date, 'YYYY-MM-DD') AS join_date,
                      to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at
                 FROM ({inner}) m
                 LEFT JOIN employers e ON e.id = m.employer_id
                 LEFT JOIN worksites w ON w.id = m.worksite_id
                 LEFT JOIN bargaining_units u ON u.id = m.bargaining_unit_id
                 LEFT JOIN membership_statuses s ON s.id = m.status_id
                ORDER BY m.last_name, m.first_name, m.id)
         TO STDOUT WITH (FORMAT csv, HEADER true)"
    );
    let pool = tenant.pool().get_postgres_connection_pool().clone();
    let scope = tenant.scope().parameters();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>>>(4);
    tokio::spawn(async move {
        let copied = async {
            let mut conn = pool.acquire().await?;
            conn.close_on_drop();
            sqlx::query("BEGIN").execute(&mut *conn).await?;
            let mut set_scope = sqlx::query(super::tenants::SCOPE_SQL);
            for value in &scope {
                set_scope = set_scope.bind(value);
            }
            set_scope.execute(&mut *conn).await?;
            let mut rows = conn.copy_out_raw(&sql).await?;
            let mut chunk = Vec::with_capacity(EXPORT_CHUNK + 4096);
            while let Some(row) = rows.next().await {
                chunk.extend_from_slice(&row?);
                if chunk.len() >= EXPORT_CHUNK {
                    let full =
                        std::mem::replace(&mut chunk, Vec::with_capacity(EXPORT_CHUNK + 4096));
                    if tx.send(Ok(full)).await.is_err() {
                        return Ok(()); // the client left
                    }
                }
            }
            drop(rows);
            if !chunk.is_empty() {
                let _ = tx.send(Ok(chunk)).await;
            }
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            Ok::<_, sqlx::Error>(())
        }
        .await;
        if let Err(e) = copied {
            tracing::error!(error = %e, "member export failed");
            let _ = tx
                .send(Err(Error::Db(sea_orm::DbErr::Custom(e.to_string()))))
                .await;
        }
    });
    Ok(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed())
}

fn csv_error(e: csv::Error) -> Error {
    Error::Loco(loco_rs::Error::string(&e.to_string()))
}

fn require_list(by: &Access, filter: &MemberFilter) -> Result<()> {
    by.require(Permission::MembersRead)?;
    if filter.archived {
        by.require(Permission::MembersDelete)?;
    }
    Ok(())
}

impl MemberFilter {
    /// The whole roll: no search and no filter.
    #[must_use]
    pub fn is_everyone(&self) -> bool {
        !self.archived
            && self.search.as_deref().is_none_or(|s| s.trim().is_empty())
            && self.status.is_none()
            && self.employer.is_none()
            && self.worksite.is_none()
            && self.bargaining_unit.is_none()
            && self.joined_from.is_none()
            && self.joined_to.is_none()
    }
}

/// The filter as a condition; `None` when it names something the local does not have.
pub(crate) async fn conditions(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    filter: &MemberFilter,
) -> Result<Option<Condition>> {
    let postgres = txn.get_database_backend() == sea_orm::DbBackend::Postgres;
    let directory = Directory::load_in(txn, tenant).await?;
    let how = matching_how(txn, tenant, &directory, filter).await?;
    Ok(conditions_with(&directory, filter, postgres, how))
}

/// How the filter's search matches: at the start of words, unless no member
/// of the filter has a word starting so (then anywhere inside).
async fn matching_how(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    directory: &Directory,
    filter: &MemberFilter,
) -> Result<Match> {
    let postgres = txn.get_database_backend() == sea_orm::DbBackend::Postgres;
    if escaped_terms(filter).is_empty() {
        return Ok(Match::WordStart);
    }
    let Some(cond) = conditions_with(directory, filter, postgres, Match::WordStart) else {
        return Ok(Match::WordStart);
    };
    let any = matching(tenant, &cond).limit(1).into_query();
    Ok(if txn.query_one(&any).await?.is_some() {
        Match::WordStart
    } else {
        Match::Anywhere
    })
}

/// [`conditions`] with the local's directory at hand (no queries).
fn conditions_with(
    directory: &Directory,
    filter: &MemberFilter,
    postgres: bool,
    how: Match,
) -> Option<Condition> {
    let mut cond = filter_conditions(directory, filter)?;
    let terms = escaped_terms(filter);
    if postgres && !terms.is_empty() {
        // Through the trigram index despite row-level security (migration 8).
        let (function, args) = search_function("member_ids_matching", how, terms);
        let matching = sea_orm::sea_query::Query::select()
            .expr(
                sea_orm::sea_query::Func::cust(sea_orm::sea_query::Alias::new(function))
                    .args(args.into_iter().map(Expr::val)),
            )
            .to_owned();
        cond = cond.add(Column::Id.in_subquery(matching));
    } else {
        let like = |pattern: String| {
            Expr::col(Column::Search).like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\'))
        };
        for term in terms {
            cond = cond.add(match how {
                Match::WordStart => Condition::any()
                    .add(like(format!("{term}%")))
                    .add(like(format!("% {term}%"))),
                Match::Anywhere => Condition::all().add(like(format!("%{term}%"))),
            });
        }
    }
    Some(cond)
}

/// The search terms, escaped for LIKE.
fn escaped_terms(filter: &MemberFilter) -> Vec<String> {
    search_terms(filter.search.as_deref().unwrap_or_default())
        .iter()
        .map(|term| like_escape(term))
        .collect()
}

/// The PostgreSQL search function for `how` (`base` for the middle of
/// words, migrations 8 and 11; `base_words` for their start, migration 14)
/// and its arguments.
fn search_function(base: &str, how: Match, terms: Vec<String>) -> (String, Vec<String>) {
    match how {
        Match::WordStart => (format!("{base}_words"), terms),
        Match::Anywhere => (
            base.to_string(),
            terms.into_iter().map(|t| format!("%{t}%")).collect(),
        ),
    }
}

/// Every condition of the filter but the search.
fn filter_conditions(directory: &Directory, filter: &MemberFilter) -> Option<Condition> {
    let mut cond = Condition::all().add(if filter.archived {
        Column::ArchivedAt.is_not_null()
    } else {
        Column::ArchivedAt.is_null()
    });
    if let Some(pid) = filter.status {
        let s = directory.statuses.iter().find(|s| s.pid == pid)?;
        cond = cond.add(Column::StatusId.eq(s.id));
    }
    if let Some(pid) = filter.employer {
        let e = directory.employers.iter().find(|e| e.pid == pid)?;
        cond = cond.add(Column::EmployerId.eq(e.id));
    }
    if let Some(pid) = filter.worksite {
        let w = directory.worksites.iter().find(|w| w.pid == pid)?;
        cond = cond.add(Column::WorksiteId.eq(w.id));
    }
    if let Some(pid) = filter.bargaining_unit {
        let u = directory.units.iter().find(|u| u.pid == pid)?;
        cond = cond.add(Column::BargainingUnitId.eq(u.id));
    }
    if let Some(from) = filter.joined_from {
        cond = cond.add(Column::JoinDate.gte(from));
    }
    if let Some(to) = filter.joined_to {
        cond = cond.add(Column::JoinDate.lte(to));
    }
    Some(cond)
}

fn tuple_after(columns: &[Column], values: Vec<sea_orm::Value>, descending: bool) -> Condition {
    let left = Expr::tuple(columns.iter().map(|c| Expr::col(*c)));
    let right = Expr::tuple(values.into_iter().map(Expr::val));
    Condition::all().add(if descending {
        left.lt(right)
    } else {
        left.gt(right)
    })
}

/// The order as consecutive segments, each one index range: a segment's
/// extra condition and its columns (with `true` for descending). Pages fill
/// from the segment the cursor is in onwards.
fn segments(
    sort: Sort,
    after: Option<&After>,
    statuses: &[membership_statuses::Model],
) -> Vec<(Condition, Vec<(Column, bool)>)> {
    let by_name = vec![
        (Column::LastName, false),
        (Column::FirstName, false),
        (Column::Id, false),
    ];
    let name_after = |a: &After| {
        tuple_after(
            &[Column::LastName, Column::FirstName, Column::Id],
            vec![
                a.last_name.clone().into(),
                a.first_name.clone().into(),
                a.id.into(),
            ],
            false,
        )
    };
    match sort {
        Sort::Name => vec![(after.map_or_else(Condition::all, name_after), by_name)],
        Sort::Joined => {
            let dated = (
                Column::JoinDate.is_not_null().into_condition(),
                vec![(Column::JoinDate, true), (Column::Id, true)],
            );
            let undated = (
                Column::JoinDate.is_null().into_condition(),
                vec![(Column::Id, true)],
            );
            match after {
                None => vec![dated, undated],
                Some(a) => match a.join_date {
                    Some(d) => vec![
                        (
                            dated.0.add(tuple_after(
                                &[Column::JoinDate, Column::Id],
                                vec![d.into(), a.id.into()],
                                true,
                            )),
                            dated.1,
                        ),
                        undated,
                    ],
                    None => vec![(undated.0.add(Column::Id.lt(a.id)), undated.1)],
                },
            }
        }
        Sort::Status => {
            let start = after
                .and_then(|a| statuses.iter().position(|s| s.id == a.status_id))
                .unwrap_or(0);
            statuses
                .iter()
                .enumerate()
                .skip(start)
                .map(|(i, s)| {
                    let mut cond = Column::StatusId.eq(s.id).into_condition();
                    if let (true, Some(a)) = (i == start, after) {
                        cond = cond.add(name_after(a));
                    }
                    (cond, by_name.clone())
                })
                .collect()
        }
    }
}

/// The local's statuses and structure, to show members with and to offer
/// in forms and filters.
#[derive(Clone)]
pub struct Directory {
    pub statuses: Vec<membership_statuses::Model>,
    pub employers: Vec<employers::Model>,
    pub worksites: Vec<worksites::Model>,
    pub units: Vec<bargaining_units::Model>,
}

impl Directory {
    /// # Errors
    /// A database error.
    pub async fn load(tenant: &Tenant) -> Result<Self> {
        let txn = tenant.begin().await?;
        let directory = Self::load_in(&txn, tenant).await?;
        txn.commit().await?;
        Ok(directory)
    }

    pub(crate) async fn load_in(txn: &DatabaseTransaction, tenant: &Tenant) -> Result<Self> {
        let row = tenant_rows::Entity::find_by_id(tenant.id())
            .one(txn)
            .await?
            .ok_or(Error::NotFound)?;
        Self::at_version(txn, tenant, row.structure_version).await
    }

    /// A transaction of the local with its directory and kept count: what
    /// every page of the roll starts with, in as few round trips as may be.
    async fn open(tenant: &Tenant) -> Result<(DatabaseTransaction, Self, i32)> {
        let (txn, counters) = tenant.begin_counted().await?;
        let directory = Self::at_version(&txn, tenant, counters.structure_version).await?;
        Ok((txn, directory, counters.members_count))
    }

    /// The directory as of `version` of the local's structure, from memory
    /// when it was read at that version before.
    async fn at_version(txn: &DatabaseTransaction, tenant: &Tenant, version: i64) -> Result<Self> {
        type Cache = Mutex<HashMap<Uuid, (i64, Directory)>>;
        static CACHE: LazyLock<Cache> = LazyLock::new(Cache::default);
        // Enough for every local active on one web process; past it the
        // cache starts over rather than growing.
        const MOST: usize = 10_000;
        let key = tenant.model().pid;
        let cached = CACHE
            .lock()
            .ok()
            .and_then(|c| c.get(&key).cloned())
            .filter(|(at, _)| *at == version);
        if let Some((_, directory)) = cached {
            return Ok(directory);
        }
        let directory = Self {
            statuses: membership_statuses::list(txn, tenant).await?,
            employers: employers::Model::list(txn, tenant).await?,
            worksites: worksites::Model::list(txn, tenant).await?,
            units: bargaining_units::Model::list(txn, tenant).await?,
        };
        if let Ok(mut cache) = CACHE.lock() {
            if cache.len() >= MOST {
                cache.clear();
            }
            cache.insert(key, (version, directory.clone()));
        }
        Ok(directory)
    }

    #[must_use]
    pub fn status(&self, id: i32) -> String {
        self.statuses
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }

    fn named(found: Option<&String>) -> String {
        found.cloned().unwrap_or_else(|| "—".into())
    }

    #[must_use]
    pub fn employer(&self, id: Option<i32>) -> String {
        Self::named(
            id.and_then(|id| self.employers.iter().find(|e| e.id == id))
                .map(|e| &e.name),
        )
    }

    #[must_use]
    pub fn worksite(&self, id: Option<i32>) -> String {
        Self::named(
            id.and_then(|id| self.worksites.iter().find(|w| w.id == id))
                .map(|w| &w.name),
        )
    }

    #[must_use]
    pub fn unit(&self, id: Option<i32>) -> String {
        Self::named(
            id.and_then(|id| self.units.iter().find(|u| u.id == id))
                .map(|u| &u.name),
        )
    }

    pub(crate) fn name_of(&self, kind: &str, id: Option<i32>) -> Option<String> {
        let id = id?;
        match kind {
            "employer" => self
                .employers
                .iter()
                .find(|e| e.id == id)
                .map(|e| e.name.clone()),
            "worksite" => self
                .worksites
                .iter()
                .find(|w| w.id == id)
                .map(|w| w.name.clone()),
            "bargaining_unit" => self
                .units
                .iter()
                .find(|u| u.id == id)
                .map(|u| u.name.clone()),
            _ => self
                .statuses
                .iter()
                .find(|s| s.id == id)
                .map(|s| s.name.clone()),
        }
    }
}
