//! Account mail on the `critical` queue: email verification, password
//! resets and invitations. The job issues the link's secret when it sends,
//! so no secret waits in Redis or in the dead set; a retry issues a new one.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{InLocal, Job, JobError, Queue, Run};
use crate::{
    mailers::auth,
    models::{
        invitations,
        user_tokens::{self, Purpose},
        users, Error,
    },
};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AccountMail {
    EmailVerification {
        user_id: i32,
    },
    PasswordReset {
        user_id: i32,
    },
    Invitation {
        local_id: i32,
        invitation_id: i32,
        inviter_id: i32,
    },
}

#[async_trait]
impl Job for AccountMail {
    const NAME: &'static str = "AccountMail";
    const QUEUE: Queue = Queue::Critical;
    /// About a day and a half of retries: a link mailed later than that is
    /// no help to the person waiting for it.
    const RETRIES: usize = 12;
    const DURABLE: bool = true;

    fn local_id(&self) -> Option<i32> {
        match self {
            Self::Invitation { local_id, .. } => Some(*local_id),
            _ => None,
        }
    }

    async fn perform(self, run: &Run) -> Result<(), JobError> {
        let ctx = &run.ctx;
        match self {
            Self::EmailVerification { user_id } => {
                let Some(user) = person(ctx, user_id).await? else {
                    return Ok(());
                };
                if user.is_email_verified() {
                    tracing::info!(user_id, "email already confirmed; no mail sent");
                    return Ok(());
                }
                let token = user_tokens::issue(&ctx.db, &user, Purpose::EmailVerification).await?;
                auth::send_email_verification(ctx, &user, &token).await?;
            }
            Self::PasswordReset { user_id } => {
                let Some(user) = person(ctx, user_id).await? else {
                    return Ok(());
                };
                let token = user_tokens::issue(&ctx.db, &user, Purpose::PasswordReset).await?;
                auth::send_password_reset(ctx, &user, &token).await?;
            }
            Self::Invitation {
                invitation_id,
                inviter_id,
                ..
            } => {
                let tenant = run.tenant().await?;
                let Some((invitation, role_name, token)) =
                    invitations::Model::reissue(&tenant, invitation_id).await?
                else {
                    tracing::info!(invitation_id, "invitation no longer pending; no mail sent");
                    return Ok(());
                };
                let inviter = person(ctx, inviter_id)
                    .await?
                    .map_or_else(|| "Your local".to_string(), |u| u.name);
                auth::send_invitation(ctx, &tenant, &inviter, &invitation, &role_name, &token)
                    .await?;
            }
        }
        Ok(())
    }
}

/// The account, or `None` (logged) when it was deleted since.
async fn person(ctx: &loco_rs::app::AppContext, id: i32) -> Result<Option<users::Model>, JobError> {
    match users::Model::find_by_id(&ctx.db, id).await {
        Ok(user) => Ok(Some(user)),
        Err(Error::NotFound) => {
            tracing::info!(user_id = id, "account no longer exists; no mail sent");
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}
