//! A member costs less to write (issue 5, the import benchmark: 11,800
//! rows/s on a 2-core machine against a target of 20,000). Measured on a
//! copy of the benchmark's database, 300,000 rows each, against the same
//! copy unchanged; every part below was a few percent to a fifth of a row's
//! cost:
//! - **An imported member records where it came from** (`import_id`)
//!   instead of a status-history row and an audit row of its own. Both said
//!   the same for every row of a file ("Active, by Ann, from roll.csv"); the
//!   member page derives those lines from the import (who started it, the
//!   file, when). Later changes are recorded per member as before. No
//!   foreign key: a check per row for a value the job itself writes; a
//!   member whose import row is gone shows no import line.
//! - **Who started an import** (`member_imports.started_by_id`), which that
//!   derived line names (the uploader and the starter may differ).
//! - **Three indexes go** (PostgreSQL): members by employer, by worksite and
//!   by unit in name order. The filters' GIN index answers a sparse filter
//!   of any of them; a dense one walks the name order's index, which now
//!   carries the filtered columns (`INCLUDE`), so the walk skips other
//!   members without reading their rows (`members::walk_by`); status within
//!   worksite (what staff filter by most) keeps its own index. SQLite has no
//!   GIN index and keeps them.
//! - **`members.tenant_id` loses its foreign key** (PostgreSQL): the status
//!   key `(tenant_id, status_id)` already names a status of an existing
//!   local. Its cascade deleted a local's members with the local; nothing
//!   deletes a local (operators suspend one), and a local's deletion should
//!   be an explicit step for a roll anyway.
//! - **`member_words` keeps the words of names only**: no word with a digit
//!   or `@` (emails, phone digits, employee numbers). Those terms are
//!   searched through the trigram index, which finds them fast: they are
//!   long and rare, unlike "mar".
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const BY_DIMENSION: [(&str, &str); 3] = [
    ("ix_members_employer_name", "employer_id"),
    ("ix_members_worksite_name", "worksite_id"),
    ("ix_members_unit_name", "bargaining_unit_id"),
];

const NAME_ORDER: &str = "(tenant_id, last_name, first_name, id)";
const FILTERED: &str = "(status_id, employer_id, worksite_id, bargaining_unit_id, archived_at)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("members"))
                .add_column(ColumnDef::new(Alias::new("import_id")).integer().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Alias::new("member_imports"))
                .add_column(ColumnDef::new(Alias::new("started_by_id")).integer().null())
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        for (name, _) in BY_DIMENSION {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        db.execute_unprepared(&format!(
            "DROP INDEX IF EXISTS ix_members_name;
             CREATE INDEX ix_members_name ON members {NAME_ORDER} INCLUDE {FILTERED}"
        ))
        .await?;
        db.execute_unprepared(
            "ALTER TABLE members DROP CONSTRAINT IF EXISTS fk_members_tenant;
             CREATE OR REPLACE FUNCTION member_words_of(search text) RETURNS SETOF text
               LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
               $fn$ SELECT DISTINCT left(w, 200) FROM unnest(string_to_array(search, ' ')) AS w
                    WHERE w <> '' AND w !~ '[0-9@]' $fn$;
             DELETE FROM member_words WHERE word ~ '[0-9@]';",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            let db = m.get_connection();
            db.execute_unprepared(
                "CREATE OR REPLACE FUNCTION member_words_of(search text) RETURNS SETOF text
                   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
                   $fn$ SELECT DISTINCT left(w, 200) FROM unnest(string_to_array(search, ' ')) AS w WHERE w <> '' $fn$;
                 INSERT INTO member_words (tenant_id, word, last_name, first_name, member_id)
                   SELECT m.tenant_id, left(w, 200), m.last_name, m.first_name, m.id
                   FROM members m, unnest(string_to_array(m.search, ' ')) AS w
                   WHERE m.archived_at IS NULL AND w ~ '[0-9@]'
                   GROUP BY 1, 2, 3, 4, 5;
                 ALTER TABLE members ADD CONSTRAINT fk_members_tenant FOREIGN KEY (tenant_id)
                   REFERENCES tenants(id) ON DELETE CASCADE;",
            )
            .await?;
            db.execute_unprepared(&format!(
                "DROP INDEX IF EXISTS ix_members_name;
                 CREATE INDEX ix_members_name ON members {NAME_ORDER}"
            ))
            .await?;
            for (name, column) in BY_DIMENSION {
                db.execute_unprepared(&format!(
                    "CREATE INDEX {name} ON members (tenant_id, {column}, last_name, first_name, id)"
                ))
                .await?;
            }
        }
        for (table, column) in [
            ("member_imports", "started_by_id"),
            ("members", "import_id"),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Alias::new(table))
                    .drop_column(Alias::new(column))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
