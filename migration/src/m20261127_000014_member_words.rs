//! Search by the start of a word (issue 5, the search benchmark). A trigram
//! search reads every match to order and count them: at a million members a
//! four-letter name matched 4,000 rows on average and the page took 30 ms of
//! database time. Search now matches the start of a word of a member's search
//! text (names, email, phone digits, employee number; the middle of a word
//! only when no word starts so) and, on PostgreSQL, reads it from
//! `member_words`: one row per word of each live (not archived) member, with
//! the name order's keys, so the first page is an index range read in order
//! and the count stops early. Triggers keep it with `members`, whichever
//! path writes (forms, imports, bulk loads).
//!
//! Also: `members_matching_words` / `member_ids_matching_words`, the same
//! word-start search through the trigram index (as migration 8's functions
//! do for the middle of words) for searches with filters or other orders.
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

use crate::m20261126_000008_member_search::search_function_where;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A pattern `p` (a LIKE-escaped term) matching the start of any word.
const WORD_START: &str =
    "format(' AND (search LIKE %L OR search LIKE %L)', p || '%', '% ' || p || '%')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            // SQLite searches the members table itself (no index to keep).
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE TABLE member_words (
               tenant_id integer NOT NULL,
               word text COLLATE \"C\" NOT NULL,
               last_name text NOT NULL,
               first_name text NOT NULL,
               member_id integer NOT NULL
             );
             -- The words of a search text, as the app splits them (src/models/members.rs).
             CREATE FUNCTION member_words_of(search text) RETURNS SETOF text
               LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
               $fn$ SELECT DISTINCT left(w, 200) FROM unnest(string_to_array(search, ' ')) AS w WHERE w <> '' $fn$;
             INSERT INTO member_words (tenant_id, word, last_name, first_name, member_id)
               SELECT m.tenant_id, w, m.last_name, m.first_name, m.id
               FROM members m, member_words_of(m.search) AS w WHERE m.archived_at IS NULL;
             CREATE INDEX ix_member_words ON member_words (tenant_id, word, last_name, first_name, member_id);

             CREATE FUNCTION member_words_added() RETURNS trigger LANGUAGE plpgsql AS $fn$
             BEGIN
               INSERT INTO member_words (tenant_id, word, last_name, first_name, member_id)
                 SELECT n.tenant_id, w, n.last_name, n.first_name, n.id
                 FROM added n, member_words_of(n.search) AS w WHERE n.archived_at IS NULL;
               RETURN NULL;
             END $fn$;
             CREATE TRIGGER member_words_insert AFTER INSERT ON members
               REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION member_words_added();

             CREATE FUNCTION member_words_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
             BEGIN
               DELETE FROM member_words
                 WHERE tenant_id = OLD.tenant_id AND member_id = OLD.id
                   AND word IN (SELECT member_words_of(OLD.search));
               IF NEW.archived_at IS NULL THEN
                 INSERT INTO member_words (tenant_id, word, last_name, first_name, member_id)
                   SELECT NEW.tenant_id, w, NEW.last_name, NEW.first_name, NEW.id
                   FROM member_words_of(NEW.search) AS w;
               END IF;
               RETURN NULL;
             END $fn$;
             CREATE TRIGGER member_words_update
               AFTER UPDATE OF search, last_name, first_name, archived_at ON members FOR EACH ROW
               WHEN (OLD.search IS DISTINCT FROM NEW.search
                     OR OLD.last_name IS DISTINCT FROM NEW.last_name
                     OR OLD.first_name IS DISTINCT FROM NEW.first_name
                     OR (OLD.archived_at IS NULL) <> (NEW.archived_at IS NULL))
               EXECUTE FUNCTION member_words_changed();

             CREATE FUNCTION member_words_removed() RETURNS trigger LANGUAGE plpgsql AS $fn$
             BEGIN
               DELETE FROM member_words mw USING removed r, member_words_of(r.search) AS w
                 WHERE mw.tenant_id = r.tenant_id AND mw.word = w AND mw.member_id = r.id;
               RETURN NULL;
             END $fn$;
             CREATE TRIGGER member_words_delete AFTER DELETE ON members
               REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION member_words_removed();",
        )
        .await?;
        crate::rls::protect(m, "member_words").await?;
        db.execute_unprepared(&format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON member_words TO {}",
            crate::rls::TENANT_ROLE
        ))
        .await?;
        db.execute_unprepared(&search_function_where(
            "members_matching_words",
            "members",
            "*",
            WORD_START,
        ))
        .await?;
        db.execute_unprepared(&search_function_where(
            "member_ids_matching_words",
            "integer",
            "id",
            WORD_START,
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared(
                "DROP FUNCTION IF EXISTS member_ids_matching_words(text[]);
                 DROP FUNCTION IF EXISTS members_matching_words(text[]);
                 DROP TRIGGER IF EXISTS member_words_delete ON members;
                 DROP TRIGGER IF EXISTS member_words_update ON members;
                 DROP TRIGGER IF EXISTS member_words_insert ON members;
                 DROP FUNCTION IF EXISTS member_words_removed();
                 DROP FUNCTION IF EXISTS member_words_changed();
                 DROP FUNCTION IF EXISTS member_words_added();
                 DROP TABLE IF EXISTS member_words;
                 DROP FUNCTION IF EXISTS member_words_of(text);",
            )
            .await?;
        Ok(())
    }
}
