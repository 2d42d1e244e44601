//! Bulk changes to members (tenant-owned): set a status, assign a worksite
//! or a bargaining unit for a selection or for everyone a filter matches.
//! Small ones apply at once; larger ones run as a job on the `bulk` queue,
//! in batches that commit with the position reached, so a re-run resumes.
//! Every changed member gets an audit line (and a status history line).
use chrono::Utc;
use loco_rs::model::TenantEntity;
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use super::_entities::member_bulk_changes::{self, ActiveModel, Column, Entity, Model};
use super::{
    _entities::{
        audit_events as audit_rows, member_status_changes as status_rows, members as member_rows,
    },
    audit_events::Change,
    members::{self, conditions, MemberFilter},
    structure::Directory,
    tenants::Tenant,
    Error, Result,
};
use crate::domain::{FieldErrors, Permission};
use crate::models::tenancy::LocalTxn;
use crate::workers::{member_bulk_change::ChangeMembers, outbox};

impl TenantEntity for Entity {
    type TenantId = i32;

    fn tenant_column() -> Column {
        Column::TenantId
    }
}

impl super::progress::ProgressRow for Entity {
    fn id_column() -> Column {
        Column::Id
    }
    fn state_column() -> Column {
        Column::State
    }
    fn error_column() -> Column {
        Column::Error
    }
}

/// Changes up to this many members at once, in the request; more run as a job.
pub const INLINE_LIMIT: usize = 200;
const BATCH: u64 = 500;

/// What changes (pids of the local's rows); `None` keeps the value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkChange {
    pub status: Option<Uuid>,
    pub worksite: Option<Uuid>,
    pub bargaining_unit: Option<Uuid>,
}

/// Who changes: chosen members, or everyone the filter matches.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Selection {
    Members(Vec<Uuid>),
    Filter(MemberFilter),
}

/// The change as the local's ids, checked.
struct Resolved {
    status_id: Option<i32>,
    /// The worksite and its employer.
    worksite: Option<(i32, i32)>,
    unit_id: Option<i32>,
}

fn resolve(directory: &Directory, change: &BulkChange) -> Result<Resolved> {
    let mut errors = FieldErrors::new();
    let status_id = change.status.and_then(|pid| {
        let found = directory
            .statuses
            .iter()
            .find(|s| s.pid == pid)
            .map(|s| s.id);
        if found.is_none() {
            errors.add("status", "Choose one of the local's statuses.");
        }
        found
    });
    let worksite = change.worksite.and_then(|pid| {
        let found = directory
            .worksites
            .iter()
            .find(|w| w.pid == pid)
            .map(|w| (w.id, w.employer_id));
        if found.is_none() {
            errors.add("worksite", "Choose one of the local's worksites.");
        }
        found
    });
    let unit_id = change.bargaining_unit.and_then(|pid| {
        let found = directory.units.iter().find(|u| u.pid == pid).map(|u| u.id);
        if found.is_none() {
            errors.add(
                "bargaining_unit",
                "Choose one of the local's bargaining units.",
            );
        }
        found
    });
    if errors.is_empty() && status_id.is_none() && worksite.is_none() && unit_id.is_none() {
        errors.add("status", "Choose a status, a worksite or a unit to set.");
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    Ok(Resolved {
        status_id,
        worksite,
        unit_id,
    })
}

impl Model {
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.state == "queued" || self.state == "running"
    }

    #[must_use]
    pub fn percent(&self) -> i32 {
        if self.total_rows <= 0 {
            100
        } else {
            (i64::from(self.processed_rows) * 100 / i64::from(self.total_rows)).min(100) as i32
        }
    }

    /// One of the local's bulk changes.
    ///
    /// # Errors
    /// `NotFound` (also another local's), `Forbidden`.
    pub async fn find(tenant: &Tenant, pid: Uuid) -> Result<Self> {
        tenant.require(Permission::MembersWrite)?;
        let txn = tenant.begin().await?;
        let found = super::find_in_local::<Entity>(&txn, Column::Pid, pid).await?;
        txn.commit().await?;
        Ok(found)
    }

    /// Records a bulk change; applies it at once when it is small. A larger
    /// one is left `queued` for [`run`], its job recorded in the same
    /// transaction (the outbox) and sent after it commits.
    ///
    /// # Errors
    /// `Forbidden`, `Suspended`, `Invalid` (nothing to change, unknown
    /// references, no members chosen), or a database error.
    pub async fn create(tenant: &Tenant, selection: Selection, change: BulkChange) -> Result<Self> {
        let by = tenant.require(Permission::MembersWrite)?;
        if tenant.model().is_suspended() {
            return Err(Error::Suspended(tenant.slug().to_string()));
        }
        let txn = tenant.begin().await?;
        let directory = Directory::load_in(&txn, tenant).await?;
        resolve(&directory, &change)?;
        let total = match &selection {
            Selection::Members(pids) if pids.is_empty() => {
                return Err(Error::Invalid(FieldErrors::one(
                    "member",
                    "Select at least one member, or change all that match.",
                )));
            }
            Selection::Members(pids) => pids.len().min(10_000),
            Selection::Filter(filter) => match conditions(&txn, tenant, filter).await? {
                None => 0,
                Some(cond) => usize::try_from(
                    txn.select::<member_rows::Entity>()
                        .filter(cond)
                        .count(&txn)
                        .await?,
                )
                .unwrap_or(usize::MAX),
            },
        };
        let now = Utc::now();
        let row = txn
            .insert(ActiveModel {
                pid: Set(Uuid::new_v4()),
                created_by_id: Set(Some(by.user_id())),
                selection: Set(serde_json::to_string(&selection).unwrap_or_default()),
                change: Set(serde_json::to_string(&change).unwrap_or_default()),
                state: Set("queued".into()),
                total_rows: Set(i32::try_from(total).unwrap_or(i32::MAX)),
                created_at: Set(now.into()),
                updated_at: Set(now.into()),
                ..Default::default()
            })
            .await?;
        if total <= INLINE_LIMIT {
            txn.commit().await?;
            run(tenant, row.id, Some(by.user_id())).await?;
            return Self::find(tenant, row.pid).await;
        }
        // Larger: its job is recorded with it, and sent once both commit.
        let job = ChangeMembers {
            local_id: tenant.id(),
            change_id: row.id,
            actor: Some(by.user_id()),
        };
        outbox::commit_with(txn.into_transaction(), &job).await?;
        Ok(row)
    }
}

/// Applies a queued bulk change in batches by member id (the job's body and
/// the inline path). Safe to run again: it resumes after the last batch.
///
/// # Errors
/// A database error, or the change no longer resolves (a worksite was removed).
pub async fn run(tenant: &Tenant, id: i32, actor: Option<i32>) -> Result<Model> {
    loop {
        let txn = tenant.begin().await?;
        let bulk = txn
            .select::<Entity>()
            .filter(Column::Id.eq(id))
            .one(&txn)
            .await?
            .ok_or(Error::NotFound)?;
        if !bulk.is_running() {
            txn.commit().await?;
            return Ok(bulk);
        }
        let directory = Directory::load_in(&txn, tenant).await?;
        let change: BulkChange = serde_json::from_str(&bulk.change).unwrap_or_default();
        let resolved = resolve(&directory, &change)?;
        let selection: Selection =
            serde_json::from_str(&bulk.selection).unwrap_or(Selection::Members(vec![]));
        let cond = match &selection {
            Selection::Members(pids) => Some(
                sea_orm::Condition::all()
                    .add(member_rows::Column::Pid.is_in(pids.clone()))
                    .add(member_rows::Column::ArchivedAt.is_null()),
            ),
            Selection::Filter(filter) => conditions(&txn, tenant, filter).await?,
        };
        let batch = match cond {
            None => vec![],
            Some(cond) => {
                txn.select::<member_rows::Entity>()
                    .filter(cond)
                    .filter(member_rows::Column::Id.gt(bulk.last_member_id))
                    .order_by_asc(member_rows::Column::Id)
                    .limit(BATCH)
                    .all(&txn)
                    .await?
            }
        };
        let mut row: ActiveModel = bulk.clone().into();
        row.state = Set("running".into());
        row.error = Set(None);
        row.updated_at = Set(Utc::now().into());
        if batch.is_empty() {
            row.state = Set("done".into());
            row.finished_at = Set(Some(Utc::now().into()));
            let done = row.update(&txn).await?;
            txn.commit().await?;
            return Ok(done);
        }
        let changed = apply(&txn, tenant, &directory, &resolved, &batch, actor).await?;
        row.processed_rows = Set(bulk.processed_rows + i32::try_from(batch.len()).unwrap_or(0));
        row.changed_count = Set(bulk.changed_count + changed);
        row.last_member_id = Set(batch.last().map_or(bulk.last_member_id, |m| m.id));
        row.update(&txn).await?;
        txn.commit().await?;
    }
}

/// One batch: an UPDATE per changed column, status history and audit lines
/// in bulk. Returns how many members actually changed.
async fn apply(
    txn: &LocalTxn,
    tenant: &Tenant,
    directory: &Directory,
    change: &Resolved,
    batch: &[member_rows::Model],
    actor: Option<i32>,
) -> Result<i32> {
    let now = Utc::now();
    let mut audit = vec![];
    let mut statuses = vec![];
    let mut touched = vec![];
    for m in batch {
        let mut changes = vec![];
        let mut field = |name: &str, kind: &str, old: Option<i32>, new: Option<i32>| {
            if new.is_some() && new != old {
                changes.extend(Change::of(
                    name,
                    directory_name(directory, kind, old).as_deref(),
                    directory_name(directory, kind, new).as_deref(),
                ));
            }
        };
        field("status", "status", Some(m.status_id), change.status_id);
        if let Some((site, employer)) = change.worksite {
            field("employer", "employer", m.employer_id, Some(employer));
            field("worksite", "worksite", m.worksite_id, Some(site));
        }
        field(
            "bargaining_unit",
            "bargaining_unit",
            m.bargaining_unit_id,
            change.unit_id,
        );
        if changes.is_empty() {
            continue;
        }
        if let Some(to) = change.status_id.filter(|s| *s != m.status_id) {
            statuses.push(status_rows::ActiveModel {
                tenant_id: Set(tenant.id()),
                member_id: Set(m.id),
                from_status_id: Set(Some(m.status_id)),
                to_status_id: Set(to),
                changed_by_id: Set(actor),
                changed_on: Set(now.date_naive()),
                created_at: Set(now.into()),
                ..Default::default()
            });
        }
        audit.push(audit_rows::ActiveModel {
            tenant_id: Set(tenant.id()),
            actor_id: Set(actor),
            subject_type: Set(members::SUBJECT.into()),
            subject_id: Set(m.id),
            action: Set("bulk_update".into()),
            changes: Set(serde_json::to_string(&changes).unwrap_or_default()),
            created_at: Set(now.into()),
            ..Default::default()
        });
        touched.push(m.id);
    }
    if touched.is_empty() {
        return Ok(0);
    }
    let mut update = txn
        .update::<member_rows::Entity>()
        .col_expr(
            member_rows::Column::UpdatedAt,
            Expr::value(chrono::DateTime::<chrono::FixedOffset>::from(now)),
        )
        .filter(member_rows::Column::Id.is_in(touched.clone()));
    if let Some(status) = change.status_id {
        update = update.col_expr(member_rows::Column::StatusId, Expr::value(status));
    }
    if let Some((site, employer)) = change.worksite {
        update = update
            .col_expr(member_rows::Column::EmployerId, Expr::value(employer))
            .col_expr(member_rows::Column::WorksiteId, Expr::value(site));
    }
    if let Some(unit) = change.unit_id {
        update = update.col_expr(member_rows::Column::BargainingUnitId, Expr::value(unit));
    }
    update.exec(txn).await?;
    if !statuses.is_empty() {
        status_rows::Entity::insert_many(statuses)
            .exec_without_returning(txn)
            .await?;
    }
    audit_rows::Entity::insert_many(audit)
        .exec_without_returning(txn)
        .await?;
    Ok(i32::try_from(touched.len()).unwrap_or(i32::MAX))
}

fn directory_name(directory: &Directory, kind: &str, id: Option<i32>) -> Option<String> {
    directory.name_of(kind, id)
}
