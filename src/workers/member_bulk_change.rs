//! Bulk changes to members too large to apply in the request, on the `bulk`
//! queue. The change's row keeps the position reached, so a retry resumes.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{
    progress::{self, Tracked},
    Job, JobError, Queue, Run,
};
use crate::models::{member_bulk_changes, tenants::Tenant, Result};

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
        progress::perform::<Self>(run, Self::RETRIES, self.change_id, self.actor).await
    }
}

#[async_trait]
impl Tracked for ChangeMembers {
    type Row = member_bulk_changes::Entity;

    async fn run(tenant: &Tenant, id: i32, actor: Option<i32>) -> Result<()> {
        member_bulk_changes::run(tenant, id, actor)
            .await
            .map(|_| ())
    }
}
