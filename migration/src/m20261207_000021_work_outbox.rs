//! The outbox (issue 15): durable work is recorded in the transaction that
//! makes it necessary, and its message is sent after that commits.
//! `sent_at` is when the message last went to a queue; NULL means recorded
//! and not yet sent, which the relay and the sweeper look for (by the
//! partial index, which holds only such rows and so stays tiny).
use sea_orm_migration::{prelude::*, sea_orm::ConnectionTrait};

use crate::schema::tz_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("work_items"))
                .add_column(tz_null("sent_at"))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        // Everything recorded before this migration was sent when recorded.
        db.execute_unprepared("UPDATE work_items SET sent_at = enqueued_at")
            .await?;
        db.execute_unprepared(
            "CREATE INDEX ix_work_items_unsent ON work_items (id) WHERE sent_at IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS ix_work_items_unsent")
            .await?;
        m.alter_table(
            Table::alter()
                .table(Alias::new("work_items"))
                .drop_column(Alias::new("sent_at"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
