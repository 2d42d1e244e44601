//! Models: every query of the app lives here. Tenant-owned models take a
//! [`tenants::Tenant`]; code without one cannot reach a local's data.
pub mod _entities;
pub mod api_tokens;
pub mod audit_events;
pub mod bargaining_units;
pub mod employers;
pub mod import_structure;
pub mod invitations;
pub mod login_attempts;
pub mod member_bulk_changes;
pub mod member_imports;
pub mod members;
pub mod membership_statuses;
pub mod memberships;
pub mod operators;
pub mod platform;
pub mod progress;
pub mod roles;
pub mod sessions;
pub mod structure;
pub mod tenancy;
pub mod tenants;
pub mod user_tokens;
pub mod users;
/// Durable background work: the job runtime's table (`unionhall-workers`).
pub use unionhall_workers::work_items;
pub mod worksites;

use sea_orm::{DbErr, SqlErr};

use crate::domain::FieldErrors;

/// What a model call can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input broke a rule; the messages name the fields.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// The input duplicates something that must be unique (a slug, an email,
    /// a role name), or the change conflicts with the current state (it would
    /// remove the last admin; the role is still held); messages name fields.
    #[error("conflict")]
    Conflict(FieldErrors),
    /// The input names a row (e.g. a role) that does not exist in this local.
    #[error("unknown reference")]
    UnknownReference(FieldErrors),
    /// Missing, or another local's: the two are indistinguishable on purpose.
    #[error("not found")]
    NotFound,
    /// The local is suspended: nothing may change.
    #[error("the local {0} is suspended")]
    Suspended(String),
    /// The signed-in person's role does not allow this.
    #[error("forbidden")]
    Forbidden,
    /// This person's access to the local was disabled by its admins.
    #[error("access disabled")]
    AccessDisabled,
    /// Too many recent attempts; try again after this many seconds.
    #[error("too many attempts")]
    Throttled(u64),
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Loco(#[from] loco_rs::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A keyset window over a collection ordered by id: rows after `after`, at
/// most `limit` of them (no deep OFFSET, whatever the page).
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub after: Option<i32>,
    pub limit: Option<u64>,
    /// Newest first (descending ids) instead of oldest first.
    pub newest_first: bool,
}

impl Window {
    #[must_use]
    pub fn all() -> Self {
        Self::default()
    }

    /// One more row than a page holds, to know whether a next page exists.
    #[must_use]
    pub fn page(after: Option<i32>, limit: u64, newest_first: bool) -> Self {
        Self {
            after,
            limit: Some(limit + 1),
            newest_first,
        }
    }

    pub(crate) fn apply<E, C>(self, query: sea_orm::Select<E>, id: C) -> sea_orm::Select<E>
    where
        E: sea_orm::EntityTrait,
        C: sea_orm::ColumnTrait,
    {
        use sea_orm::{QueryFilter, QueryOrder, QuerySelect};
        let query = match (self.newest_first, self.after) {
            (false, Some(after)) => query.order_by_asc(id).filter(id.gt(after)),
            (false, None) => query.order_by_asc(id),
            (true, Some(after)) => query.order_by_desc(id).filter(id.lt(after)),
            (true, None) => query.order_by_desc(id),
        };
        match self.limit {
            Some(limit) => query.limit(limit),
            None => query,
        }
    }
}

impl From<FieldErrors> for Error {
    fn from(errors: FieldErrors) -> Self {
        Self::Invalid(errors)
    }
}

impl From<loco_rs::model::ModelError> for Error {
    fn from(err: loco_rs::model::ModelError) -> Self {
        match err {
            loco_rs::model::ModelError::EntityNotFound => Self::NotFound,
            loco_rs::model::ModelError::DbErr(db) => Self::Db(db),
            other => Self::Loco(other.into()),
        }
    }
}

/// Turns a unique-key violation into a form error on the field whose column
/// it names (both PostgreSQL's and SQLite's messages name the column or its
/// key); any other database error passes through. The one place where
/// duplicates become messages (STYLE.md 6).
pub(crate) fn on_conflict(err: impl Into<Error>, fields: &[(&str, &'static str, &str)]) -> Error {
    let err = err.into();
    if let Error::Db(db) = &err {
        if let Some(SqlErr::UniqueConstraintViolation(message)) = db.sql_err() {
            for (needle, field, text) in fields {
                if message.contains(needle) {
                    return Error::Conflict(FieldErrors::one(field, *text));
                }
            }
        }
    }
    err
}

/// The local's row of a tenant-owned table by its `pid`; another local's row
/// is `NotFound`, exactly like a missing one.
pub(crate) async fn find_in_local<E>(
    txn: &tenancy::LocalTxn,
    pid_column: E::Column,
    pid: uuid::Uuid,
) -> Result<E::Model>
where
    E: loco_rs::model::TenantEntity<TenantId = i32>,
{
    use sea_orm::{ColumnTrait, QueryFilter};
    txn.select::<E>()
        .filter(pid_column.eq(pid))
        .one(txn)
        .await?
        .ok_or(Error::NotFound)
}

/// The local's rows of a tenant-owned table, ordered by `order`.
pub(crate) async fn list_in_local<E>(
    txn: &tenancy::LocalTxn,
    order: E::Column,
) -> Result<Vec<E::Model>>
where
    E: loco_rs::model::TenantEntity<TenantId = i32>,
{
    use sea_orm::QueryOrder;
    Ok(txn.select::<E>().order_by_asc(order).all(txn).await?)
}
