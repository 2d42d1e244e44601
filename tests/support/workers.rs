//! Helpers for job tests: an app on the Redis backend with a key prefix of
//! its own, worker processes started from the app's binary, waiting.
use std::{
    future::Future,
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};
use unionhall::{
    models::{_entities::probe_runs, work_items},
    workers::{redis_queue::RedisQueue, Backend, Jobs},
};

use super::TestApp;

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Job settings for tests: fast polling, short leases, a sweep every second.
#[must_use]
pub fn fast_jobs(namespace: &str) -> Value {
    json!({
        "backend": "redis",
        "redis_url": REDIS_URL,
        "namespace": namespace,
        "concurrency": 2,
        "critical_workers": 1,
        "lease_seconds": 2,
        "grace_seconds": 10,
        "poll_seconds": 1,
        "stranded_seconds": 60,
        "sweep_cron": "* * * * * *",
        "prune_cron": "0 0 0 1 1 *",
        "dead_max": 10000,
        "dead_days": 180
    })
}

impl TestApp {
    /// The app on the Redis backend under a key prefix of its own; no
    /// workers run until the test starts some.
    pub async fn start_redis(change: impl FnOnce(&mut Value)) -> Self {
        let namespace = format!(
            "uh-test-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let mut jobs = fast_jobs(&namespace);
        change(&mut jobs);
        Self::start_with(move |config| {
            let settings = config.settings.get_or_insert_with(|| json!({}));
            settings["jobs"] = jobs;
        })
        .await
    }

    #[must_use]
    pub fn jobs(&self) -> Jobs {
        Jobs::of(&self.ctx)
    }

    /// The Redis backend (panics on the embedded one).
    #[must_use]
    pub fn redis(&self) -> RedisQueue {
        match self.jobs().backend() {
            Backend::Redis(r) => r.clone(),
            Backend::Embedded(_) => panic!("this test needs the Redis backend"),
        }
    }

    /// Probe runs, oldest first: (work item, label).
    pub async fn probe_runs(&self) -> Vec<probe_runs::Model> {
        probe_runs::Entity::find()
            .order_by_asc(probe_runs::Column::Id)
            .all(&self.ctx.db)
            .await
            .unwrap()
    }

    pub async fn probe_runs_of(&self, item: i32) -> u64 {
        probe_runs::Entity::find()
            .filter(probe_runs::Column::WorkItemId.eq(item))
            .count(&self.ctx.db)
            .await
            .unwrap()
    }

    pub async fn work_item(&self, id: i32) -> work_items::Model {
        work_items::Model::find(&self.ctx.db, id)
            .await
            .unwrap()
            .expect("work item exists")
    }

    /// The newest work item (the one a test just enqueued).
    pub async fn last_work_item(&self) -> work_items::Model {
        self.last_work_item_with("").await
    }

    /// The latest work item whose arguments hold `text` (a probe's label):
    /// tests run side by side, so the latest of all may be another test's.
    pub async fn last_work_item_with(&self, text: &str) -> work_items::Model {
        work_items::Entity::find()
            .filter(work_items::Column::Args.contains(text))
            .order_by_desc(work_items::Column::Id)
            .one(&self.ctx.db)
            .await
            .unwrap()
            .expect("a work item")
    }
}

/// Waits until `check` holds, polling; panics with `what` after `timeout`.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return;
        }
        assert!(start.elapsed() < timeout, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A worker process (`unionhall-cli start --worker`) on the test's database
/// and Redis prefix; its log is kept in a temp file, printed if it fails.
pub struct WorkerProcess {
    child: Child,
    pub log: PathBuf,
}

impl WorkerProcess {
    pub fn spawn(app: &TestApp, env: &[(&str, &str)]) -> Self {
        let namespace = app.jobs_namespace.clone().expect("a Redis test app");
        let log =
            std::env::temp_dir().join(format!("uh-worker-{}.log", uuid::Uuid::new_v4().simple()));
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_unionhall-cli"));
        command
            .args(["start", "--worker"])
            .env("LOCO_ENV", "test")
            .env("DATABASE_URL", &app.database_url)
            .env("DATABASE_OWNER_URL", &app.owner_url)
            .env("JOBS_BACKEND", "redis")
            .env("REDIS_URL", REDIS_URL)
            .env("JOBS_NAMESPACE", &namespace)
            .env("JOBS_POLL_SECONDS", "1")
            .env("JOBS_LEASE_SECONDS", "2")
            .env("JOBS_SWEEP_CRON", "* * * * * *")
            .env("JOBS_PRUNE_CRON", "0 0 0 1 1 *")
            .env("JOBS_CONCURRENCY", "2")
            .env("LOG_LEVEL", "info")
            .env("SMTP_PORT", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("start a worker process");
        Self { child, log }
    }

    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process dies at once, holding whatever it held.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then waits for the process to exit (panics after `within`).
    pub async fn terminate(&mut self, within: Duration) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success(), "kill -TERM failed");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if start.elapsed() > within {
                let _ = self.child.kill();
                panic!(
                    "the worker did not exit within {within:?} of SIGTERM; log:\n{}",
                    self.log_text()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    #[must_use]
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Deletes a test's Redis keys (blocking: called from `Drop`).
pub fn clear_namespace(namespace: &str) {
    let Ok(client) = redis::Client::open(REDIS_URL) else {
        return;
    };
    let Ok(mut conn) = client.get_connection() else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{namespace}:*"))
        .query(&mut conn)
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut conn);
    }
}
