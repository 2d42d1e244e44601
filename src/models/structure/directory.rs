//! The local's directory: its statuses and structure as every page of the
//! roll names them, read once per version of the structure.
use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
};

use sea_orm::EntityTrait;
use uuid::Uuid;

use super::super::{
    _entities::tenants as tenant_rows, bargaining_units, employers, membership_statuses,
    tenants::Tenant, worksites, Error, Result,
};
use crate::models::tenancy::LocalTxn;

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

    pub(crate) async fn load_in(txn: &LocalTxn, tenant: &Tenant) -> Result<Self> {
        let row = tenant_rows::Entity::find_by_id(tenant.id())
            .one(txn)
            .await?
            .ok_or(Error::NotFound)?;
        Self::at_version(txn, tenant, row.structure_version).await
    }

    /// A transaction of the local with its directory and kept count: what
    /// every page of the roll starts with, in as few round trips as may be.
    pub(crate) async fn open(tenant: &Tenant) -> Result<(LocalTxn, Self, i32)> {
        let (txn, counters) = tenant.begin_counted().await?;
        let directory = Self::at_version(&txn, tenant, counters.structure_version).await?;
        Ok((txn, directory, counters.members_count))
    }

    /// The directory as of `version` of the local's structure, from memory
    /// when it was read at that version before.
    async fn at_version(txn: &LocalTxn, tenant: &Tenant, version: i64) -> Result<Self> {
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
            statuses: membership_statuses::list(txn).await?,
            employers: employers::Model::list(txn).await?,
            worksites: worksites::Model::list(txn).await?,
            units: bargaining_units::Model::list(txn).await?,
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
