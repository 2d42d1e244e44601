//! Filtered and searched member lists at a million rows (issue 5, from the
//! benchmark). Status within worksite is the list staff filter by most: a
//! partial index over the current roll answers it in name order and counts
//! it without the table. Any other combination of status, employer,
//! worksite and unit intersects posting lists of one GIN index (ids of
//! these are unique across locals, so it needs no tenant column). A search
//! reads each match's row once: `members_matching` returns the rows the
//! trigram index finds in the transaction's local (see migration 8 for why
//! a function).
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE INDEX ix_members_worksite_status_name ON members
               (tenant_id, worksite_id, status_id, last_name, first_name, id)
             WHERE archived_at IS NULL",
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(
                "CREATE INDEX ix_members_filters ON members
                   USING gin (status_id, employer_id, worksite_id, bargaining_unit_id)",
            )
            .await?;
            db.execute_unprepared(&crate::m20261126_000008_member_search::search_function(
                "members_matching",
                "members",
                "*",
            ))
            .await?;
            // One place builds the search: the ids function now reads through it.
            db.execute_unprepared(
                "CREATE OR REPLACE FUNCTION member_ids_matching(VARIADIC patterns text[]) RETURNS SETOF integer
                 LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $fn$
                   SELECT id FROM members_matching(VARIADIC patterns)
                 $fn$",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(&crate::m20261126_000008_member_search::ids_function())
                .await?;
            db.execute_unprepared("DROP FUNCTION IF EXISTS members_matching(text[])")
                .await?;
            db.execute_unprepared("DROP INDEX IF EXISTS ix_members_filters")
                .await?;
        }
        db.execute_unprepared("DROP INDEX IF EXISTS ix_members_worksite_status_name")
            .await?;
        Ok(())
    }
}
