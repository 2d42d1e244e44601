//! Signing in and out, password resets and changes, throttling.
use axum_test::TestResponse;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use unionhall::models::_entities::sessions;

use crate::support::{location, smtp::sink, unique_slug, TestApp, PASSWORD};

fn session_cookie(response: &TestResponse) -> Option<String> {
    response
        .iter_headers_by_name("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("unionhall_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
}

#[tokio::test]
async fn signing_in_rotates_the_session_id_and_sets_a_safe_cookie() {
    let app = TestApp::start().await;
    let (_, admin) = app.local_with_admin(&unique_slug("rot")).await;
    let mut browser = app.client();
    let signed_in = browser.sign_in(&admin.email, PASSWORD).await;

    let cookie = signed_in
        .iter_headers_by_name("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("unionhall_session="))
        .expect("a session cookie")
        .to_string();
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(cookie.contains("Path=/"));
    let mut again = app.client();
    let second = again.sign_in(&admin.email, PASSWORD).await;
    assert_ne!(
        session_cookie(&signed_in),
        session_cookie(&second),
        "every sign-in gets a fresh id"
    );
}

#[tokio::test]
async fn signing_out_deletes_the_session_on_the_server() {
    let app = TestApp::start().await;
    let slug = unique_slug("out");
    let (_, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    let signed_in = browser.sign_in(&admin.email, PASSWORD).await;
    let stolen = session_cookie(&signed_in).expect("session cookie");

    let out = browser.sign_out().await;

    assert_eq!(location(&out), "/");
    let of_admin = sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(admin.id))
        .count(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(of_admin, 0);
    let replay = app
        .client()
        .server
        .get(&format!("/l/{slug}"))
        .add_header("cookie", stolen)
        .await;
    assert_eq!(
        replay.status_code(),
        303,
        "a copied cookie of a signed-out session is worthless"
    );
    assert!(location(&replay).starts_with("/session/new"));
}

#[tokio::test]
async fn a_wrong_password_re_renders_the_form_without_revealing_which_part_was_wrong() {
    let app = TestApp::start().await;
    let (_, admin) = app.local_with_admin(&unique_slug("wrong")).await;
    let mut browser = app.client();

    let wrong_password = browser.sign_in(&admin.email, "not my password").await;
    let unknown_email = browser.sign_in("nobody@example.org", PASSWORD).await;

    assert_eq!(wrong_password.status_code(), 422);
    assert!(wrong_password
        .text()
        .contains("The email or password is wrong."));
    assert!(
        wrong_password
            .text()
            .contains(&format!("value=\"{}\"", admin.email)),
        "the email is kept"
    );
    assert!(
        !wrong_password.text().contains("not my password"),
        "the password is not echoed"
    );
    assert_eq!(unknown_email.status_code(), 422);
}

#[tokio::test]
async fn sign_in_is_throttled_after_repeated_failures() {
    let app = TestApp::start().await;
    let (_, admin) = app.local_with_admin(&unique_slug("slow")).await;
    let mut browser = app.client();
    for _ in 0..5 {
        assert_eq!(
            browser.sign_in(&admin.email, "guess").await.status_code(),
            422
        );
    }

    let blocked = browser.sign_in(&admin.email, PASSWORD).await;

    assert_eq!(blocked.status_code(), 429);
    assert!(blocked.text().contains("Too many sign-in attempts"));
    assert!(blocked.maybe_header("retry-after").is_some());
}

#[tokio::test]
async fn a_sign_in_returns_only_to_paths_on_this_site() {
    let app = TestApp::start().await;
    let slug = unique_slug("ret");
    let (_, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    let mut other = app.client();

    let inside = browser
        .submit(
            "/session",
            &[
                ("email", &admin.email),
                ("password", PASSWORD),
                ("return_to", &format!("/l/{slug}/roles")),
            ],
        )
        .await;
    let outside = other
        .submit(
            "/session",
            &[
                ("email", &admin.email),
                ("password", PASSWORD),
                ("return_to", "//evil.example/x"),
            ],
        )
        .await;

    assert_eq!(location(&inside), format!("/l/{slug}/roles"));
    assert_eq!(location(&outside), format!("/l/{slug}"));
}

#[tokio::test]
async fn a_password_reset_mails_a_single_use_link_and_never_reveals_who_has_an_account() {
    let app = TestApp::start().await;
    let slug = unique_slug("reset");
    let (_, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    let mut elsewhere = app.client();
    elsewhere.sign_in(&admin.email, PASSWORD).await;

    let known = browser
        .submit("/password-resets", &[("email", &admin.email)])
        .await;
    let unknown = browser
        .submit("/password-resets", &[("email", "nobody@example.org")])
        .await;
    assert_eq!(known.status_code(), 200);
    assert_eq!(
        known.text(),
        unknown.text(),
        "the same answer whether or not the account exists"
    );

    let link = sink()
        .wait_for(&admin.email, 1)
        .await
        .link("password-resets")
        .expect("a reset link");
    assert!(browser
        .get(&link)
        .await
        .text()
        .contains("Choose a new password"));
    let too_short = browser
        .submit(&format!("{link}?_method=put"), &[("password", "short")])
        .await;
    assert_eq!(too_short.status_code(), 422);
    let changed = browser
        .submit(
            &format!("{link}?_method=put"),
            &[("password", "a fresh new password")],
        )
        .await;
    assert_eq!(location(&changed), "/session/new");
    let reused = browser
        .submit(
            &format!("{link}?_method=put"),
            &[("password", "yet another password")],
        )
        .await;
    assert_eq!(reused.status_code(), 404);
    assert!(reused.text().contains("This link no longer works"));
    assert_eq!(
        elsewhere.get(&format!("/l/{slug}")).await.status_code(),
        303,
        "other sessions ended"
    );
    assert_eq!(
        browser
            .sign_in(&admin.email, "a fresh new password")
            .await
            .status_code(),
        303
    );
}

#[tokio::test]
async fn changing_the_password_keeps_this_session_and_ends_the_others() {
    let app = TestApp::start().await;
    let slug = unique_slug("chg");
    let (_, admin) = app.local_with_admin(&slug).await;
    let mut here = app.client();
    let mut there = app.client();
    here.sign_in(&admin.email, PASSWORD).await;
    there.sign_in(&admin.email, PASSWORD).await;

    let wrong = here
        .submit(
            "/account/password?_method=put",
            &[
                ("current_password", "nope"),
                ("password", "another good password"),
            ],
        )
        .await;
    let changed = here
        .submit(
            "/account/password?_method=put",
            &[
                ("current_password", PASSWORD),
                ("password", "another good password"),
            ],
        )
        .await;

    assert_eq!(wrong.status_code(), 422);
    assert!(wrong.text().contains("This is not your current password."));
    assert_eq!(location(&changed), "/account");
    assert_eq!(here.get(&format!("/l/{slug}")).await.status_code(), 200);
    assert_eq!(there.get(&format!("/l/{slug}")).await.status_code(), 303);
}

#[tokio::test]
async fn pages_of_a_local_send_a_signed_out_visitor_to_sign_in_and_back() {
    let app = TestApp::start().await;
    let slug = unique_slug("back");
    app.local_with_admin(&slug).await;

    let response = app.client().get(&format!("/l/{slug}/roles")).await;

    assert_eq!(response.status_code(), 303);
    assert_eq!(
        location(&response),
        format!("/session/new?return_to=%2Fl%2F{slug}%2Froles")
    );
}
