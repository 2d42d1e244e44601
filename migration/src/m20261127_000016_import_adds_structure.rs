//! A member import may add the employers, worksites and bargaining units its
//! file names that the local does not have yet (the admin's choice, per
//! import): a local's first roll usually arrives before its structure does.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("member_imports"))
                .add_column(
                    ColumnDef::new(Alias::new("create_missing"))
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("member_imports"))
                .drop_column(Alias::new("create_missing"))
                .to_owned(),
        )
        .await
    }
}
