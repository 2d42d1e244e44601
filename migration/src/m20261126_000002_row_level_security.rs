//! Row-level security for the foundation's tenant-owned tables.
use sea_orm_migration::prelude::*;

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rls::create_tenant_role(m).await?;
        for table in ["roles", "memberships", "invitations"] {
            rls::protect(m, table).await?;
        }
        // A signed-in person sees their own memberships in every local (the
        // local switcher, and the check that builds a `Tenant`).
        rls::allow_select(
            m,
            "memberships",
            "own_memberships",
            "user_id = NULLIF(current_setting('app.user_id', true), '')::integer",
        )
        .await?;
        // The bearer of an invitation link may read that one invitation.
        rls::allow_select(
            m,
            "invitations",
            "invitation_bearer",
            "token_hash = NULLIF(current_setting('app.invitation_token', true), '')",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
            use sea_orm_migration::sea_orm::ConnectionTrait;
            for table in ["roles", "memberships", "invitations"] {
                m.get_connection()
                    .execute_unprepared(&format!(
                        "DROP POLICY IF EXISTS tenant_isolation ON {table};
                         ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;
                         ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;"
                    ))
                    .await?;
            }
            m.get_connection()
                .execute_unprepared(
                    "DROP POLICY IF EXISTS own_memberships ON memberships;
                     DROP POLICY IF EXISTS invitation_bearer ON invitations;",
                )
                .await?;
        }
        Ok(())
    }
}
