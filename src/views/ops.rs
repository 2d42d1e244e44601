use askama::Template;
use serde::Deserialize;

use super::{Errors, Layout};
use crate::{
    models::{_entities::tenants, operators::Entry, work_items::Tally},
    workers::backend::{History, JobSet, JobView, ProcessView, QueueStat},
};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReasonForm {
    pub reason: String,
}

#[derive(Template)]
#[template(path = "ops/index.html")]
pub struct Index {
    pub layout: Layout,
    pub q: String,
    pub locals: Vec<tenants::Model>,
    pub next_after: Option<i32>,
}

#[derive(Template)]
#[template(path = "ops/show.html")]
pub struct Show {
    pub layout: Layout,
    pub local: tenants::Model,
    pub audit: Vec<Entry>,
    pub form: ReasonForm,
    pub errors: Errors,
}

#[derive(Template)]
#[template(path = "ops/audit.html")]
pub struct Audit {
    pub layout: Layout,
    pub entries: Vec<Entry>,
}

/// A time in seconds since the epoch, however the template holds it.
pub trait Secs {
    fn secs(&self) -> f64;
}

impl Secs for f64 {
    fn secs(&self) -> f64 {
        *self
    }
}

impl<T: Secs + ?Sized> Secs for &T {
    fn secs(&self) -> f64 {
        (**self).secs()
    }
}

/// A time as operators read it.
#[must_use]
pub fn at(secs: impl Secs) -> String {
    let secs = secs.secs();
    chrono::DateTime::from_timestamp(secs as i64, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// A duration in seconds as operators read it ("3.2 s", "4 min", "2 h").
#[must_use]
pub fn span(secs: impl Secs) -> String {
    let secs = secs.secs().abs();
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else if secs < 3600.0 {
        format!("{} min", (secs / 60.0).round())
    } else if secs < 172_800.0 {
        format!("{} h", (secs / 3600.0).round())
    } else {
        format!("{} days", (secs / 86_400.0).round())
    }
}

/// A recurring job's line on the dashboard.
pub struct Recurring {
    pub name: &'static str,
    pub cron: String,
    pub queue: &'static str,
    pub runs: u64,
    pub last: Option<f64>,
}

/// A job's line in a list, with its local's slug.
pub struct JobRow {
    pub job: JobView,
    pub local: Option<String>,
    /// When it started (running jobs).
    pub since: Option<f64>,
}

/// "3 s ago" / "in 3 s" relative to the page's `now`.
fn ago(now: f64, t: impl Secs) -> String {
    format!("{} ago", span(now - t.secs()))
}

fn until(now: f64, t: impl Secs) -> String {
    let t = t.secs();
    if t > now {
        format!("runs in {}", span(t - now))
    } else {
        "due now".to_string()
    }
}

#[derive(Template)]
#[template(path = "ops/jobs/index.html")]
pub struct JobsIndex {
    pub layout: Layout,
    pub backend: &'static str,
    /// Set when the queue could not be read (Redis down).
    pub unreachable: Option<String>,
    pub queues: Vec<QueueStat>,
    pub sets: Vec<(JobSet, u64)>,
    pub processes: Vec<ProcessView>,
    pub busy: Vec<JobRow>,
    pub history: History,
    pub chart: String,
    pub recurring: Vec<Recurring>,
    pub work: Tally,
    pub queue_names: Vec<&'static str>,
    pub now: f64,
}

impl JobsIndex {
    #[must_use]
    pub fn ago(&self, t: impl Secs) -> String {
        ago(self.now, t)
    }

    #[must_use]
    pub fn busy_count(&self) -> u64 {
        self.processes.iter().map(|p| p.busy).sum()
    }

    #[must_use]
    pub fn enqueued(&self) -> u64 {
        self.queues.iter().map(|q| q.size).sum()
    }
}

#[derive(Template)]
#[template(path = "ops/jobs/set.html")]
pub struct JobsSet {
    pub layout: Layout,
    pub set: JobSet,
    pub unreachable: Option<String>,
    pub jobs: Vec<JobRow>,
    pub total: u64,
    pub local: String,
    pub class: String,
    pub classes: Vec<&'static str>,
    pub now: f64,
}

impl JobsSet {
    #[must_use]
    pub fn ago(&self, t: impl Secs) -> String {
        ago(self.now, t)
    }

    #[must_use]
    pub fn until(&self, t: impl Secs) -> String {
        until(self.now, t)
    }
}

impl JobsQueue {
    #[must_use]
    pub fn ago(&self, t: impl Secs) -> String {
        ago(self.now, t)
    }
}

#[derive(Template)]
#[template(path = "ops/jobs/queue.html")]
pub struct JobsQueue {
    pub layout: Layout,
    pub queue: &'static str,
    pub unreachable: Option<String>,
    pub jobs: Vec<JobRow>,
    pub now: f64,
}
