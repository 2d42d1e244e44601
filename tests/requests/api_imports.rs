//! Member imports and the audit log through the JSON API: a CSV uploaded as
//! the body, previewed, mapped, started and followed to its counts and
//! failed rows; refusals as JSON; the audit log read a page at a time; and
//! another local's token finds none of it (404, nothing changed).
use std::time::Duration;

use serde_json::{json, Value};
use unionhall::models::members::{MemberFilter, Model as Member};

use crate::support::{unique_slug, TestApp};

fn code(response: &axum_test::TestResponse) -> String {
    response.json::<Value>()["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

const CSV: &str = "First,Last,E-mail,Employer\n\
    Ann,Lee,ann@example.org,City Hospital\n\
    ,Nobody,nobody@example.org,City Hospital\n\
    Cesar,Chavez,cesar@example.org,Metro Transit\n";

#[tokio::test]
async fn a_csv_is_uploaded_previewed_mapped_and_imported_through_the_api() {
    let app = TestApp::start().await;
    let slug = unique_slug("apii");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let token = app.token(&tenant, &admin).await;
    let api = app.client().server;
    let imports = format!("/api/v1/locals/{slug}/member_imports");

    let not_csv = api
        .post(&imports)
        .authorization_bearer(&token)
        .json(&json!({"rows": []}))
        .await;
    assert_eq!(not_csv.status_code(), 415);
    let empty = api
        .post(&imports)
        .authorization_bearer(&token)
        .content_type("text/csv")
        .bytes(Vec::new().into())
        .await;
    assert_eq!(empty.status_code(), 422);
    assert!(empty.json::<Value>()["error"]["details"]["file"].is_string());

    let long_name = api
        .post(&imports)
        .add_query_param("file_name", "x".repeat(201))
        .authorization_bearer(&token)
        .content_type("text/csv")
        .bytes(CSV.as_bytes().to_vec().into())
        .await;
    assert_eq!(long_name.status_code(), 422);
    assert!(long_name.json::<Value>()["error"]["details"]["file_name"].is_string());

    // Headers the guess cannot read are fine here: the caller maps them.
    let odd = api
        .post(&imports)
        .authorization_bearer(&token)
        .content_type("text/csv")
        .bytes(b"Given,Family\nAnn,Lee\n".to_vec().into())
        .await;
    assert_eq!(odd.status_code(), 201, "{}", odd.text());
    assert!(odd.json::<Value>()["mapping"]
        .as_object()
        .unwrap()
        .is_empty());
    let mapped = api
        .put(odd.header("location").to_str().unwrap())
        .authorization_bearer(&token)
        .json(&json!({"mapping": {"first_name": 0.0, "last_name": 1}}))
        .await;
    assert_eq!(mapped.status_code(), 200, "{}", mapped.text());
    assert_eq!(mapped.json::<Value>()["mapping"]["first_name"], 0);

    let uploaded = api
        .post(&imports)
        .add_query_param("file_name", "payroll.csv")
        .authorization_bearer(&token)
        .content_type("text/csv")
        .bytes(CSV.as_bytes().to_vec().into())
        .await;
    assert_eq!(uploaded.status_code(), 201, "{}", uploaded.text());
    let import = uploaded.json::<Value>();
    assert_eq!(import["state"], "mapping");
    assert_eq!(import["file_name"], "payroll.csv");
    assert_eq!(import["mapping"]["email"], 2, "guessed from the headers");
    let path = uploaded.header("location").to_str().unwrap().to_string();

    let preview = api
        .get(&format!("{path}/preview"))
        .authorization_bearer(&token)
        .await
        .json::<Value>();
    assert_eq!(preview["headers"][0], "First");
    assert_eq!(preview["rows"].as_array().unwrap().len(), 3);
    assert!(preview["missing"]["employers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == "City Hospital"));
    assert!(preview["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["key"] == "employer"));

    // Refused settings name the field; the import cannot start without names.
    let unknown = api
        .put(&path)
        .authorization_bearer(&token)
        .json(&json!({"mapping": {"shoe_size": 1}}))
        .await;
    assert_eq!(unknown.status_code(), 422);
    assert!(unknown.json::<Value>()["error"]["details"]["mapping"].is_string());
    let nameless = api
        .put(&path)
        .authorization_bearer(&token)
        .json(&json!({"mapping": {"email": 2}}))
        .await;
    assert_eq!(nameless.status_code(), 422);
    assert!(nameless.json::<Value>()["error"]["details"]["first_name"].is_string());
    let too_soon = api
        .post(&format!("{path}/start"))
        .authorization_bearer(&token)
        .await;
    assert_eq!(too_soon.status_code(), 422);

    let set = api
        .put(&path)
        .authorization_bearer(&token)
        .json(&json!({
            "mapping": {"first_name": 0, "last_name": 1, "email": 2, "employer": 3},
            "on_duplicate": "update",
            "create_missing": true
        }))
        .await;
    assert_eq!(set.status_code(), 200, "{}", set.text());
    assert_eq!(set.json::<Value>()["create_missing"], true);

    let started = api
        .post(&format!("{path}/start"))
        .authorization_bearer(&token)
        .await;
    assert_eq!(started.status_code(), 202, "{}", started.text());
    let again = api
        .post(&format!("{path}/start"))
        .authorization_bearer(&token)
        .await;
    assert_eq!(again.status_code(), 409, "once only");

    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let done = loop {
        let now = api
            .get(&path)
            .authorization_bearer(&token)
            .await
            .json::<Value>();
        if now["state"] == "done" {
            break now;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the import did not finish: {now}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(done["created"], 2);
    assert_eq!(done["failed"], 1);
    assert_eq!(done["percent"], 100);
    let failed = api
        .get(&format!("{path}/failed_rows"))
        .authorization_bearer(&token)
        .await
        .json::<Value>();
    assert_eq!(failed["items"].as_array().unwrap().len(), 1);
    assert_eq!(failed["items"][0]["row"], 2);
    assert_eq!(failed["items"][0]["values"][1], "Nobody");
    assert!(failed["items"][0]["reason"].as_str().unwrap().len() > 3);
    let listed = api
        .get(&imports)
        .authorization_bearer(&token)
        .await
        .json::<Value>();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    let on_roll = Member::count(&tenant, &MemberFilter::default())
        .await
        .unwrap();
    assert_eq!(on_roll, unionhall::models::members::Total::Exact(2));

    // The audit log shows who imported and what the import added.
    let audit = format!("/api/v1/locals/{slug}/audit_events");
    let logged = api
        .get(&audit)
        .add_query_param("subject_type", "member_import")
        .authorization_bearer(&token)
        .await;
    assert_eq!(logged.status_code(), 200, "{}", logged.text());
    let logged = logged.json::<Value>();
    let items = logged["items"].as_array().unwrap();
    assert!(items.iter().all(|e| e["subject_type"] == "member_import"));
    let added = items
        .iter()
        .find(|e| e["action"] == "add_structure")
        .expect("the structure the import added is logged");
    assert!(
        added["changes"].to_string().contains("City Hospital"),
        "{added}"
    );
    let run = items
        .iter()
        .find(|e| e["action"] == "import")
        .expect("the import is logged");
    assert_eq!(run["actor"], admin.name.as_str());
    let joe = Member::create(&tenant, crate::support::new_member("Joe", "Hill", false))
        .await
        .unwrap();
    let members_logged = api
        .get(&audit)
        .add_query_param("subject_type", "member")
        .authorization_bearer(&token)
        .await
        .json::<Value>();
    assert!(members_logged["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(
            |e| e["subject_name"] == "Joe Hill" && e["subject_pid"] == joe.pid.to_string().as_str()
        ));
    let newest = api
        .get(&audit)
        .add_query_param("sort", "-created")
        .add_query_param("limit", "1")
        .authorization_bearer(&token)
        .await
        .json::<Value>();
    assert_eq!(newest["items"].as_array().unwrap().len(), 1);
    assert!(newest["next"].is_string());
    let bad = api
        .get(&audit)
        .add_query_param("subject_type", "Robert'); DROP TABLE")
        .authorization_bearer(&token)
        .await;
    assert_eq!(bad.status_code(), 422);
}

#[tokio::test]
async fn imports_and_the_audit_log_are_staff_only_and_another_local_finds_none() {
    let app = TestApp::start().await;
    let slug = unique_slug("apiix");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let token = app.token(&tenant, &admin).await;
    let steward = app.person_with_role(&tenant, "Steward").await;
    let steward_token = app.token(&tenant, &steward).await;
    let api = app.client().server;
    let imports = format!("/api/v1/locals/{slug}/member_imports");
    let uploaded = api
        .post(&imports)
        .authorization_bearer(&token)
        .content_type("text/csv")
        .bytes(CSV.as_bytes().to_vec().into())
        .await;
    assert_eq!(uploaded.status_code(), 201);
    let path = uploaded.header("location").to_str().unwrap().to_string();
    let pid = uploaded.json::<Value>()["pid"]
        .as_str()
        .unwrap()
        .to_string();

    for (url, expected) in [
        (imports.clone(), "forbidden"),
        (format!("/api/v1/locals/{slug}/audit_events"), "forbidden"),
    ] {
        let refused = api.get(&url).authorization_bearer(&steward_token).await;
        assert_eq!(refused.status_code(), 403, "{url}");
        assert_eq!(code(&refused), expected);
    }
    let steward_upload = api
        .post(&imports)
        .authorization_bearer(&steward_token)
        .content_type("text/csv")
        .bytes(CSV.as_bytes().to_vec().into())
        .await;
    assert_eq!(steward_upload.status_code(), 403);

    let other_slug = unique_slug("apiio");
    let (other, other_admin) = app.local_with_admin(&other_slug).await;
    let other_token = app.token(&other, &other_admin).await;
    for local in [other_slug.as_str(), slug.as_str()] {
        let theirs = format!("/api/v1/locals/{local}/member_imports/{pid}");
        for (method, url) in [
            ("get", theirs.clone()),
            ("get", format!("{theirs}/preview")),
            ("get", format!("{theirs}/failed_rows")),
            ("put", theirs.clone()),
            ("post", format!("{theirs}/start")),
        ] {
            let response = match method {
                "get" => api.get(&url).authorization_bearer(&other_token).await,
                "put" => {
                    api.put(&url)
                        .authorization_bearer(&other_token)
                        .json(&json!({"mapping": {"first_name": 0, "last_name": 1}}))
                        .await
                }
                _ => api.post(&url).authorization_bearer(&other_token).await,
            };
            assert_eq!(response.status_code(), 404, "{method} {url}");
        }
    }
    // The audit logs: each local's own.
    api.post(&format!("/api/v1/locals/{slug}/employers"))
        .authorization_bearer(&token)
        .json(&json!({"name": "City Hospital"}))
        .await
        .assert_status(axum::http::StatusCode::CREATED);
    let log = |body: Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {} {}",
                    e["subject_type"], e["subject_pid"], e["created_at"]
                )
            })
            .collect()
    };
    let ours = log(api
        .get(&format!("/api/v1/locals/{slug}/audit_events"))
        .authorization_bearer(&token)
        .await
        .json::<Value>());
    assert!(
        ours.iter().any(|e| e.starts_with("\"employer\"")),
        "{ours:?}"
    );
    let theirs = log(api
        .get(&format!("/api/v1/locals/{other_slug}/audit_events"))
        .authorization_bearer(&other_token)
        .await
        .json::<Value>());
    assert!(
        theirs.iter().all(|e| !ours.contains(e)),
        "another local's log shows none of this one's"
    );
    assert_eq!(
        api.get(&format!("/api/v1/locals/{slug}/audit_events"))
            .authorization_bearer(&other_token)
            .await
            .status_code(),
        404
    );
    let unchanged = api
        .get(&path)
        .authorization_bearer(&token)
        .await
        .json::<Value>();
    assert_eq!(unchanged["state"], "mapping");
    assert_eq!(unchanged["mapping"]["email"], 2);
}
