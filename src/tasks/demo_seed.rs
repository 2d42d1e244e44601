//! `cargo loco task demo_seed`: a demo local with one user per default role.
//! Running it again reuses what exists.
use loco_rs::prelude::*;

use crate::{
    domain::{Email, LocalName, Password, PersonName, Slug},
    models::{
        tenants::{Founder, NewLocal, Tenant},
        users::{self, NewUser},
    },
};

pub struct DemoSeed;

pub const DEMO_SLUG: &str = "local-1234";
pub const DEMO_PASSWORD: &str = "union-demo-2026";
pub const DEMO_USERS: &[(&str, &str, &str)] = &[
    ("Admin", "Alex Admin", "admin@demo.unionhall.localhost"),
    (
        "Officer",
        "Olivia Officer",
        "officer@demo.unionhall.localhost",
    ),
    ("Steward", "Sam Steward", "steward@demo.unionhall.localhost"),
    ("Member", "Maria Member", "member@demo.unionhall.localhost"),
];

fn parsed<T>(value: std::result::Result<T, String>) -> Result<T> {
    value.map_err(|e| Error::string(&e))
}

async fn ensure_user(db: &DatabaseConnection, name: &str, email: &str) -> Result<users::Model> {
    let email = parsed(Email::parse(email))?;
    if let Ok(user) = users::Model::find_by_email(db, &email).await {
        return Ok(user);
    }
    let new_user = NewUser {
        name: parsed(PersonName::parse(name))?,
        email,
        password: parsed(Password::parse(DEMO_PASSWORD))?,
        email_verified: true,
    };
    users::Model::create(db, new_user)
        .await
        .map_err(|e| Error::string(&e.to_string()))
}

#[async_trait]
impl Task for DemoSeed {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "demo_seed".to_string(),
            detail: "Seed the demo local (Brotherhood of Demo Workers, Local 1234) and its users"
                .to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, _vars: &task::Vars) -> Result<()> {
        let db = &ctx.db;
        let (_, admin_name, admin_email) = DEMO_USERS[0];
        let admin = ensure_user(db, admin_name, admin_email).await?;
        if crate::models::tenants::Model::find_by_slug(db, DEMO_SLUG)
            .await
            .is_err()
        {
            let local = NewLocal {
                name: parsed(LocalName::parse("Demo Workers United, Local 1234"))?,
                slug: parsed(Slug::parse(DEMO_SLUG))?,
            };
            Tenant::register(db, local, Founder::Existing(admin))
                .await
                .map_err(|e| Error::string(&e.to_string()))?;
        }
        let local = crate::models::tenants::Model::find_by_slug(db, DEMO_SLUG)
            .await
            .map_err(|e| Error::string(&e.to_string()))?;
        for (role_name, name, email) in &DEMO_USERS[1..] {
            let user = ensure_user(db, name, email).await?;
            crate::models::memberships::seed_membership(db, local.id, user.id, role_name)
                .await
                .map_err(|e| Error::string(&e.to_string()))?;
        }
        println!("\nDemo local: {} at /l/{DEMO_SLUG}", local.name);
        for (role, _, email) in DEMO_USERS {
            println!("  {role:<8} {email}  password: {DEMO_PASSWORD}");
        }
        Ok(())
    }
}
