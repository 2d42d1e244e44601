//! Member CSV imports through the pages: upload, the guessed mapping and the
//! preview, the job with its counts, failed rows as CSV, duplicates skipped
//! or updated, Windows-1252 files, and bad files refused before anything is
//! written; another local's import is not found.
use std::time::Duration;

use axum_test::{
    multipart::{MultipartForm, Part},
    TestResponse,
};
use unionhall::models::{
    member_imports::Model as Import,
    members::{MemberFilter, Model as Member, Sort},
};

use crate::support::{
    location, unique_slug,
    workers::{eventually, WorkerProcess},
    Client, TestApp, PASSWORD,
};

async fn upload(browser: &mut Client, slug: &str, name: &str, bytes: Vec<u8>) -> TestResponse {
    let token = browser.token().await;
    let form = MultipartForm::new()
        .add_text("authenticity_token", token)
        .add_part(
            "file",
            Part::bytes(bytes).file_name(name).mime_type("text/csv"),
        );
    browser
        .server
        .post(&format!("/l/{slug}/member_imports"))
        .multipart(form)
        .await
}

/// Uploads, keeps the guessed mapping (with `extra` fields), starts, and
/// waits for the result page to say done.
async fn import(
    browser: &mut Client,
    slug: &str,
    bytes: Vec<u8>,
    extra: &[(&str, &str)],
) -> (String, String) {
    let uploaded = upload(browser, slug, "members.csv", bytes).await;
    assert_eq!(uploaded.status_code(), 303, "{}", uploaded.text());
    let path = location(&uploaded);
    let page = browser.get(&path).await.text();
    let mut fields = guessed(&page);
    for (k, v) in extra {
        fields.push(((*k).into(), (*v).into()));
    }
    fields.push(("start".into(), "1".into()));
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let started = browser.submit(&format!("{path}?_method=put"), &refs).await;
    assert_eq!(started.status_code(), 303, "{}", started.text());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let result = browser.get(&path).await.text();
        if result.contains("<strong>Done.</strong>") {
            return (path, result);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the import did not finish: {result}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The mapping page's guessed mapping: each field's selected column.
fn guessed(page: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = vec![];
    for key in [
        "first_name",
        "last_name",
        "email",
        "phone",
        "address",
        "employee_number",
        "employer",
        "worksite",
        "bargaining_unit",
        "status",
        "join_date",
    ] {
        let select = page
            .split(&format!("name=\"{key}\""))
            .nth(1)
            .and_then(|s| s.split("</select>").next())
            .unwrap_or_default();
        if let Some(chosen) = select
            .split("<option value=\"")
            .find(|o| o.contains("selected"))
        {
            fields.push((key.into(), chosen.split('"').next().unwrap().to_string()));
        }
    }
    fields
}

fn count_in(page: &str, what: &str) -> u32 {
    let before = page
        .split(&format!("</strong> {what}"))
        .next()
        .unwrap_or_default();
    before
        .rsplit("<strong>")
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(u32::MAX)
}

#[tokio::test]
async fn an_admin_imports_a_file_with_quoted_fields_and_gets_counts_and_the_failed_rows() {
    let app = TestApp::start().await;
    let slug = unique_slug("imp");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    Member::create(
        &tenant,
        unionhall::models::members::NewMember {
            employee_number: Some(unionhall::domain::EmployeeNumber::parse("E-1").unwrap()),
            ..crate::support::new_member("Already", "Here", false)
        },
    )
    .await
    .unwrap();
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    assert_eq!(
        browser
            .get(&format!("/l/{slug}/member_imports/new"))
            .await
            .status_code(),
        200
    );
    let csv = "\u{feff}First Name,Last Name,E-mail,Phone,Address,Employee No,Status,Joined\r\n\
        Rosa,Parks,rosa@example.org,(555) 201-0001,\"12 Main St,\nApt 3\",E-2,Active,2019-03-01\r\n\
        Joe,Hill,not-an-email,,,E-3,Active,\r\n\
        Mary,Harris,mary@example.org,,,E-4,Royalty,\r\n\
        Already,Here,,,,E-1,,\r\n\
        \"Chavez, Jr.\",Cesar,cesar@example.org,555-201-0005,,E-5,Retired,06/15/2020\r\n";
    let uploaded = upload(&mut browser, &slug, "roll.csv", csv.as_bytes().to_vec()).await;
    assert_eq!(uploaded.status_code(), 303, "{}", uploaded.text());
    let preview = browser.get(&location(&uploaded)).await.text();
    assert!(
        preview.contains("Column 3: E-mail"),
        "columns listed by header"
    );
    assert!(
        preview.contains("<option value=\"2\" selected>Column 3: E-mail</option>"),
        "E-mail guessed as the email column"
    );
    assert!(preview.contains("Ready"));
    assert!(
        preview.contains("Email: "),
        "a bad row is flagged in the preview"
    );
    assert!(preview.contains("Unknown status"));

    let (path, result) = import(&mut browser, &slug, csv.as_bytes().to_vec(), &[]).await;
    assert_eq!(count_in(&result, "created"), 2, "{result}");
    assert_eq!(count_in(&result, "skipped as duplicates"), 1);
    assert_eq!(count_in(&result, "failed"), 2);
    let roll = Member::list(&tenant, &MemberFilter::default(), Sort::Name, None, 50)
        .await
        .unwrap()
        .members;
    let rosa = roll
        .iter()
        .find(|m| m.last_name == "Parks")
        .expect("Rosa imported");
    assert_eq!(rosa.address.as_deref(), Some("12 Main St,\nApt 3"));
    assert_eq!(rosa.phone.as_deref(), Some("+15552010001"));
    let cesar = roll.iter().find(|m| m.first_name == "Chavez, Jr.").unwrap();
    assert_eq!(cesar.join_date.unwrap().to_string(), "2020-06-15");
    assert!(roll
        .iter()
        .all(|m| m.last_name != "Hill" && m.last_name != "Harris"));
    assert_eq!(roll.len(), 3, "the one already there was not added again");
    let history = cesar.status_history(&tenant).await.unwrap();
    assert_eq!(history[0].to, "Retired");
    let record = Member::record(&tenant, cesar.pid).await.unwrap();
    let line = record
        .audit
        .iter()
        .find(|e| e.event.action == "import")
        .expect("the audit log shows who imported the member");
    assert_eq!(line.actor.as_deref(), Some(admin.name.as_str()));
    assert_eq!(line.changes[0].new.as_deref(), Some("members.csv"));

    let failures = browser.get(&format!("{path}/failures.csv")).await;
    assert_eq!(failures.status_code(), 200);
    let text = failures.text();
    assert!(text.starts_with("row,reason,First Name,Last Name"));
    assert!(text.contains("2,Email:") && text.contains("not-an-email"));
    assert!(text.contains("3,\"Status: Unknown status \"\"Royalty\"\".\""));

    // Nothing more happens if the page is submitted again.
    let again = browser
        .submit(&format!("{path}?_method=put"), &[("start", "1")])
        .await;
    assert_eq!(again.status_code(), 422);
    let list = browser
        .get(&format!("/l/{slug}/member_imports"))
        .await
        .text();
    assert!(list.contains("members.csv") && list.contains("roll.csv"));
}

#[tokio::test]
async fn duplicates_can_update_the_roll_and_windows_1252_files_read_correctly() {
    let app = TestApp::start().await;
    let slug = unique_slug("upd");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let existing = Member::create(
        &tenant,
        unionhall::models::members::NewMember {
            email: Some(unionhall::domain::Email::parse("jose@example.org").unwrap()),
            ..crate::support::new_member("Jose", "Marti", false)
        },
    )
    .await
    .unwrap();
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    // "José" and "Muñoz" as Excel on Windows saves them.
    let mut csv = b"first_name;last_name\n".to_vec();
    csv.clear();
    csv.extend_from_slice(b"first_name,last_name,email,status\r\nJos\xe9,Mart\xed,jose@example.org,Lapsed\r\nAna,Mu\xf1oz,ana@example.org,\r\n");
    let (_, result) = import(&mut browser, &slug, csv, &[("on_duplicate", "update")]).await;
    assert_eq!(count_in(&result, "created"), 1, "{result}");
    assert_eq!(count_in(&result, "updated"), 1);
    let updated = Member::find(&tenant, existing.pid).await.unwrap();
    assert_eq!(updated.first_name, "José");
    assert_eq!(updated.last_name, "Martí");
    let history = updated.status_history(&tenant).await.unwrap();
    assert_eq!(history.last().unwrap().to, "Lapsed");
    let page = browser
        .get(&format!("/l/{slug}/members/{}", existing.pid))
        .await
        .text();
    assert!(
        page.contains("first_name: Jose → José"),
        "the audit log shows the import's change"
    );
    let roll = Member::list(&tenant, &MemberFilter::default(), Sort::Name, None, 50)
        .await
        .unwrap()
        .members;
    assert!(roll.iter().any(|m| m.last_name == "Muñoz"));
}

#[tokio::test]
async fn rows_repeating_earlier_rows_of_a_long_file_update_the_member_those_rows_created() {
    let app = TestApp::start().await;
    let slug = unique_slug("rep");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    // 5,000 rows: several batches, written side by side on PostgreSQL. Row
    // 4,500 repeats row 10 (another batch) and row 20 repeats row 11 (the
    // same batch), both by email, with new values.
    let mut csv = String::from("first_name,last_name,email,status\n");
    for i in 1..=5000 {
        let (first, email, status) = match i {
            4500 => ("Changed".to_string(), 10, "Lapsed"),
            20 => ("Twice".to_string(), 11, "Active"),
            _ => (format!("P{i}"), i, "Active"),
        };
        csv.push_str(&format!("{first},Person,p{email}@example.org,{status}\n"));
    }
    let (_, result) = import(
        &mut browser,
        &slug,
        csv.into_bytes(),
        &[("on_duplicate", "update")],
    )
    .await;
    assert_eq!(count_in(&result, "created"), 4998, "{result}");
    assert_eq!(count_in(&result, "updated"), 2);
    assert_eq!(count_in(&result, "failed"), 0);
    let everyone = Member::count(&tenant, &MemberFilter::default())
        .await
        .unwrap();
    assert_eq!(
        everyone.describe(),
        "4,998 members",
        "nobody was added twice"
    );
    let find = |q: &str| MemberFilter {
        search: Some(q.to_string()),
        ..MemberFilter::default()
    };
    for (email, first, status) in [
        ("p10@example.org", "Changed", "Lapsed"),
        ("p11@example.org", "Twice", "Active"),
    ] {
        let found = Member::list(&tenant, &find(email), Sort::Name, None, 5)
            .await
            .unwrap()
            .members;
        assert_eq!(found.len(), 1, "one member has {email}");
        assert_eq!(found[0].first_name, first);
        let history = found[0].status_history(&tenant).await.unwrap();
        assert_eq!(history.last().unwrap().to, status);
    }
}

#[tokio::test]
async fn an_import_waiting_for_a_retry_says_why_its_last_attempt_stopped() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::start().await;
    let slug = unique_slug("retry");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    let uploaded = upload(
        &mut browser,
        &slug,
        "members.csv",
        b"first_name,last_name\nAnn,Lee\n".to_vec(),
    )
    .await;
    let path = location(&uploaded);
    let pid = uuid::Uuid::parse_str(path.rsplit('/').next().unwrap()).unwrap();
    let import = Import::find(&tenant, pid).await.unwrap();
    // As a worker leaves it when an attempt fails part-way (the mapping is guessed).
    app.owner_db()
        .execute_unprepared(&format!(
            "UPDATE member_imports SET state = 'running', total_rows = 1, \
             mapping = '{{\"first_name\":0,\"last_name\":1}}' WHERE id = {}",
            import.id
        ))
        .await
        .unwrap();
    unionhall::models::progress::stopped::<unionhall::models::member_imports::Entity>(
        &tenant,
        import.id,
        "the database went away",
        false,
    )
    .await
    .unwrap();

    let page = browser.get(&path).await.text();
    assert!(page.contains("Importing: 0 of 1 rows."), "{page}");
    assert!(page.contains(
        "The last attempt stopped: the database went away. It will be tried again automatically"
    ));

    // The next attempt clears it.
    unionhall::models::member_imports::run(&tenant, import.id, Some(admin.id))
        .await
        .unwrap();
    let page = browser.get(&path).await.text();
    assert!(page.contains("<strong>Done.</strong>"), "{page}");
    assert!(!page.contains("The last attempt stopped"));
    assert_eq!(count_in(&page, "created"), 1);
}

#[tokio::test]
async fn bad_files_are_refused_with_a_clear_message_before_anything_is_written() {
    let app = TestApp::start_with(|config| {
        let settings = config.settings.get_or_insert_with(|| serde_json::json!({}));
        settings["imports"] = serde_json::json!({ "max_megabytes": 1 });
    })
    .await;
    let slug = unique_slug("bad");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    let mut large = b"first_name,last_name\n".to_vec();
    while large.len() < 1_300_000 {
        large.extend_from_slice(b"Somebody,Withalongername\n");
    }
    let png = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H',
    ];
    for (bytes, message) in [
        (Vec::new(), "The file is empty."),
        (b"  \n\n".to_vec(), "The file is empty."),
        (png, "This is not a CSV file"),
        (b"foo,bar,baz\n1,2,3\n".to_vec(), "No usable columns"),
        (b"first_name,last_name\n".to_vec(), "no members"),
        (large, "larger than the limit of 1 MB"),
    ] {
        let response = upload(&mut browser, &slug, "bad.csv", bytes).await;
        assert_eq!(response.status_code(), 422, "{message}");
        let page = response.text();
        assert!(page.contains(message), "{message}: {page}");
        assert!(page.contains("id=\"file-error\""));
    }
    assert!(
        Import::list(&tenant, 10).await.unwrap().is_empty(),
        "no import was kept"
    );
    // A mapping without names is refused on its fields.
    let uploaded = upload(
        &mut browser,
        &slug,
        "ok.csv",
        b"email,first_name,last_name\na@example.org,A,B\n".to_vec(),
    )
    .await;
    let path = location(&uploaded);
    let refused = browser
        .submit(
            &format!("{path}?_method=put"),
            &[("email", "0"), ("first_name", "0"), ("start", "1")],
        )
        .await;
    assert_eq!(refused.status_code(), 422);
    let page = refused.text();
    assert!(page.contains("id=\"last_name-error\""));
    assert!(page.contains("already mapped to First name"));
    assert!(
        Member::list(&tenant, &MemberFilter::default(), Sort::Name, None, 5)
            .await
            .unwrap()
            .members
            .is_empty()
    );
}

#[tokio::test]
async fn an_import_adds_the_employers_worksites_and_units_its_file_names_when_the_admin_allows_it()
{
    use unionhall::{domain::UnitName, models::employers, models::structure::Directory};
    let app = TestApp::start().await;
    let slug = unique_slug("adds");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    employers::Model::create(&tenant, &UnitName::parse("City Hospital").unwrap())
        .await
        .unwrap();
    let (other, _) = app.local_with_admin(&unique_slug("other")).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    let csv = "first_name,last_name,employer,worksite,bargaining_unit,status\n\
        Ann,Able,Harbor Clinic,East Pier,Nurses,Active\n\
        Ben,Baker,harbor  clinic,east pier,,Active\n\
        Cy,Cole,City Hospital,West Wing,Nurses,\n\
        Di,Dee,,Nowhere,,\n\
        Ed,Eck,Harbor Clinic,,,Royalty\n";

    // Not allowed: the preview names what is missing and the rows fail.
    let uploaded = upload(&mut browser, &slug, "new.csv", csv.as_bytes().to_vec()).await;
    let path = location(&uploaded);
    let page = browser.get(&path).await.text();
    assert!(page.contains("rows naming it will fail"), "{page}");
    assert!(page.contains("<li>Employers: Harbor Clinic</li>"), "{page}");
    assert!(
        page.contains("<li>Worksites: East Pier (Harbor Clinic), West Wing (City Hospital)</li>"),
        "{page}"
    );
    assert!(page.contains("<li>Bargaining units: Nurses</li>"), "{page}");
    assert!(page.contains("Unknown employer"), "{page}");
    // Allowed: the same rows read as ready.
    let mut fields = guessed(&page);
    fields.push(("create_missing".into(), "1".into()));
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let saved = browser.submit(&format!("{path}?_method=put"), &refs).await;
    assert_eq!(saved.status_code(), 303, "{}", saved.text());
    let page = browser.get(&path).await.text();
    assert!(page.contains("The import will add"), "{page}");
    assert!(page.contains(r#"id="create_missing" name="create_missing" value="1" checked"#));
    assert_eq!(
        page.matches(r#"<span class="badge">Ready</span>"#).count(),
        3,
        "{page}"
    );
    assert!(
        page.contains("Unknown worksite"),
        "a worksite without its employer: {page}"
    );
    assert!(page.contains("Unknown status"), "{page}");
    let untouched = Directory::load(&tenant).await.unwrap();
    assert_eq!(untouched.employers.len(), 1, "the preview adds nothing");

    let (_, result) = import(
        &mut browser,
        &slug,
        csv.as_bytes().to_vec(),
        &[("create_missing", "1")],
    )
    .await;
    assert_eq!(count_in(&result, "created"), 3, "{result}");
    assert_eq!(count_in(&result, "failed"), 2, "{result}");
    let directory = Directory::load(&tenant).await.unwrap();
    let names = |list: Vec<String>| {
        let mut list = list;
        list.sort();
        list
    };
    assert_eq!(
        names(directory.employers.iter().map(|e| e.name.clone()).collect()),
        ["City Hospital", "Harbor Clinic"],
        "one Harbor Clinic, however the file spelled it"
    );
    assert_eq!(
        names(
            directory
                .worksites
                .iter()
                .map(|w| format!("{} ({})", w.name, directory.employer(Some(w.employer_id))))
                .collect()
        ),
        ["East Pier (Harbor Clinic)", "West Wing (City Hospital)"]
    );
    assert_eq!(
        names(directory.units.iter().map(|u| u.name.clone()).collect()),
        ["Nurses"]
    );
    let roll = Member::list(&tenant, &MemberFilter::default(), Sort::Name, None, 50)
        .await
        .unwrap()
        .members;
    let ben = roll.iter().find(|m| m.first_name == "Ben").unwrap();
    assert_eq!(directory.worksite(ben.worksite_id), "East Pier");
    assert_eq!(directory.employer(ben.employer_id), "Harbor Clinic");
    let audit = browser.get(&format!("/l/{slug}/audit")).await.text();
    assert!(audit.contains("employers: — → Harbor Clinic"), "{audit}");
    let theirs = Directory::load(&other).await.unwrap();
    assert!(
        theirs.employers.is_empty() && theirs.units.is_empty(),
        "another local gains nothing"
    );
}

#[tokio::test]
async fn only_staff_import_and_another_local_s_import_is_not_found() {
    let app = TestApp::start().await;
    let slug = unique_slug("own");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    let uploaded = upload(
        &mut browser,
        &slug,
        "ok.csv",
        b"first_name,last_name\nA,B\n".to_vec(),
    )
    .await;
    let path = location(&uploaded);
    let steward = app.person_with_role(&tenant, "Steward").await;
    let mut steward_browser = app.client();
    steward_browser.sign_in(&steward.email, PASSWORD).await;
    assert_eq!(steward_browser.get(&path).await.status_code(), 403);
    assert_eq!(
        upload(
            &mut steward_browser,
            &slug,
            "x.csv",
            b"first_name,last_name\nA,B\n".to_vec()
        )
        .await
        .status_code(),
        403
    );

    let other_slug = unique_slug("other");
    let (_, other_admin) = app.local_with_admin(&other_slug).await;
    let mut other = app.client();
    other.sign_in(&other_admin.email, PASSWORD).await;
    let pid = path.rsplit('/').next().unwrap();
    for p in [
        format!("/l/{other_slug}/member_imports/{pid}"),
        format!("/l/{other_slug}/member_imports/{pid}/failures.csv"),
        path.clone(),
    ] {
        assert_eq!(other.get(&p).await.status_code(), 404, "{p}");
    }
    let start = other
        .submit(
            &format!("/l/{other_slug}/member_imports/{pid}?_method=put"),
            &[("first_name", "0"), ("last_name", "1"), ("start", "1")],
        )
        .await;
    assert_eq!(start.status_code(), 404);
    let still = browser.get(&path).await.text();
    assert!(still.contains("Start the import"), "nothing started");
}

#[tokio::test]
async fn an_import_whose_worker_is_killed_resumes_without_adding_anyone_twice() {
    let app = TestApp::start_redis(|_| {}).await;
    let slug = unique_slug("crash");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let mut csv = String::from("first_name,last_name,email\n");
    for i in 0..6000 {
        csv.push_str(&format!("Person{i},Crash{i:05},p{i}@example.org\n"));
    }
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;
    let uploaded = upload(&mut browser, &slug, "big.csv", csv.into_bytes()).await;
    let path = location(&uploaded);
    let started = browser
        .submit(
            &format!("{path}?_method=put"),
            &[
                ("first_name", "0"),
                ("last_name", "1"),
                ("email", "2"),
                ("start", "1"),
            ],
        )
        .await;
    assert_eq!(started.status_code(), 303);
    let pid: uuid::Uuid = path.rsplit('/').next().unwrap().parse().unwrap();

    let mut first = WorkerProcess::spawn(&app, &[]);
    eventually(
        "the import is part-way",
        Duration::from_secs(120),
        || async {
            let i = Import::find(&tenant, pid).await.unwrap();
            i.processed_rows > 0 && i.processed_rows < 6000
        },
    )
    .await;
    first.kill();
    let at_kill = Import::find(&tenant, pid).await.unwrap();
    assert!(at_kill.processed_rows < 6000, "killed before the end");

    let _second = WorkerProcess::spawn(&app, &[]);
    eventually(
        "the import finishes after a restart",
        Duration::from_secs(180),
        || async { Import::find(&tenant, pid).await.unwrap().is_done() },
    )
    .await;
    let done = Import::find(&tenant, pid).await.unwrap();
    assert_eq!(done.created_count, 6000);
    assert_eq!(done.skipped_count + done.failed_count, 0);
    assert_eq!(
        Member::count(&tenant, &MemberFilter::default())
            .await
            .unwrap()
            .describe(),
        "6,000 members"
    );
}
