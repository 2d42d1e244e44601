#![allow(elided_lifetimes_in_paths)]
#![allow(clippy::wildcard_imports)]
pub use sea_orm_migration::prelude::*;

pub mod rls;
pub mod schema;

mod m20261126_000001_foundation;
mod m20261126_000002_row_level_security;
mod m20261126_000003_api_tokens;
mod m20261126_000004_operators;
mod m20261126_000005_jobs;
pub mod m20261126_000006_members;
mod m20261126_000007_member_batches;
mod m20261126_000008_member_search;
mod m20261126_000009_structure_version;
mod m20261126_000010_local_access;
mod m20261126_000011_member_filters;
mod m20261127_000012_import_batches;
mod m20261127_000013_member_write_indexes;
mod m20261127_000014_member_words;
mod m20261127_000015_trail_actors;
mod m20261127_000016_import_adds_structure;
mod m20261127_000017_phone_country;
mod m20261127_000018_lighter_imports;
mod m20261127_000019_placement_checks;
mod m20261206_000020_app_login_role;
mod m20261207_000021_work_outbox;
mod m20261207_000022_member_filter_statistics;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_foundation::Migration),
            Box::new(m20261126_000002_row_level_security::Migration),
            Box::new(m20261126_000003_api_tokens::Migration),
            Box::new(m20261126_000004_operators::Migration),
            Box::new(m20261126_000005_jobs::Migration),
            Box::new(m20261126_000006_members::Migration),
            Box::new(m20261126_000007_member_batches::Migration),
            Box::new(m20261126_000008_member_search::Migration),
            Box::new(m20261126_000009_structure_version::Migration),
            Box::new(m20261126_000010_local_access::Migration),
            Box::new(m20261126_000011_member_filters::Migration),
            Box::new(m20261127_000012_import_batches::Migration),
            Box::new(m20261127_000013_member_write_indexes::Migration),
            Box::new(m20261127_000014_member_words::Migration),
            Box::new(m20261127_000015_trail_actors::Migration),
            Box::new(m20261127_000016_import_adds_structure::Migration),
            Box::new(m20261127_000017_phone_country::Migration),
            Box::new(m20261127_000018_lighter_imports::Migration),
            Box::new(m20261127_000019_placement_checks::Migration),
            Box::new(m20261206_000020_app_login_role::Migration),
            Box::new(m20261207_000021_work_outbox::Migration),
            Box::new(m20261207_000022_member_filter_statistics::Migration),
            // inject-above (do not remove this comment)
        ]
    }
}
