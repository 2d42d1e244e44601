//! Tenants (union locals), people, per-local roles and memberships,
//! invitations, single-use tokens, sessions and login attempts.
use sea_orm_migration::prelude::*;

use crate::schema::{col, fk, id, index, now_tz, tz_null, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Global: union locals.
        m.create_table(
            Table::create()
                .table(Alias::new("tenants"))
                .col(id())
                .col(col("pid").uuid().not_null().unique_key())
                .col(col("name").string_len(120).not_null())
                .col(col("slug").string_len(63).not_null().unique_key())
                .col(col("status").string_len(16).not_null().default("active"))
                .col(col("status_reason").text().null())
                .col(now_tz("created_at"))
                .col(now_tz("updated_at"))
                .to_owned(),
        )
        .await?;

        // Global: people. Emails are stored lower-cased, so the unique key is case-insensitive.
        m.create_table(
            Table::create()
                .table(Alias::new("users"))
                .col(id())
                .col(col("pid").uuid().not_null().unique_key())
                .col(col("email").string_len(254).not_null().unique_key())
                .col(col("name").string_len(120).not_null())
                .col(col("password_hash").string().not_null())
                .col(tz_null("email_verified_at"))
                .col(now_tz("created_at"))
                .col(now_tz("updated_at"))
                .to_owned(),
        )
        .await?;

        // Tenant-owned: a role is a name and a set of permissions.
        m.create_table(
            Table::create()
                .table(Alias::new("roles"))
                .col(id())
                .col(col("pid").uuid().not_null().unique_key())
                .col(col("tenant_id").integer().not_null())
                .col(col("name").string_len(60).not_null())
                .col(col("permissions").text().not_null().default(""))
                .col(now_tz("created_at"))
                .col(now_tz("updated_at"))
                .foreign_key(&mut fk(
                    "fk_roles_tenant",
                    "roles",
                    &["tenant_id"],
                    "tenants",
                    &["id"],
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "uq_roles_tenant_name",
            "roles",
            &["tenant_id", "name"],
        ))
        .await?;
        m.create_index(unique("uq_roles_tenant_id", "roles", &["tenant_id", "id"]))
            .await?;

        // Tenant-owned: a person's place in a local.
        m.create_table(
            Table::create()
                .table(Alias::new("memberships"))
                .col(id())
                .col(col("pid").uuid().not_null().unique_key())
                .col(col("tenant_id").integer().not_null())
                .col(col("user_id").integer().not_null())
                .col(col("role_id").integer().not_null())
                .col(tz_null("disabled_at"))
                .col(now_tz("created_at"))
                .col(now_tz("updated_at"))
                .foreign_key(&mut fk(
                    "fk_memberships_tenant",
                    "memberships",
                    &["tenant_id"],
                    "tenants",
                    &["id"],
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_memberships_user",
                    "memberships",
                    &["user_id"],
                    "users",
                    &["id"],
                    ForeignKeyAction::Cascade,
                ))
                // The role must belong to the same local.
                .foreign_key(&mut fk(
                    "fk_memberships_role",
                    "memberships",
                    &["tenant_id", "role_id"],
                    "roles",
                    &["tenant_id", "id"],
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "uq_memberships_tenant_user",
            "memberships",
            &["tenant_id", "user_id"],
        ))
        .await?;
        m.create_index(index("ix_memberships_user", "memberships", &["user_id"]))
            .await?;

        // Tenant-owned: invitations by email with a role; the token is stored hashed.
        m.create_table(
            Table::create()
                .table(Alias::new("invitations"))
                .col(id())
                .col(col("pid").uuid().not_null().unique_key())
                .col(col("tenant_id").integer().not_null())
                .col(col("email").string_len(254).not_null())
                .col(col("role_id").integer().not_null())
                .col(col("invited_by_id").integer().null())
                .col(col("token_hash").string_len(64).not_null().unique_key())
                .col(col("expires_at").timestamp_with_time_zone().not_null())
                .col(tz_null("accepted_at"))
                .col(tz_null("revoked_at"))
                .col(now_tz("created_at"))
                .col(now_tz("updated_at"))
                .foreign_key(&mut fk(
                    "fk_invitations_tenant",
                    "invitations",
                    &["tenant_id"],
                    "tenants",
                    &["id"],
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_invitations_role",
                    "invitations",
                    &["tenant_id", "role_id"],
                    "roles",
                    &["tenant_id", "id"],
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_invitations_invited_by",
                    "invitations",
                    &["invited_by_id"],
                    "users",
                    &["id"],
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_invitations_tenant_email",
            "invitations",
            &["tenant_id", "email"],
        ))
        .await?;

        // Global: single-use tokens for password resets and email verification.
        m.create_table(
            Table::create()
                .table(Alias::new("user_tokens"))
                .col(id())
                .col(col("user_id").integer().not_null())
                .col(col("purpose").string_len(32).not_null())
                .col(col("token_hash").string_len(64).not_null().unique_key())
                .col(col("expires_at").timestamp_with_time_zone().not_null())
                .col(tz_null("used_at"))
                .col(now_tz("created_at"))
                .foreign_key(&mut fk(
                    "fk_user_tokens_user",
                    "user_tokens",
                    &["user_id"],
                    "users",
                    &["id"],
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;

        // Global: server-side browser sessions (tower-sessions records).
        m.create_table(
            Table::create()
                .table(Alias::new("sessions"))
                .col(col("id").string_len(64).not_null().primary_key())
                .col(col("user_id").integer().null())
                .col(col("data").text().not_null())
                .col(col("expires_at").timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_sessions_user", "sessions", &["user_id"]))
            .await?;
        m.create_index(index("ix_sessions_expires", "sessions", &["expires_at"]))
            .await?;

        // Global: sign-in attempts, for throttling by email and by client address.
        m.create_table(
            Table::create()
                .table(Alias::new("login_attempts"))
                .col(id())
                .col(col("email").string_len(254).not_null())
                .col(col("ip").string_len(64).not_null())
                .col(col("succeeded").boolean().not_null())
                .col(now_tz("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_login_attempts_email",
            "login_attempts",
            &["email", "created_at"],
        ))
        .await?;
        m.create_index(index(
            "ix_login_attempts_ip",
            "login_attempts",
            &["ip", "created_at"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "login_attempts",
            "sessions",
            "user_tokens",
            "invitations",
            "memberships",
            "roles",
            "users",
            "tenants",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
