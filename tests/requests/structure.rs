//! The structure page: admins add, rename and (when unused) delete
//! employers, worksites and bargaining units, and add, rename and reorder
//! membership statuses.
use unionhall::models::{employers, membership_statuses, structure::Directory};

use crate::support::{unique_slug, TestApp, PASSWORD};

#[tokio::test]
async fn an_admin_builds_the_local_s_structure_and_orders_its_statuses() {
    let app = TestApp::start().await;
    let slug = unique_slug("struct");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    let page = browser.get(&format!("/l/{slug}/structure")).await;
    assert_eq!(page.status_code(), 200);
    assert!(page.text().contains("Probationary"));

    let added = browser
        .submit(
            &format!("/l/{slug}/employers"),
            &[("name", "  City   Hospital ")],
        )
        .await;
    assert_eq!(added.status_code(), 303);
    let txn = tenant.begin().await.unwrap();
    let hospital = employers::Model::list(&txn).await.unwrap().remove(0);
    txn.commit().await.unwrap();
    assert_eq!(hospital.name, "City Hospital");

    let dup = browser
        .submit(
            &format!("/l/{slug}/employers"),
            &[("name", "City Hospital")],
        )
        .await;
    assert_eq!(dup.status_code(), 422);
    let text = dup.text();
    assert!(text.contains("id=\"error-employer-new\"") && text.contains("exists already"));
    let empty = browser
        .submit(&format!("/l/{slug}/bargaining_units"), &[("name", "  ")])
        .await;
    assert_eq!(empty.status_code(), 422);
    assert!(empty.text().contains("id=\"error-unit-new\""));

    for (path, fields) in [
        (
            format!("/l/{slug}/worksites"),
            vec![
                ("employer", hospital.pid.to_string()),
                ("name", "North Wing".into()),
            ],
        ),
        (
            format!("/l/{slug}/employers/{}?_method=put", hospital.pid),
            vec![("name", "Mercy Hospital".to_string())],
        ),
        (
            format!("/l/{slug}/bargaining_units"),
            vec![("name", "Nurses".into())],
        ),
        (
            format!("/l/{slug}/membership_statuses"),
            vec![
                ("name", "Honorary".into()),
                ("in_good_standing", "1".into()),
            ],
        ),
    ] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            browser.submit(&path, &fields).await.status_code(),
            303,
            "{path}"
        );
    }
    let page = browser.get(&format!("/l/{slug}/structure")).await.text();
    assert!(
        page.contains("Mercy Hospital") && page.contains("North Wing") && page.contains("Nurses")
    );

    let names = || async {
        let txn = tenant.begin().await.unwrap();
        let s = membership_statuses::list(&txn).await.unwrap();
        txn.commit().await.unwrap();
        s
    };
    let statuses = names().await;
    let honorary = statuses.last().unwrap().clone();
    assert_eq!(honorary.name, "Honorary");
    assert!(honorary.in_good_standing);
    let moved = browser
        .submit(
            &format!(
                "/l/{slug}/membership_statuses/{}/position?_method=put",
                honorary.pid
            ),
            &[("direction", "up")],
        )
        .await;
    assert_eq!(moved.status_code(), 303);
    let order: Vec<String> = names().await.into_iter().map(|s| s.name).collect();
    assert_eq!(
        order,
        [
            "Active",
            "Probationary",
            "Suspended",
            "Lapsed",
            "Retired",
            "Honorary",
            "Resigned"
        ]
    );
    let renamed = browser
        .submit(
            &format!("/l/{slug}/membership_statuses/{}?_method=put", honorary.pid),
            &[("name", "Lapsed")],
        )
        .await;
    assert_eq!(renamed.status_code(), 422, "the name is taken");
    assert!(renamed
        .text()
        .contains(&format!("id=\"error-status-{}\"", honorary.pid)));

    // Every change is in the audit log with who made it; the refused one is not.
    let audit = browser.get(&format!("/l/{slug}/audit")).await.text();
    for line in [
        "name: — → City Hospital",
        "name: City Hospital → Mercy Hospital",
        "name: — → North Wing",
        "employer: — → City Hospital",
        "name: — → Nurses",
        "name: — → Honorary",
        "in_good_standing: — → yes",
        "position: 7 → 6",
    ] {
        assert!(audit.contains(line), "{line}: {audit}");
    }
    assert!(audit.contains("Ada Admin"), "who made the changes");
    assert!(
        audit.contains(&format!(
            r#"<a href="/l/{slug}/structure">Employer #{}</a>"#,
            hospital.id
        )),
        "{audit}"
    );
    assert!(!audit.contains("Honorary → Lapsed"));
}

#[tokio::test]
async fn only_admins_manage_structure_and_never_another_local_s() {
    let app = TestApp::start().await;
    let slug = unique_slug("sa");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let theirs = employers::Model::create(
        &tenant,
        &unionhall::domain::UnitName::parse("Theirs").unwrap(),
    )
    .await
    .unwrap();
    for role in ["Officer", "Steward", "Member"] {
        let person = app.person_with_role(&tenant, role).await;
        let mut browser = app.client();
        browser.sign_in(&person.email, PASSWORD).await;
        assert_eq!(
            browser
                .get(&format!("/l/{slug}/structure"))
                .await
                .status_code(),
            403,
            "{role}"
        );
        assert_eq!(
            browser
                .submit(&format!("/l/{slug}/employers"), &[("name", "X")])
                .await
                .status_code(),
            403,
            "{role}"
        );
    }
    let other_slug = unique_slug("sb");
    let (_, other_admin) = app.local_with_admin(&other_slug).await;
    let mut browser = app.client();
    browser.sign_in(&other_admin.email, PASSWORD).await;
    let renamed = browser
        .submit(
            &format!("/l/{other_slug}/employers/{}?_method=put", theirs.pid),
            &[("name", "Stolen")],
        )
        .await;
    assert_eq!(renamed.status_code(), 404);
    let added = browser
        .submit(
            &format!("/l/{other_slug}/worksites"),
            &[("employer", &theirs.pid.to_string()), ("name", "Annex")],
        )
        .await;
    assert_eq!(
        added.status_code(),
        422,
        "another local's employer is unknown here"
    );
    let txn = tenant.begin().await.unwrap();
    let still = employers::Model::find_by_pid(&txn, theirs.pid)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(still.name, "Theirs");
}

#[tokio::test]
async fn an_admin_deletes_what_no_member_uses_and_is_told_what_uses_the_rest() {
    use unionhall::{
        domain::UnitName,
        models::{bargaining_units, members::Model as Member, worksites},
    };
    let app = TestApp::start().await;
    let slug = unique_slug("del");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let name = |n: &str| UnitName::parse(n).unwrap();
    let hospital = employers::Model::create(&tenant, &name("City Hospital"))
        .await
        .unwrap();
    let north = worksites::Model::create(&tenant, hospital.pid, &name("North Wing"))
        .await
        .unwrap();
    let typo = employers::Model::create(&tenant, &name("Ciy Hospital"))
        .await
        .unwrap();
    let nurses = bargaining_units::Model::create(&tenant, &name("Nurses"))
        .await
        .unwrap();
    let member = Member::create(
        &tenant,
        unionhall::models::members::NewMember {
            employer: Some(hospital.pid),
            worksite: Some(north.pid),
            ..crate::support::new_member("Ann", "Able", false)
        },
    )
    .await
    .unwrap();
    // Archived, the member still counts: restoring them needs their worksite.
    Member::archive(&tenant, member.pid).await.unwrap();
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;

    let refused = browser
        .submit(
            &format!("/l/{slug}/worksites/{}?_method=delete", north.pid),
            &[],
        )
        .await;
    assert_eq!(refused.status_code(), 422);
    let page = refused.text();
    assert!(
        page.contains(&format!(r#"<p class="field-error" id="error-worksite-{}">1 member has this worksite: move them elsewhere first (archived members count too).</p>"#, north.pid)),
        "{page}"
    );
    let refused = browser
        .submit(
            &format!("/l/{slug}/employers/{}?_method=delete", hospital.pid),
            &[],
        )
        .await;
    assert_eq!(refused.status_code(), 422);
    assert!(refused.text().contains("1 member has this employer"));

    for path in [
        format!("/l/{slug}/employers/{}?_method=delete", typo.pid),
        format!("/l/{slug}/bargaining_units/{}?_method=delete", nurses.pid),
    ] {
        let deleted = browser.submit(&path, &[]).await;
        assert_eq!(deleted.status_code(), 303, "{path}");
    }
    let list = browser.get(&format!("/l/{slug}/structure")).await.text();
    assert!(list.contains("Nurses deleted."), "{list}");
    let directory = Directory::load(&tenant).await.unwrap();
    assert_eq!(
        directory
            .employers
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>(),
        ["City Hospital"]
    );
    assert!(directory.units.is_empty());
    assert_eq!(directory.worksites.len(), 1, "the used worksite stays");
    let audit = browser.get(&format!("/l/{slug}/audit")).await.text();
    assert!(audit.contains("name: Ciy Hospital → —"), "{audit}");

    // Once the member is elsewhere, the worksite and then the employer go.
    Member::restore(&tenant, member.pid).await.unwrap();
    Member::update(
        &tenant,
        member.pid,
        crate::support::new_member("Ann", "Able", false),
    )
    .await
    .unwrap();
    let refused = browser
        .submit(
            &format!("/l/{slug}/employers/{}?_method=delete", hospital.pid),
            &[],
        )
        .await;
    assert_eq!(refused.status_code(), 422);
    assert!(refused
        .text()
        .contains("It has 1 worksite: delete it first."));
    for path in [
        format!("/l/{slug}/worksites/{}?_method=delete", north.pid),
        format!("/l/{slug}/employers/{}?_method=delete", hospital.pid),
    ] {
        assert_eq!(
            browser.submit(&path, &[]).await.status_code(),
            303,
            "{path}"
        );
    }
    assert!(Directory::load(&tenant).await.unwrap().employers.is_empty());

    // A status goes only while no member's history names it.
    let statuses = |d: Directory| d.statuses.into_iter().map(|s| s.name).collect::<Vec<_>>();
    let spare = membership_statuses::create(&tenant, &name("Honorary"), false)
        .await
        .unwrap();
    let active = Directory::load(&tenant)
        .await
        .unwrap()
        .statuses
        .into_iter()
        .find(|s| s.name == "Active")
        .unwrap();
    let refused = browser
        .submit(
            &format!(
                "/l/{slug}/membership_statuses/{}?_method=delete",
                active.pid
            ),
            &[],
        )
        .await;
    assert_eq!(refused.status_code(), 422);
    assert!(
        refused.text().contains("1 member has this status"),
        "{}",
        refused.text()
    );
    assert_eq!(
        browser
            .submit(
                &format!("/l/{slug}/membership_statuses/{}?_method=delete", spare.pid),
                &[],
            )
            .await
            .status_code(),
        303
    );
    let left = statuses(Directory::load(&tenant).await.unwrap());
    assert!(left.contains(&"Active".to_string()) && !left.contains(&"Honorary".to_string()));
    // Ann's history still names Active, even once nobody has it.
    let lapsed = Directory::load(&tenant)
        .await
        .unwrap()
        .statuses
        .into_iter()
        .find(|s| s.name == "Lapsed")
        .unwrap();
    Member::update(
        &tenant,
        member.pid,
        unionhall::models::members::NewMember {
            status: Some(lapsed.pid),
            ..crate::support::new_member("Ann", "Able", false)
        },
    )
    .await
    .unwrap();
    let refused = browser
        .submit(
            &format!(
                "/l/{slug}/membership_statuses/{}?_method=delete",
                active.pid
            ),
            &[],
        )
        .await;
    assert_eq!(refused.status_code(), 422);
    assert!(
        refused
            .text()
            .contains("2 changes in members&#39; status histories name it"),
        "{}",
        refused.text()
    );

    // Another local's people, and staff without structure.manage, delete nothing.
    let kept = bargaining_units::Model::create(&tenant, &name("Kept"))
        .await
        .unwrap();
    let other_slug = unique_slug("other");
    let (_, other_admin) = app.local_with_admin(&other_slug).await;
    let mut other = app.client();
    other.sign_in(&other_admin.email, PASSWORD).await;
    assert_eq!(
        other
            .submit(
                &format!(
                    "/l/{other_slug}/bargaining_units/{}?_method=delete",
                    kept.pid
                ),
                &[],
            )
            .await
            .status_code(),
        404
    );
    let officer = app.person_with_role(&tenant, "Officer").await;
    let mut officer_browser = app.client();
    officer_browser.sign_in(&officer.email, PASSWORD).await;
    assert_eq!(
        officer_browser
            .submit(
                &format!("/l/{slug}/bargaining_units/{}?_method=delete", kept.pid),
                &[],
            )
            .await
            .status_code(),
        403
    );
    assert_eq!(
        Directory::load(&tenant).await.unwrap().units.len(),
        1,
        "nothing deleted"
    );
}

#[tokio::test]
async fn a_local_reads_phone_numbers_without_a_country_code_in_its_own_country() {
    use serde_json::{json, Value};
    use unionhall::models::members::{MemberFilter, Model as Member, Sort};
    let app = TestApp::start().await;
    let slug = unique_slug("uk");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let (other, other_admin) = app.local_with_admin(&unique_slug("us")).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    let add = |first: &'static str, phone: &'static str| {
        [
            ("first_name", first),
            ("last_name", "Tyler"),
            ("phone", phone),
        ]
    };
    // North American until the local says otherwise.
    let refused = browser
        .submit(&format!("/l/{slug}/members"), &add("Wat", "020 7946 0958"))
        .await;
    assert_eq!(refused.status_code(), 422);
    assert!(refused.text().contains("id=\"phone-error\""));

    let bad = browser
        .submit(
            &format!("/l/{slug}/phone_country?_method=put"),
            &[("phone_country", "999")],
        )
        .await;
    assert_eq!(bad.status_code(), 422);
    assert!(bad
        .text()
        .contains(r#"id="error-phone-country">Choose one of the countries listed.</p>"#));
    let set = browser
        .submit(
            &format!("/l/{slug}/phone_country?_method=put"),
            &[("phone_country", "44")],
        )
        .await;
    assert_eq!(set.status_code(), 303);
    let page = browser.get(&format!("/l/{slug}/structure")).await.text();
    assert!(page.contains(r#"<option value="44" selected>United Kingdom (+44)</option>"#));

    let saved = browser
        .submit(&format!("/l/{slug}/members"), &add("Wat", "020 7946 0958"))
        .await;
    assert_eq!(saved.status_code(), 303, "{}", saved.text());
    let token = app.token(&tenant, &admin).await;
    let api = app.client().server;
    let created = api
        .post(&format!("/api/v1/locals/{slug}/members"))
        .authorization_bearer(&token)
        .json(&json!({"first_name": "Jack", "last_name": "Straw", "phone": "07700 900123"}))
        .await;
    assert_eq!(created.status_code(), 201, "{}", created.text());
    assert_eq!(created.json::<Value>()["phone"], "+447700900123");
    let access = app.enter(&admin, &slug).await;
    let roll = Member::list(&access, &MemberFilter::default(), Sort::Name, None, 10)
        .await
        .unwrap()
        .members;
    let wat = roll.iter().find(|m| m.first_name == "Wat").unwrap();
    assert_eq!(wat.phone.as_deref(), Some("+442079460958"));
    let audit = browser.get(&format!("/l/{slug}/audit")).await.text();
    assert!(audit.contains("phone_country_code: 1 → 44"), "{audit}");

    // Another local still reads North American numbers; an Officer cannot change it.
    let mut theirs = app.client();
    theirs.sign_in(&other_admin.email, PASSWORD).await;
    let kept = theirs
        .submit(
            &format!("/l/{}/members", other.slug()),
            &add("Sam", "(555) 201-0042"),
        )
        .await;
    assert_eq!(kept.status_code(), 303, "{}", kept.text());
    let officer = app.person_with_role(&tenant, "Officer").await;
    let mut officer_browser = app.client();
    officer_browser.sign_in(&officer.email, PASSWORD).await;
    assert_eq!(
        officer_browser
            .submit(
                &format!("/l/{slug}/phone_country?_method=put"),
                &[("phone_country", "1")],
            )
            .await
            .status_code(),
        403
    );
    assert_eq!(app.enter(&admin, &slug).await.phone_country(), "44");
}
