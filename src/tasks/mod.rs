pub mod demo_seed;
pub mod prune;
