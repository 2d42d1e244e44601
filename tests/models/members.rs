//! Members through the models (PostgreSQL and, with `DATABASE_URL=sqlite://…`,
//! SQLite): create with the local's structure, field errors, status history,
//! the audit log, archive and restore, permissions, other locals, search.
use chrono::NaiveDate;
use sea_orm::EntityTrait;
use unionhall::{
    domain::{Email, EmployeeNumber, Phone, UnitName},
    models::{
        _entities::tenants as tenant_rows,
        audit_events, bargaining_units, employers,
        members::{MemberFilter, Model as Member, NewMember, Sort, Total},
        membership_statuses, worksites, Error,
    },
};
use uuid::Uuid;

use crate::support::{unique_slug, TestApp};

fn member(first: &str, last: &str) -> NewMember {
    crate::support::new_member(first, last, false)
}

async fn status_pid(tenant: &unionhall::models::tenants::Tenant, name: &str) -> Uuid {
    let txn = tenant.begin().await.unwrap();
    let statuses = membership_statuses::list(&txn).await.unwrap();
    txn.commit().await.unwrap();
    statuses
        .into_iter()
        .find(|s| s.name == name)
        .expect("status")
        .pid
}

#[tokio::test]
async fn a_member_is_placed_in_the_local_s_structure_with_a_default_status_and_an_audit_trail() {
    let app = TestApp::start().await;
    let slug = unique_slug("roll");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let employer = employers::Model::create(&tenant, &UnitName::parse("City Hospital").unwrap())
        .await
        .unwrap();
    let site = worksites::Model::create(
        &tenant,
        employer.pid,
        &UnitName::parse("North Wing").unwrap(),
    )
    .await
    .unwrap();
    let unit = bargaining_units::Model::create(&tenant, &UnitName::parse("Nurses").unwrap())
        .await
        .unwrap();

    let created = Member::create(
        &tenant,
        NewMember {
            email: Some(Email::parse("Rosa.Parks@Example.org").unwrap()),
            phone: Some(Phone::parse("(555) 010-2030", "1").unwrap()),
            employee_number: Some(EmployeeNumber::parse("E-1001").unwrap()),
            worksite: Some(site.pid),
            bargaining_unit: Some(unit.pid),
            join_date: NaiveDate::from_ymd_opt(2019, 3, 1),
            ..member("Rosa", "Parks")
        },
    )
    .await
    .unwrap();

    assert_eq!(
        created.employer_id,
        Some(employer.id),
        "the worksite's employer"
    );
    assert_eq!(created.email.as_deref(), Some("rosa.parks@example.org"));
    assert_eq!(created.phone.as_deref(), Some("+15550102030"));
    let history = created.status_history(&tenant).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].to, "Active");
    assert_eq!(history[0].by.as_deref(), Some(admin.name.as_str()));
    let audit = audit_events::for_subject(&tenant, ("member", created.id), 10)
        .await
        .unwrap();
    assert_eq!(audit[0].event.action, "create");
    assert!(audit[0]
        .changes
        .iter()
        .any(|c| c.field == "last_name" && c.new.as_deref() == Some("Parks")));
    let local = tenant_rows::Entity::find_by_id(tenant.id())
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(local.members_count, 1, "the count operators see");
}

#[tokio::test]
async fn status_changes_are_kept_so_a_lapse_and_a_reinstatement_stay_visible() {
    let app = TestApp::start().await;
    let slug = unique_slug("lapse");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let m = Member::create(&tenant, member("Joe", "Hill"))
        .await
        .unwrap();
    let lapsed = status_pid(&tenant, "Lapsed").await;
    let active = status_pid(&tenant, "Active").await;

    Member::update(
        &tenant,
        m.pid,
        NewMember {
            status: Some(lapsed),
            ..member("Joe", "Hill")
        },
    )
    .await
    .unwrap();
    let m = Member::update(
        &tenant,
        m.pid,
        NewMember {
            status: Some(active),
            ..member("Joe", "Hill")
        },
    )
    .await
    .unwrap();

    let history: Vec<(Option<String>, String)> = m
        .status_history(&tenant)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.from, c.to))
        .collect();
    assert_eq!(
        history,
        vec![
            (None, "Active".to_string()),
            (Some("Active".to_string()), "Lapsed".to_string()),
            (Some("Lapsed".to_string()), "Active".to_string()),
        ]
    );
    let audit = audit_events::for_subject(&tenant, ("member", m.id), 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 3, "create and two updates");
    assert!(audit[0].changes.iter().any(|c| c.field == "status"));
}

#[tokio::test]
async fn bad_references_and_a_duplicate_employee_number_are_field_errors_and_save_nothing() {
    let app = TestApp::start().await;
    let slug = unique_slug("refs");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let other_slug = unique_slug("other");
    let (other, _) = app.local_with_admin(&other_slug).await;
    let theirs = employers::Model::create(&other, &UnitName::parse("Their Employer").unwrap())
        .await
        .unwrap();
    let ours = employers::Model::create(&tenant, &UnitName::parse("Our Employer").unwrap())
        .await
        .unwrap();
    let second = employers::Model::create(&tenant, &UnitName::parse("Second Employer").unwrap())
        .await
        .unwrap();
    let site = worksites::Model::create(&tenant, second.pid, &UnitName::parse("Depot").unwrap())
        .await
        .unwrap();

    let err = Member::create(
        &tenant,
        NewMember {
            employer: Some(theirs.pid),
            status: Some(Uuid::new_v4()),
            ..member("Ann", "Lee")
        },
    )
    .await
    .unwrap_err();
    let Error::UnknownReference(errors) = err else {
        panic!("{err:?}")
    };
    assert!(errors.get("employer").is_some(), "another local's employer");
    assert!(errors.get("status").is_some(), "an unknown status");

    let err = Member::create(
        &tenant,
        NewMember {
            employer: Some(ours.pid),
            worksite: Some(site.pid),
            ..member("Ann", "Lee")
        },
    )
    .await
    .unwrap_err();
    let Error::UnknownReference(errors) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        errors.get("worksite"),
        Some("This worksite belongs to another employer.")
    );

    let numbered = |first: &str| NewMember {
        employee_number: Some(EmployeeNumber::parse("E-7").unwrap()),
        ..member(first, "Lee")
    };
    Member::create(&tenant, numbered("Ann")).await.unwrap();
    let err = Member::create(&tenant, numbered("Bo")).await.unwrap_err();
    let Error::Conflict(errors) = err else {
        panic!("{err:?}")
    };
    assert!(errors.get("employee_number").is_some());
    let page = Member::list(&tenant, &MemberFilter::default(), Sort::Name, None, 50)
        .await
        .unwrap();
    assert_eq!(page.members.len(), 1, "nothing else was saved");
    // The same number is free in another local.
    Member::create(&other, numbered("Cy")).await.unwrap();
}

#[tokio::test]
async fn archiving_hides_a_member_until_an_admin_restores_them_and_only_admins_may() {
    let app = TestApp::start().await;
    let slug = unique_slug("archive");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let officer = app.person_with_role(&tenant, "Officer").await;
    let officer_access = app.enter(&officer, &slug).await;
    let m = Member::create(&officer_access, member("Lucy", "Parsons"))
        .await
        .unwrap();

    let refused = Member::archive(&officer_access, m.pid).await;
    assert!(
        matches!(refused, Err(Error::Forbidden)),
        "officers cannot delete members"
    );

    Member::archive(&tenant, m.pid).await.unwrap();
    assert!(matches!(
        Member::find(&tenant, m.pid).await,
        Err(Error::NotFound)
    ));
    let roll = Member::list(&tenant, &MemberFilter::default(), Sort::Name, None, 50)
        .await
        .unwrap();
    assert!(roll.members.is_empty());
    let archived = Member::list(
        &tenant,
        &MemberFilter {
            archived: true,
            ..MemberFilter::default()
        },
        Sort::Name,
        None,
        50,
    )
    .await
    .unwrap();
    assert_eq!(archived.members.len(), 1);
    assert!(matches!(
        Member::list(
            &officer_access,
            &MemberFilter {
                archived: true,
                ..MemberFilter::default()
            },
            Sort::Name,
            None,
            50
        )
        .await,
        Err(Error::Forbidden)
    ));

    Member::restore(&tenant, m.pid).await.unwrap();
    assert_eq!(Member::find(&tenant, m.pid).await.unwrap().id, m.id);
    let actions: Vec<String> = audit_events::for_subject(&tenant, ("member", m.id), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.action)
        .collect();
    assert_eq!(actions, ["restore", "archive", "create"]);
}

#[tokio::test]
async fn another_local_s_member_is_not_found_and_stays_unchanged() {
    let app = TestApp::start().await;
    let (a, a_admin) = app.local_with_admin(&unique_slug("a")).await;
    let (b, b_admin) = app.local_with_admin(&unique_slug("b")).await;
    let a_access = app.enter(&a_admin, a.slug()).await;
    let b_access = app.enter(&b_admin, b.slug()).await;
    let theirs = Member::create(&a_access, member("Mother", "Jones"))
        .await
        .unwrap();

    assert!(matches!(
        Member::find(&b_access, theirs.pid).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        Member::update(&b_access, theirs.pid, member("Changed", "Name")).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        Member::archive(&b_access, theirs.pid).await,
        Err(Error::NotFound)
    ));
    let b_roll = Member::list(&b_access, &MemberFilter::default(), Sort::Name, None, 50)
        .await
        .unwrap();
    assert!(b_roll.members.is_empty());
    let unchanged = Member::find(&a_access, theirs.pid).await.unwrap();
    assert_eq!(unchanged.first_name, "Mother");
}

#[tokio::test]
async fn the_roll_is_searched_filtered_and_paged_by_name() {
    let app = TestApp::start().await;
    let slug = unique_slug("search");
    let (tenant, _) = app.local_with_admin(&slug).await;
    for (first, last, email, phone) in [
        ("Eugene", "Debs", "eugene@example.org", "+1 555 300 0001"),
        ("Mary", "Harris", "mary@example.org", "+1 555 300 0002"),
        ("Cesar", "Chavez", "cesar@example.org", "+1 555 300 0003"),
        (
            "Dolores",
            "Huerta",
            "dolores@example.org",
            "+1 555 300 0004",
        ),
        ("Walter", "Reuther", "walter@example.org", "+1 555 300 0005"),
    ] {
        Member::create(
            &tenant,
            NewMember {
                email: Some(Email::parse(email).unwrap()),
                phone: Some(Phone::parse(phone, "1").unwrap()),
                ..member(first, last)
            },
        )
        .await
        .unwrap();
    }
    let search = |q: &str| MemberFilter {
        search: Some(q.into()),
        ..MemberFilter::default()
    };
    let names = |page: unionhall::models::members::MemberPage| {
        page.members
            .into_iter()
            .map(|m| m.last_name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(
            Member::list(&tenant, &search("HUER"), Sort::Name, None, 50)
                .await
                .unwrap()
        ),
        ["Huerta"]
    );
    assert_eq!(
        names(
            Member::list(&tenant, &search("mary@"), Sort::Name, None, 50)
                .await
                .unwrap()
        ),
        ["Harris"]
    );
    assert_eq!(
        names(
            Member::list(&tenant, &search("300-0003"), Sort::Name, None, 50)
                .await
                .unwrap()
        ),
        ["Chavez"]
    );
    assert!(names(
        Member::list(&tenant, &search("100%_"), Sort::Name, None, 50)
            .await
            .unwrap()
    )
    .is_empty());

    let first = Member::list(&tenant, &MemberFilter::default(), Sort::Name, None, 2)
        .await
        .unwrap();
    assert_eq!(names(first.clone()), ["Chavez", "Debs"]);
    let second = Member::list(
        &tenant,
        &MemberFilter::default(),
        Sort::Name,
        first.next.as_ref(),
        2,
    )
    .await
    .unwrap();
    assert_eq!(names(second.clone()), ["Harris", "Huerta"]);
    let third = Member::list(
        &tenant,
        &MemberFilter::default(),
        Sort::Name,
        second.next.as_ref(),
        2,
    )
    .await
    .unwrap();
    assert_eq!(names(third.clone()), ["Reuther"]);
    assert!(third.next.is_none());
    let unknown_status = MemberFilter {
        status: Some(Uuid::new_v4()),
        ..MemberFilter::default()
    };
    assert!(names(
        Member::list(&tenant, &unknown_status, Sort::Name, None, 50)
            .await
            .unwrap()
    )
    .is_empty());
}

/// Pages of `size` in `sort` until the end, as last names.
async fn walk(
    tenant: &unionhall::models::tenants::Tenant,
    filter: &MemberFilter,
    sort: Sort,
    size: u64,
) -> Vec<String> {
    let mut seen = vec![];
    let mut after = None;
    loop {
        let page = Member::list(tenant, filter, sort, after.as_ref(), size)
            .await
            .unwrap();
        seen.extend(page.members.into_iter().map(|m| m.last_name));
        match page.next {
            Some(next) => after = Some(next),
            None => return seen,
        }
    }
}

#[tokio::test]
async fn the_roll_pages_by_join_date_and_by_status_without_skipping_or_repeating_anyone() {
    let app = TestApp::start().await;
    let slug = unique_slug("orders");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let retired = status_pid(&tenant, "Retired").await;
    let lapsed = status_pid(&tenant, "Lapsed").await;
    for (last, joined, status) in [
        ("Adams", Some((2020, 1, 5)), None),
        ("Baker", None, Some(retired)),
        ("Clark", Some((2023, 6, 1)), Some(lapsed)),
        ("Davis", Some((2020, 1, 5)), Some(retired)),
        ("Evans", None, None),
        ("Foster", Some((2018, 9, 9)), Some(lapsed)),
    ] {
        Member::create(
            &tenant,
            NewMember {
                join_date: joined.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)),
                status,
                ..member("Pat", last)
            },
        )
        .await
        .unwrap();
    }
    let everyone = MemberFilter::default();

    // Newest first; the same date by newest row; no join date last (newest row first).
    let expected_joined = ["Clark", "Davis", "Adams", "Foster", "Evans", "Baker"];
    for size in [1, 2, 4, 50] {
        assert_eq!(
            walk(&tenant, &everyone, Sort::Joined, size).await,
            expected_joined,
            "page size {size}"
        );
    }
    // Statuses in the local's order (Active, …, Lapsed, Retired), names within each.
    let expected_status = ["Adams", "Evans", "Clark", "Foster", "Baker", "Davis"];
    for size in [1, 3, 50] {
        assert_eq!(
            walk(&tenant, &everyone, Sort::Status, size).await,
            expected_status,
            "page size {size}"
        );
    }
    let only_lapsed = MemberFilter {
        status: Some(lapsed),
        ..MemberFilter::default()
    };
    assert_eq!(
        walk(&tenant, &only_lapsed, Sort::Status, 1).await,
        ["Clark", "Foster"]
    );
    let joined_2020s = MemberFilter {
        joined_from: NaiveDate::from_ymd_opt(2020, 1, 1),
        joined_to: NaiveDate::from_ymd_opt(2022, 12, 31),
        ..MemberFilter::default()
    };
    assert_eq!(
        walk(&tenant, &joined_2020s, Sort::Name, 50).await,
        ["Adams", "Davis"]
    );

    assert_eq!(
        Member::count(&tenant, &everyone).await.unwrap(),
        Total::Exact(6)
    );
    assert_eq!(
        Member::count(&tenant, &only_lapsed).await.unwrap(),
        Total::Exact(2)
    );
    assert_eq!(Total::Exact(1).describe(), "1 member");
    assert_eq!(
        Total::About(1_234_567).describe(),
        "about 1,234,567 members"
    );
}

#[tokio::test]
async fn the_structure_shown_follows_every_change_even_one_made_by_another_process() {
    use sea_orm::ConnectionTrait;
    use unionhall::models::structure::Directory;
    let app = TestApp::start().await;
    let slug = unique_slug("dir");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let employer = employers::Model::create(&tenant, &UnitName::parse("City Hospital").unwrap())
        .await
        .unwrap();
    let site = worksites::Model::create(
        &tenant,
        employer.pid,
        &UnitName::parse("North Wing").unwrap(),
    )
    .await
    .unwrap();
    Member::create(
        &tenant,
        NewMember {
            worksite: Some(site.pid),
            ..member("Lucy", "Parsons")
        },
    )
    .await
    .unwrap();
    let before = Directory::load(&tenant).await.unwrap();
    assert_eq!(before.worksite(Some(site.id)), "North Wing");

    // Another process (here: SQL on the connection, outside the app's
    // models) renames the worksite and adds a unit.
    app.owner_db()
        .execute_unprepared(&format!(
            "UPDATE worksites SET name = 'South Wing' WHERE id = {}",
            site.id
        ))
        .await
        .unwrap();
    bargaining_units::Model::create(&tenant, &UnitName::parse("Nurses").unwrap())
        .await
        .unwrap();
    let after = Directory::load(&tenant).await.unwrap();
    assert_eq!(after.worksite(Some(site.id)), "South Wing");
    assert_eq!(after.units.len(), 1);
    let roll = Member::roll(
        &tenant,
        &MemberFilter {
            worksite: Some(site.pid),
            ..MemberFilter::default()
        },
        Sort::Name,
        None,
        50,
    )
    .await
    .unwrap();
    assert_eq!(roll.page.members.len(), 1);
    assert_eq!(roll.directory.worksite(Some(site.id)), "South Wing");

    // One local's change leaves another's structure as it was, and the
    // other's own change is followed too (both read through the cache).
    let (other, _) = app.local_with_admin(&unique_slug("dir2")).await;
    let depot = employers::Model::create(&other, &UnitName::parse("Transit").unwrap())
        .await
        .unwrap();
    let east = worksites::Model::create(&other, depot.pid, &UnitName::parse("East Depot").unwrap())
        .await
        .unwrap();
    assert_eq!(
        Directory::load(&other)
            .await
            .unwrap()
            .worksite(Some(east.id)),
        "East Depot"
    );
    worksites::Model::rename(&tenant, site.pid, &UnitName::parse("West Wing").unwrap())
        .await
        .unwrap();
    assert_eq!(
        Directory::load(&tenant)
            .await
            .unwrap()
            .worksite(Some(site.id)),
        "West Wing"
    );
    let theirs = Directory::load(&other).await.unwrap();
    assert_eq!(theirs.worksite(Some(east.id)), "East Depot");
    assert_eq!(theirs.worksites.len(), 1, "only its own");
    app.owner_db()
        .execute_unprepared(&format!(
            "UPDATE worksites SET name = 'West Depot' WHERE id = {}",
            east.id
        ))
        .await
        .unwrap();
    assert_eq!(
        Directory::load(&other)
            .await
            .unwrap()
            .worksite(Some(east.id)),
        "West Depot"
    );
}

#[tokio::test]
async fn a_search_combines_with_filters_and_takes_quotes_and_wildcards_literally() {
    let app = TestApp::start().await;
    let slug = unique_slug("sq");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let employer = employers::Model::create(&tenant, &UnitName::parse("Port").unwrap())
        .await
        .unwrap();
    let dock = worksites::Model::create(&tenant, employer.pid, &UnitName::parse("Dock").unwrap())
        .await
        .unwrap();
    let yard = worksites::Model::create(&tenant, employer.pid, &UnitName::parse("Yard").unwrap())
        .await
        .unwrap();
    let lapsed = status_pid(&tenant, "Lapsed").await;
    for (first, last, site, status) in [
        ("Kate", "O'Brien", &dock, None),
        ("Sean", "O'Brien", &yard, None),
        ("Mary", "O'Brien", &dock, Some(lapsed)),
        ("Tom", "Obrien", &dock, None),
    ] {
        Member::create(
            &tenant,
            NewMember {
                worksite: Some(site.pid),
                status,
                ..member(first, last)
            },
        )
        .await
        .unwrap();
    }
    let firsts = |page: unionhall::models::members::MemberPage| {
        page.members
            .into_iter()
            .map(|m| m.first_name)
            .collect::<Vec<_>>()
    };
    let at_dock = MemberFilter {
        search: Some("o'bri".into()),
        worksite: Some(dock.pid),
        ..MemberFilter::default()
    };
    assert_eq!(
        firsts(
            Member::list(&tenant, &at_dock, Sort::Name, None, 50)
                .await
                .unwrap()
        ),
        ["Kate", "Mary"],
        "the quote is part of the search, the worksite narrows it"
    );
    let lapsed_at_dock = MemberFilter {
        status: Some(lapsed),
        ..at_dock.clone()
    };
    assert_eq!(
        firsts(
            Member::list(&tenant, &lapsed_at_dock, Sort::Name, None, 50)
                .await
                .unwrap()
        ),
        ["Mary"]
    );
    assert!(matches!(
        Member::count(&tenant, &lapsed_at_dock).await.unwrap(),
        Total::Exact(1)
    ));
    let wildcard = MemberFilter {
        search: Some("o_brien".into()),
        ..MemberFilter::default()
    };
    assert!(Member::list(&tenant, &wildcard, Sort::Name, None, 50)
        .await
        .unwrap()
        .members
        .is_empty());
}

#[tokio::test]
async fn a_search_with_more_than_ten_thousand_matches_pages_through_all_of_them_in_order() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::start().await;
    // The list of first matches is PostgreSQL's search path: bin/test skips
    // this test on SQLite (and cargo counts it as filtered out there).
    assert!(app.is_postgres(), "a PostgreSQL test");
    let slug = unique_slug("many");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let active = status_pid(&tenant, "Active").await;
    let txn = tenant.begin().await.unwrap();
    let statuses = membership_statuses::list(&txn).await.unwrap();
    txn.commit().await.unwrap();
    let status_id = statuses.iter().find(|s| s.pid == active).unwrap().id;
    // 10,050 members named Zed… (as a bulk load would), and a few others;
    // their numbers spelt in letters (0 = a … 9 = j), as names have no digits.
    app.owner_db()
        .execute_unprepared(&format!(
            "INSERT INTO members (pid, tenant_id, first_name, last_name, status_id, email_opt_in,
                 sms_opt_in, search, created_at, updated_at)
             SELECT gen_random_uuid(), {tid}, 'Ann', 'Zed' || n, {status_id},
                 true, false, 'ann zed' || n, now(), now()
             FROM generate_series(1, 10050) AS g,
                  translate(lpad(g::text, 5, '0'), '0123456789', 'abcdefghij') AS n;
             UPDATE tenants SET members_count = 10050 WHERE id = {tid}",
            tid = tenant.id()
        ))
        .await
        .unwrap();
    for name in ["Abel", "Zz Top"] {
        Member::create(&tenant, member("Bea", name)).await.unwrap();
    }
    let zed = MemberFilter {
        search: Some("zed".into()),
        ..MemberFilter::default()
    };

    // A search alone counts its members up to a thousand (read by word);
    // with a filter it goes through the trigram index, up to ten thousand.
    assert!(matches!(
        Member::count(&tenant, &zed).await.unwrap(),
        Total::MoreThan(1_000)
    ));
    let zed_active = MemberFilter {
        status: Some(active),
        ..zed.clone()
    };
    assert!(matches!(
        Member::count(&tenant, &zed_active).await.unwrap(),
        Total::MoreThan(10_000)
    ));
    let seen = walk(&tenant, &zed_active, Sort::Name, 2_000).await;
    assert_eq!(seen.len(), 10_050, "every match once, filtered");
    let seen = walk(&tenant, &zed, Sort::Name, 500).await;
    assert_eq!(seen.len(), 10_050, "every match once");
    assert_eq!(seen.first().map(String::as_str), Some("Zedaaaab"));
    assert_eq!(seen.last().map(String::as_str), Some("Zedbaafa"));
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in name order");
}

fn searching(q: &str) -> MemberFilter {
    MemberFilter {
        search: Some(q.into()),
        ..MemberFilter::default()
    }
}

#[tokio::test]
async fn a_search_finds_the_start_of_words_and_the_middle_only_when_no_word_starts_so() {
    let app = TestApp::start().await;
    let slug = unique_slug("words");
    let (tenant, _) = app.local_with_admin(&slug).await;
    for (first, last) in [
        ("Mary", "Lamar"),
        ("Ann", "Martin"),
        ("Mark", "Mary"),
        ("Zoe", "Omarson"),
    ] {
        Member::create(&tenant, member(first, last)).await.unwrap();
    }

    // Pages of one, so a member matching by two words is seen to come once.
    let mut found = walk(&tenant, &searching("MAR"), Sort::Name, 1).await;
    assert_eq!(found.len(), 3, "each member once: {found:?}");
    found.sort();
    assert_eq!(
        found,
        ["Lamar", "Martin", "Mary"],
        "not Omarson: no word of his starts with mar"
    );
    assert!(matches!(
        Member::count(&tenant, &searching("mar")).await.unwrap(),
        Total::Exact(3)
    ));
    assert_eq!(
        walk(&tenant, &searching("m\u{0}ar\u{7}"), Sort::Name, 50)
            .await
            .len(),
        3,
        "control characters are dropped, not sent to the database"
    );

    // No word starts with "amar": the middle of words then.
    assert_eq!(
        walk(&tenant, &searching("amar"), Sort::Name, 50).await,
        ["Lamar"]
    );
    assert!(matches!(
        Member::count(&tenant, &searching("amar")).await.unwrap(),
        Total::Exact(1)
    ));
    // Both terms must match; the second narrows the first.
    assert_eq!(
        walk(&tenant, &searching("mar mary"), Sort::Name, 50).await,
        ["Lamar", "Mary"]
    );
}

#[tokio::test]
async fn a_renamed_archived_or_restored_member_is_found_by_their_current_name_only() {
    let app = TestApp::start().await;
    let slug = unique_slug("rename");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let rosa = Member::create(&tenant, member("Rosa", "Parks"))
        .await
        .unwrap();
    let find = |q: &'static str| {
        let tenant = tenant.clone();
        async move { walk(&tenant, &searching(q), Sort::Name, 50).await }
    };
    assert_eq!(find("park").await, ["Parks"]);

    Member::update(&tenant, rosa.pid, member("Rosa", "Quill"))
        .await
        .unwrap();
    assert!(find("park").await.is_empty(), "the old name is gone");
    assert_eq!(find("quil").await, ["Quill"]);

    Member::archive(&tenant, rosa.pid).await.unwrap();
    assert!(
        find("quil").await.is_empty(),
        "archived members leave the roll"
    );
    Member::restore(&tenant, rosa.pid).await.unwrap();
    assert_eq!(find("quil").await, ["Quill"]);
}

#[test]
fn a_page_position_holding_nul_is_no_position() {
    use unionhall::models::members::After;
    let made = After {
        last_name: "Hill".into(),
        first_name: "Joe".into(),
        join_date: None,
        status_id: 1,
        id: 7,
        word: Some("hill".into()),
    };
    assert_eq!(After::decode(&made.encode()), Some(made.clone()));
    let crafted = After {
        word: Some("hi\0ll".into()),
        ..made
    };
    assert_eq!(After::decode(&crafted.encode()), None);
}

#[tokio::test]
async fn emails_phones_and_employee_numbers_are_found_from_their_start_and_from_inside() {
    let app = TestApp::start().await;
    let slug = unique_slug("contact");
    let (tenant, _) = app.local_with_admin(&slug).await;
    Member::create(
        &tenant,
        NewMember {
            email: Some(Email::parse("rosa.parks@union.example").unwrap()),
            phone: Some(Phone::parse("+1 555 201 0001", "1").unwrap()),
            employee_number: Some(EmployeeNumber::parse("E-4471").unwrap()),
            ..member("Rosa", "Parks")
        },
    )
    .await
    .unwrap();
    Member::create(&tenant, member("Mary", "Rosewood"))
        .await
        .unwrap();
    let find = |q: &'static str| {
        let tenant = tenant.clone();
        async move { walk(&tenant, &searching(q), Sort::Name, 50).await }
    };
    for q in [
        "rosa.parks@",
        "union.example",
        "E-44",
        "4471",
        "5552010001",
        "201 0001",
        "(555) 201-0001",
    ] {
        assert_eq!(find(q).await, ["Parks"], "{q}");
    }
    assert_eq!(
        find("ros").await,
        ["Parks", "Rosewood"],
        "names by their start"
    );

    if app.is_postgres() {
        // The word index holds names only: the rest is the trigram index's.
        use sea_orm::ConnectionTrait;
        let rows = app
            .owner_db()
            .query_all_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT word FROM member_words WHERE tenant_id = $1 ORDER BY word",
                [tenant.id().into()],
            ))
            .await
            .unwrap();
        let words: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String>("", "word").unwrap())
            .collect();
        assert_eq!(words, ["mary", "parks", "rosa", "rosewood"]);
    }
}

/// Pages of a filter with many matches (PostgreSQL walks the ranges of the
/// worksite/status index that can hold them, migration 22's statistics
/// telling the planner there are many): every match once, in name order,
/// members placed with the employer but at no worksite included.
#[tokio::test]
async fn a_dense_filter_on_an_employer_or_a_worksite_pages_through_every_match_in_name_order() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::start().await;
    // The estimate that picks this path is PostgreSQL's: bin/test skips this
    // test on SQLite.
    assert!(app.is_postgres(), "a PostgreSQL test");
    let slug = unique_slug("dense");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let name = |n: &str| UnitName::parse(n).unwrap();
    let big = employers::Model::create(&tenant, &name("Big Employer"))
        .await
        .unwrap();
    let other = employers::Model::create(&tenant, &name("Other"))
        .await
        .unwrap();
    let north = worksites::Model::create(&tenant, big.pid, &name("North"))
        .await
        .unwrap();
    let south = worksites::Model::create(&tenant, big.pid, &name("South"))
        .await
        .unwrap();
    let far = worksites::Model::create(&tenant, other.pid, &name("Far"))
        .await
        .unwrap();
    let txn = tenant.begin().await.unwrap();
    let statuses: Vec<i32> = membership_statuses::list(&txn)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    txn.commit().await.unwrap();
    // 15,000 at the big employer (North 12,000, South 2,000, no worksite
    // 1,000) and 600 elsewhere, over every status; names repeat, so the id
    // breaks ties.
    app.owner_db()
        .execute_unprepared(&format!(
            "INSERT INTO members (pid, tenant_id, first_name, last_name, employer_id, worksite_id,
                 status_id, email_opt_in, sms_opt_in, search, created_at, updated_at)
             SELECT gen_random_uuid(), {tid}, 'F' || (g % 7), 'L' || (g * 7919 % 1009),
                 CASE WHEN g <= 15000 THEN {big} ELSE {other} END,
                 CASE WHEN g <= 12000 THEN {north} WHEN g <= 14000 THEN {south}
                      WHEN g <= 15000 THEN NULL ELSE {far} END,
                 (ARRAY[{statuses}])[1 + g % {count}], true, false, 'member', now(), now()
             FROM generate_series(1, 15600) AS g;
             UPDATE tenants SET members_count = 15600 WHERE id = {tid};
             ANALYZE members",
            tid = tenant.id(),
            big = big.id,
            other = other.id,
            north = north.id,
            south = south.id,
            far = far.id,
            statuses = statuses
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            count = statuses.len(),
        ))
        .await
        .unwrap();
    let expected = |condition: &str| {
        let sql = format!(
            "SELECT id FROM members WHERE tenant_id = {} AND archived_at IS NULL AND {condition}
             ORDER BY last_name, first_name, id",
            tenant.id()
        );
        let db = app.owner_db().clone();
        async move {
            db.query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql,
            ))
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.try_get_by_index::<i32>(0).unwrap())
            .collect::<Vec<i32>>()
        }
    };
    let ids = |filter: MemberFilter| {
        let tenant = &tenant;
        async move {
            let mut seen = vec![];
            let mut after = None;
            loop {
                let roll = Member::roll(tenant, &filter, Sort::Name, after.as_ref(), 700)
                    .await
                    .unwrap();
                assert!(
                    matches!(roll.total, Total::About(_)),
                    "estimated past 10,000, so walked: {:?}",
                    roll.total
                );
                seen.extend(roll.page.members.iter().map(|m| m.id));
                match roll.page.next {
                    Some(next) => after = Some(next),
                    None => return seen,
                }
            }
        }
    };
    let by_employer = ids(MemberFilter {
        employer: Some(big.pid),
        ..MemberFilter::default()
    })
    .await;
    assert_eq!(
        by_employer.len(),
        15_000,
        "every member of the employer once"
    );
    assert_eq!(
        by_employer,
        expected(&format!("employer_id = {}", big.id)).await
    );
    let by_site = ids(MemberFilter {
        worksite: Some(north.pid),
        ..MemberFilter::default()
    })
    .await;
    assert_eq!(by_site.len(), 12_000);
    assert_eq!(
        by_site,
        expected(&format!("worksite_id = {}", north.id)).await
    );
}
