//! Invitations of staff into a local by email, with a role (tenant-owned).
//! The link's secret is the capability: its digest lets the bearer read that
//! one invitation under row-level security (`invitation_bearer` policy).
use chrono::{Duration, Utc};
use loco_rs::model::TenantEntity;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
};
use uuid::Uuid;

pub use super::_entities::invitations::{self, ActiveModel, Entity, Model};
use super::{
    _entities::{memberships as membership_rows, roles as role_rows, tenants as tenant_rows},
    platform, roles,
    tenancy::LocalTxn,
    tenants::Tenant,
    users, Error, Result, Window,
};
use crate::{
    domain::{Email, FieldErrors, Password, PersonName, SecretToken},
    workers::{mail::AccountMail, outbox},
};

pub const LIFETIME_DAYS: i64 = 7;

impl TenantEntity for Entity {
    type TenantId = i32;

    fn tenant_column() -> invitations::Column {
        invitations::Column::TenantId
    }
}

#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub email: Email,
    pub role_pid: Option<Uuid>,
}

/// A pending invitation with the name of its role.
#[derive(Debug, Clone)]
pub struct Pending {
    pub invitation: Model,
    pub role_name: String,
}

/// An invitation as its bearer sees it before accepting.
#[derive(Debug, Clone)]
pub struct Opened {
    pub invitation: Model,
    pub local: tenant_rows::Model,
    pub role_name: String,
    /// The account that already uses the invited address, if any.
    pub account: Option<users::Model>,
}

/// How the bearer accepts: as the signed-in owner of the invited address, or
/// by creating an account for it.
pub enum Acceptance {
    SignedIn(users::Model),
    NewAccount {
        name: PersonName,
        password: Password,
    },
}

impl Model {
    #[must_use]
    pub fn is_usable(&self) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none() && self.expires_at > Utc::now()
    }

    /// Invites `email` with a role; an earlier pending invitation of the same
    /// address is revoked, so only the newest link works. The link's secret
    /// is issued by the mail job when it sends (recorded here, in the same
    /// transaction), so none is returned: the row holds the digest of one
    /// nobody knows until then.
    ///
    /// # Errors
    /// `Invalid` (unknown role, already a member), or a database error.
    pub async fn create(tenant: &Tenant, new: NewInvitation) -> Result<(Self, String)> {
        let by = tenant.access()?;
        let txn = tenant.begin_write().await?;
        let role = match new.role_pid {
            Some(pid) => roles::Model::find_by_pid(&txn, pid).await.ok(),
            None => None,
        }
        .ok_or_else(|| {
            Error::UnknownReference(FieldErrors::one("role", "Choose one of the local's roles."))
        })?;
        if let Ok(user) = users::Model::find_by_email(&txn, &new.email).await {
            let member = txn
                .select::<membership_rows::Entity>()
                .filter(membership_rows::Column::UserId.eq(user.id))
                .one(&txn)
                .await?;
            if member.is_some() {
                return Err(Error::Conflict(FieldErrors::one(
                    "email",
                    "This person is already in the local.",
                )));
            }
        }
        let now = Utc::now();
        txn.update::<Entity>()
            .col_expr(
                invitations::Column::RevokedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(invitations::Column::Email.eq(new.email.as_str()))
            .filter(invitations::Column::AcceptedAt.is_null())
            .filter(invitations::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        let token = SecretToken::generate();
        let invitation = txn
            .insert(ActiveModel {
                pid: Set(Uuid::new_v4()),
                email: Set(new.email.as_str().to_string()),
                role_id: Set(role.id),
                invited_by_id: Set(Some(by.user_id())),
                token_hash: Set(token.digest()),
                expires_at: Set((now + Duration::days(LIFETIME_DAYS)).into()),
                created_at: Set(now.into()),
                updated_at: Set(now.into()),
                ..Default::default()
            })
            .await?;
        let mail = AccountMail::Invitation {
            local_id: tenant.id(),
            invitation_id: invitation.id,
            inviter_id: by.user_id(),
        };
        outbox::commit_with(txn.into_transaction(), &mail).await?;
        Ok((invitation, role.name))
    }

    /// A fresh link secret for a still-usable invitation (the invitation
    /// mail job calls this when it sends, so no secret waits in a queue);
    /// the earlier link stops working. `None` when the invitation was
    /// accepted, revoked or has expired.
    ///
    /// # Errors
    /// A database error.
    pub async fn reissue(tenant: &Tenant, id: i32) -> Result<Option<(Self, String, SecretToken)>> {
        let txn = tenant.begin_write().await?;
        let found = txn
            .select::<Entity>()
            .filter(invitations::Column::Id.eq(id))
            .find_also_related(role_rows::Entity)
            .one(&txn)
            .await?;
        let Some((invitation, role)) = found.filter(|(i, _)| i.is_usable()) else {
            return Ok(None);
        };
        let token = SecretToken::generate();
        let mut active: ActiveModel = invitation.into();
        active.token_hash = Set(token.digest());
        active.updated_at = Set(Utc::now().into());
        let invitation = active.update(&txn).await?;
        txn.commit().await?;
        Ok(Some((
            invitation,
            role.map(|r| r.name).unwrap_or_default(),
            token,
        )))
    }

    /// Invitations not yet accepted, revoked or expired.
    ///
    /// # Errors
    /// A database error.
    pub async fn pending(tenant: &Tenant) -> Result<Vec<Pending>> {
        Self::pending_window(tenant, Window::all()).await
    }

    /// # Errors
    /// A database error.
    pub async fn pending_window(tenant: &Tenant, window: Window) -> Result<Vec<Pending>> {
        let txn = tenant.begin().await?;
        let pending = txn
            .select::<Entity>()
            .filter(invitations::Column::AcceptedAt.is_null())
            .filter(invitations::Column::RevokedAt.is_null())
            .filter(invitations::Column::ExpiresAt.gt(Utc::now()));
        let rows = window
            .apply(pending, invitations::Column::Id)
            .find_also_related(role_rows::Entity)
            .all(&txn)
            .await?;
        txn.commit().await?;
        Ok(rows
            .into_iter()
            .map(|(invitation, role)| Pending {
                invitation,
                role_name: role.map(|r| r.name).unwrap_or_default(),
            })
            .collect())
    }

    /// # Errors
    /// `NotFound` (also for another local's invitation) or a database error.
    pub async fn revoke(tenant: &Tenant, pid: Uuid) -> Result<()> {
        let txn = tenant.begin().await?;
        let updated = txn
            .update::<Entity>()
            .col_expr(
                invitations::Column::RevokedAt,
                sea_orm::sea_query::Expr::value(Utc::now()),
            )
            .filter(invitations::Column::Pid.eq(pid))
            .filter(invitations::Column::AcceptedAt.is_null())
            .filter(invitations::Column::RevokedAt.is_null())
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

/// Finds the usable invitation behind a link, in a transaction that works
/// inside the invitation's local from then on.
async fn find_by_link(
    db: &DatabaseConnection,
    token: &SecretToken,
) -> Result<(LocalTxn, Model, tenant_rows::Model)> {
    let digest = token.digest();
    let txn = db.begin().await?;
    platform::by_invitation(&txn, &digest).await?;
    let invitation = Entity::find()
        .filter(invitations::Column::TokenHash.eq(digest.clone()))
        .one(&txn)
        .await?
        .filter(Model::is_usable)
        .ok_or(Error::NotFound)?;
    let local = tenant_rows::Entity::find_by_id(invitation.tenant_id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let txn = platform::into_invitation_local(txn, local.id, &digest).await?;
    Ok((txn, invitation, local))
}

/// The invitation behind a link, for the acceptance page.
///
/// # Errors
/// `NotFound` when the link is unknown, expired, revoked or used.
pub async fn open(db: &DatabaseConnection, raw: &str) -> Result<Opened> {
    let token = SecretToken::from_link(raw).ok_or(Error::NotFound)?;
    let (txn, invitation, local) = find_by_link(db, &token).await?;
    let role_name = txn
        .select::<role_rows::Entity>()
        .filter(role_rows::Column::Id.eq(invitation.role_id))
        .one(&txn)
        .await?
        .map(|r| r.name)
        .unwrap_or_default();
    let email = Email::parse(&invitation.email).map_err(|_| Error::NotFound)?;
    let account = users::Model::find_by_email(&txn, &email).await.ok();
    txn.commit().await?;
    Ok(Opened {
        invitation,
        local,
        role_name,
        account,
    })
}

/// Accepts an invitation, once: the person joins the local with the role.
///
/// # Errors
/// `NotFound` (unknown, expired, revoked or already used link), `Suspended`,
/// `Invalid` (signed in as someone else, or the address has an account and
/// its owner must sign in), or a database error.
pub async fn accept(
    db: &DatabaseConnection,
    raw: &str,
    acceptance: Acceptance,
) -> Result<(Tenant, users::Model)> {
    let token = SecretToken::from_link(raw).ok_or(Error::NotFound)?;
    let (txn, invitation, local) = find_by_link(db, &token).await?;
    if local.is_suspended() {
        return Err(Error::Suspended(local.name));
    }
    let email = Email::parse(&invitation.email).map_err(|_| Error::NotFound)?;
    let user = match acceptance {
        Acceptance::SignedIn(user) if user.email == invitation.email => user,
        Acceptance::SignedIn(_) => {
            return Err(Error::Invalid(FieldErrors::one(
                "email",
                format!(
                    "This invitation is for {}. Sign out, then open the link again.",
                    invitation.email
                ),
            )))
        }
        Acceptance::NewAccount { name, password } => {
            if users::Model::find_by_email(&txn, &email).await.is_ok() {
                return Err(Error::Invalid(FieldErrors::one(
                    "email",
                    "An account with this email exists: sign in to accept.",
                )));
            }
            users::Model::create(
                &txn,
                users::NewUser {
                    name,
                    email,
                    password,
                    email_verified: true,
                },
            )
            .await?
        }
    };
    let used = txn
        .update::<Entity>()
        .col_expr(
            invitations::Column::AcceptedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(invitations::Column::Id.eq(invitation.id))
        .filter(invitations::Column::AcceptedAt.is_null())
        .exec(&txn)
        .await?;
    if used.rows_affected != 1 {
        return Err(Error::NotFound);
    }
    let already = txn
        .select::<membership_rows::Entity>()
        .filter(membership_rows::Column::UserId.eq(user.id))
        .one(&txn)
        .await?;
    let membership = match already {
        Some(membership) => membership,
        None => super::memberships::insert(&txn, user.id, invitation.role_id).await?,
    };
    let role = txn
        .select::<role_rows::Entity>()
        .filter(role_rows::Column::Id.eq(membership.role_id))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let user = user.mark_email_verified(&txn).await?;
    txn.commit().await?;
    let access = super::memberships::Access::new(&membership, &role);
    Ok((Tenant::from_trusted(local, db, access), user))
}

impl sea_orm::ActiveModelBehavior for ActiveModel {}
