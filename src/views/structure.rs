use askama::Template;

use super::Layout;
use crate::models::{bargaining_units, employers, membership_statuses, worksites};

/// An employer with its worksites.
pub struct EmployerRow {
    pub employer: employers::Model,
    pub worksites: Vec<worksites::Model>,
}

#[derive(Template)]
#[template(path = "structure/index.html")]
pub struct Index {
    pub layout: Layout,
    pub slug: String,
    pub statuses: Vec<membership_statuses::Model>,
    pub employers: Vec<EmployerRow>,
    pub units: Vec<bargaining_units::Model>,
    /// The form that was refused (its key), the message, and what was typed.
    pub problem: Option<(String, String, String)>,
    /// The calling code the local reads phone numbers typed without one in.
    pub phone_country: String,
}

impl Index {
    /// The countries offered, the local's selected.
    #[must_use]
    pub fn countries(&self) -> Vec<super::members::Choice> {
        crate::domain::phone::COUNTRIES
            .iter()
            .map(|(code, name)| super::members::Choice {
                value: (*code).to_string(),
                label: format!("{name} (+{code})"),
                selected: *code == self.phone_country,
            })
            .collect()
    }
}

impl Index {
    /// The refusal message for the form `key`, if it was the one refused.
    #[must_use]
    pub fn message(&self, key: &str) -> Option<&str> {
        self.problem
            .as_ref()
            .filter(|(k, _, _)| k == key)
            .map(|(_, m, _)| m.as_str())
    }

    /// What the form `key` shows: the refused input, or `current`.
    #[must_use]
    pub fn value(&self, key: &str, current: &str) -> String {
        self.problem
            .as_ref()
            .filter(|(k, _, _)| k == key)
            .map_or_else(|| current.to_string(), |(_, _, typed)| typed.clone())
    }
}
