//! `cargo loco task jobs_bench [count:500000] [trickle:2000] [concurrency:10]`:
//! the jobs benchmark, in the shape of Sidekiq's own load test. With the
//! Redis backend (a key prefix of its own, deleted at the end) it enqueues
//! `count` no-op jobs in bulk, starts one worker process of this binary,
//! measures how fast it drains them and its peak memory, then sends a trickle
//! of jobs to the idle worker and reports enqueue-to-start latency. Run it
//! from a release build: `bin/bench-jobs`. It prints figures; it asserts nothing.
use std::time::{Duration, Instant};

use loco_rs::prelude::*;

use crate::{
    settings::Settings,
    workers::{probe::Noop, Backend, Jobs},
};

pub struct JobsBench;

fn arg(vars: &task::Vars, name: &str, default: usize) -> Result<usize> {
    match vars.cli_arg(name) {
        Ok(v) => v
            .parse()
            .map_err(|_| Error::string(&format!("{name}: expected a number, got {v}"))),
        Err(_) => Ok(default),
    }
}

/// The peak resident memory of a process, in MiB (Linux).
fn peak_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Calls per Redis command so far (to count round trips per job).
async fn redis_commands(url: &str) -> Option<std::collections::BTreeMap<String, u64>> {
    let client = redis::Client::open(url).ok()?;
    let mut conn = client.get_multiplexed_async_connection().await.ok()?;
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .ok()?;
    Some(
        info.lines()
            .filter_map(|l| {
                let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
                let calls = rest
                    .strip_prefix("calls=")?
                    .split(',')
                    .next()?
                    .parse()
                    .ok()?;
                Some((name.to_string(), calls))
            })
            .collect(),
    )
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)] as f64 / 1000.0
}

#[async_trait]
impl Task for JobsBench {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "jobs_bench".to_string(),
            detail:
                "Benchmark the Redis job queue: count:<jobs> trickle:<jobs> concurrency:<workers>"
                    .to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &task::Vars) -> Result<()> {
        let count = arg(vars, "count", 500_000)?;
        let trickle = arg(vars, "trickle", 2_000)?;
        let concurrency = arg(vars, "concurrency", 10)?;
        let settings = Settings::of(ctx).jobs;
        let jobs = Jobs::of(ctx);
        let Backend::Redis(redis) = jobs.backend().clone() else {
            return Err(Error::string("jobs_bench needs JOBS_BACKEND=redis"));
        };
        if settings.namespace.is_empty() {
            return Err(Error::string(
                "jobs_bench needs a JOBS_NAMESPACE of its own",
            ));
        }
        redis
            .clear_namespace()
            .await
            .map_err(|e| Error::string(&e))?;
        println!(
            "jobs_bench: {count} no-op jobs, one worker process with {concurrency} workers, Redis {}",
            settings.redis_url
        );

        for checks in [true, false] {
            self.drain(ctx, &redis, count, concurrency, checks).await?;
        }

        // 3. Latency of a trickle on an idle queue (connection checks on, the default).
        let exe = std::env::current_exe()?;
        let mut worker = std::process::Command::new(exe)
            .args(["start", "--worker"])
            .env("JOBS_CONCURRENCY", concurrency.to_string())
            .env("JOBS_CRITICAL_WORKERS", "0")
            .env("LOG_LEVEL", "error")
            .stdout(std::process::Stdio::null())
            .spawn()?;
        let pid = worker.id();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let sample = Noop { sample: true };
        for _ in 0..trickle {
            jobs.enqueue(sample.clone())
                .await
                .map_err(|e| Error::string(&e.to_string()))?;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let mut samples = vec![];
        for _ in 0..500 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if redis.llen("bench:latency").await.unwrap_or(0) >= u64::try_from(trickle).unwrap_or(0)
            {
                break;
            }
        }
        samples.extend(
            redis
                .take_samples("bench:latency")
                .await
                .map_err(|e| Error::string(&e))?,
        );
        samples.sort_unstable();
        println!(
            "latency:    enqueue to start, {} jobs at ~{:.0}/s on an idle queue: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            samples.len(),
            1000.0 / 2.2,
            percentile(&samples, 50.0),
            percentile(&samples, 99.0),
            percentile(&samples, 100.0)
        );
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let _ = worker.wait();
        redis
            .clear_namespace()
            .await
            .map_err(|e| Error::string(&e))?;
        Ok(())
    }
}

impl JobsBench {
    /// Enqueues `count` no-op jobs in bulk and drains them with one worker process.
    async fn drain(
        &self,
        ctx: &AppContext,
        redis: &crate::workers::redis_queue::RedisQueue,
        count: usize,
        concurrency: usize,
        checks: bool,
    ) -> Result<()> {
        let settings = Settings::of(ctx).jobs;
        let jobs = Jobs::of(ctx);
        println!(
            "--- pooled connections checked on checkout: {} ---",
            if checks {
                "yes (the default)"
            } else {
                "no (JOBS_CHECK_CONNECTIONS=false)"
            }
        );
        // 1. Enqueue in bulk.
        let batch = vec![Noop::default(); 1_000];
        let started = Instant::now();
        let mut sent = 0;
        while sent < count {
            let n = batch.len().min(count - sent);
            jobs.enqueue_many(&batch[..n])
                .await
                .map_err(|e| Error::string(&e.to_string()))?;
            sent += n;
        }
        let enqueue = started.elapsed().as_secs_f64();
        println!(
            "enqueue:    {count} jobs in {enqueue:.2} s = {:.0} jobs/s (LPUSH of 1,000 per round trip)",
            count as f64 / enqueue
        );

        // 2. Drain with one worker process.
        let exe = std::env::current_exe()?;
        let mut worker = std::process::Command::new(exe)
            .args(["start", "--worker"])
            .env("JOBS_CONCURRENCY", concurrency.to_string())
            .env("JOBS_CRITICAL_WORKERS", "0")
            .env("JOBS_CHECK_CONNECTIONS", checks.to_string())
            .env("LOG_LEVEL", "error")
            .stdout(std::process::Stdio::null())
            .spawn()?;
        let pid = worker.id();
        let total = u64::try_from(count).unwrap_or(u64::MAX);
        let mut first_taken: Option<Instant> = None;
        let mut commands_at_start = None;
        loop {
            let left = redis
                .llen("queue:bulk")
                .await
                .map_err(|e| Error::string(&e))?;
            if first_taken.is_none() && left < total {
                first_taken = Some(Instant::now());
                commands_at_start = redis_commands(&settings.redis_url).await;
            }
            if left == 0 {
                break;
            }
            if let Ok(Some(status)) = worker.try_wait() {
                return Err(Error::string(&format!("the worker exited early: {status}")));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The last jobs taken are still running: wait for the busy count to drop.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let drain = first_taken.map_or(0.0, |t| t.elapsed().as_secs_f64());
        let commands_at_end = redis_commands(&settings.redis_url).await;
        println!(
            "process:    {count} jobs in {drain:.2} s = {:.0} jobs/s",
            count as f64 / drain
        );
        if let (Some(a), Some(b)) = (commands_at_start, commands_at_end) {
            let mut per_job: Vec<(String, f64)> = b
                .iter()
                .map(|(name, calls)| {
                    let before = a.get(name).copied().unwrap_or(0);
                    (name.clone(), (calls - before) as f64 / count as f64)
                })
                .filter(|(_, n)| *n >= 0.01)
                .collect();
            per_job.sort_by(|x, y| y.1.total_cmp(&x.1));
            let total: f64 = per_job.iter().map(|(_, n)| n).sum();
            let detail: Vec<String> = per_job.iter().map(|(c, n)| format!("{c} {n:.2}")).collect();
            println!(
                "            Redis round trips per job: {total:.2} ({})",
                detail.join(", ")
            );
        }

        match peak_mib(pid) {
            Some(mib) => println!("memory:     worker peak resident {mib:.1} MiB"),
            None => println!("memory:     (not available on this system)"),
        }
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let _ = worker.wait();
        Ok(())
    }
}
