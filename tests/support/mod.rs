//! Test helpers: a booted app on its own fresh database, browser-like
//! clients that keep cookies and send CSRF tokens, and the SMTP sink.
#![allow(dead_code)]
pub mod smtp;
pub mod workers;

use std::{net::SocketAddr, path::PathBuf};

use axum_test::{TestResponse, TestServer, TestServerConfig};
use loco_rs::{
    app::{AppContext, Hooks},
    boot::StartMode,
    environment::Environment,
};
use sea_orm::{ConnectionTrait, Database, DbBackend};
use unionhall::{
    app::App,
    domain::{Email, LocalName, Password, PersonName, Slug},
    models::{
        tenants::{Founder, NewLocal, Tenant},
        users::{self, NewUser},
    },
};

pub const PASSWORD: &str = "correct horse battery";

/// The login role the suite's app connects as on PostgreSQL.
pub const APP_ROLE: &str = "unionhall_app";

/// A unique, readable email address for this test run.
#[must_use]
pub fn unique_email(who: &str) -> String {
    format!(
        "{who}-{}@example.org",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}

#[must_use]
pub fn unique_slug(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

pub struct TestApp {
    pub ctx: AppContext,
    router: axum::Router,
    postgres: Option<(String, String)>,
    sqlite_dir: Option<PathBuf>,
    /// The app's own database, for worker processes the test starts: as
    /// the restricted login role on PostgreSQL, as in production.
    pub database_url: String,
    /// The schema owner's address (PostgreSQL; empty on SQLite).
    pub owner_url: String,
    /// A connection as the owner (PostgreSQL), for tests that play
    /// "another process" or look beneath row-level security.
    owner: Option<sea_orm::DatabaseConnection>,
    /// The Redis key prefix of this test (Redis backend), deleted at the end.
    pub jobs_namespace: Option<String>,
}

impl TestApp {
    /// Boots the app in the test environment on a database of its own:
    /// a new PostgreSQL database, or a new SQLite file when `DATABASE_URL`
    /// names SQLite. Migrations run at boot.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Boots with a change to the test configuration.
    pub async fn start_with(change: impl FnOnce(&mut loco_rs::config::Config)) -> Self {
        smtp::sink();
        let mut config = App::load_config(&Environment::Test)
            .await
            .expect("test config");
        change(&mut config);
        let uri = config.database.uri.clone();
        let mut postgres = None;
        let mut sqlite_dir = None;
        if uri.starts_with("postgres") {
            let mut url = url::Url::parse(&uri).expect("database url");
            let name = format!("uh_test_{}", uuid::Uuid::new_v4().simple());
            url.set_path("/postgres");
            let root = url.to_string();
            let admin = Database::connect(&root).await.expect("connect to postgres");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin
                .execute_unprepared(&unionhall::database::create_login_role_sql(APP_ROLE))
                .await
                .expect("create the app's login role");
            admin.close().await.ok();
            // As in production: the owner migrates, the app's pool connects
            // as a login role that row-level security binds.
            url.set_path(&format!("/{name}"));
            let owner_url = url.to_string();
            url.set_username(APP_ROLE).expect("database url user");
            config.database.uri = url.to_string();
            if let Some(settings) = config.settings.as_mut() {
                settings["database"] = serde_json::json!({ "owner_url": owner_url });
            }
            postgres = Some((root, name));
        } else {
            let dir =
                std::env::temp_dir().join(format!("uh-test-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            config.database.uri =
                format!("sqlite://{}?mode=rwc", dir.join("test.sqlite").display());
            sqlite_dir = Some(dir);
        }
        let boot = App::boot(StartMode::ServerOnly, &Environment::Test, config)
            .await
            .expect("boot the app");
        // On the embedded backend jobs run in this process, as in the web
        // process of the embedded default; Redis tests start workers themselves.
        let jobs = unionhall::settings::Settings::of(&boot.app_context).jobs;
        let database_url = boot.app_context.config.database.uri.clone();
        let owner_url = unionhall::settings::Settings::of(&boot.app_context)
            .database
            .owner_url;
        let owner = if owner_url.is_empty() {
            None
        } else {
            Some(
                Database::connect(&owner_url)
                    .await
                    .expect("connect as owner"),
            )
        };
        let jobs_namespace = jobs.is_redis().then(|| jobs.namespace.clone());
        if !jobs.is_redis() {
            unionhall::app::start_workers(&boot.app_context)
                .await
                .expect("start workers");
        }
        Self {
            ctx: boot.app_context,
            router: boot.router.expect("router"),
            postgres,
            sqlite_dir,
            database_url,
            owner_url,
            owner,
            jobs_namespace,
        }
    }

    #[must_use]
    pub fn is_postgres(&self) -> bool {
        self.ctx.db.get_database_backend() == DbBackend::Postgres
    }

    /// A new browser: its own cookie jar.
    #[must_use]
    pub fn client(&self) -> Client {
        let config = TestServerConfig {
            save_cookies: true,
            ..TestServerConfig::default()
        };
        let server = TestServer::new_with_config(
            self.router
                .clone()
                .into_make_service_with_connect_info::<SocketAddr>(),
            config,
        )
        .expect("test server");
        Client { server, csrf: None }
    }

    /// Registers a local with a new admin directly through the models.
    pub async fn local_with_admin(&self, slug: &str) -> (Tenant, users::Model) {
        let local = NewLocal {
            name: LocalName::parse(&format!("Local {slug}")).unwrap(),
            slug: Slug::parse(slug).unwrap(),
        };
        let admin = NewUser {
            name: PersonName::parse("Ada Admin").unwrap(),
            email: Email::parse(&unique_email("admin")).unwrap(),
            password: Password::parse(PASSWORD).unwrap(),
            email_verified: true,
        };
        Tenant::register(&self.ctx.db, local, Founder::New(admin))
            .await
            .expect("register local")
    }

    /// A new person holding `role` in the tenant's local.
    pub async fn person_with_role(&self, tenant: &Tenant, role: &str) -> users::Model {
        let user = users::Model::create(
            &self.ctx.db,
            NewUser {
                name: PersonName::parse(&format!("{role} Person")).unwrap(),
                email: Email::parse(&unique_email(&role.to_lowercase())).unwrap(),
                password: Password::parse(PASSWORD).unwrap(),
                email_verified: true,
            },
        )
        .await
        .expect("create user");
        unionhall::models::memberships::seed_membership(&self.ctx.db, tenant.id(), user.id, role)
            .await
            .expect("give role");
        user
    }

    /// A pending invitation of a new address with the named role; returns it and its link secret.
    pub async fn invite(
        &self,
        tenant: &Tenant,
        by: &users::Model,
        role: &str,
    ) -> (
        unionhall::models::invitations::Model,
        unionhall::domain::SecretToken,
    ) {
        let access = self.enter(by, tenant.slug()).await;
        let role = unionhall::models::roles::Model::list(tenant)
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.role.name == role)
            .expect("role exists")
            .role;
        let new = unionhall::models::invitations::NewInvitation {
            email: Email::parse(&unique_email("invitee")).unwrap(),
            role_pid: Some(role.pid),
        };
        let (invitation, _) = unionhall::models::invitations::Model::create(&access, new)
            .await
            .expect("invite");
        let token = self.invitation_token(tenant, invitation.id).await;
        (invitation, token)
    }

    /// The link secret of a pending invitation, as its mail would carry it.
    /// The invitation's mail job issues its own secret when it sends (and
    /// that replaces any earlier one); on the embedded backend it runs in
    /// this process, so this waits for it first. Then it issues a fresh
    /// secret the way the job does.
    pub async fn invitation_token(
        &self,
        tenant: &Tenant,
        invitation_id: i32,
    ) -> unionhall::domain::SecretToken {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        use unionhall::models::work_items;
        if self.jobs_namespace.is_none() {
            let needle = format!("\"invitation_id\":{invitation_id}");
            workers::eventually(
                "the invitation's mail is sent",
                std::time::Duration::from_secs(30),
                || async {
                    work_items::Entity::find()
                        .filter(work_items::Column::Kind.eq("AccountMail"))
                        .filter(work_items::Column::Args.contains(needle.as_str()))
                        .filter(work_items::Column::State.eq(work_items::DONE))
                        .one(self.owner_db())
                        .await
                        .unwrap()
                        .is_some()
                },
            )
            .await;
        }
        unionhall::models::invitations::Model::reissue(tenant, invitation_id)
            .await
            .expect("reissue")
            .expect("the invitation is pending")
            .2
    }

    /// A personal API token of `user` in the tenant's local; returns its secret.
    pub async fn token(&self, tenant: &Tenant, user: &users::Model) -> String {
        let access = self.enter(user, tenant.slug()).await;
        let new = unionhall::models::api_tokens::NewToken {
            name: unionhall::domain::TokenName::parse("test script").unwrap(),
            expires_in_days: None,
        };
        unionhall::models::api_tokens::Model::create(&access, new)
            .await
            .expect("token")
            .1
    }

    /// A connection as the database's owner, outside the app's models and
    /// their row-level security: for tests that play "another process" or
    /// check what was (not) written. On SQLite, the app's own pool.
    pub fn owner_db(&self) -> &sea_orm::DatabaseConnection {
        self.owner.as_ref().unwrap_or(&self.ctx.db)
    }

    /// Enters a local as `user` (the same check requests go through).
    pub async fn enter(&self, user: &users::Model, slug: &str) -> Tenant {
        Tenant::enter(&self.ctx.db, user.id, slug)
            .await
            .expect("enter local")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(namespace) = self.jobs_namespace.take() {
            workers::clear_namespace(&namespace);
        }
        if let Some((root, name)) = self.postgres.take() {
            std::thread::spawn(move || {
                let rt = tokio::runtime::Runtime::new().expect("cleanup runtime");
                rt.block_on(async {
                    if let Ok(admin) = Database::connect(&root).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                        admin.close().await.ok();
                    }
                });
            })
            .join()
            .ok();
        }
        if let Some(dir) = self.sqlite_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A browser session against the app.
pub struct Client {
    pub server: TestServer,
    csrf: Option<String>,
}

/// The value of `name="…"`'s `value` attribute in a page.
#[must_use]
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let tag_start = html.find(&format!("name=\"{name}\""))?;
    let tag_end = html[tag_start..].find('>')? + tag_start;
    let marker = "value=\"";
    let start = html[tag_start..tag_end].find(marker)? + tag_start + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&#43;", "+")
            .replace("&#x2B;", "+")
            .replace("&#61;", "=")
            .replace("&#x3D;", "=")
            .replace("&#47;", "/")
            .replace("&#x2F;", "/"),
    )
}

impl Client {
    pub async fn get(&self, path: &str) -> TestResponse {
        self.server.get(path).await
    }

    /// The CSRF token of this browser's forms (fetched once from a page).
    pub async fn token(&mut self) -> String {
        if let Some(token) = &self.csrf {
            return token.clone();
        }
        let page = self.server.get("/password-resets/new").await.text();
        let token = input_value(&page, "authenticity_token").expect("a CSRF token on the page");
        self.csrf = Some(token.clone());
        token
    }

    /// Submits a form as a browser would, with the CSRF token.
    pub async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let token = self.token().await;
        let mut all: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        all.push(("authenticity_token".into(), token));
        self.server.post(path).form(&all).await
    }

    /// Submits a form with no CSRF token at all.
    pub async fn submit_without_token(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        self.server.post(path).form(&fields.to_vec()).await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> TestResponse {
        self.submit("/session", &[("email", email), ("password", password)])
            .await
    }

    pub async fn sign_out(&mut self) -> TestResponse {
        self.submit("/session?_method=delete", &[]).await
    }

    /// Registers a new local and its admin through the form; returns the admin's email.
    pub async fn register_local(&mut self, slug: &str) -> String {
        let email = unique_email("founder");
        let response = self
            .submit(
                "/locals",
                &[
                    ("local_name", &format!("Local {slug}")),
                    ("slug", slug),
                    ("name", "Frances Founder"),
                    ("email", &email),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(
            response.status_code(),
            303,
            "registration failed: {}",
            response.text()
        );
        email
    }
}

/// The `Location` of a redirect.
#[must_use]
pub fn location(response: &TestResponse) -> String {
    response
        .header("location")
        .to_str()
        .unwrap_or_default()
        .to_string()
}

/// A member with just a name (and, when `email` is set, an address made from the first name).
#[must_use]
pub fn new_member(first: &str, last: &str, email: bool) -> unionhall::models::members::NewMember {
    use unionhall::domain::MemberName;
    unionhall::models::members::NewMember {
        first_name: MemberName::parse(first).unwrap(),
        last_name: MemberName::parse(last).unwrap(),
        email: email
            .then(|| Email::parse(&format!("{}@example.org", first.to_lowercase())).ok())
            .flatten(),
        phone: None,
        address: None,
        employee_number: None,
        employer: None,
        worksite: None,
        bargaining_unit: None,
        status: None,
        join_date: None,
    }
}
