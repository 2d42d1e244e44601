//! The app's own settings (`settings:` in `config/*.yaml`), validated at
//! boot and read by controllers, jobs, mailers and tasks through
//! [`Settings::of`]. A module of its own so that nothing imports `app` (the
//! boot hooks) to read them.
use loco_rs::{app::AppContext, config::Config, Result};
use serde::Deserialize;

use crate::workers::JobSettings;

/// The app's own settings (`settings:` in `config/*.yaml`).
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// The address people use to reach the app, for links in mail.
    pub base_url: String,
    /// Signs CSRF tokens; set `SECRET_KEY` in production (at least 32 characters).
    pub secret_key: String,
    /// Marks cookies `Secure` and gives them the `__Host-` prefix (serve over HTTPS).
    #[serde(default)]
    pub secure_cookies: bool,
    /// Minutes of inactivity after which a session ends.
    #[serde(default = "default_session_minutes")]
    pub session_minutes: i64,
    /// The bearer token a Prometheus scraper presents at `/metrics`
    /// (`METRICS_TOKEN`); without one only signed-in operators read them.
    #[serde(default)]
    pub metrics_token: String,
    pub mail: MailSettings,
    #[serde(default)]
    pub api: ApiSettings,
    #[serde(default)]
    pub jobs: JobSettings,
    #[serde(default)]
    pub imports: ImportSettings,
    #[serde(default)]
    pub database: crate::database::DatabaseSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ImportSettings {
    /// The largest member CSV accepted, in megabytes.
    #[serde(default = "default_import_megabytes")]
    pub max_megabytes: u64,
}

impl Default for ImportSettings {
    fn default() -> Self {
        Self {
            max_megabytes: default_import_megabytes(),
        }
    }
}

fn default_import_megabytes() -> u64 {
    100
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiSettings {
    /// Requests a token may make per minute (per web process).
    #[serde(default = "default_requests_per_minute")]
    pub requests_per_minute: u32,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            requests_per_minute: default_requests_per_minute(),
        }
    }
}

fn default_requests_per_minute() -> u32 {
    300
}

#[derive(Debug, Clone, Deserialize)]
pub struct MailSettings {
    #[serde(default = "default_from")]
    pub from: String,
    /// When set, mail is written to this folder instead of sent.
    #[serde(default)]
    pub folder: Option<String>,
}

fn default_session_minutes() -> i64 {
    12 * 60
}

fn default_from() -> String {
    Settings::DEFAULT_FROM.to_string()
}

impl Settings {
    pub const DEFAULT_FROM: &'static str = "Union Hall <no-reply@unionhall.localhost>";

    /// # Errors
    /// When the `settings:` section is missing or malformed.
    pub fn from_config(config: &Config) -> Result<Self> {
        let raw = config
            .settings
            .clone()
            .ok_or_else(|| loco_rs::Error::string("config: `settings:` is missing"))?;
        let settings: Self = serde_json::from_value(raw)
            .map_err(|e| loco_rs::Error::string(&format!("config: settings: {e}")))?;
        if settings.secret_key.len() < 32 {
            return Err(loco_rs::Error::string(
                "config: settings.secret_key needs at least 32 characters",
            ));
        }
        Ok(settings)
    }

    /// The settings of a running app (validated at boot, kept in the
    /// context's shared store by `after_context`).
    #[must_use]
    pub fn of(ctx: &AppContext) -> Self {
        ctx.shared_store.get::<Self>().unwrap_or_else(|| {
            Self::from_config(&ctx.config).expect("settings were validated at boot")
        })
    }
}
