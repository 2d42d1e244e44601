//! Members at a million rows (issue 5, from the benchmark): filtered lists
//! walk an index in name order per filter column, and the trigram index
//! leads with the tenant (btree_gin), so a search reads only its local's
//! matches.
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

use crate::schema::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The search function of this migration (migration 11 reads it through
/// `members_matching`, and restores this one when it is undone).
pub(crate) fn ids_function() -> String {
    search_function("member_ids_matching", "integer", "id")
}

/// A `SECURITY DEFINER` search through the trigram index, bound to the
/// transaction's local (the setting the policies use): `name(VARIADIC
/// patterns text[]) RETURNS SETOF returns`, selecting `columns` of the
/// matching members. Patterns are quoted with %L; the tenant role may only
/// execute it.
pub(crate) fn search_function(name: &str, returns: &str, columns: &str) -> String {
    search_function_where(name, returns, columns, "format(' AND search LIKE %L', p)")
}

/// [`search_function`] with another condition per pattern `p`: `each` is a
/// plpgsql expression giving the SQL to append (quoting `p` with %L).
pub(crate) fn search_function_where(
    name: &str,
    returns: &str,
    columns: &str,
    each: &str,
) -> String {
    format!(
        "CREATE OR REPLACE FUNCTION {name}(VARIADIC patterns text[]) RETURNS SETOF {returns}
         LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $fn$
         DECLARE
           tenant integer := NULLIF(current_setting('app.tenant_id', true), '')::integer;
           cond text := '';
           p text;
         BEGIN
           IF tenant IS NULL OR patterns IS NULL OR cardinality(patterns) = 0 THEN RETURN; END IF;
           FOREACH p IN ARRAY patterns LOOP
             cond := cond || {each};
           END LOOP;
           RETURN QUERY EXECUTE format('SELECT {columns} FROM members WHERE tenant_id = %s', tenant) || cond;
         END $fn$;
         REVOKE ALL ON FUNCTION {name}(text[]) FROM PUBLIC;
         GRANT EXECUTE ON FUNCTION {name}(text[]) TO {role};",
        role = crate::rls::TENANT_ROLE
    )
}

const BY_NAME: [(&str, &str); 3] = [
    ("ix_members_employer_name", "employer_id"),
    ("ix_members_worksite_name", "worksite_id"),
    ("ix_members_unit_name", "bargaining_unit_id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in BY_NAME {
            m.create_index(index(
                name,
                "members",
                &["tenant_id", column, "last_name", "first_name", "id"],
            ))
            .await?;
        }
        if m.get_database_backend() == DbBackend::Postgres {
            let db = m.get_connection();
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS btree_gin")
                .await?;
            db.execute_unprepared("DROP INDEX IF EXISTS ix_members_search_trgm")
                .await?;
            db.execute_unprepared(
                "CREATE INDEX ix_members_search_trgm ON members USING gin (tenant_id, search gin_trgm_ops)",
            )
            .await?;
            // Under row-level security PostgreSQL evaluates the policy before
            // any operator that is not leakproof, and LIKE is not: a search
            // could not use the trigram index and read the whole local. This
            // function runs the search as its owner (the migrating role, which
            // must bypass RLS) but only ever inside the current transaction's
            // local, read from the same setting the policy uses; patterns are
            // quoted with %L (a variadic list: `member_ids_matching('%ann%', '%lee%')`).
            // The tenant role may only execute it.
            db.execute_unprepared(&ids_function()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            let db = m.get_connection();
            db.execute_unprepared("DROP FUNCTION IF EXISTS member_ids_matching(text[])")
                .await?;
            db.execute_unprepared("DROP INDEX IF EXISTS ix_members_search_trgm")
                .await?;
            db.execute_unprepared(
                "CREATE INDEX ix_members_search_trgm ON members USING gin (search gin_trgm_ops)",
            )
            .await?;
        }
        for (name, _) in BY_NAME {
            m.drop_index(
                Index::drop()
                    .name(name)
                    .table(Alias::new("members"))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
