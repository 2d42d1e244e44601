use askama::Template;

use super::Layout;
use crate::models::audit_events::Event;

/// An event with what it is about.
pub struct Line {
    pub event: Event,
    pub subject: String,
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "audit/index.html")]
pub struct Index {
    pub layout: Layout,
    pub slug: String,
    pub lines: Vec<Line>,
    /// The id to continue before, when there are older events.
    pub next: Option<i32>,
}
