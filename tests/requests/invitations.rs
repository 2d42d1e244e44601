//! Inviting staff by email, and accepting the invitation.
use unionhall::models::roles::Model as Role;

use crate::support::{
    input_value, location, smtp::sink, unique_email, unique_slug, TestApp, PASSWORD,
};

async fn role_pid(tenant: &unionhall::models::tenants::Tenant, name: &str) -> String {
    Role::list(tenant)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.role.name == name)
        .unwrap()
        .role
        .pid
        .to_string()
}

#[tokio::test]
async fn an_invited_person_creates_an_account_by_the_mailed_link_and_lands_in_the_local() {
    let app = TestApp::start().await;
    let slug = unique_slug("inv");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let mut admin_browser = app.client();
    admin_browser.sign_in(&admin.email, PASSWORD).await;
    let invitee = unique_email("steward");
    let steward = role_pid(&tenant, "Steward").await;

    let sent = admin_browser
        .submit(
            &format!("/l/{slug}/invitations"),
            &[("email", &invitee), ("role", &steward)],
        )
        .await;
    assert_eq!(location(&sent), format!("/l/{slug}/invitations"));
    assert!(admin_browser
        .get(&format!("/l/{slug}/invitations"))
        .await
        .text()
        .contains(&invitee));

    let mail = sink().wait_for(&invitee, 1).await;
    let link = mail.link("invitations").expect("an invitation link");
    let mut invitee_browser = app.client();
    let page = invitee_browser.get(&link).await.text();
    assert!(page.contains("as <strong>Steward</strong>"));
    let missing_name = invitee_browser
        .submit(&link, &[("name", ""), ("password", PASSWORD)])
        .await;
    assert_eq!(missing_name.status_code(), 422);
    assert!(missing_name.text().contains("Enter your name."));
    let joined = invitee_browser
        .submit(&link, &[("name", "Stella Steward"), ("password", PASSWORD)])
        .await;

    assert_eq!(location(&joined), format!("/l/{slug}"));
    let home = invitee_browser.get(&format!("/l/{slug}")).await.text();
    assert!(home.contains("signed in as <strong>Steward</strong>"));
    let reused = app.client().get(&link).await;
    assert_eq!(reused.status_code(), 404);
    assert!(reused.text().contains("This link no longer works"));
}

#[tokio::test]
async fn an_invitation_to_an_existing_account_is_accepted_after_signing_in() {
    let app = TestApp::start().await;
    let slug = unique_slug("exist");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let (_, other_admin) = app.local_with_admin(&unique_slug("other")).await;
    let mut admin_browser = app.client();
    admin_browser.sign_in(&admin.email, PASSWORD).await;
    let officer = role_pid(&tenant, "Officer").await;
    let sent = admin_browser
        .submit(
            &format!("/l/{slug}/invitations"),
            &[("email", &other_admin.email), ("role", &officer)],
        )
        .await;
    assert_eq!(sent.status_code(), 303, "{}", sent.text());
    let link = sink()
        .wait_for(&other_admin.email, 1)
        .await
        .link("invitations")
        .unwrap();

    let mut browser = app.client();
    assert!(browser
        .get(&link)
        .await
        .text()
        .contains("Sign in</a> to accept"));
    let forged = browser
        .submit(&link, &[("name", "Impostor"), ("password", PASSWORD)])
        .await;
    assert_eq!(
        forged.status_code(),
        422,
        "nobody can take over an existing address through the link"
    );
    browser.sign_in(&other_admin.email, PASSWORD).await;
    let accepted = browser.submit(&link, &[]).await;

    assert_eq!(location(&accepted), format!("/l/{slug}"));
    assert!(browser
        .get(&format!("/l/{slug}"))
        .await
        .text()
        .contains("<strong>Officer</strong>"));
}

#[tokio::test]
async fn a_revoked_invitation_link_no_longer_works() {
    let app = TestApp::start().await;
    let slug = unique_slug("rev");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let mut admin_browser = app.client();
    admin_browser.sign_in(&admin.email, PASSWORD).await;
    let invitee = unique_email("gone");
    let member = role_pid(&tenant, "Member").await;
    admin_browser
        .submit(
            &format!("/l/{slug}/invitations"),
            &[("email", &invitee), ("role", &member)],
        )
        .await;
    let link = sink()
        .wait_for(&invitee, 1)
        .await
        .link("invitations")
        .unwrap();
    let page = admin_browser
        .get(&format!("/l/{slug}/invitations"))
        .await
        .text();
    let revoke = page
        .split("action=\"")
        .filter_map(|s| s.split('"').next())
        .find(|a| a.contains("/invitations/") && a.contains("_method=delete"))
        .unwrap()
        .replace("&amp;", "&");

    let revoked = admin_browser.submit(&revoke, &[]).await;

    assert_eq!(revoked.status_code(), 303);
    assert_eq!(app.client().get(&link).await.status_code(), 404);
    let mut late = app.client();
    assert_eq!(
        late.submit(&link, &[("name", "Late"), ("password", PASSWORD)])
            .await
            .status_code(),
        404
    );
}

#[tokio::test]
async fn bad_invitations_get_a_message_per_field_and_send_nothing() {
    let app = TestApp::start().await;
    let slug = unique_slug("badinv");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    let member = role_pid(&tenant, "Member").await;

    let malformed = browser
        .submit(
            &format!("/l/{slug}/invitations"),
            &[("email", "nobody"), ("role", &member)],
        )
        .await;
    let no_role = browser
        .submit(
            &format!("/l/{slug}/invitations"),
            &[("email", "x@example.org"), ("role", "")],
        )
        .await;
    let already = browser
        .submit(
            &format!("/l/{slug}/invitations"),
            &[("email", &admin.email), ("role", &member)],
        )
        .await;

    assert_eq!(malformed.status_code(), 422);
    assert!(malformed.text().contains("Enter an email address like"));
    assert_eq!(
        input_value(&malformed.text(), "email").as_deref(),
        Some("nobody")
    );
    assert_eq!(no_role.status_code(), 422);
    assert!(
        no_role
            .text()
            .contains("Choose one of the local&#39;s roles.")
            || no_role.text().contains("Choose one of the local's roles.")
    );
    assert_eq!(already.status_code(), 422);
    assert!(already.text().contains("already in the local"));
    assert!(sink()
        .mails_to("x@example.org")
        .iter()
        .all(|m| !m.body().contains(&slug)));
}
