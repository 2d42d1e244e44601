use askama::Template;
use serde::Deserialize;

use super::{Errors, Layout};
use crate::models::api_tokens;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    pub name: String,
    pub expires_in_days: String,
}

#[derive(Template)]
#[template(path = "tokens/index.html")]
pub struct Index {
    pub layout: Layout,
    pub slug: String,
    pub local_name: String,
    pub tokens: Vec<api_tokens::Model>,
    pub form: TokenForm,
    pub errors: Errors,
    /// Set only on the answer that created a token.
    pub new_secret: Option<String>,
}
