//! What a member does themselves: their own record and contact details.
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter};
use uuid::Uuid;

use crate::domain::{Address, Email, FieldErrors, Permission, Phone};
use crate::models::{
    _entities::members::{ActiveModel, Column, Entity, Model},
    audit_events::{self, Change},
    structure::Directory,
    tenants::Tenant,
    Error, Result,
};

use super::{diff, refuse_suspended, search::search_text, SUBJECT};

/// What a member may change about themselves.
#[derive(Debug, Clone)]
pub struct ContactDetails {
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub address: Option<Address>,
    pub email_opt_in: bool,
    pub sms_opt_in: bool,
}

impl Model {
    /// The member record linked to the signed-in person (self-service).
    ///
    /// # Errors
    /// `Forbidden` without `self.service`; `NotFound` when no record is linked.
    pub async fn find_own(tenant: &Tenant) -> Result<Self> {
        let by = tenant.require(Permission::SelfService)?;
        let txn = tenant.begin().await?;
        let own = txn
            .select::<Entity>()
            .filter(Column::UserId.eq(by.user_id()))
            .filter(Column::ArchivedAt.is_null())
            .one(&txn)
            .await?
            .ok_or(Error::NotFound)?;
        txn.commit().await?;
        Ok(own)
    }

    /// A member changes their own contact details and preferences; nothing else.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound` (no linked record), `Suspended`, or a database error.
    pub async fn update_own_contact(tenant: &Tenant, details: ContactDetails) -> Result<Self> {
        let by = tenant.access()?;
        let own = Self::find_own(tenant).await?;
        refuse_suspended(tenant)?;
        let txn = tenant.begin().await?;
        let mut row: ActiveModel = own.clone().into();
        row.email = Set(details.email.map(|e| e.as_str().to_string()));
        row.phone = Set(details.phone.map(|p| p.as_str().to_string()));
        row.address = Set(details.address.map(Address::into_string));
        row.email_opt_in = Set(details.email_opt_in);
        row.sms_opt_in = Set(details.sms_opt_in);
        row.search = Set(search_text(&row));
        row.updated_at = Set(Utc::now().into());
        let saved = row.update(&txn).await?;
        let mut changed = diff(Some(&own), &saved, &Directory::load_in(&txn, tenant).await?);
        for (field, old, new) in [
            ("email_opt_in", own.email_opt_in, saved.email_opt_in),
            ("sms_opt_in", own.sms_opt_in, saved.sms_opt_in),
        ] {
            changed.extend(Change::of(
                field,
                Some(&old.to_string()),
                Some(&new.to_string()),
            ));
        }
        if !changed.is_empty() {
            audit_events::record(
                &txn,
                Some(by.user_id()),
                (SUBJECT, saved.id),
                "self_service",
                &changed,
            )
            .await?;
        }
        txn.commit().await?;
        Ok(saved)
    }

    /// Links a member record to the person of the local with the same email,
    /// so they can see and update it themselves.
    ///
    /// # Errors
    /// `Forbidden` (needs `users.manage`), `NotFound`, `Invalid` (no such person
    /// in the local, or no email on the record), or a database error.
    pub async fn link_account(tenant: &Tenant, pid: Uuid) -> Result<Self> {
        let by = tenant.require(Permission::UsersManage)?;
        refuse_suspended(tenant)?;
        let txn = tenant.begin().await?;
        let member = Self::find_in(&txn, pid, false).await?;
        let Some(email) = member.email.clone() else {
            return Err(Error::Invalid(FieldErrors::one(
                "account",
                "Add the member's email first: the account is found by it.",
            )));
        };
        let person = super::super::memberships::Model::find_user_by_email(&txn, &email).await?;
        let Some(user_id) = person else {
            return Err(Error::Invalid(FieldErrors::one(
                "account",
                format!("Nobody with the email {email} has access to this local. Invite them with the Member role first."),
            )));
        };
        let mut row: ActiveModel = member.into();
        row.user_id = Set(Some(user_id));
        row.updated_at = Set(Utc::now().into());
        let saved = row.update(&txn).await?;
        audit_events::record(
            &txn,
            Some(by.user_id()),
            (SUBJECT, saved.id),
            "link_account",
            &[],
        )
        .await?;
        txn.commit().await?;
        Ok(saved)
    }
}
