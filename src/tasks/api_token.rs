//! `cargo loco task api_token email:<person> local:<slug> [name:<label>]`:
//! prints a new personal API token of a person in a local (for scripts and
//! for setting up integrations from the command line).
use loco_rs::prelude::*;

use crate::{
    domain::{Email, TokenName},
    models::{
        api_tokens::{Model as Token, NewToken},
        tenants::Tenant,
        users,
    },
};

pub struct ApiToken;

#[async_trait]
impl Task for ApiToken {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "api_token".to_string(),
            detail: "Print a new API token: email:<person> local:<slug> [name:<label>]".to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &task::Vars) -> Result<()> {
        let fail = |e: String| Error::string(&e);
        let email = Email::parse(vars.cli_arg("email")?).map_err(fail)?;
        let slug = vars.cli_arg("local")?;
        let name =
            TokenName::parse(vars.cli_arg("name").unwrap_or("command line")).map_err(fail)?;
        let user = users::Model::find_by_email(&ctx.db, &email)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let tenant = Tenant::enter(&ctx.db, user.id, slug)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let (_, secret) = Token::create(
            &tenant,
            NewToken {
                name,
                expires_in_days: None,
            },
        )
        .await
        .map_err(|e| fail(e.to_string()))?;
        println!("{secret}");
        Ok(())
    }
}
