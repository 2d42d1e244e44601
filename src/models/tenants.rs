//! Union locals: registering one, its settings, suspending it. The
//! capability through which a local's data is reached, [`Tenant`], is in
//! [`super::tenancy`] (re-exported here).
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
};
use uuid::Uuid;

pub use super::_entities::tenants::{self, ActiveModel, Column, Entity, Model};
pub use super::tenancy::{LocalTxn, Tenant};
use super::{memberships::Access, on_conflict, roles, users, Error, Result};
use crate::{
    domain::{permission::ADMIN_ROLE, FieldErrors, LocalName, Permission, PermissionSet, Slug},
    workers::{mail::AccountMail, outbox},
};

pub const ACTIVE: &str = "active";
pub const SUSPENDED: &str = "suspended";

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
        let txn = super::platform::into_new_local(txn, row.id).await?;
        let created = roles::create_defaults(&txn).await?;
        super::membership_statuses::ensure_defaults(&txn).await?;
        let admin = created
            .iter()
            .find(|r| r.name == ADMIN_ROLE)
            .ok_or(Error::NotFound)?;
        let user = match founder {
            Founder::Existing(user) => user,
            Founder::New(new_user) => users::Model::create(&txn, new_user).await?,
        };
        let membership = super::memberships::insert(&txn, user.id, admin.id).await?;
        if user.is_email_verified() {
            txn.commit().await?;
        } else {
            let mail = AccountMail::EmailVerification { user_id: user.id };
            outbox::commit_with(txn.into_transaction(), &mail).await?;
        }
        Ok((
            Self::from_trusted(row, db, Access::new(&membership, admin)),
            user,
        ))
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
