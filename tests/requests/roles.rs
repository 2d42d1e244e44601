//! Admins create, edit and delete roles.
use unionhall::models::roles::Model as Role;

use crate::support::{location, unique_slug, TestApp, PASSWORD};

#[tokio::test]
async fn an_admin_creates_edits_and_deletes_a_role() {
    let app = TestApp::start().await;
    let slug = unique_slug("roles");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;

    let created = browser
        .submit(
            &format!("/l/{slug}/roles"),
            &[
                ("name", "Treasurer"),
                ("permissions", "billing.manage"),
                ("permissions", "reports.read"),
            ],
        )
        .await;
    assert_eq!(location(&created), format!("/l/{slug}/roles"));
    let role = Role::list(&tenant)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.role.name == "Treasurer")
        .unwrap()
        .role;
    assert_eq!(role.permissions, "reports.read billing.manage");

    let edit = browser
        .get(&format!("/l/{slug}/roles/{}/edit", role.pid))
        .await
        .text();
    assert!(edit.contains("value=\"billing.manage\" checked"));
    let updated = browser
        .submit(
            &format!("/l/{slug}/roles/{}?_method=put", role.pid),
            &[
                ("name", "Financial Secretary"),
                ("permissions", "billing.manage"),
            ],
        )
        .await;
    assert_eq!(updated.status_code(), 303);
    let role = Role::find(&tenant, role.pid).await.unwrap();
    assert_eq!(
        (role.name.as_str(), role.permissions.as_str()),
        ("Financial Secretary", "billing.manage")
    );

    let deleted = browser
        .submit(&format!("/l/{slug}/roles/{}?_method=delete", role.pid), &[])
        .await;
    assert_eq!(deleted.status_code(), 303);
    assert!(Role::find(&tenant, role.pid).await.is_err());
}

#[tokio::test]
async fn bad_role_input_is_refused_with_messages() {
    let app = TestApp::start().await;
    let slug = unique_slug("badrole");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;

    let empty = browser
        .submit(&format!("/l/{slug}/roles"), &[("name", "  ")])
        .await;
    let unknown = browser
        .submit(
            &format!("/l/{slug}/roles"),
            &[("name", "Root"), ("permissions", "everything")],
        )
        .await;
    let duplicate = browser
        .submit(&format!("/l/{slug}/roles"), &[("name", "Steward")])
        .await;
    let too_long = browser
        .submit(&format!("/l/{slug}/roles"), &[("name", &"r".repeat(61))])
        .await;

    for response in [&empty, &unknown, &duplicate, &too_long] {
        assert_eq!(response.status_code(), 422);
    }
    assert!(empty.text().contains("Enter a name for the role."));
    assert!(unknown.text().contains("Unknown permission."));
    assert!(duplicate
        .text()
        .contains("A role with this name exists already."));
    assert!(too_long.text().contains("Use at most 60 characters."));
    assert_eq!(Role::list(&tenant).await.unwrap().len(), 4);
}

#[tokio::test]
async fn removing_admin_rights_from_the_only_admin_role_is_refused() {
    let app = TestApp::start().await;
    let slug = unique_slug("guard");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    let admin_role = Role::list(&tenant)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.role.name == "Admin")
        .unwrap()
        .role;

    let response = browser
        .submit(
            &format!("/l/{slug}/roles/{}?_method=put", admin_role.pid),
            &[("name", "Admin"), ("permissions", "members.read")],
        )
        .await;

    assert_eq!(response.status_code(), 422);
    assert!(response.text().contains("without an admin"));
    assert_eq!(
        Role::find(&tenant, admin_role.pid)
            .await
            .unwrap()
            .permissions,
        admin_role.permissions
    );
}
