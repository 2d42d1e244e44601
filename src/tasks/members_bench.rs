//! `cargo loco task members_bench [seconds:10] [concurrency:16] [big:1000000]
//! [locals:100] [each:10000] [import:1000000] [keep_import:no]`: the members benchmark (issue 5). On
//! PostgreSQL it seeds one local with `big` members plus `locals` locals with
//! `each`, starts this binary's web server, signs in as the big local's admin
//! and drives it over HTTP at `concurrency` for `seconds` per scenario (first
//! list page, search by partial last name, filtered page, deep keyset page,
//! member page), printing p50/p95/p99 and requests/s. Then it imports an
//! `import`-row CSV into a new local (the import job's code, in process) and
//! exports the big local over HTTP, printing rows/s. Run it from a release
//! build: `bin/bench-members`. It prints figures; it asserts nothing.
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use axum::body::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};
use loco_rs::prelude::*;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::{
    domain::{Email, LocalName, Password, PersonName, Slug, UnitName},
    models::{
        bargaining_units, employers,
        member_imports::{self, Mapping, Model as Import, OnDuplicate},
        members::After,
        membership_statuses,
        tenants::{Founder, NewLocal, Tenant},
        users::{self, NewUser},
        worksites,
    },
};

pub struct MembersBench;

const PASSWORD: &str = "bench-password-2026";
const FIRST: [&str; 40] = [
    "Maria",
    "James",
    "Linda",
    "Robert",
    "Patricia",
    "Michael",
    "Jennifer",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Daniel",
    "Nancy",
    "Jose",
    "Lisa",
    "Luis",
    "Betty",
    "Kevin",
    "Sandra",
    "Brian",
    "Ashley",
    "Juan",
    "Kimberly",
    "Anthony",
    "Donna",
    "Ana",
    "Emily",
    "Mark",
    "Michelle",
    "Paul",
    "Rosa",
    "Steven",
];
/// Surname parts: most members get a composed surname (18,000 of them), so
/// a partial last name matches as selectively as on a real roll; 15 % get
/// one of the common surnames below (0.25 % of the roll each).
const SYLLABLE_A: [&str; 30] = [
    "Bar", "Kel", "Mor", "Dan", "Fel", "Har", "Lin", "Mar", "Nor", "Ost", "Pel", "Ros", "Sal",
    "Tor", "Val", "Wes", "Ald", "Bren", "Cor", "Dun", "Ell", "Gar", "Hol", "Ing", "Jor", "Kas",
    "Lor", "Mel", "Nad", "Orv",
];
const SYLLABLE_B: [&str; 30] = [
    "a", "e", "i", "o", "u", "an", "en", "in", "on", "ar", "er", "ir", "or", "ul", "al", "el",
    "il", "ol", "ey", "ay", "ow", "aw", "ith", "eth", "ath", "und", "ond", "and", "est", "ast",
];
const SYLLABLE_C: [&str; 20] = [
    "son", "ski", "ez", "ton", "berg", "field", "man", "ley", "well", "wood", "stein", "ford",
    "ini", "ova", "ic", "es", "sen", "ard", "ing", "ick",
];
const LAST: [&str; 60] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Kowalski",
    "Okafor",
    "Haddad",
    "Tanaka",
    "Murphy",
    "Obrien",
    "Schmidt",
    "Rossi",
    "Dubois",
    "Novak",
];

fn arg(vars: &task::Vars, name: &str, default: usize) -> Result<usize> {
    match vars.cli_arg(name) {
        Ok(v) => v
            .parse()
            .map_err(|_| Error::string(&format!("{name}: expected a number, got {v}"))),
        Err(_) => Ok(default),
    }
}

fn fail(e: impl std::fmt::Display) -> Error {
    Error::string(&e.to_string())
}

fn sql_array(values: &[i32]) -> String {
    format!(
        "(ARRAY[{}]::int[])",
        values
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    )
}

fn text_array(values: &[&str]) -> String {
    format!(
        "(ARRAY[{}]::text[])",
        values
            .iter()
            .map(|v| format!("'{v}'"))
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// A local with 5 employers × 4 worksites and 3 units; returns it and the
/// ids the seeding SQL spreads members over.
async fn local_with_structure(
    db: &DatabaseConnection,
    admin: &users::Model,
    slug: &str,
) -> Result<(Tenant, Vec<i32>, Vec<i32>, Vec<i32>, Vec<i32>)> {
    let local = NewLocal {
        name: LocalName::parse(&format!("Bench {slug}")).map_err(fail)?,
        slug: Slug::parse(slug).map_err(fail)?,
    };
    let (tenant, _) = Tenant::register(db, local, Founder::Existing(admin.clone()))
        .await
        .map_err(fail)?;
    let name = |n: String| UnitName::parse(&n).map_err(fail);
    let (mut sites, mut site_employers, mut units) = (vec![], vec![], vec![]);
    for e in 0..5 {
        let employer = employers::Model::create(&tenant, &name(format!("Employer {e}"))?)
            .await
            .map_err(fail)?;
        for w in 0..4 {
            let site =
                worksites::Model::create(&tenant, employer.pid, &name(format!("Site {e}-{w}"))?)
                    .await
                    .map_err(fail)?;
            sites.push(site.id);
            site_employers.push(employer.id);
        }
    }
    for u in ["Nurses", "Technicians", "Clerical"] {
        units.push(
            bargaining_units::Model::create(&tenant, &name(u.into())?)
                .await
                .map_err(fail)?
                .id,
        );
    }
    let txn = tenant.begin().await.map_err(fail)?;
    let statuses: Vec<i32> = membership_statuses::list(&txn)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|s| s.id)
        .collect();
    txn.commit().await.map_err(fail)?;
    Ok((tenant, sites, site_employers, units, statuses))
}

/// `count` members for a local in one INSERT … SELECT (as the connecting
/// superuser, so row-level security does not apply to the seeding).
async fn seed_members(
    db: &DatabaseConnection,
    tenant_id: i32,
    count: usize,
    ids: (&[i32], &[i32], &[i32], &[i32]),
) -> Result<()> {
    let (sites, site_employers, units, statuses) = ids;
    // Mostly Active; the rest spread over the other statuses.
    let sql = format!(
        "INSERT INTO members (pid, tenant_id, first_name, last_name, email, phone, employee_number,
            employer_id, worksite_id, bargaining_unit_id, status_id, join_date, email_opt_in, sms_opt_in,
            search, created_at, updated_at)
         SELECT gen_random_uuid(), {tenant_id}, f, l, e, p, n, {emp}[1 + g % 20], {ws}[1 + g % 20],
            {un}[1 + g % 3], CASE WHEN g % 10 < 6 THEN {st}[1] ELSE {st}[1 + g % 6] END,
            DATE '1985-01-01' + (g * 37 % 14000), true, g % 3 = 0,
            lower(f || ' ' || l || ' ' || e || ' ' || substr(p, 2) || ' ' || n), now(), now()
         FROM (SELECT g,
                 {first}[1 + g % 40] AS f,
                 {surname} AS l,
                 lower({first}[1 + g % 40] || '.' || {surname} || g || '@example.org') AS e,
                 '+1555' || lpad((g % 10000000)::text, 7, '0') AS p,
                 'E' || {tenant_id} || '-' || g AS n
               FROM generate_series(1, {count}) AS g) AS s",
        emp = sql_array(site_employers),
        ws = sql_array(sites),
        un = sql_array(units),
        st = sql_array(statuses),
        first = text_array(&FIRST),
        surname = format!(
            "CASE WHEN g % 100 < 15 THEN {}[1 + (g * 7) % 60] ELSE {}[1 + g % 30] || {}[1 + (g / 30) % 30] || {}[1 + (g / 900) % 20] END",
            text_array(&LAST),
            text_array(&SYLLABLE_A),
            text_array(&SYLLABLE_B),
            text_array(&SYLLABLE_C)
        ),
    );
    db.execute_unprepared(&sql)
        .await
        .map_err(|e| Error::string(&format!("{e}\n{sql}")))?;
    Ok(())
}

/// Latencies of one scenario.
struct Stats {
    latencies: Vec<Duration>,
    errors: usize,
    elapsed: Duration,
}

impl Stats {
    fn print(&self, name: &str) {
        let mut l = self.latencies.clone();
        l.sort();
        let pct = |p: f64| {
            l.get(((l.len() as f64 * p).ceil() as usize).saturating_sub(1))
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        println!(
            "{name:<28} {:>8} req  {:>8.0} req/s  p50 {:>6.1} ms  p95 {:>6.1} ms  p99 {:>6.1} ms  errors {}",
            l.len(),
            l.len() as f64 / self.elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.95),
            pct(0.99),
            self.errors
        );
    }
}

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// `concurrency` workers GET the URLs in turn for `seconds`, over keep-alive connections.
async fn drive(
    client: &HttpClient,
    base: &str,
    cookie: &str,
    urls: Vec<String>,
    concurrency: usize,
    seconds: u64,
) -> Stats {
    let urls = Arc::new(urls);
    let next = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new((Vec::new(), 0usize)));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut workers = vec![];
    for _ in 0..concurrency {
        let (client, urls, next, results) =
            (client.clone(), urls.clone(), next.clone(), results.clone());
        let (base, cookie) = (base.to_string(), cookie.to_string());
        workers.push(tokio::spawn(async move {
            let (mut mine, mut errors) = (Vec::new(), 0);
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed) % urls.len();
                let request = axum::http::Request::get(format!("{base}{}", urls[i]))
                    .header("cookie", &cookie)
                    .body(Empty::<Bytes>::new())
                    .expect("request");
                let t = Instant::now();
                match client.request(request).await {
                    Ok(response) => {
                        let ok = response.status().is_success();
                        let body = response.into_body().collect().await;
                        if ok && body.is_ok() {
                            mine.push(t.elapsed());
                        } else {
                            errors += 1;
                        }
                    }
                    Err(_) => errors += 1,
                }
            }
            let mut r = results.lock().expect("results");
            r.0.extend(mine);
            r.1 += errors;
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let (latencies, errors) = std::mem::take(&mut *results.lock().expect("results"));
    Stats {
        latencies,
        errors,
        elapsed: start.elapsed(),
    }
}

/// Signs in through the form (CSRF token and cookies as a browser would).
async fn sign_in(base: &str, email: &str) -> Result<String> {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut jar: HashMap<String, String> = HashMap::new();
    let keep = |jar: &mut HashMap<String, String>, headers: &axum::http::HeaderMap| {
        for value in headers.get_all("set-cookie") {
            if let Some((pair, _)) = value.to_str().unwrap_or_default().split_once(';') {
                if let Some((k, v)) = pair.split_once('=') {
                    jar.insert(k.trim().to_string(), v.to_string());
                }
            }
        }
    };
    let header = |jar: &HashMap<String, String>| {
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let page = client
        .request(
            axum::http::Request::get(format!("{base}/session/new"))
                .body(Full::new(Bytes::new()))
                .map_err(fail)?,
        )
        .await
        .map_err(fail)?;
    keep(&mut jar, page.headers());
    let html = String::from_utf8_lossy(&page.into_body().collect().await.map_err(fail)?.to_bytes())
        .to_string();
    let token = html
        .split("name=\"authenticity_token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or_else(|| Error::string("no CSRF token on the sign-in page"))?
        .replace("&#43;", "+")
        .replace("&#x2B;", "+")
        .replace("&#61;", "=")
        .replace("&#x3D;", "=")
        .replace("&#47;", "/")
        .replace("&#x2F;", "/");
    let form = serde_html_form::to_string([
        ("email", email),
        ("password", PASSWORD),
        ("authenticity_token", token.as_str()),
    ])
    .map_err(fail)?;
    let response = client
        .request(
            axum::http::Request::post(format!("{base}/session"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", header(&jar))
                .body(Full::new(Bytes::from(form)))
                .map_err(fail)?,
        )
        .await
        .map_err(fail)?;
    if !response.status().is_redirection() {
        return Err(Error::string(&format!(
            "sign-in failed: {}",
            response.status()
        )));
    }
    keep(&mut jar, response.headers());
    Ok(header(&jar))
}

const ADMIN_EMAIL: &str = "bench-admin@example.org";
const BIG_SLUG: &str = "bench-big";

/// The admin and the big local of a database seeded by an earlier run (kept
/// with `BENCH_PGDATA`), so a run can measure again without seeding.
async fn reuse(db: &DatabaseConnection) -> Result<Option<(users::Model, Tenant)>> {
    let Ok(admin) =
        users::Model::find_by_email(db, &Email::parse(ADMIN_EMAIL).map_err(fail)?).await
    else {
        return Ok(None);
    };
    match Tenant::enter(db, admin.id, BIG_SLUG).await {
        Ok(local) => Ok(Some((admin, local))),
        Err(_) => Ok(None),
    }
}

/// Seeds the big local and the small ones; returns the admin of them all
/// and the big local.
async fn seed(
    db: &DatabaseConnection,
    big: usize,
    locals: usize,
    each: usize,
) -> Result<(users::Model, Tenant)> {
    let admin = users::Model::create(
        db,
        NewUser {
            name: PersonName::parse("Bench Admin").map_err(fail)?,
            email: Email::parse(ADMIN_EMAIL).map_err(fail)?,
            password: Password::parse(PASSWORD).map_err(fail)?,
            email_verified: true,
        },
    )
    .await
    .map_err(fail)?;
    println!("== seeding: 1 local × {big} members + {locals} locals × {each}");
    let t = Instant::now();
    // The search indexes are built once after the rows are in (much faster
    // than row by row); the words themselves come from the insert trigger.
    db.execute_unprepared(
        "DROP INDEX IF EXISTS ix_members_search_trgm; DROP INDEX IF EXISTS ix_member_words",
    )
    .await
    .map_err(fail)?;
    let (big_local, s, e, u, st) = local_with_structure(db, &admin, BIG_SLUG).await?;
    seed_members(db, big_local.id(), big, (&s, &e, &u, &st)).await?;
    for i in 0..locals {
        let (local, s, e, u, st) =
            local_with_structure(db, &admin, &format!("bench-{i:03}")).await?;
        seed_members(db, local.id(), each, (&s, &e, &u, &st)).await?;
    }
    println!("   members inserted in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    for sql in [
        "CREATE INDEX ix_members_search_trgm ON members USING gin (tenant_id, search gin_trgm_ops)",
        "CREATE INDEX ix_member_words ON member_words (tenant_id, word, last_name, first_name, member_id)",
        "INSERT INTO member_status_changes (tenant_id, member_id, to_status_id, changed_on, created_at)
         SELECT tenant_id, id, status_id, COALESCE(join_date, CURRENT_DATE), now() FROM members",
        "UPDATE tenants SET members_count = c.n FROM (SELECT tenant_id, count(*) AS n FROM members
         WHERE archived_at IS NULL GROUP BY tenant_id) c WHERE c.tenant_id = tenants.id",
        // As a roll at rest is: statistics, and pages marked all-visible
        // (index-only scans) by the vacuum autovacuum would run.
        "VACUUM ANALYZE",
    ] {
        db.execute_unprepared(sql).await.map_err(fail)?;
    }
    println!(
        "   indexes, history and statistics in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    Ok((admin, big_local))
}

async fn rows(db: &DatabaseConnection, sql: &str) -> Result<Vec<sea_orm::QueryResult>> {
    db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql.to_string()))
        .await
        .map_err(fail)
}

#[async_trait]
impl Task for MembersBench {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "members_bench".to_string(),
            detail: "Members benchmark: seeds PostgreSQL, drives the web server over HTTP, imports and exports (prints figures)".to_string(),
        }
    }

    #[allow(clippy::too_many_lines)]
    async fn run(&self, ctx: &AppContext, vars: &task::Vars) -> Result<()> {
        let seconds = arg(vars, "seconds", 10)? as u64;
        let concurrency = arg(vars, "concurrency", 16)?;
        let big = arg(vars, "big", 1_000_000)?;
        let locals = arg(vars, "locals", 100)?;
        let each = arg(vars, "each", 10_000)?;
        let import_rows = arg(vars, "import", 1_000_000)?;
        let port = arg(vars, "port", 5191)?;
        let db = &ctx.db;
        if db.get_database_backend() != DbBackend::Postgres {
            return Err(Error::string("the members benchmark runs on PostgreSQL"));
        }
        let phases = vars
            .cli_arg("phases")
            .unwrap_or("http,export,import")
            .to_string();
        let (admin, big_local) = match reuse(db).await? {
            Some(seeded) => {
                println!("== reusing the seeded benchmark database");
                seeded
            }
            None => seed(db, big, locals, each).await?,
        };
        let slug = big_local.slug().to_string();
        let tid = big_local.id();
        let pids: Vec<String> = rows(db, &format!("SELECT pid::text AS p FROM members WHERE tenant_id = {tid} ORDER BY random() LIMIT 2000"))
            .await?
            .into_iter()
            .filter_map(|r| r.try_get::<String>("", "p").ok())
            .collect();
        // What staff type: the first letters of members' own last names
        // (20 of them, drawn from the roll, so every search finds someone).
        let searches: Vec<String> = rows(
            db,
            &format!(
                "SELECT DISTINCT lower(substr(last_name, 1, 4 + (id % 2))) AS q FROM
                 (SELECT id, last_name FROM members WHERE tenant_id = {tid} ORDER BY random() LIMIT 20) m"
            ),
        )
        .await?
        .into_iter()
        .filter_map(|r| r.try_get::<String>("", "q").ok())
        .collect();
        let step = (big / 40).max(1);
        let deep: Vec<String> = rows(
            db,
            &format!(
                "SELECT last_name, first_name, join_date, status_id, id FROM (SELECT *, row_number() OVER
                 (ORDER BY last_name, first_name, id) AS rn FROM members WHERE tenant_id = {tid} AND archived_at IS NULL) m
                 WHERE rn % {step} = 0 AND rn > {}",
                big / 4
            ),
        )
        .await?
        .into_iter()
        .filter_map(|r| {
            Some(
                After {
                    last_name: r.try_get("", "last_name").ok()?,
                    first_name: r.try_get("", "first_name").ok()?,
                    join_date: r.try_get("", "join_date").ok()?,
                    status_id: r.try_get("", "status_id").ok()?,
                    id: r.try_get("", "id").ok()?,
                    word: None,
                }
                .encode(),
            )
        })
        .collect();
        let directory = crate::models::structure::Directory::load(&big_local)
            .await
            .map_err(fail)?;
        let status_pids: Vec<String> = directory
            .statuses
            .iter()
            .map(|s| s.pid.to_string())
            .collect();
        let site_pids: Vec<String> = directory
            .worksites
            .iter()
            .map(|w| w.pid.to_string())
            .collect();
        // One employer, worksite or unit alone: the filters without a name
        // order index of their own since migration 18.
        let one_place: Vec<String> = directory
            .employers
            .iter()
            .map(|e| format!("employer={}", e.pid))
            .chain(site_pids.iter().map(|w| format!("worksite={w}")))
            .chain(
                directory
                    .units
                    .iter()
                    .map(|u| format!("bargaining_unit={}", u.pid)),
            )
            .collect();
        // Each filter alone and each kind of pair (status + worksite is the
        // "filtered list page" above), every status but the commonest.
        let by_status: Vec<String> = status_pids.iter().map(|s| format!("status={s}")).collect();
        let by_employer: Vec<String> = directory
            .employers
            .iter()
            .map(|e| format!("employer={}", e.pid))
            .collect();
        let by_site: Vec<String> = site_pids.iter().map(|w| format!("worksite={w}")).collect();
        let by_unit: Vec<String> = directory
            .units
            .iter()
            .map(|u| format!("bargaining_unit={}", u.pid))
            .collect();
        let rare_status = &by_status[1.min(by_status.len())..];
        let pair = |a: &[String], b: &[String]| -> Vec<String> {
            a.iter()
                .flat_map(|x| b.iter().map(move |y| format!("{x}&{y}")))
                .collect()
        };
        let own_sites: Vec<String> = directory
            .worksites
            .iter()
            .filter_map(|w| {
                let e = directory.employers.iter().find(|e| e.id == w.employer_id)?;
                Some(format!("employer={}&worksite={}", e.pid, w.pid))
            })
            .collect();
        let urls = |queries: &[String]| -> Vec<String> {
            queries
                .iter()
                .map(|q| format!("/l/{slug}/members?{q}"))
                .collect()
        };

        // BENCH_SERVER_EXE (and BENCH_SERVER_DIR, its working directory)
        // drive another build's server with these same scenarios, so two
        // commits are compared by one load generator on one database.
        let exe = match std::env::var_os("BENCH_SERVER_EXE") {
            Some(other) => std::path::PathBuf::from(other),
            None => std::env::current_exe().map_err(fail)?,
        };
        let dir = std::env::var_os("BENCH_SERVER_DIR")
            .map_or_else(std::env::current_dir, |d| Ok(d.into()))
            .map_err(fail)?;
        println!("== starting the web server ({})", exe.display());
        // As deployed: the production configuration (no backtrace capture,
        // which the development one turns on), over plain HTTP on loopback.
        // As deployed: the server connects as a login role that row-level
        // security binds (bin/bench-members makes it), the schema owner
        // being this task's own connection.
        let owner_url = std::env::var("DATABASE_URL").map_err(fail)?;
        let app_url = std::env::var("BENCH_APP_DATABASE_URL").map_err(|_| {
            Error::string(
                "BENCH_APP_DATABASE_URL: the server's login role (bin/bench-members sets it)",
            )
        })?;
        let mut server = tokio::process::Command::new(exe)
            .arg("start")
            .current_dir(dir)
            .env("LOCO_ENV", "production")
            .env("DATABASE_URL", &app_url)
            .env("DATABASE_OWNER_URL", &owner_url)
            .env("SECRET_KEY", "members-benchmark-only-secret-key-0123456789")
            .env("SECURE_COOKIES", "false")
            .env("CLIENT_IP_SOURCE", "ConnectInfo")
            .env("SMTP_ENABLE", "false")
            .env("BASE_URL", format!("http://127.0.0.1:{port}"))
            .env("PORT", port.to_string())
            .env("LOG_LEVEL", "error")
            .env("DB_MAX_CONNECTIONS", "24")
            .env("DB_MIN_CONNECTIONS", "24")
            .env("JOBS_BACKEND", "embedded")
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(fail)?;
        let base = format!("http://127.0.0.1:{port}");
        let client: HttpClient = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(concurrency * 2)
            .build_http();
        let started = Instant::now();
        loop {
            let ping = axum::http::Request::get(format!("{base}/_ping"))
                .body(Empty::<Bytes>::new())
                .map_err(fail)?;
            if client
                .request(ping)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(Error::string("the server did not start"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let cookie = sign_in(&base, &admin.email).await?;

        println!("== HTTP at concurrency {concurrency}, {seconds} s per scenario (local with {big} members)");
        let list = format!("/l/{slug}/members");
        let scenarios: Vec<(&str, Vec<String>)> = vec![
            ("first list page", vec![list.clone()]),
            (
                "search partial last name",
                searches.iter().map(|q| format!("{list}?q={q}")).collect(),
            ),
            (
                "filtered list page",
                status_pids
                    .iter()
                    .skip(1)
                    .flat_map(|s| {
                        let list = &list;
                        site_pids
                            .iter()
                            .take(4)
                            .map(move |w| format!("{list}?status={s}&worksite={w}"))
                    })
                    .collect(),
            ),
            (
                "one employer/site/unit",
                one_place.iter().map(|q| format!("{list}?{q}")).collect(),
            ),
            ("status alone", urls(&by_status)),
            ("employer alone", urls(&by_employer)),
            ("worksite alone", urls(&by_site)),
            ("unit alone", urls(&by_unit)),
            ("status + employer", urls(&pair(rare_status, &by_employer))),
            ("status + unit", urls(&pair(rare_status, &by_unit))),
            ("employer + own worksite", urls(&own_sites)),
            ("employer + unit", urls(&pair(&by_employer, &by_unit))),
            ("worksite + unit", urls(&pair(&by_site, &by_unit))),
            (
                "deep keyset page",
                deep.iter().map(|a| format!("{list}?after={a}")).collect(),
            ),
            (
                "member page",
                pids.iter().map(|p| format!("{list}/{p}")).collect(),
            ),
        ];
        let scenarios: Vec<_> = scenarios
            .into_iter()
            .filter(|_| phases.contains("http"))
            .collect();
        // Warm the server's and the database's caches once.
        for (_, urls) in &scenarios {
            let _ = drive(&client, &base, &cookie, urls.clone(), concurrency, 1).await;
        }
        for (name, urls) in scenarios {
            drive(&client, &base, &cookie, urls, concurrency, seconds)
                .await
                .print(name);
        }

        if phases.contains("export") {
            println!("== export over HTTP (streamed CSV of all {big} members)");
            let t = Instant::now();
            let request = axum::http::Request::get(format!("{base}{list}.csv"))
                .header("cookie", &cookie)
                .body(Empty::<Bytes>::new())
                .map_err(fail)?;
            let mut body = client.request(request).await.map_err(fail)?.into_body();
            let (mut bytes, mut lines) = (0usize, 0usize);
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame.map_err(fail)?.into_data() {
                    bytes += data.len();
                    lines += data.iter().filter(|b| **b == b'\n').count();
                }
            }
            let secs = t.elapsed().as_secs_f64();
            println!(
                "export: {} rows, {:.1} MB in {secs:.1} s = {:.0} rows/s",
                lines.saturating_sub(1),
                bytes as f64 / 1e6,
                lines.saturating_sub(1) as f64 / secs
            );
        }
        let _ = server.kill().await;
        if !phases.contains("import") {
            return Ok(());
        }

        println!("== import of a {import_rows}-row CSV into a new local (the import job's code)");
        let (target, ..) = local_with_structure(
            db,
            &admin,
            &format!(
                "bench-import-{}",
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
        )
        .await?;
        let mut csv = String::with_capacity(import_rows * 80);
        csv.push_str(
            "first_name,last_name,email,phone,employee_number,employer,worksite,status,join_date\n",
        );
        for g in 0..import_rows {
            let (f, l) = (FIRST[g % 40], LAST[(g * 7) % 60]);
            csv.push_str(&format!(
                "{f},{l},{}.{}{g}@example.org,+1556{:07},I-{g},Employer {},Site {}-{},{},{}\n",
                f.to_lowercase(),
                l.to_lowercase(),
                g % 10_000_000,
                (g % 20) / 4,
                (g % 20) / 4,
                g % 4,
                ["Active", "Probationary", "Lapsed"][g % 3],
                format_args!("20{:02}-{:02}-{:02}", g % 25, 1 + g % 12, 1 + g % 28),
            ));
        }
        let data = csv.into_bytes();
        let sniffed =
            member_imports::sniff(&data[..data.len().min(member_imports::CHUNK_BYTES)], false)
                .map_err(fail)?;
        let t = Instant::now();
        let mut chunks = data.chunks(member_imports::CHUNK_BYTES);
        let import = Import::start(
            &target,
            "bench.csv",
            &sniffed,
            chunks.next().unwrap_or_default(),
        )
        .await
        .map_err(fail)?;
        for (i, chunk) in chunks.enumerate() {
            import
                .append(&target, i32::try_from(i + 1).unwrap_or(i32::MAX), chunk)
                .await
                .map_err(fail)?;
        }
        let import = import.uploaded(&target).await.map_err(fail)?;
        let upload = t.elapsed().as_secs_f64();
        let import = Import::configure(
            &target,
            import.pid,
            Mapping::guess(&sniffed.headers),
            OnDuplicate::Skip,
            false,
        )
        .await
        .map_err(fail)?;
        let import = Import::queue(&target, import.pid).await.map_err(fail)?;
        let t = Instant::now();
        let counts = member_imports::run(&target, import.id, Some(admin.id))
            .await
            .map_err(fail)?;
        let secs = t.elapsed().as_secs_f64();
        // The import ran here, in process, instead of by the job that
        // queueing recorded: that work item is done, so no later server's
        // relay sends it and runs the import again.
        db.execute_unprepared(&format!(
            "UPDATE work_items SET state = 'done', sent_at = now(), finished_at = now()
              WHERE local_id = {} AND finished_at IS NULL",
            target.id()
        ))
        .await
        .map_err(fail)?;
        println!(
            "import: {} MB stored in {upload:.1} s; {} rows in {secs:.1} s = {:.0} rows/s (created {}, skipped {}, failed {})",
            data.len() / 1_000_000,
            import_rows,
            import_rows as f64 / secs,
            counts.created,
            counts.skipped,
            counts.failed
        );
        // The import's local goes again, so the kept cluster stays the
        // seeded one and later runs measure the same roll (`keep_import:yes`
        // keeps it). Every table's rows of that local, with triggers and
        // foreign-key checks off for the transaction (the benchmark connects
        // as a superuser): 1M members go in seconds instead of minutes.
        if vars.cli_arg("keep_import").map_or(true, |k| k != "yes") {
            let t = Instant::now();
            let id = target.id();
            db.execute_unprepared(&format!(
                "BEGIN;
                 SET LOCAL session_replication_role = replica;
                 DO $$ DECLARE t text; BEGIN
                   FOR t IN SELECT table_name FROM information_schema.columns
                            WHERE column_name = 'tenant_id' AND table_schema = 'public' LOOP
                     EXECUTE format('DELETE FROM %I WHERE tenant_id = {id}', t);
                   END LOOP;
                 END $$;
                 DELETE FROM work_items WHERE local_id = {id};
                 DELETE FROM tenants WHERE id = {id};
                 COMMIT;"
            ))
            .await
            .map_err(fail)?;
            // Vacuumed now, so autovacuum does not do it during the next
            // run's pages (it halved the search rate of a run that way).
            db.execute_unprepared(
                "VACUUM members, member_words, member_status_changes, audit_events",
            )
            .await
            .map_err(fail)?;
            println!(
                "   (the import's local deleted and vacuumed away in {:.1} s)",
                t.elapsed().as_secs_f64()
            );
        }
        Ok(())
    }
}
