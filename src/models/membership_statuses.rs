//! Per-local membership statuses (tenant-owned): a name, whether it counts
//! as in good standing, and an order. Every local starts with the defaults.
use chrono::Utc;
use loco_rs::model::{TenantActiveModelExt, TenantEntity, TenantQueryExt};
use sea_orm::{sea_query::OnConflict, ActiveValue::Set, ConnectionTrait, EntityTrait, QueryOrder};
use uuid::Uuid;

pub use super::_entities::membership_statuses::{self, ActiveModel, Column, Entity, Model};
use super::{find_in_local, tenants::Tenant, Result};

impl TenantEntity for Entity {
    type TenantId = i32;

    fn tenant_column() -> Column {
        Column::TenantId
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
pub async fn ensure_defaults<C: ConnectionTrait>(conn: &C, tenant_id: i32) -> Result<()> {
    let now = Utc::now();
    for (position, (name, good)) in DEFAULTS.iter().enumerate() {
        let row = ActiveModel {
            pid: Set(Uuid::new_v4()),
            name: Set((*name).to_string()),
            in_good_standing: Set(*good),
            position: Set(i32::try_from(position).unwrap_or(0)),
            created_at: Set(now.into()),
            updated_at: Set(now.into()),
            ..Default::default()
        }
        .set_tenant(tenant_id)?;
        Entity::insert(row)
            .on_conflict(
                OnConflict::columns([Column::TenantId, Column::Name])
                    .do_nothing()
                    .to_owned(),
            )
            .try_insert()
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// The local's statuses in their order (creating the defaults if it has none).
///
/// # Errors
/// A database error.
pub async fn list<C: ConnectionTrait>(conn: &C, tenant: &Tenant) -> Result<Vec<Model>> {
    let find = || {
        Entity::find()
            .in_tenant(tenant.id())
            .order_by_asc(Column::Position)
            .order_by_asc(Column::Id)
    };
    let statuses = find().all(conn).await?;
    if !statuses.is_empty() {
        return Ok(statuses);
    }
    ensure_defaults(conn, tenant.id()).await?;
    Ok(find().all(conn).await?)
}

/// # Errors
/// `NotFound` (also for another local's status) or a database error.
pub async fn find_by_pid<C: ConnectionTrait>(
    conn: &C,
    tenant: &Tenant,
    pid: Uuid,
) -> Result<Model> {
    find_in_local::<Entity, _>(conn, tenant, Column::Pid, pid).await
}
