//! Member imports on the `bulk` queue. The import's rows are the job's
//! state: each batch commits with its claim, so a retry (or a run after a
//! crash) skips the batches already written. Durable, so a lost message is
//! resent by the sweeper; when the retries run out the import says so.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{
    progress::{self, Tracked},
    Job, JobError, Queue, Run,
};
use crate::models::{member_imports, tenants::Tenant, Result};

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
        progress::perform::<Self>(run, Self::RETRIES, self.import_id, self.actor).await
    }
}

#[async_trait]
impl Tracked for ImportMembers {
    type Row = member_imports::Entity;

    async fn run(tenant: &Tenant, id: i32, actor: Option<i32>) -> Result<()> {
        member_imports::run(tenant, id, actor).await.map(|_| ())
    }
}
