//! The audit log and the status history keep who acted as a plain user id
//! (PostgreSQL; SQLite keeps its constraints, which it does not enforce by
//! default). Their foreign keys to `users` set the id to NULL when the person
//! is deleted, so a trail forgot its author exactly when it mattered, and they
//! cost a lookup and a row lock on that person for every line written: about
//! a sixth of a large import's database time, where every imported member
//! writes one of each. Readers already name actors by a lookup that tolerates
//! an id with no person.
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared(
                "ALTER TABLE audit_events DROP CONSTRAINT fk_audit_events_actor;
                 ALTER TABLE member_status_changes DROP CONSTRAINT fk_member_status_changes_by;",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared(
                "ALTER TABLE audit_events ADD CONSTRAINT fk_audit_events_actor
                   FOREIGN KEY (actor_id) REFERENCES users(id) ON DELETE SET NULL NOT VALID;
                 ALTER TABLE member_status_changes ADD CONSTRAINT fk_member_status_changes_by
                   FOREIGN KEY (changed_by_id) REFERENCES users(id) ON DELETE SET NULL NOT VALID;",
            )
            .await?;
        Ok(())
    }
}
