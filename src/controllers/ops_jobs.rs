//! `/ops/jobs`: the job queues in the spirit of Sidekiq's Web UI, for
//! operators only (everyone else gets 404 from the `Ops` extractor).
use axum::{
    extract::{Path, RawQuery, State},
    routing::{get, post},
};
use loco_rs::prelude::{AppContext, Routes};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::{ops::Ops, redirect_with, render, Verified, WebError, WebResult};
use crate::{
    models::{tenants, work_items, Error},
    settings::Settings,
    views::{
        ops::{JobRow, JobsIndex, JobsQueue, JobsSet, Recurring},
        Flash, Layout,
    },
    workers::{
        backend::{now_secs, Filter, JobSet, JobView},
        schedules, Jobs, Queue,
    },
};

/// Jobs listed per page of a set or queue.
const LIST: usize = 100;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SetQuery {
    local: String,
    class: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProbeForm {
    queue: String,
}

async fn rows(ctx: &AppContext, ops: &Ops, jobs: Vec<JobView>) -> Result<Vec<JobRow>, WebError> {
    let ids: Vec<i64> = jobs.iter().filter_map(|j| j.local_id).collect();
    let slugs = ops.0.local_slugs(&ctx.db, &ids).await?;
    Ok(jobs
        .into_iter()
        .map(|job| JobRow {
            local: job.local_id.and_then(|l| slugs.get(&l).cloned()),
            job,
            since: None,
        })
        .collect())
}

fn job_types(jobs: &Jobs) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = jobs.registry().names().collect();
    names.sort_unstable();
    names
}

async fn index(State(ctx): State<AppContext>, ops: Ops, layout: Layout) -> WebResult {
    let jobs = Jobs::of(&ctx);
    let backend = jobs.backend();
    let settings = Settings::of(&ctx).jobs;
    let read = async {
        Ok::<_, String>((
            backend.queues().await?,
            backend.set_sizes().await?,
            backend.processes().await?,
            backend.busy().await?,
            backend.history(60).await?,
            backend.runs().await?,
        ))
    };
    let (unreachable, (queues, sets, processes, busy, history, runs)) = match read.await {
        Ok(parts) => (None, parts),
        Err(err) => (
            Some(err),
            (
                vec![],
                [(JobSet::Schedule, 0), (JobSet::Retry, 0), (JobSet::Dead, 0)],
                vec![],
                vec![],
                Default::default(),
                Default::default(),
            ),
        ),
    };
    let chart = json!({
        "labels": history.minutes.iter().map(|m| &m.0).collect::<Vec<_>>(),
        "processed": history.minutes.iter().map(|m| m.1).collect::<Vec<_>>(),
        "failed": history.minutes.iter().map(|m| m.2).collect::<Vec<_>>(),
    })
    .to_string()
    // Inside a <script> element: no way out of it.
    .replace('<', "\\u003c");
    let recurring = schedules(&settings)
        .into_iter()
        .map(|s| {
            let (runs, last) = runs.get(s.name).copied().unwrap_or_default();
            Recurring {
                name: s.name,
                cron: s.cron,
                queue: s.queue.name(),
                runs,
                last: (runs > 0).then_some(last),
            }
        })
        .collect();
    let since: Vec<f64> = busy.iter().map(|b| b.run_at).collect();
    let mut busy = rows(&ctx, &ops, busy.into_iter().map(|b| b.job).collect()).await?;
    for (row, at) in busy.iter_mut().zip(since) {
        row.since = Some(at);
    }
    render(&JobsIndex {
        layout,
        backend: backend.name(),
        unreachable,
        queues,
        sets: sets.to_vec(),
        processes,
        busy,
        history,
        chart,
        recurring,
        work: work_items::tally(&ctx.db).await.map_err(Error::from)?,
        queue_names: Queue::ALL.iter().map(|q| q.name()).collect(),
        now: now_secs(),
    })
}

async fn queue(
    State(ctx): State<AppContext>,
    ops: Ops,
    Path(name): Path<String>,
    layout: Layout,
) -> WebResult {
    let queue = Queue::parse(&name).ok_or(WebError::NotFound)?;
    let (unreachable, jobs) = match Jobs::of(&ctx).backend().queued(queue, LIST).await {
        Ok(jobs) => (None, jobs),
        Err(err) => (Some(err), vec![]),
    };
    render(&JobsQueue {
        layout,
        queue: queue.name(),
        unreachable,
        jobs: rows(&ctx, &ops, jobs).await?,
        now: now_secs(),
    })
}

async fn set(
    State(ctx): State<AppContext>,
    ops: Ops,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    layout: Layout,
) -> WebResult {
    let set = JobSet::parse(&name)
        .filter(|s| s.slug() == name)
        .ok_or(WebError::NotFound)?;
    // A malformed query is simply no filter.
    let query: SetQuery =
        serde_html_form::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let local = query.local.trim().to_string();
    let class = job_types(&Jobs::of(&ctx))
        .into_iter()
        .find(|c| *c == query.class)
        .map(str::to_string);
    let local_id = if local.is_empty() {
        None
    } else {
        // An unknown local matches no job (id 0 is never used).
        Some(
            tenants::Model::find_by_slug(&ctx.db, &local)
                .await
                .map_or(0, |t| i64::from(t.id)),
        )
    };
    let filter = Filter {
        local_id,
        class: class.clone(),
    };
    let (unreachable, jobs, total) = match Jobs::of(&ctx).backend().list(set, &filter, LIST).await {
        Ok((jobs, total)) => (None, jobs, total),
        Err(err) => (Some(err), vec![], 0),
    };
    render(&JobsSet {
        layout,
        set,
        unreachable,
        jobs: rows(&ctx, &ops, jobs).await?,
        total,
        local,
        class: class.unwrap_or_default(),
        classes: job_types(&Jobs::of(&ctx)),
        now: now_secs(),
    })
}

fn set_of(name: &str) -> Result<JobSet, WebError> {
    JobSet::parse(name)
        .filter(|s| s.slug() == name)
        .ok_or(WebError::NotFound)
}

/// Retry now (retries, dead) or run now (scheduled).
async fn run(
    State(ctx): State<AppContext>,
    session: Session,
    ops: Ops,
    Path((name, jid)): Path<(String, String)>,
    Verified(_): Verified<super::Empty>,
) -> WebResult {
    let set = set_of(&name)?;
    let done = ops.0.run_job_now(&Jobs::of(&ctx), &ctx.db, set, &jid).await;
    after_action(&session, set, done, |job| {
        format!("{} was put on the {} queue.", job.class, job.queue)
    })
    .await
}

/// Back to the set's page with what became of the operator's action (a
/// failing queue or database is said there too: the action changed nothing).
async fn after_action(
    session: &Session,
    set: JobSet,
    done: Result<JobView, Error>,
    notice: impl FnOnce(&JobView) -> String,
) -> WebResult {
    let back = format!("/ops/jobs/{}", set.slug());
    let flash = match done {
        Ok(job) => Flash::notice(notice(&job)),
        Err(Error::NotFound) => Flash::alert(
            "That job is no longer there: it already ran, or someone acted on it first.",
        ),
        Err(err) => {
            tracing::error!(error = %err, "a jobs console action failed");
            Flash::alert(
                "The job queue could not be reached, so nothing changed. Try again in a moment.",
            )
        }
    };
    redirect_with(session, &back, flash).await
}

async fn discard(
    State(ctx): State<AppContext>,
    session: Session,
    ops: Ops,
    Path((name, jid)): Path<(String, String)>,
    Verified(_): Verified<super::Empty>,
) -> WebResult {
    let set = set_of(&name)?;
    let done = ops.0.discard_job(&Jobs::of(&ctx), &ctx.db, set, &jid).await;
    after_action(&session, set, done, |job| {
        format!("{} was discarded.", job.class)
    })
    .await
}

async fn probe(
    State(ctx): State<AppContext>,
    session: Session,
    ops: Ops,
    Verified(form): Verified<ProbeForm>,
) -> WebResult {
    let queue = Queue::parse(&form.queue).unwrap_or(Queue::Default);
    let message = match ops.0.send_probe(&Jobs::of(&ctx), &ctx.db, queue).await {
        Ok(jid) => Flash::notice(format!("Probe {jid} sent on {}.", queue.name())),
        Err(err) => Flash::alert(format!("The probe could not be sent: {err}")),
    };
    redirect_with(&session, "/ops/jobs", message).await
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/ops/jobs", get(index))
        .add("/ops/jobs/probes", post(probe))
        .add("/ops/jobs/queues/{name}", get(queue))
        .add("/ops/jobs/{set}", get(set))
        .add("/ops/jobs/{set}/{jid}", axum::routing::delete(discard))
        .add("/ops/jobs/{set}/{jid}/run", post(run))
}
