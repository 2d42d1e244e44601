//! The app's pool connects as a login role in `app_tenant` rather than as
//! the schema owner (`src/database.rs`): grant that role the one function it
//! calls outside a scoped transaction. `local_access` is the membership
//! check every page of a local starts with; it runs as its owner (which
//! must bypass row-level security: a superuser, or a role with BYPASSRLS)
//! and answers only for the slug and the person it is given.
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

use crate::rls::TENANT_ROLE;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared(&format!(
                "GRANT EXECUTE ON FUNCTION local_access(text, integer) TO {TENANT_ROLE}"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared(&format!(
                    "REVOKE EXECUTE ON FUNCTION local_access(text, integer) FROM {TENANT_ROLE}"
                ))
                .await?;
        }
        Ok(())
    }
}
