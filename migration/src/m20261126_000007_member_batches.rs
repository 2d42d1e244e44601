//! Members, continued (issue 5): the list's status order, phone lookups for
//! duplicate detection, CSV imports (the uploaded file kept in chunks, the
//! failed rows with their reasons) and bulk changes run as jobs.
//!
//! The uploaded file lives in the database (`member_import_chunks`), not on
//! local disk: web and worker processes may run on different machines, and a
//! tenant's file is then under the same row-level security and is deleted
//! with its import.
use sea_orm_migration::{prelude::*, sea_orm::ConnectionTrait};

use crate::{
    m20261126_000006_members::{tenant_key, tenant_table},
    rls,
    schema::{col, fk, id, index, tz_null},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn counter(name: &str) -> ColumnDef {
    col(name).integer().not_null().default(0).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Sorting by status walks the statuses in their order, each by name.
        m.drop_index(
            Index::drop()
                .name("ix_members_status")
                .table(Alias::new("members"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_members_status_name",
            "members",
            &["tenant_id", "status_id", "last_name", "first_name", "id"],
        ))
        .await?;
        m.create_index(index(
            "ix_members_phone",
            "members",
            &["tenant_id", "phone"],
        ))
        .await?;

        m.create_table(
            tenant_table("member_imports")
                .col(col("created_by_id").integer().null())
                .col(col("file_name").string_len(255).not_null())
                .col(col("size_bytes").big_integer().not_null())
                .col(col("encoding").string_len(20).not_null())
                // JSON: the CSV column index for each member field.
                .col(col("mapping").text().not_null())
                .col(col("on_duplicate").string_len(10).not_null())
                .col(col("state").string_len(20).not_null())
                .col(counter("total_rows"))
                // Rows done: a re-run after a crash starts after these.
                .col(counter("processed_rows"))
                .col(counter("created_count"))
                .col(counter("updated_count"))
                .col(counter("skipped_count"))
                .col(counter("failed_count"))
                .col(col("error").text().null())
                .col(tz_null("started_at"))
                .col(tz_null("finished_at"))
                .foreign_key(&mut fk(
                    "fk_member_imports_by",
                    "member_imports",
                    &["created_by_id"],
                    "users",
                    &["id"],
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        tenant_key(m, "member_imports").await?;
        m.create_index(index(
            "ix_member_imports_tenant",
            "member_imports",
            &["tenant_id", "id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Alias::new("member_import_chunks"))
                .col(id())
                .col(col("tenant_id").integer().not_null())
                .col(col("import_id").integer().not_null())
                .col(col("position").integer().not_null())
                .col(col("data").binary().not_null())
                .foreign_key(&mut fk(
                    "fk_member_import_chunks_import",
                    "member_import_chunks",
                    &["tenant_id", "import_id"],
                    "member_imports",
                    &["tenant_id", "id"],
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_member_import_chunks_import",
            "member_import_chunks",
            &["tenant_id", "import_id", "position"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Alias::new("member_import_failures"))
                .col(id())
                .col(col("tenant_id").integer().not_null())
                .col(col("import_id").integer().not_null())
                // The data row's number (1 = the first row after the header).
                .col(col("row_number").integer().not_null())
                .col(col("reason").text().not_null())
                // The row's fields as read, JSON array.
                .col(col("fields").text().not_null())
                .foreign_key(&mut fk(
                    "fk_member_import_failures_import",
                    "member_import_failures",
                    &["tenant_id", "import_id"],
                    "member_imports",
                    &["tenant_id", "id"],
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_member_import_failures_import",
            "member_import_failures",
            &["tenant_id", "import_id", "row_number"],
        ))
        .await?;

        m.create_table(
            tenant_table("member_bulk_changes")
                .col(col("created_by_id").integer().null())
                // JSON: the member pids chosen, or the list's filter.
                .col(col("selection").text().not_null())
                // JSON: what changes (status, worksite, unit).
                .col(col("change").text().not_null())
                .col(col("state").string_len(20).not_null())
                .col(counter("total_rows"))
                .col(counter("processed_rows"))
                .col(counter("changed_count"))
                // Keyset position reached, so a re-run resumes.
                .col(counter("last_member_id"))
                .col(col("error").text().null())
                .col(tz_null("finished_at"))
                .foreign_key(&mut fk(
                    "fk_member_bulk_changes_by",
                    "member_bulk_changes",
                    &["created_by_id"],
                    "users",
                    &["id"],
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        tenant_key(m, "member_bulk_changes").await?;

        // Admins manage the union's structure and statuses and read the audit
        // log: new permissions, given to every local's Admin role (new locals get it by default).
        // Forced row-level security binds the owner too, so it is lifted
        // around the one UPDATE on PostgreSQL.
        let db = m.get_connection();
        let postgres = m.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres;
        if postgres {
            db.execute_unprepared("ALTER TABLE roles NO FORCE ROW LEVEL SECURITY")
                .await?;
        }
        for key in ["structure.manage", "audit.read"] {
            db.execute_unprepared(&format!(
                "UPDATE roles SET permissions = permissions || ' {key}' \
                 WHERE name = 'Admin' AND permissions NOT LIKE '%{key}%'"
            ))
            .await?;
        }
        if postgres {
            db.execute_unprepared("ALTER TABLE roles FORCE ROW LEVEL SECURITY")
                .await?;
        }

        for table in [
            "member_imports",
            "member_import_chunks",
            "member_import_failures",
            "member_bulk_changes",
        ] {
            rls::protect(m, table).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "member_bulk_changes",
            "member_import_failures",
            "member_import_chunks",
            "member_imports",
        ] {
            m.drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        m.drop_index(
            Index::drop()
                .name("ix_members_phone")
                .table(Alias::new("members"))
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_members_status_name")
                .table(Alias::new("members"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_members_status",
            "members",
            &["tenant_id", "status_id", "id"],
        ))
        .await?;
        Ok(())
    }
}
