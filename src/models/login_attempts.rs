//! Sign-in attempts, kept to slow down password guessing per email and per
//! client address. Kept in the database so every web replica sees them.
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};

pub use super::_entities::login_attempts::{self, ActiveModel, Entity, Model};
use super::{Error, Result};

/// Failed attempts allowed per email within the window.
pub const MAX_FAILURES_PER_EMAIL: u64 = 5;
/// Failed attempts allowed per client address within the window (a shared
/// office address may hold many people).
pub const MAX_FAILURES_PER_CLIENT: u64 = 30;
pub const WINDOW_MINUTES: i64 = 15;

/// # Errors
/// `Throttled` with the seconds to wait, or a database error.
pub async fn ensure_allowed(db: &DatabaseConnection, email: &str, client: &str) -> Result<()> {
    let since = Utc::now() - Duration::minutes(WINDOW_MINUTES);
    let failures = |column: login_attempts::Column, value: String| {
        Entity::find()
            .filter(column.eq(value))
            .filter(login_attempts::Column::Succeeded.eq(false))
            .filter(login_attempts::Column::CreatedAt.gt(since))
    };
    for (column, value, limit) in [
        (
            login_attempts::Column::Email,
            email.to_string(),
            MAX_FAILURES_PER_EMAIL,
        ),
        (
            login_attempts::Column::Ip,
            client.to_string(),
            MAX_FAILURES_PER_CLIENT,
        ),
    ] {
        if failures(column, value.clone()).count(db).await? >= limit {
            let oldest = failures(column, value)
                .order_by_asc(login_attempts::Column::CreatedAt)
                .one(db)
                .await?;
            let wait = oldest.map_or(WINDOW_MINUTES * 60, |a| {
                (a.created_at.with_timezone(&Utc) + Duration::minutes(WINDOW_MINUTES) - Utc::now())
                    .num_seconds()
                    .max(1)
            });
            return Err(Error::Throttled(u64::try_from(wait).unwrap_or(60)));
        }
    }
    Ok(())
}

/// # Errors
/// A database error.
pub async fn record(
    db: &DatabaseConnection,
    email: &str,
    client: &str,
    succeeded: bool,
) -> Result<()> {
    ActiveModel {
        email: Set(email.chars().take(254).collect()),
        ip: Set(client.chars().take(64).collect()),
        succeeded: Set(succeeded),
        created_at: Set(Utc::now().into()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

impl sea_orm::ActiveModelBehavior for ActiveModel {}

/// Deletes attempts older than the throttling window; returns how many.
///
/// # Errors
/// A database error.
pub async fn delete_expired(db: &DatabaseConnection) -> Result<u64> {
    let before = Utc::now() - Duration::minutes(WINDOW_MINUTES);
    Ok(Entity::delete_many()
        .filter(login_attempts::Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}
