//! Long work whose own row shows its progress: an import, a bulk change,
//! and later a campaign, a report, a workflow run. The job only names the
//! row; the model does the work in resumable batches ([`Tracked::run`]),
//! and when an attempt fails its row says why ([`Tracked::on_failure`]):
//! "waiting for a retry" with the error, or failed for good on the last
//! attempt. One mechanism, so every module's long work behaves alike.
use async_trait::async_trait;

use super::{InLocal, JobError, Run};
use crate::models::{progress::ProgressRow, tenants::Tenant, Result};

/// What a progress-reporting job runs, implemented once per kind of work.
#[async_trait]
pub trait Tracked: Send + Sync {
    /// The row that shows the work's progress.
    type Row: ProgressRow;

    /// Does the work, or what is left of it (it resumes after the last
    /// batch written, so running it again is safe).
    ///
    /// # Errors
    /// Any error fails the attempt; it is retried.
    async fn run(tenant: &Tenant, id: i32, actor: Option<i32>) -> Result<()>;

    /// An attempt failed with `error`: the row shows it, and on the last
    /// attempt (`for_good`) the work stops for good
    /// ([`crate::models::progress::stopped`]; a kind of work with more to
    /// undo overrides it).
    ///
    /// # Errors
    /// A database error.
    async fn on_failure(tenant: &Tenant, id: i32, error: &str, for_good: bool) -> Result<()> {
        crate::models::progress::stopped::<Self::Row>(tenant, id, error, for_good).await
    }
}

/// The body of a progress-reporting job with `retries` retries: runs the
/// work in the job's local and reports a failure on its row.
///
/// # Errors
/// The work's error (the job is retried, then dead), or on the last
/// attempt the error of recording the failure.
pub async fn perform<T: Tracked>(
    run: &Run,
    retries: usize,
    id: i32,
    actor: Option<i32>,
) -> Result<(), JobError> {
    let tenant = run.tenant().await?;
    let Err(err) = T::run(&tenant, id, actor).await else {
        return Ok(());
    };
    let for_good = run.is_last_attempt(retries);
    if let Err(note) = T::on_failure(&tenant, id, &err.to_string(), for_good).await {
        if for_good {
            // The row must not stay "running" forever: this attempt fails
            // with the note's error, and the dead set shows it.
            return Err(note.into());
        }
        // The retry matters more than the note: keep the job's own error.
        tracing::warn!(id, error = %note, "could not note the retry");
    }
    Err(err.into())
}
