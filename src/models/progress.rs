//! Rows that show the progress of long work (an import, a bulk change, and
//! later a campaign's sends or a report's run): when an attempt stops, the
//! row keeps why, and on the last attempt it is failed for good. The job
//! side is `workers::progress`; this is the one write both share.
use loco_rs::model::TenantEntity;
use sea_orm::{sea_query::Expr, ColumnTrait, QueryFilter};

use super::{tenants::Tenant, Result};

/// A tenant-owned table whose rows report long work: an id, a `state`
/// (`failed` once it stops for good) and the last attempt's `error`.
pub trait ProgressRow: TenantEntity<TenantId = i32> {
    fn id_column() -> Self::Column;
    fn state_column() -> Self::Column;
    fn error_column() -> Self::Column;
}

/// The longest error a row keeps (the rest is in the job's dead entry).
const MOST_ERROR_CHARS: usize = 2000;

/// An attempt at row `id`'s work stopped with `error`: the row says so
/// while it waits for its retry (the next attempt clears it), and
/// `for_good` (the last attempt) it is failed.
///
/// # Errors
/// A database error.
pub async fn stopped<E: ProgressRow>(
    tenant: &Tenant,
    id: i32,
    error: &str,
    for_good: bool,
) -> Result<()> {
    let txn = tenant.begin().await?;
    let mut update = txn.update::<E>();
    if for_good {
        update = update.col_expr(E::state_column(), Expr::value("failed"));
    }
    update
        .col_expr(
            E::error_column(),
            Expr::value(error.chars().take(MOST_ERROR_CHARS).collect::<String>()),
        )
        .filter(E::id_column().eq(id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
