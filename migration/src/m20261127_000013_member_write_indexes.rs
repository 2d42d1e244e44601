//! Cheaper member writes (issue 5, the import benchmark): the index of
//! linked accounts held a NULL for every member without an account (nearly
//! all of them), and each insert paid for it; only linked members are
//! looked up by account, so the index keeps only those. (New members' pids
//! are time-ordered UUIDs, v7, for the same reason: random v4 pids landed
//! on a random page of the pid index at every insert.)
use sea_orm_migration::{prelude::*, sea_orm::ConnectionTrait};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE INDEX ix_members_linked_user ON members (user_id) WHERE user_id IS NOT NULL",
        )
        .await?;
        db.execute_unprepared("DROP INDEX ix_members_user").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("CREATE INDEX ix_members_user ON members (user_id)")
            .await?;
        db.execute_unprepared("DROP INDEX ix_members_linked_user")
            .await?;
        Ok(())
    }
}
