//! The JSON API: same permissions and tenant scoping as the HTML, JSON
//! errors for every failure, keyset pagination, rate limits, and an OpenAPI
//! document that lists every API route.
use std::collections::BTreeSet;

use serde_json::{json, Value};
use unionhall::{app::App, controllers::api::docs::ApiDoc, models::roles::Model as Role};
use utoipa::OpenApi;

use crate::support::{unique_slug, TestApp};

fn code(response: &axum_test::TestResponse) -> String {
    response.json::<Value>()["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn roles_can_be_managed_through_the_api_with_the_same_rules_as_the_html() {
    let app = TestApp::start().await;
    let slug = unique_slug("api");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let token = app.token(&tenant, &admin).await;
    let api = app.client().server;
    let roles = format!("/api/v1/locals/{slug}/roles");

    let created = api
        .post(&roles)
        .authorization_bearer(&token)
        .json(&json!({"name": "Treasurer", "permissions": ["billing.manage"]}))
        .await;
    assert_eq!(created.status_code(), 201);
    let pid = created.json::<Value>()["pid"].as_str().unwrap().to_string();
    assert_eq!(
        created.header("location"),
        format!("{roles}/{pid}").as_str()
    );
    let updated = api.put(&format!("{roles}/{pid}")).authorization_bearer(&token).json(&json!({"name": "Financial Secretary", "permissions": ["billing.manage", "reports.read"]})).await;
    assert_eq!(updated.status_code(), 200);
    assert_eq!(
        updated.json::<Value>()["permissions"],
        json!(["reports.read", "billing.manage"])
    );

    let duplicate = api
        .post(&roles)
        .authorization_bearer(&token)
        .json(&json!({"name": "Steward"}))
        .await;
    assert_eq!(
        (duplicate.status_code().as_u16(), code(&duplicate)),
        (409, "conflict".into())
    );
    assert!(duplicate.json::<Value>()["error"]["details"]["name"].is_string());
    let invalid = api
        .post(&roles)
        .authorization_bearer(&token)
        .json(&json!({"name": "", "permissions": ["root"]}))
        .await;
    assert_eq!(
        (invalid.status_code().as_u16(), code(&invalid)),
        (422, "validation_failed".into())
    );
    let details = &invalid.json::<Value>()["error"]["details"];
    assert!(details["name"].is_string() && details["permissions"].is_string());

    let admin_role = Role::list(&tenant)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.role.name == "Admin")
        .unwrap()
        .role
        .pid;
    let last_admin = api
        .put(&format!("{roles}/{admin_role}"))
        .authorization_bearer(&token)
        .json(&json!({"name": "Admin", "permissions": []}))
        .await;
    assert_eq!(
        (last_admin.status_code().as_u16(), code(&last_admin)),
        (409, "conflict".into())
    );

    let deleted = api
        .delete(&format!("{roles}/{pid}"))
        .authorization_bearer(&token)
        .await;
    assert_eq!(deleted.status_code(), 204);
    assert_eq!(
        api.get(&format!("{roles}/{pid}"))
            .authorization_bearer(&token)
            .await
            .status_code(),
        404
    );
}

#[tokio::test]
async fn malformed_requests_get_clear_json_errors_and_change_nothing() {
    let app = TestApp::start().await;
    let slug = unique_slug("bad");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let token = app.token(&tenant, &admin).await;
    let api = app.client().server;
    let roles = format!("/api/v1/locals/{slug}/roles");

    let broken = api
        .post(&roles)
        .authorization_bearer(&token)
        .content_type("application/json")
        .bytes("{\"name\": ".into())
        .await;
    let form = api
        .post(&roles)
        .authorization_bearer(&token)
        .form(&[("name", "x")])
        .await;
    let unknown_field = api
        .post(&roles)
        .authorization_bearer(&token)
        .json(&json!({"name": "X", "admin": true}))
        .await;
    let wrong_type = api
        .post(&roles)
        .authorization_bearer(&token)
        .json(&json!({"name": 5}))
        .await;
    let huge = api
        .post(&roles)
        .authorization_bearer(&token)
        .json(&json!({"name": "x".repeat(100_000)}))
        .await;
    let bad_pid = api
        .get(&format!("{roles}/not-a-uuid"))
        .authorization_bearer(&token)
        .await;

    assert_eq!(
        (broken.status_code().as_u16(), code(&broken)),
        (400, "bad_request".into())
    );
    assert_eq!(
        (form.status_code().as_u16(), code(&form)),
        (415, "unsupported_media_type".into())
    );
    assert_eq!(
        (unknown_field.status_code().as_u16(), code(&unknown_field)),
        (422, "validation_failed".into())
    );
    assert_eq!(wrong_type.status_code(), 422);
    assert_eq!(
        (huge.status_code().as_u16(), code(&huge)),
        (413, "payload_too_large".into())
    );
    assert_eq!(
        (bad_pid.status_code().as_u16(), code(&bad_pid)),
        (404, "not_found".into())
    );
    assert_eq!(Role::list(&tenant).await.unwrap().len(), 4);
}

#[tokio::test]
async fn a_role_without_the_permission_gets_403() {
    let app = TestApp::start().await;
    let slug = unique_slug("deny");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let steward = app.person_with_role(&tenant, "Steward").await;
    let token = app.token(&tenant, &steward).await;
    let api = app.client().server;

    let roles = api
        .get(&format!("/api/v1/locals/{slug}/roles"))
        .authorization_bearer(&token)
        .await;
    let invite = api
        .post(&format!("/api/v1/locals/{slug}/invitations"))
        .authorization_bearer(&token)
        .json(&json!({"email": "x@example.org", "role": "x"}))
        .await;
    let me = api.get("/api/v1/me").authorization_bearer(&token).await;

    assert_eq!(
        (roles.status_code().as_u16(), code(&roles)),
        (403, "forbidden".into())
    );
    assert_eq!(invite.status_code(), 403);
    assert_eq!(
        me.json::<Value>()["permissions"],
        json!(["members.read", "cases.assigned", "attendance.record"])
    );
}

#[tokio::test]
async fn local_b_tokens_cannot_reach_local_a_through_its_path_or_its_ids() {
    let app = TestApp::start().await;
    let slug_a = unique_slug("a");
    let slug_b = unique_slug("b");
    let (tenant_a, admin_a) = app.local_with_admin(&slug_a).await;
    let (tenant_b, admin_b) = app.local_with_admin(&slug_b).await;
    let token_b = app.token(&tenant_b, &admin_b).await;
    let role_a = Role::list(&tenant_a).await.unwrap()[2].role.clone();
    let person_a = unionhall::models::memberships::Model::list(&tenant_a)
        .await
        .unwrap()[0]
        .membership
        .pid;
    let (invitation_a, _) = app.invite(&tenant_a, &admin_a, "Member").await;
    let api = app.client().server;

    let mut requests = vec![
        api.get(&format!("/api/v1/locals/{slug_a}/roles"))
            .authorization_bearer(&token_b)
            .await,
        api.get(&format!("/api/v1/locals/{slug_a}/users"))
            .authorization_bearer(&token_b)
            .await,
        api.get(&format!("/api/v1/locals/{slug_b}/roles/{}", role_a.pid))
            .authorization_bearer(&token_b)
            .await,
        api.put(&format!("/api/v1/locals/{slug_b}/roles/{}", role_a.pid))
            .authorization_bearer(&token_b)
            .json(&json!({"name": "Taken"}))
            .await,
        api.delete(&format!("/api/v1/locals/{slug_b}/roles/{}", role_a.pid))
            .authorization_bearer(&token_b)
            .await,
        api.get(&format!("/api/v1/locals/{slug_b}/users/{person_a}"))
            .authorization_bearer(&token_b)
            .await,
        api.post(&format!(
            "/api/v1/locals/{slug_b}/users/{person_a}/disablement"
        ))
        .authorization_bearer(&token_b)
        .await,
        api.delete(&format!(
            "/api/v1/locals/{slug_b}/invitations/{}",
            invitation_a.pid
        ))
        .authorization_bearer(&token_b)
        .await,
    ];
    // Local B's admin also joins local A: the token is still bound to B.
    unionhall::models::memberships::seed_membership(
        &app.ctx.db,
        tenant_a.id(),
        admin_b.id,
        "Admin",
    )
    .await
    .unwrap();
    requests.push(
        api.get(&format!("/api/v1/locals/{slug_a}/roles"))
            .authorization_bearer(&token_b)
            .await,
    );

    for response in &requests {
        assert_eq!(
            (response.status_code().as_u16(), code(response)),
            (404, "not_found".into())
        );
    }
    assert_eq!(Role::find(&tenant_a, role_a.pid).await.unwrap(), role_a);
    assert_eq!(
        unionhall::models::invitations::Model::pending(&tenant_a)
            .await
            .unwrap()
            .len(),
        1
    );
    let person = unionhall::models::memberships::Model::find(&tenant_a, person_a)
        .await
        .unwrap();
    assert!(!person.is_disabled());
}

#[tokio::test]
async fn collections_page_with_signed_cursors_and_refuse_tampered_ones_and_huge_pages() {
    let app = TestApp::start().await;
    let slug = unique_slug("page");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    for n in 0..7 {
        app.person_with_role(&tenant, if n % 2 == 0 { "Officer" } else { "Member" })
            .await;
    }
    let token = app.token(&tenant, &admin).await;
    let api = app.client().server;

    let mut seen = BTreeSet::new();
    let mut next = Some(format!("/api/v1/locals/{slug}/users?limit=3"));
    let mut pages = 0;
    while let Some(url) = next {
        let page: Value = api.get(&url).authorization_bearer(&token).await.json();
        for item in page["items"].as_array().unwrap() {
            assert!(
                seen.insert(item["pid"].as_str().unwrap().to_string()),
                "no person twice"
            );
        }
        next = page["next"].as_str().map(str::to_string);
        pages += 1;
    }
    assert_eq!((seen.len(), pages), (8, 3));

    let first: Value = api
        .get(&format!("/api/v1/locals/{slug}/users?limit=3"))
        .authorization_bearer(&token)
        .await
        .json();
    let next_url = first["next"].as_str().unwrap();
    let cursor = next_url.split("cursor=").nth(1).unwrap();
    let mut tampered = cursor.to_string();
    tampered.replace_range(7..8, if &cursor[7..8] == "0" { "1" } else { "0" });
    for (bad, status, expected) in [
        (format!("cursor={tampered}"), 404, "invalid_cursor"),
        ("cursor=zz".into(), 404, "invalid_cursor"),
        ("limit=1000".into(), 422, "validation_failed"),
        ("limit=0".into(), 422, "validation_failed"),
        ("limit=ten".into(), 422, "validation_failed"),
    ] {
        let response = api
            .get(&format!("/api/v1/locals/{slug}/users?{bad}"))
            .authorization_bearer(&token)
            .await;
        assert_eq!(
            (response.status_code().as_u16(), code(&response)),
            (status, expected.to_string()),
            "{bad}"
        );
    }
    // A cursor works only on the collection that gave it out.
    for elsewhere in ["roles", "invitations", "tokens"] {
        let response = api
            .get(&format!(
                "/api/v1/locals/{slug}/{elsewhere}?cursor={cursor}"
            ))
            .authorization_bearer(&token)
            .await;
        assert_eq!(
            (response.status_code().as_u16(), code(&response)),
            (404, "invalid_cursor".to_string()),
            "{elsewhere}"
        );
    }
    let same = api
        .get(&format!(
            "/api/v1/locals/{slug}/users?limit=3&cursor={cursor}"
        ))
        .authorization_bearer(&token)
        .await;
    assert_eq!(same.status_code(), 200);
}

#[tokio::test]
async fn each_token_is_rate_limited_with_retry_after() {
    let app = TestApp::start_with(|config| {
        if let Some(settings) = config.settings.as_mut() {
            settings["api"]["requests_per_minute"] = json!(3);
        }
    })
    .await;
    let slug = unique_slug("rate");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let token = app.token(&tenant, &admin).await;
    let other = app.token(&tenant, &admin).await;
    let api = app.client().server;

    for _ in 0..3 {
        assert_eq!(
            api.get("/api/v1/me")
                .authorization_bearer(&token)
                .await
                .status_code(),
            200
        );
    }
    let limited = api.get("/api/v1/me").authorization_bearer(&token).await;

    assert_eq!(
        (limited.status_code().as_u16(), code(&limited)),
        (429, "rate_limited".into())
    );
    let wait: u64 = limited
        .header("retry-after")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    assert_eq!(
        api.get("/api/v1/me")
            .authorization_bearer(&other)
            .await
            .status_code(),
        200,
        "limits are per token"
    );
}

#[tokio::test]
async fn the_openapi_document_lists_every_api_route_with_its_security_and_errors() {
    let app = TestApp::start().await;
    let served: Value = app.client().get("/api/v1/openapi.json").await.json();
    let doc = ApiDoc::openapi();
    let documented: BTreeSet<(String, String)> = doc
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ]
            .into_iter()
            .filter(|(_, present)| *present)
            .map(move |(method, _)| (method.to_string(), path.clone()))
        })
        .collect();

    let routed: BTreeSet<(String, String)> = <App as loco_rs::app::Hooks>::routes(&app.ctx)
        .collect()
        .into_iter()
        .filter(|r| {
            r.uri.starts_with("/api/v1/")
                && r.uri != "/api/v1/openapi.json"
                && r.uri != "/api/v1/docs"
        })
        .flat_map(|r| {
            r.actions
                .into_iter()
                .map(move |m| (m.to_string(), r.uri.clone()))
        })
        .filter(|(method, _)| method != "HEAD")
        .collect();

    let missing: Vec<_> = routed.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "API routes missing from the OpenAPI document: {missing:?}"
    );
    let stale: Vec<_> = documented.difference(&routed).collect();
    assert!(
        stale.is_empty(),
        "documented operations with no route: {stale:?}"
    );
    assert!(routed.len() >= 19);
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(
        served["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    assert!(served["components"]["schemas"]["ErrorBody"].is_object());
    let docs = app.client().get("/api/v1/docs").await;
    assert!(docs.text().contains("/static/vendor/redoc.standalone.js"));
}

#[tokio::test]
async fn collections_filter_and_sort_and_their_next_links_keep_the_filters() {
    let app = TestApp::start().await;
    let slug = unique_slug("filter");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    for _ in 0..3 {
        app.person_with_role(&tenant, "Steward").await;
    }
    let officer = app.person_with_role(&tenant, "Officer").await;
    let people = unionhall::models::memberships::Model::list(&tenant)
        .await
        .unwrap();
    let officer_pid = people
        .iter()
        .find(|p| p.user.id == officer.id)
        .unwrap()
        .membership
        .pid;
    unionhall::models::memberships::Model::disable(&tenant, officer_pid)
        .await
        .unwrap();
    let steward_role = Role::list(&tenant)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.role.name == "Steward")
        .unwrap()
        .role
        .pid;
    let token = app.token(&tenant, &admin).await;
    let api = app.client().server;
    let users = format!("/api/v1/locals/{slug}/users");
    let get = |url: String| {
        let api = &api;
        let token = token.clone();
        async move { api.get(&url).authorization_bearer(&token).await }
    };

    let disabled: Value = get(format!("{users}?status=disabled")).await.json();
    let stewards_page: Value = get(format!("{users}?role={steward_role}&limit=2"))
        .await
        .json();
    let next = stewards_page["next"].as_str().unwrap().to_string();
    let stewards_rest: Value = get(next.clone()).await.json();
    let newest: Value = get(format!("{users}?sort=-created&limit=2")).await.json();
    let oldest: Value = get(format!("{users}?limit=2")).await.json();
    let nobody: Value = get(format!("{users}?role={}", uuid::Uuid::new_v4()))
        .await
        .json();

    assert_eq!(disabled["items"].as_array().unwrap().len(), 1);
    assert_eq!(disabled["items"][0]["pid"], officer_pid.to_string());
    assert!(next.contains(&format!("role={steward_role}")), "{next}");
    let stewards: Vec<&Value> = stewards_page["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(stewards_rest["items"].as_array().unwrap())
        .collect();
    assert_eq!(stewards.len(), 3);
    assert!(stewards.iter().all(|p| p["role"] == "Steward"));
    assert_eq!(
        newest["items"][0]["pid"],
        officer_pid.to_string(),
        "newest first"
    );
    assert_eq!(
        oldest["items"][0]["email"], admin.email,
        "oldest first by default"
    );
    assert!(newest["next"].as_str().unwrap().contains("sort=-created"));
    assert!(nobody["items"].as_array().unwrap().is_empty());
    for bad in ["sort=name", "status=gone", "role=admin"] {
        let response = get(format!("{users}?{bad}")).await;
        assert_eq!(
            (response.status_code().as_u16(), code(&response)),
            (422, "validation_failed".into()),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn with_redis_a_token_s_limit_holds_across_web_processes() {
    let namespace = format!(
        "uh-test-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let jobs = crate::support::workers::fast_jobs(&namespace);
    let app = TestApp::start_with(move |config| {
        let settings = config.settings.get_or_insert_with(|| json!({}));
        settings["jobs"] = jobs;
        settings["api"]["requests_per_minute"] = json!(3);
    })
    .await;
    let slug = unique_slug("rated");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let token = app.token(&tenant, &admin).await;
    let pid = unionhall::models::api_tokens::authenticate(&app.ctx.db, &token)
        .await
        .unwrap()
        .pid;
    let api = app.client().server;
    // Keep the whole test inside one minute's window.
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    if now() % 60 >= 50 {
        tokio::time::sleep(std::time::Duration::from_secs(61 - now() % 60)).await;
    }
    for _ in 0..2 {
        let ok = api.get("/api/v1/me").authorization_bearer(&token).await;
        assert_eq!(ok.status_code(), 200);
    }
    // Another web process serves one request of the same token.
    let counted = app
        .redis()
        .hit(
            &unionhall::controllers::api::rate_window_key(pid, now() / 60),
            120,
        )
        .await
        .unwrap();
    assert_eq!(counted, 3, "this process's two requests are in Redis");

    let limited = api.get("/api/v1/me").authorization_bearer(&token).await;
    assert_eq!(
        (limited.status_code().as_u16(), code(&limited)),
        (429, "rate_limited".into()),
        "the third request here is the fourth of the minute"
    );
}

#[tokio::test]
async fn the_document_fetched_with_a_token_states_the_phone_numbers_its_local_accepts() {
    let app = TestApp::start().await;
    let slug = unique_slug("phonedoc");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let token = app.token(&tenant, &admin).await;
    let api = app.client().server;
    let phone =
        |doc: &Value| doc["components"]["schemas"]["MemberInput"]["properties"]["phone"].clone();

    let anonymous: Value = api.get("/api/v1/openapi.json").await.json();
    assert!(phone(&anonymous).is_object());
    assert!(
        phone(&anonymous).get("pattern").is_none(),
        "no local, no pattern"
    );

    tenant.set_phone_country("44").await.unwrap();
    let served: Value = api
        .get("/api/v1/openapi.json")
        .authorization_bearer(&token)
        .await
        .json();
    let pattern = phone(&served)["pattern"].as_str().unwrap().to_string();
    assert_eq!(pattern, unionhall::domain::Phone::pattern("44"));
    assert!(phone(&served)["description"]
        .as_str()
        .unwrap()
        .contains("(+44)"));

    // What the pattern allows, the members API takes, and the other way round.
    let members = format!("/api/v1/locals/{slug}/members");
    let re = regex::Regex::new(&pattern).unwrap();
    for (number, ok) in [
        ("020 7946 0958", true),
        ("+1 555 123 4567", true),
        ("12 34", false),
        ("0044", false),
    ] {
        assert_eq!(re.is_match(number), ok, "{number}");
        let sent = api
            .post(&members)
            .authorization_bearer(&token)
            .json(&json!({"first_name": "Pat", "last_name": "Lee", "phone": number}))
            .await;
        assert_eq!(
            sent.status_code().as_u16(),
            if ok { 201 } else { 422 },
            "{number}"
        );
    }
}
