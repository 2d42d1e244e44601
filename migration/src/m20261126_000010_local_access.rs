//! Entering a local on every request (the person, the local, their
//! membership and role) in one round trip on PostgreSQL instead of five:
//! memberships and roles are under row-level security, so the lookup is a
//! function run as its owner (which must bypass RLS, as for
//! `member_ids_matching`), answering for exactly the slug and user given.
//! It returns the rows as JSON, so a column added later needs no change here.
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared(
                "CREATE OR REPLACE FUNCTION local_access(p_slug text, p_user integer) RETURNS json
                 LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $fn$
                 DECLARE
                   found json;
                 BEGIN
                   SELECT json_build_object('local', row_to_json(t), 'user', row_to_json(u),
                                            'membership', row_to_json(ms), 'role', row_to_json(r))
                     INTO found
                     FROM tenants t
                     JOIN memberships ms ON ms.tenant_id = t.id AND ms.user_id = p_user
                     JOIN roles r ON r.id = ms.role_id AND r.tenant_id = t.id
                     JOIN users u ON u.id = p_user
                    WHERE t.slug = p_slug;
                   RETURN found;
                 END $fn$;
                 REVOKE ALL ON FUNCTION local_access(text, integer) FROM PUBLIC;",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS local_access(text, integer)")
                .await?;
        }
        Ok(())
    }
}
