//! The local's structure through the JSON API, as a payroll system syncing
//! its employer roster uses it: employers, worksites, bargaining units and
//! statuses created, found by name, renamed, reordered and deleted with the
//! structure page's refusals; readers read and cannot change; another
//! local's token finds none of it (404, nothing changed).
use serde_json::{json, Value};
use unionhall::models::{
    audit_events, employers, members::Model as Member, structure::Directory, Window,
};

use crate::support::{new_member, unique_slug, TestApp};

fn code(response: &axum_test::TestResponse) -> String {
    response.json::<Value>()["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_payroll_sync_keeps_the_employer_roster_through_the_api() {
    let app = TestApp::start().await;
    let slug = unique_slug("apis");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let token = app.token(&tenant, &admin).await;
    let api = app.client().server;
    let employers_path = format!("/api/v1/locals/{slug}/employers");

    let created = api
        .post(&employers_path)
        .authorization_bearer(&token)
        .json(&json!({"name": "  City   Hospital "}))
        .await;
    assert_eq!(created.status_code(), 201, "{}", created.text());
    let hospital = created.json::<Value>();
    assert_eq!(hospital["name"], "City Hospital");
    let hospital_pid = hospital["pid"].as_str().unwrap().to_string();
    assert_eq!(
        created.header("location").to_str().unwrap(),
        format!("{employers_path}/{hospital_pid}")
    );

    let taken = api
        .post(&employers_path)
        .authorization_bearer(&token)
        .json(&json!({"name": "City Hospital"}))
        .await;
    assert_eq!(taken.status_code(), 409);
    assert!(taken.json::<Value>()["error"]["details"]["name"]
        .as_str()
        .unwrap()
        .contains("exists already"));
    for bad in [json!({"name": "   "}), json!({"name": "x".repeat(161)})] {
        let refused = api
            .post(&employers_path)
            .authorization_bearer(&token)
            .json(&bad)
            .await;
        assert_eq!(refused.status_code(), 422, "{bad}");
        assert!(refused.json::<Value>()["error"]["details"]["name"].is_string());
    }
    api.post(&employers_path)
        .authorization_bearer(&token)
        .json(&json!({"name": "Metro Transit"}))
        .await
        .assert_status(axum::http::StatusCode::CREATED);

    // Found by the name payroll knows; all of them, a page at a time.
    let found = api
        .get(&employers_path)
        .add_query_param("name", "City Hospital")
        .authorization_bearer(&token)
        .await
        .json::<Value>();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    assert_eq!(found["items"][0]["pid"], hospital_pid.as_str());
    let first = api
        .get(&employers_path)
        .add_query_param("limit", "1")
        .authorization_bearer(&token)
        .await
        .json::<Value>();
    assert_eq!(first["items"][0]["name"], "City Hospital");
    let next = first["next"].as_str().expect("a second page");
    let second = api
        .get(next)
        .authorization_bearer(&token)
        .await
        .json::<Value>();
    assert_eq!(second["items"][0]["name"], "Metro Transit");
    assert!(second["next"].is_null());

    // A worksite needs one of the local's employers.
    let worksites_path = format!("/api/v1/locals/{slug}/worksites");
    let orphan = api
        .post(&worksites_path)
        .authorization_bearer(&token)
        .json(&json!({"name": "North Wing", "employer": uuid::Uuid::new_v4()}))
        .await;
    assert_eq!(orphan.status_code(), 404);
    assert!(orphan.json::<Value>()["error"]["details"]["employer"].is_string());
    let wing = api
        .post(&worksites_path)
        .authorization_bearer(&token)
        .json(&json!({"name": "North Wing", "employer": hospital_pid}))
        .await;
    assert_eq!(wing.status_code(), 201, "{}", wing.text());
    let wing = wing.json::<Value>();
    assert_eq!(wing["employer"]["name"], "City Hospital");
    let at_hospital = api
        .get(&worksites_path)
        .add_query_param("employer", &hospital_pid)
        .authorization_bearer(&token)
        .await
        .json::<Value>();
    assert_eq!(at_hospital["items"].as_array().unwrap().len(), 1);
    for bad in ["not-a-pid", ""] {
        let bad_filter = api
            .get(&worksites_path)
            .add_query_param("employer", bad)
            .authorization_bearer(&token)
            .await;
        assert_eq!(bad_filter.status_code(), 422, "{bad:?}");
    }
    let elsewhere = api
        .get(&worksites_path)
        .add_query_param("employer", uuid::Uuid::new_v4())
        .authorization_bearer(&token)
        .await
        .json::<Value>();
    assert!(elsewhere["items"].as_array().unwrap().is_empty());

    // Renamed: members placed there keep it; the audit log says who.
    let renamed = api
        .put(&format!("{employers_path}/{hospital_pid}"))
        .authorization_bearer(&token)
        .json(&json!({"name": "Mercy Hospital"}))
        .await;
    assert_eq!(renamed.status_code(), 200);
    assert_eq!(renamed.json::<Value>()["name"], "Mercy Hospital");
    let pid = uuid::Uuid::parse_str(&hospital_pid).unwrap();
    let member = Member::create(
        &tenant,
        unionhall::models::members::NewMember {
            employer: Some(pid),
            ..new_member("Joe", "Hill", false)
        },
    )
    .await
    .unwrap();
    let audit = audit_events::list(&tenant, Window::page(None, 50, true))
        .await
        .unwrap();
    assert!(
        audit.iter().any(|e| e.event.subject_type == "employer"
            && e.event.action == "update"
            && e.actor.as_deref() == Some(admin.name.as_str())),
        "the rename is in the audit log"
    );

    // Deleting what is in use is refused with what uses it.
    let in_use = api
        .delete(&format!("{employers_path}/{hospital_pid}"))
        .authorization_bearer(&token)
        .await;
    assert_eq!(in_use.status_code(), 409);
    assert!(in_use.json::<Value>()["error"]["details"]["name"]
        .as_str()
        .unwrap()
        .contains("1 member has this employer"));
    Member::archive(&tenant, member.pid).await.unwrap();
    let still = api
        .delete(&format!("{employers_path}/{hospital_pid}"))
        .authorization_bearer(&token)
        .await;
    assert_eq!(still.status_code(), 409, "archived members count too");
    let wing_pid = wing["pid"].as_str().unwrap();
    assert_eq!(
        api.delete(&format!("{worksites_path}/{wing_pid}"))
            .authorization_bearer(&token)
            .await
            .status_code(),
        204
    );
    assert_eq!(
        api.get(&format!("{worksites_path}/{wing_pid}"))
            .authorization_bearer(&token)
            .await
            .status_code(),
        404
    );

    // Units, the same way.
    let units_path = format!("/api/v1/locals/{slug}/bargaining_units");
    let unit = api
        .post(&units_path)
        .authorization_bearer(&token)
        .json(&json!({"name": "Nurses"}))
        .await
        .json::<Value>();
    let unit_path = format!("{units_path}/{}", unit["pid"].as_str().unwrap());
    assert_eq!(
        api.get(&unit_path)
            .authorization_bearer(&token)
            .await
            .json::<Value>()["name"],
        "Nurses"
    );
    assert_eq!(
        api.delete(&unit_path)
            .authorization_bearer(&token)
            .await
            .status_code(),
        204
    );
    let directory = Directory::load(&tenant).await.unwrap();
    assert!(directory.units.is_empty());
    assert_eq!(directory.employers.len(), 2);
}

#[tokio::test]
async fn statuses_are_added_reordered_renamed_and_deleted_through_the_api() {
    let app = TestApp::start().await;
    let slug = unique_slug("apist");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let token = app.token(&tenant, &admin).await;
    let api = app.client().server;
    let path = format!("/api/v1/locals/{slug}/membership_statuses");

    let list = api
        .get(&path)
        .authorization_bearer(&token)
        .await
        .json::<Value>();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[..2], ["Active", "Probationary"]);
    assert_eq!(list["items"][0]["position"], 1);

    let honorary = api
        .post(&path)
        .authorization_bearer(&token)
        .json(&json!({"name": "Honorary", "in_good_standing": true}))
        .await;
    assert_eq!(honorary.status_code(), 201);
    let honorary = honorary.json::<Value>();
    assert_eq!(honorary["position"], names.len() + 1);
    let honorary_path = format!("{path}/{}", honorary["pid"].as_str().unwrap());

    let first = api
        .put(&format!("{honorary_path}/position"))
        .authorization_bearer(&token)
        .json(&json!({"position": 1}))
        .await;
    assert_eq!(first.status_code(), 200, "{}", first.text());
    assert_eq!(first.json::<Value>()["position"], 1);
    let directory = Directory::load(&tenant).await.unwrap();
    assert_eq!(directory.statuses[0].name, "Honorary");
    assert_eq!(
        directory.statuses[1].name, "Active",
        "the others keep their order"
    );
    let zero = api
        .put(&format!("{honorary_path}/position"))
        .authorization_bearer(&token)
        .json(&json!({"position": 0}))
        .await;
    assert_eq!(zero.status_code(), 422);
    let last = api
        .put(&format!("{honorary_path}/position"))
        .authorization_bearer(&token)
        .json(&json!({"position": 99}))
        .await;
    assert_eq!(
        last.json::<Value>()["position"],
        names.len() + 1,
        "past the end is last"
    );
    api.put(&format!("{honorary_path}/position"))
        .authorization_bearer(&token)
        .json(&json!({"position": 1}))
        .await
        .assert_status_ok();

    let saved = api
        .put(&honorary_path)
        .authorization_bearer(&token)
        .json(&json!({"name": "Honorary member", "in_good_standing": false}))
        .await
        .json::<Value>();
    assert_eq!(saved["name"], "Honorary member");
    assert_eq!(saved["in_good_standing"], false);
    let taken = api
        .put(&honorary_path)
        .authorization_bearer(&token)
        .json(&json!({"name": "Active"}))
        .await;
    assert_eq!(taken.status_code(), 409);

    // A status a member's history names stays; an unused one goes.
    let active = directory.statuses[1].pid;
    Member::create(
        &tenant,
        unionhall::models::members::NewMember {
            status: Some(active),
            ..new_member("Joe", "Hill", false)
        },
    )
    .await
    .unwrap();
    let named = api
        .delete(&format!("{path}/{active}"))
        .authorization_bearer(&token)
        .await;
    assert_eq!(named.status_code(), 409);
    assert_eq!(code(&named), "conflict");
    assert_eq!(
        api.delete(&honorary_path)
            .authorization_bearer(&token)
            .await
            .status_code(),
        204
    );
    assert!(Directory::load(&tenant)
        .await
        .unwrap()
        .statuses
        .iter()
        .all(|s| s.name != "Honorary member"));
}

#[tokio::test]
async fn readers_read_the_structure_and_other_locals_find_none_of_it() {
    let app = TestApp::start().await;
    let slug = unique_slug("apisx");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let steward = app.person_with_role(&tenant, "Steward").await;
    let steward_token = app.token(&tenant, &steward).await;
    let api = app.client().server;
    let hospital = employers::Model::create(
        &tenant,
        &unionhall::domain::UnitName::parse("City Hospital").unwrap(),
    )
    .await
    .unwrap();
    let status = Directory::load(&tenant).await.unwrap().statuses[0].clone();

    // A steward reads the roll's structure but cannot change it.
    let employers_path = format!("/api/v1/locals/{slug}/employers");
    assert_eq!(
        api.get(&employers_path)
            .authorization_bearer(&steward_token)
            .await
            .status_code(),
        200
    );
    let refused = api
        .post(&employers_path)
        .authorization_bearer(&steward_token)
        .json(&json!({"name": "Metro Transit"}))
        .await;
    assert_eq!(refused.status_code(), 403);
    assert_eq!(code(&refused), "forbidden");

    // Another local's admin, with its own slug or this one's, finds nothing.
    let other_slug = unique_slug("apiso");
    let (other, other_admin) = app.local_with_admin(&other_slug).await;
    let other_token = app.token(&other, &other_admin).await;
    let mut attempts = Vec::new();
    for local in [other_slug.as_str(), slug.as_str()] {
        let employer = format!("/api/v1/locals/{local}/employers/{}", hospital.pid);
        let status_path = format!("/api/v1/locals/{local}/membership_statuses/{}", status.pid);
        attempts.push(("get", employer.clone(), Value::Null));
        attempts.push(("put", employer.clone(), json!({"name": "Taken over"})));
        attempts.push(("delete", employer, Value::Null));
        attempts.push(("get", status_path.clone(), Value::Null));
        attempts.push(("put", status_path.clone(), json!({"name": "Gone"})));
        attempts.push((
            "put",
            format!("{status_path}/position"),
            json!({"position": 1}),
        ));
        attempts.push(("delete", status_path, Value::Null));
    }
    attempts.push((
        "post",
        format!("/api/v1/locals/{other_slug}/worksites"),
        json!({"name": "North Wing", "employer": hospital.pid}),
    ));
    for (method, url, body) in attempts {
        let response = match method {
            "get" => api.get(&url).authorization_bearer(&other_token).await,
            "put" => {
                api.put(&url)
                    .authorization_bearer(&other_token)
                    .json(&body)
                    .await
            }
            "post" => {
                api.post(&url)
                    .authorization_bearer(&other_token)
                    .json(&body)
                    .await
            }
            _ => api.delete(&url).authorization_bearer(&other_token).await,
        };
        assert_eq!(response.status_code(), 404, "{method} {url}");
    }
    let directory = Directory::load(&tenant).await.unwrap();
    assert_eq!(directory.employers.len(), 1);
    assert_eq!(directory.employers[0].name, "City Hospital");
    assert_eq!(directory.statuses[0].name, status.name);
    assert!(Directory::load(&other).await.unwrap().worksites.is_empty());
}
