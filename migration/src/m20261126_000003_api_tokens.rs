//! Personal API tokens: bound to one local and a person's role there.
use sea_orm_migration::prelude::*;

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let col = |name: &str| ColumnDef::new(Alias::new(name));
        m.create_table(
            Table::create()
                .table(Alias::new("api_tokens"))
                .col(
                    col("id")
                        .integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(col("pid").uuid().not_null().unique_key())
                .col(col("tenant_id").integer().not_null())
                .col(col("user_id").integer().not_null())
                .col(col("name").string_len(80).not_null())
                .col(col("token_hash").string_len(64).not_null().unique_key())
                .col(col("prefix").string_len(16).not_null())
                .col(col("expires_at").timestamp_with_time_zone().null())
                .col(col("last_used_at").timestamp_with_time_zone().null())
                .col(col("revoked_at").timestamp_with_time_zone().null())
                .col(
                    col("created_at")
                        .timestamp_with_time_zone()
                        .not_null()
                        .default(Expr::current_timestamp()),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_api_tokens_tenant")
                        .from(Alias::new("api_tokens"), Alias::new("tenant_id"))
                        .to(Alias::new("tenants"), Alias::new("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_api_tokens_user")
                        .from(Alias::new("api_tokens"), Alias::new("user_id"))
                        .to(Alias::new("users"), Alias::new("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_api_tokens_tenant_user")
                .table(Alias::new("api_tokens"))
                .col(Alias::new("tenant_id"))
                .col(Alias::new("user_id"))
                .to_owned(),
        )
        .await?;
        rls::protect(m, "api_tokens").await?;
        // The bearer of a token may read that one token, to learn its local.
        rls::allow_select(
            m,
            "api_tokens",
            "api_token_bearer",
            "token_hash = NULLIF(current_setting('app.api_token', true), '')",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("api_tokens")).to_owned())
            .await
    }
}
