//! The outbox: durable work is recorded in the transaction of the change
//! that makes it necessary ([`record_in`]), and its message is sent after
//! that commits, by a relay ([`relay`]) that every process with a job
//! handle runs. A crash between the commit and the send loses nothing: the
//! row is there, unsent, and the next relay pass (or the sweeper) sends it.
//!
//! A model hands its transaction and the job to [`commit_with`], which
//! records, commits and wakes the relays of this process at once; the
//! relays also look on their own every poll.
use std::{sync::LazyLock, time::Duration};

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};
use tokio::{sync::watch, task::JoinHandle};

use super::{work_items, Job, Jobs};

type Result<T, E = sea_orm::DbErr> = std::result::Result<T, E>;

static WAKE: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// Records `job` (durable) in `txn`, the change's transaction, commits it,
/// and wakes this process's relays so the message goes out now.
///
/// # Errors
/// A database error; on one, nothing is committed.
pub async fn commit_with<J: Job>(txn: DatabaseTransaction, job: &J) -> Result<()> {
    record_in(&txn, job).await?;
    txn.commit().await?;
    wake();
    Ok(())
}

/// Records `job` (durable) on its own, for a change that is that one row
/// (a mail asked for), and wakes this process's relays.
///
/// # Errors
/// A database error.
pub async fn record<J: Job>(db: &DatabaseConnection, job: &J) -> Result<()> {
    record_in(db, job).await?;
    wake();
    Ok(())
}

async fn record_in<J: Job, C: ConnectionTrait>(conn: &C, job: &J) -> Result<()> {
    debug_assert!(J::DURABLE, "only durable work has a work item to record");
    let args = serde_json::to_string(job)
        .map_err(|e| sea_orm::DbErr::Custom(format!("job arguments: {e}")))?;
    let item =
        work_items::Model::record_in(conn, J::NAME, J::QUEUE.name(), job.local_id(), &args).await?;
    tracing::debug!(work_item = item.id, job = J::NAME, "recorded in the outbox");
    Ok(())
}

/// Tells this process's relays that work was recorded.
pub fn wake() {
    WAKE.send_modify(|n| *n = n.wrapping_add(1));
}

/// Sends everything recorded and not yet sent; returns how many messages.
pub async fn relay(jobs: &Jobs) -> usize {
    let mut sent = 0;
    loop {
        let items = match work_items::take_unsent(jobs.db(), 500).await {
            Ok(items) => items,
            Err(err) => {
                tracing::warn!(error = %err, "outbox: could not read unsent work");
                return sent;
            }
        };
        if items.is_empty() {
            return sent;
        }
        for item in &items {
            match jobs.resend(item).await {
                Ok(_) => sent += 1,
                Err(err) => {
                    tracing::warn!(work_item = item.id, error = %err, "outbox: could not send; will retry");
                    let _ = work_items::unsent(jobs.db(), item.id).await;
                    return sent;
                }
            }
        }
    }
}

/// Runs the relay: on every [`wake`] of this process, and every `period`
/// for work recorded by other processes (or left by one that crashed).
pub fn spawn_relay(
    jobs: Jobs,
    period: Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let mut woken = WAKE.subscribe();
    tokio::spawn(async move {
        loop {
            relay(&jobs).await;
            tokio::select! {
                _ = woken.changed() => {}
                () = tokio::time::sleep(period) => {}
                _ = stop.changed() => break,
            }
        }
    })
}
