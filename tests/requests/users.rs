//! Admins change people's roles and disable or enable their access.
use unionhall::models::{memberships::Model as Membership, roles::Model as Role};

use crate::support::{location, unique_slug, TestApp, PASSWORD};

#[tokio::test]
async fn disabling_a_person_signs_them_out_and_keeps_them_out_until_enabled() {
    let app = TestApp::start().await;
    let slug = unique_slug("dis");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let officer = app.person_with_role(&tenant, "Officer").await;
    let mut admin_browser = app.client();
    admin_browser.sign_in(&admin.email, PASSWORD).await;
    let mut officer_browser = app.client();
    officer_browser.sign_in(&officer.email, PASSWORD).await;
    let pid = Membership::list(&tenant)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.user.id == officer.id)
        .unwrap()
        .membership
        .pid;

    let disabled = admin_browser
        .submit(&format!("/l/{slug}/users/{pid}/disablement"), &[])
        .await;

    assert_eq!(location(&disabled), format!("/l/{slug}/users/{pid}"));
    assert_eq!(
        officer_browser
            .get(&format!("/l/{slug}"))
            .await
            .status_code(),
        303,
        "their session ended"
    );
    officer_browser.sign_in(&officer.email, PASSWORD).await;
    let refused = officer_browser.get(&format!("/l/{slug}")).await;
    assert_eq!(refused.status_code(), 403);
    assert!(refused.text().contains("Your access is disabled"));

    admin_browser
        .submit(
            &format!("/l/{slug}/users/{pid}/disablement?_method=delete"),
            &[],
        )
        .await;
    assert_eq!(
        officer_browser
            .get(&format!("/l/{slug}"))
            .await
            .status_code(),
        200
    );
}

#[tokio::test]
async fn an_admin_changes_a_role_but_cannot_demote_the_last_admin() {
    let app = TestApp::start().await;
    let slug = unique_slug("chrole");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let steward = app.person_with_role(&tenant, "Steward").await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    let people = Membership::list(&tenant).await.unwrap();
    let steward_pid = people
        .iter()
        .find(|p| p.user.id == steward.id)
        .unwrap()
        .membership
        .pid;
    let admin_pid = people
        .iter()
        .find(|p| p.user.id == admin.id)
        .unwrap()
        .membership
        .pid;
    let roles = Role::list(&tenant).await.unwrap();
    let officer_role = roles
        .iter()
        .find(|r| r.role.name == "Officer")
        .unwrap()
        .role
        .pid
        .to_string();

    let promoted = browser
        .submit(
            &format!("/l/{slug}/users/{steward_pid}?_method=put"),
            &[("role", &officer_role)],
        )
        .await;
    let demoted = browser
        .submit(
            &format!("/l/{slug}/users/{admin_pid}?_method=put"),
            &[("role", &officer_role)],
        )
        .await;
    let self_disabled = browser
        .submit(&format!("/l/{slug}/users/{admin_pid}/disablement"), &[])
        .await;
    let bogus = browser
        .submit(
            &format!("/l/{slug}/users/{steward_pid}?_method=put"),
            &[("role", "not-a-role")],
        )
        .await;

    assert_eq!(promoted.status_code(), 303);
    assert_eq!(
        Membership::find(&tenant, steward_pid)
            .await
            .unwrap()
            .role
            .name,
        "Officer"
    );
    assert_eq!(demoted.status_code(), 422);
    assert!(demoted.text().contains("without an admin"));
    assert_eq!(self_disabled.status_code(), 422);
    assert_eq!(bogus.status_code(), 422);
    let admin_now = Membership::find(&tenant, admin_pid).await.unwrap();
    assert_eq!(admin_now.role.name, "Admin");
    assert!(!admin_now.is_disabled());
}
