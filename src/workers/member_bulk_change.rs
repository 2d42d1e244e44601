//! Bulk changes to members too large to apply in the request, on the `bulk`
//! queue. The change's row keeps the position reached, so a retry resumes.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Job, JobError, Queue, Run};
use crate::models::member_bulk_changes;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeMembers {
    pub local_id: i32,
    pub change_id: i32,
    pub actor: Option<i32>,
}

#[async_trait]
impl Job for ChangeMembers {
    const NAME: &'static str = "ChangeMembers";
    const QUEUE: Queue = Queue::Bulk;
    const RETRIES: usize = 8;
    const DURABLE: bool = true;

    fn local_id(&self) -> Option<i32> {
        Some(self.local_id)
    }

    async fn perform(self, run: &Run) -> Result<(), JobError> {
        let tenant = run.tenant()?;
        match member_bulk_changes::run(tenant, self.change_id, self.actor).await {
            Ok(_) => Ok(()),
            Err(err) => {
                if run.is_last_attempt(Self::RETRIES) {
                    member_bulk_changes::fail(tenant, self.change_id, &err.to_string()).await?;
                } else if let Err(note) =
                    member_bulk_changes::retrying(tenant, self.change_id, &err.to_string()).await
                {
                    // The retry matters more than the note: keep the job's own error.
                    tracing::warn!(change = self.change_id, error = %note, "could not note the retry");
                }
                Err(err.into())
            }
        }
    }
}
