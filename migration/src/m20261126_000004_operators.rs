//! Platform operators (people flagged on `users`, belonging to no local) and
//! the audit log of their actions. Both are global: operators see locals,
//! never a local's own rows. (`tenant_id` is kept for tenant-owned tables,
//! which all have row-level security; a global row naming a local uses `local_id`.)
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::schema::{col, fk, id, index, now_tz, tz_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("users"))
                .add_column(tz_null("operator_since"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("operator_actions"))
                .col(id())
                .col(col("operator_id").integer().null())
                .col(col("local_id").integer().null())
                .col(col("action").string_len(40).not_null())
                .col(col("reason").text().not_null().default(""))
                .col(now_tz("created_at"))
                .foreign_key(&mut fk(
                    "fk_operator_actions_operator",
                    "operator_actions",
                    &["operator_id"],
                    "users",
                    &["id"],
                    ForeignKeyAction::SetNull,
                ))
                .foreign_key(&mut fk(
                    "fk_operator_actions_local",
                    "operator_actions",
                    &["local_id"],
                    "tenants",
                    &["id"],
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_operator_actions_local",
            "operator_actions",
            &["local_id", "id"],
        ))
        .await?;
        // Operators see counts, never a local's rows: keep the count on the local.
        m.alter_table(
            Table::alter()
                .table(Alias::new("tenants"))
                .add_column(col("users_count").integer().not_null().default(0))
                .to_owned(),
        )
        .await?;
        let backfill = "UPDATE tenants SET users_count = \
            (SELECT count(*) FROM memberships WHERE memberships.tenant_id = tenants.id)";
        if m.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
            // The owner is bound by FORCE ROW LEVEL SECURITY: lift it for the backfill only.
            m.get_connection()
                .execute_unprepared(&format!(
                    "ALTER TABLE memberships NO FORCE ROW LEVEL SECURITY; {backfill}; \
                     ALTER TABLE memberships FORCE ROW LEVEL SECURITY;"
                ))
                .await?;
        } else {
            m.get_connection().execute_unprepared(backfill).await?;
        }
        m.create_index(index("ix_tenants_name", "tenants", &["name"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(Alias::new("operator_actions"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Alias::new("tenants"))
                .drop_column(Alias::new("users_count"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Alias::new("users"))
                .drop_column(Alias::new("operator_since"))
                .to_owned(),
        )
        .await
    }
}
