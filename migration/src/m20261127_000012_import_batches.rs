//! Imports run their batches on several connections at once (issue 5, the
//! benchmark: one connection kept one core busy and left the other idle).
//! A single moving position cannot say which batches are done when they
//! finish out of order, so each batch claims its number here, in the same
//! transaction as its rows: a re-run skips the claimed ones, and two
//! runners can never both write one batch.
use sea_orm_migration::prelude::*;

use crate::{
    rls,
    schema::{col, fk},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("member_import_batches"))
                .col(col("tenant_id").integer().not_null())
                .col(col("import_id").integer().not_null())
                // The batch's number: rows [n × size, (n + 1) × size) of the
                // file; negative numbers are the final pass over rows that
                // repeat an earlier row of the file.
                .col(col("batch").integer().not_null())
                .primary_key(
                    Index::create()
                        .col(Alias::new("tenant_id"))
                        .col(Alias::new("import_id"))
                        .col(Alias::new("batch")),
                )
                .foreign_key(&mut fk(
                    "fk_member_import_batches_import",
                    "member_import_batches",
                    &["tenant_id", "import_id"],
                    "member_imports",
                    &["tenant_id", "id"],
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        rls::protect(m, "member_import_batches").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(Alias::new("member_import_batches"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
