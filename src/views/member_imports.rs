use askama::Template;

use super::{Errors, Layout};
use crate::models::member_imports::{Model as Import, Preview};

#[derive(Template)]
#[template(path = "member_imports/index.html")]
pub struct Index {
    pub layout: Layout,
    pub slug: String,
    pub imports: Vec<Import>,
}

#[derive(Template)]
#[template(path = "member_imports/new.html")]
pub struct New {
    pub layout: Layout,
    pub slug: String,
    pub max_mb: u64,
    pub errors: Errors,
}

/// A file column offered for a member field.
pub struct ColumnChoice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A member field with the columns that could fill it.
pub struct FieldRow {
    pub key: &'static str,
    pub label: &'static str,
    pub columns: Vec<ColumnChoice>,
}

#[derive(Template)]
#[template(path = "member_imports/show.html")]
pub struct Show {
    pub layout: Layout,
    pub slug: String,
    pub import: Import,
    pub fields: Vec<FieldRow>,
    pub preview: Preview,
    pub update_duplicates: bool,
    pub errors: Errors,
}

#[derive(Template)]
#[template(path = "member_imports/bulk.html")]
pub struct BulkShow {
    pub layout: Layout,
    pub slug: String,
    pub bulk: crate::models::member_bulk_changes::Model,
}
