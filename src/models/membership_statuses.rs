//! Per-local membership statuses (tenant-owned): a name, whether it counts
//! as in good standing, and an order. Every local starts with the defaults.
use chrono::Utc;
use loco_rs::model::TenantEntity;
use sea_orm::{sea_query::OnConflict, ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder};
use uuid::Uuid;

pub use super::_entities::membership_statuses::{self, ActiveModel, Column, Entity, Model};
use super::{
    audit_events::record_by,
    on_conflict,
    structure::{self, Part, PartEntity},
    tenancy::LocalTxn,
    tenants::Tenant,
    Result,
};
use crate::domain::{Permission, UnitName};

/// The audit log's subject type.
pub const SUBJECT: &str = "membership_status";

fn yes_no(good: bool) -> &'static str {
    if good {
        "yes"
    } else {
        "no"
    }
}

impl TenantEntity for Entity {
    type TenantId = i32;

    fn tenant_column() -> Column {
        Column::TenantId
    }
}

impl PartEntity for Entity {
    const PART: Part = Part::Status;

    fn id_column() -> Column {
        Column::Id
    }

    fn pid_column() -> Column {
        Column::Pid
    }

    fn name_column() -> Column {
        Column::Name
    }

    fn id_of(row: &Model) -> i32 {
        row.id
    }

    fn pid_of(row: &Model) -> Uuid {
        row.pid
    }

    fn name_of(row: &Model) -> &str {
        &row.name
    }
}

/// Every new local's statuses: (name, counts as in good standing), in order.
pub const DEFAULTS: [(&str, bool); 6] = [
    ("Active", true),
    ("Probationary", true),
    ("Suspended", false),
    ("Lapsed", false),
    ("Retired", false),
    ("Resigned", false),
];

/// Creates the default statuses the local lacks (idempotent).
///
/// # Errors
/// A database error.
pub async fn ensure_defaults(txn: &LocalTxn) -> Result<()> {
    let now = Utc::now();
    for (position, (name, good)) in DEFAULTS.iter().enumerate() {
        let row = txn.stamp(ActiveModel {
            pid: Set(Uuid::new_v4()),
            name: Set((*name).to_string()),
            in_good_standing: Set(*good),
            position: Set(i32::try_from(position).unwrap_or(0)),
            created_at: Set(now.into()),
            updated_at: Set(now.into()),
            ..Default::default()
        })?;
        Entity::insert(row)
            .on_conflict(
                OnConflict::columns([Column::TenantId, Column::Name])
                    .do_nothing()
                    .to_owned(),
            )
            .try_insert()
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// The local's statuses in their order (creating the defaults if it has none).
///
/// # Errors
/// A database error.
pub async fn list(txn: &LocalTxn) -> Result<Vec<Model>> {
    let find = || {
        txn.select::<Entity>()
            .order_by_asc(Column::Position)
            .order_by_asc(Column::Id)
    };
    let statuses = find().all(txn).await?;
    if !statuses.is_empty() {
        return Ok(statuses);
    }
    ensure_defaults(txn).await?;
    Ok(find().all(txn).await?)
}

/// # Errors
/// `NotFound` (also for another local's status) or a database error.
pub async fn find_by_pid(txn: &LocalTxn, pid: Uuid) -> Result<Model> {
    structure::find::<Entity>(txn, pid).await
}

/// Adds a status at the end of the order.
///
/// # Errors
/// `Forbidden`, `Suspended`, `Conflict` when the name is taken, or a
/// database error.
pub async fn create(tenant: &Tenant, name: &UnitName, in_good_standing: bool) -> Result<Model> {
    tenant.require_change(Permission::StructureManage)?;
    let txn = tenant.begin().await?;
    let last = list(&txn).await?.last().map_or(0, |s| s.position + 1);
    let now = Utc::now();
    let status = txn
        .insert(ActiveModel {
            pid: Set(Uuid::new_v4()),
            name: Set(name.as_str().to_string()),
            in_good_standing: Set(in_good_standing),
            position: Set(last),
            created_at: Set(now.into()),
            updated_at: Set(now.into()),
            ..Default::default()
        })
        .await
        .map_err(|e| on_conflict(e, &[("name", "name", NAME_TAKEN)]))?;
    record_by(
        &txn,
        tenant,
        (SUBJECT, status.id),
        "create",
        &[
            ("name", None, Some(&status.name)),
            (
                "in_good_standing",
                None,
                Some(yes_no(status.in_good_standing)),
            ),
        ],
    )
    .await?;
    txn.commit().await?;
    Ok(status)
}

const NAME_TAKEN: &str = "The local has a status with this name already.";

/// Renames a status and says whether it counts as in good standing.
///
/// # Errors
/// `Forbidden`, `Suspended`, `NotFound` (also another local's), `Conflict`,
/// or a database error.
pub async fn update(
    tenant: &Tenant,
    pid: Uuid,
    name: &UnitName,
    in_good_standing: bool,
) -> Result<Model> {
    tenant.require_change(Permission::StructureManage)?;
    let txn = tenant.begin().await?;
    let old = find_by_pid(&txn, pid).await?;
    let (was, was_good) = (old.name.clone(), old.in_good_standing);
    let mut row: ActiveModel = old.into();
    row.name = Set(name.as_str().to_string());
    row.in_good_standing = Set(in_good_standing);
    row.updated_at = Set(Utc::now().into());
    let saved = row
        .update(&txn)
        .await
        .map_err(|e| on_conflict(e, &[("name", "name", NAME_TAKEN)]))?;
    record_by(
        &txn,
        tenant,
        (SUBJECT, saved.id),
        "update",
        &[
            ("name", Some(&was), Some(&saved.name)),
            (
                "in_good_standing",
                Some(yes_no(was_good)),
                Some(yes_no(saved.in_good_standing)),
            ),
        ],
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Moves a status one place earlier (`up`) or later in the order; the
/// first status is the one new members get.
///
/// # Errors
/// `Forbidden`, `Suspended`, `NotFound` (also another local's), or a
/// database error.
pub async fn move_by(tenant: &Tenant, pid: Uuid, up: bool) -> Result<Model> {
    reorder(tenant, pid, |at, len| {
        if up {
            at.saturating_sub(1)
        } else {
            (at + 1).min(len - 1)
        }
    })
    .await
}

/// Puts a status at `position` (1 is first; past the end is last) in the
/// order, the others keeping theirs relative to each other.
///
/// # Errors
/// `Forbidden`, `Suspended`, `Invalid` for position 0, `NotFound` (also
/// another local's), or a database error.
pub async fn move_to(tenant: &Tenant, pid: Uuid, position: u32) -> Result<Model> {
    if position == 0 {
        return Err(super::Error::Invalid(crate::domain::FieldErrors::one(
            "position",
            "The position is a whole number from 1 (first).",
        )));
    }
    let place = usize::try_from(position).unwrap_or(usize::MAX);
    reorder(tenant, pid, move |_, len| (place - 1).min(len - 1)).await
}

/// Moves the status `pid` to the place `to(at, len)` and rewrites the
/// positions densely (older gaps or ties disappear), with an audit line
/// when it moved.
async fn reorder(
    tenant: &Tenant,
    pid: Uuid,
    to: impl FnOnce(usize, usize) -> usize + Send,
) -> Result<Model> {
    tenant.require_change(Permission::StructureManage)?;
    let txn = tenant.begin().await?;
    let mut statuses = list(&txn).await?;
    let at = statuses
        .iter()
        .position(|s| s.pid == pid)
        .ok_or(super::Error::NotFound)?;
    let to = to(at, statuses.len());
    if to != at {
        let moved = statuses.remove(at);
        record_by(
            &txn,
            tenant,
            (SUBJECT, moved.id),
            "update",
            &[(
                "position",
                Some(&(at + 1).to_string()),
                Some(&(to + 1).to_string()),
            )],
        )
        .await?;
        statuses.insert(to, moved);
    }
    let mut moved = None;
    for (position, status) in statuses.into_iter().enumerate() {
        let position = i32::try_from(position).unwrap_or(i32::MAX);
        let status = if status.position == position {
            status
        } else {
            let mut row: ActiveModel = status.into();
            row.position = Set(position);
            row.updated_at = Set(Utc::now().into());
            row.update(&txn).await?
        };
        if status.pid == pid {
            moved = Some(status);
        }
    }
    txn.commit().await?;
    moved.ok_or(super::Error::NotFound)
}
