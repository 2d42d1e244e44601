//! Worker processes started from the app's binary (`start --worker`), as in
//! production: killed with SIGKILL mid-job, stopped with SIGTERM, and two of
//! them sharing a recurring job.
use std::time::Duration;

use redis::AsyncCommands;
use unionhall::{
    models::work_items,
    workers::{
        backend::{Filter, JobSet},
        probe::Probe,
    },
};

use crate::support::{
    workers::{eventually, WorkerProcess},
    TestApp,
};

const WAIT: Duration = Duration::from_secs(60);

async fn running(app: &TestApp, id: i32) -> bool {
    app.work_item(id).await.state == work_items::RUNNING
}

#[tokio::test]
async fn a_worker_killed_mid_job_loses_nothing_and_the_work_finishes_exactly_once_after_a_restart()
{
    let app = TestApp::start_redis(|_| {}).await;
    let mut first = WorkerProcess::spawn(&app, &[]);
    app.jobs()
        .enqueue(Probe {
            label: "killed mid-job".into(),
            sleep_ms: 4_000,
            ..Probe::default()
        })
        .await
        .unwrap();
    let item = app.last_work_item_with("killed mid-job").await;
    eventually("the first worker holds the job", WAIT, || {
        running(&app, item.id)
    })
    .await;

    first.kill();
    assert_eq!(
        app.probe_runs_of(item.id).await,
        0,
        "killed before its work was done"
    );
    // Gone from Redis with the worker (BRPOP); the lease in the table remains.
    assert_eq!(app.redis().llen("queue:default").await.unwrap(), 0);

    let mut second = WorkerProcess::spawn(&app, &[]);
    eventually("the work is done after the restart", WAIT, || async {
        app.work_item(item.id).await.state == work_items::DONE
    })
    .await;
    // A few more sweeps: nothing runs it again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(app.probe_runs_of(item.id).await, 1, "exactly once");
    let done = app.work_item(item.id).await;
    assert_eq!(
        done.attempts, 2,
        "the killed attempt and the one that finished"
    );
    let status = second.terminate(Duration::from_secs(30)).await;
    assert!(status.success(), "{}", second.log_text());
}

#[tokio::test]
async fn sigterm_lets_the_running_job_finish_then_the_worker_exits() {
    let app = TestApp::start_redis(|_| {}).await;
    let mut worker = WorkerProcess::spawn(&app, &[("JOBS_GRACE_SECONDS", "20")]);
    app.jobs()
        .enqueue(Probe {
            label: "finishes during shutdown".into(),
            sleep_ms: 2_000,
            ..Probe::default()
        })
        .await
        .unwrap();
    let item = app.last_work_item_with("finishes during shutdown").await;
    eventually("the worker holds the job", WAIT, || running(&app, item.id)).await;

    let status = worker.terminate(Duration::from_secs(30)).await;
    assert!(status.success(), "{}", worker.log_text());
    assert_eq!(app.work_item(item.id).await.state, work_items::DONE);
    assert_eq!(app.probe_runs_of(item.id).await, 1);
    let log = worker.log_text();
    assert!(log.contains("workers stopping"), "{log}");
}

#[tokio::test]
async fn a_job_outlasting_the_grace_period_is_handed_back_for_another_worker() {
    let app = TestApp::start_redis(|_| {}).await;
    let mut worker = WorkerProcess::spawn(&app, &[("JOBS_GRACE_SECONDS", "1")]);
    app.jobs()
        .enqueue(Probe {
            label: "too long for the grace period".into(),
            sleep_ms: 10_000,
            ..Probe::default()
        })
        .await
        .unwrap();
    let item = app
        .last_work_item_with("too long for the grace period")
        .await;
    eventually("the worker holds the job", WAIT, || running(&app, item.id)).await;

    let status = worker.terminate(Duration::from_secs(30)).await;
    assert!(status.success(), "{}", worker.log_text());
    // The job sleeps ten seconds: had the worker waited for it, it would be
    // done and its run recorded. It was released unfinished instead.
    assert_eq!(
        app.work_item(item.id).await.state,
        work_items::QUEUED,
        "released"
    );
    let (waiting, _) = app
        .jobs()
        .backend()
        .list(JobSet::Schedule, &Filter::default(), 10)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1, "handed back, due now");
    assert_eq!(waiting[0].work_item, Some(i64::from(item.id)));
    assert_eq!(app.probe_runs_of(item.id).await, 0);

    let mut next = WorkerProcess::spawn(&app, &[]);
    eventually("another worker finishes it", WAIT, || async {
        app.work_item(item.id).await.state == work_items::DONE
    })
    .await;
    assert_eq!(app.probe_runs_of(item.id).await, 1);
    next.terminate(Duration::from_secs(30)).await;
}

#[tokio::test]
async fn a_recurring_job_fires_once_per_schedule_however_many_workers_run() {
    let app = TestApp::start_redis(|_| {}).await;
    let namespace = app.jobs_namespace.clone().unwrap();
    let client = redis::Client::open(crate::support::workers::REDIS_URL).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let runs_key = format!("{namespace}:unionhall:periodic:runs");
    // The sweeper every 2 seconds, polled every second by each of two workers.
    let every_two = [("JOBS_SWEEP_CRON", "*/2 * * * * *")];
    let mut a = WorkerProcess::spawn(&app, &every_two);
    let mut b = WorkerProcess::spawn(&app, &every_two);
    eventually("the sweep ran three times", WAIT, || {
        let mut conn = conn.clone();
        let runs_key = runs_key.clone();
        async move {
            let runs: Option<u64> = conn.hget(&runs_key, "sweep").await.unwrap();
            runs.unwrap_or(0) >= 3
        }
    })
    .await;
    a.terminate(Duration::from_secs(30)).await;
    b.terminate(Duration::from_secs(30)).await;

    // Each schedule time that fired left one claim, named by that time.
    let runs: u64 = conn.hget(&runs_key, "sweep").await.unwrap();
    let claims: Vec<String> = conn
        .keys(format!("{namespace}:unionhall:periodic:fired:sweep:*"))
        .await
        .unwrap();
    let times: Vec<i64> = claims
        .iter()
        .map(|k| k.rsplit(':').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        times.iter().all(|t| t % 2 == 0),
        "every claim is a schedule time of */2: {times:?}"
    );
    assert!(
        runs <= times.len() as u64,
        "at most one run per schedule time: {runs} runs for the times {times:?}"
    );
    assert!(times.len() >= 3, "{times:?}");
}

#[tokio::test]
async fn work_recorded_in_a_model_s_transaction_runs_even_when_its_sender_dies_after_the_commit() {
    use unionhall::models::{
        member_bulk_changes::{BulkChange, Model as Bulk, Selection},
        members::{MemberFilter, Model as Member},
        structure::Directory,
    };
    // This test process runs no relay and no worker: it plays a web process
    // that committed the change and died before sending its message.
    let app = TestApp::start_redis(|_| {}).await;
    let (tenant, _) = app
        .local_with_admin(&crate::support::unique_slug("outbox"))
        .await;
    for i in 0..205 {
        Member::create(
            &tenant,
            crate::support::new_member(&format!("Worker{i:03}"), "Outbox", false),
        )
        .await
        .unwrap();
    }
    let retired = Directory::load(&tenant)
        .await
        .unwrap()
        .statuses
        .iter()
        .find(|s| s.name == "Retired")
        .unwrap()
        .pid;
    let bulk = Bulk::create(
        &tenant,
        Selection::Filter(MemberFilter::default()),
        BulkChange {
            status: Some(retired),
            ..BulkChange::default()
        },
    )
    .await
    .unwrap();
    assert!(bulk.is_running(), "large enough for a job");
    // The job was recorded with the change and not sent.
    let item = app.last_work_item().await;
    assert_eq!(item.kind, "ChangeMembers");
    assert_eq!(item.local_id, Some(tenant.id()));
    assert!(item.sent_at.is_none(), "recorded, not sent");
    assert_eq!(app.redis().llen("queue:bulk").await.unwrap(), 0);

    // A worker process comes up: its relay sends what was recorded.
    let mut worker = WorkerProcess::spawn(&app, &[]);
    eventually("the bulk change is done", WAIT, || async {
        Bulk::find(&tenant, bulk.pid).await.unwrap().state == "done"
    })
    .await;
    let done = Bulk::find(&tenant, bulk.pid).await.unwrap();
    assert_eq!(done.changed_count, 205);
    let item = app.work_item(item.id).await;
    assert_eq!(item.state, work_items::DONE);
    assert!(item.sent_at.is_some());
    assert_eq!(item.attempts, 1, "sent once, run once");
    let status = worker.terminate(Duration::from_secs(30)).await;
    assert!(status.success(), "{}", worker.log_text());
}
