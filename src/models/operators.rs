//! Platform operators: people flagged on `users` who belong to no local.
//! They see locals and their counts, never a local's own rows, and every
//! action they take is kept in `operator_actions`.
use chrono::Utc;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

pub use super::_entities::operator_actions::{self, ActiveModel, Entity, Model};
use super::{
    _entities::tenants as tenant_rows,
    tenants::{self, Founder, NewLocal, Tenant},
    user_tokens::{self, Purpose},
    users::{self, NewUser},
    work_items, Error, Result, Window,
};
use crate::{
    domain::{Email, FieldErrors, Password, PersonName, SecretToken},
    workers::{
        backend::{JobSet, JobView},
        probe::Probe,
        Jobs, Options, Queue,
    },
};

/// A signed-in platform operator: only built from a user with the flag.
#[derive(Debug, Clone)]
pub struct Operator {
    user: users::Model,
}

/// What an operator did, as kept in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SuspendLocal,
    ReactivateLocal,
    CreateLocal,
    CreateOperator,
    RetryJob,
    DiscardJob,
    SendProbe,
}

impl Action {
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::SuspendLocal => "suspend_local",
            Self::ReactivateLocal => "reactivate_local",
            Self::CreateLocal => "create_local",
            Self::CreateOperator => "create_operator",
            Self::RetryJob => "retry_job",
            Self::DiscardJob => "discard_job",
            Self::SendProbe => "send_probe",
        }
    }
}

/// One line of the audit log with the names it refers to.
#[derive(Debug, Clone)]
pub struct Entry {
    pub action: Model,
    pub operator: Option<String>,
    pub local: Option<String>,
}

/// A reason an operator gives for an action: required, bounded.
///
/// # Errors
/// The message for the form.
pub fn parse_reason(raw: &str) -> Result<String, FieldErrors> {
    let reason = raw.trim();
    if reason.is_empty() {
        return Err(FieldErrors::one(
            "reason",
            "Give a reason: it is kept in the audit log.",
        ));
    }
    if reason.chars().count() > 500 || reason.chars().any(|c| c.is_control() && !c.is_whitespace())
    {
        return Err(FieldErrors::one(
            "reason",
            "Use at most 500 characters, without control characters.",
        ));
    }
    Ok(reason.to_string())
}

async fn record<C: sea_orm::ConnectionTrait>(
    db: &C,
    operator: Option<i32>,
    tenant: Option<i32>,
    action: Action,
    reason: &str,
) -> Result<()> {
    ActiveModel {
        operator_id: Set(operator),
        local_id: Set(tenant),
        action: Set(action.key().to_string()),
        reason: Set(reason.to_string()),
        created_at: Set(Utc::now().into()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

fn queue_error(err: String) -> Error {
    Error::Loco(loco_rs::Error::string(&format!(
        "the job queue is unreachable: {err}"
    )))
}

impl Operator {
    /// # Errors
    /// `NotFound` for anyone who is not an operator (the console does not exist for them).
    pub fn check(user: users::Model) -> Result<Self> {
        if user.operator_since.is_some() {
            Ok(Self { user })
        } else {
            Err(Error::NotFound)
        }
    }

    #[must_use]
    pub fn user(&self) -> &users::Model {
        &self.user
    }

    /// Locals whose name or slug contains `query`, with their counts.
    ///
    /// # Errors
    /// A database error.
    pub async fn locals(
        &self,
        db: &DatabaseConnection,
        query: &str,
        window: Window,
    ) -> Result<Vec<tenant_rows::Model>> {
        let mut find = tenant_rows::Entity::find();
        let query = query.trim().to_lowercase();
        if !query.is_empty() {
            let like = format!(
                "%{}%",
                query
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            find = find.filter(
                Condition::any()
                    .add(
                        sea_orm::sea_query::Expr::expr(sea_orm::sea_query::Func::lower(
                            sea_orm::sea_query::Expr::col(tenant_rows::Column::Name),
                        ))
                        .like(like.clone()),
                    )
                    .add(tenant_rows::Column::Slug.like(like)),
            );
        }
        Ok(window.apply(find, tenant_rows::Column::Id).all(db).await?)
    }

    /// # Errors
    /// `NotFound` or a database error.
    pub async fn local(&self, db: &DatabaseConnection, slug: &str) -> Result<tenant_rows::Model> {
        tenants::Model::find_by_slug(db, slug).await
    }

    /// Suspends a local, with the reason in the audit log.
    ///
    /// # Errors
    /// `NotFound`, `Invalid` (already suspended), or a database error.
    pub async fn suspend(
        &self,
        db: &DatabaseConnection,
        slug: &str,
        reason: &str,
    ) -> Result<tenant_rows::Model> {
        self.set_status(db, slug, reason, Action::SuspendLocal)
            .await
    }

    /// # Errors
    /// `NotFound`, `Invalid` (not suspended), or a database error.
    pub async fn reactivate(
        &self,
        db: &DatabaseConnection,
        slug: &str,
        reason: &str,
    ) -> Result<tenant_rows::Model> {
        self.set_status(db, slug, reason, Action::ReactivateLocal)
            .await
    }

    async fn set_status(
        &self,
        db: &DatabaseConnection,
        slug: &str,
        reason: &str,
        action: Action,
    ) -> Result<tenant_rows::Model> {
        let local = tenants::Model::find_by_slug(db, slug).await?;
        let suspend = action == Action::SuspendLocal;
        if local.is_suspended() == suspend {
            let state = if suspend { "suspended" } else { "active" };
            return Err(Error::Conflict(FieldErrors::one(
                "reason",
                format!("The local is already {state}."),
            )));
        }
        let txn = db.begin().await?;
        let mut row: tenant_rows::ActiveModel = local.into();
        row.status = Set(if suspend {
            tenants::SUSPENDED
        } else {
            tenants::ACTIVE
        }
        .to_string());
        row.status_reason = Set(suspend.then(|| reason.to_string()));
        row.updated_at = Set(Utc::now().into());
        let local = row.update(&txn).await?;
        record(&txn, Some(self.user.id), Some(local.id), action, reason).await?;
        txn.commit().await?;
        Ok(local)
    }

    /// Puts a retrying, scheduled or dead job on its queue now (audited).
    /// `NotFound` when it is no longer in that set (it ran, or another
    /// operator acted first).
    ///
    /// # Errors
    /// `NotFound`, the queue or the database refused.
    pub async fn run_job_now(
        &self,
        jobs: &Jobs,
        db: &DatabaseConnection,
        set: JobSet,
        jid: &str,
    ) -> Result<JobView> {
        let job = jobs
            .backend()
            .run_now(set, jid)
            .await
            .map_err(queue_error)?
            .ok_or(Error::NotFound)?;
        self.record_job(db, Action::RetryJob, &job, set).await?;
        Ok(job)
    }

    async fn record_job(
        &self,
        db: &DatabaseConnection,
        action: Action,
        job: &JobView,
        set: JobSet,
    ) -> Result<()> {
        let local = job.local_id.and_then(|l| i32::try_from(l).ok());
        let what = format!("{} {} from {}", job.class, job.jid, set.slug());
        record(db, Some(self.user.id), local, action, &what).await
    }

    /// Removes a job from a set for good (audited); durable work it carried
    /// is marked discarded, so the sweeper does not send it again.
    ///
    /// # Errors
    /// `NotFound`, the queue or the database refused.
    pub async fn discard_job(
        &self,
        jobs: &Jobs,
        db: &DatabaseConnection,
        set: JobSet,
        jid: &str,
    ) -> Result<JobView> {
        let job = jobs
            .backend()
            .take(set, jid)
            .await
            .map_err(queue_error)?
            .ok_or(Error::NotFound)?;
        if let Some(item) = job.work_item.and_then(|i| i32::try_from(i).ok()) {
            work_items::discard(db, item).await?;
        }
        self.record_job(db, Action::DiscardJob, &job, set).await?;
        Ok(job)
    }

    /// Sends a diagnostic probe job through `queue` (audited).
    ///
    /// # Errors
    /// The queue or the database refused.
    pub async fn send_probe(
        &self,
        jobs: &Jobs,
        db: &DatabaseConnection,
        queue: Queue,
    ) -> Result<String> {
        let probe = Probe {
            label: format!("sent by {} on {}", self.user.email, queue.name()),
            ..Probe::default()
        };
        let jid = jobs
            .enqueue_with(
                probe,
                Options {
                    queue: Some(queue),
                    ..Options::default()
                },
            )
            .await
            .map_err(|e| Error::Loco(loco_rs::Error::string(&e.to_string())))?;
        record(
            db,
            Some(self.user.id),
            None,
            Action::SendProbe,
            &format!("probe {jid} on {}", queue.name()),
        )
        .await?;
        Ok(jid)
    }

    /// Slugs of the given locals (to label jobs by local).
    ///
    /// # Errors
    /// A database error.
    pub async fn local_slugs(
        &self,
        db: &DatabaseConnection,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, String>> {
        if ids.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        let ids: Vec<i32> = ids.iter().filter_map(|i| i32::try_from(*i).ok()).collect();
        Ok(tenant_rows::Entity::find()
            .filter(tenant_rows::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|t| (i64::from(t.id), t.slug))
            .collect())
    }

    /// The audit log, newest first; of one local when `tenant_id` is given.
    ///
    /// # Errors
    /// A database error.
    pub async fn audit(
        &self,
        db: &DatabaseConnection,
        tenant_id: Option<i32>,
        limit: u64,
    ) -> Result<Vec<Entry>> {
        let mut find = Entity::find()
            .order_by_desc(operator_actions::Column::Id)
            .limit(limit);
        if let Some(id) = tenant_id {
            find = find.filter(operator_actions::Column::LocalId.eq(id));
        }
        let rows = find.all(db).await?;
        let mut entries = Vec::with_capacity(rows.len());
        for action in rows {
            let operator = match action.operator_id {
                Some(id) => users::Entity::find_by_id(id).one(db).await?.map(|u| u.name),
                None => Some("command line".to_string()),
            };
            let local = match action.local_id {
                Some(id) => tenant_rows::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .map(|t| t.name),
                None => None,
            };
            entries.push(Entry {
                action,
                operator,
                local,
            });
        }
        Ok(entries)
    }
}

/// A password nobody knows, for accounts whose owner sets one by link.
fn unusable_password() -> Password {
    Password::parse(&SecretToken::generate().as_str()[..64])
        .expect("a 64-character password is valid")
}

/// Flags a person as a platform operator (creating the account if needed)
/// and returns a link secret to set their password. Command line only.
///
/// # Errors
/// A database error.
pub async fn create_operator(
    db: &DatabaseConnection,
    email: Email,
    name: PersonName,
) -> Result<(users::Model, SecretToken)> {
    let user = match users::Model::find_by_email(db, &email).await {
        Ok(user) => user,
        Err(Error::NotFound) => {
            users::Model::create(
                db,
                NewUser {
                    name,
                    email,
                    password: unusable_password(),
                    email_verified: true,
                },
            )
            .await?
        }
        Err(err) => return Err(err),
    };
    let mut row: users::ActiveModel = user.into();
    row.operator_since = Set(Some(Utc::now().into()));
    let user = row.update(db).await?;
    record(
        db,
        None,
        None,
        Action::CreateOperator,
        &format!("operator {}", user.email),
    )
    .await?;
    let token = user_tokens::issue(db, &user, Purpose::AccountSetup).await?;
    Ok((user, token))
}

/// What provisioning a local from the command line made.
pub struct Provisioned {
    pub tenant: Tenant,
    pub admin: users::Model,
    /// Set when the admin's account was created now and needs a password.
    pub setup: Option<SecretToken>,
}

/// Creates a local, its default roles and its admin (a new account, or an
/// existing person's, e.g. an International's staff serving many locals).
///
/// # Errors
/// `Conflict` when the slug is taken (nothing is created), or a database error.
pub async fn provision_local(
    db: &DatabaseConnection,
    local: NewLocal,
    admin_email: Email,
) -> Result<Provisioned> {
    let existing = users::Model::find_by_email(db, &admin_email).await.ok();
    let is_new = existing.is_none();
    let founder = match existing {
        Some(user) => Founder::Existing(user),
        None => Founder::New(NewUser {
            name: PersonName::parse(admin_email.as_str().split('@').next().unwrap_or("Admin"))
                .unwrap_or_else(|_| PersonName::parse("Admin").expect("valid")),
            email: admin_email,
            password: unusable_password(),
            email_verified: true,
        }),
    };
    let (tenant, admin) = Tenant::register(db, local, founder).await?;
    record(
        db,
        None,
        Some(tenant.id()),
        Action::CreateLocal,
        &format!("admin {}", admin.email),
    )
    .await?;
    let setup = if is_new {
        Some(user_tokens::issue(db, &admin, Purpose::AccountSetup).await?)
    } else {
        None
    };
    Ok(Provisioned {
        tenant,
        admin,
        setup,
    })
}

impl sea_orm::ActiveModelBehavior for ActiveModel {}
