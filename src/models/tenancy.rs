//! The tenancy capability, in one file a reviewer can read in ten minutes:
//! [`Tenant`] (one local **and** who acts in it), the only ways one is made
//! (the membership check, the invitation and registration paths inside
//! `src/models`, the job dispatcher), and [`LocalTxn`], the only transaction
//! it hands out. Every scope that is not one local's (a person's own
//! memberships, a token or invitation lookup) is opened in
//! [`super::platform`]; the local's own actions (register, settings, suspend)
//! are in [`super::tenants`].
use async_trait::async_trait;
use loco_rs::model::{TenantActiveModelExt, TenantEntity, TenantQueryExt};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, DeleteMany, EntityTrait, ExecResult, IntoActiveModel,
    QueryFilter, QueryResult, Select, Statement, TransactionTrait, UpdateMany,
};

use super::{
    _entities::{
        memberships as membership_rows, roles as role_rows,
        tenants::{Entity, Model},
    },
    memberships::Access,
    platform::{self, Scope, SCOPE_SQL},
    tenants::{Counters, SUSPENDED},
    users, Error, Result,
};
use crate::domain::{Permission, Slug};

/// The current union local **and** who is acting in it: the capability
/// every tenant-owned model function takes, alone (STYLE.md 8). Its fields
/// are private and it is only built by [`Tenant::enter`] (which checks the
/// person's membership: pages and API tokens), by [`Tenant::register`], by
/// the invitation check, and by the job dispatcher ([`Tenant::for_job`],
/// crate-private); so code that holds one has been allowed into that local,
/// and the local and the access in it cannot come from two different places.
///
/// Code outside the models (a controller, a task, a test) can neither build
/// one for a local it names by id, nor reach the pool beneath it:
///
/// ```compile_fail,E0624
/// # async fn handler(db: &sea_orm::DatabaseConnection) {
/// let any_local = unionhall::models::tenants::Tenant::for_job(db, 1).await;
/// # }
/// ```
///
/// ```compile_fail,E0624
/// # fn handler(tenant: &unionhall::models::tenants::Tenant) {
/// let unscoped = tenant.pool();
/// # }
/// ```
///
/// while what they are meant to use compiles:
///
/// ```
/// # async fn handler(db: &sea_orm::DatabaseConnection, user_id: i32) {
/// let tenant = unionhall::models::tenants::Tenant::enter(db, user_id, "local-1").await;
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Tenant {
    local: Model,
    db: DatabaseConnection,
    actor: Actor,
}

/// Who acts through a [`Tenant`].
#[derive(Clone, Debug)]
enum Actor {
    /// A person with a role in the local (a page, an API token, a task run
    /// as a named person).
    Person(Access),
    /// A background job: the request that recorded it checked the
    /// permission; the job itself acts for nobody, so every permission
    /// check fails for it.
    Job,
}

/// A transaction inside one local, the only kind a [`Tenant`] hands out.
///
/// - Its operations are already filtered by the local and stamp it on what
///   they write: [`LocalTxn::select`], [`LocalTxn::update`],
///   [`LocalTxn::delete`] and [`LocalTxn::insert`] take any tenant-owned
///   entity ([`TenantEntity`]), so a model never writes `.in_tenant(..)` or
///   sets `tenant_id` by hand.
/// - On PostgreSQL it runs as the restricted role with the local's id set
///   (`app.tenant_id`), so row-level security answers only this local's
///   rows even for a statement built by hand (a report's SQL, `COPY`); it
///   implements [`ConnectionTrait`] so that sea-orm can run the scoped
///   queries on it, and that is all it can reach.
/// - It is not the pool: it cannot start another transaction outside the
///   scope, and it ends with [`LocalTxn::commit`] (or is rolled back when
///   dropped).
pub struct LocalTxn {
    txn: DatabaseTransaction,
    local_id: i32,
}

impl LocalTxn {
    /// A transaction [`super::platform`] has just scoped to `local_id` (an
    /// API token's, an invitation's, a local being seeded): from here on it
    /// is that local's like any other. Private to `src/models`.
    pub(super) fn scoped_by_platform(txn: DatabaseTransaction, local_id: i32) -> Self {
        Self { txn, local_id }
    }

    /// The local this transaction works in.
    #[must_use]
    pub fn local_id(&self) -> i32 {
        self.local_id
    }

    /// The local's rows of `E` (chain filters, order and limits as usual).
    #[must_use]
    pub fn select<E: TenantEntity<TenantId = i32>>(&self) -> Select<E> {
        E::find().in_tenant(self.local_id)
    }

    /// An update of the local's rows of `E` (add the columns and filters).
    #[must_use]
    pub fn update<E: TenantEntity<TenantId = i32>>(&self) -> UpdateMany<E> {
        E::update_many().in_tenant(self.local_id)
    }

    /// A delete of the local's rows of `E` (add the filters).
    #[must_use]
    pub fn delete<E: TenantEntity<TenantId = i32>>(&self) -> DeleteMany<E> {
        E::delete_many().in_tenant(self.local_id)
    }

    /// Inserts `row` into this local (its tenant key is set here; a row
    /// already carrying another local's key is refused).
    ///
    /// # Errors
    /// A tenant mismatch or a database error (a unique key, say).
    pub async fn insert<A>(&self, row: A) -> Result<<A::Entity as EntityTrait>::Model>
    where
        A: ActiveModelTrait + ActiveModelBehavior + Send,
        A::Entity: TenantEntity<TenantId = i32>,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    {
        Ok(row.set_tenant(self.local_id)?.insert(&self.txn).await?)
    }

    /// `row` stamped with this local, for a statement that inserts many at
    /// once (`insert_many`); a row already carrying another local's key is
    /// refused.
    ///
    /// # Errors
    /// A tenant mismatch.
    pub fn stamp<A>(&self, row: A) -> Result<A>
    where
        A: ActiveModelTrait,
        A::Entity: TenantEntity<TenantId = i32>,
    {
        Ok(row.set_tenant(self.local_id)?)
    }

    /// # Errors
    /// When the database refuses.
    pub async fn commit(self) -> Result<()> {
        Ok(self.txn.commit().await?)
    }

    /// # Errors
    /// When the database refuses.
    pub async fn rollback(self) -> Result<()> {
        Ok(self.txn.rollback().await?)
    }

    /// The transaction beneath, for the job outbox, which commits it with
    /// the job it records. Private to `src/models`.
    pub(super) fn into_transaction(self) -> DatabaseTransaction {
        self.txn
    }
}

#[async_trait]
impl ConnectionTrait for LocalTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }
}

impl Tenant {
    #[must_use]
    pub fn id(&self) -> i32 {
        self.local.id
    }

    /// The acting person's role here.
    ///
    /// # Errors
    /// `Forbidden` inside a background job, which acts for nobody.
    pub fn access(&self) -> Result<&Access> {
        match &self.actor {
            Actor::Person(access) => Ok(access),
            Actor::Job => Err(Error::Forbidden),
        }
    }

    /// Whether the acting person's role allows this (never, in a job).
    #[must_use]
    pub fn can(&self, permission: Permission) -> bool {
        self.access().is_ok_and(|a| a.can(permission))
    }

    /// The acting person's access, if their role allows `permission`.
    ///
    /// # Errors
    /// `Forbidden`.
    pub fn require(&self, permission: Permission) -> Result<&Access> {
        let access = self.access()?;
        access.require(permission)?;
        Ok(access)
    }

    /// [`Self::require`], for a change: a suspended local changes nothing.
    ///
    /// # Errors
    /// `Forbidden` or `Suspended`.
    pub fn require_change(&self, permission: Permission) -> Result<&Access> {
        let access = self.require(permission)?;
        if self.local.is_suspended() {
            return Err(Error::Suspended(self.slug().to_string()));
        }
        Ok(access)
    }

    /// Whether the local's data is on PostgreSQL (row-level security,
    /// parallel batches, `COPY`) rather than SQLite.
    #[must_use]
    pub fn is_postgres(&self) -> bool {
        self.db.get_database_backend() == DbBackend::Postgres
    }

    #[must_use]
    pub fn slug(&self) -> &str {
        &self.local.slug
    }

    #[must_use]
    pub fn name(&self) -> &str {
        &self.local.name
    }

    #[must_use]
    pub fn model(&self) -> &Model {
        &self.local
    }

    /// The calling code read for phone numbers typed without one ("1", "44").
    #[must_use]
    pub fn phone_country(&self) -> &str {
        &self.local.phone_country_code
    }

    /// The pool, for the few model queries that rightly leave the local's
    /// scope (global tables such as sessions, a connection of its own for an
    /// export). Private to `src/models`: handlers and jobs never get it.
    pub(super) fn pool(&self) -> &DatabaseConnection {
        &self.db
    }

    /// A transaction scoped to this local (see [`begin_scoped`]).
    ///
    /// # Errors
    /// When the database refuses.
    pub async fn begin(&self) -> Result<LocalTxn> {
        Ok(LocalTxn {
            txn: platform::begin_scoped(&self.db, self.scope()).await?,
            local_id: self.id(),
        })
    }

    /// [`Tenant::begin`] for a transaction that reads and then writes.
    /// SQLite (the embedded default) fails such a transaction with
    /// `SQLITE_BUSY_SNAPSHOT` when another connection wrote between its
    /// first read and its first write, and waiting does not help; so on
    /// SQLite this takes the write lock first, with a write that changes
    /// nothing, and waits its turn (`busy_timeout`) instead. A no-op on
    /// PostgreSQL.
    ///
    /// # Errors
    /// When the database refuses.
    pub async fn begin_write(&self) -> Result<LocalTxn> {
        let txn = self.begin().await?;
        if txn.get_database_backend() == DbBackend::Sqlite {
            txn.execute_unprepared("UPDATE tenants SET updated_at = updated_at WHERE 1 = 0")
                .await?;
        }
        Ok(txn)
    }

    /// What this local's transactions may see.
    pub(super) fn scope(&self) -> Scope<'static> {
        Scope {
            tenant_id: Some(self.id()),
            ..Scope::default()
        }
    }

    /// [`Tenant::begin`] that also reads the local's kept counters as they
    /// are now (on PostgreSQL in the same round trip as the scope).
    ///
    /// # Errors
    /// `NotFound` when the local is gone, or a database error.
    pub async fn begin_counted(&self) -> Result<(LocalTxn, Counters)> {
        let txn = LocalTxn {
            txn: self.db.begin().await?,
            local_id: self.id(),
        };
        if txn.get_database_backend() != DbBackend::Postgres {
            let row = Entity::find_by_id(self.id())
                .one(&txn)
                .await?
                .ok_or(Error::NotFound)?;
            return Ok((
                txn,
                Counters {
                    structure_version: row.structure_version,
                    members_count: row.members_count,
                },
            ));
        }
        // Scalar subqueries: the row always comes back, so the scope is
        // always set, even for a local deleted meanwhile.
        let row = txn
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!(
                    "{SCOPE_SQL}, (SELECT structure_version FROM tenants WHERE id = $6) AS structure_version, \
                     (SELECT members_count FROM tenants WHERE id = $6) AS members_count"
                ),
                self.scope()
                    .parameters()
                    .map(Into::into)
                    .into_iter()
                    .chain([self.id().into()]),
            ))
            .await?
            .ok_or(Error::NotFound)?;
        let structure_version: Option<i64> = row.try_get("", "structure_version")?;
        let members_count: Option<i32> = row.try_get("", "members_count")?;
        match (structure_version, members_count) {
            (Some(structure_version), Some(members_count)) => Ok((
                txn,
                Counters {
                    structure_version,
                    members_count,
                },
            )),
            _ => Err(Error::NotFound),
        }
    }

    /// Lets a signed-in person into the local named by `slug`, if they hold a
    /// role in it. Anyone else gets `NotFound`, exactly as for a local that
    /// does not exist.
    ///
    /// # Errors
    /// `NotFound`, `Suspended`, `AccessDisabled`, or a database error.
    pub async fn enter(db: &DatabaseConnection, user_id: i32, slug: &str) -> Result<Self> {
        let (tenant, _) = Self::enter_as(db, user_id, slug).await?;
        Ok(tenant)
    }

    /// [`Tenant::enter`] that also returns the person's account: on
    /// PostgreSQL one round trip (`local_access()`, see its migration),
    /// which every page of a local starts with.
    ///
    /// # Errors
    /// `NotFound`, `Suspended`, `AccessDisabled`, or a database error.
    pub async fn enter_as(
        db: &DatabaseConnection,
        user_id: i32,
        slug: &str,
    ) -> Result<(Self, users::Model)> {
        // Whatever a URL carries, only a well-formed slug reaches the database.
        let slug = Slug::parse(slug).map_err(|_| Error::NotFound)?;
        let (local, membership, role, user) = if db.get_database_backend() == DbBackend::Postgres {
            Self::find_access(db, user_id, slug.as_str()).await?
        } else {
            let user = users::Model::find_by_id(db, user_id).await?;
            let (local, membership, role) =
                Self::find_membership(db, user_id, slug.as_str()).await?;
            (local, membership, role, user)
        };
        if local.status == SUSPENDED {
            return Err(Error::Suspended(local.name));
        }
        if membership.disabled_at.is_some() {
            return Err(Error::AccessDisabled);
        }
        let access = Access::new(&membership, &role);
        Ok((
            Self {
                local,
                db: db.clone(),
                actor: Actor::Person(access),
            },
            user,
        ))
    }

    async fn find_access(
        db: &DatabaseConnection,
        user_id: i32,
        slug: &str,
    ) -> Result<(
        Model,
        membership_rows::Model,
        role_rows::Model,
        users::Model,
    )> {
        #[derive(serde::Deserialize)]
        struct Found {
            local: Model,
            membership: membership_rows::Model,
            role: role_rows::Model,
            user: users::Model,
        }
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT local_access($1, $2) AS found",
                [slug.into(), user_id.into()],
            ))
            .await?
            .ok_or(Error::NotFound)?;
        let found: Option<serde_json::Value> = row.try_get("", "found")?;
        let found: Found = serde_json::from_value(found.ok_or(Error::NotFound)?)
            .map_err(|e| Error::Db(DbErr::Type(format!("local_access: {e}"))))?;
        Ok((found.local, found.membership, found.role, found.user))
    }

    async fn find_membership(
        db: &DatabaseConnection,
        user_id: i32,
        slug: &str,
    ) -> Result<(Model, membership_rows::Model, role_rows::Model)> {
        let local = Model::find_by_slug(db, slug).await?;
        let txn = platform::membership_check(db, local.id, user_id).await?;
        let (membership, role) = membership_rows::Entity::find()
            .filter(membership_rows::Column::TenantId.eq(local.id))
            .filter(membership_rows::Column::UserId.eq(user_id))
            .find_also_related(role_rows::Entity)
            .one(&txn)
            .await?
            .ok_or(Error::NotFound)?;
        txn.commit().await?;
        let role = role.ok_or(Error::NotFound)?;
        Ok((local, membership, role))
    }

    /// Builds the tenant of a row found through a capability other than a
    /// membership check (an accepted invitation link, with the membership it
    /// made; a local just registered, for its founder). Private to
    /// `src/models`.
    pub(super) fn from_trusted(local: Model, db: &DatabaseConnection, access: Access) -> Self {
        Self {
            local,
            db: db.clone(),
            actor: Actor::Person(access),
        }
    }

    /// The local a background job works in, rebuilt inside the worker from
    /// the id the job carries (STYLE.md 11): `NotFound` when it was deleted,
    /// `Suspended` when it is suspended, so the job does nothing there.
    ///
    /// # Errors
    /// `NotFound`, `Suspended`, or a database error.
    pub(crate) async fn for_job(db: &DatabaseConnection, local_id: i32) -> Result<Self> {
        let local = Entity::find_by_id(local_id)
            .one(db)
            .await?
            .ok_or(Error::NotFound)?;
        if local.is_suspended() {
            return Err(Error::Suspended(local.slug));
        }
        Ok(Self {
            local,
            db: db.clone(),
            actor: Actor::Job,
        })
    }
}
