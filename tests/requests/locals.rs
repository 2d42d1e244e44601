//! "Register your local", the local switcher and suspended locals.
use unionhall::models::{tenants, users};

use crate::support::{location, smtp::sink, unique_email, unique_slug, TestApp, PASSWORD};

#[tokio::test]
async fn registering_a_local_signs_in_its_admin_and_mails_an_email_confirmation() {
    let app = TestApp::start().await;
    let mut browser = app.client();
    let slug = unique_slug("new");

    let email = browser.register_local(&slug).await;

    let page = browser.get(&format!("/l/{slug}")).await;
    assert_eq!(page.status_code(), 200);
    assert!(page.text().contains("signed in as <strong>Admin</strong>"));
    assert!(page.text().contains("is registered. Welcome!"));
    let mail = sink().wait_for(&email, 1).await;
    let link = mail
        .link("email-verifications")
        .expect("a confirmation link");
    assert_eq!(browser.get(&link).await.status_code(), 200);
    assert_eq!(browser.submit(&link, &[]).await.status_code(), 303);
    let user = users::Model::find_by_email(
        &app.ctx.db,
        &unionhall::domain::Email::parse(&email).unwrap(),
    )
    .await
    .unwrap();
    assert!(user.is_email_verified());
    assert_eq!(
        browser.submit(&link, &[]).await.status_code(),
        404,
        "a confirmation link works once"
    );
}

#[tokio::test]
async fn bad_registration_input_re_renders_the_form_with_a_message_per_field_and_creates_nothing() {
    let app = TestApp::start().await;
    let mut browser = app.client();
    let long = "x".repeat(200);

    let response = browser
        .submit(
            "/locals",
            &[
                ("local_name", ""),
                ("slug", "Bad Slug!"),
                ("name", &long),
                ("email", "not-an-email"),
                ("password", "short"),
            ],
        )
        .await;

    assert_eq!(response.status_code(), 422);
    let html = response.text();
    for message in [
        "Enter the name of your local.",
        "Use lower-case letters",
        "Use at most 120 characters.",
        "Enter an email address like",
        "Use at least 10 characters.",
    ] {
        assert!(html.contains(message), "missing {message:?}");
    }
    assert!(html.contains("value=\"not-an-email\""), "the input is kept");
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(tenants::Model::find_by_slug(&app.ctx.db, "bad-slug")
        .await
        .is_err());
}

#[tokio::test]
async fn a_duplicate_slug_or_email_is_a_field_error() {
    let app = TestApp::start().await;
    let slug = unique_slug("taken");
    let mut first = app.client();
    let email = first.register_local(&slug).await;
    let mut second = app.client();

    let same_slug = second
        .submit(
            "/locals",
            &[
                ("local_name", "Other"),
                ("slug", &slug),
                ("name", "Other Person"),
                ("email", &unique_email("o")),
                ("password", PASSWORD),
            ],
        )
        .await;
    let same_email = second
        .submit(
            "/locals",
            &[
                ("local_name", "Other"),
                ("slug", &unique_slug("free")),
                ("name", "Other Person"),
                ("email", &email.to_uppercase()),
                ("password", PASSWORD),
            ],
        )
        .await;

    assert_eq!(same_slug.status_code(), 422);
    assert!(same_slug.text().contains("This address is taken"));
    assert_eq!(same_email.status_code(), 422);
    assert!(same_email
        .text()
        .contains("An account with this email exists already"));
}

#[tokio::test]
async fn a_signed_in_person_registers_a_second_local_and_switches_between_them() {
    let app = TestApp::start().await;
    let mut browser = app.client();
    let first = unique_slug("one");
    let second = unique_slug("two");
    browser.register_local(&first).await;

    let response = browser
        .submit(
            "/locals",
            &[("local_name", "The Second Local"), ("slug", &second)],
        )
        .await;
    assert_eq!(location(&response), format!("/l/{second}"));

    let list = browser.get("/locals").await.text();
    assert!(list.contains(&format!("/l/{first}")) && list.contains(&format!("/l/{second}")));
    assert_eq!(browser.get(&format!("/l/{first}")).await.status_code(), 200);
    assert_eq!(
        browser.get(&format!("/l/{second}")).await.status_code(),
        200
    );
}

#[tokio::test]
async fn people_of_a_suspended_local_see_a_clear_page_and_change_nothing() {
    let app = TestApp::start().await;
    let slug = unique_slug("susp");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    tenant
        .model()
        .clone()
        .suspend(&app.ctx.db, "unpaid")
        .await
        .unwrap();

    let page = browser.get(&format!("/l/{slug}")).await;
    let create = browser
        .submit(
            &format!("/l/{slug}/roles"),
            &[("name", "Sneaky"), ("permissions", "members.read")],
        )
        .await;

    assert_eq!(page.status_code(), 403);
    assert!(page.text().contains("This local is suspended"));
    assert_eq!(create.status_code(), 403);
    let roles = unionhall::models::roles::Model::list(&tenant)
        .await
        .unwrap();
    assert!(roles.iter().all(|r| r.role.name != "Sneaky"));
}

#[tokio::test]
async fn an_unconfirmed_person_can_have_the_confirmation_mail_sent_again() {
    let app = TestApp::start().await;
    let mut browser = app.client();
    let email = browser.register_local(&unique_slug("resend")).await;
    sink().wait_for(&email, 1).await;

    let account = browser.get("/account").await.text();
    let resent = browser.submit("/email-verifications", &[]).await;

    assert!(account.contains("not confirmed"));
    assert_eq!(location(&resent), "/account");
    let second = sink().wait_for(&email, 2).await;
    let link = second.link("email-verifications").unwrap();
    assert_eq!(browser.submit(&link, &[]).await.status_code(), 303);
    assert!(browser.get("/account").await.text().contains(">confirmed<"));
}
