//! Which database role the app connects as (PostgreSQL).
//!
//! The app's pool (`DATABASE_URL`) connects as a login role that owns no
//! table and cannot bypass row-level security: a member of `app_tenant`
//! (`migration/src/rls.rs`). A query on that pool outside a scoped
//! transaction therefore sees no tenant row at all. The schema belongs to the
//! owner, whose address is `DATABASE_OWNER_URL` (`settings.database.owner_url`):
//! migrations run through it at boot, and `db …` commands use it instead of
//! the pool. Without an owner address the app connects as whoever
//! `DATABASE_URL` names and migrates through that, as a single-user
//! development database does; a production web or worker process refuses
//! to start on a role that could read every local. SQLite has no roles:
//! none of this applies there, and scoping rests on `src/models`.
use loco_rs::{app::AppContext, environment::Environment, Result};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::Deserialize;

use crate::workers::ProcessRole;

/// `settings.database` in `config/*.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DatabaseSettings {
    /// The schema owner's address (`DATABASE_OWNER_URL`): migrations and
    /// `db …` commands. Empty: `DATABASE_URL` owns the schema itself.
    #[serde(default)]
    pub owner_url: String,
}

impl DatabaseSettings {
    fn owner(&self) -> Option<&str> {
        Some(self.owner_url.trim()).filter(|url| !url.is_empty())
    }
}

/// Prepares the context's database before Loco converges it: migrates
/// through the owner and stops Loco migrating through the restricted pool
/// (which may not create tables), or, for a `db …` command, hands that
/// command the owner's connection. Then checks what the pool may read.
///
/// # Errors
/// When the owner cannot connect or migrate, or a production web or worker
/// process would run on a role that bypasses row-level security.
pub async fn prepare(mut ctx: AppContext, settings: &DatabaseSettings) -> Result<AppContext> {
    if ctx.db.get_database_backend() != DbBackend::Postgres {
        return Ok(ctx);
    }
    let role = ProcessRole::current();
    if let Some(owner_url) = settings.owner() {
        // Loco's `start` builds the context twice; the owner is only
        // connected to when there is something for it to do.
        let schema = role == ProcessRole::Schema;
        if schema || ctx.config.database.auto_migrate {
            let mut options = sea_orm::ConnectOptions::new(owner_url);
            options.max_connections(2).sqlx_logging(false);
            let owner = sea_orm::Database::connect(options).await?;
            if schema {
                ctx.db = owner;
                return Ok(ctx);
            }
            Migrator::up(&owner, None).await?;
            owner.close().await?;
        }
        ctx.config.database.auto_migrate = false;
    }
    if role != ProcessRole::Schema {
        let reach = Reach::of(&ctx.db).await?;
        if let Some(why) = reach.unrestricted() {
            let serving = matches!(
                role,
                ProcessRole::Web | ProcessRole::Worker | ProcessRole::Both
            );
            if serving && ctx.environment == Environment::Production {
                return Err(loco_rs::Error::string(&format!(
                    "DATABASE_URL connects as `{}`, which {why}: every local's rows would be one \
                     forgotten filter away. Connect as a login role in `app_tenant` and give the \
                     owner's address as DATABASE_OWNER_URL (README, Tenancy).",
                    reach.user
                )));
            }
            tracing::warn!(
                user = %reach.user,
                "the app's database role {why}; row-level security does not bind it \
                 (set DATABASE_OWNER_URL and connect DATABASE_URL as a role in app_tenant)"
            );
        }
    }
    Ok(ctx)
}

/// What the pool's role may do beyond its scope.
#[derive(Debug)]
pub struct Reach {
    pub user: String,
    pub superuser: bool,
    pub bypasses_rls: bool,
    /// Owns (or inherits the owner of) a table in `public`, so could turn
    /// its row-level security off.
    pub owns_tables: bool,
}

impl Reach {
    /// # Errors
    /// A database error.
    pub async fn of(db: &DatabaseConnection) -> Result<Self> {
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT current_user::text AS user, r.rolsuper AS superuser, \
                   r.rolbypassrls AS bypasses_rls, \
                   EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') \
                       AND pg_has_role(current_user, c.relowner, 'USAGE')) AS owns_tables \
                 FROM pg_roles r WHERE r.rolname = current_user",
            ))
            .await?
            .ok_or_else(|| loco_rs::Error::string("the database role is not in pg_roles"))?;
        Ok(Self {
            user: row.try_get("", "user")?,
            superuser: row.try_get("", "superuser")?,
            bypasses_rls: row.try_get("", "bypasses_rls")?,
            owns_tables: row.try_get("", "owns_tables")?,
        })
    }

    /// Why row-level security does not bind this role, if it does not.
    #[must_use]
    pub fn unrestricted(&self) -> Option<&'static str> {
        if self.superuser {
            Some("is a superuser")
        } else if self.bypasses_rls {
            Some("has BYPASSRLS")
        } else if self.owns_tables {
            Some("owns the tables (and could lift their row-level security)")
        } else {
            None
        }
    }
}

/// The statement that creates a login role for the app's pool: a member
/// of `app_tenant`, owning nothing, with no way around row-level security.
/// Run it once per cluster as a role that may create roles (the tests and
/// `bin/test` do; README, Tenancy, for production). Tolerates the role
/// existing already, and a parallel session creating it at the same moment.
#[must_use]
pub fn create_login_role_sql(name: &str) -> String {
    let tenant = migration::rls::TENANT_ROLE;
    format!(
        "{}
         DO $$ BEGIN
           CREATE ROLE {name} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE IN ROLE {tenant};
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;",
        migration::rls::create_tenant_role_sql()
    )
}
