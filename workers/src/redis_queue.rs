//! Jobs in Redis, in Sidekiq's layout (`queues`, `queue:<name>`, `retry`,
//! `schedule`, `dead`, `processes`, `stat:*`), fetched by `rusty-sidekiq`.
use std::time::Duration;

use redis::AsyncCommands;
use sidekiq::{RedisConnectionManager, RedisPool};

use super::{
    backend::{now_secs, BusyView, Filter, History, JobSet, JobView, ProcessView, QueueStat},
    JobSettings, Queue,
};

/// How long the history of processed / failed counts per minute is kept.
const HISTORY_SECONDS: i64 = 26 * 3600;
/// The console reads at most this many entries of a set to filter them.
const SCAN_LIMIT: isize = 5_000;

#[derive(Clone)]
pub struct RedisQueue {
    pool: RedisPool,
    namespace: String,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl RedisQueue {
    /// A pool to `settings.redis_url`; no connection is made until first use,
    /// so a web process boots (and reports not ready) while Redis is down.
    ///
    /// # Errors
    /// A malformed URL.
    pub async fn connect(settings: &JobSettings) -> Result<Self, String> {
        let manager = RedisConnectionManager::new(settings.redis_url.as_str()).map_err(err)?;
        let mut builder = bb8::Pool::builder()
            .max_size(
                u32::try_from(settings.concurrency + settings.critical_workers + 8).unwrap_or(16),
            )
            .connection_timeout(Duration::from_secs(5))
            .test_on_check_out(settings.check_connections);
        if !settings.check_connections {
            builder = builder.max_lifetime(Some(Duration::from_secs(5)));
        }
        if !settings.namespace.is_empty() {
            builder = builder
                .connection_customizer(sidekiq::with_custom_namespace(settings.namespace.clone()));
        }
        Ok(Self {
            pool: builder.build_unchecked(manager),
            namespace: settings.namespace.clone(),
        })
    }

    #[must_use]
    pub fn pool(&self) -> &RedisPool {
        &self.pool
    }

    fn key(&self, key: &str) -> String {
        if self.namespace.is_empty() {
            key.to_string()
        } else {
            format!("{}:{key}", self.namespace)
        }
    }

    async fn conn(&self) -> Result<bb8::PooledConnection<'_, RedisConnectionManager>, String> {
        self.pool.get().await.map_err(err)
    }

    /// Counts one more hit on `key` (under the namespace), shared by every
    /// process using this Redis; the key expires `ttl_secs` after its last
    /// hit. Returns the count.
    ///
    /// # Errors
    /// Redis is unreachable.
    pub async fn hit(&self, key: &str, ttl_secs: i64) -> Result<u64, String> {
        let mut conn = self.conn().await?;
        let key = self.key(key);
        let (count,): (u64,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .expire(&key, ttl_secs)
            .ignore()
            .query_async(conn.unnamespaced_borrow_mut())
            .await
            .map_err(err)?;
        Ok(count)
    }

    pub async fn push(&self, jobs: Vec<sidekiq::Job>) -> Result<(), String> {
        if jobs.is_empty() {
            return Ok(());
        }
        let now_ms = chrono::Utc::now().timestamp_millis() as f64;
        let mut pipe = redis::pipe();
        let mut queues: Vec<String> = vec![];
        // One LPUSH per queue, in order.
        let mut by_queue: Vec<(String, Vec<String>)> = vec![];
        for mut job in jobs {
            job.enqueued_at = Some(now_ms);
            let raw = serde_json::to_string(&job).map_err(err)?;
            match by_queue.iter_mut().find(|(q, _)| *q == job.queue) {
                Some((_, list)) => list.push(raw),
                None => by_queue.push((job.queue.clone(), vec![raw])),
            }
            if !queues.contains(&job.queue) {
                queues.push(job.queue.clone());
            }
        }
        pipe.sadd(self.key("queues"), queues).ignore();
        for (queue, list) in by_queue {
            pipe.lpush(self.key(&format!("queue:{queue}")), list)
                .ignore();
        }
        let mut conn = self.conn().await?;
        pipe.query_async::<()>(conn.unnamespaced_borrow_mut())
            .await
            .map_err(err)
    }

    pub async fn add(&self, set: JobSet, at: f64, raw: String) -> Result<(), String> {
        let mut conn = self.conn().await?;
        conn.unnamespaced_borrow_mut()
            .zadd::<_, _, _, ()>(self.key(set.key()), raw, at)
            .await
            .map_err(err)
    }

    pub async fn enqueue_due(&self) -> Result<usize, String> {
        let scheduled = sidekiq::Scheduled::new(self.pool.clone());
        let sets = vec![
            JobSet::Retry.key().to_string(),
            JobSet::Schedule.key().to_string(),
        ];
        let mut moved = 0;
        // Ten at a time per call (the library's batch): keep going while there are more.
        for _ in 0..100 {
            let n = scheduled
                .enqueue_jobs(chrono::Utc::now(), &sets)
                .await
                .map_err(|e| e.to_string())?;
            moved += n;
            if n == 0 {
                break;
            }
        }
        Ok(moved)
    }

    /// Enqueues periodic jobs whose time has come. Each schedule time fires
    /// once however many processes poll: the process that wins
    /// `SET fired:<name>:<time> NX` enqueues it, and every process moves the
    /// entry to the same next time (the first after the one that fired).
    /// (The library's own poller decides by `ZADD CH` on a next time each
    /// process computes from its own clock, which fires twice when two polls
    /// straddle a schedule boundary.)
    pub async fn enqueue_periodic(&self) -> Result<usize, String> {
        let mut conn = self.conn().await?;
        let now = chrono::Utc::now();
        let due: Vec<(String, f64)> = conn
            .unnamespaced_borrow_mut()
            .zrangebyscore_limit_withscores(self.key("periodic"), "-inf", now.timestamp(), 0, 100)
            .await
            .map_err(err)?;
        let mut fired = 0;
        for (raw, at) in due {
            let value: serde_json::Value = serde_json::from_str(&raw).map_err(err)?;
            let name = value["name"].as_str().unwrap_or_default().to_string();
            let cron = sidekiq::periodic::parse(value["cron"].as_str().unwrap_or_default())
                .map_err(err)?;
            let at_time = chrono::DateTime::from_timestamp(at as i64, 0).unwrap_or(now);
            let mut next = cron.after(&at_time).next();
            if next.is_some_and(|n| n <= now) {
                // Behind (no worker ran for a while): skip to the next future time
                // rather than firing every missed one.
                next = cron.after(&now).next();
            }
            let Some(next) = next else { continue };
            let claimed: Option<String> = redis::cmd("SET")
                .arg(self.key(&format!("unionhall:periodic:fired:{name}:{}", at as i64)))
                .arg(1)
                .arg("NX")
                .arg("EX")
                .arg(86_400)
                .query_async(conn.unnamespaced_borrow_mut())
                .await
                .map_err(err)?;
            conn.unnamespaced_borrow_mut()
                .zadd::<_, _, _, ()>(self.key("periodic"), &raw, next.timestamp())
                .await
                .map_err(err)?;
            if claimed.is_some() {
                let job = sidekiq::periodic::PeriodicJob::from_periodic_job_string(raw.clone())
                    .map_err(err)?
                    .into_job();
                drop(conn);
                self.push(vec![job]).await?;
                conn = self.conn().await?;
                fired += 1;
            }
        }
        Ok(fired)
    }

    /// Registers the periodic schedules, replacing stale ones of earlier deploys.
    pub async fn install_periodic(
        &self,
        jobs: &[sidekiq::periodic::PeriodicJob],
    ) -> Result<(), String> {
        let mut conn = self.conn().await?;
        let wanted: Vec<String> = jobs
            .iter()
            .map(|j| serde_json::to_string(j).map_err(err))
            .collect::<Result<_, _>>()?;
        let existing: Vec<String> = conn
            .unnamespaced_borrow_mut()
            .zrange(self.key("periodic"), 0, -1)
            .await
            .map_err(err)?;
        for stale in existing.iter().filter(|e| !wanted.contains(e)) {
            conn.unnamespaced_borrow_mut()
                .zrem::<_, _, ()>(self.key("periodic"), stale)
                .await
                .map_err(err)?;
        }
        for job in jobs {
            // ZADD of an unchanged member only moves its time if it changed.
            if !existing.contains(&serde_json::to_string(job).map_err(err)?) {
                job.insert(&mut conn).await.map_err(err)?;
            }
        }
        Ok(())
    }

    pub async fn queues(&self) -> Result<Vec<QueueStat>, String> {
        let mut conn = self.conn().await?;
        let c = conn.unnamespaced_borrow_mut();
        let mut names: Vec<String> = c.smembers(self.key("queues")).await.map_err(err)?;
        for q in Queue::ALL {
            if !names.iter().any(|n| n == q.name()) {
                names.push(q.name().to_string());
            }
        }
        names.sort_by_key(|n| Queue::parse(n).map_or(9, |q| q as usize));
        let now = now_secs();
        let mut stats = vec![];
        for name in names {
            let key = self.key(&format!("queue:{name}"));
            let size: u64 = c.llen(&key).await.map_err(err)?;
            let oldest: Option<String> = c.lindex(&key, -1).await.map_err(err)?;
            let latency = oldest
                .and_then(|raw| JobView::parse(&raw, None))
                .and_then(|j| j.enqueued_at)
                .map_or(0.0, |at| (now - at).max(0.0));
            stats.push(QueueStat {
                name,
                size,
                latency,
            });
        }
        Ok(stats)
    }

    pub async fn queued(&self, queue: Queue, limit: usize) -> Result<Vec<JobView>, String> {
        let mut conn = self.conn().await?;
        let n = isize::try_from(limit).unwrap_or(100);
        let raws: Vec<String> = conn
            .unnamespaced_borrow_mut()
            .lrange(self.key(&format!("queue:{}", queue.name())), -n, -1)
            .await
            .map_err(err)?;
        Ok(raws
            .iter()
            .rev()
            .filter_map(|raw| JobView::parse(raw, None))
            .collect())
    }

    pub async fn list(
        &self,
        set: JobSet,
        filter: &Filter,
        limit: usize,
    ) -> Result<(Vec<JobView>, u64), String> {
        let mut conn = self.conn().await?;
        let c = conn.unnamespaced_borrow_mut();
        let key = self.key(set.key());
        let total: u64 = c.zcard(&key).await.map_err(err)?;
        // Scheduled and retries soonest first; dead newest first.
        let raws: Vec<(String, f64)> = if set == JobSet::Dead {
            c.zrevrange_withscores(&key, 0, SCAN_LIMIT - 1).await
        } else {
            c.zrange_withscores(&key, 0, SCAN_LIMIT - 1).await
        }
        .map_err(err)?;
        let jobs = raws
            .iter()
            .filter_map(|(raw, at)| JobView::parse(raw, Some(*at)))
            .filter(|j| filter.matches(j))
            .take(limit)
            .collect();
        Ok((jobs, total))
    }

    pub async fn set_sizes(&self) -> Result<[(JobSet, u64); 3], String> {
        let mut conn = self.conn().await?;
        let c = conn.unnamespaced_borrow_mut();
        let (s, r, d): (u64, u64, u64) = redis::pipe()
            .zcard(self.key("schedule"))
            .zcard(self.key("retry"))
            .zcard(self.key("dead"))
            .query_async(c)
            .await
            .map_err(err)?;
        Ok([(JobSet::Schedule, s), (JobSet::Retry, r), (JobSet::Dead, d)])
    }

    pub async fn take(&self, set: JobSet, jid: &str) -> Result<Option<JobView>, String> {
        let mut conn = self.conn().await?;
        let c = conn.unnamespaced_borrow_mut();
        let key = self.key(set.key());
        let raws: Vec<(String, f64)> = c.zrange_withscores(&key, 0, -1).await.map_err(err)?;
        for (raw, at) in raws {
            if let Some(job) = JobView::parse(&raw, Some(at)) {
                if job.jid == jid {
                    let removed: u64 = c.zrem(&key, &raw).await.map_err(err)?;
                    return Ok((removed == 1).then_some(job));
                }
            }
        }
        Ok(None)
    }

    pub async fn processes(&self) -> Result<Vec<ProcessView>, String> {
        let mut conn = self.conn().await?;
        let c = conn.unnamespaced_borrow_mut();
        let identities: Vec<String> = c.smembers(self.key("processes")).await.map_err(err)?;
        let mut out = vec![];
        for identity in identities {
            let fields: std::collections::HashMap<String, String> =
                c.hgetall(self.key(&identity)).await.map_err(err)?;
            if fields.is_empty() {
                // Its heartbeat expired: the process is gone.
                continue;
            }
            let info: serde_json::Value = fields
                .get("info")
                .and_then(|i| serde_json::from_str(i).ok())
                .unwrap_or_default();
            let num = |k: &str| {
                fields
                    .get(k)
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            out.push(ProcessView {
                identity: identity.clone(),
                hostname: info["hostname"].as_str().unwrap_or_default().to_string(),
                pid: info["pid"].as_u64().unwrap_or(0),
                started_at: info["started_at"].as_f64().unwrap_or(0.0),
                concurrency: num("concurrency") as u64,
                busy: num("busy") as u64,
                beat: num("beat"),
                quiet: fields.get("quiet").is_some_and(|q| q == "true"),
                rss_kb: num("rss") as u64,
                queues: info["queues"]
                    .as_array()
                    .map(|qs| {
                        qs.iter()
                            .filter_map(|q| q.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
        out.sort_by(|a, b| a.identity.cmp(&b.identity));
        Ok(out)
    }

    pub async fn busy(&self) -> Result<Vec<BusyView>, String> {
        let processes = self.processes().await?;
        let mut conn = self.conn().await?;
        let c = conn.unnamespaced_borrow_mut();
        let mut out = vec![];
        for p in processes {
            let work: std::collections::HashMap<String, String> = c
                .hgetall(self.key(&format!("{}:work", p.identity)))
                .await
                .map_err(err)?;
            for record in work.values() {
                let record: serde_json::Value = serde_json::from_str(record).unwrap_or_default();
                let Some(job) = record["payload"]
                    .as_str()
                    .and_then(|raw| JobView::parse(raw, None))
                else {
                    continue;
                };
                out.push(BusyView {
                    process: p.identity.clone(),
                    run_at: record["run_at"].as_f64().unwrap_or(0.0),
                    job,
                });
            }
        }
        Ok(out)
    }

    pub async fn add_stats(&self, minutes: &[(i64, u64, u64)]) -> Result<(), String> {
        if minutes.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (minute, processed, failed) in minutes {
            let Some(at) = chrono::DateTime::from_timestamp(minute * 60, 0) else {
                continue;
            };
            let day = at.format("%Y-%m-%d");
            let bucket = self.key(&format!("unionhall:history:{}", at.format("%Y%m%d%H%M")));
            if *processed > 0 {
                pipe.incr(self.key("stat:processed"), *processed).ignore();
                pipe.incr(self.key(&format!("stat:processed:{day}")), *processed)
                    .ignore();
                pipe.hincr(&bucket, "processed", *processed).ignore();
            }
            if *failed > 0 {
                pipe.incr(self.key("stat:failed"), *failed).ignore();
                pipe.incr(self.key(&format!("stat:failed:{day}")), *failed)
                    .ignore();
                pipe.hincr(&bucket, "failed", *failed).ignore();
            }
            pipe.expire(&bucket, HISTORY_SECONDS).ignore();
        }
        let mut conn = self.conn().await?;
        pipe.query_async::<()>(conn.unnamespaced_borrow_mut())
            .await
            .map_err(err)
    }

    pub async fn history(&self, minutes: i64) -> Result<History, String> {
        let mut conn = self.conn().await?;
        let c = conn.unnamespaced_borrow_mut();
        let (processed, failed): (Option<u64>, Option<u64>) = redis::pipe()
            .get(self.key("stat:processed"))
            .get(self.key("stat:failed"))
            .query_async(&mut *c)
            .await
            .map_err(err)?;
        let now = chrono::Utc::now().timestamp() / 60;
        let mut pipe = redis::pipe();
        let mut labels = vec![];
        for m in (now - minutes + 1)..=now {
            let at = chrono::DateTime::from_timestamp(m * 60, 0).unwrap_or_default();
            labels.push(at.format("%H:%M").to_string());
            pipe.cmd("HMGET")
                .arg(self.key(&format!("unionhall:history:{}", at.format("%Y%m%d%H%M"))))
                .arg("processed")
                .arg("failed");
        }
        let rows: Vec<(Option<u64>, Option<u64>)> = pipe.query_async(c).await.map_err(err)?;
        Ok(History {
            processed: processed.unwrap_or(0),
            failed: failed.unwrap_or(0),
            minutes: labels
                .into_iter()
                .zip(rows)
                .map(|(l, (p, f))| (l, p.unwrap_or(0), f.unwrap_or(0)))
                .collect(),
        })
    }

    pub async fn trim_dead(&self, max: usize, cutoff: f64) -> Result<u64, String> {
        let mut conn = self.conn().await?;
        let key = self.key("dead");
        let keep = isize::try_from(max).unwrap_or(isize::MAX);
        let (old, over): (u64, u64) = redis::pipe()
            .zrembyscore(&key, "-inf", cutoff)
            .zremrangebyrank(&key, 0, -(keep + 1))
            .query_async(conn.unnamespaced_borrow_mut())
            .await
            .map_err(err)?;
        Ok(old + over)
    }

    pub async fn record_run(&self, name: &str) -> Result<(), String> {
        let mut conn = self.conn().await?;
        redis::pipe()
            .hincr(self.key("unionhall:periodic:runs"), name, 1)
            .hset(self.key("unionhall:periodic:last"), name, now_secs())
            .query_async::<()>(conn.unnamespaced_borrow_mut())
            .await
            .map_err(err)
    }

    pub async fn runs(&self) -> Result<std::collections::HashMap<String, (u64, f64)>, String> {
        let mut conn = self.conn().await?;
        let (runs, last): (
            std::collections::HashMap<String, u64>,
            std::collections::HashMap<String, f64>,
        ) = redis::pipe()
            .hgetall(self.key("unionhall:periodic:runs"))
            .hgetall(self.key("unionhall:periodic:last"))
            .query_async(conn.unnamespaced_borrow_mut())
            .await
            .map_err(err)?;
        Ok(runs
            .into_iter()
            .map(|(name, n)| {
                let at = last.get(&name).copied().unwrap_or(0.0);
                (name, (n, at))
            })
            .collect())
    }

    pub async fn record_sample(&self, key: &str, value: u64) -> Result<(), String> {
        let mut conn = self.conn().await?;
        conn.unnamespaced_borrow_mut()
            .rpush::<_, _, ()>(self.key(key), value)
            .await
            .map_err(err)
    }

    /// Reads and deletes a list of samples.
    ///
    /// # Errors
    /// Redis is unreachable.
    pub async fn take_samples(&self, key: &str) -> Result<Vec<u64>, String> {
        let mut conn = self.conn().await?;
        let (samples,): (Vec<u64>,) = redis::pipe()
            .lrange(self.key(key), 0, -1)
            .del(self.key(key))
            .ignore()
            .query_async(conn.unnamespaced_borrow_mut())
            .await
            .map_err(err)?;
        Ok(samples)
    }

    pub async fn ping(&self) -> Result<(), String> {
        let ping = async {
            let mut conn = self.conn().await?;
            redis::cmd("PING")
                .query_async::<String>(conn.unnamespaced_borrow_mut())
                .await
                .map_err(err)
        };
        match tokio::time::timeout(Duration::from_secs(3), ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e),
            Err(_) => Err("Redis did not answer within 3 s".into()),
        }
    }

    /// Raw access for the benchmark and tests (queue lengths, latency samples).
    ///
    /// # Errors
    /// Redis is unreachable.
    pub async fn llen(&self, key: &str) -> Result<u64, String> {
        let mut conn = self.conn().await?;
        conn.unnamespaced_borrow_mut()
            .llen(self.key(key))
            .await
            .map_err(err)
    }

    /// Deletes every key of this namespace (tests and the benchmark only;
    /// refuses an empty namespace so it can never flush Sidekiq's plain keys).
    ///
    /// # Errors
    /// Redis is unreachable, or the namespace is empty.
    pub async fn clear_namespace(&self) -> Result<u64, String> {
        if self.namespace.is_empty() {
            return Err("refusing to clear an unnamespaced Redis".into());
        }
        let mut conn = self.conn().await?;
        let c = conn.unnamespaced_borrow_mut();
        let keys: Vec<String> = c.keys(format!("{}:*", self.namespace)).await.map_err(err)?;
        if keys.is_empty() {
            return Ok(0);
        }
        c.del(keys).await.map_err(err)
    }
}
