//! People, passwords, single-use tokens and sign-in throttling.
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use unionhall::{
    domain::{Email, LocalName, Password, PersonName, Slug},
    models::{
        _entities::sessions,
        invitations::{self, NewInvitation},
        login_attempts::MAX_FAILURES_PER_EMAIL,
        tenants::{Founder, NewLocal, Tenant},
        user_tokens::{self, Purpose},
        users::{self, NewUser},
        work_items, Error,
    },
};

use crate::support::{unique_email, unique_slug, TestApp, PASSWORD};

#[tokio::test]
async fn passwords_are_stored_as_argon2id_with_owasp_parameters() {
    let app = TestApp::start().await;
    let (_, admin) = app.local_with_admin(&unique_slug("hash")).await;

    assert!(
        admin
            .password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        admin.password_hash
    );
    assert!(!admin.password_hash.contains(PASSWORD));
}

#[tokio::test]
async fn sign_in_accepts_any_case_of_the_email_and_refuses_a_wrong_password() {
    let app = TestApp::start().await;
    let (_, admin) = app.local_with_admin(&unique_slug("case")).await;

    let ok = users::Model::authenticate(
        &app.ctx.db,
        &admin.email.to_uppercase(),
        PASSWORD,
        "10.0.0.1",
    )
    .await;
    let wrong =
        users::Model::authenticate(&app.ctx.db, &admin.email, "not the password", "10.0.0.1").await;
    let unknown =
        users::Model::authenticate(&app.ctx.db, "nobody@example.org", PASSWORD, "10.0.0.1").await;

    assert_eq!(ok.unwrap().id, admin.id);
    let (Err(Error::Invalid(wrong)), Err(Error::Invalid(unknown))) = (wrong, unknown) else {
        panic!("expected refusals")
    };
    assert_eq!(
        wrong, unknown,
        "a wrong password and an unknown email answer alike"
    );
}

#[tokio::test]
async fn repeated_failures_for_one_email_are_throttled_even_with_the_right_password() {
    let app = TestApp::start().await;
    let (_, admin) = app.local_with_admin(&unique_slug("thr")).await;
    for attempt in 0..MAX_FAILURES_PER_EMAIL {
        let ip = format!("10.0.1.{attempt}");
        assert!(matches!(
            users::Model::authenticate(&app.ctx.db, &admin.email, "guess", &ip).await,
            Err(Error::Invalid(_))
        ));
    }

    let next = users::Model::authenticate(&app.ctx.db, &admin.email, PASSWORD, "10.0.2.1").await;

    assert!(
        matches!(next, Err(Error::Throttled(wait)) if wait > 0 && wait <= 15 * 60),
        "{next:?}"
    );
}

#[tokio::test]
async fn one_client_address_guessing_many_emails_is_throttled() {
    let app = TestApp::start().await;
    app.local_with_admin(&unique_slug("ip")).await;
    for n in 0..unionhall::models::login_attempts::MAX_FAILURES_PER_CLIENT {
        let _ = users::Model::authenticate(
            &app.ctx.db,
            &format!("guess{n}@example.org"),
            "guess",
            "10.9.9.9",
        )
        .await;
    }

    let next =
        users::Model::authenticate(&app.ctx.db, "another@example.org", "guess", "10.9.9.9").await;

    assert!(matches!(next, Err(Error::Throttled(_))));
}

#[tokio::test]
async fn a_reset_token_works_once_and_a_newer_one_replaces_it() {
    let app = TestApp::start().await;
    let (_, admin) = app.local_with_admin(&unique_slug("tok")).await;
    let first = user_tokens::issue(&app.ctx.db, &admin, Purpose::PasswordReset)
        .await
        .unwrap();
    let second = user_tokens::issue(&app.ctx.db, &admin, Purpose::PasswordReset)
        .await
        .unwrap();

    let old = user_tokens::consume(&app.ctx.db, first.as_str(), Purpose::PasswordReset).await;
    let used = user_tokens::consume(&app.ctx.db, second.as_str(), Purpose::PasswordReset).await;
    let reused = user_tokens::consume(&app.ctx.db, second.as_str(), Purpose::PasswordReset).await;
    let other_purpose = user_tokens::issue(&app.ctx.db, &admin, Purpose::EmailVerification)
        .await
        .unwrap();
    let crossed =
        user_tokens::consume(&app.ctx.db, other_purpose.as_str(), Purpose::PasswordReset).await;

    assert!(matches!(old, Err(Error::NotFound)));
    assert_eq!(used.unwrap().id, admin.id);
    assert!(matches!(reused, Err(Error::NotFound)));
    assert!(matches!(crossed, Err(Error::NotFound)));
}

#[tokio::test]
async fn a_new_password_ends_every_session_of_its_owner() {
    let app = TestApp::start().await;
    let (_, admin) = app.local_with_admin(&unique_slug("pw")).await;
    let mut client = app.client();
    assert_eq!(
        client.sign_in(&admin.email, PASSWORD).await.status_code(),
        303
    );
    let admin_id = admin.id;
    let count = || {
        sessions::Entity::find()
            .filter(sessions::Column::UserId.eq(admin_id))
            .count(&app.ctx.db)
    };
    assert_eq!(count().await.unwrap(), 1);

    let admin = admin
        .set_password(
            &app.ctx.db,
            &Password::parse("a brand new password").unwrap(),
        )
        .await
        .unwrap();

    assert_eq!(count().await.unwrap(), 0);
    assert!(admin.has_password("a brand new password").await);
    assert_eq!(
        client.get("/locals").await.status_code(),
        303,
        "the old session is signed out"
    );
}

#[tokio::test]
async fn an_expired_reset_token_no_longer_works() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let app = TestApp::start().await;
    let (_, admin) = app.local_with_admin(&unique_slug("old")).await;
    let token = user_tokens::issue(&app.ctx.db, &admin, Purpose::PasswordReset)
        .await
        .unwrap();
    let row = user_tokens::Entity::find()
        .filter(user_tokens::user_tokens::Column::TokenHash.eq(token.digest()))
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    let mut row: user_tokens::ActiveModel = row.into();
    row.expires_at = Set((chrono::Utc::now() - chrono::Duration::seconds(1)).into());
    row.update(&app.ctx.db).await.unwrap();

    let result = user_tokens::consume(&app.ctx.db, token.as_str(), Purpose::PasswordReset).await;

    assert!(matches!(result, Err(Error::NotFound)));
}

#[tokio::test]
async fn pruning_deletes_spent_tokens_and_expired_sessions_but_keeps_live_ones() {
    let app = TestApp::start().await;
    let (_, admin) = app.local_with_admin(&unique_slug("prune")).await;
    let live = user_tokens::issue(&app.ctx.db, &admin, Purpose::EmailVerification)
        .await
        .unwrap();
    let spent = user_tokens::issue(&app.ctx.db, &admin, Purpose::PasswordReset)
        .await
        .unwrap();
    user_tokens::consume(&app.ctx.db, spent.as_str(), Purpose::PasswordReset)
        .await
        .unwrap();
    let mut browser = app.client();
    browser.sign_in(&admin.email, PASSWORD).await;

    let pruned = user_tokens::delete_spent(&app.ctx.db).await.unwrap();
    let sessions_pruned = unionhall::models::sessions::delete_expired(&app.ctx.db)
        .await
        .unwrap();

    assert_eq!(pruned, 1);
    assert_eq!(sessions_pruned, 0, "a live session stays");
    assert!(
        user_tokens::peek(&app.ctx.db, live.as_str(), Purpose::EmailVerification)
            .await
            .is_ok()
    );
}

/// The `AccountMail` work items whose arguments name `kind` and contain `needle`.
async fn account_mail(app: &TestApp, kind: &str, needle: &str) -> Vec<work_items::Model> {
    work_items::Entity::find()
        .filter(work_items::Column::Kind.eq("AccountMail"))
        .filter(work_items::Column::Args.contains(format!("\"kind\":\"{kind}\"")))
        .filter(work_items::Column::Args.contains(needle))
        .all(app.owner_db())
        .await
        .unwrap()
}

#[tokio::test]
async fn account_mail_is_recorded_by_the_change_that_needs_it_and_only_when_it_happens() {
    let app = TestApp::start().await;

    // Registering with an unproven address records its confirmation mail
    // in the registration's transaction; a proven one records none.
    let new_founder = NewUser {
        name: PersonName::parse("Nell Founder").unwrap(),
        email: Email::parse(&unique_email("founder")).unwrap(),
        password: Password::parse(PASSWORD).unwrap(),
        email_verified: false,
    };
    let local = NewLocal {
        name: LocalName::parse("Local Outbox").unwrap(),
        slug: Slug::parse(&unique_slug("mail")).unwrap(),
    };
    let (tenant, founder) = Tenant::register(&app.ctx.db, local, Founder::New(new_founder))
        .await
        .unwrap();
    let user_id = format!("\"user_id\":{}", founder.id);
    assert_eq!(
        account_mail(&app, "email_verification", &user_id)
            .await
            .len(),
        1
    );
    let (_, verified_admin) = app.local_with_admin(&unique_slug("mailv")).await;
    let verified_id = format!("\"user_id\":{}", verified_admin.id);
    assert!(account_mail(&app, "email_verification", &verified_id)
        .await
        .is_empty());
    assert!(!verified_admin
        .request_email_verification(&app.ctx.db)
        .await
        .unwrap());
    assert!(account_mail(&app, "email_verification", &verified_id)
        .await
        .is_empty());
    assert!(founder
        .request_email_verification(&app.ctx.db)
        .await
        .unwrap());
    assert_eq!(
        account_mail(&app, "email_verification", &user_id)
            .await
            .len(),
        2
    );

    // An invitation refused (the person is in the local already) records
    // no mail; one made records exactly its own.
    let local_id = format!("\"local_id\":{}", tenant.id());
    let admin_role = unionhall::models::roles::Model::list(&tenant)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.role.name == "Admin")
        .expect("the admin role")
        .role;
    let refused = invitations::Model::create(
        &tenant,
        NewInvitation {
            email: Email::parse(&founder.email).unwrap(),
            role_pid: Some(admin_role.pid),
        },
    )
    .await;
    assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
    assert!(account_mail(&app, "invitation", &local_id).await.is_empty());
    let (invitation, _) = invitations::Model::create(
        &tenant,
        NewInvitation {
            email: Email::parse(&unique_email("invitee")).unwrap(),
            role_pid: Some(admin_role.pid),
        },
    )
    .await
    .unwrap();
    let recorded = account_mail(&app, "invitation", &local_id).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].local_id, Some(tenant.id()));
    assert!(recorded[0]
        .args
        .contains(&format!("\"invitation_id\":{}", invitation.id)));

    // A reset for an address nobody has records nothing; for a person, one.
    let before = work_items::Entity::find()
        .filter(work_items::Column::Kind.eq("AccountMail"))
        .count(app.owner_db())
        .await
        .unwrap();
    users::Model::request_password_reset(
        &app.ctx.db,
        &Email::parse(&unique_email("nobody")).unwrap(),
    )
    .await
    .unwrap();
    let after = work_items::Entity::find()
        .filter(work_items::Column::Kind.eq("AccountMail"))
        .count(app.owner_db())
        .await
        .unwrap();
    assert_eq!(before, after);
    users::Model::request_password_reset(&app.ctx.db, &Email::parse(&founder.email).unwrap())
        .await
        .unwrap();
    assert_eq!(
        account_mail(&app, "password_reset", &user_id).await.len(),
        1
    );
}
