//! `/ops/jobs` for operators only; probes through the embedded backend; job
//! metrics.
use std::time::Duration;

use crate::{
    requests::ops::signed_in_operator,
    support::{unique_slug, workers::eventually, TestApp, PASSWORD},
};

#[tokio::test]
async fn the_jobs_console_and_its_actions_do_not_exist_for_anyone_but_operators() {
    let app = TestApp::start().await;
    let (_, admin) = app.local_with_admin(&unique_slug("nosy")).await;
    let mut admin_browser = app.client();
    admin_browser.sign_in(&admin.email, PASSWORD).await;
    let stranger = app.client();
    for path in [
        "/ops/jobs",
        "/ops/jobs/dead",
        "/ops/jobs/retries",
        "/ops/jobs/scheduled",
        "/ops/jobs/queues/default",
    ] {
        assert_eq!(
            stranger.get(path).await.status_code(),
            404,
            "signed out: {path}"
        );
        assert_eq!(
            admin_browser.get(path).await.status_code(),
            404,
            "a local's admin: {path}"
        );
    }
    for path in [
        "/ops/jobs/probes",
        "/ops/jobs/dead/abc/run",
        "/ops/jobs/dead/abc?_method=delete",
    ] {
        assert_eq!(
            admin_browser
                .submit(path, &[("queue", "critical")])
                .await
                .status_code(),
            404,
            "{path}"
        );
    }
    assert!(app.probe_runs().await.is_empty(), "nothing was sent");
}

#[tokio::test]
async fn an_operator_sends_a_probe_and_watches_it_processed() {
    let app = TestApp::start().await;
    let (_, mut console) = signed_in_operator(&app).await;
    let page = console.get("/ops/jobs").await;
    assert_eq!(page.status_code(), 200);
    let page = page.text();
    for part in [
        "Queues",
        "critical",
        "bulk",
        "Processes",
        "Recurring jobs",
        "sweep",
        "jobs-chart",
    ] {
        assert!(page.contains(part), "the dashboard shows {part}");
    }
    let sent = console
        .submit("/ops/jobs/probes", &[("queue", "critical")])
        .await;
    assert_eq!(sent.status_code(), 303);
    eventually("the probe ran", Duration::from_secs(20), || async {
        app.probe_runs().await.len() == 1
    })
    .await;
    assert_eq!(app.probe_runs().await[0].queue, "critical");
    // Counts reach the dashboard when the workers flush them (every 2 s).
    eventually(
        "the dashboard counts it",
        Duration::from_secs(20),
        || async {
            console
                .get("/ops/jobs")
                .await
                .text()
                .contains("<span class=\"stat-value\">1</span> processed")
        },
    )
    .await;
    for path in [
        "/ops/jobs/dead",
        "/ops/jobs/retries",
        "/ops/jobs/scheduled",
        "/ops/jobs/queues/bulk",
        "/ops/jobs/dead?local=nowhere&class=Probe",
    ] {
        assert_eq!(console.get(path).await.status_code(), 200, "{path}");
    }
    assert_eq!(
        console.get("/ops/jobs/queues/nope").await.status_code(),
        404
    );
    assert_eq!(console.get("/ops/jobs/graveyard").await.status_code(), 404);

    let metrics = console.get("/metrics").await.text();
    assert!(
        metrics.contains("jobs_total{job=\"Probe\",outcome=\"done\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("job_duration_seconds"),
        "durations by job type"
    );
    assert!(
        metrics.contains("jobs_queue_size{queue=\"critical\"}"),
        "queue sizes"
    );
    assert!(
        metrics.contains("jobs_queue_latency_seconds{queue=\"bulk\"}"),
        "queue latency"
    );
}
