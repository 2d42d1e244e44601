pub mod api_token;
pub mod demo_seed;
pub mod prune;
