//! The shared audit log (tenant-owned): who changed which fields of which
//! record, when, with old and new values. Every module records through
//! [`record`] inside the transaction that makes the change.
use chrono::Utc;
use loco_rs::model::TenantEntity;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};

pub use super::_entities::audit_events::{self, ActiveModel, Column, Entity, Model};
use super::{_entities::users, tenancy::LocalTxn, tenants::Tenant, Result, Window};

impl TenantEntity for Entity {
    type TenantId = i32;

    fn tenant_column() -> Column {
        Column::TenantId
    }
}

/// One field's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl Change {
    /// A change when the values differ.
    pub fn of(field: &str, old: Option<&str>, new: Option<&str>) -> Option<Self> {
        (old != new).then(|| Self {
            field: field.to_string(),
            old: old.map(str::to_string),
            new: new.map(str::to_string),
        })
    }
}

/// An event with the name of who made it.
#[derive(Debug, Clone)]
pub struct Event {
    pub event: Model,
    pub actor: Option<String>,
    pub changes: Vec<Change>,
}

/// Records an event (inside the caller's transaction).
///
/// # Errors
/// A database error.
pub async fn record(
    txn: &LocalTxn,
    actor: Option<i32>,
    subject: (&str, i32),
    action: &str,
    changes: &[Change],
) -> Result<()> {
    txn.insert(ActiveModel {
        actor_id: Set(actor),
        subject_type: Set(subject.0.to_string()),
        subject_id: Set(subject.1),
        action: Set(action.to_string()),
        changes: Set(serde_json::to_string(changes).unwrap_or_else(|_| "[]".into())),
        created_at: Set(Utc::now().into()),
        ..Default::default()
    })
    .await?;
    Ok(())
}

/// [`record`] of what `by` did, from (field, old, new) triples; fields
/// whose value did not change are left out.
///
/// # Errors
/// A database error.
pub async fn record_by(
    txn: &LocalTxn,
    tenant: &Tenant,
    subject: (&str, i32),
    action: &str,
    changes: &[(&str, Option<&str>, Option<&str>)],
) -> Result<()> {
    let by = tenant.access()?;
    let changes: Vec<Change> = changes
        .iter()
        .filter_map(|(field, old, new)| Change::of(field, *old, *new))
        .collect();
    record(txn, Some(by.user_id()), subject, action, &changes).await
}

async fn with_actors<C: ConnectionTrait>(conn: &C, rows: Vec<Model>) -> Result<Vec<Event>> {
    let ids: Vec<i32> = rows.iter().filter_map(|r| r.actor_id).collect();
    let names: std::collections::HashMap<i32, String> = if ids.is_empty() {
        std::collections::HashMap::new()
    } else {
        users::Entity::find()
            .filter(users::Column::Id.is_in(ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|event| Event {
            actor: event.actor_id.and_then(|id| names.get(&id).cloned()),
            changes: serde_json::from_str(&event.changes).unwrap_or_default(),
            event,
        })
        .collect())
}

/// An event that is not a row of its own but follows from one elsewhere
/// (a member added by an import shows that import's line), shaped like the
/// rows it is listed with; its id is 0.
///
/// # Errors
/// A database error.
pub async fn derived(
    txn: &LocalTxn,
    subject: (&str, i32),
    (actor_id, action): (Option<i32>, &str),
    changes: Vec<Change>,
    created_at: sea_orm::prelude::DateTimeWithTimeZone,
) -> Result<Event> {
    let event = Model {
        id: 0,
        tenant_id: txn.local_id(),
        actor_id,
        subject_type: subject.0.to_string(),
        subject_id: subject.1,
        action: action.to_string(),
        changes: serde_json::to_string(&changes).unwrap_or_else(|_| "[]".into()),
        created_at,
    };
    // One row in, one event out.
    with_actors(txn, vec![event])
        .await?
        .pop()
        .ok_or(super::Error::NotFound)
}

/// The events of one record, newest first.
///
/// # Errors
/// A database error.
pub async fn for_subject(tenant: &Tenant, subject: (&str, i32), limit: u64) -> Result<Vec<Event>> {
    let txn = tenant.begin().await?;
    let events = for_subject_in(&txn, subject, limit).await?;
    txn.commit().await?;
    Ok(events)
}

/// [`for_subject`] inside the caller's transaction.
///
/// # Errors
/// A database error.
pub async fn for_subject_in(
    txn: &LocalTxn,
    subject: (&str, i32),
    limit: u64,
) -> Result<Vec<Event>> {
    let rows = txn
        .select::<Entity>()
        .filter(Column::SubjectType.eq(subject.0))
        .filter(Column::SubjectId.eq(subject.1))
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(txn)
        .await?;
    with_actors(txn, rows).await
}

/// The local's events, newest first, a window at a time.
///
/// # Errors
/// A database error.
pub async fn list(tenant: &Tenant, window: Window) -> Result<Vec<Event>> {
    let txn = tenant.begin().await?;
    let rows = window
        .apply(txn.select::<Entity>(), Column::Id)
        .all(&txn)
        .await?;
    let events = with_actors(&txn, rows).await?;
    txn.commit().await?;
    Ok(events)
}

/// The local's events a window at a time, for a reader of the audit log
/// (the API's pages), optionally of one kind of subject only.
///
/// # Errors
/// `Forbidden` (`audit.read`) or a database error.
pub async fn window(
    tenant: &Tenant,
    window: Window,
    subject_type: Option<&str>,
) -> Result<Vec<Event>> {
    tenant.require(crate::domain::Permission::AuditRead)?;
    let txn = tenant.begin().await?;
    let mut query = txn.select::<Entity>();
    if let Some(kind) = subject_type {
        query = query.filter(Column::SubjectType.eq(kind));
    }
    let rows = window.apply(query, Column::Id).all(&txn).await?;
    let events = with_actors(&txn, rows).await?;
    txn.commit().await?;
    Ok(events)
}
