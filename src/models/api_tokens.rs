//! Personal API tokens (tenant-owned): shown once, stored as a SHA-256
//! digest, bound to one local; a token acts with its owner's current role
//! there, so a changed role or disabled access applies to it at once.
use chrono::{Duration, Utc};
use loco_rs::model::TenantEntity;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

pub use super::_entities::api_tokens::{self, ActiveModel, Entity, Model};
use super::{platform, tenants::Tenant, Error, Result, Window};
use crate::domain::{SecretToken, TokenName};

/// Every token starts with this, so secret scanners can spot a leaked one.
pub const PREFIX: &str = "uh_";
pub const MAX_LIFETIME_DAYS: u32 = 366;

#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: TokenName,
    /// `None` never expires.
    pub expires_in_days: Option<u32>,
}

/// The token as typed by its bearer, if it has the right shape.
fn parse_secret(raw: &str) -> Option<SecretToken> {
    raw.strip_prefix(PREFIX).and_then(SecretToken::from_link)
}

impl TenantEntity for Entity {
    type TenantId = i32;

    fn tenant_column() -> api_tokens::Column {
        api_tokens::Column::TenantId
    }
}

impl Model {
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > Utc::now())
    }

    /// Creates a token for the signed-in person in this local; returns it and
    /// its secret, which is never shown again.
    ///
    /// # Errors
    /// A database error.
    pub async fn create(tenant: &Tenant, new: NewToken) -> Result<(Self, String)> {
        let owner = tenant.access()?;
        let secret = SecretToken::generate();
        let full = format!("{PREFIX}{}", secret.as_str());
        let now = Utc::now();
        let txn = tenant.begin().await?;
        let token = txn
            .insert(ActiveModel {
                pid: Set(Uuid::new_v4()),
                user_id: Set(owner.user_id()),
                name: Set(new.name.into_string()),
                token_hash: Set(secret.digest()),
                prefix: Set(full.chars().take(9).collect()),
                expires_at: Set(new
                    .expires_in_days
                    .map(|days| (now + Duration::days(i64::from(days))).into())),
                created_at: Set(now.into()),
                ..Default::default()
            })
            .await?;
        txn.commit().await?;
        Ok((token, full))
    }

    /// The person's tokens in this local, oldest first.
    ///
    /// # Errors
    /// A database error.
    pub async fn list(tenant: &Tenant, window: Window) -> Result<Vec<Self>> {
        let owner = tenant.access()?;
        let txn = tenant.begin().await?;
        let mine = txn
            .select::<Entity>()
            .filter(api_tokens::Column::UserId.eq(owner.user_id()));
        let tokens = window.apply(mine, api_tokens::Column::Id).all(&txn).await?;
        txn.commit().await?;
        Ok(tokens)
    }

    /// Revokes one of the person's own tokens; it is refused at once.
    ///
    /// # Errors
    /// `NotFound` (also for someone else's token) or a database error.
    pub async fn revoke(tenant: &Tenant, pid: Uuid) -> Result<()> {
        let owner = tenant.access()?;
        let txn = tenant.begin().await?;
        let updated = txn
            .update::<Entity>()
            .col_expr(
                api_tokens::Column::RevokedAt,
                sea_orm::sea_query::Expr::value(Utc::now()),
            )
            .filter(api_tokens::Column::Pid.eq(pid))
            .filter(api_tokens::Column::UserId.eq(owner.user_id()))
            .filter(api_tokens::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        txn.commit().await?;
        if updated.rows_affected == 1 {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }
}

/// The active token behind a bearer secret (its local and owner), and notes
/// its use (at most once a minute, to keep reads cheap).
///
/// # Errors
/// `NotFound` for a malformed, unknown, revoked or expired token.
pub async fn authenticate(db: &DatabaseConnection, raw: &str) -> Result<Model> {
    let secret = parse_secret(raw).ok_or(Error::NotFound)?;
    let digest = secret.digest();
    let txn = platform::by_api_token(db, &digest).await?;
    let token = Entity::find()
        .filter(api_tokens::Column::TokenHash.eq(digest.clone()))
        .one(&txn)
        .await?
        .filter(Model::is_active)
        .ok_or(Error::NotFound)?;
    let stale = token
        .last_used_at
        .is_none_or(|at| at < Utc::now() - Duration::minutes(1));
    if stale {
        let txn = platform::into_token_local(txn, token.tenant_id, &digest).await?;
        txn.update::<Entity>()
            .col_expr(
                api_tokens::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(Utc::now()),
            )
            .filter(api_tokens::Column::Id.eq(token.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
    } else {
        txn.commit().await?;
    }
    Ok(token)
}

impl sea_orm::ActiveModelBehavior for ActiveModel {}
