//! The permission matrix of the default roles, walked through real requests.
use unionhall::models::roles::Model as Role;

use crate::support::{unique_slug, TestApp, PASSWORD};

/// (page, Admin, Officer, Steward, Member): the status each default role gets.
const PAGES: &[(&str, u16, u16, u16, u16)] = &[
    ("", 200, 200, 200, 200),
    ("/users", 200, 200, 403, 403),
    ("/roles", 200, 403, 403, 403),
    ("/roles/new", 200, 403, 403, 403),
    ("/invitations", 200, 403, 403, 403),
];

#[tokio::test]
async fn each_default_role_opens_exactly_the_pages_its_permissions_allow() {
    let app = TestApp::start().await;
    let slug = unique_slug("matrix");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let mut people = vec![("Admin", admin)];
    for role in ["Officer", "Steward", "Member"] {
        people.push((role, app.person_with_role(&tenant, role).await));
    }

    for (column, (role, user)) in people.iter().enumerate() {
        let mut browser = app.client();
        browser.sign_in(&user.email, PASSWORD).await;
        for (page, admin, officer, steward, member) in PAGES {
            let expected = [admin, officer, steward, member][column];
            let response = browser.get(&format!("/l/{slug}{page}")).await;
            assert_eq!(response.status_code(), *expected, "{role} on {page}");
            if *expected == 403 {
                assert!(response.text().contains("Not allowed"));
            }
        }
    }
}

#[tokio::test]
async fn roles_without_the_permission_cannot_change_roles_or_invite() {
    let app = TestApp::start().await;
    let slug = unique_slug("deny");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let steward_role = Role::list(&tenant).await.unwrap()[2].role.pid.to_string();
    for role in ["Officer", "Steward", "Member"] {
        let user = app.person_with_role(&tenant, role).await;
        let mut browser = app.client();
        browser.sign_in(&user.email, PASSWORD).await;

        let create = browser
            .submit(
                &format!("/l/{slug}/roles"),
                &[("name", "Mine"), ("permissions", "roles.manage")],
            )
            .await;
        let invite = browser
            .submit(
                &format!("/l/{slug}/invitations"),
                &[("email", "friend@example.org"), ("role", &steward_role)],
            )
            .await;

        assert_eq!(create.status_code(), 403, "{role}");
        assert_eq!(invite.status_code(), 403, "{role}");
    }
    assert_eq!(Role::list(&tenant).await.unwrap().len(), 4);
}
