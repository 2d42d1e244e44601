mod support;

mod models;
pub mod requests;
mod workers;
