//! Row-level security for tenant-owned tables (PostgreSQL only).
//!
//! Every table with a `tenant_id` column is protected by [`protect`] in the
//! migration that creates it. The policy compares `tenant_id` with the
//! transaction-local setting `app.tenant_id`, which the app sets together with
//! `SET LOCAL ROLE app_tenant` at the start of every tenant transaction
//! (`src/models/tenants.rs`). The restricted role owns no table and has no
//! BYPASSRLS, so a query that forgets its tenant filter returns nothing.
//! On SQLite these functions do nothing: scoping there rests on `src/models`.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// The database role that tenant transactions switch to.
pub const TENANT_ROLE: &str = "app_tenant";

fn is_postgres(m: &SchemaManager) -> bool {
    m.get_database_backend() == DbBackend::Postgres
}

/// The statement that creates the restricted role unless it exists (also
/// run by `unionhall::database::create_login_role_sql`).
#[must_use]
pub fn create_tenant_role_sql() -> String {
    format!(
        "DO $$ BEGIN
           CREATE ROLE {TENANT_ROLE} NOLOGIN NOBYPASSRLS;
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;"
    )
}

/// Creates the restricted role (cluster-wide, so tolerant of other databases
/// and of parallel test databases creating it at the same moment) and lets the
/// migrating role switch to it.
pub async fn create_tenant_role(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    if !is_postgres(m) {
        return Ok(());
    }
    let db = m.get_connection();
    db.execute_unprepared(&create_tenant_role_sql()).await?;
    // A superuser may already SET ROLE to anything; a plain owner role needs membership.
    db.execute_unprepared(&format!(
        "DO $$ BEGIN
           IF NOT pg_has_role(current_user, '{TENANT_ROLE}', 'MEMBER') THEN
             EXECUTE 'GRANT {TENANT_ROLE} TO ' || quote_ident(current_user);
           END IF;
         EXCEPTION WHEN others THEN NULL; END $$;"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "GRANT USAGE ON SCHEMA public TO {TENANT_ROLE};
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {TENANT_ROLE};
         GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {TENANT_ROLE};
         ALTER DEFAULT PRIVILEGES IN SCHEMA public
           GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {TENANT_ROLE};
         ALTER DEFAULT PRIVILEGES IN SCHEMA public
           GRANT USAGE, SELECT ON SEQUENCES TO {TENANT_ROLE};"
    ))
    .await?;
    Ok(())
}

/// Enables and forces row-level security on a tenant-owned table with the
/// standard isolation policy.
pub async fn protect(m: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    if !is_postgres(m) {
        return Ok(());
    }
    m.get_connection()
        .execute_unprepared(&format!(
            "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
             ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
             CREATE POLICY tenant_isolation ON {table}
               USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::integer)
               WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::integer);"
        ))
        .await?;
    Ok(())
}

/// Adds a read-only policy that lets a transaction see extra rows of a
/// protected table when `condition` holds (for example a user listing their
/// own memberships across locals).
pub async fn allow_select(
    m: &SchemaManager<'_>,
    table: &str,
    policy: &str,
    condition: &str,
) -> Result<(), DbErr> {
    if !is_postgres(m) {
        return Ok(());
    }
    m.get_connection()
        .execute_unprepared(&format!(
            "CREATE POLICY {policy} ON {table} FOR SELECT USING ({condition});"
        ))
        .await?;
    Ok(())
}
