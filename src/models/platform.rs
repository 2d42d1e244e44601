//! The platform path: every transaction that is not one local's. A
//! [`super::tenancy::Tenant`] opens its local's scope; what rightly reaches
//! past it is opened here, each for one named purpose, so a reviewer reads
//! this file to know every way into tenant rows without a `Tenant`:
//!
//! - [`locals_of`]: the locals a person may enter (the switcher, `GET
//!   /api/v1/locals`), scoped to the person's own memberships;
//! - [`membership_check`]: the check `Tenant::enter` makes (SQLite; on
//!   PostgreSQL it is the `local_access()` function);
//! - [`by_api_token`] / [`into_token_local`]: an API token found by its
//!   digest, then its local (`api_tokens::authenticate`);
//! - [`by_invitation`] / [`into_invitation_local`]: an invitation found by
//!   its link's digest, then its local (`invitations::open`, `accept`);
//! - [`seeding`]: one local's scope by id, for the demo seed and tests;
//! - registration (`tenants::Tenant::register`) scopes its new local itself.
//!
//! Global tables (users, sessions, tenants, work items, operator actions)
//! have no row-level security and are read through the pool by the sign-in,
//! the operator console and the job runtime.
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, Statement, TransactionTrait,
};

use super::{
    _entities::{memberships, tenants as tenant_rows},
    tenancy::LocalTxn,
    Result,
};

/// What a transaction is allowed to see under row-level security.
#[derive(Default)]
pub(super) struct Scope<'a> {
    pub tenant_id: Option<i32>,
    pub user_id: Option<i32>,
    pub invitation_digest: Option<&'a str>,
    pub api_token_digest: Option<&'a str>,
}

/// Starts a transaction that, on PostgreSQL, runs as the restricted role
/// with the scope set transaction-locally: a query that forgets its tenant
/// filter sees nothing of other locals, and the pooled connection is clean
/// again after commit or rollback. On SQLite it is a plain transaction.
pub(super) async fn begin_scoped(
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

pub(super) async fn apply_scope(txn: &DatabaseTransaction, scope: &Scope<'_>) -> Result<()> {
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

/// A transaction that sees one person's memberships in every local.
async fn as_person(db: &DatabaseConnection, user_id: i32) -> Result<DatabaseTransaction> {
    begin_scoped(
        db,
        Scope {
            user_id: Some(user_id),
            ..Scope::default()
        },
    )
    .await
}

/// The locals a person may enter, for the local switcher.
///
/// # Errors
/// A database error.
pub async fn locals_of(db: &DatabaseConnection, user_id: i32) -> Result<Vec<tenant_rows::Model>> {
    let txn = as_person(db, user_id).await?;
    let tenant_ids: Vec<i32> = memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(user_id))
        .filter(memberships::Column::DisabledAt.is_null())
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| m.tenant_id)
        .collect();
    txn.commit().await?;
    Ok(tenant_rows::Entity::find()
        .filter(tenant_rows::Column::Id.is_in(tenant_ids))
        .order_by_asc(tenant_rows::Column::Name)
        .all(db)
        .await?)
}

/// The transaction of `Tenant::enter`'s membership check: the local and
/// the person (SQLite; PostgreSQL runs `local_access()` instead).
pub(super) async fn membership_check(
    db: &DatabaseConnection,
    local_id: i32,
    user_id: i32,
) -> Result<DatabaseTransaction> {
    begin_scoped(
        db,
        Scope {
            tenant_id: Some(local_id),
            user_id: Some(user_id),
            ..Scope::default()
        },
    )
    .await
}

/// A transaction that sees only the API token with this digest.
pub(super) async fn by_api_token(
    db: &DatabaseConnection,
    digest: &str,
) -> Result<DatabaseTransaction> {
    begin_scoped(
        db,
        Scope {
            api_token_digest: Some(digest),
            ..Scope::default()
        },
    )
    .await
}

/// Moves a [`by_api_token`] transaction into the token's local.
pub(super) async fn into_token_local(
    txn: DatabaseTransaction,
    local_id: i32,
    digest: &str,
) -> Result<LocalTxn> {
    apply_scope(
        &txn,
        &Scope {
            tenant_id: Some(local_id),
            api_token_digest: Some(digest),
            ..Scope::default()
        },
    )
    .await?;
    Ok(LocalTxn::scoped_by_platform(txn, local_id))
}

/// Scopes `txn` to the invitation with this digest only.
pub(super) async fn by_invitation(txn: &DatabaseTransaction, digest: &str) -> Result<()> {
    apply_scope(
        txn,
        &Scope {
            invitation_digest: Some(digest),
            ..Scope::default()
        },
    )
    .await
}

/// Moves a [`by_invitation`] transaction into the invitation's local.
pub(super) async fn into_invitation_local(
    txn: DatabaseTransaction,
    local_id: i32,
    digest: &str,
) -> Result<LocalTxn> {
    apply_scope(
        &txn,
        &Scope {
            tenant_id: Some(local_id),
            invitation_digest: Some(digest),
            ..Scope::default()
        },
    )
    .await?;
    Ok(LocalTxn::scoped_by_platform(txn, local_id))
}

/// One local's scope by id, for seeding (the demo local, tests): no one
/// acts, so it is not a `Tenant`.
pub(super) async fn seeding(db: &DatabaseConnection, local_id: i32) -> Result<LocalTxn> {
    let txn = begin_scoped(
        db,
        Scope {
            tenant_id: Some(local_id),
            ..Scope::default()
        },
    )
    .await?;
    Ok(LocalTxn::scoped_by_platform(txn, local_id))
}

/// Moves the registration's transaction into the local it just created.
pub(super) async fn into_new_local(txn: DatabaseTransaction, local_id: i32) -> Result<LocalTxn> {
    apply_scope(
        &txn,
        &Scope {
            tenant_id: Some(local_id),
            ..Scope::default()
        },
    )
    .await?;
    Ok(LocalTxn::scoped_by_platform(txn, local_id))
}
