use std::path::Path;

use async_trait::async_trait;
use axum::{
    extract::Request,
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
    Router as AxumRouter,
};
use axum_csrf::{CsrfConfig, CsrfLayer, CsrfToken};
use loco_rs::{
    app::{AppContext, Hooks, Initializer},
    bgworker::Queue,
    boot::{create_app, BootResult, StartMode},
    config::Config,
    controller::AppRoutes,
    db::truncate_table,
    environment::Environment,
    task::Tasks,
    Result,
};
use migration::Migrator;
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

use crate::{
    controllers,
    models::{_entities, sessions::DatabaseStore},
    settings::Settings,
    tasks,
    workers::{self, Jobs, Running},
};

/// HTML forms can only GET and POST: `POST …?_method=delete` (or `put`,
/// `patch`) is routed as that method, so handlers keep REST's verbs.
async fn method_override(mut req: Request, next: Next) -> Response {
    if req.method() == Method::POST {
        let wanted = req.uri().query().and_then(|q| {
            q.split('&')
                .find_map(|pair| pair.strip_prefix("_method="))
                .map(str::to_ascii_lowercase)
        });
        match wanted.as_deref() {
            Some("delete") => *req.method_mut() = Method::DELETE,
            Some("put") => *req.method_mut() = Method::PUT,
            Some("patch") => *req.method_mut() = Method::PATCH,
            _ => {}
        }
    }
    next.run(req).await
}

/// Sets the CSRF cookie on every HTML page, so the token in its forms verifies.
async fn csrf_cookie(req: Request, next: Next) -> Response {
    let token = req.extensions().get::<CsrfToken>().cloned();
    let response = next.run(req).await;
    let is_html = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    match token {
        Some(token) if is_html => (token, response).into_response(),
        _ => response,
    }
}

/// The workers running in this process, if any (stopped at shutdown).
#[derive(Clone, Default)]
struct RunningWorkers(std::sync::Arc<tokio::sync::Mutex<Option<Running>>>);

/// Starts job workers in this process (also used by tests, which boot the
/// app without Loco's start command).
///
/// # Errors
/// A schedule that does not parse.
pub async fn start_workers(ctx: &AppContext) -> Result<()> {
    let running = workers::start(ctx, Settings::of(ctx).jobs).await?;
    let slot = ctx.shared_store.get::<RunningWorkers>().unwrap_or_default();
    if let Some(previous) = slot.0.lock().await.replace(running) {
        previous.shutdown().await;
    }
    Ok(())
}

/// Stops this process's workers gracefully (no-op when none run).
pub async fn stop_workers(ctx: &AppContext) {
    if let Some(slot) = ctx.shared_store.get::<RunningWorkers>() {
        if let Some(running) = slot.0.lock().await.take() {
            running.shutdown().await;
        }
    }
}

/// The outbox relay of a process that runs no workers (the web process on
/// Redis): it sends the work its requests record. Kept to stop it at shutdown.
#[derive(Clone)]
struct Relay(std::sync::Arc<tokio::sync::watch::Sender<bool>>);

/// Starts the outbox relay alone (a web process on Redis; the tests).
pub fn start_relay(ctx: &AppContext) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let poll = std::time::Duration::from_secs(Settings::of(ctx).jobs.poll_seconds.max(1));
    workers::outbox::spawn_relay(Jobs::of(ctx), poll, stopped);
    ctx.shared_store.insert(Relay(std::sync::Arc::new(stop)));
}

pub struct App;

#[async_trait]
impl Hooks for App {
    fn app_name() -> &'static str {
        env!("CARGO_CRATE_NAME")
    }

    fn app_version() -> String {
        format!(
            "{} ({})",
            env!("CARGO_PKG_VERSION"),
            option_env!("BUILD_SHA").unwrap_or("dev")
        )
    }

    async fn boot(
        mode: StartMode,
        environment: &Environment,
        config: Config,
    ) -> Result<BootResult> {
        Settings::from_config(&config)?;
        // SQLite: a pooled connection opened before a migration changes a
        // table goes on reading that table's rows with its old columns
        // (sqlx describes a statement from the connection's cached schema):
        // after migration 17 added `tenants.phone_country_code`, the first
        // local registered in a fresh process came back with that column
        // missing. Loco opens the pool before it migrates, so the
        // migrations run first here, on a connection of their own, and
        // the pool only ever sees the final schema.
        let db = &config.database;
        if db.uri.starts_with("sqlite") && db.auto_migrate && !db.dangerously_recreate {
            use migration::MigratorTrait;
            let conn = sea_orm::Database::connect(&db.uri).await?;
            Migrator::up(&conn, None).await?;
            conn.close().await?;
        }
        create_app::<Self, Migrator>(mode, environment, config).await
    }

    /// Unknown addresses get the app's own "Page not found" page, inside every middleware.
    async fn before_routes(_ctx: &AppContext) -> Result<axum::Router<AppContext>> {
        Ok(axum::Router::new().fallback(|| async { controllers::WebError::NotFound }))
    }

    async fn after_context(ctx: AppContext) -> Result<AppContext> {
        let settings = Settings::from_config(&ctx.config)?;
        let ctx = crate::database::prepare(ctx, &settings.database).await?;
        let backend = workers::connect(&settings.jobs).await?;
        ctx.shared_store
            .insert(Jobs::new(ctx.db.clone(), backend, workers::registry()));
        ctx.shared_store.insert(settings);
        ctx.shared_store.insert(RunningWorkers::default());
        Ok(ctx)
    }

    /// Starts this process's job workers when its role includes them: a
    /// worker process (`start --worker`), or any process on the embedded
    /// backend (its queue lives in the process that enqueues).
    async fn before_run(ctx: &AppContext) -> Result<()> {
        let settings = Settings::of(ctx).jobs;
        let role = workers::ProcessRole::current();
        if role.runs_workers(&settings) {
            start_workers(ctx).await?;
        } else if role == workers::ProcessRole::Web {
            start_relay(ctx);
        }
        Ok(())
    }

    /// SIGTERM / Ctrl-C: workers stop taking jobs and finish (or hand back)
    /// the ones they hold, within the grace period.
    async fn on_shutdown(ctx: &AppContext) {
        if let Some(relay) = ctx.shared_store.get::<Relay>() {
            let _ = relay.0.send(true);
        }
        stop_workers(ctx).await;
    }

    async fn initializers(_ctx: &AppContext) -> Result<Vec<Box<dyn Initializer>>> {
        Ok(vec![])
    }

    fn routes(_ctx: &AppContext) -> AppRoutes {
        AppRoutes::empty()
            .add_route(controllers::monitoring::routes())
            .add_route(controllers::home::routes())
            .add_route(controllers::sessions::routes())
            .add_route(controllers::locals::routes())
            .add_route(controllers::password_resets::routes())
            .add_route(controllers::email_verifications::routes())
            .add_route(controllers::account::routes())
            .add_route(controllers::invitation_links::routes())
            .add_route(controllers::invitations::routes())
            .add_route(controllers::members::routes())
            .add_route(controllers::profile::routes())
            .add_route(controllers::member_imports::routes())
            .add_route(controllers::member_bulk_changes::routes())
            .add_route(controllers::roles::routes())
            .add_route(controllers::structure::routes())
            .add_route(controllers::audit::routes())
            .add_route(controllers::users::routes())
            .add_route(controllers::tokens::routes())
            .add_route(controllers::ops::routes())
            .add_route(controllers::ops_jobs::routes())
            .add_route(controllers::metrics::routes())
            .add_route(controllers::api::docs::routes())
            .add_route(controllers::api::me::routes())
            .add_route(controllers::api::roles::routes())
            .add_route(controllers::api::users::routes())
            .add_route(controllers::api::invitations::routes())
            .add_route(controllers::api::tokens::routes())
            .add_route(controllers::api::members::routes())
            .add_route(controllers::api::structure::routes())
            .add_route(controllers::api::member_imports::routes())
            .add_route(controllers::api::audit::routes())
    }

    /// Sessions and CSRF wrap every route; method override runs before routing.
    async fn after_routes(router: AxumRouter, ctx: &AppContext) -> Result<AxumRouter> {
        let settings = Settings::of(ctx);
        let secure = settings.secure_cookies;
        let sessions = SessionManagerLayer::new(DatabaseStore::new(ctx.db.clone()))
            .with_name(if secure {
                "__Host-unionhall_session"
            } else {
                "unionhall_session"
            })
            .with_secure(secure)
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(time::Duration::minutes(
                settings.session_minutes,
            )));
        let csrf = CsrfConfig::default()
            .with_salt(settings.secret_key.clone())
            .with_cookie_name("unionhall_csrf")
            .with_prefix_with_host(secure)
            .with_secure(secure)
            .with_http_only(true)
            .with_cookie_same_site(axum_csrf::SameSite::Lax)
            .with_cookie_path("/")
            .with_lifetime(time::Duration::minutes(settings.session_minutes));
        crate::initializers::metrics::handle();
        // Router::layer wraps each route, so the metrics see the route template.
        let inner = router
            .layer(axum::middleware::from_fn(
                crate::initializers::metrics::track,
            ))
            .layer(axum::middleware::from_fn(csrf_cookie))
            .layer(CsrfLayer::new(csrf))
            .layer(sessions);
        Ok(AxumRouter::new()
            .fallback_service(inner)
            .layer(axum::middleware::from_fn(method_override)))
    }

    async fn connect_workers(_ctx: &AppContext, _queue: &Queue) -> Result<()> {
        Ok(())
    }

    fn register_tasks(tasks: &mut Tasks) {
        tasks.register(tasks::demo_seed::DemoSeed);
        tasks.register(tasks::prune::Prune);
        tasks.register(tasks::api_token::ApiToken);
        tasks.register(tasks::create_operator::CreateOperator);
        tasks.register(tasks::create_local::CreateLocal);
        tasks.register(tasks::jobs_bench::JobsBench);
        tasks.register(tasks::members_bench::MembersBench);
        // tasks-inject (do not remove)
    }

    async fn truncate(ctx: &AppContext) -> Result<()> {
        truncate_table(&ctx.db, _entities::operator_actions::Entity).await?;
        truncate_table(&ctx.db, _entities::api_tokens::Entity).await?;
        truncate_table(&ctx.db, _entities::login_attempts::Entity).await?;
        truncate_table(&ctx.db, _entities::sessions::Entity).await?;
        truncate_table(&ctx.db, _entities::user_tokens::Entity).await?;
        truncate_table(&ctx.db, _entities::invitations::Entity).await?;
        truncate_table(&ctx.db, _entities::memberships::Entity).await?;
        truncate_table(&ctx.db, _entities::roles::Entity).await?;
        truncate_table(&ctx.db, _entities::users::Entity).await?;
        truncate_table(&ctx.db, _entities::tenants::Entity).await?;
        Ok(())
    }

    async fn seed(_ctx: &AppContext, _base: &Path) -> Result<()> {
        Ok(())
    }
}
