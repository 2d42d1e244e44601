//! `cargo loco task create_local name:<name> slug:<slug> admin_email:<address>`:
//! provisions a local, its default roles and its admin from the command line
//! (an International setting up many locals), and prints the admin's
//! set-password link and a new API token. A taken slug fails and creates nothing.
use loco_rs::prelude::*;

use crate::{
    domain::{Email, LocalName, Slug, TokenName},
    models::{
        api_tokens::{Model as Token, NewToken},
        operators,
        tenants::NewLocal,
    },
    settings::Settings,
};

pub struct CreateLocal;

#[async_trait]
impl Task for CreateLocal {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "create_local".to_string(),
            detail: "Provision a local: name:<name> slug:<slug> admin_email:<address>".to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &task::Vars) -> Result<()> {
        let fail = |e: String| Error::string(&e);
        let local = NewLocal {
            name: LocalName::parse(vars.cli_arg("name")?).map_err(fail)?,
            slug: Slug::parse(vars.cli_arg("slug")?).map_err(fail)?,
        };
        let email = Email::parse(vars.cli_arg("admin_email")?).map_err(fail)?;
        let made = operators::provision_local(&ctx.db, local, email)
            .await
            .map_err(|e| match e {
                crate::models::Error::Conflict(errors) => fail(
                    errors
                        .iter()
                        .map(|(f, m)| format!("{f}: {m}"))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                other => fail(other.to_string()),
            })?;
        let new = NewToken {
            name: TokenName::parse("provisioning").map_err(fail)?,
            expires_in_days: None,
        };
        let (_, secret) = Token::create(&made.tenant, new)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let base = Settings::of(ctx).base_url;
        println!(
            "Created {} at {base}/l/{}",
            made.tenant.name(),
            made.tenant.slug()
        );
        println!("Admin: {}", made.admin.email);
        match made.setup {
            Some(token) => println!(
                "Set-password link (valid 7 days): {base}/password-resets/{}",
                token.as_str()
            ),
            None => println!("The admin already has an account and signs in with it."),
        }
        println!("API token: {secret}");
        Ok(())
    }
}
