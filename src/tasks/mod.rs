pub mod api_token;
pub mod create_local;
pub mod create_operator;
pub mod demo_seed;
pub mod jobs_bench;
pub mod members_bench;
pub mod prune;
