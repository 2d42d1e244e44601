//! CSRF, security headers, method safety and hostile input.
use unionhall::models::roles::Model as Role;

use crate::support::{unique_slug, TestApp, PASSWORD};

#[tokio::test]
async fn a_form_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::start().await;
    let slug = unique_slug("csrf");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;

    let missing = browser
        .submit_without_token(&format!("/l/{slug}/roles"), &[("name", "NoToken")])
        .await;
    let wrong = browser
        .submit_without_token(
            &format!("/l/{slug}/roles"),
            &[
                ("name", "WrongToken"),
                (
                    "authenticity_token",
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                ),
            ],
        )
        .await;
    let garbage = browser
        .submit_without_token(
            &format!("/l/{slug}/roles"),
            &[("name", "Garbage"), ("authenticity_token", "%%%")],
        )
        .await;
    let sign_in = app
        .client()
        .submit_without_token(
            "/session",
            &[("email", &admin.email), ("password", PASSWORD)],
        )
        .await;

    for response in [&missing, &wrong, &garbage, &sign_in] {
        assert_eq!(response.status_code(), 403);
        assert!(response.text().contains("This form has expired"));
    }
    assert_eq!(Role::list(&tenant).await.unwrap().len(), 4);
}

#[tokio::test]
async fn pages_carry_security_headers_and_a_strict_content_security_policy() {
    let app = TestApp::start().await;

    let response = app.client().get("/").await;

    let csp = response
        .header("content-security-policy")
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'self'")
            && csp.contains("script-src 'self'")
            && csp.contains("style-src 'self'")
    );
    assert!(!csp.contains("unsafe-inline"));
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(response.header("x-content-type-options"), "nosniff");
    assert_eq!(response.header("x-frame-options"), "deny");
    assert!(
        response.maybe_header("x-request-id").is_some(),
        "every response names its request"
    );
    let cookie = response
        .iter_headers_by_name("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("unionhall_csrf="))
        .expect("CSRF cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
}

#[tokio::test]
async fn a_get_never_changes_state() {
    let app = TestApp::start().await;
    let slug = unique_slug("get");
    let (_, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;

    let sign_out_by_get = browser.get("/session?_method=delete").await;

    assert_eq!(sign_out_by_get.status_code(), 405);
    assert_eq!(
        browser.get(&format!("/l/{slug}")).await.status_code(),
        200,
        "still signed in"
    );
}

#[tokio::test]
async fn hostile_or_malformed_requests_get_clear_4xx_answers_never_500() {
    let app = TestApp::start().await;
    let slug = unique_slug("hostile");
    let (_, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    let token = browser.token().await;

    let json_body = browser
        .server
        .post(&format!("/l/{slug}/roles"))
        .json(&serde_json::json!({"name": "x"}))
        .await;
    let huge = browser
        .server
        .post(&format!("/l/{slug}/roles"))
        .form(&[
            ("authenticity_token", token.as_str()),
            ("name", &"x".repeat(200_000)),
        ])
        .await;
    let bad_pid = browser
        .get(&format!("/l/{slug}/roles/not-a-uuid/edit"))
        .await;
    let unknown_pid = browser
        .get(&format!(
            "/l/{slug}/users/00000000-0000-0000-0000-000000000000"
        ))
        .await;
    let weird_slug = browser.get("/l/%00%27%22/roles").await;
    let bad_token = browser.get("/password-resets/'%20OR%201=1").await;
    let bad_utf8 = browser
        .submit(
            &format!("/l/{slug}/roles"),
            &[("name", "\u{0}\u{202e}evil"), ("permissions", "\u{1F600}")],
        )
        .await;

    assert!(
        json_body.status_code().is_client_error(),
        "{}",
        json_body.status_code()
    );
    assert!(
        huge.status_code().is_client_error(),
        "{}",
        huge.status_code()
    );
    assert_eq!(bad_pid.status_code(), 404);
    assert_eq!(unknown_pid.status_code(), 404);
    assert_eq!(weird_slug.status_code(), 404);
    assert_eq!(bad_token.status_code(), 404);
    assert_eq!(bad_utf8.status_code(), 422);
    assert!(bad_utf8
        .text()
        .contains("Remove the invisible control characters."));
    let nul_registration = app
        .client()
        .submit(
            "/locals",
            &[
                ("local_name", "Nul\u{0}Local"),
                ("slug", "nul-local"),
                ("name", "N\u{0}"),
                ("email", "nul@example.org"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(nul_registration.status_code(), 422);
}

#[tokio::test]
async fn operations_endpoints_answer() {
    let app = TestApp::start().await;
    let client = app.client();

    assert_eq!(client.get("/_ping").await.status_code(), 200);
    assert_eq!(client.get("/_health").await.status_code(), 200);
    assert_eq!(client.get("/_readiness").await.status_code(), 200);
}

#[tokio::test]
async fn an_unknown_address_gets_the_app_s_own_not_found_page() {
    let app = TestApp::start().await;

    let response = app.client().get("/no/such/page").await;

    assert_eq!(response.status_code(), 404);
    assert!(response.text().contains("Page not found"));
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_never_by_tenant() {
    let app = TestApp::start().await;
    let slug = unique_slug("metrics");
    let (_, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    browser.get(&format!("/l/{slug}/roles")).await;
    browser.get("/no/such/page").await;

    // Not for the public, nor for a wrong token, nor for a local's admin.
    assert_eq!(app.client().get("/metrics").await.status_code(), 404);
    let wrong = app
        .client()
        .server
        .get("/metrics")
        .add_header("authorization", "Bearer not-the-token")
        .await;
    assert_eq!(wrong.status_code(), 404);
    assert_eq!(browser.get("/metrics").await.status_code(), 404);
    // The scraper's token (config/test.yaml's METRICS_TOKEN default).
    let metrics = app
        .client()
        .server
        .get("/metrics")
        .add_header("authorization", "Bearer test-metrics-token")
        .await;

    assert_eq!(metrics.status_code(), 200);
    let text = metrics.text();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/l/{slug}/roles",status="200"}"#),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains(r#"route="unmatched""#));
    assert!(!text.contains(&slug), "no tenant in any label");
    assert!(!text.contains(&admin.email));
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_unreachable() {
    let app = TestApp::start().await;
    let client = app.client();
    assert_eq!(client.get("/_readiness").await.status_code(), 200);

    app.ctx.db.close_by_ref().await.unwrap();

    assert_eq!(client.get("/_readiness").await.status_code(), 503);
}
