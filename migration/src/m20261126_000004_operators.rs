//! Platform operators (people flagged on `users`, belonging to no local) and
//! the audit log of their actions. Both are global: operators see locals,
//! never a local's own rows. (`tenant_id` is kept for tenant-owned tables,
//! which all have row-level security; a global row naming a local uses `local_id`.)
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let col = |name: &str| ColumnDef::new(Alias::new(name));
        m.alter_table(
            Table::alter()
                .table(Alias::new("users"))
                .add_column(col("operator_since").timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("operator_actions"))
                .col(
                    col("id")
                        .integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(col("operator_id").integer().null())
                .col(col("local_id").integer().null())
                .col(col("action").string_len(40).not_null())
                .col(col("reason").text().not_null().default(""))
                .col(
                    col("created_at")
                        .timestamp_with_time_zone()
                        .not_null()
                        .default(Expr::current_timestamp()),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_operator_actions_operator")
                        .from(Alias::new("operator_actions"), Alias::new("operator_id"))
                        .to(Alias::new("users"), Alias::new("id"))
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_operator_actions_local")
                        .from(Alias::new("operator_actions"), Alias::new("local_id"))
                        .to(Alias::new("tenants"), Alias::new("id"))
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_operator_actions_local")
                .table(Alias::new("operator_actions"))
                .col(Alias::new("local_id"))
                .col(Alias::new("id"))
                .to_owned(),
        )
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
        m.create_index(
            Index::create()
                .name("ix_tenants_name")
                .table(Alias::new("tenants"))
                .col(Alias::new("name"))
                .to_owned(),
        )
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
