//! Single-use, expiring tokens for password resets and email verification.
//! The link carries the secret; the table keeps only its digest.
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, TransactionTrait,
};

pub use super::_entities::user_tokens::{self, ActiveModel, Entity, Model};
use super::{users, Error, Result};
use crate::domain::SecretToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    PasswordReset,
    EmailVerification,
    /// The first password of an account provisioned from the command line.
    AccountSetup,
}

impl Purpose {
    fn key(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
            Self::AccountSetup => "account_setup",
        }
    }

    fn lifetime(self) -> Duration {
        match self {
            Self::PasswordReset => Duration::hours(1),
            Self::EmailVerification => Duration::days(3),
            Self::AccountSetup => Duration::days(7),
        }
    }
}

/// One purpose or several (a password may be set by a reset link or by an
/// account-setup link).
pub struct Purposes(Vec<Purpose>);

impl From<Purpose> for Purposes {
    fn from(purpose: Purpose) -> Self {
        Self(vec![purpose])
    }
}

impl From<&[Purpose]> for Purposes {
    fn from(purposes: &[Purpose]) -> Self {
        Self(purposes.to_vec())
    }
}

/// The links that let their bearer choose a password.
pub const SETS_PASSWORD: &[Purpose] = &[Purpose::PasswordReset, Purpose::AccountSetup];

/// Issues a new token for `user`; earlier unused tokens of the same purpose
/// stop working, so only the newest link counts.
///
/// # Errors
/// A database error.
pub async fn issue(
    db: &DatabaseConnection,
    user: &users::Model,
    purpose: Purpose,
) -> Result<SecretToken> {
    let token = SecretToken::generate();
    let now = Utc::now();
    let txn = db.begin().await?;
    Entity::update_many()
        .col_expr(
            user_tokens::Column::UsedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(user_tokens::Column::UserId.eq(user.id))
        .filter(user_tokens::Column::Purpose.eq(purpose.key()))
        .filter(user_tokens::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    ActiveModel {
        user_id: Set(user.id),
        purpose: Set(purpose.key().to_string()),
        token_hash: Set(token.digest()),
        expires_at: Set((now + purpose.lifetime()).into()),
        created_at: Set(now.into()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(token)
}

/// The person a still-valid token belongs to, without using it up (to show
/// the form behind the link).
///
/// # Errors
/// `NotFound` when the token is unknown, used or expired.
pub async fn peek<C: ConnectionTrait>(
    db: &C,
    raw: &str,
    purpose: impl Into<Purposes>,
) -> Result<(Model, users::Model)> {
    let purposes: Vec<&str> = purpose.into().0.iter().map(|p| p.key()).collect();
    let token = SecretToken::from_link(raw).ok_or(Error::NotFound)?;
    let row = Entity::find()
        .filter(user_tokens::Column::TokenHash.eq(token.digest()))
        .filter(user_tokens::Column::Purpose.is_in(purposes))
        .filter(user_tokens::Column::UsedAt.is_null())
        .filter(user_tokens::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?
        .ok_or(Error::NotFound)?;
    let user = users::Model::find_by_id(db, row.user_id).await?;
    Ok((row, user))
}

/// Uses a token up, once: of two concurrent uses only one succeeds.
///
/// # Errors
/// `NotFound` when the token is unknown, used or expired.
pub async fn consume<C: ConnectionTrait>(
    db: &C,
    raw: &str,
    purpose: impl Into<Purposes>,
) -> Result<users::Model> {
    let (row, user) = peek(db, raw, purpose).await?;
    let updated = Entity::update_many()
        .col_expr(
            user_tokens::Column::UsedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(user_tokens::Column::Id.eq(row.id))
        .filter(user_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    if updated.rows_affected == 1 {
        Ok(user)
    } else {
        Err(Error::NotFound)
    }
}

impl sea_orm::ActiveModelBehavior for ActiveModel {}

/// Deletes tokens that were used or have expired; returns how many.
///
/// # Errors
/// A database error.
pub async fn delete_spent(db: &DatabaseConnection) -> Result<u64> {
    use sea_orm::Condition;
    Ok(Entity::delete_many()
        .filter(
            Condition::any()
                .add(user_tokens::Column::UsedAt.is_not_null())
                .add(user_tokens::Column::ExpiresAt.lte(Utc::now())),
        )
        .exec(db)
        .await?
        .rows_affected)
}
