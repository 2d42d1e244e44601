//! A local's structure (employers, worksites, bargaining units, membership
//! statuses) changes rarely and is read on every members page; the web
//! process keeps it in memory keyed by `tenants.structure_version`, which
//! these triggers raise on any change, whichever code or process makes it.
//! A raised version is never reused, even when its transaction rolls back
//! (a sequence on PostgreSQL, the clock in microseconds on SQLite), so a
//! version names one content only.
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 4] = [
    "employers",
    "worksites",
    "bargaining_units",
    "membership_statuses",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("tenants"))
                .add_column(
                    ColumnDef::new(Alias::new("structure_version"))
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        if m.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("CREATE SEQUENCE IF NOT EXISTS structure_versions")
                .await?;
            db.execute_unprepared(
                "CREATE OR REPLACE FUNCTION raise_structure_version() RETURNS trigger
                 LANGUAGE plpgsql AS $fn$
                 BEGIN
                   UPDATE tenants SET structure_version = nextval('structure_versions')
                    WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
                   RETURN NULL;
                 END $fn$",
            )
            .await?;
            for table in TABLES {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {table}_structure_version
                     AFTER INSERT OR UPDATE OR DELETE ON {table}
                     FOR EACH ROW EXECUTE FUNCTION raise_structure_version()"
                ))
                .await?;
            }
        } else {
            for table in TABLES {
                for (event, row) in [("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {table}_structure_version_{} AFTER {event} ON {table}
                         BEGIN
                           UPDATE tenants SET structure_version = max(structure_version + 1,
                             CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER))
                            WHERE id = {row}.tenant_id;
                         END",
                        event.to_lowercase()
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() == DbBackend::Postgres {
            for table in TABLES {
                db.execute_unprepared(&format!(
                    "DROP TRIGGER IF EXISTS {table}_structure_version ON {table}"
                ))
                .await?;
            }
            db.execute_unprepared("DROP FUNCTION IF EXISTS raise_structure_version()")
                .await?;
            db.execute_unprepared("DROP SEQUENCE IF EXISTS structure_versions")
                .await?;
        } else {
            for table in TABLES {
                for event in ["insert", "update", "delete"] {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS {table}_structure_version_{event}"
                    ))
                    .await?;
                }
            }
        }
        m.alter_table(
            Table::alter()
                .table(Alias::new("tenants"))
                .drop_column(Alias::new("structure_version"))
                .to_owned(),
        )
        .await
    }
}
