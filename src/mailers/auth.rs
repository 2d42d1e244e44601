//! Account mail: invitations, password resets, email verification.
//!
//! In development and the embedded default (`settings.mail.folder` set) a
//! mail is written to that folder and its path logged, so a person can read
//! it with no mail server; otherwise it goes over SMTP through Loco's mailer.
//! These run inside the `AccountMail` job on the `critical` queue, so a
//! failed send is retried with backoff and ends, visibly, in the dead set.
use askama::Template;
use loco_rs::{
    app::AppContext,
    mailer::{Email, Mailer, MailerOpts},
};

use crate::{
    domain::SecretToken,
    models::{invitations, tenants::Tenant, users},
    settings::Settings,
};

pub struct AuthMailer;

impl Mailer for AuthMailer {
    fn opts() -> MailerOpts {
        MailerOpts {
            from: Settings::DEFAULT_FROM.to_string(),
            ..Default::default()
        }
    }
}

#[derive(Template)]
#[template(path = "mail/message.txt")]
struct Text<'a> {
    greeting: &'a str,
    body: &'a str,
    action_label: &'a str,
    action_url: &'a str,
    note: &'a str,
}

#[derive(Template)]
#[template(path = "mail/message.html")]
struct HtmlMail<'a> {
    greeting: &'a str,
    body: &'a str,
    action_label: &'a str,
    action_url: &'a str,
    note: &'a str,
}

struct Message<'a> {
    to: &'a str,
    subject: String,
    greeting: String,
    body: String,
    action_label: &'a str,
    action_url: String,
    note: &'a str,
}

async fn deliver(ctx: &AppContext, message: Message<'_>) -> loco_rs::Result<()> {
    let settings = Settings::of(ctx);
    let text = Text {
        greeting: &message.greeting,
        body: &message.body,
        action_label: message.action_label,
        action_url: &message.action_url,
        note: message.note,
    };
    let html = HtmlMail {
        greeting: &message.greeting,
        body: &message.body,
        action_label: message.action_label,
        action_url: &message.action_url,
        note: message.note,
    };
    let text = text
        .render()
        .map_err(|e| loco_rs::Error::string(&format!("mail template: {e}")))?;
    let html = html
        .render()
        .map_err(|e| loco_rs::Error::string(&format!("mail template: {e}")))?;
    let email = Email {
        from: Some(settings.mail.from.clone()),
        to: message.to.to_string(),
        subject: message.subject,
        text,
        html,
        ..Default::default()
    };
    match &settings.mail.folder {
        Some(folder) if !folder.is_empty() => write_to_folder(folder, &email).await,
        _ => AuthMailer::mail(ctx, &email).await,
    }
}

async fn write_to_folder(folder: &str, email: &Email) -> loco_rs::Result<()> {
    tokio::fs::create_dir_all(folder).await?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f");
    let safe_to: String = email
        .to
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    let path = std::path::Path::new(folder).join(format!("{stamp}-{safe_to}.eml"));
    let content = format!(
        "From: {}\nTo: {}\nSubject: {}\nContent-Type: text/plain; charset=utf-8\n\n{}",
        email.from.as_deref().unwrap_or_default(),
        email.to,
        email.subject,
        email.text
    );
    tokio::fs::write(&path, content).await?;
    tracing::info!(path = %path.display(), to = %email.to, subject = %email.subject, "mail written to folder");
    Ok(())
}

/// # Errors
/// The mail could not be rendered or sent.
pub async fn send_email_verification(
    ctx: &AppContext,
    user: &users::Model,
    token: &SecretToken,
) -> loco_rs::Result<()> {
    deliver(
        ctx,
        Message {
            to: &user.email,
            subject: "Confirm your email address".to_string(),
            greeting: format!("Hello {},", user.name),
            body:
                "Please confirm that this is your email address, so that your local can reach you."
                    .to_string(),
            action_label: "Confirm my email",
            action_url: format!(
                "{}/email-verifications/{}",
                Settings::of(ctx).base_url,
                token.as_str()
            ),
            note: "The link works for 3 days. If you did not sign up, ignore this mail.",
        },
    )
    .await
}

/// # Errors
/// The mail could not be rendered or sent.
pub async fn send_password_reset(
    ctx: &AppContext,
    user: &users::Model,
    token: &SecretToken,
) -> loco_rs::Result<()> {
    deliver(ctx, Message {
        to: &user.email,
        subject: "Choose a new password".to_string(),
        greeting: format!("Hello {},", user.name),
        body: "Someone asked to reset the password of your account. If it was you, choose a new password:".to_string(),
        action_label: "Choose a new password",
        action_url: format!("{}/password-resets/{}", Settings::of(ctx).base_url, token.as_str()),
        note: "The link works once, for one hour. If you did not ask for it, ignore this mail: your password stays as it is.",
    })
    .await
}

/// # Errors
/// The mail could not be rendered or sent.
pub async fn send_invitation(
    ctx: &AppContext,
    tenant: &Tenant,
    inviter_name: &str,
    invitation: &invitations::Model,
    role_name: &str,
    token: &SecretToken,
) -> loco_rs::Result<()> {
    deliver(
        ctx,
        Message {
            to: &invitation.email,
            subject: format!("{} invites you to {}", inviter_name, tenant.name()),
            greeting: "Hello,".to_string(),
            body: format!(
                "{} invites you to join {} on Union Hall as {role_name}.",
                inviter_name,
                tenant.name()
            ),
            action_label: "Accept the invitation",
            action_url: format!(
                "{}/invitations/{}",
                Settings::of(ctx).base_url,
                token.as_str()
            ),
            note: "The link works once, for 7 days.",
        },
    )
    .await
}
