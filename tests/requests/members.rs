//! The members pages: the roll with search and pages, a member's page with
//! status history and changes; permissions per role; other locals' members.
use unionhall::models::members::{Model as Member, NewMember};

use crate::support::{unique_slug, TestApp, PASSWORD};

fn member(first: &str, last: &str) -> NewMember {
    crate::support::new_member(first, last, true)
}

#[tokio::test]
async fn staff_search_the_roll_page_through_it_and_open_a_member_with_their_history() {
    let app = TestApp::start().await;
    let slug = unique_slug("roll");
    let (tenant, _) = app.local_with_admin(&slug).await;
    for i in 0..55 {
        Member::create(&tenant, member(&format!("Worker{i:02}"), "Adams"))
            .await
            .unwrap();
    }
    let rosa = Member::create(&tenant, member("Rosa", "Zapata"))
        .await
        .unwrap();
    let officer = app.person_with_role(&tenant, "Officer").await;
    let mut browser = app.client();
    browser.sign_in(&officer.email, PASSWORD).await;

    let first = browser.get(&format!("/l/{slug}/members")).await;
    assert_eq!(first.status_code(), 200);
    let first = first.text();
    assert!(first.contains("56 members on the roll"));
    assert!(
        first.contains("Adams, Worker00") && !first.contains("Zapata"),
        "sorted by name, 50 a page"
    );
    let next = first
        .split("href=\"")
        .find(|s| s.contains("after="))
        .and_then(|s| s.split('"').next())
        .expect("a next page link")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let second = browser.get(&next).await.text();
    assert!(second.contains("Zapata, Rosa") && !second.contains("Worker00"));

    let found = browser
        .get(&format!("/l/{slug}/members?q=zapa"))
        .await
        .text();
    assert!(found.contains("Zapata, Rosa") && !found.contains("Adams"));
    let none = browser
        .get(&format!("/l/{slug}/members?q=nobody"))
        .await
        .text();
    assert!(none.contains("No member matches."));
    let odd = browser
        .get(&format!(
            "/l/{slug}/members?after=abc&status=%%%&sort=sideways&joined_from=yesterday"
        ))
        .await;
    assert_eq!(
        odd.status_code(),
        200,
        "a malformed query is no filter, never a 500"
    );

    let page = browser
        .get(&format!("/l/{slug}/members/{}", rosa.pid))
        .await;
    assert_eq!(page.status_code(), 200);
    let page = page.text();
    assert!(page.contains("Status history") && page.contains("<strong>Active</strong>"));
    assert!(page.contains("create"), "the change log shows the creation");
}

#[tokio::test]
async fn only_roles_that_may_see_members_open_the_roll() {
    let app = TestApp::start().await;
    let slug = unique_slug("perm");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let m = Member::create(&tenant, member("Joe", "Hill"))
        .await
        .unwrap();
    for (role, allowed) in [
        ("Admin", true),
        ("Officer", true),
        ("Steward", true),
        ("Member", false),
    ] {
        let person = app.person_with_role(&tenant, role).await;
        let mut browser = app.client();
        browser.sign_in(&person.email, PASSWORD).await;
        let list = browser
            .get(&format!("/l/{slug}/members"))
            .await
            .status_code()
            .as_u16();
        let show = browser
            .get(&format!("/l/{slug}/members/{}", m.pid))
            .await
            .status_code()
            .as_u16();
        if allowed {
            assert_eq!((list, show), (200, 200), "{role}");
        } else {
            assert_eq!((list, show), (403, 403), "{role}");
        }
    }
}

#[tokio::test]
async fn another_local_s_member_page_is_not_found() {
    let app = TestApp::start().await;
    let (a, a_admin) = app.local_with_admin(&unique_slug("a")).await;
    let b_slug = unique_slug("b");
    let (_, b_admin) = app.local_with_admin(&b_slug).await;
    let a_access = app.enter(&a_admin, a.slug()).await;
    let theirs = Member::create(&a_access, member("Mother", "Jones"))
        .await
        .unwrap();
    let mut browser = app.client();
    browser.sign_in(&b_admin.email, PASSWORD).await;
    assert_eq!(
        browser
            .get(&format!("/l/{b_slug}/members/{}", theirs.pid))
            .await
            .status_code(),
        404
    );
    assert_eq!(
        browser
            .get(&format!("/l/{}/members/{}", a.slug(), theirs.pid))
            .await
            .status_code(),
        404
    );
    let list = browser
        .get(&format!("/l/{b_slug}/members?q=jones"))
        .await
        .text();
    assert!(!list.contains("Jones"));
}

async fn structure(
    tenant: &unionhall::models::tenants::Tenant,
) -> (
    unionhall::models::employers::Model,
    unionhall::models::worksites::Model,
    unionhall::models::employers::Model,
    unionhall::models::worksites::Model,
) {
    use unionhall::{
        domain::UnitName,
        models::{employers, worksites},
    };
    let name = |n: &str| UnitName::parse(n).unwrap();
    let hospital = employers::Model::create(tenant, &name("City Hospital"))
        .await
        .unwrap();
    let north = worksites::Model::create(tenant, hospital.pid, &name("North Wing"))
        .await
        .unwrap();
    let transit = employers::Model::create(tenant, &name("Transit Authority"))
        .await
        .unwrap();
    let depot = worksites::Model::create(tenant, transit.pid, &name("Bus Depot"))
        .await
        .unwrap();
    (hospital, north, transit, depot)
}

#[tokio::test]
async fn an_officer_adds_and_edits_a_member_through_the_form_and_the_status_change_is_kept() {
    let app = TestApp::start().await;
    let slug = unique_slug("form");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let (hospital, north, _, depot) = structure(&tenant).await;
    let officer = app.person_with_role(&tenant, "Officer").await;
    let mut browser = app.client();
    browser.sign_in(&officer.email, PASSWORD).await;
    assert_eq!(
        browser
            .get(&format!("/l/{slug}/members/new"))
            .await
            .status_code(),
        200
    );

    // Bad input: every problem named on its field, the input kept, nothing saved.
    let bad = browser
        .submit(
            &format!("/l/{slug}/members"),
            &[
                ("first_name", "Lucy"),
                ("last_name", ""),
                ("email", "lucy-at-example"),
                ("phone", "12"),
                ("employer", &hospital.pid.to_string()),
                ("worksite", &depot.pid.to_string()),
                ("status", "not-a-status"),
                ("join_date", "31/31/2020"),
            ],
        )
        .await;
    assert_eq!(bad.status_code(), 422);
    let page = bad.text();
    for field in ["last_name", "email", "phone", "status", "join_date"] {
        assert!(
            page.contains(&format!("id=\"{field}-error\"")),
            "{field} has its message"
        );
    }
    assert!(page.contains("value=\"Lucy\""), "the input is kept");
    let mismatch = browser
        .submit(
            &format!("/l/{slug}/members"),
            &[
                ("first_name", "Lucy"),
                ("last_name", "Parsons"),
                ("employer", &hospital.pid.to_string()),
                ("worksite", &depot.pid.to_string()),
            ],
        )
        .await;
    assert_eq!(mismatch.status_code(), 422);
    assert!(mismatch
        .text()
        .contains("This worksite belongs to another employer."));
    assert!(
        Member::count(&app.enter(&officer, &slug).await, &Default::default())
            .await
            .unwrap()
            .describe()
            .starts_with("0 ")
    );

    let created = browser
        .submit(
            &format!("/l/{slug}/members"),
            &[
                ("first_name", "Lucy"),
                ("last_name", "Parsons"),
                ("email", "Lucy@Example.org"),
                ("phone", "(555) 201-3344"),
                ("employee_number", "H-77"),
                ("worksite", &north.pid.to_string()),
                ("join_date", "2021-05-01"),
            ],
        )
        .await;
    assert_eq!(created.status_code(), 303, "{}", created.text());
    let member_path = crate::support::location(&created);
    let shown = browser.get(&member_path).await.text();
    assert!(shown.contains("lucy@example.org") && shown.contains("+15552013344"));
    assert!(shown.contains("City Hospital"), "the worksite's employer");

    // A duplicate employee number is refused on its field.
    let dup = browser
        .submit(
            &format!("/l/{slug}/members"),
            &[
                ("first_name", "Other"),
                ("last_name", "Person"),
                ("employee_number", "H-77"),
            ],
        )
        .await;
    assert_eq!(dup.status_code(), 422);
    assert!(dup.text().contains("id=\"employee_number-error\""));

    let edit = browser.get(&format!("{member_path}/edit")).await.text();
    assert!(edit.contains("value=\"Parsons\""));
    let lapsed = {
        let tenant = app.enter(&officer, &slug).await;
        let d = unionhall::models::structure::Directory::load(&tenant)
            .await
            .unwrap();
        d.statuses
            .iter()
            .find(|s| s.name == "Lapsed")
            .unwrap()
            .pid
            .to_string()
    };
    let saved = browser
        .submit(
            &format!("{member_path}?_method=put"),
            &[
                ("first_name", "Lucy"),
                ("last_name", "Parsons"),
                ("email", "lucy@example.org"),
                ("worksite", &north.pid.to_string()),
                ("status", &lapsed),
            ],
        )
        .await;
    assert_eq!(saved.status_code(), 303, "{}", saved.text());
    let shown = browser.get(&member_path).await.text();
    assert!(shown.contains("<strong>Lapsed</strong> (was Active)"));
    assert!(
        shown.contains("status: Active → Lapsed"),
        "the audit log names the statuses"
    );
    assert!(shown.contains("phone: +15552013344 → —"));
}

#[tokio::test]
async fn only_an_admin_archives_and_restores_and_archived_members_leave_the_roll() {
    let app = TestApp::start().await;
    let slug = unique_slug("arch");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let m = Member::create(&tenant, member("Joe", "Hill"))
        .await
        .unwrap();
    let path = format!("/l/{slug}/members/{}", m.pid);

    for role in ["Officer", "Steward"] {
        let person = app.person_with_role(&tenant, role).await;
        let mut browser = app.client();
        browser.sign_in(&person.email, PASSWORD).await;
        let denied = browser.submit(&format!("{path}?_method=delete"), &[]).await;
        assert_eq!(denied.status_code(), 403, "{role}");
        assert_eq!(
            browser
                .get(&format!("/l/{slug}/archived_members"))
                .await
                .status_code(),
            403
        );
    }
    let steward = app.person_with_role(&tenant, "Steward").await;
    let mut steward_browser = app.client();
    steward_browser.sign_in(&steward.email, PASSWORD).await;
    assert_eq!(
        steward_browser
            .submit(
                &format!("/l/{slug}/members"),
                &[("first_name", "A"), ("last_name", "B")]
            )
            .await
            .status_code(),
        403,
        "stewards see members but do not add them"
    );

    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    let archived = browser.submit(&format!("{path}?_method=delete"), &[]).await;
    assert_eq!(archived.status_code(), 303);
    assert_eq!(browser.get(&path).await.status_code(), 404);
    let roll = browser.get(&format!("/l/{slug}/members")).await.text();
    assert!(roll.contains("0 members on the roll") && !roll.contains("Hill, Joe"));
    let shelf = browser
        .get(&format!("/l/{slug}/archived_members"))
        .await
        .text();
    assert!(shelf.contains("Hill, Joe") && shelf.contains("1 member."));

    let restored = browser.submit(&format!("{path}/restoration"), &[]).await;
    assert_eq!(restored.status_code(), 303);
    let page = browser.get(&path).await.text();
    assert!(page.contains("archive") && page.contains("restore"));
    assert!(browser
        .get(&format!("/l/{slug}/members"))
        .await
        .text()
        .contains("1 member on the roll"));
}

#[tokio::test]
async fn another_local_s_member_cannot_be_changed_archived_or_restored() {
    let app = TestApp::start().await;
    let (a, a_admin) = app.local_with_admin(&unique_slug("a")).await;
    let b_slug = unique_slug("b");
    let (_, b_admin) = app.local_with_admin(&b_slug).await;
    let a_access = app.enter(&a_admin, a.slug()).await;
    let theirs = Member::create(&a_access, member("Mother", "Jones"))
        .await
        .unwrap();
    let gone = Member::create(&a_access, member("Big", "Bill"))
        .await
        .unwrap();
    Member::archive(&a_access, gone.pid).await.unwrap();
    let mut browser = app.client();
    browser.sign_in(&b_admin.email, PASSWORD).await;
    for (path, fields) in [
        (
            format!("/l/{b_slug}/members/{}?_method=put", theirs.pid),
            vec![("first_name", "Changed"), ("last_name", "Name")],
        ),
        (
            format!("/l/{b_slug}/members/{}?_method=delete", theirs.pid),
            vec![],
        ),
        (
            format!("/l/{b_slug}/members/{}/restoration", gone.pid),
            vec![],
        ),
        (
            format!("/l/{}/members/{}?_method=delete", a.slug(), theirs.pid),
            vec![],
        ),
    ] {
        assert_eq!(
            browser.submit(&path, &fields).await.status_code(),
            404,
            "{path}"
        );
    }
    assert_eq!(
        browser
            .get(&format!("/l/{b_slug}/members/{}/edit", theirs.pid))
            .await
            .status_code(),
        404
    );
    let unchanged = Member::find(&a_access, theirs.pid).await.unwrap();
    assert_eq!(unchanged.first_name, "Mother");
    assert!(
        Member::find(&a_access, gone.pid).await.is_err(),
        "still archived"
    );
}

#[tokio::test]
async fn filters_and_orders_live_in_the_url() {
    let app = TestApp::start().await;
    let slug = unique_slug("filt");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let (hospital, north, _, depot) = structure(&tenant).await;
    for (first, last, site, joined) in [
        ("Ann", "Nurse", north.pid, (2019, 1, 1)),
        ("Bob", "Driver", depot.pid, (2022, 6, 1)),
        ("Cy", "Porter", north.pid, (2023, 2, 1)),
    ] {
        Member::create(
            &tenant,
            NewMember {
                worksite: Some(site),
                join_date: chrono::NaiveDate::from_ymd_opt(joined.0, joined.1, joined.2),
                ..member(first, last)
            },
        )
        .await
        .unwrap();
    }
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    let hospital_only = browser
        .get(&format!(
            "/l/{slug}/members?employer={}&joined_from=2020-01-01&sort=joined",
            hospital.pid
        ))
        .await
        .text();
    assert!(hospital_only.contains("Porter, Cy"));
    assert!(!hospital_only.contains("Nurse, Ann") && !hospital_only.contains("Driver, Bob"));
    assert!(hospital_only.contains("1 member match"));
    let by_join = browser
        .get(&format!("/l/{slug}/members?sort=joined"))
        .await
        .text();
    let at = |name: &str| by_join.find(name).unwrap();
    assert!(at("Porter, Cy") < at("Driver, Bob") && at("Driver, Bob") < at("Nurse, Ann"));
    assert!(
        by_join.contains(&format!("/l/{slug}/members.csv?sort=joined")),
        "the export link keeps the view"
    );
}

#[tokio::test]
async fn the_export_streams_the_current_view_as_csv_that_the_import_reads_back() {
    let app = TestApp::start().await;
    let slug = unique_slug("exp");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let (_, north, _, depot) = structure(&tenant).await;
    // More than one export batch would need 5,000 rows; the paging is the list's, tested there.
    for i in 0..30 {
        Member::create(
            &tenant,
            NewMember {
                worksite: Some(if i % 3 == 0 { depot.pid } else { north.pid }),
                address: unionhall::domain::Address::parse(&format!("{i} Main St,\nSpringfield"))
                    .ok(),
                ..member(&format!("Pat{i:02}"), "Quote\"d")
            },
        )
        .await
        .unwrap();
    }
    let gone = Member::create(&tenant, member("Gone", "Away"))
        .await
        .unwrap();
    Member::archive(&tenant, gone.pid).await.unwrap();
    let steward = app.person_with_role(&tenant, "Steward").await;
    let mut browser = app.client();
    browser.sign_in(&steward.email, PASSWORD).await;

    let all = browser.get(&format!("/l/{slug}/members.csv")).await;
    assert_eq!(all.status_code(), 200);
    assert!(all
        .header("content-type")
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(all
        .header("content-disposition")
        .to_str()
        .unwrap()
        .contains(&format!("{slug}-members-")));
    let body = all.text();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&headers[..3], ["first_name", "last_name", "email"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 30, "archived members are not exported");
    assert_eq!(&rows[0][1], "Quote\"d");
    assert_eq!(&rows[0][4], "0 Main St,\nSpringfield");
    assert_eq!(&rows[0][7], "Bus Depot");

    let depot_only = browser
        .get(&format!("/l/{slug}/members.csv?worksite={}", depot.pid))
        .await
        .text();
    assert_eq!(
        csv::Reader::from_reader(depot_only.as_bytes())
            .records()
            .count(),
        10
    );

    let searched = browser
        .get(&format!("/l/{slug}/members.csv?q=pat0"))
        .await
        .text();
    assert_eq!(
        csv::Reader::from_reader(searched.as_bytes())
            .records()
            .count(),
        10,
        "Pat00 to Pat09"
    );
    // The search reaches the database's CSV writer as quoted text only.
    let hostile = browser
        .get(&format!(
            "/l/{slug}/members.csv?q=%27%29%3B%20--%20quote%22d"
        ))
        .await;
    assert_eq!(hostile.status_code(), 200);
    assert_eq!(
        csv::Reader::from_reader(hostile.text().as_bytes())
            .records()
            .count(),
        0
    );

    let member_role = app.person_with_role(&tenant, "Member").await;
    let mut outsider = app.client();
    outsider.sign_in(&member_role.email, PASSWORD).await;
    assert_eq!(
        outsider
            .get(&format!("/l/{slug}/members.csv"))
            .await
            .status_code(),
        403
    );
    let (_, other_admin) = app.local_with_admin(&unique_slug("o")).await;
    let mut other = app.client();
    other.sign_in(&other_admin.email, PASSWORD).await;
    assert_eq!(
        other
            .get(&format!("/l/{slug}/members.csv"))
            .await
            .status_code(),
        404
    );
}

#[tokio::test]
async fn a_refused_bulk_change_in_a_local_with_no_members_says_why() {
    let app = TestApp::start().await;
    let slug = unique_slug("bulk-empty");
    let (_, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    // A page opened before the last member left, sent afterwards.
    let refused = browser
        .submit(
            &format!("/l/{slug}/member_bulk_changes"),
            &[("scope", "selected")],
        )
        .await;
    assert_eq!(refused.status_code(), 422);
    let page = refused.text();
    assert!(
        page.contains(r#"<h2 id="bulk-error-title">The change was not made</h2>"#),
        "{page}"
    );
    assert!(
        page.contains("<li>Choose a status, a worksite or a unit to set.</li>"),
        "the message is on the page although the list is empty: {page}"
    );
    assert!(page.contains("No members yet."), "{page}");
}

#[tokio::test]
async fn bulk_changes_apply_to_a_selection_at_once_and_to_a_large_filtered_list_as_a_job() {
    let app = TestApp::start().await;
    let slug = unique_slug("bulk");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let (_, north, _, depot) = structure(&tenant).await;
    let directory = unionhall::models::structure::Directory::load(&tenant)
        .await
        .unwrap();
    let status = |name: &str| {
        directory
            .statuses
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .pid
            .to_string()
    };
    let a = Member::create(&tenant, member("Ann", "Able"))
        .await
        .unwrap();
    let b = Member::create(&tenant, member("Ben", "Baker"))
        .await
        .unwrap();
    let (other, other_admin) = app.local_with_admin(&unique_slug("other")).await;
    let other_access = app.enter(&other_admin, other.slug()).await;
    let foreign = Member::create(&other_access, member("Far", "Away"))
        .await
        .unwrap();

    let officer = app.person_with_role(&tenant, "Officer").await;
    let mut browser = app.client();
    browser.sign_in(&officer.email, PASSWORD).await;
    let nothing = browser
        .submit(
            &format!("/l/{slug}/member_bulk_changes"),
            &[("member", &a.pid.to_string()), ("scope", "selected")],
        )
        .await;
    // Refused: the list again (422) with a message at the field, and the
    // ticks and choices as they were sent.
    assert_eq!(nothing.status_code(), 422);
    let list = nothing.text();
    assert!(
        list.contains(r#"<p class="field-error" id="bulk-status-error">Choose a status, a worksite or a unit to set.</p>"#),
        "{list}"
    );
    assert!(
        list.contains(&format!(r#"id="sel-{}" checked"#, a.pid)),
        "{list}"
    );
    let unticked = browser
        .submit(
            &format!("/l/{slug}/member_bulk_changes"),
            &[
                ("scope", "selected"),
                ("status", &status("Retired")),
                ("filters", "q=a"),
            ],
        )
        .await;
    assert_eq!(unticked.status_code(), 422);
    let list = unticked.text();
    assert!(
        list.contains(r#"<p class="field-error" id="bulk-members-error">Select at least one member, or change all that match.</p>"#),
        "{list}"
    );
    assert!(
        list.contains(&format!(
            r#"<option value="{}" selected>Retired</option>"#,
            status("Retired")
        )),
        "the chosen status is kept: {list}"
    );
    assert!(
        list.contains(r#"<input id="q" name="q" type="search" value="a""#),
        "the list's filters are kept: {list}"
    );
    let unknown = browser
        .submit(
            &format!("/l/{slug}/member_bulk_changes"),
            &[
                ("member", &a.pid.to_string()),
                ("scope", "selected"),
                ("worksite", &uuid::Uuid::new_v4().to_string()),
            ],
        )
        .await;
    assert_eq!(unknown.status_code(), 422);
    let list = unknown.text();
    assert!(
        list.contains(r#"id="bulk-worksite-error">Choose one of the local&#39;s worksites.</p>"#),
        "{list}"
    );
    let untouched = Member::find(&tenant, a.pid).await.unwrap();
    assert_eq!(untouched.status_id, a.status_id, "nothing was changed");
    assert_eq!(untouched.worksite_id, a.worksite_id, "nothing was changed");

    let done = browser
        .submit(
            &format!("/l/{slug}/member_bulk_changes"),
            &[
                ("member", &a.pid.to_string()),
                ("member", &b.pid.to_string()),
                ("member", &foreign.pid.to_string()),
                ("scope", "selected"),
                ("status", &status("Suspended")),
                ("filters", "q=a"),
            ],
        )
        .await;
    assert_eq!(done.status_code(), 303);
    assert!(crate::support::location(&done).ends_with("/members?q=a"));
    let list = browser.get(&crate::support::location(&done)).await.text();
    assert!(list.contains("2 members changed."), "{list}");
    let page = browser
        .get(&format!("/l/{slug}/members/{}", a.pid))
        .await
        .text();
    assert!(page.contains("<strong>Suspended</strong> (was Active)"));
    assert!(page.contains("bulk_update") && page.contains("status: Active → Suspended"));
    let untouched = Member::find(&other_access, foreign.pid).await.unwrap();
    assert_eq!(
        untouched.status_id, foreign.status_id,
        "another local's member is not changed"
    );

    for i in 0..205 {
        Member::create(&tenant, member(&format!("M{i:03}"), "Many"))
            .await
            .unwrap();
    }
    let queued = browser
        .submit(
            &format!("/l/{slug}/member_bulk_changes"),
            &[
                ("scope", "all"),
                ("filters", "q=many"),
                ("worksite", &depot.pid.to_string()),
            ],
        )
        .await;
    assert_eq!(queued.status_code(), 303);
    let progress_path = crate::support::location(&queued);
    assert!(
        progress_path.contains("/member_bulk_changes/"),
        "{progress_path}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let page = browser.get(&progress_path).await.text();
        if page.contains("<strong>Done.</strong>") {
            assert!(page.contains("205 of 205 members changed"), "{page}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{page}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let at_depot = browser
        .get(&format!("/l/{slug}/members.csv?worksite={}", depot.pid))
        .await
        .text();
    assert_eq!(
        csv::Reader::from_reader(at_depot.as_bytes())
            .records()
            .count(),
        205
    );
    let _ = north;

    let steward = app.person_with_role(&tenant, "Steward").await;
    let mut steward_browser = app.client();
    steward_browser.sign_in(&steward.email, PASSWORD).await;
    assert_eq!(
        steward_browser
            .submit(
                &format!("/l/{slug}/member_bulk_changes"),
                &[("scope", "all"), ("status", &status("Lapsed"))],
            )
            .await
            .status_code(),
        403
    );
    let mut other_browser = app.client();
    other_browser.sign_in(&other_admin.email, PASSWORD).await;
    let theirs = progress_path.replace(&format!("/l/{slug}/"), &format!("/l/{}/", other.slug()));
    assert_eq!(other_browser.get(&theirs).await.status_code(), 404);
}

#[tokio::test]
async fn a_bulk_change_waiting_for_a_retry_says_why_its_last_attempt_stopped() {
    use sea_orm::ConnectionTrait;
    use unionhall::models::member_bulk_changes::{self, BulkChange, Model as Bulk, Selection};
    let app = TestApp::start().await;
    let slug = unique_slug("bretry");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let (_, _, _, depot) = structure(&tenant).await;
    let ann = Member::create(&tenant, member("Ann", "Able"))
        .await
        .unwrap();
    let bulk = Bulk::create(
        &tenant,
        Selection::Members(vec![ann.pid]),
        BulkChange {
            worksite: Some(depot.pid),
            ..BulkChange::default()
        },
    )
    .await
    .unwrap();
    // As a worker leaves it when an attempt fails part-way.
    app.owner_db()
        .execute_unprepared(&format!(
            "UPDATE member_bulk_changes SET state = 'running', processed_rows = 0, \
             last_member_id = 0 WHERE id = {}",
            bulk.id
        ))
        .await
        .unwrap();
    unionhall::models::progress::stopped::<member_bulk_changes::Entity>(
        &tenant,
        bulk.id,
        "the database went away",
        false,
    )
    .await
    .unwrap();
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    let path = format!("/l/{slug}/member_bulk_changes/{}", bulk.pid);

    let page = browser.get(&path).await.text();
    assert!(page.contains("0 of 1 members checked."), "{page}");
    assert!(page.contains(
        "The last attempt stopped: the database went away. It will be tried again automatically"
    ));

    // The next attempt clears it.
    member_bulk_changes::run(&tenant, bulk.id, Some(admin.id))
        .await
        .unwrap();
    let page = browser.get(&path).await.text();
    assert!(page.contains("<strong>Done.</strong>"), "{page}");
    assert!(!page.contains("The last attempt stopped"));
}

#[tokio::test]
async fn a_member_sees_their_own_record_and_updates_only_their_contact_details() {
    let app = TestApp::start().await;
    let slug = unique_slug("self");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let person = app.person_with_role(&tenant, "Member").await;
    let record = Member::create(
        &tenant,
        NewMember {
            email: Some(unionhall::domain::Email::parse(&person.email).unwrap()),
            ..member("Lucy", "Parsons")
        },
    )
    .await
    .unwrap();
    let someone_else = Member::create(&tenant, member("Other", "Member"))
        .await
        .unwrap();
    let mut browser = app.client();
    browser.sign_in(&person.email, PASSWORD).await;
    let before = browser.get(&format!("/l/{slug}/profile")).await.text();
    assert!(before.contains("not linked to a membership record yet"));

    let mut staff = app.client();
    staff.sign_in(&admin.email, PASSWORD).await;
    let no_email = staff
        .submit(
            &format!("/l/{slug}/members/{}/account_link", someone_else.pid),
            &[],
        )
        .await;
    let page = staff.get(&crate::support::location(&no_email)).await.text();
    assert!(
        page.contains("Nobody with the email other@example.org has access to this local."),
        "{page}"
    );
    let linked = staff
        .submit(
            &format!("/l/{slug}/members/{}/account_link", record.pid),
            &[],
        )
        .await;
    assert_eq!(linked.status_code(), 303);

    let mine = browser.get(&format!("/l/{slug}/profile")).await.text();
    assert!(mine.contains("Lucy Parsons") && mine.contains("Active"));
    assert!(!mine.contains("Other Member"));
    assert!(browser
        .get(&format!("/l/{slug}/profile/edit"))
        .await
        .text()
        .contains("value=\"1\" checked"));
    let bad = browser
        .submit(
            &format!("/l/{slug}/profile?_method=put"),
            &[("email", "lucy@"), ("phone", "12"), ("address", "1 Elm St")],
        )
        .await;
    assert_eq!(bad.status_code(), 422);
    let text = bad.text();
    assert!(text.contains("id=\"email-error\"") && text.contains("id=\"phone-error\""));
    assert!(text.contains("1 Elm St"), "input kept");
    let saved = browser
        .submit(
            &format!("/l/{slug}/profile?_method=put"),
            &[
                ("email", "lucy.new@example.org"),
                ("phone", "555 777 1234"),
                ("address", "1 Elm St"),
                ("sms_opt_in", "1"),
                ("first_name", "Hacked"),
                ("status", "whatever"),
            ],
        )
        .await;
    assert_eq!(saved.status_code(), 303, "{}", saved.text());
    let now = Member::find(&tenant, record.pid).await.unwrap();
    assert_eq!(now.email.as_deref(), Some("lucy.new@example.org"));
    assert_eq!(now.phone.as_deref(), Some("+15557771234"));
    assert!(now.sms_opt_in && !now.email_opt_in);
    assert_eq!(
        now.first_name, "Lucy",
        "nothing but contact details changes"
    );
    assert_eq!(now.status_id, record.status_id);
    let staff_view = staff
        .get(&format!("/l/{slug}/members/{}", record.pid))
        .await
        .text();
    assert!(staff_view.contains("self_service") && staff_view.contains("sms_opt_in: false → true"));

    // Members do not see the roll or anyone else's record.
    assert_eq!(
        browser
            .get(&format!("/l/{slug}/members"))
            .await
            .status_code(),
        403
    );
    assert_eq!(
        browser
            .get(&format!("/l/{slug}/members/{}", someone_else.pid))
            .await
            .status_code(),
        403
    );
    let (other, _) = app.local_with_admin(&unique_slug("elsewhere")).await;
    assert_eq!(
        browser
            .get(&format!("/l/{}/profile", other.slug()))
            .await
            .status_code(),
        404
    );
    // Staff without users.manage cannot link accounts.
    let officer = app.person_with_role(&tenant, "Officer").await;
    let mut officer_browser = app.client();
    officer_browser.sign_in(&officer.email, PASSWORD).await;
    assert_eq!(
        officer_browser
            .submit(
                &format!("/l/{slug}/members/{}/account_link", someone_else.pid),
                &[]
            )
            .await
            .status_code(),
        403
    );
}

#[tokio::test]
async fn admins_browse_the_local_s_audit_log_and_others_cannot() {
    let app = TestApp::start().await;
    let slug = unique_slug("audit");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let m = Member::create(&tenant, member("Joe", "Hill"))
        .await
        .unwrap();
    Member::archive(&tenant, m.pid).await.unwrap();
    let (other, other_admin) = app.local_with_admin(&unique_slug("audit-b")).await;
    let other_access = app.enter(&other_admin, other.slug()).await;
    Member::create(&other_access, member("Secret", "Person"))
        .await
        .unwrap();
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    let page = browser.get(&format!("/l/{slug}/audit")).await;
    assert_eq!(page.status_code(), 200);
    let text = page.text();
    assert!(text.contains(&format!("/l/{slug}/members/{}", m.pid)) && text.contains("Joe Hill"));
    assert!(
        text.find("archive").unwrap() < text.find("create").unwrap(),
        "newest first"
    );
    assert!(text.contains("first_name: — → Joe"));
    assert!(
        !text.contains("Secret"),
        "another local's changes are not shown"
    );
    let officer = app.person_with_role(&tenant, "Officer").await;
    let mut officer_browser = app.client();
    officer_browser.sign_in(&officer.email, PASSWORD).await;
    assert_eq!(
        officer_browser
            .get(&format!("/l/{slug}/audit"))
            .await
            .status_code(),
        403
    );
}
