//! The app's background jobs. The runtime they run on (the `Job` trait, the
//! enqueue interface, the backends, the dispatcher, work items, the outbox
//! and the sweeper) is the `unionhall-workers` crate in `workers/`, which
//! never imports the app; its items are re-exported here so the app names
//! them in one place. This module registers the app's jobs ([`registry`]),
//! names its recurring ones ([`schedules`]) and gives jobs their local
//! ([`InLocal`]).
pub mod mail;
pub mod maintenance;
pub mod member_bulk_change;
pub mod member_import;
pub mod probe;
pub mod progress;

use async_trait::async_trait;
use serde_json::json;
pub use unionhall_workers::{
    backend, connect, embedded, message, outbox, redis_queue, runtime, sweep, work_items, Backend,
    EnqueueError, Job, JobError, JobSettings, Jobs, Options, ProcessRole, Queue, Registry, Run,
    Running, Schedule,
};

use crate::models::{tenants::Tenant, Error};

/// Every job type the app runs. Names and argument formats never change
/// once deployed, so processes of two versions share the queues.
#[must_use]
pub fn registry() -> Registry {
    Registry::new()
        .with::<mail::AccountMail>()
        .with::<maintenance::Maintenance>()
        .with::<probe::Probe>()
        .with::<probe::Noop>()
        .with::<member_import::ImportMembers>()
        .with::<member_bulk_change::ChangeMembers>()
}

/// The app's recurring jobs: the sweeper and the prune.
#[must_use]
pub fn schedules(settings: &JobSettings) -> Vec<Schedule> {
    vec![
        Schedule {
            name: "sweep",
            cron: settings.sweep_cron.clone(),
            class: maintenance::Maintenance::NAME,
            queue: Queue::Critical,
            payload: json!({ "task": "sweep" }),
        },
        Schedule {
            name: "prune",
            cron: settings.prune_cron.clone(),
            class: maintenance::Maintenance::NAME,
            queue: Queue::Default,
            payload: json!({ "task": "prune" }),
        },
    ]
}

/// Starts this process's workers with the app's recurring jobs.
///
/// # Errors
/// A schedule that does not parse, or Redis refusing the schedules.
pub async fn start(
    ctx: &loco_rs::app::AppContext,
    settings: JobSettings,
) -> loco_rs::Result<Running> {
    let schedules = schedules(&settings);
    runtime::start(ctx, settings, schedules).await
}

/// The local a job works in, rebuilt in the worker by the job dispatcher's
/// one door into a local ([`Tenant::for_job`]).
#[async_trait]
pub trait InLocal {
    /// The job's local, acting for no one.
    ///
    /// # Errors
    /// [`JobError::skip`] when the local was deleted or is suspended (the
    /// job is not to be done); an error when the job names no local.
    async fn tenant(&self) -> Result<Tenant, JobError>;
}

#[async_trait]
impl InLocal for Run {
    async fn tenant(&self) -> Result<Tenant, JobError> {
        let local_id = self
            .local_id
            .ok_or_else(|| JobError::new("this job names no local"))?;
        match Tenant::for_job(&self.ctx.db, local_id).await {
            Ok(tenant) => Ok(tenant),
            Err(Error::Suspended(slug)) => {
                Err(JobError::skip(format!("the local {slug} is suspended")))
            }
            Err(Error::NotFound) => {
                Err(JobError::skip(format!("local {local_id} no longer exists")))
            }
            Err(err) => Err(err.into()),
        }
    }
}

impl From<Error> for JobError {
    fn from(err: Error) -> Self {
        Self::from_error(&err)
    }
}
