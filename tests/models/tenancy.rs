//! Locals, roles and memberships through the models. Runs on PostgreSQL and,
//! with `DATABASE_URL=sqlite://…`, on SQLite.
use unionhall::{
    domain::{
        permission::ADMIN_ROLE, Email, LocalName, Password, Permission, PermissionSet, PersonName,
        RoleName, Slug,
    },
    models::{
        invitations::{self, Acceptance, NewInvitation},
        memberships::{self, Model as Membership},
        roles::{Model as Role, RoleDefinition},
        tenants::{self, Founder, NewLocal, Tenant},
        users::NewUser,
        Error,
    },
};

use crate::support::{unique_email, unique_slug, TestApp, PASSWORD};

#[tokio::test]
async fn registering_a_local_creates_its_default_roles_and_first_admin() {
    let app = TestApp::start().await;
    let slug = unique_slug("reg");

    let (tenant, _) = app.local_with_admin(&slug).await;

    let roles = Role::list(&tenant).await.unwrap();
    let names: Vec<&str> = roles.iter().map(|r| r.role.name.as_str()).collect();
    assert_eq!(names, ["Admin", "Officer", "Steward", "Member"]);
    assert_eq!(tenant.access().unwrap().role_name(), ADMIN_ROLE);
    assert!(Permission::ALL.iter().all(|p| tenant.can(*p)));
}

#[tokio::test]
async fn a_taken_slug_is_a_field_error_and_creates_nothing() {
    let app = TestApp::start().await;
    let slug = unique_slug("dup");
    app.local_with_admin(&slug).await;
    let email = unique_email("second");

    let result = Tenant::register(
        &app.ctx.db,
        NewLocal {
            name: LocalName::parse("Another").unwrap(),
            slug: Slug::parse(&slug).unwrap(),
        },
        Founder::New(NewUser {
            name: PersonName::parse("Second").unwrap(),
            email: Email::parse(&email).unwrap(),
            password: Password::parse(PASSWORD).unwrap(),
            email_verified: false,
        }),
    )
    .await;

    match result {
        Err(Error::Conflict(errors)) => assert!(errors.get("slug").is_some()),
        other => panic!("expected a slug error, got {other:?}"),
    }
    let nobody =
        unionhall::models::users::Model::find_by_email(&app.ctx.db, &Email::parse(&email).unwrap())
            .await;
    assert!(
        matches!(nobody, Err(Error::NotFound)),
        "the transaction must leave no user behind"
    );
}

#[tokio::test]
async fn only_members_of_a_local_can_enter_it() {
    let app = TestApp::start().await;
    let slug_a = unique_slug("a");
    let (_, _) = app.local_with_admin(&slug_a).await;
    let (_, admin_b) = app.local_with_admin(&unique_slug("b")).await;

    let outsider = Tenant::enter(&app.ctx.db, admin_b.id, &slug_a).await;
    let nowhere = Tenant::enter(&app.ctx.db, admin_b.id, "no-such-local").await;

    assert!(matches!(outsider, Err(Error::NotFound)));
    assert!(matches!(nowhere, Err(Error::NotFound)));
}

#[tokio::test]
async fn a_suspended_local_refuses_its_people_and_reactivation_lets_them_back() {
    let app = TestApp::start().await;
    let slug = unique_slug("susp");
    let (tenant, admin) = app.local_with_admin(&slug).await;

    let local = tenant
        .model()
        .clone()
        .suspend(&app.ctx.db, "unpaid")
        .await
        .unwrap();
    assert!(matches!(
        Tenant::enter(&app.ctx.db, admin.id, &slug).await,
        Err(Error::Suspended(_))
    ));

    local.reactivate(&app.ctx.db).await.unwrap();
    assert!(Tenant::enter(&app.ctx.db, admin.id, &slug).await.is_ok());
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_disabled_or_stripped_of_admin_rights() {
    let app = TestApp::start().await;
    let slug = unique_slug("last");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let roles = Role::list(&tenant).await.unwrap();
    let admin_role = roles
        .iter()
        .find(|r| r.role.name == "Admin")
        .unwrap()
        .role
        .clone();
    let member_role = roles
        .iter()
        .find(|r| r.role.name == "Member")
        .unwrap()
        .role
        .clone();

    let demoted = Membership::change_role(
        &tenant,
        tenant.access().unwrap().membership_pid(),
        Some(member_role.pid),
    )
    .await;
    let disabled = Membership::disable(&tenant, tenant.access().unwrap().membership_pid()).await;
    let stripped = Role::update(
        &tenant,
        admin_role.pid,
        RoleDefinition {
            name: RoleName::parse("Admin").unwrap(),
            permissions: PermissionSet::of(&[Permission::MembersRead]),
        },
    )
    .await;

    for result in [
        demoted.map(|_| ()),
        disabled.map(|_| ()),
        stripped.map(|_| ()),
    ] {
        assert!(
            matches!(result, Err(Error::Conflict(_))),
            "expected a refusal, got {result:?}"
        );
    }
    let still = app.enter(&admin, &slug).await;
    assert_eq!(still.access().unwrap().role_name(), "Admin");
    assert!(still.can(Permission::RolesManage));
}

#[tokio::test]
async fn a_second_admin_makes_demoting_the_first_possible() {
    let app = TestApp::start().await;
    let slug = unique_slug("two");
    let (tenant, _) = app.local_with_admin(&slug).await;
    app.person_with_role(&tenant, "Admin").await;
    let member_role = Role::list(&tenant)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.role.name == "Member")
        .unwrap()
        .role;

    let person = Membership::change_role(
        &tenant,
        tenant.access().unwrap().membership_pid(),
        Some(member_role.pid),
    )
    .await
    .unwrap();

    assert_eq!(person.role.name, "Member");
}

#[tokio::test]
async fn a_role_held_by_people_cannot_be_deleted_and_an_unused_one_can() {
    let app = TestApp::start().await;
    let (tenant, _) = app.local_with_admin(&unique_slug("del")).await;
    let roles = Role::list(&tenant).await.unwrap();
    let admin_role = roles
        .iter()
        .find(|r| r.role.name == "Admin")
        .unwrap()
        .role
        .pid;
    let steward = roles
        .iter()
        .find(|r| r.role.name == "Steward")
        .unwrap()
        .role
        .pid;

    assert!(matches!(
        Role::delete(&tenant, admin_role).await,
        Err(Error::Conflict(_))
    ));
    Role::delete(&tenant, steward).await.unwrap();

    assert_eq!(Role::list(&tenant).await.unwrap().len(), 3);
}

#[tokio::test]
async fn role_names_are_unique_within_a_local_only() {
    let app = TestApp::start().await;
    let (a, _) = app.local_with_admin(&unique_slug("ua")).await;
    let (b, _) = app.local_with_admin(&unique_slug("ub")).await;
    let treasurer = || RoleDefinition {
        name: RoleName::parse("Treasurer").unwrap(),
        permissions: PermissionSet::of(&[Permission::BillingManage]),
    };

    Role::create(&a, treasurer()).await.unwrap();
    let again = Role::create(&a, treasurer()).await;
    let elsewhere = Role::create(&b, treasurer()).await;

    assert!(matches!(again, Err(Error::Conflict(ref e)) if e.get("name").is_some()));
    assert!(elsewhere.is_ok());
}

#[tokio::test]
async fn an_invitation_is_accepted_once_and_makes_a_verified_member() {
    let app = TestApp::start().await;
    let slug = unique_slug("inv");
    let (tenant, _) = app.local_with_admin(&slug).await;
    let steward = Role::list(&tenant)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.role.name == "Steward")
        .unwrap()
        .role;
    let email = unique_email("invitee");
    let (invitation, _) = invitations::Model::create(
        &tenant,
        NewInvitation {
            email: Email::parse(&email).unwrap(),
            role_pid: Some(steward.pid),
        },
    )
    .await
    .unwrap();
    let token = app.invitation_token(&tenant, invitation.id).await;
    let new_account = || Acceptance::NewAccount {
        name: PersonName::parse("Ivy Invitee").unwrap(),
        password: Password::parse(PASSWORD).unwrap(),
    };

    let (joined, user) = invitations::accept(&app.ctx.db, token.as_str(), new_account())
        .await
        .unwrap();
    let again = invitations::accept(&app.ctx.db, token.as_str(), new_account()).await;

    assert_eq!(joined.slug(), slug);
    assert!(user.is_email_verified());
    assert_eq!(
        app.enter(&user, &slug).await.access().unwrap().role_name(),
        "Steward"
    );
    assert!(matches!(again, Err(Error::NotFound)));
}

#[tokio::test]
async fn a_revoked_or_expired_invitation_no_longer_opens() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let app = TestApp::start().await;
    let slug = unique_slug("exp");
    let (tenant, admin) = app.local_with_admin(&slug).await;
    let (revoked, revoked_token) = app.invite(&tenant, &admin, "Officer").await;
    let (expiring, expired_token) = app.invite(&tenant, &admin, "Officer").await;

    invitations::Model::revoke(&tenant, revoked.pid)
        .await
        .unwrap();
    let txn = tenant.begin().await.unwrap();
    let mut row: invitations::ActiveModel = expiring.into();
    row.expires_at = Set((chrono::Utc::now() - chrono::Duration::minutes(1)).into());
    row.update(&txn).await.unwrap();
    txn.commit().await.unwrap();

    assert!(matches!(
        invitations::open(&app.ctx.db, revoked_token.as_str()).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        invitations::open(&app.ctx.db, expired_token.as_str()).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        invitations::open(&app.ctx.db, "not-a-token").await,
        Err(Error::NotFound)
    ));
}

#[tokio::test]
async fn a_person_sees_the_locals_they_belong_to_and_no_others() {
    let app = TestApp::start().await;
    let (a, admin) = app.local_with_admin(&unique_slug("mine")).await;
    app.local_with_admin(&unique_slug("theirs")).await;
    let second_slug = unique_slug("second");
    Tenant::register(
        &app.ctx.db,
        NewLocal {
            name: LocalName::parse("Second").unwrap(),
            slug: Slug::parse(&second_slug).unwrap(),
        },
        Founder::Existing(admin.clone()),
    )
    .await
    .unwrap();

    let locals = memberships::locals_of(&app.ctx.db, admin.id).await.unwrap();

    let mut slugs: Vec<&str> = locals.iter().map(|l| l.slug.as_str()).collect();
    slugs.sort_unstable();
    let mut expected = vec![a.slug(), second_slug.as_str()];
    expected.sort_unstable();
    assert_eq!(slugs, expected);
    assert!(tenants::Model::find_by_slug(&app.ctx.db, &second_slug)
        .await
        .is_ok());
}

/// A local's transaction hands out only its own rows and stamps its own
/// local on what it inserts, on SQLite (the filter) as on PostgreSQL (the
/// filter and row-level security).
#[tokio::test]
async fn a_local_s_transaction_selects_updates_and_inserts_only_in_its_local() {
    use sea_orm::{sea_query::Expr, ActiveValue::Set, ColumnTrait, QueryFilter};
    use unionhall::{domain::UnitName, models::employers};
    let app = TestApp::start().await;
    let (a, _) = app.local_with_admin(&unique_slug("txa")).await;
    let (b, _) = app.local_with_admin(&unique_slug("txb")).await;
    let name = |n: &str| UnitName::parse(n).unwrap();
    let theirs = employers::Model::create(&b, &name("Theirs Inc"))
        .await
        .unwrap();
    employers::Model::create(&a, &name("Ours Inc"))
        .await
        .unwrap();

    let txn = a.begin().await.unwrap();
    assert_eq!(txn.local_id(), a.id());
    let seen: Vec<String> = txn
        .select::<employers::Entity>()
        .all(&txn)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(seen, ["Ours Inc"]);
    let changed = txn
        .update::<employers::Entity>()
        .col_expr(employers::Column::Name, Expr::value("Renamed"))
        .filter(employers::Column::Id.eq(theirs.id))
        .exec(&txn)
        .await
        .unwrap();
    assert_eq!(
        changed.rows_affected, 0,
        "another local's row is not reached"
    );
    let now = chrono::Utc::now().into();
    let added = txn
        .insert(employers::ActiveModel {
            pid: Set(uuid::Uuid::new_v4()),
            name: Set("Stamped Ltd".into()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        added.tenant_id,
        a.id(),
        "the local is stamped on what it inserts"
    );
    let refused = txn
        .insert(employers::ActiveModel {
            pid: Set(uuid::Uuid::new_v4()),
            tenant_id: Set(b.id()),
            name: Set("Smuggled Ltd".into()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .await;
    assert!(refused.is_err(), "a row carrying another local is refused");
    txn.rollback().await.unwrap();
    let txn = b.begin().await.unwrap();
    let b_names: Vec<String> = employers::Model::list(&txn)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(
        b_names,
        ["Theirs Inc"],
        "nothing changed in the other local"
    );
}
