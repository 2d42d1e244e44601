//! `cargo loco task create_operator email:<address> name:<name>`: makes a
//! platform operator (never possible by sign-up) and prints a link to set
//! the password, valid 7 days.
use loco_rs::prelude::*;

use crate::{
    domain::{Email, PersonName},
    models::operators,
    settings::Settings,
};

pub struct CreateOperator;

#[async_trait]
impl Task for CreateOperator {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "create_operator".to_string(),
            detail: "Make a platform operator: email:<address> name:<name>".to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &task::Vars) -> Result<()> {
        let fail = |e: String| Error::string(&e);
        let email = Email::parse(vars.cli_arg("email")?).map_err(fail)?;
        let name = PersonName::parse(vars.cli_arg("name").unwrap_or("Operator")).map_err(fail)?;
        let (user, token) = operators::create_operator(&ctx.db, email, name)
            .await
            .map_err(|e| fail(e.to_string()))?;
        println!(
            "{} is an operator. Set the password (valid 7 days):",
            user.email
        );
        println!(
            "{}/password-resets/{}",
            Settings::of(ctx).base_url,
            token.as_str()
        );
        Ok(())
    }
}
