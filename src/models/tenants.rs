//! Union locals, and the [`Tenant`] capability through which every
//! tenant-owned model is reached (STYLE.md 8–10).
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryFilter, Statement, TransactionTrait,
};
use uuid::Uuid;

pub use super::_entities::tenants::{self, ActiveModel, Column, Entity, Model};
use super::{
    _entities::{memberships as membership_rows, roles as role_rows},
    memberships::Access,
    on_conflict, roles, users, Error, Result,
};
use crate::{
    domain::{permission::ADMIN_ROLE, FieldErrors, LocalName, Permission, PermissionSet, Slug},
    workers::{mail::AccountMail, outbox},
};

pub const ACTIVE: &str = "active";
pub const SUSPENDED: &str = "suspended";

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

/// What a transaction is allowed to see under row-level security.
#[derive(Default)]
pub(crate) struct Scope<'a> {
    pub tenant_id: Option<i32>,
    pub user_id: Option<i32>,
    pub invitation_digest: Option<&'a str>,
    pub api_token_digest: Option<&'a str>,
}

/// Starts a transaction that, on PostgreSQL, runs as the restricted role
/// with the scope set transaction-locally: a query that forgets its tenant
/// filter sees nothing of other locals, and the pooled connection is clean
/// again after commit or rollback. On SQLite it is a plain transaction.
pub(crate) async fn begin_scoped(
    db: &DatabaseConnection,
    scope: Scope<'_>,
) -> Result<DatabaseTransaction> {
    let txn = db.begin().await?;
    apply_scope(&txn, &scope).await?;
    Ok(txn)
}

/// Sets a transaction's scope: role, local, user, invitation and API token
/// digests ($1–$5), all transaction-local.
pub(crate) const SCOPE_SQL: &str = "SELECT set_config('role', $1, true), \
     set_config('app.tenant_id', $2, true), set_config('app.user_id', $3, true), \
     set_config('app.invitation_token', $4, true), set_config('app.api_token', $5, true)";

impl Scope<'_> {
    /// The values of [`SCOPE_SQL`]'s $1–$5.
    pub(crate) fn parameters(&self) -> [String; 5] {
        let text = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
        [
            migration::rls::TENANT_ROLE.to_string(),
            text(self.tenant_id),
            text(self.user_id),
            self.invitation_digest.unwrap_or_default().to_string(),
            self.api_token_digest.unwrap_or_default().to_string(),
        ]
    }
}

pub(crate) async fn apply_scope(txn: &DatabaseTransaction, scope: &Scope<'_>) -> Result<()> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            SCOPE_SQL,
            scope.parameters().map(Into::into),
        ))
        .await?;
    }
    Ok(())
}

/// What the database keeps counted on a local's row.
#[derive(Debug, Clone, Copy)]
pub struct Counters {
    /// Raised on every change to the local's structure (never reused).
    pub structure_version: i64,
    /// Members on the roll (archived ones not counted).
    pub members_count: i32,
}

/// A local being registered.
#[derive(Debug, Clone)]
pub struct NewLocal {
    pub name: LocalName,
    pub slug: Slug,
}

/// Who becomes the first admin of a new local.
pub enum Founder {
    /// A signed-in person registering another local.
    Existing(users::Model),
    /// A new account created with the local.
    New(users::NewUser),
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

    /// Sets the country phone numbers typed without a code are read in
    /// (numbers already stored keep theirs), with an audit line.
    ///
    /// # Errors
    /// `Forbidden` (`structure.manage`), `Suspended`, `Invalid` for a code
    /// not offered, or a database error.
    pub async fn set_phone_country(&self, code: &str) -> Result<()> {
        let by = self.require_change(Permission::StructureManage)?;
        let Some(code) = crate::domain::phone::country(code) else {
            return Err(Error::Invalid(FieldErrors::one(
                "phone_country",
                "Choose one of the countries listed.",
            )));
        };
        let txn = self.begin().await?;
        Entity::update_many()
            .col_expr(Column::PhoneCountryCode, Expr::value(code))
            .col_expr(
                Column::UpdatedAt,
                Expr::value(chrono::DateTime::<chrono::FixedOffset>::from(
                    chrono::Utc::now(),
                )),
            )
            .filter(Column::Id.eq(self.id()))
            .exec(&txn)
            .await?;
        super::audit_events::record(
            &txn,
            self,
            Some(by.user_id()),
            ("local", self.id()),
            "update",
            &super::audit_events::Change::of(
                "phone_country_code",
                Some(self.phone_country()),
                Some(code),
            )
            .into_iter()
            .collect::<Vec<_>>(),
        )
        .await?;
        txn.commit().await?;
        Ok(())
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
    pub async fn begin(&self) -> Result<DatabaseTransaction> {
        begin_scoped(&self.db, self.scope()).await
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
    pub async fn begin_write(&self) -> Result<DatabaseTransaction> {
        let txn = self.begin().await?;
        if txn.get_database_backend() == DbBackend::Sqlite {
            txn.execute_unprepared("UPDATE tenants SET updated_at = updated_at WHERE 1 = 0")
                .await?;
        }
        Ok(txn)
    }

    /// What this local's transactions may see.
    pub(crate) fn scope(&self) -> Scope<'static> {
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
    pub async fn begin_counted(&self) -> Result<(DatabaseTransaction, Counters)> {
        let txn = self.db.begin().await?;
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
        let txn = begin_scoped(
            db,
            Scope {
                tenant_id: Some(local.id),
                user_id: Some(user_id),
                ..Scope::default()
            },
        )
        .await?;
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

    /// Registers a local: the tenant, its default roles and its first admin,
    /// in one transaction. A taken slug or email becomes a form error.
    ///
    /// # Errors
    /// `Invalid` for a taken slug or email, or a database error.
    pub async fn register(
        db: &DatabaseConnection,
        local: NewLocal,
        founder: Founder,
    ) -> Result<(Self, users::Model)> {
        let txn = db.begin().await?;
        let now = Utc::now().into();
        let row = ActiveModel {
            pid: Set(Uuid::new_v4()),
            name: Set(local.name.into_string()),
            slug: Set(local.slug.as_str().to_string()),
            status: Set(ACTIVE.to_string()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            on_conflict(
                e,
                &[("slug", "slug", "This address is taken; choose another.")],
            )
        })?;
        apply_scope(
            &txn,
            &Scope {
                tenant_id: Some(row.id),
                ..Scope::default()
            },
        )
        .await?;
        let created = roles::create_defaults(&txn, row.id).await?;
        super::membership_statuses::ensure_defaults(&txn, row.id).await?;
        let admin = created
            .iter()
            .find(|r| r.name == ADMIN_ROLE)
            .ok_or(Error::NotFound)?;
        let user = match founder {
            Founder::Existing(user) => user,
            Founder::New(new_user) => users::Model::create(&txn, new_user).await?,
        };
        let membership = super::memberships::insert(&txn, row.id, user.id, admin.id).await?;
        if user.is_email_verified() {
            txn.commit().await?;
        } else {
            let mail = AccountMail::EmailVerification { user_id: user.id };
            outbox::commit_with(txn, &mail).await?;
        }
        Ok((
            Self {
                local: row,
                db: db.clone(),
                actor: Actor::Person(Access::new(&membership, admin)),
            },
            user,
        ))
    }

    /// Builds the tenant of a row found through a capability other than a
    /// membership check (an accepted invitation link, with the membership it
    /// made). Private to `src/models`.
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

    /// The permissions of the default Admin role, for display.
    #[must_use]
    pub fn admin_permissions() -> PermissionSet {
        PermissionSet::all()
    }
}

impl Model {
    /// # Errors
    /// `NotFound` or a database error.
    pub async fn find_by_slug(db: &DatabaseConnection, slug: &str) -> Result<Self> {
        // Whatever a URL carries, only a well-formed slug reaches the database.
        let slug = Slug::parse(slug).map_err(|_| Error::NotFound)?;
        Entity::find()
            .filter(tenants::Column::Slug.eq(slug.as_str()))
            .one(db)
            .await?
            .ok_or(Error::NotFound)
    }

    #[must_use]
    pub fn is_suspended(&self) -> bool {
        self.status == SUSPENDED
    }

    /// Suspends the local: its people can sign in but change nothing.
    /// (The operator console that calls this arrives with the jobs issue.)
    ///
    /// # Errors
    /// A database error.
    pub async fn suspend(self, db: &DatabaseConnection, reason: &str) -> Result<Self> {
        self.set_status(db, SUSPENDED, Some(reason.to_string()))
            .await
    }

    /// # Errors
    /// A database error.
    pub async fn reactivate(self, db: &DatabaseConnection) -> Result<Self> {
        self.set_status(db, ACTIVE, None).await
    }

    async fn set_status(
        self,
        db: &DatabaseConnection,
        status: &str,
        reason: Option<String>,
    ) -> Result<Self> {
        let mut row: ActiveModel = self.into();
        row.status = Set(status.to_string());
        row.status_reason = Set(reason);
        row.updated_at = Set(Utc::now().into());
        Ok(row.update(db).await?)
    }
}

impl sea_orm::ActiveModelBehavior for ActiveModel {}
