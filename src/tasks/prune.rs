//! `cargo loco task prune`: deletes what has expired — sessions, sign-in
//! attempts older than the throttling window, and used or expired single-use
//! tokens. Safe to run at any time; the `Maintenance` job also runs it hourly
//! (with old finished work items).
use loco_rs::prelude::*;

use crate::models::{login_attempts, sessions, user_tokens};

pub struct Prune;

#[async_trait]
impl Task for Prune {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "prune".to_string(),
            detail: "Delete expired sessions, old sign-in attempts and spent tokens".to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, _vars: &task::Vars) -> Result<()> {
        let prune = async {
            let sessions = sessions::delete_expired(&ctx.db).await?;
            let attempts = login_attempts::delete_expired(&ctx.db).await?;
            let tokens = user_tokens::delete_spent(&ctx.db).await?;
            Ok::<_, crate::models::Error>((sessions, attempts, tokens))
        };
        let (sessions, attempts, tokens) =
            prune.await.map_err(|e| Error::string(&e.to_string()))?;
        println!("pruned {sessions} sessions, {attempts} sign-in attempts, {tokens} tokens");
        Ok(())
    }
}
