//! The two queue backends behind one set of operations, and the views of
//! jobs the console and `/metrics` read from either.
use std::{collections::HashMap, sync::Arc, time::Duration};

use serde_json::Value;

use super::{embedded::MemoryQueue, redis_queue::RedisQueue, Queue};

/// Sidekiq's sorted sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobSet {
    Retry,
    Schedule,
    Dead,
}

impl JobSet {
    pub const ALL: [Self; 3] = [Self::Schedule, Self::Retry, Self::Dead];

    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Retry => "retry",
            Self::Schedule => "schedule",
            Self::Dead => "dead",
        }
    }

    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "retries" | "retry" => Some(Self::Retry),
            "scheduled" | "schedule" => Some(Self::Schedule),
            "dead" => Some(Self::Dead),
            _ => None,
        }
    }

    /// The console's path segment.
    #[must_use]
    pub fn slug(self) -> &'static str {
        match self {
            Self::Retry => "retries",
            Self::Schedule => "scheduled",
            Self::Dead => "dead",
        }
    }
}

/// One job as stored (in a queue or a set), read for display.
#[derive(Debug, Clone)]
pub struct JobView {
    pub jid: String,
    pub class: String,
    pub queue: String,
    pub args: Value,
    pub local_id: Option<i64>,
    pub work_item: Option<i64>,
    /// When it runs (scheduled, retries) or died (dead), in seconds since the epoch.
    pub at: Option<f64>,
    pub enqueued_at: Option<f64>,
    pub retry_count: Option<u64>,
    pub error: Option<String>,
    pub backtrace: Vec<String>,
    /// The exact stored JSON, to remove this very entry.
    pub raw: String,
}

impl JobView {
    #[must_use]
    pub fn parse(raw: &str, at: Option<f64>) -> Option<Self> {
        let value: Value = serde_json::from_str(raw).ok()?;
        let first = value.get("args").and_then(|a| a.get(0));
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
        Some(Self {
            jid: text("jid").unwrap_or_default(),
            class: text("class").unwrap_or_default(),
            queue: text("queue").unwrap_or_default(),
            args: value.get("args").cloned().unwrap_or(Value::Null),
            local_id: first
                .and_then(|a| a.get("local_id"))
                .and_then(Value::as_i64),
            work_item: first
                .and_then(|a| a.get("work_item"))
                .and_then(Value::as_i64),
            at,
            enqueued_at: value
                .get("enqueued_at")
                .and_then(Value::as_f64)
                .map(|ms| ms / 1000.0),
            retry_count: value.get("retry_count").and_then(Value::as_u64),
            error: text("error_message"),
            backtrace: value
                .get("error_backtrace")
                .and_then(Value::as_array)
                .map(|lines| {
                    lines
                        .iter()
                        .filter_map(|l| l.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            raw: raw.to_string(),
        })
    }

    /// The arguments as one line of JSON, for display.
    #[must_use]
    pub fn args_text(&self) -> String {
        let text = self.args.to_string();
        if text.chars().count() > 200 {
            format!("{}…", text.chars().take(200).collect::<String>())
        } else {
            text
        }
    }
}

/// Which jobs the console lists.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub local_id: Option<i64>,
    pub class: Option<String>,
}

impl Filter {
    #[must_use]
    pub fn matches(&self, job: &JobView) -> bool {
        self.local_id.is_none_or(|l| job.local_id == Some(l))
            && self.class.as_deref().is_none_or(|c| job.class == c)
    }
}

#[derive(Debug, Clone)]
pub struct QueueStat {
    pub name: String,
    pub size: u64,
    /// Seconds the oldest job has waited.
    pub latency: f64,
}

/// A worker process, from its heartbeat.
#[derive(Debug, Clone)]
pub struct ProcessView {
    pub identity: String,
    pub hostname: String,
    pub pid: u64,
    pub started_at: f64,
    pub concurrency: u64,
    pub busy: u64,
    pub beat: f64,
    pub quiet: bool,
    pub rss_kb: u64,
    pub queues: Vec<String>,
}

/// A job running now.
#[derive(Debug, Clone)]
pub struct BusyView {
    pub process: String,
    pub run_at: f64,
    pub job: JobView,
}

/// Processed and failed counts, in total and per minute.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub processed: u64,
    pub failed: u64,
    /// (minute as "HH:MM", processed, failed), oldest first.
    pub minutes: Vec<(String, u64, u64)>,
}

#[derive(Clone)]
pub enum Backend {
    Redis(RedisQueue),
    Embedded(Arc<MemoryQueue>),
}

impl Backend {
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Redis(_) => "redis",
            Self::Embedded(_) => "embedded",
        }
    }

    /// Puts jobs on their queues now.
    ///
    /// # Errors
    /// The queue is unreachable.
    pub async fn push(&self, jobs: Vec<sidekiq::Job>) -> Result<(), String> {
        match self {
            Self::Redis(r) => r.push(jobs).await,
            Self::Embedded(m) => {
                m.push(jobs);
                Ok(())
            }
        }
    }

    /// Puts a job in the `schedule` set to run after `delay`.
    ///
    /// # Errors
    /// The queue is unreachable.
    pub async fn schedule(&self, job: sidekiq::Job, delay: Duration) -> Result<(), String> {
        let at = now_secs() + delay.as_secs_f64();
        let raw = serde_json::to_string(&job).map_err(|e| e.to_string())?;
        self.add(JobSet::Schedule, at, raw).await
    }

    /// Adds a stored job to a set with its score.
    ///
    /// # Errors
    /// The queue is unreachable.
    pub async fn add(&self, set: JobSet, at: f64, raw: String) -> Result<(), String> {
        match self {
            Self::Redis(r) => r.add(set, at, raw).await,
            Self::Embedded(m) => {
                m.add(set, at, raw);
                Ok(())
            }
        }
    }

    /// Moves due retries and scheduled jobs to their queues.
    ///
    /// # Errors
    /// The queue is unreachable.
    pub async fn enqueue_due(&self) -> Result<usize, String> {
        match self {
            Self::Redis(r) => r.enqueue_due().await,
            Self::Embedded(m) => Ok(m.enqueue_due(now_secs())),
        }
    }

    /// # Errors
    /// The queue is unreachable.
    pub async fn queues(&self) -> Result<Vec<QueueStat>, String> {
        match self {
            Self::Redis(r) => r.queues().await,
            Self::Embedded(m) => Ok(m.queues(now_secs())),
        }
    }

    /// Jobs waiting in a queue, oldest first.
    ///
    /// # Errors
    /// The queue is unreachable.
    pub async fn queued(&self, queue: Queue, limit: usize) -> Result<Vec<JobView>, String> {
        match self {
            Self::Redis(r) => r.queued(queue, limit).await,
            Self::Embedded(m) => Ok(m.queued(queue, limit)),
        }
    }

    /// The set's jobs matching `filter` (soonest / newest first), at most
    /// `limit`, and how many the set holds in all.
    ///
    /// # Errors
    /// The queue is unreachable.
    pub async fn list(
        &self,
        set: JobSet,
        filter: &Filter,
        limit: usize,
    ) -> Result<(Vec<JobView>, u64), String> {
        match self {
            Self::Redis(r) => r.list(set, filter, limit).await,
            Self::Embedded(m) => Ok(m.list(set, filter, limit)),
        }
    }

    /// Sizes of the three sets.
    ///
    /// # Errors
    /// The queue is unreachable.
    pub async fn set_sizes(&self) -> Result<[(JobSet, u64); 3], String> {
        match self {
            Self::Redis(r) => r.set_sizes().await,
            Self::Embedded(m) => Ok(m.set_sizes()),
        }
    }

    /// Removes the job `jid` from a set and returns it.
    ///
    /// # Errors
    /// The queue is unreachable.
    pub async fn take(&self, set: JobSet, jid: &str) -> Result<Option<JobView>, String> {
        match self {
            Self::Redis(r) => r.take(set, jid).await,
            Self::Embedded(m) => Ok(m.take(set, jid)),
        }
    }

    /// Removes the job `jid` from a set and puts it on its queue now.
    ///
    /// # Errors
    /// The queue is unreachable.
    pub async fn run_now(&self, set: JobSet, jid: &str) -> Result<Option<JobView>, String> {
        let Some(job) = self.take(set, jid).await? else {
            return Ok(None);
        };
        let parsed: sidekiq::Job = serde_json::from_str(&job.raw).map_err(|e| e.to_string())?;
        self.push(vec![parsed]).await?;
        Ok(Some(job))
    }

    /// # Errors
    /// The queue is unreachable.
    pub async fn processes(&self) -> Result<Vec<ProcessView>, String> {
        match self {
            Self::Redis(r) => r.processes().await,
            Self::Embedded(m) => Ok(m.processes()),
        }
    }

    /// # Errors
    /// The queue is unreachable.
    pub async fn busy(&self) -> Result<Vec<BusyView>, String> {
        match self {
            Self::Redis(r) => r.busy().await,
            Self::Embedded(m) => Ok(m.busy()),
        }
    }

    /// Adds counts to the processed / failed statistics.
    ///
    /// # Errors
    /// The queue is unreachable.
    pub async fn add_stats(&self, minutes: &[(i64, u64, u64)]) -> Result<(), String> {
        match self {
            Self::Redis(r) => r.add_stats(minutes).await,
            Self::Embedded(m) => {
                m.add_stats(minutes);
                Ok(())
            }
        }
    }

    /// Totals and the last `minutes` minutes of history.
    ///
    /// # Errors
    /// The queue is unreachable.
    pub async fn history(&self, minutes: i64) -> Result<History, String> {
        match self {
            Self::Redis(r) => r.history(minutes).await,
            Self::Embedded(m) => Ok(m.history(minutes)),
        }
    }

    /// Keeps the dead set within `max` jobs and `days` days.
    ///
    /// # Errors
    /// The queue is unreachable.
    pub async fn trim_dead(&self, max: usize, days: i64) -> Result<u64, String> {
        let cutoff = now_secs() - (days as f64) * 86_400.0;
        match self {
            Self::Redis(r) => r.trim_dead(max, cutoff).await,
            Self::Embedded(m) => Ok(m.trim_dead(max, cutoff)),
        }
    }

    /// Notes that a recurring job ran (the console shows when, and how often).
    ///
    /// # Errors
    /// The queue is unreachable.
    pub async fn record_run(&self, name: &str) -> Result<(), String> {
        match self {
            Self::Redis(r) => r.record_run(name).await,
            Self::Embedded(m) => {
                m.record_run(name);
                Ok(())
            }
        }
    }

    /// Recurring jobs by name: (times run, last run in seconds since the epoch).
    ///
    /// # Errors
    /// The queue is unreachable.
    pub async fn runs(&self) -> Result<HashMap<String, (u64, f64)>, String> {
        match self {
            Self::Redis(r) => r.runs().await,
            Self::Embedded(m) => Ok(m.runs()),
        }
    }

    /// Appends a measurement to a list (the benchmark's latency samples).
    ///
    /// # Errors
    /// The queue is unreachable.
    pub async fn record_sample(&self, key: &str, value: u64) -> Result<(), String> {
        match self {
            Self::Redis(r) => r.record_sample(key, value).await,
            Self::Embedded(_) => Ok(()),
        }
    }

    /// Answers when the queue is reachable (readiness).
    ///
    /// # Errors
    /// The queue is unreachable.
    pub async fn ping(&self) -> Result<(), String> {
        match self {
            Self::Redis(r) => r.ping().await,
            Self::Embedded(_) => Ok(()),
        }
    }
}

/// Seconds since the epoch, with fractions.
#[must_use]
pub fn now_secs() -> f64 {
    chrono::Utc::now().timestamp_micros() as f64 / 1_000_000.0
}
