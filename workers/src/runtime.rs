//! Runs jobs: one dispatcher for both backends (retries with backoff and
//! jitter, the dead set, durable work items with leases, the job's local,
//! metrics), the worker loops, the pollers and graceful shutdown.
use std::{
    collections::{BTreeMap, HashMap},
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use loco_rs::app::AppContext;
use rand::Rng;
use serde_json::{json, Value};
use sidekiq::{ChainIter, RedisPool, ServerMiddleware, WorkerRef};
use tokio::{sync::watch, task::JoinHandle};

use super::{
    backend::{now_secs, Backend, JobSet},
    embedded::MemoryQueue,
    work_items, Job, JobError, JobSettings, Jobs, Queue, Run,
};

/// What became of a job.
#[derive(Debug)]
pub enum Outcome {
    Done,
    /// Not done on purpose (logged): its local is gone or suspended, or its
    /// work item was already done or is held by another worker.
    Skipped(String),
}

#[derive(Debug)]
pub enum Failure {
    /// The arguments do not parse (a deploy changed them): dead at once.
    Unparsable(String),
    /// Retried with backoff, then dead.
    Error(JobError),
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type RunFn = fn(Arc<Runtime>, sidekiq::Job) -> BoxFuture<Result<Outcome, Failure>>;

/// A registered job type.
pub struct Entry {
    pub name: &'static str,
    pub queue: Queue,
    pub retries: usize,
    pub durable: bool,
    run: RunFn,
}

/// The job types an app runs, by name: the app builds it with
/// [`Registry::with`] for each of its jobs and passes it to [`Jobs::new`].
#[derive(Default)]
pub struct Registry(HashMap<&'static str, Entry>);

impl Registry {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `J` under [`Job::NAME`].
    ///
    /// # Panics
    /// When two job types share a name.
    #[must_use]
    pub fn with<J: Job>(mut self) -> Self {
        let entry = Entry {
            name: J::NAME,
            queue: J::QUEUE,
            retries: J::RETRIES,
            durable: J::DURABLE,
            run: |rt, job| Box::pin(run_typed::<J>(rt, job)),
        };
        assert!(
            self.0.insert(J::NAME, entry).is_none(),
            "two job types are named {}",
            J::NAME
        );
        self
    }

    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.0.get(name)
    }

    /// The registered names, in no order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.keys().copied()
    }
}

/// Sidekiq's retry delay: count⁴ + 15 s plus up to 10·(count+1) s of jitter,
/// so retries of many failed jobs spread out instead of stampeding.
#[must_use]
pub fn backoff(count: usize) -> f64 {
    let count = count.min(100) as f64;
    let jitter = rand::rng().random_range(0.0..(10.0 * (count + 1.0)));
    count.powi(4) + 15.0 + jitter
}

struct InFlight {
    job: sidekiq::Job,
    claim: Option<work_items::Claim>,
}

/// Shared by a process's workers.
pub struct Runtime {
    pub ctx: AppContext,
    pub jobs: Jobs,
    pub settings: JobSettings,
    in_flight: Mutex<HashMap<String, InFlight>>,
    /// Unflushed processed / failed counts per minute.
    counts: Mutex<BTreeMap<i64, (u64, u64)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Runtime {
    #[must_use]
    pub fn new(ctx: &AppContext, settings: JobSettings) -> Arc<Self> {
        Arc::new(Self {
            ctx: ctx.clone(),
            jobs: Jobs::of(ctx),
            settings,
            in_flight: Mutex::new(HashMap::new()),
            counts: Mutex::new(BTreeMap::new()),
        })
    }

    fn backend(&self) -> &Backend {
        self.jobs.backend()
    }

    fn lease(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::try_from(self.settings.lease_seconds).unwrap_or(60))
    }

    fn hold(&self, jid: &str, claim: work_items::Claim) {
        if let Some(f) = lock(&self.in_flight).get_mut(jid) {
            f.claim = Some(claim);
        }
    }

    /// Runs one job message to its end: done, skipped, scheduled for retry
    /// or dead. Never fails: whatever happens is recorded where the console
    /// shows it.
    pub async fn execute(self: &Arc<Self>, job: &sidekiq::Job) {
        let started = Instant::now();
        lock(&self.in_flight).insert(
            job.jid.clone(),
            InFlight {
                job: job.clone(),
                claim: None,
            },
        );
        let entry = self.jobs.registry().get(job.class.as_str());
        let result = match entry {
            Some(entry) => {
                // Its own task, so a panicking job fails like an erroring one.
                match tokio::spawn((entry.run)(self.clone(), job.clone())).await {
                    Ok(result) => result,
                    Err(join) => Err(Failure::Error(JobError::new(format!(
                        "the job panicked: {join}"
                    )))),
                }
            }
            None => Err(Failure::Error(JobError::new(format!(
                "no job type named `{}` in this version of the app",
                job.class
            )))),
        };
        let claim = lock(&self.in_flight).remove(&job.jid).and_then(|f| f.claim);
        let label = entry.map_or("unknown", |e| e.name);
        let outcome = match result {
            Ok(Outcome::Done) => "done",
            Ok(Outcome::Skipped(reason)) => {
                tracing::info!(job = label, jid = %job.jid, reason = %reason, "job skipped");
                "skipped"
            }
            Err(Failure::Unparsable(message)) => {
                let error = JobError::new(message);
                self.fail(job, &error, claim, true).await;
                "dead"
            }
            Err(Failure::Error(error)) => {
                if self.fail(job, &error, claim, false).await {
                    "dead"
                } else {
                    "retry"
                }
            }
        };
        let failed = matches!(outcome, "dead" | "retry");
        self.count(failed);
        metrics::counter!("jobs_total", "job" => label, "outcome" => outcome).increment(1);
        metrics::histogram!("job_duration_seconds", "job" => label)
            .record(started.elapsed().as_secs_f64());
    }

    /// Schedules a retry, or puts the job in the dead set; true when dead.
    async fn fail(
        &self,
        job: &sidekiq::Job,
        error: &JobError,
        claim: Option<work_items::Claim>,
        force_dead: bool,
    ) -> bool {
        let count = job.retry_count.map_or(0, |c| c + 1);
        let max = match job.retry {
            sidekiq::RetryOpts::Max(n) => n,
            sidekiq::RetryOpts::Yes => self
                .jobs
                .registry()
                .get(job.class.as_str())
                .map_or(20, |e| e.retries),
            sidekiq::RetryOpts::Never => 0,
        };
        let dead = force_dead || count >= max;
        let now_ms = chrono::Utc::now().timestamp_millis() as f64;
        let mut stored = serde_json::to_value(job).unwrap_or_else(|_| json!({}));
        stored["error_message"] = json!(error.message);
        stored["error_class"] = json!(if force_dead {
            "ArgumentError"
        } else {
            "JobError"
        });
        stored["error_backtrace"] = json!(error.causes);
        stored["retry_count"] = json!(count);
        if job.retry_count.is_some() {
            stored["retried_at"] = json!(now_ms);
        } else {
            stored["failed_at"] = json!(now_ms);
        }
        let raw = stored.to_string();
        let (set, at) = if dead {
            (JobSet::Dead, now_secs())
        } else {
            (JobSet::Retry, now_secs() + backoff(count))
        };
        if dead {
            tracing::error!(job = %job.class, jid = %job.jid, error = %error, "job is dead");
        } else {
            tracing::warn!(job = %job.class, jid = %job.jid, error = %error, retry = count, "job failed; retry scheduled");
        }
        // The work item first, then the retry or dead entry: whoever sees the
        // entry (the console, a retry by hand) finds the item already failed.
        let db = &self.ctx.db;
        let recorded = match claim {
            Some(claim) => work_items::fail(db, claim, dead, &error.message)
                .await
                .map(|_| ()),
            None if dead => match job
                .args
                .get(0)
                .and_then(|a| a.get("work_item"))
                .and_then(Value::as_i64)
            {
                Some(id) => {
                    work_items::bury(db, i32::try_from(id).unwrap_or(0), &error.message).await
                }
                None => Ok(()),
            },
            None => Ok(()),
        };
        if let Err(err) = recorded {
            tracing::error!(job = %job.class, error = %err, "could not record the failure on its work item");
        }
        if let Err(err) = self.backend().add(set, at, raw).await {
            // The message is lost with the queue; a durable job's work item
            // stays failed/queued and the sweeper sends it again.
            tracing::error!(job = %job.class, jid = %job.jid, error = %err, "could not record the failed job");
        }
        dead
    }

    fn count(&self, failed: bool) {
        let minute = chrono::Utc::now().timestamp() / 60;
        let mut counts = lock(&self.counts);
        let entry = counts.entry(minute).or_default();
        if failed {
            entry.1 += 1;
        } else {
            entry.0 += 1;
        }
    }

    /// Writes the counts gathered since the last flush (batched, as Sidekiq
    /// does, so statistics cost no round trip per job).
    pub async fn flush_counts(&self) {
        let pending: Vec<(i64, u64, u64)> = std::mem::take(&mut *lock(&self.counts))
            .into_iter()
            .map(|(m, (p, f))| (m, p, f))
            .collect();
        if pending.is_empty() {
            return;
        }
        if let Err(err) = self.backend().add_stats(&pending).await {
            tracing::warn!(error = %err, "could not write job statistics; keeping them");
            let mut counts = lock(&self.counts);
            for (m, p, f) in pending {
                let e = counts.entry(m).or_default();
                e.0 += p;
                e.1 += f;
            }
        }
    }

    /// Graceful shutdown ran out of time: the jobs still running go back to
    /// be run by another worker, and their work items are released. They go
    /// through the `schedule` set (due now), not straight onto the queue: a
    /// fetch of this process still blocked in BRPOP would take them and die
    /// with them.
    async fn hand_back(&self) {
        let held: Vec<InFlight> = lock(&self.in_flight).drain().map(|(_, f)| f).collect();
        for f in held {
            if let Some(claim) = f.claim {
                if let Err(err) = work_items::release(&self.ctx.db, claim).await {
                    tracing::error!(error = %err, "could not release a work item");
                }
            }
            tracing::warn!(job = %f.job.class, jid = %f.job.jid, "shutdown grace period over; job handed back to its queue");
            let raw = serde_json::to_string(&f.job).unwrap_or_default();
            if let Err(err) = self.backend().add(JobSet::Schedule, now_secs(), raw).await {
                tracing::error!(error = %err, "could not hand a job back; the sweeper will find durable work");
            }
        }
    }
}

async fn run_typed<J: Job>(rt: Arc<Runtime>, job: sidekiq::Job) -> Result<Outcome, Failure> {
    let payload = job.args.get(0).cloned().unwrap_or(Value::Null);
    let db = &rt.ctx.db;
    let mut claim = None;
    let value = if J::DURABLE {
        let Some(id) = payload.get("work_item").and_then(Value::as_i64) else {
            return Err(Failure::Unparsable(format!(
                "a {} message must name its work item; got {payload}",
                J::NAME
            )));
        };
        let id = i32::try_from(id)
            .map_err(|_| Failure::Unparsable(format!("work item {id} is out of range")))?;
        let claimed = work_items::Model::claim(db, id, rt.lease())
            .await
            .map_err(|e| Failure::Error(e.into()))?;
        let Some((item, held)) = claimed else {
            let item = work_items::Model::find(db, id)
                .await
                .map_err(|e| Failure::Error(e.into()))?;
            let reason = match item {
                None => format!("work item {id} no longer exists (its local was deleted)"),
                Some(item) if item.is_finished() => {
                    format!("work item {id} is already {}", item.state)
                }
                Some(item) if item.is_leased() => {
                    format!("work item {id} is being done by another worker")
                }
                Some(item) => format!("work item {id} is {}", item.state),
            };
            return Ok(Outcome::Skipped(reason));
        };
        rt.hold(&job.jid, held);
        claim = Some(held);
        serde_json::from_str::<Value>(&item.args).unwrap_or(Value::Null)
    } else {
        payload
    };
    let args: J = match serde_json::from_value(value) {
        Ok(args) => args,
        Err(err) => {
            return Err(Failure::Unparsable(format!(
                "the arguments of {} no longer parse: {err}",
                J::NAME
            )))
        }
    };
    let run = Run {
        ctx: rt.ctx.clone(),
        jid: job.jid.clone(),
        queue: job.queue.clone(),
        enqueued_at: job.enqueued_at.map(|ms| ms / 1000.0),
        local_id: args.local_id(),
        claim,
    };
    // Long jobs keep their lease while they run; a killed worker stops renewing.
    let renewal = claim.map(|claim| {
        let db = db.clone();
        let lease = rt.lease();
        let every = Duration::from_secs((rt.settings.lease_seconds / 3).max(1));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Ok(false) = work_items::renew(&db, claim, lease).await {
                    break;
                }
            }
        })
    });
    let result = args.perform(&run).await;
    if let Some(renewal) = renewal {
        renewal.abort();
    }
    match result {
        Ok(()) => {
            if let Some(claim) = claim {
                // Already done if the job completed in its own transaction.
                work_items::finish(db, claim)
                    .await
                    .map_err(|e| Failure::Error(e.into()))?;
            }
            Ok(Outcome::Done)
        }
        Err(err) if err.skip => {
            if let Some(claim) = claim {
                work_items::skip(db, claim, &err.message)
                    .await
                    .map_err(|e| Failure::Error(e.into()))?;
            }
            Ok(Outcome::Skipped(err.message))
        }
        Err(err) => Err(Failure::Error(err)),
    }
}

/// The dispatcher inside rusty-sidekiq's chain: it runs every job itself
/// (our retries and dead set, not the library's), so the library's retry
/// step always sees success.
struct Dispatch(Arc<Runtime>);

#[async_trait::async_trait]
impl ServerMiddleware for Dispatch {
    async fn call(
        &self,
        _chain: ChainIter,
        job: &sidekiq::Job,
        _worker: Arc<WorkerRef>,
        _redis: RedisPool,
    ) -> sidekiq::Result<()> {
        self.0.execute(job).await;
        Ok(())
    }
}

/// A recurring job.
pub struct Schedule {
    pub name: &'static str,
    pub cron: String,
    pub class: &'static str,
    pub queue: Queue,
    pub payload: Value,
}

/// Workers running in this process.
pub struct Running {
    rt: Arc<Runtime>,
    stop: watch::Sender<bool>,
    cancel: Option<Box<dyn Fn() + Send + Sync>>,
    workers: Vec<JoinHandle<()>>,
    helpers: Vec<JoinHandle<()>>,
}

impl Running {
    /// Graceful shutdown: stop fetching, let running jobs finish within the
    /// grace period, hand the rest back to their queues.
    pub async fn shutdown(self) {
        // At least 3 s: idle fetches (BRPOP, 2 s) must return before anything
        // is aborted, or a job Redis hands them would be lost with them.
        let grace = Duration::from_secs(self.rt.settings.grace_seconds.max(3));
        tracing::info!(
            grace_seconds = grace.as_secs(),
            "workers stopping: no new jobs are taken"
        );
        let _ = self.stop.send(true);
        if let Some(cancel) = &self.cancel {
            cancel();
        }
        let aborts: Vec<_> = self.workers.iter().map(JoinHandle::abort_handle).collect();
        let drained = tokio::time::timeout(grace, futures_join(self.workers)).await;
        if drained.is_err() {
            self.rt.hand_back().await;
            for a in aborts {
                a.abort();
            }
        }
        self.rt.flush_counts().await;
        for h in self.helpers {
            h.abort();
        }
        tracing::info!("workers stopped");
    }
}

async fn futures_join(handles: Vec<JoinHandle<()>>) {
    for h in handles {
        let _ = h.await;
    }
}

fn every(
    stop: &watch::Sender<bool>,
    period: Duration,
    mut tick: impl FnMut() -> BoxFuture<()> + Send + 'static,
) -> JoinHandle<()> {
    let mut stopped = stop.subscribe();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(period) => tick().await,
                _ = stopped.changed() => break,
            }
        }
    })
}

/// Starts this process's workers on the configured backend, with the app's
/// recurring jobs.
///
/// # Errors
/// A schedule that does not parse, or Redis refusing the schedules.
pub async fn start(
    ctx: &AppContext,
    settings: JobSettings,
    schedules: Vec<Schedule>,
) -> loco_rs::Result<Running> {
    let rt = Runtime::new(ctx, settings.clone());
    let (stop, _) = watch::channel(false);
    let poll = Duration::from_secs(settings.poll_seconds.max(1));
    let mut helpers = vec![];
    let mut workers = vec![];
    let mut cancel: Option<Box<dyn Fn() + Send + Sync>> = None;

    // The outbox: work recorded in a model's transaction goes out from here.
    helpers.push(super::outbox::spawn_relay(
        super::Jobs::of(ctx),
        poll,
        stop.subscribe(),
    ));
    let flush_rt = rt.clone();
    helpers.push(every(&stop, Duration::from_secs(2), move || {
        let rt = flush_rt.clone();
        Box::pin(async move { rt.flush_counts().await })
    }));

    match rt.backend().clone() {
        Backend::Redis(redis) => {
            let mut periodic = vec![];
            for s in &schedules {
                let job = sidekiq::periodic::builder(&s.cron)
                    .and_then(|b| {
                        b.name(s.name)
                            .queue(s.queue.name())
                            .retry(3usize)
                            .args(s.payload.clone())
                    })
                    .and_then(|b| b.into_periodic_job(s.class.to_string()))
                    .map_err(|e| {
                        loco_rs::Error::string(&format!("jobs: schedule {}: {e}", s.name))
                    })?;
                periodic.push(job);
            }
            if let Err(err) = redis.install_periodic(&periodic).await {
                tracing::error!(error = %err, "could not install the recurring jobs (Redis unreachable?); retrying at each poll");
            }
            let poll_redis = redis.clone();
            helpers.push(every(&stop, poll, move || {
                let redis = poll_redis.clone();
                let periodic = periodic.clone();
                Box::pin(async move {
                    if let Err(err) = redis.enqueue_due().await {
                        tracing::warn!(error = %err, "could not move due jobs");
                    }
                    match redis.enqueue_periodic().await {
                        Ok(_) => {}
                        Err(err) => {
                            tracing::warn!(error = %err, "could not enqueue recurring jobs")
                        }
                    }
                    // Re-installs schedules lost with a Redis that restarted empty.
                    let _ = redis.install_periodic(&periodic).await;
                })
            }));
            let names: Vec<String> = Queue::ALL.iter().map(|q| q.name().to_string()).collect();
            let mut processor = sidekiq::Processor::new(redis.pool().clone(), names).with_config(
                sidekiq::ProcessorConfig::default()
                    .num_workers(settings.concurrency.max(1))
                    .balance_strategy(sidekiq::BalanceStrategy::None)
                    .queue_config(
                        Queue::Critical.name().to_string(),
                        sidekiq::QueueConfig::default().num_workers(settings.critical_workers),
                    ),
            );
            processor.using(Dispatch(rt.clone())).await;
            let token = processor.get_cancellation_token();
            cancel = Some(Box::new(move || token.cancel()));
            workers.push(tokio::spawn(processor.run()));
        }
        Backend::Embedded(memory) => {
            let total = settings.concurrency.max(1) + settings.critical_workers;
            memory.set_concurrency(total as u64);
            for i in 0..total {
                workers.push(embedded_worker(
                    rt.clone(),
                    memory.clone(),
                    i as u64,
                    i >= settings.concurrency.max(1),
                    &stop,
                ));
            }
            let mut timetable: Vec<(Schedule, sidekiq::periodic::Cron, i64)> = vec![];
            for s in schedules {
                let cron = sidekiq::periodic::parse(&s.cron).map_err(|e| {
                    loco_rs::Error::string(&format!("jobs: schedule {}: {e}", s.name))
                })?;
                let next = next_fire(&cron);
                timetable.push((s, cron, next));
            }
            let timetable = Arc::new(Mutex::new(timetable));
            let poll_memory = memory.clone();
            helpers.push(every(&stop, poll, move || {
                let memory = poll_memory.clone();
                let timetable = timetable.clone();
                Box::pin(async move {
                    memory.enqueue_due(now_secs());
                    let now = chrono::Utc::now().timestamp();
                    let mut due = vec![];
                    for (s, cron, next) in lock(&timetable).iter_mut() {
                        if *next <= now {
                            *next = next_fire(cron);
                            if let Ok(job) = super::message(s.class, s.queue, 3, s.payload.clone())
                            {
                                due.push(job);
                            }
                        }
                    }
                    if !due.is_empty() {
                        memory.push(due);
                    }
                })
            }));
        }
    }
    tracing::info!(
        backend = rt.backend().name(),
        concurrency = settings.concurrency,
        critical_workers = settings.critical_workers,
        "workers started"
    );
    Ok(Running {
        rt,
        stop,
        cancel,
        workers,
        helpers,
    })
}

fn next_fire(cron: &sidekiq::periodic::Cron) -> i64 {
    cron.upcoming(sidekiq::periodic::Utc)
        .next()
        .map_or(i64::MAX, |t| t.timestamp())
}

fn embedded_worker(
    rt: Arc<Runtime>,
    memory: Arc<MemoryQueue>,
    id: u64,
    critical_only: bool,
    stop: &watch::Sender<bool>,
) -> JoinHandle<()> {
    let mut stopped = stop.subscribe();
    tokio::spawn(async move {
        loop {
            let raw = tokio::select! {
                raw = memory.pop(critical_only) => raw,
                _ = stopped.changed() => break,
            };
            let Ok(job) = serde_json::from_str::<sidekiq::Job>(&raw) else {
                tracing::error!(raw = %raw, "a queued message is not a job; dropped");
                continue;
            };
            memory.started(id, &raw);
            rt.execute(&job).await;
            memory.finished(id);
        }
    })
}
