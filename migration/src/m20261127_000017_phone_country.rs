//! Each local reads phone numbers typed without `+` and a country code in
//! its own country (a calling code such as "1" or "44"): it was North
//! American for everyone, so a UK local's `020 7946 0958` was refused or
//! stored wrong.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("tenants"))
                .add_column(
                    ColumnDef::new(Alias::new("phone_country_code"))
                        .string_len(3)
                        .not_null()
                        .default("1"),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("tenants"))
                .drop_column(Alias::new("phone_country_code"))
                .to_owned(),
        )
        .await
    }
}
