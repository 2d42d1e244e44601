//! Personal API tokens: bound to one local and a person's role there.
use sea_orm_migration::prelude::*;

use crate::{
    rls,
    schema::{col, fk, id, index, now_tz, tz_null},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("api_tokens"))
                .col(id())
                .col(col("pid").uuid().not_null().unique_key())
                .col(col("tenant_id").integer().not_null())
                .col(col("user_id").integer().not_null())
                .col(col("name").string_len(80).not_null())
                .col(col("token_hash").string_len(64).not_null().unique_key())
                .col(col("prefix").string_len(16).not_null())
                .col(tz_null("expires_at"))
                .col(tz_null("last_used_at"))
                .col(tz_null("revoked_at"))
                .col(now_tz("created_at"))
                .foreign_key(&mut fk(
                    "fk_api_tokens_tenant",
                    "api_tokens",
                    &["tenant_id"],
                    "tenants",
                    &["id"],
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_api_tokens_user",
                    "api_tokens",
                    &["user_id"],
                    "users",
                    &["id"],
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_api_tokens_tenant_user",
            "api_tokens",
            &["tenant_id", "user_id"],
        ))
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
