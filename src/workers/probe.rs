//! Diagnostic jobs. `Probe` is durable work with a visible effect (a
//! `probe_runs` row, written in the same transaction that completes its work
//! item): operators send one from /ops/jobs to check the pipeline end to end,
//! and the tests use it to show retries, priorities and exactly-once work.
//! `Noop` does nothing (the benchmark's job).
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, TransactionTrait};
use serde::{Deserialize, Serialize};

use super::{InLocal, Job, JobError, Jobs, Queue, Run};
use crate::models::_entities::probe_runs;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Probe {
    pub label: String,
    /// How long the job works.
    #[serde(default)]
    pub sleep_ms: u64,
    /// The first this many attempts fail.
    #[serde(default)]
    pub fail_times: u32,
    /// Run inside this local (checks the job-tenant path).
    #[serde(default)]
    pub local_id: Option<i32>,
}

#[async_trait]
impl Job for Probe {
    const NAME: &'static str = "Probe";
    const DURABLE: bool = true;

    fn local_id(&self) -> Option<i32> {
        self.local_id
    }

    async fn perform(self, run: &Run) -> Result<(), JobError> {
        if self.local_id.is_some() {
            // Proves the job re-entered its local under row-level security;
            // a local gone or suspended skips the probe.
            run.tenant().await?.begin().await?.commit().await?;
        }
        if self.sleep_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.sleep_ms)).await;
        }
        let attempt = run.claim().map_or(1, |c| c.attempt);
        if u32::try_from(attempt).unwrap_or(u32::MAX) <= self.fail_times {
            return Err(JobError {
                message: format!("probe failure on attempt {attempt} of {}", self.fail_times),
                causes: vec!["the probe was asked to fail".into()],
                skip: false,
            });
        }
        let txn = run.ctx.db.begin().await?;
        probe_runs::ActiveModel {
            work_item_id: Set(run.claim().map(|c| c.id)),
            queue: Set(run.queue.clone()),
            label: Set(self.label.chars().take(80).collect()),
            process_id: Set(i32::try_from(std::process::id()).unwrap_or(0)),
            created_at: Set(chrono::Utc::now().into()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        run.complete_in(&txn).await?;
        txn.commit().await?;
        Ok(())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Noop {
    /// Record the enqueue-to-start latency (the benchmark's trickle).
    #[serde(default)]
    pub sample: bool,
}

#[async_trait]
impl Job for Noop {
    const NAME: &'static str = "Noop";
    const QUEUE: Queue = Queue::Bulk;
    const RETRIES: usize = 0;

    async fn perform(self, run: &Run) -> Result<(), JobError> {
        if self.sample {
            if let Some(at) = run.enqueued_at {
                let micros = ((super::backend::now_secs() - at) * 1e6).max(0.0) as u64;
                Jobs::of(&run.ctx)
                    .backend()
                    .record_sample("bench:latency", micros)
                    .await
                    .map_err(JobError::new)?;
            }
        }
        Ok(())
    }
}
