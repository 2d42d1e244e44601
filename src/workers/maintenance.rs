//! Recurring upkeep: the sweeper (the runtime's [`super::sweep`]: durable
//! work whose lease expired or whose message was lost goes back on its
//! queue; the dead set is kept within its bounds) and the prune (expired
//! sessions, tokens, old finished work).
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Job, JobError, Jobs, Queue, Run};
use crate::models::{login_attempts, sessions, user_tokens, work_items};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Sweep,
    Prune,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Maintenance {
    pub task: Task,
}

/// Finished work items are kept this long for the console, then deleted.
const KEEP_FINISHED_DAYS: i64 = 7;

#[async_trait]
impl Job for Maintenance {
    const NAME: &'static str = "Maintenance";
    const QUEUE: Queue = Queue::Critical;
    const RETRIES: usize = 3;

    async fn perform(self, run: &Run) -> Result<(), JobError> {
        let jobs = Jobs::of(&run.ctx);
        let settings = crate::settings::Settings::of(&run.ctx).jobs;
        let name = match self.task {
            Task::Sweep => "sweep",
            Task::Prune => "prune",
        };
        match self.task {
            Task::Sweep => {
                super::sweep(&jobs, &settings).await?;
            }
            Task::Prune => {
                let sessions = sessions::delete_expired(&run.ctx.db).await?;
                let attempts = login_attempts::delete_expired(&run.ctx.db).await?;
                let tokens = user_tokens::delete_spent(&run.ctx.db).await?;
                let items = work_items::delete_finished_before(
                    &run.ctx.db,
                    chrono::Utc::now() - chrono::Duration::days(KEEP_FINISHED_DAYS),
                )
                .await?;
                tracing::info!(sessions, attempts, tokens, work_items = items, "pruned");
            }
        }
        jobs.backend()
            .record_run(name)
            .await
            .map_err(JobError::new)?;
        Ok(())
    }
}
