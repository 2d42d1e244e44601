//! Jobs in this process's memory (the embedded default: no Redis). The same
//! job types, retries, dead set and console as with Redis; jobs waiting here
//! are lost with the process, which is why work that must survive a crash is
//! durable (its `work_items` row is swept back onto the queue at start).
use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::Mutex,
};

use tokio::sync::Notify;

use super::{
    backend::{now_secs, BusyView, Filter, History, JobSet, JobView, ProcessView, QueueStat},
    Queue,
};

#[derive(Default)]
struct State {
    queues: HashMap<&'static str, VecDeque<String>>,
    /// Per set: (score in microseconds, sequence) → stored job.
    sets: HashMap<JobSet, BTreeMap<(i64, u64), String>>,
    seq: u64,
    busy: HashMap<u64, (f64, String)>,
    processed: u64,
    failed: u64,
    minutes: BTreeMap<i64, (u64, u64)>,
    concurrency: u64,
    started_at: f64,
    runs: HashMap<String, (u64, f64)>,
}

pub struct MemoryQueue {
    state: Mutex<State>,
    ready: Notify,
    dead_max: usize,
}

fn micros(at: f64) -> i64 {
    (at * 1_000_000.0) as i64
}

impl MemoryQueue {
    #[must_use]
    pub fn new(dead_max: usize) -> Self {
        Self {
            state: Mutex::new(State {
                started_at: now_secs(),
                ..State::default()
            }),
            ready: Notify::new(),
            dead_max,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind: keep going.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn push(&self, jobs: Vec<sidekiq::Job>) {
        let now_ms = chrono::Utc::now().timestamp_millis() as f64;
        {
            let mut state = self.lock();
            for mut job in jobs {
                job.enqueued_at = Some(now_ms);
                let queue = Queue::parse(&job.queue).unwrap_or(Queue::Default).name();
                if let Ok(raw) = serde_json::to_string(&job) {
                    state.queues.entry(queue).or_default().push_front(raw);
                }
            }
        }
        self.ready.notify_waiters();
        self.ready.notify_one();
    }

    /// The next job, highest priority first; `critical_only` for the worker
    /// reserved for critical work. Waits until one arrives.
    pub async fn pop(&self, critical_only: bool) -> String {
        loop {
            let notified = self.ready.notified();
            {
                let mut state = self.lock();
                for queue in Queue::ALL {
                    if critical_only && queue != Queue::Critical {
                        break;
                    }
                    if let Some(raw) = state
                        .queues
                        .get_mut(queue.name())
                        .and_then(VecDeque::pop_back)
                    {
                        return raw;
                    }
                }
            }
            notified.await;
        }
    }

    pub fn add(&self, set: JobSet, at: f64, raw: String) {
        let mut state = self.lock();
        state.seq += 1;
        let seq = state.seq;
        state
            .sets
            .entry(set)
            .or_default()
            .insert((micros(at), seq), raw);
        if set == JobSet::Dead {
            let dead = state.sets.entry(set).or_default();
            while dead.len() > self.dead_max {
                dead.pop_first();
            }
        }
    }

    pub fn enqueue_due(&self, now: f64) -> usize {
        let mut due = vec![];
        {
            let mut state = self.lock();
            for set in [JobSet::Retry, JobSet::Schedule] {
                let entries = state.sets.entry(set).or_default();
                let later = entries.split_off(&(micros(now) + 1, 0));
                due.extend(std::mem::replace(entries, later).into_values());
            }
        }
        let jobs: Vec<sidekiq::Job> = due
            .iter()
            .filter_map(|raw| serde_json::from_str(raw).ok())
            .collect();
        let n = jobs.len();
        if n > 0 {
            self.push(jobs);
        }
        n
    }

    pub fn queues(&self, now: f64) -> Vec<QueueStat> {
        let state = self.lock();
        Queue::ALL
            .into_iter()
            .map(|q| {
                let list = state.queues.get(q.name());
                QueueStat {
                    name: q.name().to_string(),
                    size: list.map_or(0, |l| l.len() as u64),
                    latency: list
                        .and_then(|l| l.back())
                        .and_then(|raw| JobView::parse(raw, None))
                        .and_then(|j| j.enqueued_at)
                        .map_or(0.0, |at| (now - at).max(0.0)),
                }
            })
            .collect()
    }

    pub fn queued(&self, queue: Queue, limit: usize) -> Vec<JobView> {
        let state = self.lock();
        state
            .queues
            .get(queue.name())
            .map(|l| {
                l.iter()
                    .rev()
                    .take(limit)
                    .filter_map(|raw| JobView::parse(raw, None))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn list(&self, set: JobSet, filter: &Filter, limit: usize) -> (Vec<JobView>, u64) {
        let state = self.lock();
        let Some(entries) = state.sets.get(&set) else {
            return (vec![], 0);
        };
        let parse =
            |((at, _), raw): (&(i64, u64), &String)| JobView::parse(raw, Some(*at as f64 / 1e6));
        let jobs: Vec<JobView> = if set == JobSet::Dead {
            entries
                .iter()
                .rev()
                .filter_map(parse)
                .filter(|j| filter.matches(j))
                .take(limit)
                .collect()
        } else {
            entries
                .iter()
                .filter_map(parse)
                .filter(|j| filter.matches(j))
                .take(limit)
                .collect()
        };
        (jobs, entries.len() as u64)
    }

    pub fn set_sizes(&self) -> [(JobSet, u64); 3] {
        let state = self.lock();
        let size = |s: JobSet| state.sets.get(&s).map_or(0, |e| e.len() as u64);
        [
            (JobSet::Schedule, size(JobSet::Schedule)),
            (JobSet::Retry, size(JobSet::Retry)),
            (JobSet::Dead, size(JobSet::Dead)),
        ]
    }

    pub fn take(&self, set: JobSet, jid: &str) -> Option<JobView> {
        let mut state = self.lock();
        let entries = state.sets.get_mut(&set)?;
        let key = entries.iter().find_map(|(k, raw)| {
            JobView::parse(raw, None)
                .filter(|j| j.jid == jid)
                .map(|_| *k)
        })?;
        let raw = entries.remove(&key)?;
        JobView::parse(&raw, Some(key.0 as f64 / 1e6))
    }

    pub fn set_concurrency(&self, n: u64) {
        self.lock().concurrency = n;
    }

    pub fn started(&self, worker: u64, raw: &str) {
        self.lock()
            .busy
            .insert(worker, (now_secs(), raw.to_string()));
    }

    pub fn finished(&self, worker: u64) {
        self.lock().busy.remove(&worker);
    }

    pub fn processes(&self) -> Vec<ProcessView> {
        let state = self.lock();
        if state.concurrency == 0 {
            return vec![];
        }
        vec![ProcessView {
            identity: format!("embedded:{}", std::process::id()),
            hostname: "this process".into(),
            pid: u64::from(std::process::id()),
            started_at: state.started_at,
            concurrency: state.concurrency,
            busy: state.busy.len() as u64,
            beat: now_secs(),
            quiet: false,
            rss_kb: 0,
            queues: Queue::ALL.iter().map(|q| q.name().to_string()).collect(),
        }]
    }

    pub fn busy(&self) -> Vec<BusyView> {
        let state = self.lock();
        state
            .busy
            .values()
            .filter_map(|(at, raw)| {
                JobView::parse(raw, None).map(|job| BusyView {
                    process: format!("embedded:{}", std::process::id()),
                    run_at: *at,
                    job,
                })
            })
            .collect()
    }

    pub fn add_stats(&self, minutes: &[(i64, u64, u64)]) {
        let mut state = self.lock();
        for (minute, p, f) in minutes {
            state.processed += p;
            state.failed += f;
            let entry = state.minutes.entry(*minute).or_default();
            entry.0 += p;
            entry.1 += f;
        }
        let keep_from = chrono::Utc::now().timestamp() / 60 - 26 * 60;
        state.minutes = state.minutes.split_off(&keep_from);
    }

    pub fn history(&self, minutes: i64) -> History {
        let state = self.lock();
        let now = chrono::Utc::now().timestamp() / 60;
        History {
            processed: state.processed,
            failed: state.failed,
            minutes: ((now - minutes + 1)..=now)
                .map(|m| {
                    let (p, f) = state.minutes.get(&m).copied().unwrap_or_default();
                    let label = chrono::DateTime::from_timestamp(m * 60, 0)
                        .unwrap_or_default()
                        .format("%H:%M")
                        .to_string();
                    (label, p, f)
                })
                .collect(),
        }
    }

    pub fn record_run(&self, name: &str) {
        let mut state = self.lock();
        let entry = state.runs.entry(name.to_string()).or_default();
        entry.0 += 1;
        entry.1 = now_secs();
    }

    pub fn runs(&self) -> HashMap<String, (u64, f64)> {
        self.lock().runs.clone()
    }

    pub fn trim_dead(&self, max: usize, cutoff: f64) -> u64 {
        let mut state = self.lock();
        let dead = state.sets.entry(JobSet::Dead).or_default();
        let before = dead.len();
        *dead = dead.split_off(&(micros(cutoff), u64::MAX));
        while dead.len() > max {
            dead.pop_first();
        }
        (before - dead.len()) as u64
    }
}
