//! The platform operators' console: invisible (404) to everyone else;
//! locals with their counts; suspend and reactivate with a reason, audited;
//! provisioning locals from the command line.
use loco_rs::task::{Task, Vars};
use sea_orm::{EntityTrait, PaginatorTrait};
use unionhall::{
    domain::{Email, LocalName, Password, PersonName, Slug},
    models::{
        _entities::{operator_actions, tenants as tenant_rows, users as user_rows},
        operators,
        tenants::{self, NewLocal},
        users, Error,
    },
    tasks::create_local::CreateLocal,
};

use crate::support::{location, unique_email, unique_slug, Client, TestApp, PASSWORD};

pub async fn signed_in_operator(app: &TestApp) -> (users::Model, Client) {
    let email = Email::parse(&unique_email("operator")).unwrap();
    let (user, _) = operators::create_operator(
        &app.ctx.db,
        email,
        PersonName::parse("Olga Operator").unwrap(),
    )
    .await
    .unwrap();
    let user = user
        .set_password(&app.ctx.db, &Password::parse(PASSWORD).unwrap())
        .await
        .unwrap();
    let mut browser = app.client();
    let signed_in = browser.sign_in(&user.email, PASSWORD).await;
    assert_eq!(
        location(&signed_in),
        "/ops",
        "operators land in the console"
    );
    (user, browser)
}

#[tokio::test]
async fn the_console_does_not_exist_for_anyone_but_operators() {
    let app = TestApp::start().await;
    let slug = unique_slug("hidden");
    let (_, admin) = app.local_with_admin(&slug).await;
    let mut admin_browser = app.client();
    admin_browser.sign_in(&admin.email, PASSWORD).await;
    let mut stranger = app.client();

    for path in [
        "/ops",
        "/ops/locals",
        &format!("/ops/locals/{slug}"),
        "/ops/audit",
    ] {
        assert_eq!(
            stranger.get(path).await.status_code(),
            404,
            "signed out: {path}"
        );
        assert_eq!(
            admin_browser.get(path).await.status_code(),
            404,
            "a local's admin: {path}"
        );
    }
    let suspend = admin_browser
        .submit(
            &format!("/ops/locals/{slug}/suspension"),
            &[("reason", "takeover")],
        )
        .await;
    let anonymous = stranger
        .submit(
            &format!("/ops/locals/{slug}/suspension"),
            &[("reason", "takeover")],
        )
        .await;
    assert_eq!(
        (
            suspend.status_code().as_u16(),
            anonymous.status_code().as_u16()
        ),
        (404, 404)
    );
    assert!(!tenants::Model::find_by_slug(&app.ctx.db, &slug)
        .await
        .unwrap()
        .is_suspended());
}

#[tokio::test]
async fn an_operator_finds_locals_with_their_counts_but_not_their_people() {
    let app = TestApp::start().await;
    let slug = unique_slug("counted");
    let (tenant, _) = app.local_with_admin(&slug).await;
    app.person_with_role(&tenant, "Steward").await;
    app.local_with_admin(&unique_slug("other")).await;
    let (_, browser) = signed_in_operator(&app).await;

    let all = browser.get("/ops/locals").await.text();
    let found = browser
        .get(&format!("/ops/locals?q={}", &slug[..10]))
        .await
        .text();
    let page = browser.get(&format!("/ops/locals/{slug}")).await.text();

    assert!(all.contains(&slug));
    assert!(found.contains(&slug));
    assert_eq!(
        found.matches("/ops/locals/").count(),
        1,
        "the search narrows the list"
    );
    assert!(
        page.contains("<dt>Users</dt><dd>2</dd>"),
        "two people hold a role there"
    );
    assert!(
        !page.contains("Steward Person"),
        "operators see counts, not people"
    );
}

#[tokio::test]
async fn suspending_needs_a_reason_is_audited_and_reactivation_restores_the_local() {
    let app = TestApp::start().await;
    let slug = unique_slug("susp");
    let (_, admin) = app.local_with_admin(&slug).await;
    let mut member = app.client();
    member.sign_in(&admin.email, PASSWORD).await;
    let (operator, mut browser) = signed_in_operator(&app).await;
    let suspension = format!("/ops/locals/{slug}/suspension");

    let no_reason = browser.submit(&suspension, &[("reason", "  ")]).await;
    assert_eq!(no_reason.status_code(), 422);
    assert!(no_reason.text().contains("Give a reason"));
    let suspended = browser
        .submit(&suspension, &[("reason", "Unpaid since March")])
        .await;
    assert_eq!(location(&suspended), format!("/ops/locals/{slug}"));
    let again = browser.submit(&suspension, &[("reason", "twice")]).await;
    assert_eq!(again.status_code(), 422);
    assert!(again.text().contains("already suspended"));
    assert_eq!(member.get(&format!("/l/{slug}")).await.status_code(), 403);

    let reactivated = browser
        .submit(
            &format!("{suspension}?_method=delete"),
            &[("reason", "Paid")],
        )
        .await;
    assert_eq!(reactivated.status_code(), 303);
    assert_eq!(member.get(&format!("/l/{slug}")).await.status_code(), 200);
    let audit = browser.get("/ops/audit").await.text();
    assert!(audit.contains("suspend_local") && audit.contains("Unpaid since March"));
    assert!(audit.contains("reactivate_local") && audit.contains(&operator.name));
    assert_eq!(
        operator_actions::Entity::find()
            .count(&app.ctx.db)
            .await
            .unwrap(),
        3,
        "create_operator, suspend, reactivate"
    );
}

#[tokio::test]
async fn create_local_provisions_a_local_whose_admin_sets_a_password_by_link_and_refuses_a_taken_slug(
) {
    let app = TestApp::start().await;
    let slug = unique_slug("prov");
    let admin_email = unique_email("intl");
    let new = || NewLocal {
        name: LocalName::parse("Provisioned Local").unwrap(),
        slug: Slug::parse(&slug).unwrap(),
    };

    let made = operators::provision_local(&app.ctx.db, new(), Email::parse(&admin_email).unwrap())
        .await
        .unwrap();
    let users_before = user_rows::Entity::find().count(&app.ctx.db).await.unwrap();
    let again = operators::provision_local(
        &app.ctx.db,
        new(),
        Email::parse(&unique_email("x")).unwrap(),
    )
    .await;

    assert!(matches!(again, Err(Error::Conflict(ref e)) if e.get("slug").is_some()));
    assert_eq!(
        user_rows::Entity::find().count(&app.ctx.db).await.unwrap(),
        users_before,
        "nothing created"
    );
    assert_eq!(
        tenant_rows::Entity::find()
            .count(&app.ctx.db)
            .await
            .unwrap(),
        1
    );
    let link = format!(
        "/password-resets/{}",
        made.setup.expect("a set-password link").as_str()
    );
    let mut browser = app.client();
    assert_eq!(browser.get(&link).await.status_code(), 200);
    assert_eq!(
        browser
            .submit(
                &format!("{link}?_method=put"),
                &[("password", "my own new password")]
            )
            .await
            .status_code(),
        303
    );
    assert_eq!(
        location(&browser.sign_in(&admin_email, "my own new password").await),
        format!("/l/{slug}")
    );
}

#[tokio::test]
async fn the_create_local_task_fails_clearly_on_a_taken_slug_and_creates_nothing() {
    let app = TestApp::start().await;
    let slug = unique_slug("task");
    let vars = |email: &str| {
        Vars::from_cli_args(vec![
            ("name".into(), "Task Local".into()),
            ("slug".into(), slug.clone()),
            ("admin_email".into(), email.into()),
        ])
    };

    CreateLocal
        .run(&app.ctx, &vars(&unique_email("first")))
        .await
        .unwrap();
    let second = CreateLocal
        .run(&app.ctx, &vars(&unique_email("second")))
        .await;

    let message = second.expect_err("a taken slug fails").to_string();
    assert!(message.contains("slug"), "{message}");
    assert_eq!(
        tenant_rows::Entity::find()
            .count(&app.ctx.db)
            .await
            .unwrap(),
        1
    );
}
