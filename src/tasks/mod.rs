pub mod demo_seed;
