//! Members at a million rows (issue 5, from the benchmark): filtered lists
//! walk an index in name order per filter column, and the trigram index
//! leads with the tenant (btree_gin), so a search reads only its local's
//! matches.
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

use crate::schema::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const BY_NAME: [(&str, &str); 3] = [
    ("ix_members_employer_name", "employer_id"),
    ("ix_members_worksite_name", "worksite_id"),
    ("ix_members_unit_name", "bargaining_unit_id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in BY_NAME {
            m.create_index(index(
                name,
                "members",
                &["tenant_id", column, "last_name", "first_name", "id"],
            ))
            .await?;
        }
        if m.get_database_backend() == DbBackend::Postgres {
            let db = m.get_connection();
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS btree_gin")
                .await?;
            db.execute_unprepared("DROP INDEX IF EXISTS ix_members_search_trgm")
                .await?;
            db.execute_unprepared(
                "CREATE INDEX ix_members_search_trgm ON members USING gin (tenant_id, search gin_trgm_ops)",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            let db = m.get_connection();
            db.execute_unprepared("DROP INDEX IF EXISTS ix_members_search_trgm")
                .await?;
            db.execute_unprepared(
                "CREATE INDEX ix_members_search_trgm ON members USING gin (search gin_trgm_ops)",
            )
            .await?;
        }
        for (name, _) in BY_NAME {
            m.drop_index(
                Index::drop()
                    .name(name)
                    .table(Alias::new("members"))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
