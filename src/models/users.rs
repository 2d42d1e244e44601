//! People. Global: a person may hold roles in several locals.
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use uuid::Uuid;

pub use super::_entities::users::{self, ActiveModel, Entity, Model};
use super::{login_attempts, on_conflict, sessions, Error, Result};
use crate::{
    domain::{Email, FieldErrors, Password, PersonName},
    workers::{mail::AccountMail, outbox},
};

/// A person signing up (with a new local, or by accepting an invitation).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: PersonName,
    pub email: Email,
    pub password: Password,
    /// Set when the address is already proven (the invitation reached it).
    pub email_verified: bool,
}

/// argon2id with OWASP's parameters: m = 19 MiB, t = 2, p = 1.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

async fn hash_password(password: &Password) -> Result<String> {
    let password = password.expose().to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Loco(loco_rs::Error::string(&e.to_string())))
    })
    .await
    .map_err(|e| Error::Loco(loco_rs::Error::string(&e.to_string())))?
}

async fn verify_password(hash: String, candidate: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                hasher()
                    .verify_password(candidate.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of no one's password, verified when the email is unknown so that a
/// wrong email and a wrong password take the same time.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9bUGDbBEpO4o2Pw2cuxlBuf1IYtrsMHXO5b3eQkxeZs";

impl Model {
    /// # Errors
    /// `Invalid` when the email is taken, or a database error.
    pub async fn create<C: ConnectionTrait>(db: &C, new_user: NewUser) -> Result<Self> {
        let now = Utc::now().into();
        ActiveModel {
            pid: Set(Uuid::new_v4()),
            email: Set(new_user.email.as_str().to_string()),
            name: Set(new_user.name.into_string()),
            password_hash: Set(hash_password(&new_user.password).await?),
            email_verified_at: Set(new_user.email_verified.then_some(now)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .map_err(|e| {
            on_conflict(
                e,
                &[(
                    "email",
                    "email",
                    "An account with this email exists already: sign in first.",
                )],
            )
        })
    }

    /// # Errors
    /// `NotFound` or a database error.
    pub async fn find_by_id<C: ConnectionTrait>(db: &C, id: i32) -> Result<Self> {
        Entity::find_by_id(id).one(db).await?.ok_or(Error::NotFound)
    }

    /// # Errors
    /// `NotFound` or a database error.
    pub async fn find_by_email<C: ConnectionTrait>(db: &C, email: &Email) -> Result<Self> {
        Entity::find()
            .filter(users::Column::Email.eq(email.as_str()))
            .one(db)
            .await?
            .ok_or(Error::NotFound)
    }

    #[must_use]
    pub fn is_email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    /// Checks an email and password, slowly enough and with throttling per
    /// email and per client address so that guessing does not pay.
    ///
    /// # Errors
    /// `Throttled`, `Invalid` (one message for a wrong email or password,
    /// so the form does not reveal who has an account), or a database error.
    pub async fn authenticate(
        db: &DatabaseConnection,
        raw_email: &str,
        raw_password: &str,
        client: &str,
    ) -> Result<Self> {
        let email_key = raw_email.trim().to_lowercase();
        login_attempts::ensure_allowed(db, &email_key, client).await?;
        let user = match Email::parse(raw_email) {
            Ok(email) => Self::find_by_email(db, &email).await.ok(),
            Err(_) => None,
        };
        let hash = user
            .as_ref()
            .map_or(DECOY_HASH.to_string(), |u| u.password_hash.clone());
        let matches = verify_password(hash, raw_password.to_string()).await && user.is_some();
        login_attempts::record(db, &email_key, client, matches).await?;
        match user {
            Some(user) if matches => Ok(user),
            _ => Err(Error::Invalid(FieldErrors::one(
                "email",
                "The email or password is wrong.",
            ))),
        }
    }

    /// Sets a new password and ends every session of this person, so a
    /// stolen session dies with the old password.
    ///
    /// # Errors
    /// A database error.
    pub async fn set_password(self, db: &DatabaseConnection, password: &Password) -> Result<Self> {
        let hash = hash_password(password).await?;
        let mut row: ActiveModel = self.into();
        row.password_hash = Set(hash);
        row.updated_at = Set(Utc::now().into());
        let user = row.update(db).await?;
        sessions::end_all_for_user(db, user.id).await?;
        Ok(user)
    }

    /// Checks the current password before a change of password.
    pub async fn has_password(&self, candidate: &str) -> bool {
        verify_password(self.password_hash.clone(), candidate.to_string()).await
    }

    /// Mails a new confirmation link, unless the address is confirmed
    /// already: the mail is recorded in the outbox and sent after commit.
    /// Returns whether a mail was recorded.
    ///
    /// # Errors
    /// A database error.
    pub async fn request_email_verification(&self, db: &DatabaseConnection) -> Result<bool> {
        if self.is_email_verified() {
            return Ok(false);
        }
        let mail = AccountMail::EmailVerification { user_id: self.id };
        outbox::record(db, &mail).await?;
        Ok(true)
    }

    /// Mails a password-reset link to whoever has this address, and does
    /// nothing (the same way, as far as the caller can tell) when nobody
    /// has it, so the form never reveals who has an account.
    ///
    /// # Errors
    /// A database error.
    pub async fn request_password_reset(db: &DatabaseConnection, email: &Email) -> Result<()> {
        match Self::find_by_email(db, email).await {
            Ok(user) => {
                let mail = AccountMail::PasswordReset { user_id: user.id };
                Ok(outbox::record(db, &mail).await?)
            }
            Err(Error::NotFound) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// # Errors
    /// A database error.
    pub async fn mark_email_verified<C: ConnectionTrait>(self, db: &C) -> Result<Self> {
        if self.is_email_verified() {
            return Ok(self);
        }
        let mut row: ActiveModel = self.into();
        row.email_verified_at = Set(Some(Utc::now().into()));
        row.updated_at = Set(Utc::now().into());
        Ok(row.update(db).await?)
    }
}

impl sea_orm::ActiveModelBehavior for ActiveModel {}
