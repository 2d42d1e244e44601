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
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let (_, access) = app.enter(&admin, &slug).await;
    for i in 0..55 {
        Member::create(&tenant, &access, member(&format!("Worker{i:02}"), "Adams"))
            .await
            .unwrap();
    }
    let rosa = Member::create(&tenant, &access, member("Rosa", "Zapata"))
        .await
        .unwrap();
    let officer = app.person_with_role(&tenant, "Officer").await;
    let mut browser = app.client();
    browser.sign_in(&officer.email, PASSWORD).await;

    let first = browser.get(&format!("/l/{slug}/members")).await;
    assert_eq!(first.status_code(), 200);
    let first = first.text();
    assert!(first.contains("56 on the roll"));
    assert!(
        first.contains("Adams, Worker00") && !first.contains("Zapata"),
        "sorted by name, 50 a page"
    );
    let next = first
        .split("href=\"")
        .find(|s| s.contains("after_id="))
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
        .get(&format!("/l/{slug}/members?after_id=abc&status=%%%"))
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
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let (_, access) = app.enter(&admin, &slug).await;
    let m = Member::create(&tenant, &access, member("Joe", "Hill"))
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
    let (_, a_access) = app.enter(&a_admin, a.slug()).await;
    let theirs = Member::create(&a, &a_access, member("Mother", "Jones"))
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
