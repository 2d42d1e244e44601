//! Personal API tokens: created and revoked in the UI and through the API,
//! shown once, refused at once when revoked, expired or their owner disabled.
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{json, Value};
use unionhall::models::{_entities::api_tokens, memberships::Model as Membership};

use crate::support::{location, unique_slug, TestApp, PASSWORD};

#[tokio::test]
async fn a_token_made_in_the_ui_is_shown_once_and_works_until_revoked() {
    let app = TestApp::start().await;
    let slug = unique_slug("tok");
    let (_, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;

    let created = browser
        .submit(
            &format!("/l/{slug}/tokens"),
            &[("name", "payroll sync"), ("expires_in_days", "30")],
        )
        .await;
    assert_eq!(created.status_code(), 201);
    let html = created.text();
    let start = html.find("value=\"uh_").expect("the secret on the page") + "value=\"".len();
    let secret = html[start..start + 3 + 64].to_string();
    let listing = browser.get(&format!("/l/{slug}/tokens")).await.text();
    assert!(listing.contains("payroll sync"));
    assert!(
        !listing.contains(&secret),
        "the secret is never shown again"
    );

    let client = app.client();
    let me = client
        .server
        .get("/api/v1/me")
        .authorization_bearer(&secret)
        .await;
    assert_eq!(me.status_code(), 200);
    let body: Value = me.json();
    assert_eq!(body["email"], admin.email);
    assert_eq!(body["local"]["slug"], slug);
    assert_eq!(body["role"], "Admin");

    let row = api_tokens::Entity::find()
        .one(app.owner_db())
        .await
        .unwrap()
        .unwrap();
    assert!(row.last_used_at.is_some(), "last use is recorded");
    assert_ne!(row.token_hash, secret, "only a digest is stored");
    let revoke = browser
        .submit(&format!("/l/{slug}/tokens/{}?_method=delete", row.pid), &[])
        .await;
    assert_eq!(location(&revoke), format!("/l/{slug}/tokens"));
    let refused = client
        .server
        .get("/api/v1/me")
        .authorization_bearer(&secret)
        .await;
    assert_eq!(refused.status_code(), 401);
    assert_eq!(refused.json::<Value>()["error"]["code"], "invalid_token");
}

#[tokio::test]
async fn tokens_are_created_listed_and_revoked_through_the_api() {
    let app = TestApp::start().await;
    let slug = unique_slug("apitok");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let first = app.token(&tenant, &admin).await;
    let client = app.client();

    let created = client
        .server
        .post(&format!("/api/v1/locals/{slug}/tokens"))
        .authorization_bearer(&first)
        .json(&json!({"name": "ci", "expires_in_days": 7}))
        .await;
    assert_eq!(created.status_code(), 201);
    let body: Value = created.json();
    let second = body["secret"].as_str().unwrap().to_string();
    let pid = body["token"]["pid"].as_str().unwrap().to_string();
    assert!(body["token"]["expires_at"].is_string());

    let list: Value = client
        .server
        .get(&format!("/api/v1/locals/{slug}/tokens"))
        .authorization_bearer(&second)
        .await
        .json();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t.get("secret").is_none()));

    let revoked = client
        .server
        .delete(&format!("/api/v1/locals/{slug}/tokens/{pid}"))
        .authorization_bearer(&first)
        .await;
    assert_eq!(revoked.status_code(), 204);
    assert_eq!(
        client
            .server
            .get("/api/v1/me")
            .authorization_bearer(&second)
            .await
            .status_code(),
        401
    );
    assert_eq!(
        client
            .server
            .get("/api/v1/me")
            .authorization_bearer(&first)
            .await
            .status_code(),
        200
    );
}

#[tokio::test]
async fn an_expired_token_or_one_whose_owner_was_disabled_is_refused_at_once() {
    let app = TestApp::start().await;
    let slug = unique_slug("exp");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let officer = app.person_with_role(&tenant, "Officer").await;
    let expiring = app.token(&tenant, &officer).await;
    let client = app.client();
    assert_eq!(
        client
            .server
            .get("/api/v1/me")
            .authorization_bearer(&expiring)
            .await
            .status_code(),
        200
    );

    let row = api_tokens::Entity::find()
        .one(app.owner_db())
        .await
        .unwrap()
        .unwrap();
    let mut row: api_tokens::ActiveModel = row.into();
    row.expires_at = Set(Some(
        (chrono::Utc::now() - chrono::Duration::seconds(1)).into(),
    ));
    row.update(app.owner_db()).await.unwrap();
    assert_eq!(
        client
            .server
            .get("/api/v1/me")
            .authorization_bearer(&expiring)
            .await
            .status_code(),
        401
    );

    let fresh = app.token(&tenant, &officer).await;
    let pid = Membership::list(&tenant)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.user.id == officer.id)
        .unwrap()
        .membership
        .pid;
    Membership::disable(&tenant, pid).await.unwrap();
    let refused = client
        .server
        .get(&format!("/api/v1/locals/{slug}/users"))
        .authorization_bearer(&fresh)
        .await;
    assert_eq!(refused.status_code(), 401);
}

#[tokio::test]
async fn missing_malformed_or_unknown_tokens_get_401_with_a_json_error() {
    let app = TestApp::start().await;
    let client = app.client();

    let missing = client.server.get("/api/v1/me").await;
    let malformed = client
        .server
        .get("/api/v1/me")
        .authorization_bearer("not-a-token")
        .await;
    let unknown = client
        .server
        .get("/api/v1/me")
        .authorization_bearer(format!("uh_{}", "0".repeat(64)))
        .await;
    let basic = client
        .server
        .get("/api/v1/me")
        .add_header("authorization", "Basic dXNlcjpwYXNz")
        .await;

    for (response, code) in [
        (&missing, "missing_token"),
        (&malformed, "invalid_token"),
        (&unknown, "invalid_token"),
        (&basic, "missing_token"),
    ] {
        assert_eq!(response.status_code(), 401);
        assert_eq!(response.header("www-authenticate"), "Bearer");
        assert_eq!(response.json::<Value>()["error"]["code"], code);
    }
}

#[tokio::test]
async fn a_token_of_a_suspended_local_can_read_nothing_and_says_why() {
    let app = TestApp::start().await;
    let slug = unique_slug("susp");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let token = app.token(&tenant, &admin).await;
    tenant
        .model()
        .clone()
        .suspend(&app.ctx.db, "unpaid")
        .await
        .unwrap();

    let response = app
        .client()
        .server
        .get(&format!("/api/v1/locals/{slug}/roles"))
        .authorization_bearer(&token)
        .await;

    assert_eq!(response.status_code(), 403);
    assert_eq!(response.json::<Value>()["error"]["code"], "local_suspended");
}
