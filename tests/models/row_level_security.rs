//! The database backstop: row-level security on every tenant-owned table
//! (PostgreSQL only: the SQLite run of the model tests skips this module).
use sea_orm::{ConnectionTrait, EntityTrait, Statement, TransactionTrait};
use unionhall::models::_entities::{invitations, memberships, roles};

use crate::support::{unique_slug, TestApp};

#[tokio::test]
async fn every_table_with_a_tenant_id_has_forced_row_level_security_and_a_policy() {
    let app = TestApp::start().await;
    assert!(
        app.is_postgres(),
        "row-level security exists on PostgreSQL only"
    );
    let rows = app
        .ctx
        .db
        .query_all_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT c.relname AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
                    (SELECT count(*) FROM pg_policies p WHERE p.tablename = c.relname AND p.policyname = 'tenant_isolation') AS policies
             FROM information_schema.columns col
             JOIN pg_class c ON c.relname = col.table_name AND c.relkind = 'r'
             JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = col.table_schema
             WHERE col.column_name = 'tenant_id' AND col.table_schema = 'public'",
        ))
        .await
        .unwrap();

    assert!(
        rows.len() >= 3,
        "expected the tenant-owned tables, found {}",
        rows.len()
    );
    for row in rows {
        let name: String = row.try_get("", "name").unwrap();
        let enabled: bool = row.try_get("", "enabled").unwrap();
        let forced: bool = row.try_get("", "forced").unwrap();
        let policies: i64 = row.try_get("", "policies").unwrap();
        assert!(
            enabled && forced,
            "{name} must enable and force row-level security"
        );
        assert_eq!(policies, 1, "{name} must have the tenant_isolation policy");
    }
}

#[tokio::test]
async fn the_tenant_role_owns_nothing_and_cannot_bypass_row_level_security() {
    let app = TestApp::start().await;
    assert!(
        app.is_postgres(),
        "row-level security exists on PostgreSQL only"
    );
    let row = app
        .ctx
        .db
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT r.rolbypassrls AS bypass, r.rolsuper AS superuser,
                    (SELECT count(*) FROM pg_tables t WHERE t.tableowner = r.rolname) AS owned
             FROM pg_roles r WHERE r.rolname = 'app_tenant'",
        ))
        .await
        .unwrap()
        .expect("the app_tenant role exists");

    assert!(!row.try_get::<bool>("", "bypass").unwrap());
    assert!(!row.try_get::<bool>("", "superuser").unwrap());
    assert_eq!(row.try_get::<i64>("", "owned").unwrap(), 0);
}

#[tokio::test]
async fn a_query_that_forgets_its_tenant_filter_sees_only_its_own_local() {
    let app = TestApp::start().await;
    assert!(
        app.is_postgres(),
        "row-level security exists on PostgreSQL only"
    );
    let (a, _) = app.local_with_admin(&unique_slug("rla")).await;
    let (b, _) = app.local_with_admin(&unique_slug("rlb")).await;

    let txn = a.begin().await.unwrap();
    let all_roles = roles::Entity::find().all(&txn).await.unwrap();
    let all_memberships = memberships::Entity::find().all(&txn).await.unwrap();
    let who = txn
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT current_user AS who",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "who")
        .unwrap();
    txn.commit().await.unwrap();

    assert_eq!(who, "app_tenant");
    assert_eq!(all_roles.len(), 4);
    assert!(all_roles.iter().all(|r| r.tenant_id == a.id()));
    assert!(all_memberships.iter().all(|m| m.tenant_id == a.id()));
    let superuser_view = roles::Entity::find().all(&app.ctx.db).await.unwrap();
    assert!(
        superuser_view.iter().any(|r| r.tenant_id == b.id()),
        "local B's rows exist; RLS hid them"
    );
}

#[tokio::test]
async fn writing_a_row_of_another_local_is_refused_by_the_database() {
    let app = TestApp::start().await;
    assert!(
        app.is_postgres(),
        "row-level security exists on PostgreSQL only"
    );
    let (a, _) = app.local_with_admin(&unique_slug("wra")).await;
    let (b, _) = app.local_with_admin(&unique_slug("wrb")).await;

    let txn = a.begin().await.unwrap();
    let insert = txn
        .execute_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "INSERT INTO roles (pid, tenant_id, name, permissions) VALUES (gen_random_uuid(), $1, 'Intruder', '')",
            [b.id().into()],
        ))
        .await;
    txn.rollback().await.unwrap();
    let txn = a.begin().await.unwrap();
    let update = txn
        .execute_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "UPDATE roles SET name = 'Renamed' WHERE tenant_id = $1",
            [b.id().into()],
        ))
        .await
        .unwrap();
    txn.commit().await.unwrap();

    let message = insert.expect_err("the insert must fail").to_string();
    assert!(message.contains("row-level security"), "{message}");
    assert_eq!(update.rows_affected(), 0);
}

#[tokio::test]
async fn a_transaction_with_no_tenant_sees_no_tenant_rows_and_settings_do_not_leak() {
    let app = TestApp::start().await;
    assert!(
        app.is_postgres(),
        "row-level security exists on PostgreSQL only"
    );
    let (a, _) = app.local_with_admin(&unique_slug("none")).await;
    let txn = a.begin().await.unwrap();
    txn.commit().await.unwrap();

    let txn = app.ctx.db.begin().await.unwrap();
    txn.execute_unprepared("SET LOCAL ROLE app_tenant")
        .await
        .unwrap();
    let roles_seen = roles::Entity::find().all(&txn).await.unwrap();
    let invitations_seen = invitations::Entity::find().all(&txn).await.unwrap();
    let setting = txn
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT coalesce(current_setting('app.tenant_id', true), '') AS t",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "t")
        .unwrap();
    txn.commit().await.unwrap();

    assert!(roles_seen.is_empty());
    assert!(invitations_seen.is_empty());
    assert_eq!(
        setting, "",
        "a tenant set in an earlier transaction must not survive it"
    );
}
