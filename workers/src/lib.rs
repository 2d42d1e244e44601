//! The job runtime (issue 4, moved out of the app in issue 15).
//!
//! Code enqueues through [`Jobs`] and never talks to Redis. Two backends
//! run the same job types: Redis in Sidekiq's layout through
//! `rusty-sidekiq` (production, workers in their own processes) and an
//! in-process queue (the embedded default). Both share one dispatcher
//! ([`runtime`]) for retries with backoff, the dead set, durable work items
//! ([`work_items`], with the [`outbox`] and the [`sweep`]er) and metrics.
//!
//! This crate never imports the app. The app implements [`Job`] for its
//! jobs and passes them in a [`Registry`]; a job that finds its local gone
//! or suspended returns [`JobError::skip`], and the runtime records it as
//! skipped instead of retrying it.
pub mod backend;
pub mod embedded;
pub mod outbox;
pub mod redis_queue;
pub mod runtime;
pub mod work_items;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use loco_rs::app::AppContext;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{json, Value};

pub use self::{
    backend::Backend,
    runtime::{Registry, Running, Schedule},
};

/// Queues in priority order: a worker always takes `critical` work first,
/// and one worker per process serves only `critical`, so a campaign on
/// `bulk` never delays a password reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Queue {
    Critical,
    Default,
    Bulk,
}

impl Queue {
    pub const ALL: [Self; 3] = [Self::Critical, Self::Default, Self::Bulk];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Default => "default",
            Self::Bulk => "bulk",
        }
    }

    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.name() == name)
    }
}

/// Why a job failed: its message and the chain of causes (Rust errors carry
/// causes, not a stack; the console shows them where Sidekiq shows a backtrace).
#[derive(Debug, Clone)]
pub struct JobError {
    pub message: String,
    pub causes: Vec<String>,
    /// Not a failure: the job is not to be done (its local is gone or
    /// suspended). Logged and recorded as skipped, never retried.
    pub skip: bool,
}

impl JobError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            causes: vec![],
            skip: false,
        }
    }

    /// The job is not to be done, for `reason` (its local is gone or
    /// suspended): the runtime skips it instead of retrying it.
    pub fn skip(reason: impl Into<String>) -> Self {
        Self {
            skip: true,
            ..Self::new(reason)
        }
    }

    /// An error with its `source()` chain.
    pub fn from_error(err: &(dyn std::error::Error + 'static)) -> Self {
        let mut causes = vec![];
        let mut source = err.source();
        while let Some(cause) = source {
            causes.push(cause.to_string());
            source = cause.source();
        }
        Self {
            message: err.to_string(),
            causes,
            skip: false,
        }
    }
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<sea_orm::DbErr> for JobError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::from_error(&err)
    }
}

impl From<loco_rs::Error> for JobError {
    fn from(err: loco_rs::Error) -> Self {
        Self::from_error(&err)
    }
}

/// A kind of background work. Its fields are its arguments (JSON on the
/// queue), so a job names its local by id (`local_id`) and rebuilds its
/// scope inside the worker (STYLE.md 11), skipping with
/// [`JobError::skip`] when the local is gone or suspended; a job is
/// idempotent.
#[async_trait]
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The name on the queue (Sidekiq's `class`); never change it once deployed.
    const NAME: &'static str;
    const QUEUE: Queue = Queue::Default;
    /// Retries after the first failure before the job goes to the dead set.
    const RETRIES: usize = 20;
    /// Durable jobs keep their arguments and state in `work_items`: the queue
    /// carries only the item's id, and a lost message or a killed worker is
    /// recovered by the sweeper. Cheap, repeatable jobs need not be durable.
    const DURABLE: bool = false;

    /// The local this job works in, if any.
    fn local_id(&self) -> Option<i32> {
        None
    }

    /// Does the work.
    ///
    /// # Errors
    /// Any error is retried with backoff, then ends in the dead set.
    async fn perform(self, run: &Run) -> Result<(), JobError>;
}

/// What a running job may use: the app, the id of the local it works in,
/// and, for durable jobs, its claim on the work item.
pub struct Run {
    pub ctx: AppContext,
    pub jid: String,
    pub queue: String,
    /// When the message was put on its queue (seconds since the epoch).
    pub enqueued_at: Option<f64>,
    /// The job's [`Job::local_id`].
    pub local_id: Option<i32>,
    claim: Option<work_items::Claim>,
}

impl Run {
    #[must_use]
    pub fn claim(&self) -> Option<work_items::Claim> {
        self.claim
    }

    /// Whether a failure now ends the job for good: the attempt is past a
    /// job's `retries` (durable work counts its attempts; other jobs have
    /// one as far as they know).
    #[must_use]
    pub fn is_last_attempt(&self, retries: usize) -> bool {
        let attempt = self.claim.map_or(1, |c| c.attempt);
        usize::try_from(attempt).unwrap_or(usize::MAX) > retries
    }

    /// Marks the durable work item done inside the job's own transaction, so
    /// the job's effect and its completion commit together (exactly once).
    ///
    /// # Errors
    /// A database error, or the attempt lost its lease to another worker.
    pub async fn complete_in<C: sea_orm::ConnectionTrait>(&self, conn: &C) -> Result<(), JobError> {
        if let Some(claim) = self.claim {
            if !work_items::finish(conn, claim).await? {
                return Err(JobError::new(
                    "the work item's lease was taken over by another worker",
                ));
            }
        }
        Ok(())
    }
}

/// Overrides for one enqueue.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub queue: Option<Queue>,
    pub retries: Option<usize>,
    /// Run after this delay (the `schedule` set) instead of now.
    pub delay: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error("the job queue is unreachable: {0}")]
    Queue(String),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error("job arguments: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<EnqueueError> for loco_rs::Error {
    fn from(err: EnqueueError) -> Self {
        loco_rs::Error::string(&err.to_string())
    }
}

/// The enqueue interface: the one way code puts work on a queue.
#[derive(Clone)]
pub struct Jobs {
    db: sea_orm::DatabaseConnection,
    backend: Backend,
    registry: Arc<Registry>,
}

/// A message ready for a queue, in Sidekiq's job format (tests push
/// hand-made ones to show how odd messages are handled).
pub fn message(
    class: &str,
    queue: Queue,
    retries: usize,
    payload: Value,
) -> Result<sidekiq::Job, serde_json::Error> {
    sidekiq::opts()
        .queue(queue.name())
        .retry(sidekiq::RetryOpts::Max(retries))
        .create_job(class.to_string(), json!([payload]))
        .map_err(|err| match err {
            sidekiq::Error::Json(json) => json,
            other => serde::ser::Error::custom(other.to_string()),
        })
}

impl Jobs {
    /// The app's job handle (made at boot by `App::after_context`).
    ///
    /// # Panics
    /// When called before the app booted.
    #[must_use]
    pub fn of(ctx: &AppContext) -> Self {
        ctx.shared_store
            .get::<Self>()
            .expect("the jobs handle is set at boot")
    }

    /// A handle on `backend`, keeping work items in `db`, for the job
    /// types in `registry`.
    #[must_use]
    pub fn new(db: sea_orm::DatabaseConnection, backend: Backend, registry: Registry) -> Self {
        Self {
            db,
            backend,
            registry: Arc::new(registry),
        }
    }

    /// The job types this app runs.
    #[must_use]
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    #[must_use]
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The pool the work items are kept in.
    #[must_use]
    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.db
    }

    /// Puts `job` on its queue. A durable job is recorded first, so if the
    /// queue is unreachable the work is not lost: the sweeper sends it later
    /// (the error is still returned, for callers that want to say so).
    ///
    /// # Errors
    /// The queue or the database refused.
    pub async fn enqueue<J: Job>(&self, job: J) -> Result<String, EnqueueError> {
        self.enqueue_with(job, Options::default()).await
    }

    /// [`Jobs::enqueue`] with overrides.
    ///
    /// # Errors
    /// The queue or the database refused.
    pub async fn enqueue_with<J: Job>(
        &self,
        job: J,
        opts: Options,
    ) -> Result<String, EnqueueError> {
        let queue = opts.queue.unwrap_or(J::QUEUE);
        let retries = opts.retries.unwrap_or(J::RETRIES);
        let mut item = None;
        let payload = if J::DURABLE {
            let args = serde_json::to_string(&job)?;
            let recorded =
                work_items::Model::create(&self.db, J::NAME, queue.name(), job.local_id(), &args)
                    .await?;
            let payload =
                json!({ "work_item": recorded.id, "local_id": job.local_id(), "retries": retries });
            item = Some(recorded.id);
            payload
        } else {
            serde_json::to_value(&job)?
        };
        let message = message(J::NAME, queue, retries, payload)?;
        let jid = message.jid.clone();
        let pushed = match opts.delay {
            Some(delay) => self.backend.schedule(message, delay).await,
            None => self.backend.push(vec![message]).await,
        };
        if let Err(err) = pushed {
            if let Some(id) = item {
                // Recorded but not sent: the outbox relay sends it.
                let _ = work_items::unsent(&self.db, id).await;
            }
            return Err(EnqueueError::Queue(err));
        }
        Ok(jid)
    }

    /// Enqueues many cheap (non-durable) jobs in one round trip per thousand.
    ///
    /// # Errors
    /// The queue refused.
    pub async fn enqueue_many<J: Job>(&self, jobs: &[J]) -> Result<usize, EnqueueError> {
        let mut messages = Vec::with_capacity(jobs.len());
        for job in jobs {
            messages.push(message(
                J::NAME,
                J::QUEUE,
                J::RETRIES,
                serde_json::to_value(job)?,
            )?);
        }
        let n = messages.len();
        for chunk in messages.chunks(1000) {
            self.backend
                .push(chunk.to_vec())
                .await
                .map_err(EnqueueError::Queue)?;
        }
        Ok(n)
    }

    /// Sends a durable work item's message again (the sweeper, the console).
    ///
    /// # Errors
    /// The queue refused.
    pub async fn resend(&self, item: &work_items::Model) -> Result<String, EnqueueError> {
        let queue = Queue::parse(&item.queue).unwrap_or(Queue::Default);
        let retries = self
            .registry
            .get(item.kind.as_str())
            .map_or(20, |entry| entry.retries);
        let message = message(
            &item.kind,
            queue,
            retries,
            json!({ "work_item": item.id, "local_id": item.local_id, "retries": retries }),
        )?;
        let jid = message.jid.clone();
        self.backend
            .push(vec![message])
            .await
            .map_err(EnqueueError::Queue)?;
        Ok(jid)
    }
}

/// Settings of the jobs system (`settings.jobs` in `config/*.yaml`).
#[derive(Debug, Clone, Deserialize)]
pub struct JobSettings {
    /// `embedded` (in-process, no Redis) or `redis`.
    #[serde(default = "default_backend")]
    pub backend: String,
    #[serde(default = "default_redis_url")]
    pub redis_url: String,
    /// Prefix of every Redis key (empty: Sidekiq's plain keys).
    #[serde(default)]
    pub namespace: String,
    /// Workers per process taking critical, then default, then bulk work.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Extra workers per process that only take `critical` work.
    #[serde(default = "default_critical_workers")]
    pub critical_workers: usize,
    /// How long a durable job's claim lasts without renewal.
    #[serde(default = "default_lease_seconds")]
    pub lease_seconds: u64,
    /// After SIGTERM, how long in-flight jobs may run before they are handed back.
    #[serde(default = "default_grace_seconds")]
    pub grace_seconds: u64,
    /// How often due retries, scheduled and periodic jobs are moved to their queues.
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: u64,
    /// Queued durable work whose message is older than this is sent again.
    #[serde(default = "default_stranded_seconds")]
    pub stranded_seconds: u64,
    /// Cron (with seconds) of the sweeper.
    #[serde(default = "default_sweep_cron")]
    pub sweep_cron: String,
    /// Cron (with seconds) of the prune job.
    #[serde(default = "default_prune_cron")]
    pub prune_cron: String,
    /// Check a pooled Redis connection (PING) each time it is taken. With
    /// rusty-sidekiq's connection manager this is the only way a connection
    /// broken by a Redis restart is noticed and replaced at once; it costs a
    /// round trip per checkout (three per job). Off: connections are
    /// recycled every 5 s instead, and after a Redis restart the workers
    /// spin on broken connections for up to that long.
    #[serde(default = "default_true")]
    pub check_connections: bool,
    /// The dead set keeps at most this many jobs ...
    #[serde(default = "default_dead_max")]
    pub dead_max: usize,
    /// ... for at most this many days (Sidekiq's defaults).
    #[serde(default = "default_dead_days")]
    pub dead_days: i64,
}

fn default_true() -> bool {
    true
}
fn default_backend() -> String {
    "embedded".into()
}
fn default_redis_url() -> String {
    "redis://127.0.0.1:6379".into()
}
fn default_concurrency() -> usize {
    4
}
fn default_critical_workers() -> usize {
    1
}
fn default_lease_seconds() -> u64 {
    60
}
fn default_grace_seconds() -> u64 {
    25
}
fn default_poll_seconds() -> u64 {
    2
}
fn default_stranded_seconds() -> u64 {
    900
}
fn default_sweep_cron() -> String {
    "30 * * * * *".into()
}
fn default_prune_cron() -> String {
    "0 7 * * * *".into()
}
fn default_dead_max() -> usize {
    10_000
}
fn default_dead_days() -> i64 {
    180
}

impl Default for JobSettings {
    fn default() -> Self {
        serde_json::from_value(json!({})).expect("defaults")
    }
}

impl JobSettings {
    #[must_use]
    pub fn is_redis(&self) -> bool {
        self.backend == "redis"
    }
}

/// Builds the backend named by the settings (no connection is made yet).
///
/// # Errors
/// An unknown backend or a malformed Redis URL.
pub async fn connect(settings: &JobSettings) -> loco_rs::Result<Backend> {
    match settings.backend.as_str() {
        "redis" => Ok(Backend::Redis(
            redis_queue::RedisQueue::connect(settings)
                .await
                .map_err(|e| loco_rs::Error::string(&format!("jobs: redis: {e}")))?,
        )),
        "embedded" => Ok(Backend::Embedded(Arc::new(embedded::MemoryQueue::new(
            settings.dead_max,
        )))),
        other => Err(loco_rs::Error::string(&format!(
            "jobs: unknown backend `{other}` (use `embedded` or `redis`)"
        ))),
    }
}

/// What this process was started as (`cargo loco start` flags), read once
/// in `main` before Loco parses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessRole {
    /// `start`: the web server only.
    Web,
    /// `start --worker`: job workers only.
    Worker,
    /// `start --server-and-worker` or `--all`.
    Both,
    /// `db …`: schema administration (migrate, status, seed), which runs
    /// as the database owner when one is configured (`src/database.rs`).
    Schema,
    /// A task, the tests.
    Other,
}

static ROLE: std::sync::OnceLock<ProcessRole> = std::sync::OnceLock::new();

impl ProcessRole {
    /// Reads the role from the command line (`<bin> start [flags]`, `<bin> db …`).
    #[must_use]
    pub fn from_args(args: &[String]) -> Self {
        let command = args
            .iter()
            .skip(1)
            .position(|a| a == "start" || a == "db" || a == "task")
            .map(|i| i + 1);
        let Some(at) = command else {
            return Self::Other;
        };
        match args[at].as_str() {
            "db" => return Self::Schema,
            "task" => return Self::Other,
            _ => {}
        }
        let flags = &args[at + 1..];
        let has = |long: &str, short: &str| {
            flags
                .iter()
                .any(|f| f == long || f == short || f.starts_with(&format!("{long}=")))
        };
        if has("--server-and-worker", "-s") || has("--all", "-a") {
            Self::Both
        } else if has("--worker", "-w") {
            Self::Worker
        } else {
            Self::Web
        }
    }

    /// Records this process's role (first call wins).
    pub fn set(role: Self) {
        let _ = ROLE.set(role);
    }

    #[must_use]
    pub fn current() -> Self {
        ROLE.get().copied().unwrap_or(Self::Other)
    }

    /// Whether this process runs job workers with these settings.
    #[must_use]
    pub fn runs_workers(self, settings: &JobSettings) -> bool {
        match self {
            Self::Worker | Self::Both => true,
            Self::Web => !settings.is_redis(),
            Self::Schema | Self::Other => false,
        }
    }
}

/// The sweeper: durable work whose lease expired or whose message was lost
/// (queued longer than `settings.stranded_seconds`) goes back on its
/// queue, and the dead set is kept within its bounds. Returns how many
/// items were sent again.
///
/// # Errors
/// A database or queue error.
pub async fn sweep(jobs: &Jobs, settings: &JobSettings) -> Result<usize, JobError> {
    let stranded = chrono::Utc::now()
        - chrono::Duration::seconds(i64::try_from(settings.stranded_seconds).unwrap_or(900));
    let items = work_items::sweep(jobs.db(), stranded, 1_000).await?;
    for item in &items {
        if let Err(err) = jobs.resend(item).await {
            // Still queued in the table: the next sweep sends it.
            tracing::warn!(work_item = item.id, error = %err, "could not resend work");
        }
    }
    if !items.is_empty() {
        tracing::warn!(
            count = items.len(),
            "sweeper sent stranded or abandoned work again"
        );
    }
    jobs.backend()
        .trim_dead(settings.dead_max, settings.dead_days)
        .await
        .map_err(JobError::new)?;
    Ok(items.len())
}
