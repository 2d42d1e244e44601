//! Jobs on the real Redis, run by workers in the test process, with no
//! request context: retries with backoff, the dead set, arguments that no
//! longer parse, locals that are gone or suspended, priorities, Redis going
//! away and coming back.
use std::time::Duration;

use sea_orm::EntityTrait;
use serde_json::json;
use unionhall::{
    models::{_entities::tenants as tenant_rows, operators, work_items},
    workers::{
        backend::{now_secs, Filter, JobSet},
        embedded::MemoryQueue,
        probe::Probe,
        runtime::backoff,
        Options, Queue,
    },
};

use crate::{
    requests::ops::signed_in_operator,
    support::{unique_slug, workers::eventually, TestApp},
};

const WAIT: Duration = Duration::from_secs(30);

async fn set_size(app: &TestApp, set: JobSet) -> u64 {
    app.jobs()
        .backend()
        .list(set, &Filter::default(), 100)
        .await
        .unwrap()
        .1
}

#[tokio::test]
async fn a_failing_job_is_retried_with_backoff_then_dead_with_its_error_and_the_console_acts_on_it()
{
    let app = TestApp::start_redis(|_| {}).await;
    let (operator, mut console) = signed_in_operator(&app).await;
    unionhall::app::start_workers(&app.ctx).await.unwrap();

    let jid = app
        .jobs()
        .enqueue_with(
            Probe {
                label: "flaky".into(),
                fail_times: 99,
                ..Probe::default()
            },
            Options {
                retries: Some(1),
                ..Options::default()
            },
        )
        .await
        .unwrap();
    let item = app.last_work_item().await;

    // The first failure waits in the retry set, 15 s plus jitter away.
    eventually("the job is in the retry set", WAIT, || async {
        set_size(&app, JobSet::Retry).await == 1
    })
    .await;
    let (retries, _) = app
        .jobs()
        .backend()
        .list(JobSet::Retry, &Filter::default(), 10)
        .await
        .unwrap();
    let retry = &retries[0];
    assert_eq!(retry.jid, jid);
    assert_eq!(retry.retry_count, Some(0));
    let wait = retry.at.unwrap() - now_secs();
    assert!(
        (10.0..=26.0).contains(&wait),
        "first retry in 15–25 s, was {wait}"
    );
    assert_eq!(
        retry.error.as_deref(),
        Some("probe failure on attempt 1 of 99")
    );
    assert_eq!(
        retry.backtrace,
        vec!["the probe was asked to fail".to_string()]
    );
    assert_eq!(app.work_item(item.id).await.state, work_items::FAILED);

    // The operator sees it with its error and retries it now.
    let page = console.get("/ops/jobs/retries").await.text();
    assert!(page.contains("probe failure on attempt 1 of 99"), "{page}");
    let retried = console
        .submit(&format!("/ops/jobs/retries/{jid}/run"), &[])
        .await;
    assert_eq!(retried.status_code(), 303);

    // Out of retries: dead, with its error, and its work item says so.
    eventually("the job is dead", WAIT, || async {
        set_size(&app, JobSet::Dead).await == 1
    })
    .await;
    assert_eq!(set_size(&app, JobSet::Retry).await, 0);
    let (dead, _) = app
        .jobs()
        .backend()
        .list(JobSet::Dead, &Filter::default(), 10)
        .await
        .unwrap();
    assert_eq!(dead[0].retry_count, Some(1));
    assert_eq!(
        dead[0].error.as_deref(),
        Some("probe failure on attempt 2 of 99")
    );
    let stored = app.work_item(item.id).await;
    assert_eq!(stored.state, work_items::DEAD);
    assert_eq!(stored.attempts, 2);
    let page = console.get("/ops/jobs/dead?class=Probe").await.text();
    assert!(page.contains("probe failure on attempt 2 of 99"));
    let filtered = console.get("/ops/jobs/dead?class=AccountMail").await.text();
    assert!(
        !filtered.contains("probe failure"),
        "the type filter hides other jobs"
    );

    // Discarded: gone from the dead set, its work will not be done, audited.
    let discarded = console
        .submit(&format!("/ops/jobs/dead/{jid}?_method=delete"), &[])
        .await;
    assert_eq!(discarded.status_code(), 303);
    assert_eq!(set_size(&app, JobSet::Dead).await, 0);
    assert_eq!(app.work_item(item.id).await.state, work_items::DISCARDED);
    let audit = operators::Operator::check(operator)
        .unwrap()
        .audit(&app.ctx.db, None, 10)
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.action.as_str()).collect();
    assert!(
        actions.contains(&"retry_job") && actions.contains(&"discard_job"),
        "{actions:?}"
    );
    // Acting on a job that is no longer there says so and changes nothing.
    let again = console
        .submit(&format!("/ops/jobs/dead/{jid}?_method=delete"), &[])
        .await;
    assert_eq!(again.status_code(), 303);
    assert_eq!(app.probe_runs().await.len(), 0);
    unionhall::app::stop_workers(&app.ctx).await;
}

#[test]
fn the_retry_delay_grows_with_each_failure_and_is_jittered() {
    let first: Vec<f64> = (0..200).map(|_| backoff(0)).collect();
    assert!(first.iter().all(|d| (15.0..25.0).contains(d)));
    assert!(
        first.iter().any(|d| (d - first[0]).abs() > 0.5),
        "jitter spreads the retries"
    );
    let fifth = backoff(5);
    assert!(
        (640.0..700.0).contains(&fifth),
        "5⁴ + 15 + jitter, was {fifth}"
    );
    let twentieth = backoff(20);
    assert!(twentieth > 160_000.0, "about two days by the 20th retry");
}

#[tokio::test]
async fn arguments_that_no_longer_parse_go_straight_to_the_dead_set() {
    let app = TestApp::start_redis(|_| {}).await;
    unionhall::app::start_workers(&app.ctx).await.unwrap();
    // As a deploy that changed a job's arguments would leave them.
    let stale =
        unionhall::workers::message("Noop", Queue::Bulk, 20, json!({ "sample": "yes please" }))
            .unwrap();
    let no_item =
        unionhall::workers::message("Probe", Queue::Default, 20, json!({ "label": "old shape" }))
            .unwrap();
    app.jobs()
        .backend()
        .push(vec![stale, no_item])
        .await
        .unwrap();

    eventually("both are dead", WAIT, || async {
        set_size(&app, JobSet::Dead).await == 2
    })
    .await;
    assert_eq!(set_size(&app, JobSet::Retry).await, 0, "never retried");
    let (dead, _) = app
        .jobs()
        .backend()
        .list(JobSet::Dead, &Filter::default(), 10)
        .await
        .unwrap();
    let errors: Vec<String> = dead.iter().filter_map(|d| d.error.clone()).collect();
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("the arguments of Noop no longer parse")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("must name its work item")),
        "{errors:?}"
    );
    unionhall::app::stop_workers(&app.ctx).await;
}

#[tokio::test]
async fn work_for_a_suspended_or_deleted_local_is_a_logged_no_op() {
    let app = TestApp::start_redis(|_| {}).await;
    let (suspended, _) = app.local_with_admin(&unique_slug("paused")).await;
    let (deleted, _) = app.local_with_admin(&unique_slug("gone")).await;
    let (active, _) = app.local_with_admin(&unique_slug("busy")).await;
    unionhall::app::stop_workers(&app.ctx).await;
    let probe = |local: i32, label: &str| Probe {
        label: label.into(),
        local_id: Some(local),
        ..Probe::default()
    };
    app.jobs()
        .enqueue(probe(suspended.id(), "paused"))
        .await
        .unwrap();
    let paused_item = app.last_work_item_with("paused").await;
    app.jobs()
        .enqueue(probe(deleted.id(), "gone"))
        .await
        .unwrap();
    app.jobs()
        .enqueue(probe(active.id(), "busy"))
        .await
        .unwrap();
    let busy_item = app.last_work_item_with("busy").await;
    let (op_user, _) = operators::create_operator(
        &app.ctx.db,
        unionhall::domain::Email::parse(&crate::support::unique_email("op")).unwrap(),
        unionhall::domain::PersonName::parse("Olga Operator").unwrap(),
    )
    .await
    .unwrap();
    operators::Operator::check(op_user)
        .unwrap()
        .suspend(&app.ctx.db, suspended.slug(), "unpaid dues")
        .await
        .unwrap();
    tenant_rows::Entity::delete_by_id(deleted.id())
        .exec(&app.ctx.db)
        .await
        .unwrap();

    unionhall::app::start_workers(&app.ctx).await.unwrap();
    eventually("the active local's probe ran", WAIT, || async {
        app.work_item(busy_item.id).await.state == work_items::DONE
    })
    .await;
    eventually("the suspended local's probe was skipped", WAIT, || async {
        app.work_item(paused_item.id).await.state == work_items::SKIPPED
    })
    .await;
    let skipped = app.work_item(paused_item.id).await;
    assert!(skipped.last_error.unwrap().contains("is suspended"));
    let runs = app.probe_runs().await;
    assert_eq!(runs.len(), 1, "only the active local's probe did its work");
    assert_eq!(runs[0].label, "busy");
    // Neither retried nor dead: the deleted local's work item went with it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(set_size(&app, JobSet::Retry).await, 0);
    assert_eq!(set_size(&app, JobSet::Dead).await, 0);
    unionhall::app::stop_workers(&app.ctx).await;
}

#[tokio::test]
async fn critical_work_overtakes_a_long_bulk_queue() {
    // One worker, no worker reserved for critical work: the order alone decides.
    let app = TestApp::start_redis(|jobs| {
        jobs["concurrency"] = json!(1);
        jobs["critical_workers"] = json!(0);
    })
    .await;
    let bulk: Vec<Probe> = (0..15)
        .map(|i| Probe {
            label: format!("bulk {i}"),
            sleep_ms: 150,
            ..Probe::default()
        })
        .collect();
    for probe in bulk {
        app.jobs()
            .enqueue_with(
                probe,
                Options {
                    queue: Some(Queue::Bulk),
                    ..Options::default()
                },
            )
            .await
            .unwrap();
    }
    unionhall::app::start_workers(&app.ctx).await.unwrap();
    eventually("the campaign has started", WAIT, || async {
        !app.probe_runs().await.is_empty()
    })
    .await;
    app.jobs()
        .enqueue_with(
            Probe {
                label: "password reset".into(),
                ..Probe::default()
            },
            Options {
                queue: Some(Queue::Critical),
                ..Options::default()
            },
        )
        .await
        .unwrap();
    eventually("everything ran", WAIT, || async {
        app.probe_runs().await.len() == 16
    })
    .await;
    let order: Vec<String> = app
        .probe_runs()
        .await
        .into_iter()
        .map(|r| r.label)
        .collect();
    let position = order.iter().position(|l| l == "password reset").unwrap();
    assert!(
        order.len() - position > 10,
        "the critical job ran before most of the bulk queue: {order:?}"
    );
    unionhall::app::stop_workers(&app.ctx).await;
}

#[tokio::test]
async fn the_dead_set_is_bounded_in_size_and_age() {
    let app = TestApp::start_redis(|_| {}).await;
    let redis_backend = app.jobs().backend().clone();
    let memory =
        unionhall::workers::Backend::Embedded(std::sync::Arc::new(MemoryQueue::new(10_000)));
    for backend in [redis_backend, memory] {
        let now = now_secs();
        for i in 0..5 {
            let job = unionhall::workers::message("Noop", Queue::Bulk, 0, json!({})).unwrap();
            let raw = serde_json::to_string(&job).unwrap();
            backend
                .add(JobSet::Dead, now - f64::from(i), raw)
                .await
                .unwrap();
        }
        let ancient = unionhall::workers::message("Noop", Queue::Bulk, 0, json!({})).unwrap();
        backend
            .add(
                JobSet::Dead,
                now - 200.0 * 86_400.0,
                serde_json::to_string(&ancient).unwrap(),
            )
            .await
            .unwrap();
        let removed = backend.trim_dead(3, 180).await.unwrap();
        assert_eq!(removed, 3, "{}", backend.name());
        let (kept, total) = backend
            .list(JobSet::Dead, &Filter::default(), 10)
            .await
            .unwrap();
        assert_eq!(total, 3, "{}", backend.name());
        assert!(
            kept.iter().all(|j| j.jid != ancient.jid),
            "the oldest went first"
        );
    }
}

#[tokio::test]
async fn redis_going_away_and_coming_back_loses_no_durable_work() {
    redis_outage(true).await;
}

#[tokio::test]
async fn redis_going_away_and_coming_back_loses_no_durable_work_without_connection_checks() {
    redis_outage(false).await;
}

async fn redis_outage(check_connections: bool) {
    // A Redis of this test's own, to stop and start.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let start_redis = || {
        std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server")
    };
    let mut redis = start_redis();
    let url = format!("redis://127.0.0.1:{port}");
    let app = TestApp::start_redis(|jobs| {
        jobs["redis_url"] = json!(url);
        jobs["stranded_seconds"] = json!(1);
        jobs["check_connections"] = json!(check_connections);
    })
    .await;
    let client = app.client();
    eventually("our Redis answers", WAIT, || async {
        client.get("/_readiness").await.status_code() == 200
    })
    .await;
    unionhall::app::start_workers(&app.ctx).await.unwrap();
    app.jobs()
        .enqueue(Probe {
            label: "before".into(),
            ..Probe::default()
        })
        .await
        .unwrap();
    eventually("the first probe ran", WAIT, || async {
        app.probe_runs().await.len() == 1
    })
    .await;

    redis.kill().unwrap();
    redis.wait().unwrap();
    // Both variants of this test run side by side: each finds its own item.
    let during_label = format!("during, connection checks {check_connections}");
    let refused = app
        .jobs()
        .enqueue(Probe {
            label: during_label.clone(),
            ..Probe::default()
        })
        .await;
    assert!(
        refused.is_err(),
        "the enqueue says the queue is unreachable"
    );
    let during = app.last_work_item_with(&during_label).await;
    assert_eq!(during.state, work_items::QUEUED, "but the work is recorded");
    let not_ready = client.get("/_readiness").await;
    assert_eq!(not_ready.status_code(), 503);
    assert_eq!(
        not_ready.json::<serde_json::Value>()["queue"],
        "unreachable"
    );

    let mut redis = start_redis();
    eventually("ready again", WAIT, || async {
        client.get("/_readiness").await.status_code() == 200
    })
    .await;
    // The sweeper sends the stranded work again; it runs once.
    eventually(
        "the probe enqueued while Redis was down ran",
        WAIT,
        || async { app.work_item(during.id).await.state == work_items::DONE },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(app.probe_runs_of(during.id).await, 1);
    unionhall::app::stop_workers(&app.ctx).await;
    redis.kill().ok();
    redis.wait().ok();
}

#[test]
fn the_process_role_follows_loco_s_start_flags() {
    use unionhall::workers::{JobSettings, ProcessRole};
    for (line, role) in [
        ("unionhall-cli start", ProcessRole::Web),
        ("unionhall-cli start --worker", ProcessRole::Worker),
        ("unionhall-cli start -w", ProcessRole::Worker),
        ("unionhall-cli start --worker=mail", ProcessRole::Worker),
        ("unionhall-cli start --server-and-worker", ProcessRole::Both),
        ("unionhall-cli start --all", ProcessRole::Both),
        ("unionhall-cli task prune", ProcessRole::Other),
        ("unionhall-cli task seed start:now", ProcessRole::Other),
        ("unionhall-cli db migrate", ProcessRole::Schema),
        ("unionhall-cli -e production db status", ProcessRole::Schema),
        ("unionhall-cli -e production start", ProcessRole::Web),
    ] {
        let args: Vec<String> = line.split(' ').map(str::to_string).collect();
        assert_eq!(ProcessRole::from_args(&args), role, "{line}");
    }
    let embedded = JobSettings::default();
    let redis = JobSettings {
        backend: "redis".into(),
        ..JobSettings::default()
    };
    assert!(
        ProcessRole::Web.runs_workers(&embedded),
        "the embedded queue lives in the web process"
    );
    assert!(
        !ProcessRole::Web.runs_workers(&redis),
        "with Redis, web processes only enqueue"
    );
    assert!(ProcessRole::Worker.runs_workers(&redis));
    assert!(
        !ProcessRole::Other.runs_workers(&embedded),
        "tasks never run workers"
    );
}
