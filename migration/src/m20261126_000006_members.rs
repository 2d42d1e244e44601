//! Members (issue 5): the union's structure (employers, worksites,
//! bargaining units), per-local membership statuses, members with their
//! status history, and the shared audit log. Every table is tenant-owned,
//! with composite `(tenant_id, …)` keys and row-level security.
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

use crate::{
    rls,
    schema::{col, fk, id, index, now_tz, tz_null, unique},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A tenant-owned table's common start: id, pid, tenant, timestamps.
pub(crate) fn tenant_table(name: &str) -> TableCreateStatement {
    Table::create()
        .table(Alias::new(name))
        .col(id())
        .col(col("pid").uuid().not_null().unique_key())
        .col(col("tenant_id").integer().not_null())
        .col(now_tz("created_at"))
        .col(now_tz("updated_at"))
        .foreign_key(&mut fk(
            &format!("fk_{name}_tenant"),
            name,
            &["tenant_id"],
            "tenants",
            &["id"],
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

/// `(tenant_id, id)` is unique, so other tables can reference a row together
/// with its local (a member's worksite must be of the member's local).
pub(crate) async fn tenant_key(m: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    m.create_index(unique(
        &format!("uq_{table}_tenant_id"),
        table,
        &["tenant_id", "id"],
    ))
    .await
}

pub(crate) fn same_local(
    name: &str,
    from: &str,
    column: &str,
    to: &str,
) -> ForeignKeyCreateStatement {
    fk(
        name,
        from,
        &["tenant_id", column],
        to,
        &["tenant_id", "id"],
        ForeignKeyAction::Restrict,
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Counts kept cheap for the operators' console and the unfiltered list.
        // First: on SQLite, altering `tenants` after creating the tables that
        // reference it left a booted app inserting locals without the column
        // ("Missing value for column 'members_count'").
        m.alter_table(
            Table::alter()
                .table(Alias::new("tenants"))
                .add_column(col("members_count").integer().not_null().default(0))
                .to_owned(),
        )
        .await?;

        m.create_table(
            tenant_table("employers")
                .col(col("name").string_len(160).not_null())
                .to_owned(),
        )
        .await?;
        tenant_key(m, "employers").await?;
        m.create_index(unique(
            "uq_employers_name",
            "employers",
            &["tenant_id", "name"],
        ))
        .await?;

        m.create_table(
            tenant_table("worksites")
                .col(col("employer_id").integer().not_null())
                .col(col("name").string_len(160).not_null())
                .foreign_key(&mut same_local(
                    "fk_worksites_employer",
                    "worksites",
                    "employer_id",
                    "employers",
                ))
                .to_owned(),
        )
        .await?;
        tenant_key(m, "worksites").await?;
        // A worksite is referenced with its employer, so a member's worksite is of their employer.
        m.create_index(unique(
            "uq_worksites_employer_id",
            "worksites",
            &["tenant_id", "employer_id", "id"],
        ))
        .await?;
        m.create_index(unique(
            "uq_worksites_name",
            "worksites",
            &["tenant_id", "employer_id", "name"],
        ))
        .await?;

        m.create_table(
            tenant_table("bargaining_units")
                .col(col("name").string_len(160).not_null())
                .to_owned(),
        )
        .await?;
        tenant_key(m, "bargaining_units").await?;
        m.create_index(unique(
            "uq_bargaining_units_name",
            "bargaining_units",
            &["tenant_id", "name"],
        ))
        .await?;

        m.create_table(
            tenant_table("membership_statuses")
                .col(col("name").string_len(60).not_null())
                .col(col("in_good_standing").boolean().not_null().default(false))
                .col(col("position").integer().not_null().default(0))
                .to_owned(),
        )
        .await?;
        tenant_key(m, "membership_statuses").await?;
        m.create_index(unique(
            "uq_membership_statuses_name",
            "membership_statuses",
            &["tenant_id", "name"],
        ))
        .await?;

        m.create_table(
            tenant_table("members")
                .col(col("first_name").string_len(120).not_null())
                .col(col("last_name").string_len(120).not_null())
                .col(col("email").string_len(254).null())
                .col(col("phone").string_len(16).null())
                .col(col("address").text().null())
                .col(col("employee_number").string_len(40).null())
                .col(col("employer_id").integer().null())
                .col(col("worksite_id").integer().null())
                .col(col("bargaining_unit_id").integer().null())
                .col(col("status_id").integer().not_null())
                .col(col("join_date").date().null())
                .col(col("user_id").integer().null())
                .col(col("email_opt_in").boolean().not_null().default(true))
                .col(col("sms_opt_in").boolean().not_null().default(false))
                // Lower-cased names, email, phone digits and employee number, for search.
                .col(col("search").text().not_null().default(""))
                .col(tz_null("archived_at"))
                .foreign_key(&mut same_local(
                    "fk_members_employer",
                    "members",
                    "employer_id",
                    "employers",
                ))
                .foreign_key(&mut same_local(
                    "fk_members_unit",
                    "members",
                    "bargaining_unit_id",
                    "bargaining_units",
                ))
                .foreign_key(&mut same_local(
                    "fk_members_status",
                    "members",
                    "status_id",
                    "membership_statuses",
                ))
                .foreign_key(&mut fk(
                    "fk_members_worksite",
                    "members",
                    &["tenant_id", "employer_id", "worksite_id"],
                    "worksites",
                    &["tenant_id", "employer_id", "id"],
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    "fk_members_user",
                    "members",
                    &["user_id"],
                    "users",
                    &["id"],
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        tenant_key(m, "members").await?;
        m.create_index(unique(
            "uq_members_employee_number",
            "members",
            &["tenant_id", "employee_number"],
        ))
        .await?;
        // Keyset orders: by name, by join date, by status; each ends in id.
        m.create_index(index(
            "ix_members_name",
            "members",
            &["tenant_id", "last_name", "first_name", "id"],
        ))
        .await?;
        m.create_index(index(
            "ix_members_join_date",
            "members",
            &["tenant_id", "join_date", "id"],
        ))
        .await?;
        m.create_index(index(
            "ix_members_status",
            "members",
            &["tenant_id", "status_id", "id"],
        ))
        .await?;
        m.create_index(index(
            "ix_members_email",
            "members",
            &["tenant_id", "email"],
        ))
        .await?;
        m.create_index(index("ix_members_user", "members", &["user_id"]))
            .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            let db = m.get_connection();
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                .await?;
            db.execute_unprepared(
                "CREATE INDEX ix_members_search_trgm ON members USING gin (search gin_trgm_ops)",
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(Alias::new("member_status_changes"))
                .col(id())
                .col(col("tenant_id").integer().not_null())
                .col(col("member_id").integer().not_null())
                .col(col("from_status_id").integer().null())
                .col(col("to_status_id").integer().not_null())
                .col(col("changed_by_id").integer().null())
                .col(col("changed_on").date().not_null())
                .col(now_tz("created_at"))
                .foreign_key(&mut fk(
                    "fk_member_status_changes_member",
                    "member_status_changes",
                    &["tenant_id", "member_id"],
                    "members",
                    &["tenant_id", "id"],
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut same_local(
                    "fk_member_status_changes_to",
                    "member_status_changes",
                    "to_status_id",
                    "membership_statuses",
                ))
                .foreign_key(&mut fk(
                    "fk_member_status_changes_by",
                    "member_status_changes",
                    &["changed_by_id"],
                    "users",
                    &["id"],
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_member_status_changes_member",
            "member_status_changes",
            &["tenant_id", "member_id", "id"],
        ))
        .await?;

        // The shared audit log: who changed which fields of which record.
        m.create_table(
            Table::create()
                .table(Alias::new("audit_events"))
                .col(id())
                .col(col("tenant_id").integer().not_null())
                .col(col("actor_id").integer().null())
                .col(col("subject_type").string_len(40).not_null())
                .col(col("subject_id").integer().not_null())
                .col(col("action").string_len(40).not_null())
                .col(col("changes").text().not_null())
                .col(now_tz("created_at"))
                .foreign_key(&mut fk(
                    "fk_audit_events_tenant",
                    "audit_events",
                    &["tenant_id"],
                    "tenants",
                    &["id"],
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_audit_events_actor",
                    "audit_events",
                    &["actor_id"],
                    "users",
                    &["id"],
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_audit_events_subject",
            "audit_events",
            &["tenant_id", "subject_type", "subject_id", "id"],
        ))
        .await?;
        m.create_index(index(
            "ix_audit_events_tenant",
            "audit_events",
            &["tenant_id", "id"],
        ))
        .await?;

        for table in [
            "employers",
            "worksites",
            "bargaining_units",
            "membership_statuses",
            "members",
            "member_status_changes",
            "audit_events",
        ] {
            rls::protect(m, table).await?;
        }

        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("tenants"))
                .drop_column(Alias::new("members_count"))
                .to_owned(),
        )
        .await?;
        for table in [
            "audit_events",
            "member_status_changes",
            "members",
            "membership_statuses",
            "bargaining_units",
            "worksites",
            "employers",
        ] {
            m.drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
