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
        if local.members_count == 0 {
            let admin = ensure_user(db, admin_name, admin_email).await?;
            let count = seed_members(db, admin.id)
                .await
                .map_err(|e| Error::string(&e.to_string()))?;
            println!("Seeded {count} demo members across two employers.");
        }
        println!("\nDemo local: {} at /l/{DEMO_SLUG}", local.name);
        for (role, _, email) in DEMO_USERS {
            println!("  {role:<8} {email}  password: {DEMO_PASSWORD}");
        }
        Ok(())
    }
}

const FIRST: [&str; 24] = [
    "Maria", "James", "Aisha", "Wei", "Carlos", "Fatima", "John", "Priya", "Luis", "Grace",
    "Ahmed", "Olga", "Samuel", "Mei", "Diego", "Hannah", "Kwame", "Sofia", "Ivan", "Rosa", "Tomás",
    "Nadia", "Patrick", "Yuki",
];
const LAST: [&str; 25] = [
    "Garcia",
    "Smith",
    "Okafor",
    "Chen",
    "Rodriguez",
    "Khan",
    "Johnson",
    "Patel",
    "Martinez",
    "O'Brien",
    "Hassan",
    "Novak",
    "Williams",
    "Wong",
    "Hernandez",
    "Schmidt",
    "Mensah",
    "Rossi",
    "Petrov",
    "Lopez",
    "Nguyen",
    "Kowalski",
    "Murphy",
    "Tanaka",
    "Silva",
];

/// A few hundred realistic members across two employers, their worksites and units.
async fn seed_members(db: &DatabaseConnection, admin_id: i32) -> crate::models::Result<usize> {
    use crate::{
        domain::{EmployeeNumber, MemberName, Phone, UnitName},
        models::{bargaining_units, employers, members, membership_statuses, worksites},
    };
    let name = |s: &str| UnitName::parse(s).expect("a valid demo name");
    let tenant = Tenant::enter(db, admin_id, DEMO_SLUG).await?;
    let hospital = employers::Model::create(&tenant, &name("Riverside General Hospital")).await?;
    let transit = employers::Model::create(&tenant, &name("Metro Transit Authority")).await?;
    let sites = [
        worksites::Model::create(&tenant, hospital.pid, &name("Main Campus")).await?,
        worksites::Model::create(&tenant, hospital.pid, &name("Eastside Clinic")).await?,
        worksites::Model::create(&tenant, transit.pid, &name("North Bus Depot")).await?,
        worksites::Model::create(&tenant, transit.pid, &name("Central Rail Yard")).await?,
    ];
    let units = [
        bargaining_units::Model::create(&tenant, &name("Registered Nurses")).await?,
        bargaining_units::Model::create(&tenant, &name("Hospital Support Staff")).await?,
        bargaining_units::Model::create(&tenant, &name("Operators and Mechanics")).await?,
    ];
    let txn = tenant.begin().await?;
    let statuses = membership_statuses::list(&txn).await?;
    txn.commit().await?;
    let mut created = 0;
    for i in 0..320_usize {
        let first = FIRST[(i * 7) % FIRST.len()];
        let last = LAST[(i * 11 + i / 25) % LAST.len()];
        let site = &sites[i % sites.len()];
        let unit = if site.employer_id == hospital.id {
            &units[i % 2]
        } else {
            &units[2]
        };
        // Mostly active; some probationary, lapsed, retired, suspended, resigned.
        let status = match i % 20 {
            0 => &statuses[1],
            1 | 2 => &statuses[3],
            3 => &statuses[4],
            4 => &statuses[2],
            5 => &statuses[5],
            _ => &statuses[0],
        };
        let email = format!(
            "{}.{}{}@example.org",
            first.to_lowercase().replace('á', "a"),
            last.to_lowercase().replace('\'', ""),
            i
        );
        let new = members::NewMember {
            first_name: MemberName::parse(first).expect("name"),
            last_name: MemberName::parse(last).expect("name"),
            email: crate::domain::Email::parse(&email).ok(),
            phone: Phone::parse(&format!("555 01{:02} {:04}", i % 100, 1000 + i), "1").ok(),
            address: crate::domain::Address::parse(&format!(
                "{} {} Street, Riverside",
                10 + i,
                LAST[i % LAST.len()]
            ))
            .ok(),
            employee_number: EmployeeNumber::parse(&format!("E-{:05}", 10_000 + i)).ok(),
            employer: None,
            worksite: Some(site.pid),
            bargaining_unit: Some(unit.pid),
            status: Some(status.pid),
            join_date: chrono::NaiveDate::from_ymd_opt(
                2000 + i32::try_from(i % 25).unwrap_or(0),
                u32::try_from(1 + i % 12).unwrap_or(1),
                u32::try_from(1 + i % 28).unwrap_or(1),
            ),
        };
        members::Model::create(&tenant, new).await?;
        created += 1;
    }
    // The demo Member user has a record of their own, linked for self-service.
    let (_, member_name, member_email) = DEMO_USERS[3];
    let (first, last) = member_name
        .split_once(' ')
        .unwrap_or((member_name, "Member"));
    let own = members::Model::create(
        &tenant,
        members::NewMember {
            first_name: MemberName::parse(first).expect("name"),
            last_name: MemberName::parse(last).expect("name"),
            email: crate::domain::Email::parse(member_email).ok(),
            phone: Phone::parse("555 0199 0001", "1").ok(),
            address: crate::domain::Address::parse("1 Union Square, Riverside").ok(),
            employee_number: EmployeeNumber::parse("E-09999").ok(),
            employer: None,
            worksite: Some(sites[0].pid),
            bargaining_unit: Some(units[1].pid),
            status: None,
            join_date: chrono::NaiveDate::from_ymd_opt(2018, 4, 1),
        },
    )
    .await?;
    members::Model::link_account(&tenant, own.pid).await?;
    Ok(created + 1)
}
