//! Members through the JSON API: CRUD with the HTML's rules, field errors as
//! 422 JSON, filters and signed keyset cursors, archive and restore, roles,
//! and other locals' members (404, nothing changed).
use serde_json::{json, Value};
use unionhall::models::{members::Model as Member, structure::Directory};

use crate::support::{unique_slug, TestApp};

fn code(response: &axum_test::TestResponse) -> String {
    response.json::<Value>()["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn members_are_created_read_updated_archived_and_restored_through_the_api() {
    let app = TestApp::start().await;
    let slug = unique_slug("apim");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let token = app.token(&tenant, &admin).await;
    let api = app.client().server;
    let members = format!("/api/v1/locals/{slug}/members");
    let lapsed = Directory::load(&tenant)
        .await
        .unwrap()
        .statuses
        .iter()
        .find(|s| s.name == "Lapsed")
        .unwrap()
        .pid;

    let bad = api
        .post(&members)
        .authorization_bearer(&token)
        .json(&json!({"first_name": "", "last_name": "Hill", "email": "nope", "phone": "1", "status": "x", "join_date": "soon"}))
        .await;
    assert_eq!(bad.status_code(), 422);
    let details = &bad.json::<Value>()["error"]["details"];
    for field in ["first_name", "email", "phone", "status", "join_date"] {
        assert!(details[field].is_string(), "{field}: {details}");
    }
    let unknown = api
        .post(&members)
        .authorization_bearer(&token)
        .json(&json!({"first_name": "Joe", "last_name": "Hill", "status": uuid::Uuid::new_v4()}))
        .await;
    assert_eq!(unknown.status_code(), 404, "a reference not in the local");
    assert!(unknown.json::<Value>()["error"]["details"]["status"].is_string());
    let extra = api
        .post(&members)
        .authorization_bearer(&token)
        .json(&json!({"first_name": "Joe", "last_name": "Hill", "shoe_size": 9}))
        .await;
    assert_eq!(extra.status_code(), 422, "unknown fields are refused");

    let created = api
        .post(&members)
        .authorization_bearer(&token)
        .json(&json!({"first_name": "Joe", "last_name": "Hill", "email": "Joe@Example.org", "phone": "555 201 0099", "employee_number": "J-1", "join_date": "2015-11-19"}))
        .await;
    assert_eq!(created.status_code(), 201, "{}", created.text());
    let body = created.json::<Value>();
    assert_eq!(body["email"], "joe@example.org");
    assert_eq!(body["phone"], "+15552010099");
    assert_eq!(body["status"]["name"], "Active");
    assert_eq!(body["status_history"][0]["to"], "Active");
    let pid = body["pid"].as_str().unwrap().to_string();
    let dup = api
        .post(&members)
        .authorization_bearer(&token)
        .json(&json!({"first_name": "Other", "last_name": "One", "employee_number": "J-1"}))
        .await;
    assert_eq!(dup.status_code(), 409);
    assert!(dup.json::<Value>()["error"]["details"]["employee_number"].is_string());

    let updated = api
        .put(&format!("{members}/{pid}"))
        .authorization_bearer(&token)
        .json(&json!({"first_name": "Joe", "last_name": "Hill", "status": lapsed}))
        .await;
    assert_eq!(updated.status_code(), 200, "{}", updated.text());
    let body = updated.json::<Value>();
    assert_eq!(body["status"]["name"], "Lapsed");
    assert_eq!(body["status_history"][1]["from"], "Active");
    assert!(body["email"].is_null(), "a PUT replaces the details");

    let listed = api
        .get(&format!("{members}?q=hill&status={lapsed}"))
        .authorization_bearer(&token)
        .await;
    assert_eq!(listed.status_code(), 200);
    let page = listed.json::<Value>();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["total"], json!({"count": 1, "kind": "exact"}));
    let odd = api
        .get(&format!("{members}?status=abc"))
        .authorization_bearer(&token)
        .await;
    assert_eq!(odd.status_code(), 422);
    assert_eq!(code(&odd), "validation_failed");
    let sort = api
        .get(&format!("{members}?sort=shoe"))
        .authorization_bearer(&token)
        .await;
    assert_eq!(sort.status_code(), 422);

    let archived = api
        .delete(&format!("{members}/{pid}"))
        .authorization_bearer(&token)
        .await;
    assert_eq!(archived.status_code(), 204);
    assert_eq!(
        api.get(&format!("{members}/{pid}"))
            .authorization_bearer(&token)
            .await
            .status_code(),
        404
    );
    let shelf = api
        .get(&format!("{members}?archived=true"))
        .authorization_bearer(&token)
        .await
        .json::<Value>();
    assert_eq!(shelf["items"][0]["archived"], true);
    let restored = api
        .post(&format!("{members}/{pid}/restoration"))
        .authorization_bearer(&token)
        .await;
    assert_eq!(restored.status_code(), 201);
    assert_eq!(restored.json::<Value>()["archived"], false);
}

#[tokio::test]
async fn the_member_list_pages_with_signed_cursors_in_every_order() {
    let app = TestApp::start().await;
    let slug = unique_slug("apip");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    for i in 0..7 {
        Member::create(
            &tenant,
            unionhall::models::members::NewMember {
                join_date: chrono::NaiveDate::from_ymd_opt(2020, 1, 1 + i),
                ..crate::support::new_member(&format!("P{i}"), &format!("L{i}"), false)
            },
        )
        .await
        .unwrap();
    }
    let token = app.token(&tenant, &admin).await;
    let api = app.client().server;
    for (sort, first) in [("name", "L0"), ("joined", "L6"), ("status", "L0")] {
        let mut url = format!("/api/v1/locals/{slug}/members?limit=3&sort={sort}");
        let mut seen = vec![];
        loop {
            let page = api.get(&url).authorization_bearer(&token).await;
            assert_eq!(page.status_code(), 200, "{}", page.text());
            let page = page.json::<Value>();
            for item in page["items"].as_array().unwrap() {
                seen.push(item["last_name"].as_str().unwrap().to_string());
            }
            match page["next"].as_str() {
                Some(next) => url = next.to_string(),
                None => break,
            }
        }
        assert_eq!(seen.len(), 7, "{sort}: {seen:?}");
        assert_eq!(seen[0], first, "{sort}");
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 7, "no one twice");
    }
    let first = api
        .get(&format!("/api/v1/locals/{slug}/members?limit=2"))
        .authorization_bearer(&token)
        .await
        .json::<Value>();
    let next = first["next"].as_str().unwrap();
    let tampered = next.replace("cursor=7b", "cursor=7c");
    assert_ne!(tampered, next);
    let refused = api.get(&tampered).authorization_bearer(&token).await;
    assert_eq!(refused.status_code(), 404);
    assert_eq!(code(&refused), "invalid_cursor");
}

#[tokio::test]
async fn roles_and_other_locals_are_respected_by_the_member_api() {
    let app = TestApp::start().await;
    let slug = unique_slug("apir");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let m = Member::create(&tenant, crate::support::new_member("Joe", "Hill", false))
        .await
        .unwrap();
    let steward = app.person_with_role(&tenant, "Steward").await;
    let steward_token = app.token(&tenant, &steward).await;
    let officer = app.person_with_role(&tenant, "Officer").await;
    let officer_token = app.token(&tenant, &officer).await;
    let api = app.client().server;
    let path = format!("/api/v1/locals/{slug}/members/{}", m.pid);
    assert_eq!(
        api.get(&path)
            .authorization_bearer(&steward_token)
            .await
            .status_code(),
        200
    );
    assert_eq!(
        api.put(&path)
            .authorization_bearer(&steward_token)
            .json(&json!({"first_name": "X", "last_name": "Y"}))
            .await
            .status_code(),
        403
    );
    assert_eq!(
        api.delete(&path)
            .authorization_bearer(&officer_token)
            .await
            .status_code(),
        403
    );

    let other_slug = unique_slug("apio");
    let (other, other_admin) = app.local_with_admin(&other_slug).await;
    let other_token = app.token(&other, &other_admin).await;
    for (method, url) in [
        (
            "get",
            format!("/api/v1/locals/{other_slug}/members/{}", m.pid),
        ),
        (
            "put",
            format!("/api/v1/locals/{other_slug}/members/{}", m.pid),
        ),
        (
            "delete",
            format!("/api/v1/locals/{other_slug}/members/{}", m.pid),
        ),
        ("get", path.clone()),
        ("delete", path.clone()),
    ] {
        let response = match method {
            "get" => api.get(&url).authorization_bearer(&other_token).await,
            "put" => {
                api.put(&url)
                    .authorization_bearer(&other_token)
                    .json(&json!({"first_name": "X", "last_name": "Y"}))
                    .await
            }
            _ => api.delete(&url).authorization_bearer(&other_token).await,
        };
        assert_eq!(response.status_code(), 404, "{method} {url}");
    }
    let unchanged = Member::find(&tenant, m.pid).await.unwrap();
    assert_eq!(unchanged.first_name, "Joe");
    assert!(unchanged.archived_at.is_none());
}

#[tokio::test]
async fn the_member_list_refuses_parameters_it_cannot_read_naming_each() {
    let app = TestApp::start().await;
    let slug = unique_slug("apiq");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let token = app.token(&tenant, &admin).await;
    let api = app.client().server;
    for (query, field) in [
        ("worksite=", "worksite"),
        ("status=nope", "status"),
        ("joined_from=soon", "joined_from"),
        ("sort=shoe_size", "sort"),
        ("archived=yes", "archived"),
    ] {
        let refused = api
            .get(&format!("/api/v1/locals/{slug}/members?{query}"))
            .authorization_bearer(&token)
            .await;
        assert_eq!(refused.status_code(), 422, "{query}");
        assert_eq!(code(&refused), "validation_failed");
        assert!(
            refused.json::<Value>()["error"]["details"][field].is_string(),
            "{query}"
        );
    }
    let fine = api
        .get(&format!(
            "/api/v1/locals/{slug}/members?q=&joined_from=2001-02-03&archived=false"
        ))
        .authorization_bearer(&token)
        .await;
    assert_eq!(fine.status_code(), 200, "{}", fine.text());
}
