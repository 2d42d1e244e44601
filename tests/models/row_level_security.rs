//! The database backstop: row-level security on every tenant-owned table
//! (PostgreSQL only: the SQLite run of the model tests skips this module).
use sea_orm::{ConnectionTrait, EntityTrait, Statement, TransactionTrait};
use unionhall::models::_entities::{invitations, members, memberships, roles};

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
async fn the_app_s_bare_pool_sees_no_tenant_row_of_any_local() {
    let app = TestApp::start().await;
    assert!(
        app.is_postgres(),
        "row-level security exists on PostgreSQL only"
    );
    let (a, _) = app.local_with_admin(&unique_slug("bare")).await;
    let member = unionhall::models::members::Model::create(
        &a,
        crate::support::new_member("Bare", "Pool", true),
    )
    .await
    .unwrap();

    // The suite's app connects as the login role production uses.
    let reach = unionhall::database::Reach::of(&app.ctx.db).await.unwrap();
    assert_eq!(reach.user, crate::support::APP_ROLE);
    assert_eq!(reach.unrestricted(), None, "{reach:?}");
    // The owner the tests create databases with is what the check refuses.
    let owner = unionhall::database::Reach::of(app.owner_db())
        .await
        .unwrap();
    assert!(owner.unrestricted().is_some(), "{owner:?}");

    let tables = app
        .owner_db()
        .query_all_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT table_name::text AS name FROM information_schema.columns \
             WHERE column_name = 'tenant_id' AND table_schema = 'public' ORDER BY 1",
        ))
        .await
        .unwrap();
    let mut seen_by_owner = 0;
    for row in tables {
        let table: String = row.try_get("", "name").unwrap();
        let bare = count_rows(&app.ctx.db, &table).await;
        let owned = count_rows(app.owner_db(), &table).await;
        assert_eq!(bare, 0, "the bare pool read {bare} rows of {table}");
        seen_by_owner += owned;
    }
    // The rows are there: the local's roles, its admin's membership, its
    // statuses and the member just added.
    assert!(seen_by_owner >= 4, "{seen_by_owner}");
    assert!(members::Entity::find_by_id(member.id)
        .one(&app.ctx.db)
        .await
        .unwrap()
        .is_none());
    assert!(members::Entity::find_by_id(member.id)
        .one(app.owner_db())
        .await
        .unwrap()
        .is_some());
}

async fn count_rows(db: &sea_orm::DatabaseConnection, table: &str) -> i64 {
    db.query_one_raw(Statement::from_string(
        sea_orm::DbBackend::Postgres,
        format!("SELECT count(*) AS n FROM {table}"),
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get("", "n")
    .unwrap()
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
    let owner_view = roles::Entity::find().all(app.owner_db()).await.unwrap();
    assert!(
        owner_view.iter().any(|r| r.tenant_id == b.id()),
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

/// Runs one statement in local `a`'s transaction (rolled back unless it
/// succeeds); the error's text when it fails.
async fn run_in(a: &unionhall::models::tenants::Tenant, sql: &str) -> Result<u64, String> {
    let txn = a.begin().await.unwrap();
    match txn
        .execute_raw(Statement::from_string(sea_orm::DbBackend::Postgres, sql))
        .await
    {
        Ok(done) => {
            txn.commit().await.unwrap();
            Ok(done.rows_affected())
        }
        Err(e) => {
            txn.rollback().await.unwrap();
            Err(e.to_string())
        }
    }
}

#[tokio::test]
async fn a_member_placed_outside_its_local_or_a_place_members_name_deleted_is_refused_by_the_database(
) {
    let app = TestApp::start().await;
    assert!(app.is_postgres(), "the placement checks are PostgreSQL's");
    let (a, _) = app.local_with_admin(&unique_slug("pla")).await;
    let (b, _) = app.local_with_admin(&unique_slug("plb")).await;
    // Local B's structure, and local A's, written as the application would.
    let place = |t: &unionhall::models::tenants::Tenant, tag: &str| {
        format!(
            "WITH e AS (INSERT INTO employers (pid, tenant_id, name) VALUES (gen_random_uuid(), {id}, 'Employer {tag}') RETURNING id),
                  w AS (INSERT INTO worksites (pid, tenant_id, employer_id, name) SELECT gen_random_uuid(), {id}, id, 'Site {tag}' FROM e RETURNING id)
             INSERT INTO bargaining_units (pid, tenant_id, name) VALUES (gen_random_uuid(), {id}, 'Unit {tag}')",
            id = t.id()
        )
    };
    run_in(&a, &place(&a, "A")).await.unwrap();
    run_in(&b, &place(&b, "B")).await.unwrap();
    let ids = |t: i32| {
        format!(
            "(SELECT id FROM employers WHERE tenant_id = {t}), (SELECT id FROM worksites WHERE tenant_id = {t}),
             (SELECT id FROM bargaining_units WHERE tenant_id = {t}),
             (SELECT min(id) FROM membership_statuses WHERE tenant_id = {t})"
        )
    };
    // The owner sees every local, so B's ids are real ids here.
    let b_place: Vec<i32> = {
        let row = app
            .owner_db()
            .query_one_raw(Statement::from_string(
                sea_orm::DbBackend::Postgres,
                format!("SELECT {}", ids(b.id())),
            ))
            .await
            .unwrap()
            .unwrap();
        (0..4)
            .map(|i| row.try_get_by_index::<i32>(i).unwrap())
            .collect()
    };
    let member = |e: &str, w: &str, u: &str, s: &str| {
        format!(
            "INSERT INTO members (pid, tenant_id, first_name, last_name, employer_id, worksite_id,
                 bargaining_unit_id, status_id, search)
             SELECT gen_random_uuid(), {a}, 'Ann', 'Lee', {e}, {w}, {u}, {s}, 'ann lee'
             FROM (SELECT {own}) AS own(e, w, u, s)",
            a = a.id(),
            own = ids(a.id()),
        )
    };
    let [be, bw, bu, bs] = [b_place[0], b_place[1], b_place[2], b_place[3]].map(|v| v.to_string());
    for (bad, constraint) in [
        (member(&be, "NULL", "u", "s"), "fk_members_employer"),
        (member("e", &bw, "u", "s"), "fk_members_worksite"),
        (member("NULL", &bw, "u", "s"), "fk_members_worksite"),
        (member("e", "w", &bu, "s"), "fk_members_unit"),
        (member("e", "w", "u", &bs), "fk_members_status"),
    ] {
        let error = run_in(&a, &bad)
            .await
            .expect_err("another local's place is refused");
        assert!(error.contains(constraint), "{constraint}: {error}");
    }
    assert_eq!(
        run_in(&a, &member("e", "w", "u", "s")).await,
        Ok(1),
        "its own local's places"
    );
    let moved = run_in(&a, &format!("UPDATE members SET status_id = {bs}")).await;
    assert!(moved
        .expect_err("moved to B's status")
        .contains("fk_members_status"));

    // What a member names cannot go, even past the application's own checks.
    for (table, constraint) in [
        ("worksites", "fk_members_worksite"),
        ("employers", "fk_members_employer"),
        ("bargaining_units", "fk_members_unit"),
        ("membership_statuses", "fk_members_status"),
    ] {
        let error = run_in(
            &a,
            &format!("DELETE FROM {table} WHERE id IN (SELECT {column} FROM members WHERE tenant_id = {id})",
                column = match table {
                    "worksites" => "worksite_id",
                    "employers" => "employer_id",
                    "bargaining_units" => "bargaining_unit_id",
                    _ => "status_id",
                },
                id = a.id()),
        )
        .await
        .expect_err("in use");
        assert!(error.contains(constraint), "{table}: {error}");
    }
    let second = format!(
        "INSERT INTO employers (pid, tenant_id, name) VALUES (gen_random_uuid(), {}, 'Employer A2')",
        a.id()
    );
    run_in(&a, &second).await.unwrap();
    let error = run_in(
        &a,
        "UPDATE worksites SET employer_id = (SELECT max(id) FROM employers)",
    )
    .await
    .expect_err("a worksite keeps its employer while members name both");
    assert!(error.contains("fk_members_worksite"), "{error}");
    // Once nobody names them, they go.
    run_in(
        &a,
        "UPDATE members SET worksite_id = NULL, employer_id = NULL, bargaining_unit_id = NULL",
    )
    .await
    .unwrap();
    assert_eq!(run_in(&a, "DELETE FROM worksites").await, Ok(1));
    assert_eq!(run_in(&a, "DELETE FROM employers").await, Ok(2));
    assert_eq!(run_in(&a, "DELETE FROM bargaining_units").await, Ok(1));
}
