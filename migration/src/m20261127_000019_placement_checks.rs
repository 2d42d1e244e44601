//! A member's employer, worksite, bargaining unit and status are checked
//! once per statement instead of once per row (PostgreSQL; issue 5, the
//! import benchmark). The four foreign keys ran four lookups and four row
//! locks for each member written, about a tenth of an import's time; a
//! batch of 2,000 members names a handful of distinct places, and one
//! set-wise check per statement (a trigger over the statement's rows) does
//! the same work for those few.
//!
//! What the foreign keys guaranteed still holds:
//! - **A member names its own local's structure**, and its worksite is of
//!   its employer: a statement naming anything else fails with the foreign
//!   key error (SQLSTATE 23503) and the old constraint's name, so callers
//!   see what they saw before.
//! - **What members name cannot go**: deleting (or re-keying, or moving a
//!   worksite to another employer) a row that a member names fails the same
//!   way, whoever deletes.
//! - **Races**: the writing statement locks what it names `FOR KEY SHARE`,
//!   as a foreign key does, so a deletion waits for it to commit and then
//!   sees its members (each statement of a trigger reads a fresh snapshot
//!   under READ COMMITTED, the isolation every transaction of the app uses);
//!   a deletion that commits first leaves the writer nothing to lock, and
//!   its check fails.
//!
//! SQLite keeps the foreign keys: it has one writer, and its imports are
//! not measured.
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(constraint, the members' column, table, what it is)`
const PLACES: [(&str, &str, &str, &str); 4] = [
    (
        "fk_members_employer",
        "employer_id",
        "employers",
        "employer",
    ),
    (
        "fk_members_worksite",
        "worksite_id",
        "worksites",
        "worksite",
    ),
    (
        "fk_members_unit",
        "bargaining_unit_id",
        "bargaining_units",
        "bargaining unit",
    ),
    (
        "fk_members_status",
        "status_id",
        "membership_statuses",
        "status",
    ),
];

/// The statement's rows (`placed`) each name a place of their own local;
/// a worksite is also of the member's employer when it has one (stricter
/// than the foreign key, which a NULL employer switched off).
fn placed_function() -> String {
    let mut body = String::new();
    for (constraint, column, table, noun) in PLACES {
        let (pick, matches) = if table == "worksites" {
            (
                "tenant_id, employer_id, worksite_id".to_string(),
                "t.tenant_id = p.tenant_id AND t.id = p.worksite_id
                 AND (p.employer_id IS NULL OR t.employer_id = p.employer_id)"
                    .to_string(),
            )
        } else {
            (
                format!("tenant_id, {column}"),
                format!("t.tenant_id = p.tenant_id AND t.id = p.{column}"),
            )
        };
        body.push_str(&format!(
            "PERFORM 1 FROM {table} t
               JOIN (SELECT DISTINCT {pick} FROM placed WHERE {column} IS NOT NULL) p ON {matches}
               FOR KEY SHARE OF t;
             IF EXISTS (SELECT 1 FROM placed p WHERE p.{column} IS NOT NULL
                          AND NOT EXISTS (SELECT 1 FROM {table} t WHERE {matches})) THEN
               RAISE EXCEPTION 'a member names a {noun} that is not of its local (%)', '{constraint}'
                 USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{constraint}',
                       TABLE = 'members';
             END IF;\n"
        ));
    }
    format!(
        "CREATE FUNCTION members_placed() RETURNS trigger LANGUAGE plpgsql AS $fn$
         BEGIN
           {body}
           RETURN NULL;
         END $fn$;"
    )
}

/// Refuses to delete or re-key a row members name (`TG_ARGV`: the
/// members' column naming it, the constraint it stands for).
const IN_USE_FUNCTION: &str = "CREATE FUNCTION member_place_in_use() RETURNS trigger
  LANGUAGE plpgsql AS $fn$
  DECLARE used boolean;
  BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM members WHERE tenant_id = $1 AND %I = $2)', TG_ARGV[0])
      INTO used USING OLD.tenant_id, OLD.id;
    IF used THEN
      RAISE EXCEPTION 'members name this row of % (%)', TG_TABLE_NAME, TG_ARGV[1]
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[1], TABLE = TG_TABLE_NAME;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
  END $fn$;";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared(&placed_function()).await?;
        db.execute_unprepared(IN_USE_FUNCTION).await?;
        db.execute_unprepared(
            "CREATE TRIGGER members_placed_insert AFTER INSERT ON members
               REFERENCING NEW TABLE AS placed FOR EACH STATEMENT EXECUTE FUNCTION members_placed();
             CREATE TRIGGER members_placed_update AFTER UPDATE ON members
               REFERENCING NEW TABLE AS placed FOR EACH STATEMENT EXECUTE FUNCTION members_placed();",
        )
        .await?;
        for (constraint, column, table, _) in PLACES {
            let moved = if table == "worksites" {
                " OR OLD.employer_id <> NEW.employer_id"
            } else {
                ""
            };
            db.execute_unprepared(&format!(
                "ALTER TABLE members DROP CONSTRAINT {constraint};
                 CREATE TRIGGER {table}_in_use_delete BEFORE DELETE ON {table}
                   FOR EACH ROW EXECUTE FUNCTION member_place_in_use('{column}', '{constraint}');
                 CREATE TRIGGER {table}_in_use_update BEFORE UPDATE ON {table} FOR EACH ROW
                   WHEN (OLD.id <> NEW.id OR OLD.tenant_id <> NEW.tenant_id{moved})
                   EXECUTE FUNCTION member_place_in_use('{column}', '{constraint}');"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        for (constraint, column, table, _) in PLACES {
            let (from, to) = if table == "worksites" {
                (
                    "tenant_id, employer_id, worksite_id",
                    "tenant_id, employer_id, id",
                )
            } else {
                (&*format!("tenant_id, {column}"), "tenant_id, id")
            };
            db.execute_unprepared(&format!(
                "DROP TRIGGER IF EXISTS {table}_in_use_delete ON {table};
                 DROP TRIGGER IF EXISTS {table}_in_use_update ON {table};
                 ALTER TABLE members ADD CONSTRAINT {constraint} FOREIGN KEY ({from})
                   REFERENCES {table} ({to}) ON DELETE RESTRICT;"
            ))
            .await?;
        }
        db.execute_unprepared(
            "DROP TRIGGER IF EXISTS members_placed_update ON members;
             DROP TRIGGER IF EXISTS members_placed_insert ON members;
             DROP FUNCTION IF EXISTS member_place_in_use();
             DROP FUNCTION IF EXISTS members_placed();",
        )
        .await?;
        Ok(())
    }
}
