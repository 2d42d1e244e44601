//! Member imports on the `bulk` queue. The import's rows are the job's
//! state: each batch commits with its claim, so a retry (or a run after a
//! crash) skips the batches already written. Durable, so a lost message is
//! resent by the sweeper; when the retries run out the import says so.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Job, JobError, Queue, Run};
use crate::models::member_imports;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportMembers {
    pub local_id: i32,
    pub import_id: i32,
    /// Who started it (kept in the status history and the audit log).
    pub actor: Option<i32>,
}

#[async_trait]
impl Job for ImportMembers {
    const NAME: &'static str = "ImportMembers";
    const QUEUE: Queue = Queue::Bulk;
    const RETRIES: usize = 8;
    const DURABLE: bool = true;

    fn local_id(&self) -> Option<i32> {
        Some(self.local_id)
    }

    async fn perform(self, run: &Run) -> Result<(), JobError> {
        let tenant = run.tenant()?;
        match member_imports::run(tenant, self.import_id, self.actor).await {
            Ok(_) => Ok(()),
            Err(err) => {
                if run.is_last_attempt(Self::RETRIES) {
                    // The last attempt: the import stops for good and shows why.
                    member_imports::fail(tenant, self.import_id, &err.to_string()).await?;
                } else if let Err(note) =
                    member_imports::retrying(tenant, self.import_id, &err.to_string()).await
                {
                    // The retry matters more than the note: keep the job's own error.
                    tracing::warn!(import = self.import_id, error = %note, "could not note the retry");
                }
                Err(err.into())
            }
        }
    }
}
