//! The local's structure: its directory (statuses, employers, worksites and
//! bargaining units, as every page of the roll names them), and deleting a
//! part of it (an employer, a worksite, a bargaining unit, a membership
//! status) that nothing refers to: a name added by mistake, or an employer
//! the local no longer organises. Anything still in use is refused with what
//! uses it, so no member loses where they work; the foreign keys
//! refuse it too, should a member be placed there meanwhile.
use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
};

use loco_rs::model::TenantQueryExt;
use sea_orm::{
    ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, PaginatorTrait, QueryFilter, SqlErr,
};
use uuid::Uuid;

use super::{
    _entities::{
        member_status_changes as history_rows, members as member_rows, tenants as tenant_rows,
    },
    audit_events::{self, Change},
    bargaining_units, employers, membership_statuses,
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
    pub(crate) async fn open(tenant: &Tenant) -> Result<(DatabaseTransaction, Self, i32)> {
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
