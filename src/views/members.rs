use askama::Template;
use serde::Deserialize;

use super::Layout;
use crate::models::{
    audit_events::Event,
    members::{Model as Member, StatusChange},
};

/// The list's query string: search, filter, and where the page starts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub q: String,
    pub status: String,
    /// The next page starts after this member (last name, first name, id).
    pub after_last: Option<String>,
    pub after_first: Option<String>,
    pub after_id: Option<i32>,
}

/// A member's line in the list, with names for their references.
pub struct Row {
    pub member: Member,
    pub status: String,
    pub employer: String,
    pub worksite: String,
}

/// A status to filter by.
pub struct StatusOption {
    pub pid: String,
    pub name: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "members/index.html")]
pub struct Index {
    pub layout: Layout,
    pub slug: String,
    pub q: String,
    pub statuses: Vec<StatusOption>,
    pub rows: Vec<Row>,
    /// The query string of the next page, if there is one.
    pub next: Option<String>,
    /// Members on the roll (kept on the local, exact).
    pub on_roll: i32,
    pub filtered: bool,
}

#[derive(Template)]
#[template(path = "members/show.html")]
pub struct Show {
    pub layout: Layout,
    pub slug: String,
    pub member: Member,
    pub status: String,
    pub employer: String,
    pub worksite: String,
    pub unit: String,
    pub history: Vec<StatusChange>,
    pub audit: Vec<Event>,
}
