//! Background jobs: the durable state of work (issue 4). Redis (or the
//! in-process queue) carries messages; these rows are the truth of what was
//! asked for and what finished, so a worker killed mid-job loses nothing.
use sea_orm_migration::prelude::*;

use crate::schema::{col, fk, id, index, now_tz, tz_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Global (the sweeper reads across locals); `local_id` names the local
        // a job works in, and the job itself re-enters it under row-level security.
        m.create_table(
            Table::create()
                .table(Alias::new("work_items"))
                .col(id())
                .col(col("local_id").integer().null())
                .col(col("kind").string_len(80).not_null())
                .col(col("queue").string_len(40).not_null())
                .col(col("args").text().not_null())
                // queued | running | done | failed | dead | skipped | discarded
                .col(col("state").string_len(16).not_null())
                .col(col("attempts").integer().not_null().default(0))
                .col(tz_null("lease_until"))
                .col(col("last_error").text().null())
                .col(now_tz("enqueued_at"))
                .col(tz_null("started_at"))
                .col(tz_null("finished_at"))
                .col(now_tz("created_at"))
                .col(now_tz("updated_at"))
                .foreign_key(&mut fk(
                    "fk_work_items_local",
                    "work_items",
                    &["local_id"],
                    "tenants",
                    &["id"],
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_work_items_state_lease",
            "work_items",
            &["state", "lease_until"],
        ))
        .await?;
        m.create_index(index(
            "ix_work_items_finished",
            "work_items",
            &["finished_at"],
        ))
        .await?;
        // What the diagnostic probe job did: operators send one from /ops/jobs to
        // check the pipeline end to end; the tests count these rows.
        m.create_table(
            Table::create()
                .table(Alias::new("probe_runs"))
                .col(id())
                .col(col("work_item_id").integer().null())
                .col(col("queue").string_len(40).not_null())
                .col(col("label").string_len(80).not_null())
                .col(col("process_id").integer().not_null())
                .col(now_tz("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_probe_runs_item", "probe_runs", &["work_item_id"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("probe_runs")).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Alias::new("work_items")).to_owned())
            .await
    }
}
