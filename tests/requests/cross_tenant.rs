//! Every tenant-owned resource, reached by a person of another local: 404,
//! exactly as for a missing row, and nothing changes (STYLE.md 14).
use unionhall::models::{
    invitations::Model as Invitation, memberships::Model as Membership, roles::Model as Role,
};

use crate::support::{unique_slug, Client, TestApp, PASSWORD};

struct Fixture {
    app: TestApp,
    slug_a: String,
    slug_b: String,
    tenant_a: unionhall::models::tenants::Tenant,
    role_a: uuid::Uuid,
    person_a: uuid::Uuid,
    invitation_a: uuid::Uuid,
    admin_b: Client,
}

/// Local A with a role, a person and a pending invitation; local B's admin signed in.
async fn fixture() -> Fixture {
    let app = TestApp::start().await;
    let slug_a = unique_slug("a");
    let slug_b = unique_slug("b");
    let (tenant_a, admin_a) = app.local_with_admin(&slug_a).await;
    let (_, admin_b_user) = app.local_with_admin(&slug_b).await;
    let officer = app.person_with_role(&tenant_a, "Officer").await;
    let roles = Role::list(&tenant_a).await.unwrap();
    let role_a = roles
        .iter()
        .find(|r| r.role.name == "Steward")
        .unwrap()
        .role
        .pid;
    let person_a = Membership::list(&tenant_a)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.user.id == officer.id)
        .unwrap()
        .membership
        .pid;
    let (invitation, _) = app.invite(&tenant_a, &admin_a, "Steward").await;
    let mut admin_b = app.client();
    admin_b.sign_in(&admin_b_user.email, PASSWORD).await;
    Fixture {
        app,
        slug_a,
        slug_b,
        tenant_a,
        role_a,
        person_a,
        invitation_a: invitation.pid,
        admin_b,
    }
}

#[tokio::test]
async fn a_person_of_local_b_cannot_open_any_page_of_local_a() {
    let f = fixture().await;
    let a = &f.slug_a;
    for path in [
        format!("/l/{a}"),
        format!("/l/{a}/users"),
        format!("/l/{a}/users/{}", f.person_a),
        format!("/l/{a}/roles"),
        format!("/l/{a}/roles/new"),
        format!("/l/{a}/roles/{}/edit", f.role_a),
        format!("/l/{a}/invitations"),
    ] {
        let response = f.admin_b.get(&path).await;
        assert_eq!(response.status_code(), 404, "{path}");
        assert!(response.text().contains("Page not found"), "{path}");
    }
}

#[tokio::test]
async fn local_a_rows_reached_through_local_b_are_not_found() {
    let f = fixture().await;
    let b = &f.slug_b;
    assert_eq!(
        f.admin_b
            .get(&format!("/l/{b}/roles/{}/edit", f.role_a))
            .await
            .status_code(),
        404
    );
    assert_eq!(
        f.admin_b
            .get(&format!("/l/{b}/users/{}", f.person_a))
            .await
            .status_code(),
        404
    );
}

#[tokio::test]
async fn changing_or_deleting_local_a_rows_from_local_b_answers_404_and_changes_nothing() {
    let mut f = fixture().await;
    let steward_before = Role::find(&f.tenant_a, f.role_a).await.unwrap();
    let person_before = Membership::find(&f.tenant_a, f.person_a).await.unwrap();
    let b_admin_role = {
        let page = f
            .admin_b
            .get(&format!("/l/{}/roles", f.slug_b))
            .await
            .text();
        page.split("/roles/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string()
    };
    let attempts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            format!("/l/{}/roles/{}?_method=put", f.slug_b, f.role_a),
            vec![("name", "Hijacked"), ("permissions", "members.read")],
        ),
        (
            format!("/l/{}/roles/{}?_method=put", f.slug_a, f.role_a),
            vec![("name", "Hijacked"), ("permissions", "members.read")],
        ),
        (
            format!("/l/{}/roles/{}?_method=delete", f.slug_b, f.role_a),
            vec![],
        ),
        (
            format!("/l/{}/roles/{}?_method=delete", f.slug_a, f.role_a),
            vec![],
        ),
        (
            format!("/l/{}/users/{}?_method=put", f.slug_b, f.person_a),
            vec![("role", b_admin_role.as_str())],
        ),
        (
            format!("/l/{}/users/{}/disablement", f.slug_b, f.person_a),
            vec![],
        ),
        (
            format!("/l/{}/users/{}/disablement", f.slug_a, f.person_a),
            vec![],
        ),
        (
            format!(
                "/l/{}/invitations/{}?_method=delete",
                f.slug_b, f.invitation_a
            ),
            vec![],
        ),
        (
            format!(
                "/l/{}/invitations/{}?_method=delete",
                f.slug_a, f.invitation_a
            ),
            vec![],
        ),
        (format!("/l/{}/roles", f.slug_a), vec![("name", "Planted")]),
        (
            format!("/l/{}/invitations", f.slug_a),
            vec![("email", "planted@example.org"), ("role", "x")],
        ),
    ];

    for (path, fields) in attempts {
        let response = f.admin_b.submit(&path, &fields).await;
        assert_eq!(response.status_code(), 404, "{path}");
    }

    assert_eq!(
        Role::find(&f.tenant_a, f.role_a).await.unwrap(),
        steward_before
    );
    let person_after = Membership::find(&f.tenant_a, f.person_a).await.unwrap();
    assert_eq!(person_after.membership, person_before.membership);
    let pending = Invitation::pending(&f.tenant_a).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].invitation.pid, f.invitation_a);
    assert!(Role::list(&f.tenant_a)
        .await
        .unwrap()
        .iter()
        .all(|r| r.role.name != "Planted"));
}

#[tokio::test]
async fn local_a_bulk_changes_cannot_be_read_made_or_aimed_at_from_local_b() {
    use unionhall::models::{
        member_bulk_changes::{BulkChange, Model as Bulk, Selection},
        members::Model as Member,
        structure::Directory,
    };
    let mut f = fixture().await;
    let a_dir = Directory::load(&f.tenant_a).await.unwrap();
    let a_status = |name: &str| a_dir.statuses.iter().find(|s| s.name == name).unwrap().pid;
    let ann = Member::create(&f.tenant_a, crate::support::new_member("Ann", "Able", true))
        .await
        .unwrap();
    let bulk = Bulk::create(
        &f.tenant_a,
        Selection::Members(vec![ann.pid]),
        BulkChange {
            status: Some(a_status("Retired")),
            ..BulkChange::default()
        },
    )
    .await
    .unwrap();
    let ann = Member::find(&f.tenant_a, ann.pid).await.unwrap();

    // Its progress page, through either local's address.
    for slug in [&f.slug_a, &f.slug_b] {
        let path = format!("/l/{slug}/member_bulk_changes/{}", bulk.pid);
        let response = f.admin_b.get(&path).await;
        assert_eq!(response.status_code(), 404, "{path}");
        assert!(response.text().contains("Page not found"), "{path}");
    }
    // A new bulk change in local A, by local B's admin.
    let suspended = a_status("Suspended").to_string();
    let ann_pid = ann.pid.to_string();
    let into_a = f
        .admin_b
        .submit(
            &format!("/l/{}/member_bulk_changes", f.slug_a),
            &[
                ("member", &ann_pid),
                ("scope", "selected"),
                ("status", &suspended),
            ],
        )
        .await;
    assert_eq!(into_a.status_code(), 404);
    // Local A's member and status, named in a bulk change of local B: the
    // status is not one of B's, so it is refused.
    let aimed = f
        .admin_b
        .submit(
            &format!("/l/{}/member_bulk_changes", f.slug_b),
            &[
                ("member", &ann_pid),
                ("scope", "selected"),
                ("status", &suspended),
            ],
        )
        .await;
    assert_eq!(aimed.status_code(), 422);
    // (Local B's roll is empty, so its list shows no bulk form to carry
    // the message; the refusal is the 422 and local B's own list.)
    assert!(aimed.text().contains(&format!(
        "<title>Members · {} · Union Hall</title>",
        f.slug_b
    )));
    // No bulk change was recorded in local A but its own.
    use sea_orm::ConnectionTrait;
    let rows = f
        .app
        .owner_db()
        .query_one_raw(sea_orm::Statement::from_string(
            f.app.owner_db().get_database_backend(),
            format!(
                "SELECT count(*) AS n FROM member_bulk_changes WHERE tenant_id = {}",
                f.tenant_a.id()
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rows.try_get::<i64>("", "n").unwrap(), 1);
    let after = Member::find(&f.tenant_a, ann.pid).await.unwrap();
    assert_eq!(after.status_id, ann.status_id, "nothing changed");
    assert_eq!(after.updated_at, ann.updated_at, "nothing changed");
}
