//! Every tenant-owned resource, reached by a person of another local: 404,
//! exactly as for a missing row, and nothing changes (STYLE.md 14).
use unionhall::models::{
    invitations::Model as Invitation, memberships::Model as Membership, roles::Model as Role,
};

use crate::support::{unique_slug, Client, TestApp, PASSWORD};

struct Fixture {
    _app: TestApp,
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
        _app: app,
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
